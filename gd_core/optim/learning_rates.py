"""Learning-rate helpers shared by the science pages: the log-spaced grid and the full-batch stability limit.

`log_lr_grid(lo, hi, n)` is the one log-spaced grid (3 significant digits, so the values print and share
alike); `lr_grid_around(center, decades, n)` is the same grid centred on a learning rate.
`max_stable_lr(curvature, ...)`: on a quadratic whose largest Hessian eigenvalue is `curvature` (L), full-batch
gradient descent converges iff lr < 2 / L; torch's heavy-ball momentum mu raises that to 2 (1 + mu) / L, and
Nesterov's to 2 (1 + mu) / ((1 + 2 mu) L) (the eigenvalues of each method's 2x2 iteration matrix stay inside
the unit circle exactly below these rates).
"""

from __future__ import annotations

import numpy as np


def log_lr_grid(lo: float, hi: float, n: int) -> tuple[float, ...]:
    """`n` learning rates evenly spaced in log from lo to hi (3 significant digits)."""
    return tuple(float(f"{v:.3g}") for v in np.geomspace(lo, hi, n))


def lr_grid_around(center: float, decades: float = 3.0, n: int = 7) -> tuple[float, ...]:
    """`n` learning rates evenly spaced in log10 over `decades` decades centred on `center` (log_lr_grid)."""
    return log_lr_grid(center * 10.0 ** (-decades / 2), center * 10.0 ** (decades / 2), n)


def max_stable_lr(curvature: float, momentum: float = 0.0, nesterov: bool = False) -> float:
    """The largest lr at which full-batch descent on a quadratic of curvature L = `curvature` converges:
    `2/L` (plain), `2(1+mu)/L` (heavy ball, mu = momentum), `2(1+mu)/((1+2mu) L)` (Nesterov)."""
    return 2 * (1 + momentum) / ((1 + 2 * momentum) if nesterov else 1.0) / curvature
