"""Training with a batch size that changes between phases, and Smith et al. (2017)'s "increase the batch size
instead of decaying the learning rate" comparison built on it (`decay_vs_grow`). Used by the batch-size
scaling page and by `noise.noise_during_training`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..config import ExperimentConfig
from ..data.batching import BatchSampler, steps_per_epoch
from ..optim.optimizers import make_optimizer
from ..optim.schedules import make_schedule, scale_lr
from ..train.plan import optimizer_hyperparameters
from ..train.reference import Descent, divergence_limit, sampled
from ..train.runner import build_dataset, build_problem


def train_phases(problem, ds, w0, config: ExperimentConfig, phases, measure, n_points: int,
                 rng: np.random.Generator, schedule: bool = False) -> pd.DataFrame:
    """Train through `phases` [(steps, batch_size, lr)] with one optimizer (its state carries over) and
    record `measure(w) -> dict` at n_points+1 checkpoints evenly spaced in examples seen.

    schedule=True (one phase): the lr follows the config's schedule/scaling/warmup exactly as in the runner.
    Stops early (status "diverged") when the mini-batch loss is non-finite or > EXPLODE_FACTOR x its start
    (the runner's rule, `train.reference.divergence_limit`), on the reference loop (`train.reference.Descent`).
    """
    X, y, n = ds.X_train, ds.y_train, ds.n_train
    cur = {"lr": float(phases[0][2])}
    if schedule:
        steps0, b0, lr = phases[0]
        sched = make_schedule(
            config.schedule, scale_lr(lr, b0, config.lr_scaling, config.ref_batch_size),
            steps_per_epoch=steps_per_epoch(n, b0, config.sampling), total_steps=int(steps0),
            warmup_epochs=config.warmup_epochs, warmup_from=lr if config.lr_scaling != "none" else 0.0,
            step_epochs=config.step_epochs, gamma=config.gamma, decay=config.decay)
    else:
        def sched(step):
            return cur["lr"]
    descent = Descent(problem, X, y, w0, make_optimizer(config.optimizer, sched, **optimizer_hyperparameters(config)))
    total = sum(min(b, n) * s if config.sampling == "replacement" else _examples(s, n, b) for s, b, _ in phases)
    marks = list(total * np.arange(1, n_points + 1) / n_points)
    seen, status, limit = 0, "ok", None

    def row(b):
        return {"step": descent.step, "epoch": seen / n, "examples_seen": seen, "batch_size": b,
                "lr": sched(descent.step), **measure(descent.w), "status": status}

    rows = [row(phases[0][1])]
    with np.errstate(all="ignore"):
        for n_steps, b, lr in phases:
            cur["lr"] = float(lr)
            sampler = BatchSampler(n, int(b), config.sampling, rng)
            for batch in sampled(sampler, int(n_steps)):
                if limit is None:  # the runner's rule, from the first batch's loss
                    limit = divergence_limit(descent.gradient(batch)[0])
                seen += n if batch is None else len(batch)
                if descent.take(batch, limit).diverged:
                    status = "diverged"
                    rows.append(row(b))
                    return pd.DataFrame(rows)
                if marks and seen >= marks[0] - 1e-9:
                    while marks and seen >= marks[0] - 1e-9:
                        marks.pop(0)
                    rows.append(row(b))
    return pd.DataFrame(rows)


def _examples(steps, n, b):
    spe = math.ceil(n / b)
    epochs, within = divmod(int(steps), spe)
    return epochs * n + min(within * b, n)


# -- increase the batch instead of decaying the lr (Smith et al. 2017) ------------------------------------

def decay_vs_grow(base: ExperimentConfig, batch_size: int, lr: float, factor: float = 5.0,
                  every_epochs: float = 2.0, epochs: float = 8.0, n_points: int = 80) -> pd.DataFrame:
    """Two runs over the same examples budget from the same start: "decay lr" divides the lr by `factor`
    every `every_epochs`; "grow batch" multiplies the batch size by `factor` at the same points (capped at N;
    Smith et al.'s noise scale g = lr (N/B - 1) ~ lr N / B falls by the same factor, with fewer steps).

    Columns: variant, step, epoch, examples_seen, batch_size, lr, train_loss, val_loss, status.
    """
    ds = build_dataset(base)
    problem = build_problem(base, ds)
    n = ds.n_train
    w0 = problem.init_params(np.random.default_rng([base.seeds[0], 0]), dtype=ds.X_train.dtype)
    n_phases = max(1, math.ceil(epochs / every_epochs - 1e-9))
    plans = {"decay lr": [], "grow batch": []}
    for k in range(n_phases):
        span = min(every_epochs, epochs - k * every_epochs)
        b = int(min(n, round(batch_size * factor**k)))
        plans["decay lr"].append((math.ceil(span * n / batch_size - 1e-9), batch_size, lr / factor**k))
        plans["grow batch"].append((math.ceil(span * n / b - 1e-9), b, lr))

    def measure(w):
        return {"train_loss": problem.loss(w, ds.X_train, ds.y_train),
                "val_loss": problem.loss(w, ds.X_val, ds.y_val) if ds.n_val else np.nan}

    frames = [train_phases(problem, ds, w0, base, phases, measure, n_points,
                           rng=np.random.default_rng([base.seeds[0], 1, batch_size])).assign(variant=name)
              for name, phases in plans.items()]
    out = pd.concat(frames, ignore_index=True)
    return out[["variant", *[c for c in out.columns if c != "variant"]]]
