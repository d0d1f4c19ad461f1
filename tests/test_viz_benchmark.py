import matplotlib
import numpy as np
import pytest

from siamlab.viz.benchmark import attribute_heatmap, attribute_matrix

matplotlib.use("Agg")


def fake_table():
    def row(auc, sv, oc):
        return {
            "success_auc": auc,
            "sequences": {"a": {}, "b": {}, "c": {}},
            "attributes": {
                "SV": {"success_auc": sv, "num_sequences": 2},
                "OCC": {"success_auc": oc, "num_sequences": 1},
            },
        }

    return {"first": row(0.5, 0.4, 0.3), "second": row(0.2, 0.1, 0.25)}


def test_matrix_has_one_row_per_tracker_and_all_then_attributes():
    values, names, columns = attribute_matrix(fake_table())
    assert names == ["first", "second"]
    assert columns == ["all", "SV", "OCC"]
    np.testing.assert_allclose(values, [[0.5, 0.4, 0.3], [0.2, 0.1, 0.25]])


def test_heatmap_labels_every_cell_with_its_value():
    fig = attribute_heatmap(fake_table(), title="AUC")
    ax = fig.axes[0]
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == sorted(["0.50", "0.40", "0.30", "0.20", "0.10", "0.25"])
    assert ax.get_title() == "AUC"
    assert [t.get_text() for t in ax.get_xticklabels()][1] == "SV\n(2)"
    matplotlib.pyplot.close(fig)


def test_empty_table_and_unknown_metric_are_refused():
    with pytest.raises(ValueError, match="table must hold"):
        attribute_matrix({})
    with pytest.raises(ValueError, match="metric must be a key"):
        attribute_matrix(fake_table(), "ao")
