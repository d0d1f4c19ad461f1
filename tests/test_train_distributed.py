"""The training loop under DistributedDataParallel with two CPU processes (gloo), as
torchrun runs it."""

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from siamlab.train import fit, init_distributed, load_checkpoint


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world_size: int, port: int, out_dir: str) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        WORLD_SIZE=str(world_size),
        LOCAL_RANK=str(rank),
    )
    torch.set_num_threads(1)
    assert init_distributed() == (rank, world_size)
    torch.manual_seed(0)  # same initial weights on every process, as DDP expects
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    generator = torch.Generator().manual_seed(
        100 + rank
    )  # each process draws its own data

    def batches():
        while True:
            x = torch.randn(8, 3, generator=generator)
            yield x, x.sum(dim=1, keepdim=True)

    def loss_fn(m, batch):
        return ((m(batch[0]) - batch[1]) ** 2).mean()

    history = fit(
        model,
        optimizer,
        batches(),
        loss_fn,
        steps=20,
        progress=False,
        checkpoint=os.path.join(out_dir, "ddp.pt"),
    )
    torch.save(
        {"weight": model.weight.detach(), "losses": history.losses},
        os.path.join(out_dir, f"rank{rank}.pt"),
    )
    dist.destroy_process_group()


@pytest.mark.timeout(120)
def test_two_cpu_processes_train_one_model(tmp_path):
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    torch.testing.assert_close(
        ranks[0]["weight"], ranks[1]["weight"]
    )  # gradients were averaged
    assert (
        ranks[0]["losses"] == ranks[1]["losses"]
    )  # the history is the mean over processes
    assert ranks[0]["losses"][-1] < ranks[0]["losses"][0]
    assert load_checkpoint(tmp_path / "ddp.pt")["step"] == 20


def test_without_torchrun_training_is_single_process(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert init_distributed() == (0, 1)
