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


def _join(rank: int, world_size: int, port: int) -> None:
    """The environment torchrun gives process `rank`, then one thread per process."""
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        WORLD_SIZE=str(world_size),
        LOCAL_RANK=str(rank),
    )
    torch.set_num_threads(1)


def _worker(rank: int, world_size: int, port: int, out_dir: str) -> None:
    _join(rank, world_size, port)
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


def _global_batches(steps: int):
    """The same global batches of 8 on every process: inputs and targets."""
    generator = torch.Generator().manual_seed(7)
    return [torch.randn(8, 3, generator=generator) for _ in range(steps)]


def _small_model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)
    )


def _regression_loss(model, x):
    return ((model(x) - x.sum(dim=1, keepdim=True).sin()) ** 2).mean()


def _half_batch_worker(rank: int, world_size: int, port: int, out_dir: str) -> None:
    _join(rank, world_size, port)
    init_distributed()
    model = _small_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    half = 8 // world_size
    batches = (x[rank * half : (rank + 1) * half] for x in _global_batches(5))
    fit(model, optimizer, batches, _regression_loss, steps=5, progress=False)
    torch.save(model.state_dict(), os.path.join(out_dir, f"half{rank}.pt"))
    dist.destroy_process_group()


@pytest.mark.timeout(120)
def test_two_processes_on_half_batches_equal_one_process_on_the_whole(
    tmp_path, monkeypatch
):
    mp.spawn(
        _half_batch_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True
    )
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    model = _small_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fit(model, optimizer, _global_batches(5), _regression_loss, steps=5, progress=False)
    distributed = torch.load(tmp_path / "half0.pt")
    for name, value in model.state_dict().items():
        assert not torch.equal(value, before[name])  # training moved every tensor
        torch.testing.assert_close(distributed[name], value, rtol=1e-6, atol=1e-7)


def _seed_worker(rank: int, world_size: int, port: int, out_dir: str) -> None:
    from siamlab.datasets.loader import pair_seed

    _join(rank, world_size, port)
    init_distributed()
    seeds = [pair_seed(5, worker) for worker in range(3)]
    torch.save(seeds, os.path.join(out_dir, f"seeds{rank}.pt"))
    dist.destroy_process_group()


@pytest.mark.timeout(120)
def test_every_process_and_worker_draws_its_own_pairs(tmp_path):
    from siamlab.datasets.loader import pair_seed

    assert pair_seed(5) == 5  # one process, no workers: the seed as given
    mp.spawn(_seed_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    seeds = [torch.load(tmp_path / f"seeds{rank}.pt") for rank in range(2)]
    assert seeds[0][0] == 5
    assert len(set(seeds[0] + seeds[1])) == 6


@pytest.mark.timeout(300)
def test_siamlab_train_under_torchrun_writes_one_checkpoint(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "siamfc.pt"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2"]
    command += [f"--master_port={_free_port()}", "-m", "siamlab", "train", "siamfc"]
    command += ["--steps", "2", "--batch-size", "2", "--max-sequences", "2"]
    environment = dict(os.environ, OMP_NUM_THREADS="1", TQDM_DISABLE="1")
    result = subprocess.run(
        [*command, "--out", str(out)], capture_output=True, text=True, env=environment
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("trained siamfc") == 1  # the first process reports
    state = load_checkpoint(out)
    assert state["step"] == 2 and len(state["losses"]) == 2
    assert list(tmp_path.iterdir()) == [out]  # rank 0 wrote it, nothing left over
