"""What a checkpoint measures, and when: the steps of a run's checkpoints, and `Evaluator`, which measures a
weight vector on the fixed evaluation sets (the whole sets when small, else seeded subsamples shared by every
run; their size is `plan.eval_size`), one at a time or pooled (`Evaluator.many`).
"""

from __future__ import annotations

import math

import numpy as np

from ..data.batching import examples_after, steps_for_examples
from ..data.dataset import Dataset
from ..fast.evaluation import bind_evaluation, bind_pooled_evaluation, pools
from ..problems import Problem

EVAL_CHUNK = 16_384  # rows per chunk when evaluating large sets: stays in cache
POOL = 8  # a mini-batch run's checkpoints are measured this many at a time (Evaluator.many) where that pools:
POOL_MAX_ROWS = 4096  # on sets this small a measurement is mostly per-call overhead; larger ones did not gain
# (benchmarks/results/2026-11-28-0500-engine.md, "Pooled checkpoints")


def checkpoint_steps(steps: int, n: int, batch_size: int, sampling: str, count: int) -> list[int]:
    """Steps at which to measure, so that every x axis a chart draws is sampled where it is drawn: 0, the last
    step, and the union of

    - `count` steps evenly spaced in examples seen (the epoch and examples axes, linear time, and the
      steps-to-target interpolation of `gd_core.science.scaling`);
    - `count // 3` update counts log-spaced where the even ones are sparse on a log axis (the updates and time
      axes): each of the first `count // 5` updates, then geometrically up to ten even spacings. Without them
      B = 1's first point after the start sat at update steps/count (40 by default), and a straight line over
      updates 1-40 hid its early loss.

    All steps when steps <= count; never more than `max_checkpoints(count)` steps.
    """
    if steps <= count:
        return list(range(steps + 1))
    total = examples_after(steps, n, batch_size, sampling)
    out = {0, steps}
    for k in range(1, count):
        out.add(min(steps, steps_for_examples(total * k / count, n, batch_size, sampling)))
    out.update(_log_spaced(min(steps, 10 * math.ceil(steps / count)), extra_checkpoints(count), count // 5))
    return sorted(out)


def extra_checkpoints(count: int) -> int:
    """The log-spaced checkpoints `checkpoint_steps` may add to its `count` evenly spaced ones: count // 3."""
    return count // 3


def max_checkpoints(count: int) -> int:
    """The most checkpoints `checkpoint_steps(..., count)` returns (with step 0 and the last step): what the
    work estimate counts."""
    return count + extra_checkpoints(count) + 2


def _log_spaced(end: int, m: int, dense: int) -> list[int]:
    """At most m distinct update counts in [1, end]: 1, 2, ..., d (d = min(dense, m, end)), then m - d
    counts geometrically spaced from d to end (rounded; every gap at least one update, so none repeat)."""
    d = min(dense, m, end)
    out = list(range(1, d + 1))
    if m <= d or d >= end:
        return out
    start = max(d, 1)
    ratio = (end / start) ** (1.0 / (m - d))
    tail = np.round(start * ratio ** np.arange(1, m - d + 1)).astype(np.int64)
    return out + [int(v) for v in np.unique(np.clip(tail, 1, end))]


class Evaluator:
    """Measures a weight vector on fixed evaluation sets (full sets when small, else seeded subsamples)."""

    def __init__(self, problem: Problem, ds: Dataset, eval_examples: int, seed: int, w_star=None):
        rng = np.random.default_rng([seed, 7])
        self.problem, self.w_star, self.ds = problem, w_star, ds
        self.train_is_full = ds.n_train <= eval_examples
        self.X, self.y = _subsample(ds.X_train, ds.y_train, eval_examples, rng)
        self.Xv, self.yv = _subsample(ds.X_val, ds.y_val, eval_examples, rng)
        self.exact = len(self.y) == ds.n_train and len(self.yv) == len(ds.y_val)
        self._bound = None  # (w copy, grad, evaluation.bind_evaluation), built on the first call
        self._pooled = None  # (dtype, evaluation.bind_pooled_evaluation), built on the first `many`
        # checkpoints measured together by `many`: where per-call overhead is most of a measurement
        self.pool = POOL if pools(problem) and 0 < len(self.y) and len(self.y) + len(self.yv) <= POOL_MAX_ROWS else 1

    def _kernel(self, w):
        """The bound evaluation (evaluation.bind_evaluation) on a private copy of w, sized to the eval sets."""
        if self._bound is None or self._bound[0].dtype != w.dtype or self._bound[0].shape != w.shape:
            wc, g = np.empty_like(w), np.empty_like(w)
            self._bound = (wc, g, bind_evaluation(self.problem, wc, g, self.X, self.y, self.Xv, self.yv))
        return self._bound

    def __call__(self, w) -> tuple[dict, tuple[float, np.ndarray]]:
        """Metrics at w, and (train loss, its gradient) on the train eval set (the gradient is a new array).

        One bound-kernel pass over both sets (evaluation.bind_evaluation): loss, gradient (train only) and
        correct counts from the same scores; no second forward pass for the accuracies."""
        wc, g, evaluate = self._kernel(w)
        np.copyto(wc, w)
        loss, hits, vloss, vhits = evaluate()
        grad = g.copy()
        return self._metrics(w, loss, hits, vloss, vhits, np.sqrt(np.dot(grad, grad))), (loss, grad)

    def many(self, ws: list[np.ndarray]) -> list[dict]:
        """Metrics at each weight vector: `self(w)[0]` for each, `pool` at a time in one pass where it pools."""
        if self.pool == 1:
            return [self(w)[0] for w in ws]
        if len(ws) > self.pool:
            return [m for i in range(0, len(ws), self.pool) for m in self.many(ws[i:i + self.pool])]
        if self._pooled is None or self._pooled[0] != ws[0].dtype:
            self._pooled = (ws[0].dtype, bind_pooled_evaluation(self.problem, self.pool, ws[0].dtype,
                                                                self.X, self.y, self.Xv, self.yv))
        load, evaluate = self._pooled[1]
        for j, w in enumerate(ws):
            load(j, w)  # slots past len(ws) keep older weights; their numbers are not read
        out = evaluate()
        return [self._metrics(w, *(a[j] for a in out)) for j, w in enumerate(ws)]

    def _metrics(self, w, loss, hits, vloss, vhits, grad_norm) -> dict:
        classifier, has_val = self.problem.is_classifier, len(self.yv) > 0
        return {
            "train_loss": float(loss),
            "val_loss": float(vloss) if has_val else np.nan,
            "train_accuracy": int(hits) / len(self.y) if classifier else np.nan,
            "val_accuracy": int(vhits) / len(self.yv) if classifier and has_val else np.nan,
            "grad_norm": float(grad_norm),
            "distance_to_optimum": (float(np.linalg.norm(w - self.w_star))
                                    if self.w_star is not None else np.nan),
        }

    def full_losses(self, w) -> tuple[float, float]:
        """Exact losses on the whole train and validation sets, chunked."""
        return _chunked_loss(self.problem, w, self.ds.X_train, self.ds.y_train), \
            _chunked_loss(self.problem, w, self.ds.X_val, self.ds.y_val)


def _subsample(X, y, m, rng):
    if len(X) <= m:
        return X, y
    idx = np.sort(rng.choice(len(X), size=m, replace=False))
    return X[idx], y[idx]


def _chunked_loss(problem, w, X, y) -> float:
    if len(X) == 0:
        return np.nan
    # The L2 term is the same in every chunk, so the size-weighted mean of chunk losses is the exact loss.
    total = sum(problem.loss(w, X[i:i + EVAL_CHUNK], y[i:i + EVAL_CHUNK]) * len(X[i:i + EVAL_CHUNK])
                for i in range(0, len(X), EVAL_CHUNK))
    return float(total / len(X))
