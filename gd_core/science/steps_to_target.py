"""Steps to a target read from a sweep's run log (Shallue et al. 2018) and the fit `S = S_min (1 + B_noise/B)`
(McCandlish et al. 2018): the analysis half of `scaling.py`, which runs the sweeps.

Steps to target are read from the run log's checkpoints and *interpolated* (in log loss) between the last
checkpoint above the target and the first one at or below it, so their precision does not hinge on the
checkpoint spacing: with >= 100 checkpoints per run the spacing is <= 1% of the run, and the interpolation
error is a small fraction of one spacing on these smooth curves.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from ..results import summarize


def _crossings(run: np.ndarray, steps: np.ndarray, values: np.ndarray, target: float) -> np.ndarray:
    """Per run (codes 0..R-1 in `run`, rows in order within each run): the first (interpolated) step where values
    fall to <= target, NaN if never. Between the checkpoints either side of the crossing the interpolation is
    linear in log(value) when both values and the target are positive, else linear in value."""
    R = int(run.max()) + 1 if len(run) else 0
    order = np.argsort(run, kind="stable")  # each run's rows contiguous, in log order
    run, steps, values = run[order], steps[order], values[order]
    out = np.full(R, np.nan)
    hit = np.flatnonzero(values <= target)
    runs_hit, first = np.unique(run[hit], return_index=True)
    if not len(runs_hit):
        return out
    k = hit[first]  # each reaching run's first row at or under the target
    starts = np.searchsorted(run, runs_hit)
    at_start = k == starts
    out[runs_hit[at_start]] = steps[k[at_start]]
    k, r = k[~at_start], runs_hit[~at_start]
    a, b, t = values[k - 1], values[k], np.full(len(k), float(target))
    pos = (a > 0) & (b > 0) & (t > 0)  # interpolate in log space there
    with np.errstate(invalid="ignore", divide="ignore"):  # a may be inf (a non-finite checkpoint): NaN, as before
        a, b, t = (np.where(pos, np.log(np.where(pos, x, 1.0)), x) for x in (a, b, t))
        frac = np.where(a != b, (a - t) / (a - b), 1.0)
    out[r] = steps[k - 1] + frac * (steps[k] - steps[k - 1])
    return out


def runs_to_target(log: pd.DataFrame, target: float, metric: str = "train_loss") -> pd.DataFrame:
    """The runner's summary plus interpolated `steps_to_target` and `examples_to_target` (NaN if not reached).
    Whole columns at once, not one run at a time (benchmarks/results/2026-12-07-code-comments.md)."""
    if log.empty:
        return pd.DataFrame(columns=["batch_size", "base_lr", "steps_to_target", "examples_to_target"])
    runs = summarize(log, target, metric)
    codes, ids = pd.factorize(log["run_id"])  # first appearance: the summary's order
    v = log[metric].to_numpy(float)
    steps = _crossings(codes, log["step"].to_numpy(float), np.where(np.isfinite(v), v, np.inf), target)
    steps = pd.Series(steps, index=ids).reindex(runs["run_id"]).to_numpy()
    runs["steps_to_target"] = steps
    runs["examples_to_target"] = steps * runs["batch_size"].to_numpy(float)  # no epoch-end partial batches here
    return runs


def best_per_batch_size(runs: pd.DataFrame, lrs=None) -> pd.DataFrame:
    """Per batch size: the lr with the fewest steps to target (ties: the smaller lr), its steps and examples.

    `lr_at_edge` flags a best lr at either end of the grid (the grid should be widened there).
    """
    cols = ["batch_size", "best_lr", "steps_to_target", "examples_to_target", "n_reached", "n_runs", "lr_at_edge"]
    if runs.empty:
        return pd.DataFrame(columns=cols)
    b = runs["batch_size"].to_numpy()
    reached = np.isfinite(runs["steps_to_target"].to_numpy(float))
    sizes = np.unique(b)
    ok = runs[reached].sort_values(["batch_size", "steps_to_target", "base_lr"], kind="stable")
    best = ok.drop_duplicates("batch_size").set_index("batch_size").reindex(sizes)
    lr = best["base_lr"].to_numpy(float)
    if lrs is not None:
        lo, hi = np.full(len(sizes), min(lrs)), np.full(len(sizes), max(lrs))
    else:
        grid = runs.groupby("batch_size")["base_lr"]
        lo, hi = grid.min().reindex(sizes).to_numpy(float), grid.max().reindex(sizes).to_numpy(float)
    return pd.DataFrame({
        "batch_size": sizes.astype(int), "best_lr": lr,
        "steps_to_target": best["steps_to_target"].to_numpy(float),
        "examples_to_target": best["examples_to_target"].to_numpy(float),
        "n_reached": np.bincount(np.searchsorted(sizes, b[reached]), minlength=len(sizes)),
        "n_runs": np.bincount(np.searchsorted(sizes, b), minlength=len(sizes)),
        "lr_at_edge": np.isfinite(lr) & ((lr == lo) | (lr == hi)),
    })


class StepsFit(NamedTuple):
    s_min: float  # fewest steps at infinite batch
    b_noise: float
    e_min: float  # fewest examples (at B -> 0): S_min * B_noise
    b_crit: float  # E_min / S_min


def fit_steps_model(batch_sizes, steps) -> StepsFit:
    """Fit `S = S_min (1 + B_noise/B)` as linear least squares in 1/B: `S = S_min + (S_min B_noise) / B`.

    Rows are divided by S (relative errors), so every batch size counts alike; NaN points are dropped.
    """
    B, S = np.asarray(batch_sizes, float), np.asarray(steps, float)
    keep = np.isfinite(S) & (S > 0)
    B, S = B[keep], S[keep]
    if len(B) < 2:
        return StepsFit(np.nan, np.nan, np.nan, np.nan)
    A = np.column_stack([np.ones_like(B), 1.0 / B]) / S[:, None]
    (s_min, e_min), *_ = np.linalg.lstsq(A, np.ones_like(S), rcond=None)
    s_min, e_min = float(s_min), max(float(e_min), 0.0)
    b_noise = e_min / s_min if s_min > 0 else np.inf
    return StepsFit(s_min, b_noise, e_min, b_noise)


def predicted_steps(fit: StepsFit, batch_sizes) -> np.ndarray:
    return fit.s_min * (1.0 + fit.b_noise / np.asarray(batch_sizes, float))
