"""B = 1 plain SGD on a linear model: loss, gradient and update of one row fused, a few NumPy calls per row.

`one_example_sgd(problem, w, X, y)` returns `run(rows, step, lr_at, limit)` for least squares, logistic and
softmax (None for other problems); the runner uses it for B = 1 with plain SGD (loop.py). At B = 1 each NumPy
call (~1-1.5 us here) costs more than its arithmetic, so the paths minimise calls:

- without L2: *lazy updates* over blocks of LAZY_BLOCK rows. Inside a block, W is not touched: with
  a_k = lr_k dL/dz_k the update of row k (z: the row's C scores, C = 1 for least squares and logistic),
  row t's scores are x_t W_t + b_t = x_t W_0 + b_0 - sum_{k<t} (x_t . x_k + 1) a_k, from the block's products
  X W_0 and X X^T (two BLAS calls per block) and one (K,) @ (K, C) product per row; the loss and dL/dz of the C
  scores are scalar Python (`HEADS`); W gets the block's updates in one product, W -= X^T A, at the block's
  end. Equal to the row-by-row update up to float rounding (the sums are associated differently);
  tests/fast/test_fast_paths.py checks it against the generic step.
  `stacked_window.OneExampleWindow` is the same algebra for many runs at once (vectorised over runs); here,
  for one run, the C scores of a row are few enough that scalar Python costs fewer calls than NumPy.
- with L2: row by row (the decay of W would have to be carried through the block): one product for the
  scores, the same scalar head, and the decayed rank-one update.
"""

from __future__ import annotations

import math
import struct

import numpy as np

from ..problems import LeastSquares, Logistic, Problem, Softmax

_STRUCT_FORMATS = {np.dtype(np.float32): "f", np.dtype(np.float64): "d"}  # the lazy loop's row store
LAZY_BLOCK = 64  # rows per lazy block: the (K, K) Gram matrix and the (K,) @ (K, C) per-row product stay tiny


def one_example_sgd(problem: Problem, w: np.ndarray, X: np.ndarray, y: np.ndarray):
    """run(rows, step, lr_at, limit) -> (steps done, last loss, diverged) for a linear model, else None.

    Applies `w -= lr_at(step) * grad(row)` for each row index in `rows` (a list of ints), stopping before
    the update of a row whose loss is not <= limit (divergence; that loss is returned). `w` is updated in
    place. The gradient includes the L2 term: `W -= lr * (g + reg W)` as `W *= 1 - lr reg; W -= lr g`.
    """
    if type(problem) not in HEADS or w.dtype not in _STRUCT_FORMATS:  # other dtypes: the generic per-step path
        return None
    return _lazy(problem, w, X, y) if not problem.reg else _row_by_row(problem, w, X, y)


def _softmax_head(z, yi, lr):
    """(loss, lr * dL/dz) of one row's softmax cross-entropy, in Python floats (C is small).

    exp without the max shift (~0.4 us a row less): in float64 that loses nothing while the sum of the exps
    stays well inside the normal range; outside it (scores over ~640 or all under ~-640: a diverging run),
    or where exp overflows, the row takes the shifted form."""
    try:
        e = list(map(_exp, z))
    except OverflowError:
        return _softmax_head_shifted(z, yi, lr)
    total = sum(e)
    if not 1e-280 < total < 1e280:  # near sub-normal or overflow (where lr / total loses digits), or NaN
        return _softmax_head_shifted(z, yi, lr)
    g = list(map((lr / total).__mul__, e))
    g[yi] -= lr  # lr * (softmax - onehot)
    return math.log(total) - z[yi], g


def _softmax_head_shifted(z, yi, lr):
    """_softmax_head with the max shift: large or very negative scores (a diverging run)."""
    m = max(z)
    e = [math.exp(v - m) for v in z]
    total = sum(e)
    q = lr / total
    g = [v * q for v in e]
    g[yi] -= lr
    return math.log(total) - (z[yi] - m), g


_exp = math.exp


def _least_squares_head(z, yi, lr):
    """(loss, lr * dL/dz) of one row of a one-output model, z a float."""
    e = z - yi
    return 0.5 * e * e, lr * e


def _logistic_head(z, yi, lr):
    m = -z if yi else z  # -s z with s = 2y - 1
    loss = (m if m > 0 else 0.0) + math.log1p(math.exp(-abs(m)))  # softplus(m), stable
    sig = 1.0 / (1.0 + math.exp(-m)) if m > -700 else 0.0  # sigmoid(m) = dL/dm
    return loss, (-lr * sig if yi else lr * sig)  # lr dL/dz = lr (1 - 2y) sigmoid(m)


def _listed(head1):
    """A one-output head on lists of one score, like the softmax head."""
    def head(z, yi, lr):
        loss, g = head1(z[0], yi, lr)
        return loss, [g]

    return head


SCALAR_HEADS = {LeastSquares: _least_squares_head, Logistic: _logistic_head}
HEADS = {Softmax: _softmax_head, LeastSquares: _listed(_least_squares_head), Logistic: _listed(_logistic_head)}


def _row_by_row(problem, w, X, y):
    """One row at a time, W updated every row: the path with an L2 term (the decay of W changes every row)."""
    D, reg, head = problem.n_features, problem.reg, HEADS[type(problem)]
    C = problem.n_classes if type(problem) is Softmax else 1
    W, bias, Wflat = w[:D * C].reshape(D, C), w[D * C:], w[:D * C]
    s, g_row, G = np.empty(C, w.dtype), np.empty(C, w.dtype), np.empty((D, C), w.dtype)

    def run(rows, step, lr_at, limit):
        ys = y[rows].tolist()
        loss, done = math.nan, 0
        b = bias.tolist()
        try:
            for i, yi in zip(rows, ys, strict=True):
                x = X[i]
                np.matmul(x, W, out=s)
                lr = lr_at(step + done)
                loss, g = head([v + bb for v, bb in zip(s.tolist(), b, strict=True)], yi, lr)
                loss += 0.5 * reg * float(np.dot(Wflat, Wflat))
                if not loss <= limit:  # also catches NaN
                    return done, loss, True
                np.multiply(W, 1.0 - lr * reg, out=W)
                g_row[:] = g
                np.multiply.outer(x, g_row, out=G)
                np.subtract(W, G, out=W)
                b = [bb - gg for bb, gg in zip(b, g, strict=True)]
                done += 1
            return done, loss, False
        finally:
            bias[:] = b

    return run


def _lazy(problem, w, X, y):
    """The lazy-update B = 1 loop (module docstring) of a linear model without L2 (problem.reg == 0).

    Row t's scores come out of one product, `R[t] @ M`, with `M = [A; S0]` (the block's updates so far, zero
    from row t on, over its base scores x W_0 + b_0) and `R = [-(X X^T + 1), I]`: the +1 is the bias's
    feature, and the identity picks row t's base scores.

    One function on purpose (over 60 lines): the loop below reads locals bound once; split into helpers it would pay
    a Python call per row or block, which at B = 1 costs more than the arithmetic (docs/PERFORMANCE.md)."""
    kind = type(problem)
    D, K = problem.n_features, LAZY_BLOCK
    C = problem.n_classes if kind is Softmax else 1
    head, head1 = HEADS[kind], SCALAR_HEADS.get(kind)
    W, bias = w[:D * C].reshape(D, C), w[D * C:]
    dt = w.dtype
    Xk = np.empty((K, D), dt)  # the block's rows (zero past a short block's end)
    M = np.empty((2 * K, C), dt)
    A, S0 = M[:K], M[K:]  # row k of A: lr_k dL/dz_k; S0: the block's scores at its starting weights
    R = np.zeros((K, 2 * K), dt)
    R[:, K:] = np.eye(K, dtype=dt)
    gram = np.empty((K, K), dt)
    z_buf, gb, G = np.empty(C, dt), np.empty(C, dt), np.empty((D, C), dt)
    # row t's product as a bound `ndarray.dot` of R's row view: about half np.matmul(r, M, out=)'s call cost
    R_dots, m = [r.dot for r in R], M[:, 0]  # made once
    matmul = np.matmul
    # Row t of A from a list of C floats: struct-packed into A's bytes, about half the cost of A[t] = g
    # (A = M[:K] is C-contiguous; float32 / float64, the config's dtypes, checked in one_example_sgd).
    pack = struct.Struct(f"{C}{_STRUCT_FORMATS[dt]}").pack
    a_bytes, row_bytes = memoryview(A).cast("B"), C * dt.itemsize

    def flush(t):
        """Apply the block's first t updates to W and the bias."""
        if t:
            matmul(Xk[:t].T, A[:t], out=G)
            np.subtract(W, G, out=W)
            np.add.reduce(A[:t], axis=0, out=gb)
            np.subtract(bias, gb, out=bias)

    # One row loop per kind of store, no branch per row. Each returns (rows updated, last loss): fewer than the
    # block's rows when a row's loss is not <= limit (that row is not updated).
    def one_output_rows(ys_block, s0, lr_at, limit):
        for t, yi in enumerate(ys_block):
            loss, g = head1(float(R_dots[t](m)), yi, lr_at(s0 + t))
            if not loss <= limit:  # also catches NaN
                return t, loss
            m[t] = g  # a scalar into the 1-D view: a third of A[t] = g's cost
        return len(ys_block), loss

    def packed_rows(ys_block, s0, lr_at, limit):
        for t, yi in enumerate(ys_block):
            R_dots[t](M, out=z_buf)
            loss, g = head(z_buf.tolist(), yi, lr_at(s0 + t))
            if not loss <= limit:
                return t, loss
            a_bytes[t * row_bytes:(t + 1) * row_bytes] = pack(*g)
        return len(ys_block), loss

    block_rows = one_output_rows if C == 1 else packed_rows

    def run(rows, step, lr_at, limit):
        ys = y[rows].tolist()
        loss, done = math.nan, 0
        for c0 in range(0, len(rows), K):
            k = min(K, len(rows) - c0)
            np.take(X, rows[c0:c0 + k], axis=0, out=Xk[:k], mode="clip")
            if k < K:
                Xk[k:] = 0
            matmul(Xk, W, out=S0)
            np.add(S0, bias, out=S0)
            matmul(Xk, Xk.T, out=gram)
            np.subtract(-1, gram, out=R[:, :K])
            A[:] = 0
            t, loss = block_rows(ys[c0:c0 + k], step + done, lr_at, limit)
            flush(t)
            done += t
            if t < k:
                return done, loss, True
        return done, loss, False

    return run
