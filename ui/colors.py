"""One colour per batch size everywhere in the app.

The colour depends on the batch size alone (its power of two), so B = 32 is the same blue on every page
and in every comparison; full batch, whatever N is, is always near-black.
"""

from __future__ import annotations

import math

from ui.i18n import t

# Plotly's "D3" qualitative palette minus its grey, which is kept for "full".
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
           "#17becf", "#aec7e8", "#ffbb78", "#98df8a")
FULL_COLOR = "#222222"


def batch_size_color(batch_size: int, n_train: int | None = None) -> str:
    """The colour of a batch size; `n_train` marks which size is full-batch descent."""
    if n_train is not None and batch_size >= n_train:
        return FULL_COLOR
    return PALETTE[round(math.log2(max(1, batch_size))) % len(PALETTE)]


def batch_size_label(batch_size: int, n_train: int | None = None) -> str:
    """Legend text: 'SGD (B=1)', 'B=32', 'full batch (B=800)'."""
    if n_train is not None and batch_size >= n_train:
        return t("chart.full_batch_label", b=batch_size)
    if batch_size == 1:
        return "SGD (B=1)"
    return f"B={batch_size}"
