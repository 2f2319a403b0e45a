"""The optimizer page's study, as tidy frames (no plotting): the six update rules as configs, a learning-rate
sweep and its "too low / good / too high" verdicts, and the full-batch stability limit `2 / lambda_max` of least
squares. (The gradient-check page's is `gradient_checks.py`.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import ExperimentConfig
from ..optim.learning_rates import lr_grid_around, max_stable_lr
from ..train.runner import run_experiment

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
    """`n` learning rates evenly spaced in log10 over `decades` decades centred on `center`
    (`optim.learning_rates.lr_grid_around`)."""
    return lr_grid_around(center, decades, n)


def lr_sweep(config: ExperimentConfig, lrs) -> pd.DataFrame:
    """The log of one run per learning rate (same start, same batch order): `run_experiment` with `lrs`."""
    return run_experiment(config.replace(lrs=tuple(float(lr) for lr in lrs))).log


TOO_LOW_FRACTION = 0.8
FINAL_SHARE = 0.1  # a run's final level: the median of its checkpoints in the last 10% of its steps


def final_level(steps: np.ndarray, loss: np.ndarray, share: float = FINAL_SHARE) -> float:
    """The median loss over the checkpoints in the last `share` of a run's steps (the last one at least): one
    noisy final checkpoint (a mini-batch run bouncing on its plateau) does not decide a verdict. NaN/inf count
    as +inf, so a run that blew up stays above its start."""
    steps, loss = np.asarray(steps, dtype=float), np.asarray(loss, dtype=float)
    tail = loss[steps >= steps[-1] * (1 - share)] if len(steps) else loss
    return float(np.median(np.where(np.isfinite(tail), tail, np.inf))) if len(tail) else float("nan")


def classify_lr_curves(log: pd.DataFrame, metric: str = "train_loss",
                       too_low_fraction: float = TOO_LOW_FRACTION) -> dict[float, str]:
    """Label each base_lr of a one-batch-size sweep "too low", "good" or "too high" (cs231n's picture).

    Rule, per run (first seed): `drop = initial - final` loss, final = `final_level` (the median over the last
    10% of the run, not the last checkpoint alone).
      1. diverged, non-finite, or final >= initial -> "too high";
      2. drop >= too_low_fraction * (largest drop of any run) -> "good";
      3. otherwise the run fell short: "too low" if its lr is below the best run's lr (too slow to get
         anywhere), else "too high" (fast at first, then stuck bouncing on a higher plateau).
    """
    stats = {}
    for lr, g in log.groupby("base_lr", sort=True):
        g = g[g["seed"] == g["seed"].iloc[0]]
        loss = g[metric].to_numpy(dtype=float)
        stats[float(lr)] = (loss[0], final_level(g["step"].to_numpy(), loss), bool(g["diverged"].any()))
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
    """Full-batch GD on least squares converges iff `lr < 2 / lambda_max(H)`; returns that bound
    (`optim.learning_rates.max_stable_lr`)."""
    return max_stable_lr(float(hessian_eigenvalues(problem, X)[-1]))


# lr / (2 / lambda_max) on the stability chart: dense near 1, where full-batch GD flips to divergence
STABILITY_FACTORS = (0.25, 0.5, 0.8, 0.9, 0.97, 1.03, 1.1, 1.25, 1.5)


def stability_config(n_features: int = 5, condition_number: float = 10.0, steps: int = 300,
                     n_samples: int = 500, seed: int = 0) -> ExperimentConfig:
    """Full-batch plain GD on least squares over linear data (no lrs yet: they depend on lambda_max)."""
    return ExperimentConfig(problem="least_squares", dataset="linear", n_features=n_features,
                            condition_number=condition_number, n_samples=n_samples, data_seed=seed,
                            batch_sizes=("full",), optimizer="sgd", budget_unit="steps", budget=steps,
                            n_checkpoints=100)
