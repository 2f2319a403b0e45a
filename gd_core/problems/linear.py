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

    def optimum(self, X, y):
        """Minimiser `[W, b]` (n_params,), computed in float64 and returned in X's dtype.

        Large sets: the normal equations accumulated over row chunks in float64 (memory O(D^2), not a
        float64 copy of X); `lstsq` on `[X, 1]` when the set is small or the system is badly conditioned.
        """
        n, D = X.shape
        if n > OPTIMUM_CHUNK:
            # [X, 1]^T [X, 1] = [[X^T X, X^T 1], [1^T X, n]] and [X, 1]^T y = [X^T y, sum y], a chunk at a time
            # through one reused float64 buffer (no [X, 1] copy, no fresh allocation per chunk)
            A, c = np.zeros((D + 1, D + 1)), np.zeros(D + 1)
            buf = np.empty((OPTIMUM_CHUNK, D))
            for i in range(0, n, OPTIMUM_CHUNK):
                Xc = buf[:min(OPTIMUM_CHUNK, n - i)]
                Xc[:] = X[i:i + OPTIMUM_CHUNK]
                yc = np.asarray(y[i:i + OPTIMUM_CHUNK], np.float64)
                A[:D, :D] += Xc.T @ Xc
                A[:D, D] += np.add.reduce(Xc, axis=0)
                c[:D] += yc @ Xc
                c[D] += float(np.add.reduce(yc))
            A[D, :D], A[D, D] = A[:D, D], n
            A /= n
            c /= n
            A[np.arange(D), np.arange(D)] += self.reg  # the bias (last) is not penalised
            if np.linalg.cond(A) < 1e8:  # squaring the condition number costs accuracy beyond this
                return np.linalg.solve(A, c).astype(X.dtype)
        X64, y64 = np.asarray(X, np.float64), np.asarray(y, np.float64)
        if not self.reg:
            A = np.hstack([X64, np.ones((n, 1))])
            return np.linalg.lstsq(A, y64, rcond=None)[0].astype(X.dtype)
        # Centering removes the (unpenalised) bias from the normal equations.
        x_mean, y_mean = X64.mean(axis=0), y64.mean()
        Xc = X64 - x_mean
        A = Xc.T @ Xc / n + self.reg * np.eye(self.n_features)
        W = np.linalg.solve(A, Xc.T @ (y64 - y_mean) / n)
        return np.append(W, y_mean - x_mean @ W).astype(X.dtype)

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
