"""The checkpoint's metrics: the train and validation evaluation sets measured in one call.

`bind_evaluation(problem, w, grad, X, y, n_train)` returns `f() -> (train loss, hits, val loss, hits)` on fixed
sets stacked as one array (runner.Evaluator's subsamples, or the whole sets when small), with the train loss's
gradient written into `grad`. Equal to `problem.loss_and_grad` / `problem.predict` to float rounding
(tests/test_fast_paths.py).
"""

from __future__ import annotations

import math

import numpy as np

from .kernels import _penalty_terms, _softmax_hits, bind_gradient
from .problems import Problem, Softmax


def bind_evaluation(problem: Problem, w: np.ndarray, grad: np.ndarray, X: np.ndarray, y: np.ndarray, n_train: int):
    """f() -> (train loss, train hits, val loss, val hits) at `w` on fixed evaluation sets stacked as one
    array, X (n_train + n_val, D) and y, train rows first (val loss NaN when n_val = 0); writes the gradient of
    the train loss into `grad`. Hits are rows classified as `problem.predict` would (0 for regression).

    Softmax takes both sets through one pass, with the bias riding in the products as a ones column of a
    private copy of X and the correct-class indices drawn once: kernel-call overhead, ~20 NumPy calls, is
    most of a checkpoint on the 256 + 256 rows of a large set's subsamples. The others run the bound kernel
    (bind_gradient) on each part."""
    n_val = len(y) - n_train
    if type(problem) is Softmax and n_val:
        return _bind_softmax_eval(problem, w, grad, X, y, n_train)
    train = bind_gradient(problem, w, grad, max(1, n_train), count_correct=True)
    val = bind_gradient(problem, w, np.empty_like(w), n_val, count_correct=True, want_grad=False) if n_val else None
    (Xt, yt), (Xv, yv) = (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:])

    def evaluate():
        loss, hits = train(Xt, yt)
        vloss, vhits = val(Xv, yv) if val is not None else (math.nan, 0)
        return loss, hits, vloss, vhits

    return evaluate


def _bind_softmax_eval(problem, w, grad, X, y, s):
    """bind_evaluation for softmax: _bind_softmax's steps on all rows; the gradient's on the first s."""
    D, C = problem.n_features, problem.n_classes
    n = len(y)
    Wb, gWb = w.reshape(D + 1, C), grad.reshape(D + 1, C)  # [W; b]: w's layout is W (D, C) then b (C,)
    X1 = np.empty((n, D + 1), w.dtype)  # [X, 1]
    X1[:, :D], X1[:, D] = X, 1
    X1t = X1[:s].T
    st = np.empty((C, n), w.dtype)
    stf, st_t = st.reshape(-1), st[:, :s]  # flat; the train rows' (C, s) block
    mx, sm, pk = (np.empty(n, w.dtype) for _ in range(3))
    sm_t = sm[:s]
    fl = np.asarray(y, np.intp) * n + np.arange(n)  # flat index of each row's correct class in st
    fl_t = fl[:s]
    penalty, add_reg = _penalty_terms(problem, Wb[:D], gWb[:D])
    ties, top = np.empty((C, n), bool), np.empty(n, bool)

    def evaluate():
        np.matmul(Wb.T, X1.T, out=st)
        np.maximum.reduce(st, axis=0, out=mx)
        np.subtract(st, mx, out=st)
        stf.take(fl, out=pk, mode="clip")
        np.equal(st, 0, out=ties)
        if np.count_nonzero(ties) == n:  # one maximum per row: predict's argmax is the correct class iff pk == 0
            np.equal(pk, 0, out=top)
            hits, vhits = int(np.count_nonzero(top[:s])), int(np.count_nonzero(top[s:]))
        else:
            hits, vhits = _softmax_hits(st_t, pk[:s], y[:s]), _softmax_hits(st[:, s:], pk[s:], y[s:])
        np.exp(st, out=st)
        np.add.reduce(st, axis=0, out=sm)
        np.log(sm, out=mx)
        np.subtract(mx, pk, out=mx)  # each row's loss
        loss, vloss = float(np.add.reduce(mx[:s])) / s, float(np.add.reduce(mx[s:])) / (n - s)  # pairwise sums
        np.divide(1 / s, sm_t, out=sm_t)
        np.multiply(st_t, sm_t, out=st_t)  # softmax / s on the train rows
        stf[fl_t] -= 1 / s
        np.matmul(X1t, st_t.T, out=gWb)
        add_reg()
        pen = penalty()
        return loss + pen, hits, vloss + pen, vhits

    return evaluate
