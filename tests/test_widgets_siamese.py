"""Tests of `siamlab.widgets.siamese` (the margin explorer) and the figures it is built
from."""

import numpy as np
import pytest

from siamlab.viz.siamese import (
    plot_contrastive_loss,
    plot_distance_histograms,
    plot_embedding,
    project_2d,
)
from siamlab.widgets.siamese import MarginExplorer

SAME = np.array([1] * 50 + [0] * 50)


def sweep():
    rng = np.random.default_rng(0)
    return {
        0.1: np.r_[rng.uniform(0.0, 0.05, 50), rng.uniform(0.1, 0.3, 50)],
        0.5: np.r_[rng.uniform(0.0, 0.1, 50), rng.uniform(0.5, 1.0, 50)],
        1.5: np.r_[rng.uniform(0.0, 0.2, 50), rng.uniform(1.0, 1.2, 50)],
    }


def curves(figure):
    """The loss-curve lines of the left axes by label prefix, and the histogram bar
    heights."""
    left, right = figure.axes
    lines = {line.get_label().split(" ")[0]: line for line in left.get_lines()}
    heights = np.array([patch.get_height() for patch in right.patches])
    return lines, heights


def test_update_changes_the_plotted_loss_and_histograms():
    explorer = MarginExplorer(sweep(), SAME, margin=0.1)
    lines_before, heights_before = curves(explorer.figure)
    dissimilar_before = np.asarray(lines_before["dissimilar"].get_ydata()).copy()
    explorer.update(margin=1.5)
    lines_after, heights_after = curves(explorer.figure)
    assert explorer.margin == 1.5
    assert not np.allclose(dissimilar_before, lines_after["dissimilar"].get_ydata())
    assert not np.array_equal(heights_before, heights_after)
    assert lines_after["margin"].get_xdata()[0] == 1.5


def test_loss_curves_follow_the_contrastive_loss_formula():
    explorer = MarginExplorer(sweep(), SAME, margin=0.5)
    lines, _ = curves(explorer.figure)
    d = np.asarray(lines["dissimilar"].get_xdata())
    assert np.allclose(
        lines["dissimilar"].get_ydata(), np.maximum(0.5 - d, 0) ** 2, atol=1e-6
    )
    assert np.allclose(lines["similar"].get_ydata(), d**2, atol=1e-6)
    assert (
        lines["similar"].get_linestyle() == "--"
        and lines["dissimilar"].get_linestyle() == "-"
    )


def test_histograms_count_every_pair_once():
    explorer = MarginExplorer(sweep(), SAME, margin=0.5)
    _, heights = curves(explorer.figure)
    assert heights.sum() == len(SAME)


def test_default_margin_is_the_middle_one_and_accuracy_shows_in_the_title():
    explorer = MarginExplorer(sweep(), SAME, accuracies={0.5: 0.987})
    assert explorer.margin == 0.5
    assert "0.987" in explorer.figure.axes[1].get_title()


def test_unknown_margin_and_mismatched_distances_are_rejected():
    explorer = MarginExplorer(sweep(), SAME)
    with pytest.raises(ValueError, match="margin"):
        explorer.update(margin=0.7)
    with pytest.raises(ValueError, match="distances"):
        MarginExplorer({0.5: np.zeros(3)}, SAME)
    with pytest.raises(ValueError, match="distances"):
        MarginExplorer({}, SAME)


def test_moving_the_slider_redraws_the_figure():
    explorer = MarginExplorer(sweep(), SAME, margin=0.5)
    box = explorer.widget()
    slider = box.children[0].children[0]
    slider.value = 0.1
    assert explorer.margin == 0.1
    lines, _ = curves(explorer.figure)
    assert lines["margin"].get_xdata()[0] == 0.1


def test_contrastive_loss_figure_marks_the_margin():
    figure = plot_contrastive_loss(margin=2.0)
    ax = figure.axes[0]
    assert ax.get_xlim() == (0.0, 4.0)
    assert "2" in ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_histograms_draw_threshold_and_margin_lines():
    figure = plot_distance_histograms(sweep()[0.5], SAME, threshold=0.3, margin=0.5)
    xs = sorted(line.get_xdata()[0] for line in figure.axes[0].get_lines())
    assert xs == [0.3, 0.5]


def test_project_2d_keeps_two_dimensions_and_reduces_more():
    points = np.random.default_rng(0).normal(size=(20, 2))
    assert np.array_equal(project_2d(points), points)
    wide = np.c_[points * [10.0, 3.0], np.zeros((20, 3))]
    projected = project_2d(wide)
    assert projected.shape == (20, 2)
    assert np.allclose(
        np.abs(projected[:, 0]), np.abs(wide[:, 0] - wide[:, 0].mean()), atol=1.0
    )
    with pytest.raises(ValueError, match="embeddings"):
        project_2d(np.zeros((5, 1)))


def test_embedding_scatter_has_one_colour_group_per_digit():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 5)
    figure = plot_embedding(rng.normal(size=(50, 2)), labels)
    ax = figure.axes[0]
    assert len(ax.collections) == 10
    assert sorted(text.get_text() for text in ax.texts) == [str(d) for d in range(10)]
