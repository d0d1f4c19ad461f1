import os

import pytest
import torch

from siamlab.train import History, fit, load_checkpoint, save_checkpoint


def regression_batches(seed=0):
    generator = torch.Generator().manual_seed(seed)
    while True:
        x = torch.randn(16, 3, generator=generator)
        yield x, x @ torch.tensor([[1.0], [-2.0], [0.5]])


def mse(model, batch):
    x, y = batch
    return ((model(x) - y) ** 2).mean()


def make(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Linear(3, 1)
    return model, torch.optim.SGD(model.parameters(), lr=0.1)


def test_fit_lowers_the_loss_and_records_every_step():
    model, optimizer = make()
    history = fit(model, optimizer, regression_batches(), mse, steps=40, progress=False)
    assert len(history.losses) == 40 and history.step == 40
    assert history.losses[-1] < 0.01 * history.losses[0]


def test_resume_continues_where_the_checkpoint_stopped(tmp_path):
    path = tmp_path / "run.pt"
    model, optimizer = make()
    fit(
        model,
        optimizer,
        regression_batches(),
        mse,
        steps=10,
        checkpoint=path,
        progress=False,
    )
    resumed_model, resumed_optimizer = make(seed=1)
    history = fit(
        resumed_model,
        resumed_optimizer,
        regression_batches(1),
        mse,
        steps=15,
        checkpoint=path,
        resume=True,
        progress=False,
    )
    assert history.step == 15 and len(history.losses) == 15
    assert load_checkpoint(path)["step"] == 15


def test_resume_reproduces_an_uninterrupted_run(tmp_path):
    straight, optimizer = make()
    fit(straight, optimizer, regression_batches(), mse, steps=8, progress=False)
    path = tmp_path / "run.pt"
    model, optimizer = make()
    batches = regression_batches()
    fit(model, optimizer, batches, mse, steps=5, checkpoint=path, progress=False)
    model2, optimizer2 = make(seed=7)
    fit(
        model2,
        optimizer2,
        batches,
        mse,
        steps=8,
        checkpoint=path,
        resume=True,
        progress=False,
    )
    torch.testing.assert_close(model2.weight, straight.weight)


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, {"step": 1})

    def broken_save(obj, file):
        file.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        save_checkpoint(path, {"step": 2})
    monkeypatch.undo()
    assert load_checkpoint(path)["step"] == 1
    assert os.listdir(tmp_path) == ["ckpt.pt"]


def test_missing_checkpoint_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.pt"):
        load_checkpoint(tmp_path / "nothing.pt")


def test_non_finite_loss_stops_training():
    model, optimizer = make()
    with pytest.raises(RuntimeError, match="loss became nan"):
        fit(
            model,
            optimizer,
            regression_batches(),
            lambda m, b: mse(m, b) * float("nan"),
            steps=3,
            progress=False,
        )


def test_bad_steps_are_rejected():
    model, optimizer = make()
    with pytest.raises(ValueError, match="steps"):
        fit(model, optimizer, regression_batches(), mse, steps=-1, progress=False)


def test_smoothed_history_is_a_running_mean():
    assert History(losses=[1.0, 3.0, 5.0]).smoothed(window=2) == [1.0, 2.0, 4.0]


def test_checkpoint_gets_the_permissions_of_a_normal_file(tmp_path):
    old = os.umask(0o022)
    try:
        path = save_checkpoint(tmp_path / "shared.pt", {"step": 0})
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
