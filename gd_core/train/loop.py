"""The training loop of one run: batches, gradient and update, with every per-step buffer allocated once.

`make_advance(...)` returns `advance(step, until, limit, cached) -> (step, last_loss, diverged)`, which
trains from `step` to `until` and stops before the update of a step whose batch loss is not <= limit.
Paths, chosen once per run (`choose_path`: fast.dispatch.single_run_path, the registry of what each supports):
- B = 1 with plain SGD (momentum 0, no weight decay) on a linear model: the fused one-example loop
  (one_example.one_example_sgd) over indices drawn a checkpoint interval at a time (BatchSampler.next_rows);
- 1 < B <= half a gathered chunk on a linear model: batches drawn and gathered a chunk (GATHER_BYTES) at a
  time into [X, 1], whose ones column carries the bias (`_Gathered`, kernels' ones_column);
- a full batch on a large set: the chunked, threaded kernel (full_batch.bind_full_gradient);
- otherwise: sampler.next(), a gather into preallocated (B, D) / (B,) buffers (`np.take(..., out=,
  mode="clip")`: mode="raise" would allocate a full-size temporary, docs/PERFORMANCE.md), the bound gradient kernel
  (kernels.bind_gradient) and the in-place updater (optimizers.make_updater; Optimizer.update for the
  optimizers it does not cover).
"""

from __future__ import annotations

import math

import numpy as np

from ..data.batching import BatchSampler
from ..fast.dispatch import FULL_CHUNKED, GATHERED, GENERIC, ONE_EXAMPLE, FastPath, single_run_path, supports
from ..fast.full_batch import bind_full_gradient
from ..fast.kernels import bind_gradient
from ..fast.one_example import one_example_sgd
from ..optim.optimizers import Optimizer, make_updater
from ..problems import Problem, Softmax

FULL_CHUNKED_MIN = 65_536  # full batches from this many rows go through the chunked kernel (docs/PERFORMANCE.md)


def chunked_full_batch(problem: Problem, n: int) -> bool:
    """Whether a full batch of `n` rows takes the chunked kernel (full_batch.bind_full_gradient)."""
    return supports(FULL_CHUNKED, problem.name, "") and n >= FULL_CHUNKED_MIN


def choose_path(problem: Problem, X: np.ndarray, sampler: BatchSampler, optimizer: str, hp: dict,
                gather_bytes: int | None = None, full_min: int | None = None) -> FastPath:
    """The fast path of one run (fast.dispatch.single_run_path); gather_bytes and full_min default to
    GATHER_BYTES and FULL_CHUNKED_MIN."""
    full_min = FULL_CHUNKED_MIN if full_min is None else full_min
    return single_run_path(problem.name, optimizer, hp, sampler.batch_size, len(X), sampler.full,
                           gather_rows(X, gather_bytes), full_min)


def make_advance(problem: Problem, X: np.ndarray, y: np.ndarray, w: np.ndarray, sampler: BatchSampler,
                 optimizer: str, hp: dict, opt: Optimizer, lr_at, pool=None, threads: int = 1, *,
                 gather_bytes: int | None = None, full_min: int | None = None):
    """advance(step, until, limit, cached=None) -> (step, last batch loss, diverged); updates `w` in place.

    `cached` = (loss, grad) of the full set at `w`, reused by a full-batch step (the checkpoint computed it).
    `pool` (an executor the caller owns) and `threads`: a full-batch step on a large set (FULL_CHUNKED_MIN
    rows or more) runs the chunked kernel (full_batch.bind_full_gradient) over `threads` workers of `pool`.
    gather_bytes (small batches gathered at once, bytes) and full_min (rows from which a full batch is chunked)
    default to GATHER_BYTES and FULL_CHUNKED_MIN. The path taken (fast.dispatch) is `advance.path`, its name.
    """
    path = choose_path(problem, X, sampler, optimizer, hp, gather_bytes, full_min)
    advance = _advance(path, problem, X, y, w, sampler, optimizer, hp, opt, lr_at, pool, threads, gather_bytes)
    advance.path = path.name if path is not ONE_EXAMPLE or advance.fused else GENERIC.name
    return advance


def _advance(path, problem, X, y, w, sampler, optimizer, hp, opt, lr_at, pool, threads, gather_bytes):
    n, B = len(X), sampler.batch_size
    if path is ONE_EXAMPLE:
        run = one_example_sgd(problem, w, X, y)
        if run is not None:  # None: weights of another dtype than float32 / float64 take the generic path
            def advance_one(step, until, limit, cached=None):
                done, loss, diverged = run(sampler.next_rows(until - step), step, lr_at, limit)
                return step + done, loss, diverged

            advance_one.fused = True
            return advance_one

    max_batch = n if sampler.full else B
    grad = np.empty_like(w)
    update = _updater(optimizer, hp, opt, w)
    if path is GATHERED:
        flat = type(problem) is Softmax
        grad_of = bind_gradient(problem, w, grad, B, ones_column=True, flat_labels=flat)
        batches = _Gathered(X, y, sampler, flat, gather_bytes)
        return _loop(lambda cached: (grad_of(*batches.next()), grad), update, lr_at)
    if path is FULL_CHUNKED:
        grad_of = bind_full_gradient(problem, w, grad, n, pool, threads)
    else:
        grad_of = bind_gradient(problem, w, grad, max_batch)
    gather = B > 1 and not sampler.full
    Xbuf = np.empty((B, X.shape[1]), X.dtype) if gather else None
    ybuf = np.empty(B, y.dtype) if gather else None

    def batch_loss(cached):
        idx = sampler.next()
        if idx is None:
            return cached if cached is not None else (grad_of(X, y), grad)
        if B == 1:
            i = int(idx[0])
            return grad_of(X[i:i + 1], y[i:i + 1]), grad
        b = len(idx)
        Xb, yb = (Xbuf, ybuf) if b == B else (Xbuf[:b], ybuf[:b])
        X.take(idx, axis=0, out=Xb, mode="clip")  # methods: np.take's wrapper costs ~1.5 us
        y.take(idx, out=yb, mode="clip")
        return grad_of(Xb, yb), grad

    return _loop(batch_loss, update, lr_at)


def _loop(batch_loss, update, lr_at):
    """advance(step, until, limit, cached=None) over `batch_loss(cached) -> (loss, its gradient)`: stops before
    the update of a step whose loss is not <= limit. `cached` goes to the call's first step only."""

    def advance(step, until, limit, cached=None):
        loss = math.nan
        while step < until:
            loss, g = batch_loss(cached)
            cached = None
            if not loss <= limit:  # also catches NaN
                return step, loss, True
            update(g, lr_at(step), step)
            step += 1
        return step, loss, False

    advance.fused = False
    return advance


def _updater(optimizer, hp, opt, w):
    """update(grad, lr, step), in place on w: optimizers.make_updater, else the optimizer's own update."""
    update = make_updater(optimizer, hp, w)
    if update is not None:
        return update
    state = opt.init(w)

    def update(g, lr, step):  # the optimizer's own schedule gives lr
        nonlocal state
        _, state = opt.update(g, state, w)

    return update


GATHER_BYTES = 512 << 10  # small batches: [X, 1] rows gathered at once, in bytes (a chunk stays in L2; wide
# data gather fewer rows, so the buffer and np.take's temporary stay this small): 2,016 rows at D = 64, float32


def gather_rows(X: np.ndarray, gather_bytes: int | None = None) -> int:
    """Rows of X gathered at once for small batches (loop._Gathered), `gather_bytes` (default GATHER_BYTES) of them."""
    size = GATHER_BYTES if gather_bytes is None else gather_bytes
    return max(1, size // ((X.shape[1] + 1) * X.dtype.itemsize))


class _Gathered:
    """The sampler's batches, drawn (BatchSampler.next_chunk: same rng calls and order as next()) and
    gathered `gather_rows(X)` rows at a time into [X, 1], whose ones column carries the bias (kernels'
    ones_column): per step, one view instead of a sampler call and two gathers, and the kernel saves two
    calls. np.take into the strided X part buffers through a temporary of the chunk's size.
    flat: the labels come as the softmax kernel's flat indices (kernels' flat_labels), a chunk at a time."""

    def __init__(self, X, y, sampler: BatchSampler, flat: bool = False, gather_bytes: int | None = None):
        B, D = sampler.batch_size, X.shape[1]
        self.X, self.y, self.sampler, self.B, self.D, self.flat = X, y, sampler, B, D, flat
        self.K = max(1, gather_rows(X, gather_bytes) // B)  # steps per chunk
        self.X1 = np.empty((self.K * B, D + 1), X.dtype)
        self.X1[:, D] = 1
        self.yc = np.empty(self.K * B, np.intp if flat else y.dtype)
        self.offset = np.tile(np.arange(B), self.K) if flat else None  # row i of a batch: + i
        self.idx = np.empty(self.K * B, np.intp) if sampler.sampling == "replacement" else None
        self.whole = [(self.X1[j * B:(j + 1) * B], self.yc[j * B:(j + 1) * B]) for j in range(self.K)]
        self.views, self.pos = [], 0

    def next(self):
        """(X1 (b, D + 1), y (b,)) of the next batch: views, valid until the chunk is used up."""
        if self.pos == len(self.views):
            idx, steps, last = self.sampler.next_chunk(self.K, self.idx)
            rows = len(idx)
            self.X.take(idx, axis=0, out=self.X1[:rows, :self.D], mode="clip")
            yc = self.yc[:rows]
            self.y.take(idx, out=yc, mode="clip")
            if self.flat:  # y * b + i, b the batch's rows
                np.multiply(yc, self.B, out=yc)
                np.add(yc, self.offset[:rows], out=yc)
            self.views, self.pos = self.whole[:steps], 0
            if last != self.B:  # an epoch's partial last batch
                part = self.yc[rows - last:rows]
                if self.flat:  # y * last + i instead
                    self.y.take(idx[rows - last:], out=part, mode="clip")
                    np.multiply(part, last, out=part)
                    np.add(part, self.offset[:last], out=part)
                self.views = self.views[:-1] + [(self.X1[rows - last:rows], part)]
        self.pos += 1
        return self.views[self.pos - 1]
