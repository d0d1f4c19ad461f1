"""`siamlab train siamfc`: a short run writes a checkpoint that resumes and loads."""

import pytest
import torch

from siamlab.cli import main
from siamlab.nn.models import SiamFCConfig, load_siamfc

ARGS = [
    "train",
    "siamfc",
    "--preset",
    "tiny",
    "--batch-size",
    "2",
    "--max-sequences",
    "2",
    "--seed",
    "3",
]


def test_train_runs_resumes_and_loads(tmp_path, capsys):
    out = tmp_path / "siamfc.pt"
    assert main([*ARGS, "--steps", "3", "--out", str(out)]) == 0
    first = torch.load(out, weights_only=False)
    assert first["step"] == 3 and len(first["losses"]) == 3
    assert "step 3" in capsys.readouterr().out

    assert main([*ARGS, "--steps", "5", "--out", str(out), "--resume"]) == 0
    resumed = torch.load(out, weights_only=False)
    assert resumed["step"] == 5 and resumed["losses"][:3] == first["losses"]

    model = load_siamfc(out)
    assert model.config == SiamFCConfig.tiny() and not model.training


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--steps", "0"], "--steps"),
        (["--steps", "2", "--preset", "huge"], "--preset"),
        (["--steps", "2", "--dataset", "nowhere"], "dataset"),
    ],
)
def test_bad_arguments_fail_with_a_message(tmp_path, capsys, extra, message):
    assert main([*ARGS, *extra, "--out", str(tmp_path / "x.pt")]) == 2
    assert message in capsys.readouterr().err


def test_unknown_model_is_refused(tmp_path):
    with pytest.raises(SystemExit):
        main(["train", "nosuchmodel", "--steps", "1", "--out", str(tmp_path / "x.pt")])
