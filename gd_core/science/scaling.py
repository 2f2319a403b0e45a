"""Batch-size science on top of the runner: steps to a target vs batch size (Shallue et al. 2018), the fit
`S = S_min (1 + B_noise/B)` (McCandlish et al. 2018) and B_simple at the target. The sweep runs here
(`run_sweep`, over processes); lr scaling rules (Goyal et al. 2017) are in `scaling_rules.py`, "increase the
batch instead of decaying the lr" (Smith et al. 2017) in `phases.py`.

Steps to target are read from the run log's checkpoints and *interpolated* (in log loss) between the last
checkpoint above the target and the first one at or below it, so their precision does not hinge on the
checkpoint spacing: with >= 100 checkpoints per run the spacing is <= 1% of the run, and the interpolation
error is a small fraction of one spacing on these smooth curves.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..config import ConfigError, ExperimentConfig
from ..optim.learning_rates import log_lr_grid
from ..optim.optimizers import make_optimizer
from ..results import summarize
from ..train.limits import estimate_work as run_work
from ..train.limits import request_shape
from ..train.reference import Descent
from ..train.runner import build_dataset, build_problem, run_experiment
from .lr_sweep import stable_lr_limit
from .noise import noise_stats


def pow2_batch_sizes(n_train: int, largest: int | None = None) -> tuple[int, ...]:
    """1, 2, 4, ... up to min(largest, n_train), plus n_train itself (full batch) if not capped below it."""
    cap = min(largest or n_train, n_train)
    out = [2**k for k in range(int(math.log2(cap)) + 1)]
    if cap == n_train and out[-1] != n_train:
        out.append(n_train)
    return tuple(out)


@dataclass(frozen=True)
class SweepSpec:
    """A steps-to-target sweep: one `run_experiment` per batch size, each over the whole lr grid.

    Each batch size B runs `clip(ceil(epochs * N / B), min_steps, max_steps)` steps (a budget in steps, so
    small batches are not starved and full batch gets enough updates), with `n_checkpoints` checkpoints.
    """

    base: ExperimentConfig  # data, problem, optimizer, target_loss / target_metric
    batch_sizes: tuple[int, ...]
    lrs: tuple[float, ...]
    epochs: float = 20.0
    min_steps: int = 200
    max_steps: int = 20_000
    n_checkpoints: int = 200

    def __post_init__(self):
        if self.base.target_loss is None:
            raise ConfigError("target_loss must be set for a steps-to-target sweep; got None")
        if not self.batch_sizes or not self.lrs:
            raise ConfigError(f"batch_sizes and lrs must be non-empty; got {self.batch_sizes!r}, {self.lrs!r}")
        if len(self.lrs) > 64:
            raise ConfigError(f"lrs must have at most 64 entries; got {len(self.lrs)}")

    def steps(self, batch_size: int, n_train: int) -> int:
        return int(min(self.max_steps, max(self.min_steps, math.ceil(self.epochs * n_train / batch_size))))

    def configs(self, n_train: int) -> list[ExperimentConfig]:
        """One ExperimentConfig per batch size (lrs = the grid): what `run_experiment` / the cache key on."""
        out = []
        for b in self.batch_sizes:
            if not 1 <= b <= n_train:
                raise ConfigError(f"batch_size must be in [1, {n_train}]; got {b}")
            steps = self.steps(b, n_train)
            out.append(self.base.replace(batch_sizes=(int(b),), lrs=tuple(self.lrs), budget_unit="steps",
                                         budget=float(steps), n_checkpoints=min(steps, self.n_checkpoints)))
        return out


def estimate_work(spec: SweepSpec, n_train: int, n_params: int, n_features: int | None = None) -> float:
    """Work units of the whole sweep in the engine's one work model (`train.limits.estimate_work`, the units of
    the dashboard's and `run_experiment`'s budgets): the sum over its configs, each of which makes its data.
    n_features: the data's (None: the base config's, `train.limits.request_shape`)."""
    if n_features is None:
        shape = request_shape(spec.base)
        n_features = shape[1] if shape is not None else spec.base.n_features
    return sum(run_work(c, n_train, n_features, n_params) for c in spec.configs(n_train))


def suggest_smaller(spec: SweepSpec, budget: float, n_train: int, n_params: int) -> SweepSpec:
    """A sweep within `budget`: fewer epochs first (down to 2), then a coarser lr grid, then fewer batch sizes."""
    s = spec
    while estimate_work(s, n_train, n_params) > budget and s.epochs > 2:
        s = _replace(s, epochs=max(2.0, s.epochs / 2), min_steps=max(20, s.min_steps // 2))
    while estimate_work(s, n_train, n_params) > budget and len(s.lrs) > 3:
        s = _replace(s, lrs=s.lrs[::2])
    while estimate_work(s, n_train, n_params) > budget and len(s.batch_sizes) > 2:
        s = _replace(s, batch_sizes=s.batch_sizes[::2])
    return s


def _replace(spec: SweepSpec, **changes) -> SweepSpec:
    return dataclasses.replace(spec, **changes)


# -- running a sweep ---------------------------------------------------------------------------------------

class SweepResult(NamedTuple):
    log: pd.DataFrame  # the long run log of every run (results.LOG_COLUMNS)
    runs: pd.DataFrame  # one row per run, with interpolated steps/examples to target
    summary: pd.DataFrame  # one row per batch size: best lr, steps/examples to target
    complete: bool  # False when stopped early (partial results kept)


def _run_config(config: ExperimentConfig) -> pd.DataFrame:
    return run_experiment(config).log


def run_sweep(spec: SweepSpec, *, progress: Callable[[float, str], None] | None = None,
              should_stop: Callable[[], bool] | None = None, jobs: int = 1,
              run: Callable[[ExperimentConfig], pd.DataFrame] | None = None) -> SweepResult:
    """Run every batch size of `spec`; `jobs > 1` spreads batch sizes over processes (same results as serial:
    every run is seeded by its config). `run(config) -> log` replaces `run_experiment` (e.g. a cache).
    should_stop() -> True stops after the current batch size (serial: inside the current run); what finished
    is kept and `complete` is False.
    """
    n_train = build_dataset(spec.base).n_train
    configs = spec.configs(n_train)
    weights = [estimate_work(_replace(spec, batch_sizes=(c.batch_sizes[0],)), n_train, 1) for c in configs]
    total, done = sum(weights), 0.0
    logs: dict[int, pd.DataFrame] = {}
    complete = True
    if jobs > 1 and run is None:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(_run_config, c): i for i, c in enumerate(configs)}
            for fut in as_completed(futures):
                i = futures[fut]
                logs[i] = fut.result()
                done += weights[i]
                if progress is not None:
                    progress(done / total, f"B={configs[i].batch_sizes[0]} done")
                if should_stop is not None and should_stop():
                    complete = False
                    for f in futures:
                        f.cancel()
                    break
            if not complete:  # runs already started finish; keep them
                for fut, i in futures.items():
                    if not fut.cancelled() and fut.done() and fut.exception() is None:
                        logs[i] = fut.result()
    else:
        for i, c in enumerate(configs):
            if should_stop is not None and should_stop():
                complete = False
                break

            def report(frac, msg, _done=done, _w=weights[i]):
                if progress is not None:
                    progress(min(1.0, (_done + frac * _w) / total), msg)

            log = run(c) if run is not None else run_experiment(c, progress=report, should_stop=should_stop).log
            logs[i] = log
            done += weights[i]
            if (log["status"] == "cancelled").any():
                complete = False
                break
    frames = [logs[i] for i in sorted(logs)]
    log = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    runs = runs_to_target(log, spec.base.target_loss, spec.base.target_metric)
    if progress is not None:
        progress(1.0, "done")
    return SweepResult(log, runs, best_per_batch_size(runs, spec.lrs), complete)


# -- steps to target ---------------------------------------------------------------------------------------

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
    Whole columns at once (a default sweep's 108 runs: 43 ms one run at a time)."""
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


def b_simple_at_target(config: ExperimentConfig, lr: float, max_steps: int = 2000) -> dict:
    """B_simple at init and where full-batch GD (constant `lr`) first reaches the config's target.

    Returns {"b_simple_init", "b_simple_target", "steps"} (target values NaN if not reached within max_steps).
    """
    ds = build_dataset(config)
    problem = build_problem(config, ds)
    w = problem.init_params(np.random.default_rng([config.seeds[0], 0]), dtype=np.float64)
    X, y = np.asarray(ds.X_train, float), ds.y_train
    Xv, yv = np.asarray(ds.X_val, float), ds.y_val
    init = noise_stats(problem, w, X, y).b_simple
    val = config.target_metric == "val_loss"
    descent = Descent(problem, X, y, w, make_optimizer("sgd", lr))  # full-batch GD on the reference loop
    with np.errstate(all="ignore"):
        for step in range(max_steps + 1):
            loss, grad = descent.gradient(None)
            metric = problem.loss(descent.w, Xv, yv) if val else loss
            if metric <= config.target_loss:
                return {"b_simple_init": init, "b_simple_target": noise_stats(problem, descent.w, X, y).b_simple,
                        "steps": step}
            if not np.isfinite(loss):
                break
            descent.update(grad)
    return {"b_simple_init": init, "b_simple_target": np.nan, "steps": np.nan}


# -- the default scenario ----------------------------------------------------------------------------------

DEFAULT_BASE = ExperimentConfig(problem="least_squares", dataset="linear", n_samples=320, n_features=16,
                                noise=0.1, condition_number=5.0, optimizer="sgd", sampling="shuffle",
                                batch_sizes=(1,), lrs=(0.1,))


def target_for(base: ExperimentConfig, fraction: float) -> float:
    """The training loss a `fraction` of the way from the optimum to the initial loss: L* + f (L0 - L*)
    (least squares, where the optimum is known), rounded to 4 digits."""
    ds = build_dataset(base)
    problem = build_problem(base, ds)
    w_star = problem.optimum(ds.X_train, ds.y_train)
    if w_star is None:
        raise ConfigError(f"target_for needs a problem with a closed-form optimum (least_squares); got {base.problem}")
    w0 = problem.init_params(np.random.default_rng([base.seeds[0], 0]), dtype=ds.X_train.dtype)
    l_star, l0 = problem.loss(w_star, ds.X_train, ds.y_train), problem.loss(w0, ds.X_train, ds.y_train)
    return float(f"{l_star + fraction * (l0 - l_star):.4g}")


def stable_lr_grid(base: ExperimentConfig, n: int = 12, decades: float = 2.4) -> tuple[float, ...]:
    """A log grid ending at full-batch GD's stability limit 2/lambda_max (least squares) over `decades`."""
    ds = build_dataset(base)
    problem = build_problem(base, ds)
    top = stable_lr_limit(problem, ds.X_train)
    return log_lr_grid(top * 10.0**-decades, top * 0.999, n)


def default_spec(fraction: float = 0.002, n_lrs: int = 12, **changes) -> SweepSpec:
    """Least squares on `linear` data with label noise: B_simple at the target ~ 50 of N = 256 examples, so
    the steps-to-target curve shows perfect scaling below it and a plateau above, in a few seconds."""
    base = DEFAULT_BASE.replace(**changes)
    base = base.replace(target_loss=target_for(base, fraction))
    return SweepSpec(base, pow2_batch_sizes(base.n_train()), stable_lr_grid(base, n_lrs), epochs=10,
                     min_steps=100, max_steps=5000, n_checkpoints=100)
