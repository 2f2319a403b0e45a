"""Assertions for floating-point sequences that survive BLAS, thread-count and library-version differences."""

from __future__ import annotations

import numpy as np


def assert_decreases_to_rounding_level(values, floor: float) -> None:
    """Each value is below the one before, until both are at or under `floor` (rounding level).

    Once a quantity has converged, it wobbles by an ulp or two from one step to the next, differently on each
    BLAS and thread count: below `floor` only the size is meaningful, not the order.
    """
    v = np.asarray(values, dtype=float)
    rises = np.flatnonzero((np.diff(v) >= 0) & (v[1:] > floor))
    assert rises.size == 0, (f"rises above the rounding level {floor:.3g} at index {rises[0] + 1}: "
                             f"{v[rises[0]]!r} -> {v[rises[0] + 1]!r}")
