"""Pictures of the data and the model: each batch size's weights part-way through training, the decision regions
they draw over 2-D data, and a linear classifier's weights on images drawn as images (cs231n's class templates).

`Results` keeps no weights, so `snapshot_weights` replays a run (the same initial weights, batch order, schedule
and update path as `run_experiment`'s one-by-one run: `make_advance`) and copies its weights at the chosen
steps; the weights at a checkpoint give that checkpoint's logged loss (a test checks it against the log).
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import NamedTuple

import numpy as np
from threadpoolctl import threadpool_limits

from ..config import ConfigError, ExperimentConfig
from ..data.batching import BatchSampler, steps_for_examples
from ..data.dataset import Dataset
from ..optim.optimizers import make_optimizer
from ..problems import Problem
from ..train.loop import chunked_full_batch, make_advance
from ..train.plan import optimizer_hyperparameters, run_schedule, total_steps
from ..train.reference import divergence_limit
from ..train.runner import build_problem

GRID_MAX = 400  # decision-region grids: at most this many points a side
TEMPLATE_PROBLEMS = ("softmax", "svm")  # one weight per pixel and class: a template per class


def snapshot_weights(config: ExperimentConfig, ds: Dataset, batch_size: int, steps: Iterable[int], *,
                     seed: int | None = None, lr: float | None = None) -> dict[int, np.ndarray]:
    """{step: a copy of the weights after that many updates} of the run (seed, batch_size, lr) of `config` on `ds`
    (defaults: the config's first seed and lr); steps beyond the run's last are clipped to it. A run stops where
    the runner calls it diverged (a batch loss past EXPLODE_FACTOR times the starting loss, or not finite): later
    steps get the weights it stopped with."""
    n = ds.n_train
    if not isinstance(batch_size, int) or not 1 <= batch_size <= n:
        raise ConfigError(f"batch_size must be in [1, {n}] (the training examples); got {batch_size!r}")
    seed = config.seeds[0] if seed is None else seed
    lr = config.lrs[0] if lr is None else lr
    problem = build_problem(config, ds)
    last = total_steps(config, n, batch_size)
    wanted = sorted({min(max(0, int(s)), last) for s in steps})
    schedule = run_schedule(config, n, batch_size, lr)
    hp = optimizer_hyperparameters(config)
    opt = make_optimizer(config.optimizer, schedule, **hp)
    w = problem.init_params(np.random.default_rng([seed, 0]), dtype=ds.X_train.dtype)
    sampler = BatchSampler(n, batch_size, config.sampling, np.random.default_rng([seed, 1, batch_size]))
    chunked = sampler.full and chunked_full_batch(problem, n)
    with np.errstate(all="ignore"):
        limit = divergence_limit(problem.loss(w, ds.X_train, ds.y_train))
    out, step = {}, 0
    with threadpool_limits(1, user_api="blas"), \
            (ThreadPoolExecutor(1) if chunked else nullcontext()) as pool, np.errstate(all="ignore"):
        advance = make_advance(problem, ds.X_train, ds.y_train, w, sampler, config.optimizer, hp, opt, schedule,
                               pool, 1)
        for target in wanted:
            diverged = False
            if step < target:
                step, _, diverged = advance(step, target, limit, None)
            out[target] = w.copy()
            if diverged:  # advance stopped before the step past the limit: the rest keep these weights
                out.update({t: w.copy() for t in wanted if t > target})
                break
    return out


def steps_at_fraction(config: ExperimentConfig, n: int, batch_size: int, fraction: float) -> int:
    """The step of a run of `batch_size` after `fraction` (0..1) of its budget in examples seen, so that runs of
    different batch sizes are compared after the same number of examples (as the home page's epoch axis)."""
    if not 0.0 <= fraction <= 1.0:
        raise ConfigError(f"fraction must be in [0, 1]; got {fraction!r}")
    last = total_steps(config, n, batch_size)
    if config.budget_unit == "steps":
        return round(fraction * last)
    examples = fraction * (config.budget * n if config.budget_unit == "epochs" else config.budget)
    return min(last, steps_for_examples(examples, n, batch_size, config.sampling)) if examples > 0 else 0


class Grid(NamedTuple):
    xs: np.ndarray  # (nx,) first feature
    ys: np.ndarray  # (ny,) second feature
    labels: np.ndarray  # (ny, nx) int64: the predicted class at (xs[j], ys[i])


def decision_grid(problem: Problem, w: np.ndarray, x_range, y_range, resolution: int = 100) -> Grid:
    """The class `problem.predict` gives at each point of a resolution x resolution grid over two features
    (2-D data: the classifier's inputs are exactly these two)."""
    if not problem.is_classifier or problem.n_features != 2:
        raise ConfigError(f"decision regions need a classifier on 2 features; got problem {problem.name} with "
                          f"{problem.n_features} features")
    if not isinstance(resolution, int) or not 2 <= resolution <= GRID_MAX:
        raise ConfigError(f"resolution must be an integer in [2, {GRID_MAX}]; got {resolution!r}")
    (x0, x1), (y0, y1) = map(tuple, (x_range, y_range))
    if not all(np.isfinite([x0, x1, y0, y1])) or not (x0 < x1 and y0 < y1):
        raise ConfigError(f"the grid's ranges must be finite with low < high; got x {x_range}, y {y_range}")
    xs, ys = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    gx, gy = np.meshgrid(xs, ys)
    points = np.column_stack([gx.ravel(), gy.ravel()]).astype(w.dtype)
    with np.errstate(all="ignore"):
        labels = problem.predict(w, points).astype(np.int64).reshape(resolution, resolution)
    return Grid(xs, ys, labels)


def data_range(X: np.ndarray, margin: float = 0.1) -> tuple[tuple[float, float], tuple[float, float]]:
    """The first two features' ranges with `margin` of their width added on each side."""
    lo, hi = X[:, :2].min(axis=0).astype(float), X[:, :2].max(axis=0).astype(float)
    pad = np.maximum(hi - lo, 1e-9) * margin
    return (lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1])


def class_templates(problem: Problem, w: np.ndarray, image_shape: tuple[int, int]) -> np.ndarray:
    """(C, height, width): class c's weights, one per pixel, laid out as the image (cs231n's templates)."""
    if problem.name not in TEMPLATE_PROBLEMS:
        raise ConfigError(f"class templates need a linear classifier ({', '.join(TEMPLATE_PROBLEMS)}); got problem "
                          f"{problem.name}")
    h, wd = image_shape
    if h * wd != problem.n_features:
        raise ConfigError(f"image_shape {image_shape} has {h * wd} pixels; the model has {problem.n_features} inputs")
    W = problem.unpack(w)["W"]  # (D, C)
    return np.ascontiguousarray(W.T).reshape(problem.n_classes, h, wd)


class Snapshot(NamedTuple):
    step: int  # updates done
    weights: np.ndarray
    val_accuracy: float  # NaN without validation rows or for regression


def training_snapshots(config: ExperimentConfig, ds: Dataset, fractions) -> dict[int, list[Snapshot]]:
    """{batch size: one Snapshot per fraction (0..1) of the budget in examples seen} for each batch size of
    `config` (its first seed and lr), every run replayed once (`snapshot_weights`)."""
    fractions = [float(f) for f in fractions]
    problem = build_problem(config, ds)
    out = {}
    for B in config.resolved_batch_sizes(ds.n_train):
        steps = [steps_at_fraction(config, ds.n_train, B, f) for f in fractions]
        weights = snapshot_weights(config, ds, B, steps)
        out[B] = [Snapshot(s, weights[s], _accuracy(problem, weights[s], ds)) for s in steps]
    return out


def _accuracy(problem: Problem, w: np.ndarray, ds: Dataset) -> float:
    if not problem.is_classifier or ds.n_val == 0:
        return float("nan")
    with np.errstate(all="ignore"):
        return float(problem.accuracy(w, ds.X_val, ds.y_val))
