"""Batch-size science on top of the runner: steps to a target vs batch size (Shallue et al. 2018), the fit
`S = S_min (1 + B_noise/B)` (McCandlish et al. 2018) and B_simple at the target. The sweep runs here
(`run_sweep`, over processes); lr scaling rules (Goyal et al. 2017) are in `scaling_rules.py`, "increase the
batch instead of decaying the lr" (Smith et al. 2017) in `phases.py`. Steps to target are read from the log and
the fit made in `steps_to_target.py` (its names are importable from here too).

Steps to target are *interpolated* (in log loss) between the last checkpoint above the target and the first one at
or below it, so their precision does not hinge on the checkpoint spacing: with >= 100 checkpoints per run the
spacing is <= 1% of the run (`checkpoint_steps` adds log-spaced ones over the first updates, never removes these),
and the interpolation error is a small fraction of one spacing on these smooth curves.
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
from ..train.limits import estimate_work as run_work
from ..train.limits import request_shape
from ..train.reference import Descent
from ..train.runner import build_dataset, build_problem, run_experiment
from .lr_sweep import stable_lr_limit
from .noise import noise_stats
from .steps_to_target import StepsFit as StepsFit  # re-exported: the page and the sweep command import these here
from .steps_to_target import best_per_batch_size, runs_to_target
from .steps_to_target import fit_steps_model as fit_steps_model
from .steps_to_target import predicted_steps as predicted_steps


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
