"""The training loop as the notes write it, and the oracle every fast path is tested against.

    for t in range(steps):
        batch = sampler.next()                         # rows of the training set; None: all of them
        loss, grad = problem.loss_and_grad(w, X[batch], y[batch])
        if not loss <= limit: stop                     # divergence (also catches NaN), before the update
        w, state = optimizer.update(grad, state, w)

Full batch, mini-batch and SGD (B = 1) are this one loop with another sampler; any optimizer of
`optim.optimizers`, with any schedule (the optimizer's `lr` may be a schedule `step -> lr`). `Descent` holds the
weights and the optimizer state, so a caller can take steps one at a time and look in between (the landscape
page records every iterate, phases change the batch size, `science.scaling` stops at a target loss).

The divergence rule is the runner's: a batch loss that is not <= `divergence_limit(start loss)`, i.e. above
EXPLODE_FACTOR times the starting loss (or 1), or NaN, stops the run before its update. The fast paths
(`gd_core.fast`, chosen by `fast.dispatch`) must give what this loop gives, to float rounding;
tests/fast/test_dispatch.py checks each of them against `reference_run`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np

from ..data.batching import BatchSampler
from ..optim.optimizers import Optimizer, make_optimizer
from ..problems import Problem

EXPLODE_FACTOR = 1e4  # a batch loss this many times the starting loss (or 1) counts as divergence


def divergence_limit(start_loss: float, factor: float = EXPLODE_FACTOR) -> float:
    """The loss above which a run counts as diverged: `factor * max(|start_loss|, 1)`."""
    return factor * max(abs(start_loss), 1.0)


def sampled(sampler: BatchSampler, steps: int) -> Iterator[np.ndarray | None]:
    """The sampler's next `steps` batches (row indices; None: the full set)."""
    for _ in range(steps):
        yield sampler.next()


class StepResult(NamedTuple):
    loss: float  # the batch's loss at the weights before the step
    diverged: bool  # True: the loss was not <= the limit and the update was not taken


class Descent:
    """One run of the reference loop: `w` (a copy of w0) and the optimizer's state, updated a step at a time."""

    def __init__(self, problem: Problem, X: np.ndarray, y: np.ndarray, w0: np.ndarray, opt: Optimizer):
        self.problem, self.X, self.y, self.opt = problem, X, y, opt
        self.w = np.array(w0, copy=True)
        self.state = opt.init(self.w)
        self.step = 0  # updates taken

    def gradient(self, batch: np.ndarray | None) -> tuple[float, np.ndarray]:
        """(loss, gradient) of the rows `batch` (None: the full set) at the current weights."""
        if batch is None:
            return self.problem.loss_and_grad(self.w, self.X, self.y)
        return self.problem.loss_and_grad(self.w, self.X[batch], self.y[batch])

    def update(self, grad: np.ndarray) -> None:
        """One optimizer update (its schedule reads the number of updates taken so far)."""
        self.w, self.state = self.opt.update(grad, self.state, self.w)
        self.step += 1

    def take(self, batch: np.ndarray | None, limit: float = math.inf) -> StepResult:
        """One step of the notes' loop on `batch`; no update when the batch loss is not <= limit."""
        loss, grad = self.gradient(batch)
        if not loss <= limit:  # also catches NaN
            return StepResult(loss, True)
        self.update(grad)
        return StepResult(loss, False)

    def run(self, batches: Iterable[np.ndarray | None], limit: float = math.inf) -> StepResult:
        """Steps over `batches` until they run out or one diverges; the last step's result."""
        result = StepResult(math.nan, False)
        for batch in batches:
            result = self.take(batch, limit)
            if result.diverged:
                break
        return result


class ReferenceRun(NamedTuple):
    w: np.ndarray  # the weights after the steps taken
    steps: int  # updates taken
    loss: float  # the last batch loss (NaN if no step)
    diverged: bool


def reference_run(problem: Problem, X: np.ndarray, y: np.ndarray, w0: np.ndarray, optimizer: str, lr, hp: dict,
                  batch_size: int, sampling: str, rng: np.random.Generator, steps: int,
                  limit: float = math.inf) -> ReferenceRun:
    """`steps` steps of the reference loop with `make_optimizer(optimizer, lr, **hp)` (lr: a number or a
    schedule) and `BatchSampler(len(X), batch_size, sampling, rng)`: what a fast path must reproduce."""
    descent = Descent(problem, X, y, w0, make_optimizer(optimizer, lr, **hp))
    sampler = BatchSampler(len(X), batch_size, sampling, rng)
    with np.errstate(all="ignore"):  # divergence is read from the values
        last = descent.run(sampled(sampler, steps), limit)
    return ReferenceRun(descent.w, descent.step, last.loss, last.diverged)
