"""Helpers for the gradient-check and optimizer pages: tidy frames from the engine, no plotting.

Gradient check: a per-parameter table with verdicts, the step-size (h) sweep, timings.
Optimizers: the six update rules as configs, a learning-rate sweep and its "too low / good / too high"
verdicts, and the full-batch stability limit `2 / lambda_max` of least squares.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from .config import ExperimentConfig
from .datasets import make_dataset
from .gradients import classify_rel_error, gradient_check, numerical_gradient, relative_error
from .problems import make_problem
from .runner import run_experiment

# The generator each problem is shown on (least squares needs a regression target, logistic two classes).
DATASET_FOR = {"least_squares": "linear", "logistic": "moons", "softmax": "blobs", "svm": "blobs",
               "mlp": "spiral"}

# -- gradient check ------------------------------------------------------------------------------------

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


# -- optimizers ----------------------------------------------------------------------------------------

# variant -> ExperimentConfig fields; the cs231n notes' update rules on top of the engine's four optimizers
VARIANTS = {
    "sgd": {"optimizer": "sgd", "momentum": 0.0, "nesterov": False},
    "sgd+momentum": {"optimizer": "sgd", "momentum": 0.9, "nesterov": False},
    "nesterov": {"optimizer": "sgd", "momentum": 0.9, "nesterov": True},
    "adagrad": {"optimizer": "adagrad", "momentum": 0.0, "nesterov": False},
    "rmsprop": {"optimizer": "rmsprop", "momentum": 0.0, "nesterov": False},
    "adam": {"optimizer": "adam", "momentum": 0.0, "nesterov": False},
}
# Starting learning rates for standardised data: momentum 0.9 multiplies the effective step by 10, and the
# adaptive methods take steps of ~lr per coordinate whatever the gradient's scale.
DEFAULT_LRS = {"sgd": 0.1, "sgd+momentum": 0.01, "nesterov": 0.01, "adagrad": 0.1, "rmsprop": 0.01,
               "adam": 0.01}


def variant_configs(base: ExperimentConfig, lrs: dict[str, float]) -> dict[str, ExperimentConfig]:
    """One single-run config per update rule in `lrs` (keys from VARIANTS), the rest copied from `base`."""
    return {v: base.replace(lrs=(float(lr),), **VARIANTS[v]) for v, lr in lrs.items()}


def combine_variants(logs: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Concatenate per-variant logs with a `variant` column (first), in the dict's order."""
    frames = [log.assign(variant=v) for v, log in logs.items()]
    out = pd.concat(frames, ignore_index=True)
    return out[["variant", *[c for c in out.columns if c != "variant"]]]


def lr_grid(center: float, decades: float = 3.0, n: int = 7) -> tuple[float, ...]:
    """`n` learning rates evenly spaced in log10 over `decades` decades centred on `center`."""
    exps = np.linspace(-decades / 2, decades / 2, n)
    return tuple(float(f"{center * 10.0 ** e:.3g}") for e in exps)


def lr_sweep(config: ExperimentConfig, lrs) -> pd.DataFrame:
    """The log of one run per learning rate (same start, same batch order): `run_experiment` with `lrs`."""
    return run_experiment(config.replace(lrs=tuple(float(lr) for lr in lrs))).log


TOO_LOW_FRACTION = 0.8


def classify_lr_curves(log: pd.DataFrame, metric: str = "train_loss",
                       too_low_fraction: float = TOO_LOW_FRACTION) -> dict[float, str]:
    """Label each base_lr of a one-batch-size sweep "too low", "good" or "too high" (cs231n's picture).

    Rule, per run (first seed): `drop = initial - final` loss.
      1. diverged, non-finite, or final >= initial -> "too high";
      2. drop >= too_low_fraction * (largest drop of any run) -> "good";
      3. otherwise the run fell short: "too low" if its lr is below the best run's lr (too slow to get
         anywhere), else "too high" (fast at first, then stuck bouncing on a higher plateau).
    """
    stats = {}
    for lr, g in log.groupby("base_lr", sort=True):
        g = g[g["seed"] == g["seed"].iloc[0]]
        loss = g[metric].to_numpy(dtype=float)
        stats[float(lr)] = (loss[0], loss[-1], bool(g["diverged"].any()))
    drops = {lr: a - b for lr, (a, b, div) in stats.items() if not div and np.isfinite(b) and b < a}
    best_lr = max(drops, key=drops.get) if drops else None
    out = {}
    for lr in stats:
        if lr not in drops:
            out[lr] = "too high"
        elif drops[lr] >= too_low_fraction * drops[best_lr]:
            out[lr] = "good"
        else:
            out[lr] = "too low" if lr < best_lr else "too high"
    return out


def sweep_summary(log: pd.DataFrame, metric: str = "train_loss") -> pd.DataFrame:
    """One row per base_lr: initial and final `metric`, diverged, verdict (see classify_lr_curves)."""
    verdicts = classify_lr_curves(log, metric)
    rows = []
    for lr, g in log.groupby("base_lr", sort=True):
        rows.append({"lr": float(lr), "initial_loss": float(g[metric].iloc[0]),
                     "final_loss": float(g[metric].iloc[-1]), "steps": int(g["step"].iloc[-1]),
                     "diverged": bool(g["diverged"].any()), "verdict": verdicts[float(lr)]})
    return pd.DataFrame(rows)


def hessian_eigenvalues(problem, X: np.ndarray) -> np.ndarray:
    """Ascending eigenvalues of the least-squares Hessian `[X,1]^T [X,1] / n (+ reg)`, in float64."""
    return np.linalg.eigvalsh(problem.hessian(np.asarray(X, dtype=np.float64)))


def stable_lr_limit(problem, X: np.ndarray) -> float:
    """Full-batch GD on least squares converges iff `lr < 2 / lambda_max(H)`; returns that bound."""
    return 2.0 / float(hessian_eigenvalues(problem, X)[-1])


# lr / (2 / lambda_max) on the stability chart: dense near 1, where full-batch GD flips to divergence
STABILITY_FACTORS = (0.25, 0.5, 0.8, 0.9, 0.97, 1.03, 1.1, 1.25, 1.5)


def stability_config(n_features: int = 5, condition_number: float = 10.0, steps: int = 300,
                     n_samples: int = 500, seed: int = 0) -> ExperimentConfig:
    """Full-batch plain GD on least squares over linear data (no lrs yet: they depend on lambda_max)."""
    return ExperimentConfig(problem="least_squares", dataset="linear", n_features=n_features,
                            condition_number=condition_number, n_samples=n_samples, data_seed=seed,
                            batch_sizes=("full",), optimizer="sgd", budget_unit="steps", budget=steps,
                            n_checkpoints=100)
