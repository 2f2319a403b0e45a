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
    """bind_evaluation for softmax: _bind_softmax's steps on the rows of both sets (train first; the validation
    set may be empty); the gradient's on the s train rows."""
    D, C = problem.n_features, problem.n_classes
    s, n = len(yt), len(yt) + len(yv)
    y = np.concatenate([yt, yv])
    Wb, gWb = w.reshape(D + 1, C), grad.reshape(D + 1, C)  # [W; b]: w's layout is W (D, C) then b (C,)
    X1 = np.empty((n, D + 1), w.dtype)  # [Xt, 1; Xv, 1]
    X1[:s, :D], X1[s:, :D], X1[:, D] = Xt, Xv, 1
    X1t = X1[:s].T
    st = np.empty((C, n), w.dtype)
    stf, st_t = st.reshape(-1), st[:, :s]  # flat; the train rows' (C, s) block
    mx, sm, pk = (np.empty(n, w.dtype) for _ in range(3))
    sm_t = sm[:s]
    fl = np.asarray(y, np.intp) * n + np.arange(n)  # flat index of each row's correct class in st
    fl_t = fl[:s]
    penalty, add_reg = _penalty_terms(problem, Wb[:D], gWb[:D])
    top = np.empty(n, bool)

    def evaluate():
        np.matmul(Wb.T, X1.T, out=st)
        np.maximum.reduce(st, axis=0, out=mx)
        np.subtract(st, mx, out=st)
        stf.take(fl, out=pk, mode="clip")
        if C * n - np.count_nonzero(st) == n:  # n zeros, one maximum per row (a NaN row has none): predict's argmax
            # is the correct class iff pk == 0 (zeros counted from st itself: no (C, n) comparison pass)
            np.equal(pk, 0, out=top)
            hits, vhits = int(np.count_nonzero(top[:s])), int(np.count_nonzero(top[s:]))
        else:
            hits, vhits = _softmax_hits(st_t, pk[:s], y[:s]), _softmax_hits(st[:, s:], pk[s:], y[s:])
        np.exp(st, out=st)
        np.add.reduce(st, axis=0, out=sm)
        np.log(sm, out=mx)
        np.subtract(mx, pk, out=mx)  # each row's loss
        loss = float(np.add.reduce(mx[:s])) / s  # pairwise sums
        vloss = float(np.add.reduce(mx[s:])) / (n - s) if n > s else math.nan
        np.divide(1 / s, sm_t, out=sm_t)
        np.multiply(st_t, sm_t, out=st_t)  # softmax / s on the train rows
        stf[fl_t] -= 1 / s
        np.matmul(X1t, st_t.T, out=gWb)
        add_reg()
        pen = penalty()
        return loss + pen, hits, vloss + pen, vhits

    return evaluate
