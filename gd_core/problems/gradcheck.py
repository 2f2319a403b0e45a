"""Gradient checking by centered differences (cs231n `gradient_check.py`, notes "Optimization 1").

The centered difference `(f(w + h e_i) - f(w - h e_i)) / 2h` has error O(h^2). The relative error
`|a - n| / max(|a|, |n|)` is compared against the thresholds below; kinks (ReLU, hinge) can give false
alarms when a probe crosses one.
"""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

# Upper bounds of each verdict for float64 and smooth losses (cs231n): above the last one is "wrong".
REL_ERROR_THRESHOLDS = (("good", 1e-7), ("ok", 1e-4), ("uncomfortable", 1e-2))


class GradientCheck(NamedTuple):
    analytic: np.ndarray  # (n_params,) from problem.loss_and_grad
    numerical: np.ndarray  # (n_params,) centered differences
    rel_error: np.ndarray  # (n_params,) elementwise, 0 where both are exactly 0
    max_rel_error: float


def numerical_gradient(f: Callable[[np.ndarray], float], w: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Centered-difference gradient of scalar `f` at `w` (any shape) -> array of w's shape.

    Probes by editing `w` in place (no copy per coordinate) and restores each entry exactly, so `w`
    is unchanged on return, even if `f` raises.
    """
    grad = np.zeros_like(w)
    for i in np.ndindex(w.shape):  # any layout, including non-contiguous views
        old = w[i]
        try:
            w[i] = old + h
            f_plus = f(w)
            w[i] = old - h
            f_minus = f(w)
        finally:
            w[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise `|a - b| / max(|a|, |b|)`, 0 where both are 0 (no 0/0)."""
    diff = np.abs(a - b)
    scale = np.maximum(np.abs(a), np.abs(b))
    return np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)


def gradient_check(problem, w: np.ndarray, X: np.ndarray, y: np.ndarray, h: float = 1e-5) -> GradientCheck:
    """Compare `problem.loss_and_grad` at `w` (n_params,) with centered differences of `problem.loss`."""
    _, analytic = problem.loss_and_grad(w, X, y)
    numerical = numerical_gradient(lambda v: problem.loss(v, X, y), w, h)
    rel = relative_error(analytic, numerical)
    return GradientCheck(analytic, numerical, rel, float(rel.max(initial=0.0)))


def classify_rel_error(r: float) -> str:
    """Verdict for a relative error: "good" (< 1e-7), "ok" (< 1e-4), "uncomfortable" (< 1e-2), "wrong"."""
    for verdict, bound in REL_ERROR_THRESHOLDS:
        if r < bound:
            return verdict
    return "wrong"
