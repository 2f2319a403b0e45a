"""Linear models: least squares and logistic regression (one output), softmax and multiclass SVM
(`XW + b`). Each supplies its data term; the penalty, layout and prediction helpers are `base.Problem`'s."""

import numpy as np

from .base import Problem, softmax_cross_entropy

OPTIMUM_CHUNK = 65_536  # rows per chunk of the least-squares normal equations on large sets


class _Linear1D(Problem):
    """Parameters `[W (D), b]`: one output per row."""

    def _layout(self):
        return [("W", (self.n_features,), self.n_features), ("b", (1,), 1)]

    def scores(self, w, X):
        D = self.n_features
        z = X @ w[:D]  # (n,)
        z += w[D]
        return z


class LeastSquares(_Linear1D):
    """`L = |Xw + b - y|^2 / (2n)`; Hessian `[X,1]^T [X,1] / n` (+ reg on the weights)."""

    name = "least_squares"
    is_classifier = False

    def _data_loss(self, w, X, y):
        r = self.scores(w, X)
        r -= y  # (n,) residuals
        return np.dot(r, r) / (2 * len(y))

    def _data_loss_and_grad(self, w, X, y, grad):
        D, n = self.n_features, len(y)
        r = self.scores(w, X)
        r -= y
        loss = np.dot(r, r) / (2 * n)
        r /= n
        np.matmul(r, X, out=grad[:D])  # X^T r / n, as r @ X to stay on the C-contiguous layout
        grad[D] = r.sum()
        return loss

    def predict(self, w, X):
        return self.scores(w, X)

    def optimum(self, X, y, chunk=OPTIMUM_CHUNK):
        """Minimiser `[W, b]` (n_params,), computed in float64 and returned in X's dtype.

        Sets of over `chunk` rows are read a chunk at a time (memory O(chunk * D), never a float64 copy of X):
        the normal equations, or, where squaring the condition number would cost accuracy, a QR factorisation
        updated chunk by chunk (TSQR). Smaller sets: `lstsq` on `[X, 1]`, or ridge's centred normal equations.
        """
        n, D = X.shape
        if n > chunk:
            A, c = self._normal_equations(X, y, chunk)
            if np.linalg.cond(A) < 1e8:  # squaring the condition number costs accuracy beyond this
                return np.linalg.solve(A, c).astype(X.dtype)
            return self._chunked_qr(X, y, chunk).astype(X.dtype)
        X64, y64 = np.asarray(X, np.float64), np.asarray(y, np.float64)
        if not self.reg:
            A = np.hstack([X64, np.ones((n, 1))])
            return np.linalg.lstsq(A, y64, rcond=None)[0].astype(X.dtype)
        # Centering removes the (unpenalised) bias from the normal equations.
        x_mean, y_mean = X64.mean(axis=0), y64.mean()
        Xc = X64 - x_mean
        A = Xc.T @ Xc / n + self.reg * np.eye(self.n_features)
        b = Xc.T @ (y64 - y_mean) / n
        try:
            W = np.linalg.solve(A, b)
        except np.linalg.LinAlgError:  # a reg too small to lift rank-deficient data: the least-norm minimiser
            W = np.linalg.lstsq(A, b, rcond=None)[0]
        return np.append(W, y_mean - x_mean @ W).astype(X.dtype)

    def _normal_equations(self, X, y, chunk):
        """([X, 1]^T [X, 1] / n + reg (weights only), [X, 1]^T y / n), a chunk at a time through one reused float64
        buffer: [X,1]^T [X,1] = [[X^T X, X^T 1], [1^T X, n]] and [X,1]^T y = [X^T y, sum y]."""
        n, D = X.shape
        A, c = np.zeros((D + 1, D + 1)), np.zeros(D + 1)
        buf = np.empty((chunk, D))
        for i in range(0, n, chunk):
            Xc = buf[:min(chunk, n - i)]
            Xc[:] = X[i:i + chunk]
            yc = np.asarray(y[i:i + chunk], np.float64)
            A[:D, :D] += Xc.T @ Xc
            A[:D, D] += np.add.reduce(Xc, axis=0)
            c[:D] += yc @ Xc
            c[D] += float(np.add.reduce(yc))
        A[D, :D], A[D, D] = A[:D, D], n
        A /= n
        c /= n
        A[np.arange(D), np.arange(D)] += self.reg  # the bias (last) is not penalised
        return A, c

    def _chunked_qr(self, X, y, chunk):
        """The least-squares minimiser of [X, 1] w = y (ridge: plus rows sqrt(n reg) [I, 0] w = 0), by QR of the
        stacked rows one chunk at a time: [R; next rows] = Q' R' keeps R^T R = A^T A and R w = Q^T y exact, with
        the accuracy of `lstsq` (no squared condition number); `lstsq` on the final R gives its minimum-norm
        solution for a rank-deficient set, as `lstsq` on [X, 1] does."""
        n, D = X.shape
        R, qty = np.zeros((0, D + 1)), np.zeros(0)
        blocks = [(X[i:i + chunk], y[i:i + chunk]) for i in range(0, n, chunk)]
        if self.reg:
            blocks.append((np.sqrt(n * self.reg) * np.eye(D), np.zeros(D)))
        for i, (Xc, yc) in enumerate(blocks):
            bias = 1.0 if i < -(-n // chunk) else 0.0  # the ridge rows leave the bias free
            M = np.vstack([R, np.hstack([np.asarray(Xc, np.float64), np.full((len(Xc), 1), bias)])])
            Q, R = np.linalg.qr(M)
            qty = Q.T @ np.concatenate([qty, np.asarray(yc, np.float64)])
        return np.linalg.lstsq(R, qty, rcond=None)[0]

    def hessian(self, X: np.ndarray) -> np.ndarray:
        """`[X,1]^T [X,1] / n + reg * diag(1, ..., 1, 0)`: ((D+1), (D+1)), constant in w."""
        n = X.shape[0]
        A = np.hstack([X, np.ones((n, 1), X.dtype)])
        H = A.T @ A / n
        H[np.arange(self.n_features), np.arange(self.n_features)] += self.reg
        return H


class Logistic(_Linear1D):
    """Binary cross-entropy, y in {0, 1}: `mean log(1 + exp(-s z))` with `s = 2y - 1`, `z = Xw + b`."""

    name = "logistic"

    def _neg_margin(self, w, X, y):
        z = self.scores(w, X)
        # m = -s*z; the per-row loss is softplus(m) = logaddexp(0, m), finite for any margin.
        return z * (1 - 2 * y).astype(z.dtype, copy=False)

    def _data_loss(self, w, X, y):
        return np.logaddexp(0, self._neg_margin(w, X, y)).mean()

    def _data_loss_and_grad(self, w, X, y, grad):
        D, n = self.n_features, len(y)
        m = self._neg_margin(w, X, y)
        softplus = np.logaddexp(0, m)
        # dL/dm = sigmoid(m) = exp(m - softplus(m)) <= 1: never overflows, only underflows to 0.
        with np.errstate(under="ignore"):
            dm = np.exp(m - softplus)
        dz = dm * (1 - 2 * y).astype(m.dtype, copy=False)  # chain rule through m = (1 - 2y) z
        dz /= n
        np.matmul(dz, X, out=grad[:D])
        grad[D] = dz.sum()
        return softplus.mean()

    def predict(self, w, X):
        return (self.scores(w, X) > 0).astype(np.int64)


class _LinearMulti(Problem):
    """Parameters `W (D, C)` then `b (C,)`: scores `XW + b` (n, C)."""

    def _layout(self):
        D, C = self.n_features, self.n_classes
        return [("W", (D, C), D * C), ("b", (C,), C)]

    def scores(self, w, X):
        D, C = self.n_features, self.n_classes
        s = X @ w[: D * C].reshape(D, C)
        s += w[D * C :]
        return s

    def _data_loss(self, w, X, y):
        return self.loss_and_dscores(self.scores(w, X), y, want_grad=False)

    def _data_loss_and_grad(self, w, X, y, grad):
        D, C = self.n_features, self.n_classes
        scores = self.scores(w, X)
        loss = self.loss_and_dscores(scores, y, want_grad=True)  # scores now hold dL/dscores
        np.matmul(X.T, scores, out=grad[: D * C].reshape(D, C))
        scores.sum(axis=0, out=grad[D * C :])
        return loss


class Softmax(_LinearMulti):
    """Multinomial logistic regression: `mean(-log softmax(XW + b)[y])`."""

    name = "softmax"

    @staticmethod
    def loss_and_dscores(scores, y, want_grad):
        return softmax_cross_entropy(scores, y, want_grad)


class SVM(_LinearMulti):
    """cs231n multiclass hinge: `mean_i sum_{j != y_i} max(0, s_j - s_{y_i} + 1)`."""

    name = "svm"

    @staticmethod
    def loss_and_dscores(scores, y, want_grad):
        n = len(y)
        rows = np.arange(n)
        correct = scores[rows, y][:, None]  # (n, 1)
        scores -= correct
        scores += 1  # scores now hold the margins (n, C)
        scores[rows, y] = 0  # the correct class is not a competitor
        np.maximum(scores, 0, out=scores)
        loss = scores.sum() / n
        if want_grad:
            # Each violated margin pushes s_j up by 1 and s_{y_i} down by 1 (subgradient 0 at the kink).
            np.greater(scores, 0, out=scores, casting="unsafe")
            scores[rows, y] = -scores.sum(axis=1)
            scores /= n
        return loss
