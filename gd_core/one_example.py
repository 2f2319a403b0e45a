"""B = 1 plain SGD on a linear model: loss, gradient and update of one row fused, a few NumPy calls per row.

`one_example_sgd(problem, w, X, y)` returns `run(rows, step, lr_at, limit)` for least squares, logistic and
softmax (None for other problems); the runner uses it for B = 1 with plain SGD (loop.py). At B = 1 each NumPy
call (~1-1.5 us here) costs more than its arithmetic, so the paths minimise calls:

- least squares / logistic: one dot product, scalar math in Python, one scaled-row update;
- softmax without L2: *lazy updates* over blocks of LAZY_BLOCK rows. Inside a block, W is not touched: with
  a_k = lr_k (p_k - onehot_k) the update of row k, row t's scores are
  x_t W_t = x_t W_0 - sum_{k<t} (x_t . x_k) a_k, from the block's products X W_0 and X X^T (two BLAS calls per
  block) and one (K,) @ (K, C) product per row; the C = 10 softmax is scalar Python; W gets the block's
  updates in one product, W -= X^T A, at the block's end. Equal to the row-by-row update up to float
  rounding (the sums are associated differently); tests/test_fast_paths.py checks it against the generic step.
- softmax with L2: the row-by-row update (the decay of W would have to be carried through the block).
"""

from __future__ import annotations

import math

import numpy as np

from .problems import LeastSquares, Logistic, Problem, Softmax

LAZY_BLOCK = 64  # rows per lazy block: the (K, K) Gram matrix and the (K,) @ (K, C) per-row product stay tiny


def one_example_sgd(problem: Problem, w: np.ndarray, X: np.ndarray, y: np.ndarray):
    """run(rows, step, lr_at, limit) -> (steps done, last loss, diverged) for a linear model, else None.

    Applies `w -= lr_at(step) * grad(row)` for each row index in `rows` (a list of ints), stopping before
    the update of a row whose loss is not <= limit (divergence; that loss is returned). `w` is updated in
    place. The gradient includes the L2 term: `W -= lr * (g + reg W)` as `W *= 1 - lr reg; W -= lr g`.
    """
    kind = type(problem)
    D, reg = problem.n_features, problem.reg
    if kind is LeastSquares or kind is Logistic:
        W, bview = w[:D], w[D:]
        tmp = np.empty(D, w.dtype)
        logistic = kind is Logistic

        def run1d(rows, step, lr_at, limit):
            ys = y[rows].tolist()  # one gather for the chunk: python floats / ints
            loss, done = math.nan, 0
            b = float(bview[0])
            for i, yi in zip(rows, ys, strict=True):
                x = X[i]
                z = float(np.dot(x, W)) + b
                pen = 0.5 * reg * float(np.dot(W, W)) if reg else 0.0
                if logistic:
                    m = -z if yi else z  # -s z with s = 2y - 1
                    loss = (m if m > 0 else 0.0) + math.log1p(math.exp(-abs(m)))  # softplus(m), stable
                    sig = 1.0 / (1.0 + math.exp(-m)) if m > -700 else 0.0  # sigmoid(m) = dL/dm
                    e = -sig if yi else sig  # dL/dz = (1 - 2y) sigmoid(m)
                else:
                    e = z - yi
                    loss = 0.5 * e * e
                loss += pen
                if not loss <= limit:  # also catches NaN
                    bview[0] = b
                    return done, loss, True
                lr = lr_at(step + done)
                if reg:
                    np.multiply(W, 1.0 - lr * reg, out=W)
                np.multiply(x, lr * e, out=tmp)
                np.subtract(W, tmp, out=W)
                b -= lr * e
                done += 1
            bview[0] = b
            return done, loss, False

        return run1d
    if kind is Softmax and not reg:
        return _lazy_softmax(problem, w, X, y)
    if kind is Softmax:
        C = problem.n_classes
        W, bias = w[:D * C].reshape(D, C), w[D * C:]
        s = np.empty(C, w.dtype)
        G = np.empty((D, C), w.dtype)
        Wflat = w[:D * C]

        def run_softmax(rows, step, lr_at, limit):
            ys = y[rows].tolist()
            loss, done = math.nan, 0
            for i, yi in zip(rows, ys, strict=True):
                x = X[i]
                np.matmul(x, W, out=s)
                np.add(s, bias, out=s)
                np.subtract(s, np.maximum.reduce(s), out=s)
                correct = float(s[yi])
                np.exp(s, out=s)
                total = float(np.add.reduce(s))
                loss = math.log(total) - correct
                if reg:
                    loss += 0.5 * reg * float(np.dot(Wflat, Wflat))
                if not loss <= limit:
                    return done, loss, True
                lr = lr_at(step + done)
                np.multiply(s, lr / total, out=s)  # lr * softmax
                s[yi] -= lr  # lr * (softmax - onehot) = lr * dL/dscores
                if reg:
                    np.multiply(W, 1.0 - lr * reg, out=W)
                np.multiply.outer(x, s, out=G)
                np.subtract(W, G, out=W)
                np.subtract(bias, s, out=bias)
                done += 1
            return done, loss, False

        return run_softmax
    return None


def _lazy_softmax(problem, w, X, y):
    """The lazy-update B = 1 softmax loop (module docstring); reg must be 0."""
    D, C, K = problem.n_features, problem.n_classes, LAZY_BLOCK
    W, bias = w[:D * C].reshape(D, C), w[D * C:]
    dt = w.dtype
    Xk = np.empty((K, D), dt)  # the block's rows (zero past a short block's end)
    S0 = np.empty((K, C), dt)  # the block's scores at the block's starting W (no bias)
    gram = np.empty((K, K), dt)
    A = np.empty((K, C), dt)  # row k: lr_k (softmax_k - onehot_k), zero for rows not yet taken
    corr = np.empty(C, dt)
    G = np.empty((D, C), dt)
    gram_rows = list(gram)  # row views, made once
    matmul, exp, log = np.matmul, math.exp, math.log

    def flush(t, b):
        """Apply the block's first t updates to W, and the running bias b."""
        if t:
            matmul(Xk[:t].T, A[:t], out=G)
            np.subtract(W, G, out=W)
        bias[:] = b

    def run(rows, step, lr_at, limit):
        ys = y[rows].tolist()
        loss, done = math.nan, 0
        b = bias.tolist()  # python floats inside the block
        for c0 in range(0, len(rows), K):
            k = min(K, len(rows) - c0)
            np.take(X, rows[c0:c0 + k], axis=0, out=Xk[:k], mode="clip")
            if k < K:
                Xk[k:] = 0
            matmul(Xk, W, out=S0)
            matmul(Xk, Xk.T, out=gram)
            A[:] = 0
            s0 = S0.tolist()
            for t in range(k):
                yi = ys[c0 + t]
                if t:
                    matmul(gram_rows[t], A, out=corr)  # sum_k (x_t . x_k) a_k; rows >= t of A are 0
                    z = [s - c + bb for s, c, bb in zip(s0[t], corr.tolist(), b, strict=True)]
                else:
                    z = [s + bb for s, bb in zip(s0[t], b, strict=True)]
                m = max(z)
                e = [exp(v - m) for v in z]
                total = sum(e)
                loss = log(total) - (z[yi] - m)
                if not loss <= limit:  # also catches NaN
                    flush(t, b)
                    return done, loss, True
                lr = lr_at(step + done)
                q = lr / total
                g = [v * q for v in e]
                g[yi] -= lr  # lr * (softmax - onehot)
                A[t] = g
                b = [bb - gg for bb, gg in zip(b, g, strict=True)]
                done += 1
            flush(k, b)
        return done, loss, False

    return run
