"""The training loop of one run: batches, gradient and update, with every per-step buffer allocated once.

`make_advance(...)` returns `advance(step, until, limit, cached) -> (step, last_loss, diverged)`, which
trains from `step` to `until` and stops before the update of a step whose batch loss is not <= limit.
Paths, chosen once per run:
- B = 1 with plain SGD (momentum 0, no weight decay) on a linear model: the fused one-example loop
  (one_example.one_example_sgd) over indices drawn a checkpoint interval at a time (BatchSampler.next_rows);
- otherwise: sampler.next(), a gather into preallocated (B, D) / (B,) buffers (`np.take(..., out=,
  mode="clip")`: mode="raise" would allocate a full-size temporary, PERF.md), the bound gradient kernel
  (kernels.bind_gradient) and the in-place updater (updaters.make_updater; Optimizer.update for the
  optimizers it does not cover).
"""

from __future__ import annotations

import math

import numpy as np

from .batching import BatchSampler
from .kernels import bind_full_gradient, bind_gradient, full_batch_applies
from . import quadratic
from .one_example import one_example_sgd
from .optimizers import Optimizer
from .problems import Problem
from .updaters import make_updater

FULL_CHUNKED_MIN = 65_536  # full batches from this many rows go through the chunked kernel (PERF.md)


def fused_sgd_applies(optimizer: str, hp: dict) -> bool:
    """Plain SGD: the update the one-example loop fuses into the gradient."""
    return optimizer == "sgd" and not hp.get("momentum", 0.0) and not hp.get("weight_decay", 0.0)


def make_advance(problem: Problem, X: np.ndarray, y: np.ndarray, w: np.ndarray, sampler: BatchSampler,
                 optimizer: str, hp: dict, opt: Optimizer, lr_at, pool=None, threads: int = 1, quad=None):
    """advance(step, until, limit, cached=None) -> (step, last batch loss, diverged); updates `w` in place.

    `cached` = (loss, grad) of the full set at `w`, reused by a full-batch step (the checkpoint computed it).
    `pool` (an executor the caller owns) and `threads`: a full-batch step on a large set (FULL_CHUNKED_MIN
    rows or more) runs the chunked kernel (kernels.bind_full_gradient) over `threads` workers of `pool`.
    `quad` (this set's gd_core.quadratic.Quadratic, or None): a full-batch step is its O(P^2) product.
    """
    n, B = len(X), sampler.batch_size
    if B == 1 and not sampler.full and fused_sgd_applies(optimizer, hp):
        run = one_example_sgd(problem, w, X, y)
        if run is not None:
            def advance_one(step, until, limit, cached=None):
                done, loss, diverged = run(sampler.next_rows(until - step), step, lr_at, limit)
                return step + done, loss, diverged

            return advance_one

    max_batch = n if sampler.full else B
    grad = np.empty_like(w)
    if sampler.full and quad is not None:
        grad_of = quadratic.bind(quad, w, grad)
    elif sampler.full and full_batch_applies(problem, n, FULL_CHUNKED_MIN):
        grad_of = bind_full_gradient(problem, w, grad, n, pool, threads)
    else:
        grad_of = bind_gradient(problem, w, grad, max_batch)
    update = make_updater(optimizer, hp, w)
    if update is None:
        state = opt.init(w)

        def update(g, lr, step):  # the optimizer's own schedule gives lr
            nonlocal state
            _, state = opt.update(g, state, w)

    gather = B > 1 and not sampler.full
    Xbuf = np.empty((B, X.shape[1]), X.dtype) if gather else None
    ybuf = np.empty(B, y.dtype) if gather else None

    def advance(step, until, limit, cached=None):
        loss = math.nan
        while step < until:
            idx = sampler.next()
            g = grad
            if idx is None:
                if cached is not None:
                    (loss, g), cached = cached, None
                else:
                    loss = grad_of(X, y)
            elif B == 1:
                i = int(idx[0])
                loss = grad_of(X[i:i + 1], y[i:i + 1])
            else:
                b = len(idx)
                Xb, yb = (Xbuf, ybuf) if b == B else (Xbuf[:b], ybuf[:b])
                np.take(X, idx, axis=0, out=Xb, mode="clip")
                np.take(y, idx, out=yb, mode="clip")
                loss = grad_of(Xb, yb)
            if not loss <= limit:  # also catches NaN
                return step, loss, True
            update(g, lr_at(step), step)
            step += 1
        return step, loss, False

    return advance
