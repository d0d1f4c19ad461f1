import os
import subprocess
import sys

from siamlab.progress import progress_bar


def test_a_disabled_bar_is_hidden():
    assert progress_bar(range(3), enabled=False).disable is True


def test_an_enabled_bar_iterates_over_its_items():
    assert list(progress_bar(range(3), enabled=True, file=open(os.devnull, "w"))) == [
        0,
        1,
        2,
    ]


def test_tqdm_disable_in_the_environment_silences_enabled_bars():
    code = (
        "from siamlab.progress import progress_bar; "
        "print(progress_bar(range(3), enabled=True).disable)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TQDM_DISABLE": "1"},
    )
    assert out.stdout.strip() == "True"


def test_tqdm_disable_silences_the_notebook_bar_too(monkeypatch):
    # tqdm's notebook bar passes `disable` on explicitly, so tqdm alone would ignore
    # the environment and show a widget in every page of the book.
    import tqdm.notebook

    import siamlab.progress

    monkeypatch.setenv("TQDM_DISABLE", "1")
    monkeypatch.setattr(siamlab.progress, "tqdm", tqdm.notebook.tqdm)
    assert progress_bar(range(3), enabled=True).disable is True


def test_tqdm_disable_0_keeps_bars(monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "0")
    bar = progress_bar(range(3), enabled=True, file=open(os.devnull, "w"))
    assert bar.disable is False
