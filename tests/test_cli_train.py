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


def test_dasiamrpn_continues_the_shipped_siamrpn_on_distractor_pairs(tmp_path, capsys):
    from siamlab.models.siamrpn import load_siamrpn

    out = tmp_path / "dasiamrpn.pt"
    args = ["train", "dasiamrpn", "--batch-size", "2", "--max-sequences", "12"]
    assert main([*args, "--steps", "1", "--lr", "1e-9", "--out", str(out)]) == 0
    assert "distractor pairs" in capsys.readouterr().out
    state = torch.load(out, weights_only=False)
    assert state["pair_mix"]["same_category"] > 0
    start, trained = load_siamrpn(), load_siamrpn(out)
    # continued from SiamRPN-tiny: at a learning rate of 1e-9 the weights stay put
    # (batch-norm statistics move with the step's batch, so they are not compared)
    trained_parameters = dict(trained.named_parameters())
    for name, value in start.named_parameters():
        torch.testing.assert_close(
            trained_parameters[name].float(), value.float(), atol=1e-3, rtol=0
        )
    torch.manual_seed(0)
    fresh = dict(type(start)(start.config).named_parameters())  # not a fresh network
    adjust = trained_parameters["head.adjust.weight"].float()
    assert not torch.allclose(fresh["head.adjust.weight"], adjust, atol=1e-3)


@pytest.mark.parametrize(
    "model, extra, message",
    [
        ("siamfc", ["--pairs", "plain"], "--pairs"),
        ("siamrpn", ["--init", "x.pt"], "--init"),
        ("dasiamrpn", ["--preset", "paper", "--init", "/no/such.pt"], "no/such.pt"),
        ("centre-bias", ["--workers", "1"], "--workers"),
        ("siamfc", ["--workers", "-1"], "--workers"),
    ],
)
def test_options_of_other_models_are_refused(tmp_path, capsys, model, extra, message):
    argv = ["train", model, "--steps", "1", "--max-sequences", "2", *extra]
    assert main([*argv, "--out", str(tmp_path / "x.pt")]) in (1, 2)
    assert message in capsys.readouterr().err


def test_siamrpn_trains_on_pairs_from_a_worker_process(tmp_path, capsys):
    out = tmp_path / "siamrpn.pt"
    args = ["train", "siamrpn", "--batch-size", "2", "--max-sequences", "2"]
    assert main([*args, "--steps", "2", "--workers", "1", "--out", str(out)]) == 0
    assert "step 2" in capsys.readouterr().out
    assert torch.load(out, weights_only=False)["step"] == 2
