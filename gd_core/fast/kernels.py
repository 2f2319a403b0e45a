"""Per-step gradient kernels for the runner's hot loop: buffers allocated once, views bound once.

`bind_gradient(problem, w, grad, max_batch)` returns `f(X, y) -> loss` that writes the gradient of
`problem.loss_and_grad(w, X, y)` into `grad` (n_params,). The linear models get hand-written kernels
(every temporary preallocated, `out=` everywhere, reductions as direct ufunc calls: at small B each NumPy
call costs ~1-3 us and dominates, docs/PERFORMANCE.md); other problems fall back to `loss_and_grad(out=grad)`.
`w` and `grad` are bound by identity, so the caller must update `w` in place (the optimizers do).

The fused B = 1 plain-SGD loops are in `one_example.py`, the checkpoint's evaluation in `evaluation.py`, the
chunked full-batch step in `full_batch.py`. Every kernel equals the generic path to float rounding
(tests/fast/test_fast_paths.py).
"""

from __future__ import annotations

import numpy as np

from ..problems import LeastSquares, Logistic, Problem, Softmax


def bind_gradient(problem: Problem, w: np.ndarray, grad: np.ndarray, max_batch: int, *, count_correct=False,
                  want_grad=True, ones_column=False, flat_labels=False):
    """f(X (n, D), y (n,)) -> float loss, n <= max_batch; writes d loss / d w into `grad`.

    count_correct: f returns (loss, rows classified correctly as `problem.predict` would, from the same
    scores; 0 for regression) instead, for the checkpoint evaluator: no second forward pass.
    want_grad=False (with count_correct): the gradient may be skipped (`grad` then holds garbage).
    ones_column (linear models, `has_ones_kernel`): f takes X (n, D + 1) whose last column is all ones; the
    bias then rides in the products (`w` is laid out as [W, b], so w itself is [W; b]): two calls fewer.
    flat_labels (softmax, without count_correct): f takes, instead of y, each row's flat index in the (C, n)
    scores, `y * n + arange(n)`, drawn a chunk of batches at a time by the caller: two calls fewer."""
    kind = type(problem)
    if ones_column and not has_ones_kernel(problem):
        raise ValueError(f"no ones-column kernel for {kind.__name__}")
    if kind is LeastSquares or kind is Logistic:
        return _bind_linear1d(problem, w, grad, max_batch, count_correct, ones_column)
    if kind is Softmax:
        return _bind_softmax(problem, w, grad, max_batch, count_correct, want_grad or not count_correct, ones_column,
                             flat_labels)
    if flat_labels:
        raise ValueError(f"flat_labels is for softmax; got {kind.__name__}")

    def generic(X, y):
        return problem.loss_and_grad(w, X, y, out=grad)[0]

    def generic_counted(X, y):
        loss = problem.loss_and_grad(w, X, y, out=grad)[0] if want_grad else problem.loss(w, X, y)
        hits = int(np.count_nonzero(problem.predict(w, X) == y)) if problem.is_classifier else 0
        return loss, hits

    return generic_counted if count_correct else generic


LINEAR_MODELS = (LeastSquares, Logistic, Softmax)  # the problems with hand-written kernels


def has_ones_kernel(problem: Problem) -> bool:
    """True where bind_gradient(..., ones_column=True) applies: the linear models."""
    return type(problem) in LINEAR_MODELS


def penalty_terms(problem, W, gW):
    """(penalty() -> float, add_to_grad()) for the L2 term on the weight view W; no-ops without reg."""
    reg = problem.reg
    if not reg:
        return (lambda: 0.0), (lambda: None)
    tmp = np.empty_like(W)

    def penalty():
        return 0.5 * reg * float(np.dot(W.ravel(), W.ravel()))

    def add_to_grad():
        np.multiply(W, reg, out=tmp)
        np.add(gW, tmp, out=gW)  # ufunc form: an augmented assignment would rebind the closure name

    return penalty, add_to_grad


def _bind_linear1d(problem, w, grad, max_batch, count_correct=False, ones_column=False):
    D = problem.n_features
    W, b = w[:D], w[D:]  # (D,), (1,) views
    gW, gb = grad[:D], grad[D:]
    Wf, gWf = (w, grad) if ones_column else (W, gW)  # what the products see: [W, b] against [X, 1], or W
    dt = w.dtype
    rbuf = np.empty(max_batch, dt)  # residuals (least squares) / dL/dz (logistic)
    penalty, add_reg = penalty_terms(problem, W, gW)
    logistic = type(problem) is Logistic
    if logistic:
        mbuf, sbuf, gbuf = (np.empty(max_batch, w.dtype) for _ in range(3))

    def least_squares(X, y):
        n = len(y)
        r = rbuf if n == max_batch else rbuf[:n]
        np.matmul(X, Wf, out=r)
        if not ones_column:
            r += b
        r -= y
        loss = float(np.dot(r, r)) / (2 * n)
        r *= 1 / n
        # X^T r / n as r @ X (C-contiguous X). np.dot: np.matmul keeps the GIL here (docs/DESIGN.md); np.dot wants
        # `out` in the product's dtype, so data of another dtype than w takes np.matmul (it casts)
        (np.dot if X.dtype == dt else np.matmul)(r, X, out=gWf)
        if not ones_column:
            np.add.reduce(r, keepdims=True, out=gb)
        add_reg()
        return (loss + penalty(), 0) if count_correct else loss + penalty()

    def logistic_loss(X, y):
        n = len(y)
        z, m, sp = (rbuf, mbuf, sbuf) if n == max_batch else (rbuf[:n], mbuf[:n], sbuf[:n])
        np.matmul(X, Wf, out=z)
        if not ones_column:
            z += b
        if count_correct:
            hits = int(np.count_nonzero((z > 0) == y))  # Logistic.predict: z > 0
        sign = gbuf if n == max_batch else gbuf[:n]
        np.multiply(y, -2, out=sign, casting="unsafe")
        sign += 1  # 1 - 2y = -s with s = 2y - 1 the label's sign
        np.multiply(z, sign, out=m)  # m = -s z
        np.logaddexp(0, m, out=sp)  # softplus(m): the per-row loss
        loss = float(np.add.reduce(sp)) / n
        np.subtract(m, sp, out=m)
        with np.errstate(under="ignore"):
            np.exp(m, out=m)  # sigmoid(m) = exp(m - softplus(m)) <= 1
        np.multiply(m, sign, out=z)
        z *= 1 / n
        (np.dot if X.dtype == dt else np.matmul)(z, X, out=gWf)  # as least_squares
        if not ones_column:
            np.add.reduce(z, keepdims=True, out=gb)
        add_reg()
        return (loss + penalty(), hits) if count_correct else loss + penalty()

    return logistic_loss if logistic else least_squares


def softmax_hits(st, picked, y) -> int:
    """Rows whose correct class is predict's argmax, from max-subtracted scores (C, n): the correct-class
    score is the maximum (picked == 0) and, unless some row ties for its maximum, that is the argmax."""
    n = len(y)
    if np.count_nonzero(st == 0) == n:  # one maximum per row (NaN rows have none and take the fallback)
        return int(np.count_nonzero(picked == 0))
    return int(np.count_nonzero(np.argmax(st, axis=0) == y))  # ties: argmax takes the first maximum


def _bind_softmax(problem, w, grad, max_batch, count_correct=False, want_grad=True, ones_column=False,
                  flat_labels=False):
    """Scores are kept transposed, (C, n): the per-row max, sum and scaling then run along long contiguous
    rows instead of n short rows of C (numpy's inner loops over C = 10 elements cost ~25% of a B = 256 step).

    One function (just over 60 lines) on purpose: its closures bind every buffer once, so a step reads locals."""
    if flat_labels and count_correct:
        raise ValueError("flat_labels cannot count correct rows (that needs the labels)")
    D, C = problem.n_features, problem.n_classes
    W, b = w[:D * C].reshape(D, C), w[D * C:]
    gW, gb = grad[:D * C].reshape(D, C), grad[D * C:]
    Wf, gWf = (w.reshape(D + 1, C), grad.reshape(D + 1, C)) if ones_column else (W, gW)  # [W; b] or W
    b_col = b[:, None]  # (C, 1) view
    ST = np.empty((C, max_batch), w.dtype)  # scores -> probabilities -> dL/dscores, transposed
    row = np.empty((3, max_batch), w.dtype)  # column max, column sum, log-sum
    cols = np.arange(max_batch)
    flat = np.empty(max_batch, np.intp)  # flat index of each example's correct class in ST
    picked = np.empty(max_batch, w.dtype)
    penalty, add_reg = penalty_terms(problem, W, gW)
    views = {}

    def bufs(n):
        if n not in views:
            st = ST if n == max_batch else np.empty((C, n), w.dtype)  # partial batch: its own (C, n) block
            views[n] = (st, st.reshape(-1), row[0, :n], row[1, :n], row[2, :n], flat[:n], picked[:n], cols[:n])
        return views[n]

    whole = bufs(max_batch)

    def softmax(X, y):
        n = len(y)
        st, stf, mx, sm, lg, fl, pk, cl = whole if n == max_batch else bufs(n)
        np.matmul(Wf.T, X.T, out=st)  # (C, n)
        if not ones_column:
            np.add(st, b_col, out=st)
        np.maximum.reduce(st, axis=0, out=mx)
        np.subtract(st, mx, out=st)
        if flat_labels:
            fl = y
        else:
            np.multiply(y, n, out=fl)
            np.add(fl, cl, out=fl)  # flat index y_i * n + i
        stf.take(fl, out=pk, mode="clip")  # correct-class scores, before exp overwrites them (the method:
        # np.take adds ~1.5 us of wrapper a call)
        if count_correct:
            hits = softmax_hits(st, pk, y)
        np.exp(st, out=st)
        np.add.reduce(st, axis=0, out=sm)
        np.log(sm, out=lg)
        np.subtract(lg, pk, out=lg)  # each row's loss
        loss = float(np.add.reduce(lg)) / n
        if want_grad is False:
            return loss + penalty(), hits
        np.divide(1 / n, sm, out=sm)
        np.multiply(st, sm, out=st)  # softmax / n
        stf[fl] -= 1 / n  # minus onehot / n
        np.matmul(X.T, st.T, out=gWf)
        if not ones_column:
            np.add.reduce(st, axis=1, out=gb)
        add_reg()
        return (loss + penalty(), hits) if count_correct else loss + penalty()

    return softmax
