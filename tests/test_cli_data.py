import json

import pytest

from siamlab.cli import main


@pytest.fixture(scope="module")
def otb_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "otb"
    assert (
        main(
            [
                "synth",
                "--split",
                "test",
                "--num",
                "2",
                "--length",
                "6",
                "--seed",
                "3",
                "--out",
                str(out),
                "--format",
                "otb",
            ]
        )
        == 0
    )
    return out


def test_synth_writes_the_otb_layout(otb_folder):
    names = sorted(p.name for p in otb_folder.iterdir())
    assert names == ["synth-test-000", "synth-test-001"]
    assert len(list((otb_folder / names[0] / "img").glob("*.jpg"))) == 6
    assert (
        len((otb_folder / names[0] / "groundtruth_rect.txt").read_text().splitlines())
        == 6
    )


def test_synth_writes_the_got10k_layout(tmp_path):
    assert (
        main(
            [
                "synth",
                "--num",
                "1",
                "--length",
                "3",
                "--out",
                str(tmp_path),
                "--format",
                "got10k",
            ]
        )
        == 0
    )
    assert (tmp_path / "list.txt").read_text() == "synth-test-000\n"
    assert (tmp_path / "synth-test-000" / "00000003.jpg").is_file()


def test_eval_writes_json_with_every_metric_and_sequence(otb_folder, tmp_path, capsys):
    out = tmp_path / "out.json"
    assert (
        main(
            [
                "eval",
                "--tracker",
                "ncc",
                "--dataset",
                f"otb:{otb_folder}",
                "--json",
                str(out),
                "--results",
                str(tmp_path / "results"),
            ]
        )
        == 0
    )
    report = json.loads(out.read_text())
    for key in (
        "success_auc",
        "precision_20",
        "norm_precision",
        "ao",
        "sr50",
        "sr75",
        "fps",
    ):
        assert isinstance(report[key], float)
    assert set(report["sequences"]) == {"synth-test-000", "synth-test-001"}
    assert "success_auc" in report["sequences"]["synth-test-000"]
    assert "ncc" in capsys.readouterr().out


def test_score_of_saved_results_equals_the_eval_scores(otb_folder, tmp_path):
    assert (
        main(
            [
                "eval",
                "--tracker",
                "static",
                "--dataset",
                f"otb:{otb_folder}",
                "--json",
                str(tmp_path / "eval.json"),
                "--results",
                str(tmp_path / "results"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "score",
                "--results",
                str(tmp_path / "results" / "static"),
                "--dataset",
                f"otb:{otb_folder}",
                "--json",
                str(tmp_path / "score.json"),
            ]
        )
        == 0
    )
    evaluated = json.loads((tmp_path / "eval.json").read_text())
    scored = json.loads((tmp_path / "score.json").read_text())
    for key in ("success_auc", "precision_20", "ao"):
        assert scored[key] == pytest.approx(evaluated[key], abs=1e-4)


def test_eval_runs_on_synth_test_directly(tmp_path):
    out = tmp_path / "o.json"
    assert (
        main(
            [
                "eval",
                "--tracker",
                "static",
                "--dataset",
                "synth-test",
                "--max-sequences",
                "1",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    assert list(json.loads(out.read_text())["sequences"]) == ["synth-test-000"]


@pytest.mark.parametrize(
    "argv",
    [
        ["eval", "--tracker", "nope", "--dataset", "synth-test"],
        ["eval", "--tracker", "static", "--dataset", "imagenet"],
        [
            "score",
            "--results",
            "/nonexistent/folder",
            "--dataset",
            "synth-test",
            "--max-sequences",
            "1",
        ],
    ],
)
def test_bad_arguments_exit_with_status_2(argv, capsys):
    assert main(argv) == 2
    assert "error" in capsys.readouterr().err
