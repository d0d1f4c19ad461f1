"""The conda environment and the pip package declare the same dependencies."""

import re
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge name -> PyPI name
CONDA_ONLY = {"python", "pip"}


def _name(requirement: str) -> str:
    return (
        re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0]
        .lower()
        .replace("_", "-")
    )


def pyproject_packages() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return {_name(r) for r in requirements}


def conda_packages() -> set[str]:
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    names = set()
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            names |= {_name(r) for r in entry["pip"]}
        else:
            name = _name(entry)
            names.add(CONDA_NAMES.get(name, name))
    return names - CONDA_ONLY


def test_environment_yml_lists_the_packages_of_pyproject():
    assert conda_packages() == pyproject_packages()


def test_constraints_pin_every_declared_package():
    pinned = {
        _name(line)
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line
    }
    missing = pyproject_packages() - pinned
    assert not missing, f"constraints.txt lacks pins for {sorted(missing)}"


def test_torch_is_pinned_to_a_cpu_installable_release():
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    assert "torch==2.13.0" in lines
