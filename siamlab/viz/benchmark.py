"""Figures of a benchmark of several trackers: a per-attribute heat map.

`run_benchmark` scores every tracker on every attribute of the sequences; with six
trackers and nine attributes, grouped bars stop being readable. The heat map shows the
same numbers as a table whose cells are coloured by their value, so a row reads as one
tracker's strengths and a column as one attribute's difficulty.
"""

from __future__ import annotations

from typing import Any, Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure


def attribute_matrix(
    table: Mapping[str, Mapping[str, Any]], metric: str = "success_auc"
) -> tuple[np.ndarray, list[str], list[str]]:
    """`metric` of every tracker (rows) on all sequences and on each attribute
    (columns) of `run_benchmark`'s `table`: the `(trackers, 1 + attributes)` matrix,
    the row names and the column names (`"all"`, then the attributes)."""
    if not table:
        raise ValueError("table must hold at least one tracker's results")
    names = list(table)
    first = next(iter(table.values()))
    if metric not in first:
        raise ValueError(f"metric must be a key of the table's rows, got {metric!r}")
    attributes = list(first.get("attributes", {}))
    rows = [
        [table[name][metric]]
        + [table[name]["attributes"][a][metric] for a in attributes]
        for name in names
    ]
    return np.asarray(rows, dtype=float), names, ["all", *attributes]


def attribute_heatmap(
    table: Mapping[str, Mapping[str, Any]],
    metric: str = "success_auc",
    title: str | None = None,
) -> Figure:
    """Heat map of `attribute_matrix`: one row per tracker, one column for all the
    sequences and one per attribute (the number of its sequences under the name),
    each cell coloured by and labelled with its value."""
    values, names, columns = attribute_matrix(table, metric)
    first = next(iter(table.values()))
    counts = [len(first.get("sequences", {})) or ""] + [
        first["attributes"][a]["num_sequences"] for a in columns[1:]
    ]
    fig, ax = plt.subplots(figsize=(1.0 + 0.75 * len(columns), 0.9 + 0.45 * len(names)))
    image = ax.imshow(values, cmap="viridis", vmin=0.0, vmax=max(values.max(), 1e-9))
    for (i, j), value in np.ndenumerate(values):
        dark = value < 0.6 * values.max()
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8,
                color="white" if dark else "black")  # fmt: skip
    ax.set_xticks(range(len(columns)), [f"{c}\n({n})" for c, n in zip(columns, counts)])
    ax.set_yticks(range(len(names)), names)
    ax.tick_params(labelsize=8)
    ax.set_xlabel("sequences: all, then by attribute (number of sequences)")
    ax.set_ylabel("tracker")
    ax.set_title(title or f"{metric.replace('_', ' ')} per attribute")
    fig.colorbar(image, ax=ax, label=metric.replace("_", " "), fraction=0.03)
    fig.tight_layout()
    return fig
