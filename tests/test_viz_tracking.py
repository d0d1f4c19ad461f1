import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from siamlab.datasets import Sequence  # noqa: E402
from siamlab.evaluation import run_benchmark  # noqa: E402
from siamlab.trackers import NCCTracker, StaticTracker  # noqa: E402
from siamlab.viz import tracking as vt  # noqa: E402


@pytest.fixture(scope="module")
def sequence():
    rng = np.random.default_rng(0)
    patch = rng.integers(0, 256, (10, 14, 3), dtype=np.uint8)
    boxes = np.array([[10.0 + 2 * i, 12, 14, 10] for i in range(12)])

    def load(i):
        frame = np.full((48, 64, 3), 90, np.uint8)
        frame[12:22, 10 + 2 * i : 24 + 2 * i] = patch
        return frame

    return Sequence("toy", boxes, load, attributes=("FM", "SV"))


@pytest.fixture(scope="module")
def table(sequence):
    return run_benchmark(
        {"static": StaticTracker, "ncc": NCCTracker}, [sequence], progress=False
    )


def titled_and_labelled(fig):
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.has_data()]
    return axes and all(
        ax.get_xlabel() and ax.get_ylabel() and ax.get_title() for ax in axes
    )


def test_success_precision_and_attribute_plots_have_titles_and_labels(table):
    for draw in (
        vt.success_plot,
        vt.precision_plot,
        vt.norm_precision_plot,
        vt.attribute_bars,
    ):
        fig = draw(table)
        assert titled_and_labelled(fig), draw.__name__
        plt.close(fig)


def test_success_plot_legend_gives_each_auc_best_first(table):
    fig = vt.success_plot(table)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    aucs = [float(label.split("[")[1].rstrip("]")) for label in labels]
    assert aucs == sorted(aucs, reverse=True) and len(labels) == 2
    plt.close(fig)


def test_frame_grid_draws_ground_truth_and_predictions(sequence):
    fig = vt.frame_grid(
        sequence, [0, 5, 11], {"static": np.tile(sequence.boxes[0], (12, 1))}, ncols=3
    )
    assert (
        sum(len(ax.patches) for ax in fig.axes) == 6
    )  # one ground-truth and one predicted box per frame
    assert fig.get_suptitle().startswith("toy")
    plt.close(fig)


def test_compare_frame_reports_each_trackers_iou(sequence):
    fig = vt.compare_frame(sequence, 4, {"static": np.tile(sequence.boxes[0], (12, 1))})
    assert "static IoU" in fig.axes[0].get_title()
    plt.close(fig)


def test_animation_subsamples_to_max_frames_and_embeds_jpeg(sequence):
    animation = vt.animate_sequence(sequence, max_frames=5)
    assert len(list(animation.new_frame_seq())) == 5
    html = vt.animation_html(animation).data
    assert "data:image/jpeg" in html


def test_animation_rejects_an_empty_range(sequence):
    with pytest.raises(ValueError, match="start"):
        vt.animate_sequence(sequence, start=5, stop=5)


def test_overlap_figure_titles_the_iou():
    fig = vt.overlap_figure(np.array([0.0, 0, 10, 10]), np.array([5.0, 0, 10, 10]))
    assert "IoU 0.33" in fig.axes[0].get_title()
    plt.close(fig)
