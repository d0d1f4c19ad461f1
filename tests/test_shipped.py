"""The shipped checkpoints are package data, found through the installed package."""

from pathlib import Path

import pytest

import siamlab
from siamlab import shipped
from siamlab.cli import main

PACKAGE = Path(siamlab.__file__).resolve().parent


def test_weights_live_inside_the_package_folder():
    assert shipped.weights_dir().resolve() == PACKAGE / "weights"


def test_every_shipped_checkpoint_is_in_the_manifest_and_vice_versa():
    assert "siamfc_tiny.pt" in shipped.available()
    assert sorted(shipped.manifest()) == shipped.available()


def test_shipped_weights_resolves_a_name_inside_the_weights_folder():
    path = shipped.shipped_weights("siamfc_tiny.pt")
    assert path.is_file() and path.parent == shipped.weights_dir()


@pytest.mark.parametrize(
    "name", ["", "../siamfc_tiny.pt", "weights/siamfc_tiny.pt", None, 3]
)
def test_shipped_weights_rejects_what_is_not_a_plain_file_name(name):
    with pytest.raises(ValueError, match="name must be a file name"):
        shipped.shipped_weights(name)


def test_package_data_declares_the_weights_folder():
    import tomllib

    pyproject = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["siamlab"]
    assert "weights/*.pt" in patterns and "weights/MANIFEST.json" in patterns


def test_info_prints_versions_device_and_the_weights(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"siamlab {siamlab.__version__}" in out and "torch" in out
    assert str(shipped.weights_dir()) in out and "siamfc_tiny.pt" in out
