"""Full batch on a large set: row chunks that stay in cache, over a few Python threads.

`bind_full_gradient(problem, w, grad, n, pool, threads)` returns `f(X, y) -> loss` over all n rows, the
gradient written into `grad`, bit-identical for any thread count and equal to `loss_and_grad` to float
rounding (tests/fast/test_fast_paths.py). loop.make_advance uses it for full batches of FULL_CHUNKED_MIN rows or
more (fast.dispatch.FULL_CHUNKED).
"""

from __future__ import annotations

import copy
import math

import numpy as np

from ..problems import Problem
from .kernels import LINEAR_MODELS, bind_gradient, penalty_terms

FULL_CHUNK = 16_384  # rows per chunk: the (C, chunk) scores and the chunk of X stay in cache (docs/PERFORMANCE.md)


def bind_full_gradient(problem: Problem, w: np.ndarray, grad: np.ndarray, n: int, pool=None, threads: int = 1,
                       chunk: int | None = None):
    """f(X (n, D), y (n,)) -> float loss over a whole (large) set of n rows; writes d loss / d w into `grad`.

    The rows go through the bound kernel (`bind_gradient`, without the L2 term) `chunk` (default FULL_CHUNK)
    at a time; thread t of `threads` takes chunks t, t + threads, ... on `pool` (a concurrent.futures executor
    the caller owns and shuts down; None runs them in the calling thread). Each chunk's result, weighted by
    its share of the rows, goes to its own slot and the slots are summed in chunk order: the result does not
    depend on the number of threads (bit for bit) and equals `loss_and_grad` to float rounding.
    The caller should limit BLAS to 1 thread: each worker's products are small and cache-resident.
    """
    if type(problem) not in LINEAR_MODELS:
        raise ValueError(f"no chunked full-batch kernel for {type(problem).__name__}")
    threads = max(1, int(threads)) if pool is not None else 1
    chunk = chunk or FULL_CHUNK
    data_only = copy.copy(problem)
    data_only.reg = 0.0
    n_chunks = -(-n // chunk)
    slots = np.empty((n_chunks, w.size), w.dtype)  # chunk k's gradient times its share of the rows
    losses = [0.0] * n_chunks
    kernels = []
    for _ in range(threads):
        g = np.empty_like(w)
        kernels.append((bind_gradient(data_only, w, g, chunk), g))
    sl = problem.weight_slices[0]
    penalty, add_reg = penalty_terms(problem, w[sl], grad[sl])

    def part(t, X, y):
        kernel, g = kernels[t]
        for k in range(t, n_chunks, threads):
            i = k * chunk
            Xc, yc = X[i:i + chunk], y[i:i + chunk]
            share = len(yc) / n
            losses[k] = kernel(Xc, yc) * share  # kernel: mean over the chunk
            np.multiply(g, share, out=slots[k])

    def full(X, y):
        if len(y) != n:
            raise ValueError(f"bound to {n} rows; got {len(y)}")
        if threads == 1:
            part(0, X, y)
        else:
            for f in [pool.submit(part, t, X, y) for t in range(threads)]:
                f.result()
        np.add.reduce(slots, axis=0, out=grad)
        add_reg()
        return math.fsum(losses) + penalty()

    return full
