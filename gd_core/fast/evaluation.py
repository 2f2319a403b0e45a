"""The checkpoint's metrics: the train and validation evaluation sets measured in one call.

`bind_evaluation(problem, w, grad, X, y, n_train)` returns `f() -> (train loss, hits, val loss, hits)` on fixed
sets stacked as one array (checkpoints.Evaluator's subsamples, or the whole sets when small), with the train loss's
gradient written into `grad`. Equal to `problem.loss_and_grad` / `problem.predict` to float rounding
(tests/fast/test_fast_paths.py).
"""

from __future__ import annotations

import math

import numpy as np

from ..problems import Problem, Softmax
from .kernels import bind_gradient, softmax_hits


def bind_evaluation(problem: Problem, w: np.ndarray, grad: np.ndarray, Xt: np.ndarray, yt: np.ndarray,
                    Xv: np.ndarray, yv: np.ndarray):
    """f() -> (train loss, train hits, val loss, val hits) at `w` on the fixed evaluation sets (Xt, yt) and
    (Xv, yv) (val loss NaN when the validation set is empty); writes the gradient of the train loss into
    `grad`. Hits are rows classified as `problem.predict` would (0 for regression).

    Softmax takes both sets through one pass, over a private `[X, 1]` copy of the two (the bias rides in the
    products) with the correct-class indices drawn once: kernel-call overhead, ~20 NumPy calls, is most of a
    checkpoint on the 256 + 256 rows of a large set's subsamples. The others run the bound kernel
    (bind_gradient) on each set as it is."""
    n_train, n_val = len(yt), len(yv)
    if type(problem) is Softmax and n_train:
        return _bind_softmax_eval(problem, w, grad, Xt, yt, Xv, yv)
    train = bind_gradient(problem, w, grad, max(1, n_train), count_correct=True)
    val = bind_gradient(problem, w, np.empty_like(w), n_val, count_correct=True, want_grad=False) if n_val else None

    def evaluate():
        loss, hits = train(Xt, yt)
        vloss, vhits = val(Xv, yv) if val is not None else (math.nan, 0)
        return loss, hits, vloss, vhits

    return evaluate


def _bind_softmax_eval(problem, w, grad, Xt, yt, Xv, yv):
    """bind_evaluation for softmax: the one-slot case of _softmax_slots, on w and grad themselves."""
    D, C = problem.n_features, problem.n_classes
    f = _softmax_slots(problem, 1, w.reshape(D + 1, C), grad.reshape(D + 1, C), Xt, yt, Xv, yv)

    def evaluate():
        loss, hits, vloss, vhits = f()
        return float(loss[0]), int(hits[0]), float(vloss[0]), int(vhits[0])

    return evaluate


def bind_pooled_evaluation(problem: Problem, k: int, dtype, Xt, yt, Xv, yv):
    """(load(j, w), f() -> (train losses, train hits, val losses, val hits, gradient norms), one entry per slot):
    k weight vectors measured in one pass, as bind_evaluation measures one. On a small evaluation set most of a
    checkpoint is per-call overhead (~20 NumPy calls; twice as slow right after a training step has emptied the
    caches), which k checkpoints then share. Softmax only (`pools(problem)`)."""
    D, C = problem.n_features, problem.n_classes
    Wa, Ga = np.zeros((D + 1, k * C), dtype), np.empty((D + 1, k * C), dtype)  # slot j: columns j*C:(j+1)*C
    f = _softmax_slots(problem, k, Wa, Ga, Xt, yt, Xv, yv)
    sq = np.empty_like(Ga)

    def load(j, w):
        Wa[:, j * C:(j + 1) * C] = w.reshape(D + 1, C)

    def evaluate():
        loss, hits, vloss, vhits = f()
        np.multiply(Ga, Ga, out=sq)
        norms = np.sqrt(np.add.reduce(sq.reshape(D + 1, k, C), axis=(0, 2)))
        return loss, hits, vloss, vhits, norms

    return load, evaluate


def pools(problem: Problem) -> bool:
    """Whether bind_pooled_evaluation measures this problem."""
    return type(problem) is Softmax


def _softmax_slots(problem, k, Wa, Ga, Xt, yt, Xv, yv):
    """f() -> per-slot (train loss, train hits, val loss, val hits) of the k weight slots of Wa ((D + 1, k C),
    slot j's [W; b] in columns j C..(j + 1) C; w's layout is W (D, C) then b (C,)), with each slot's train-loss
    gradient written into the same columns of Ga. Both sets go through one pass over a private `[X, 1]` copy
    (train rows first; the validation set may be empty); scores are kept as (k C, n), so per-row max and sums
    run along long contiguous rows; the correct-class indices are drawn once."""
    D, C = problem.n_features, problem.n_classes
    s, n = len(yt), len(yt) + len(yv)
    dt = Wa.dtype
    y = np.concatenate([yt, yv])
    X1 = np.empty((n, D + 1), dt)  # [Xt, 1; Xv, 1]
    X1[:s, :D], X1[s:, :D], X1[:, D] = Xt, Xv, 1
    X1t = X1[:s].T
    st = np.empty((k * C, n), dt)
    st3, stf, st_t = st.reshape(k, C, n), st.reshape(-1), st[:, :s]  # per slot; flat; the train rows
    mx, sm, pk = (np.empty((k, n), dt) for _ in range(3))
    sm_t = sm[:, :s]
    fl = (np.arange(k)[:, None] * C + np.asarray(y, np.intp)) * n + np.arange(n)  # each row's correct class in st
    fl_t = fl[:, :s]
    top = np.empty((k, n), bool)
    reg, W, G = problem.reg, Wa[:D], Ga[:D]
    sq = np.empty_like(W) if reg else None

    def evaluate():
        np.matmul(Wa.T, X1.T, out=st)
        np.maximum.reduce(st3, axis=1, out=mx)
        np.subtract(st3, mx[:, None], out=st3)
        stf.take(fl, out=pk, mode="clip")
        if k * C * n - np.count_nonzero(st) == k * n:  # one zero, the maximum, per row (a NaN row has none):
            # predict's argmax is the correct class iff pk == 0 (zeros counted from st: no (k C, n) comparison)
            np.equal(pk, 0, out=top)
            hits, vhits = np.add.reduce(top[:, :s], axis=1), np.add.reduce(top[:, s:], axis=1)
        else:
            hits = [softmax_hits(st3[j, :, :s], pk[j, :s], y[:s]) for j in range(k)]
            vhits = [softmax_hits(st3[j, :, s:], pk[j, s:], y[s:]) for j in range(k)]
        np.exp(st, out=st)
        np.add.reduce(st3, axis=1, out=sm)
        np.log(sm, out=mx)
        np.subtract(mx, pk, out=mx)  # each row's loss
        loss = np.add.reduce(mx[:, :s], axis=1).astype(float) / s  # pairwise sums; the mean in float64
        vloss = np.add.reduce(mx[:, s:], axis=1).astype(float) / (n - s) if n > s else np.full(k, math.nan)
        np.divide(1 / s, sm_t, out=sm_t)
        np.multiply(st3[:, :, :s], sm_t[:, None], out=st3[:, :, :s])  # softmax / s on the train rows
        stf[fl_t] -= 1 / s
        np.matmul(X1t, st_t.T, out=Ga)
        if reg:
            np.multiply(W, W, out=sq)
            pen = 0.5 * reg * np.add.reduce(sq.reshape(D, k, C), axis=(0, 2)).astype(float)
            np.multiply(W, reg, out=sq)
            np.add(G, sq, out=G)
            loss, vloss = loss + pen, vloss + pen
        return loss, hits, vloss, vhits

    return evaluate
