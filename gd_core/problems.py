"""Loss functions the engine minimises: one flat parameter vector `w` per problem.

Every problem returns `(loss, grad)` like the cs231n assignments. Shapes: `X: (n, D)` C-contiguous,
`y: (n,)` (float for regression, int64 class indices for classifiers), `w, grad: (n_params,)`.
Loss = mean over the batch rows + `0.5 * reg * sum(weights**2)`; biases are not penalised.
Matrices are views of `w` (`w[:D*C].reshape(D, C)`), and the gradient is written into views of one
preallocated array, so a step allocates little beyond the scores. The data's dtype is kept throughout
(float32 in -> float32 out): constants are python scalars, which numpy 2 does not upcast (NEP 50).
"""

import numpy as np

PROBLEMS = ("least_squares", "logistic", "softmax", "svm", "mlp")
OPTIMUM_CHUNK = 65_536  # rows per chunk of the least-squares normal equations on large sets


class Problem:
    """Shared plumbing: the L2 penalty, prediction helpers. Subclasses supply the data term."""

    name = ""
    is_classifier = True

    def __init__(self, n_features: int, n_classes: int | None, reg: float):
        self.n_features = n_features
        self.n_classes = n_classes
        self.reg = reg
        self.n_params = sum(size for _, _, size in self._layout())
        # Slices of `w` that hold weights (not biases): the only entries the penalty sees.
        self._weight_slices = tuple(sl for key, sl, _ in self._slices() if key.startswith("W"))

    # -- layout -------------------------------------------------------------------------------------
    def _layout(self) -> list[tuple[str, tuple[int, ...], int]]:
        """[(name, shape, size)] in the order the parameters sit in `w`."""
        raise NotImplementedError

    def _slices(self):
        start = 0
        for key, shape, size in self._layout():
            yield key, slice(start, start + size), shape
            start += size

    def unpack(self, w: np.ndarray) -> dict[str, np.ndarray]:
        """Named views of `w` (no copies): writing to them writes to `w`."""
        return {key: w[sl].reshape(shape) for key, sl, shape in self._slices()}

    # -- loss ---------------------------------------------------------------------------------------
    def _data_loss(self, w, X, y):
        raise NotImplementedError

    def _data_loss_and_grad(self, w, X, y, grad):
        """Return the mean data loss and write its gradient into `grad` (n_params,)."""
        raise NotImplementedError

    def _penalty(self, w) -> float:
        if not self.reg:
            return 0.0
        return 0.5 * self.reg * sum(float(np.dot(w[sl], w[sl])) for sl in self._weight_slices)

    def loss(self, w: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
        """Mean loss over the rows of X (n, D) plus the L2 penalty; no gradient is computed."""
        return float(self._data_loss(w, X, y)) + self._penalty(w)

    def loss_and_grad(self, w: np.ndarray, X: np.ndarray, y: np.ndarray, *,
                      out: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """(loss, grad (n_params,)) with grad in w's dtype, written into `out` when given (no allocation).

        The runner's hot loop uses `gd_core.kernels.bind_gradient`, which equals this to float rounding."""
        grad = np.empty_like(w) if out is None else out
        data_loss = self._data_loss_and_grad(w, X, y, grad)
        if self.reg:
            for sl in self._weight_slices:
                grad[sl] += self.reg * w[sl]
        return float(data_loss) + self._penalty(w), grad

    # -- evaluation ---------------------------------------------------------------------------------
    def init_params(self, rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
        """cs231n init: weights `0.01 * randn`, zero biases. (n_params,)

        Drawn in float64 and then cast, so float32 and float64 runs start from the same point.
        """
        w = np.zeros(self.n_params)
        for sl in self._weight_slices:
            w[sl] = 0.01 * rng.standard_normal(sl.stop - sl.start)
        return w.astype(dtype)

    def predict(self, w: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Class index (int64) for each row of X (n, D) -> (n,)."""
        return np.argmax(self.scores(w, X), axis=1)

    def accuracy(self, w: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
        """Fraction of rows classified correctly (NaN for regression)."""
        if not self.is_classifier:
            return float("nan")
        return float(np.mean(self.predict(w, X) == y))

    def optimum(self, X: np.ndarray, y: np.ndarray) -> np.ndarray | None:
        """Closed-form minimiser where one exists; None otherwise."""
        return None

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(n_features={self.n_features}, n_classes={self.n_classes}, "
                f"reg={self.reg})")


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
        return self._loss_and_dscores(self.scores(w, X), y, want_grad=False)

    def _data_loss_and_grad(self, w, X, y, grad):
        D, C = self.n_features, self.n_classes
        scores = self.scores(w, X)
        loss = self._loss_and_dscores(scores, y, want_grad=True)  # scores now hold dL/dscores
        np.matmul(X.T, scores, out=grad[: D * C].reshape(D, C))
        scores.sum(axis=0, out=grad[D * C :])
        return loss


def softmax_cross_entropy(scores: np.ndarray, y: np.ndarray, want_grad: bool) -> float:
    """Mean cross-entropy of scores (n, C) against labels y (n,).

    Stable log-softmax (the row max is subtracted). `scores` is used as scratch: if `want_grad` it ends
    holding `dL/dscores = (softmax - onehot) / n`. Reductions call the ufuncs directly and every step
    writes in place: this runs once per training step, where each NumPy call costs ~1-3 us.
    """
    n = len(y)
    rows = np.arange(n)
    np.subtract(scores, np.maximum.reduce(scores, axis=1)[:, None], out=scores)
    correct = scores[rows, y]  # (n,) copy taken before exp overwrites
    probs = np.exp(scores, out=scores)  # underflow to 0 is right here (and silent by default)
    sums = np.add.reduce(probs, axis=1)  # (n,) >= 1 since the max entry is exp(0)
    loss = float(np.add.reduce(np.log(sums) - correct)) / n
    if want_grad:
        np.divide(probs, sums[:, None], out=probs)
        probs[rows, y] -= 1
        probs *= 1 / n
    return loss


class Softmax(_LinearMulti):
    """Multinomial logistic regression: `mean(-log softmax(XW + b)[y])`."""

    name = "softmax"

    @staticmethod
    def _loss_and_dscores(scores, y, want_grad):
        return softmax_cross_entropy(scores, y, want_grad)


class SVM(_LinearMulti):
    """cs231n multiclass hinge: `mean_i sum_{j != y_i} max(0, s_j - s_{y_i} + 1)`."""

    name = "svm"

    @staticmethod
    def _loss_and_dscores(scores, y, want_grad):
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


def _check_size(field: str, value, minimum: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{field} must be an integer >= {minimum} for {name}; got {value!r}")


def make_problem(name: str, n_features: int, n_classes: int | None = None, *, reg: float = 0.0,
                 hidden: int = 32) -> Problem:
    """Build a problem by name (one of PROBLEMS). `hidden` is the MLP's width H; ignored otherwise."""
    from gd_core.mlp import MLP  # local: mlp.py builds on the base class defined here

    classes = {"least_squares": LeastSquares, "logistic": Logistic, "softmax": Softmax, "svm": SVM,
               "mlp": MLP}
    if name not in classes:
        raise ValueError(f"problem must be one of {', '.join(PROBLEMS)}; got {name!r}")
    _check_size("n_features", n_features, 1, name)
    if not (isinstance(reg, int | float | np.number) and np.isfinite(reg) and reg >= 0):
        raise ValueError(f"reg must be a finite number >= 0; got {reg!r}")
    reg = float(reg)
    if name == "least_squares":
        if n_classes is not None:
            raise ValueError(f"n_classes must be None for least_squares (regression); got {n_classes!r}")
        return LeastSquares(int(n_features), None, reg)
    if name == "logistic":
        if n_classes not in (None, 2):
            raise ValueError(f"n_classes must be None or 2 for logistic (use softmax for more); "
                             f"got {n_classes!r}")
        return Logistic(int(n_features), 2, reg)
    _check_size("n_classes", n_classes, 2, name)
    if name == "mlp":
        _check_size("hidden", hidden, 1, name)
        return MLP(int(n_features), int(n_classes), reg, hidden=int(hidden))
    return classes[name](int(n_features), int(n_classes), reg)
