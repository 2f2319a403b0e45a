"""One colour per batch size everywhere in the app.

The colour depends on the batch size alone (its power of two), so B = 32 is the same blue on every page
and in every comparison; full batch, whatever N is, is always near-black.
"""

from __future__ import annotations

import math

from ui.i18n import t

# B = 1, 2, 4, ..., 512, then again from B = 1024. Ten saturated colours of mid lightness (visible as thin lines
# on white), picked greedily for the largest smallest CIEDE2000 distance to each other, near-black and white,
# then ordered so that batch sizes within a factor of 8 (cyclically: B = 1 next to B = 512) are the furthest
# apart (tests/test_colors.py measures both). Plotly's D3 palette had B = 1 and B = 512 in two blues of one hue.
PALETTE = ("#0088dd", "#aa2255", "#dd00ff", "#ff2200", "#009900", "#cc9900", "#555599", "#ff7799", "#00bbbb",
           "#775511")
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
