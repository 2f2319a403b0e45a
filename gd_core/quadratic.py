"""Full-batch least squares without a pass over the data: its loss is a quadratic in w.

For least squares the loss over the whole training set is exactly

    L(w) = L0 + g0 . d + d^T H d / 2,    grad L(w) = g0 + H d,    d = w - w0,

for any anchor w0, with H = [X,1]^T [X,1] / n + reg (the Hessian; constant), g0 and L0 the gradient and
loss at w0. The runner already builds H from the normal equations to find the optimum (the
distance-to-optimum metric), so a full-batch step costs one (P x P) product, P = D + 1, instead of two
passes over X: at N = 1.2M, D = 64, ~10 us instead of ~30 ms.

The anchor is the optimum itself. Near it, where gradient descent spends its time, d is small and both the
loss and the gradient come out without cancellation: L0 is measured on the data (the same chunked sum the
exact path takes) and g0 = H w0 - c is the normal equations' residual, ~1e-16. Far from it the quadratic
terms dominate and are as exact as the products they replace. Used for sets of FULL_QUADRATIC_MIN rows or
more whose normal equations are well conditioned (problems.well_conditioned); tests/test_fast_paths.py
checks it against `loss_and_grad`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .problems import OPTIMUM_CHUNK, LeastSquares, Problem, well_conditioned

FULL_QUADRATIC_MIN = 65_536  # rows: below this the direct step is cheap and the optimum comes from lstsq


@dataclass(frozen=True)
class Quadratic:
    """The training loss as an exact quadratic around the anchor `w0` (float64 throughout)."""

    H: np.ndarray  # (P, P) Hessian, with the L2 term on the weights
    w0: np.ndarray  # (P,) the anchor: the optimum, rounded to the data's dtype
    loss0: float  # L(w0), measured on the data, penalty included
    g0: np.ndarray  # (P,) grad L(w0) = H w0 - c
    n: int  # training rows
    optimum: np.ndarray  # w0 in the data's dtype: the runner's w_star


def fit(problem: Problem, X: np.ndarray, y: np.ndarray) -> Quadratic | None:
    """The quadratic of a least-squares problem on a large, well-conditioned set; None otherwise (the
    caller then uses `problem.optimum` and the direct full-batch kernel)."""
    if type(problem) is not LeastSquares or len(X) < FULL_QUADRATIC_MIN:
        return None
    A, c = problem.normal_equations(X, y)
    if not well_conditioned(A):
        return None
    optimum = np.linalg.solve(A, c).astype(X.dtype)
    w0 = optimum.astype(np.float64)
    loss0 = sum(problem._data_loss(optimum, X[i:i + OPTIMUM_CHUNK], y[i:i + OPTIMUM_CHUNK])
                * len(y[i:i + OPTIMUM_CHUNK]) for i in range(0, len(X), OPTIMUM_CHUNK)) / len(X)
    return Quadratic(A, w0, float(loss0) + problem._penalty(optimum), A @ w0 - c, len(X), optimum)


def bind(q: Quadratic, w: np.ndarray, grad: np.ndarray):
    """f(X, y) -> loss of the whole training set at `w`, writing its gradient into `grad` (bound by
    identity, like kernels.bind_full_gradient). X and y are only checked: the data live in `q`."""
    d, Hd = np.empty(q.w0.shape), np.empty(q.w0.shape)

    def full(X, y):
        if len(y) != q.n:
            raise ValueError(f"bound to {q.n} rows; got {len(y)}")
        np.subtract(w, q.w0, out=d)
        np.matmul(q.H, d, out=Hd)
        loss = q.loss0 + float(np.dot(q.g0, d)) + 0.5 * float(np.dot(d, Hd))
        np.add(Hd, q.g0, out=Hd)
        np.copyto(grad, Hd, casting="same_kind")
        return loss

    return full
