"""Checking a problem's analytic gradient, as the gradient-check page shows it: a small problem to check, a
per-parameter table with verdicts, the step-size (h) sweep, timings. Tidy frames, no plotting; the centered
differences themselves are `gd_core.problems.gradcheck`'s."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ..data.synthetic import make_dataset
from ..problems import make_problem
from ..problems.gradcheck import classify_rel_error, gradient_check, numerical_gradient, relative_error

# The generator each problem is shown on (least squares needs a regression target, logistic two classes).
DATASET_FOR = {"least_squares": "linear", "logistic": "moons", "softmax": "blobs", "svm": "blobs",
               "mlp": "spiral"}

DEFAULT_HS = tuple(10.0 ** -k for k in range(1, 13))  # 1e-1 .. 1e-12


CHECK_POINTS = ("random", "init")


def gradcheck_setup(problem: str, n_features: int = 3, *, hidden: int = 8, reg: float = 0.0,
                    dtype: str = "float64", point: str = "random", n_samples: int = 50, seed: int = 0):
    """A small problem to check: `(problem, w (n_params,), X (n_samples, n_features), y (n_samples,))`.

    point "init": the problem's initial weights (biases 0, where some gradients are exactly 0 and the
    relative error is round-off / round-off); "random": init + N(0, 0.1^2) on every entry, a generic point.
    Both are drawn in float64 and cast, so float32 and float64 check the same point.
    """
    if point not in CHECK_POINTS:
        raise ValueError(f"point must be one of {', '.join(CHECK_POINTS)}; got {point!r}")
    ds = make_dataset(DATASET_FOR[problem], n_samples, n_features, 3, val_fraction=0.0, seed=seed,
                      dtype=dtype)
    prob = make_problem(problem, n_features, ds.n_classes, reg=reg, hidden=hidden)
    rng = np.random.default_rng([seed, 1])
    w = prob.init_params(rng)
    if point == "random":
        w += 0.1 * rng.standard_normal(prob.n_params)
    return prob, w.astype(dtype), ds.X_train, ds.y_train


def parameter_names(problem) -> list[str]:
    """Display name of each entry of the flat `w` (n_params,): 'W[0,2]', 'b[1]', 'W1[3,0]', ..."""
    names = [""] * problem.n_params
    for key, idx in problem.unpack(np.arange(problem.n_params)).items():
        for pos, flat in np.ndenumerate(idx):
            names[int(flat)] = f"{key}[{','.join(map(str, pos))}]"
    return names


def gradcheck_table(problem, w: np.ndarray, X: np.ndarray, y: np.ndarray, h: float = 1e-5) -> pd.DataFrame:
    """One row per parameter: name, analytic, numerical, abs_error, rel_error, verdict (good/ok/uncomfortable/wrong)."""
    check = gradient_check(problem, w, X, y, h)
    analytic, numerical = check.analytic.astype(np.float64), check.numerical.astype(np.float64)
    return pd.DataFrame({
        "parameter": parameter_names(problem),
        "analytic": analytic,
        "numerical": numerical,
        "abs_error": np.abs(analytic - numerical),
        "rel_error": check.rel_error.astype(np.float64),
        "verdict": [classify_rel_error(float(r)) for r in check.rel_error],
    })


def h_sweep(problem, w: np.ndarray, X: np.ndarray, y: np.ndarray, hs=DEFAULT_HS) -> pd.DataFrame:
    """Max and median relative error of centered differences for each step `h`; columns h, max, median.

    Large h: truncation error O(h^2) (zero for a quadratic loss); small h: round-off ~eps/h (eps = the
    dtype's machine epsilon): the log-log plot is a V with its bottom near eps^(1/3).
    """
    w = w.copy()  # numerical_gradient probes in place
    _, analytic = problem.loss_and_grad(w, X, y)
    rows = []
    for h in hs:
        numerical = numerical_gradient(lambda v: problem.loss(v, X, y), w, h)
        rel = relative_error(analytic, numerical)
        rows.append({"h": float(h), "max_rel_error": float(rel.max(initial=0.0)),
                     "median_rel_error": float(np.median(rel))})
    return pd.DataFrame(rows)


def time_gradients(problem, w: np.ndarray, X: np.ndarray, y: np.ndarray, h: float = 1e-5,
                   repeats: int = 5) -> dict:
    """Best-of-`repeats` wall time of one analytic `loss_and_grad` and one numerical gradient (ms).

    The numerical gradient costs 2 * n_params loss evaluations, the analytic one about 2-3 loss evaluations.
    """
    w = w.copy()

    def best(fn, k):
        times = []
        for _ in range(k):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times) * 1e3

    analytic_ms = best(lambda: problem.loss_and_grad(w, X, y), repeats * 4)
    numerical_ms = best(lambda: numerical_gradient(lambda v: problem.loss(v, X, y), w, h), repeats)
    return {"analytic_ms": analytic_ms, "numerical_ms": numerical_ms,
            "ratio": numerical_ms / max(analytic_ms, 1e-9), "loss_evaluations": 2 * problem.n_params}
