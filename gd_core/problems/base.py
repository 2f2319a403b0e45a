"""Loss functions the engine minimises: one flat parameter vector `w` per problem.

Every problem returns `(loss, grad)` like the cs231n assignments. Shapes: `X: (n, D)` C-contiguous,
`y: (n,)` (float for regression, int64 class indices for classifiers), `w, grad: (n_params,)`.
Loss = mean over the batch rows + `0.5 * reg * sum(weights**2)`; biases are not penalised.
Matrices are views of `w` (`w[:D*C].reshape(D, C)`), and the gradient is written into views of one
preallocated array, so a step allocates little beyond the scores. The data's dtype is kept throughout
(float32 in -> float32 out): constants are python scalars, which numpy 2 does not upcast (NEP 50).
"""

import numpy as np


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
        self.weight_slices = tuple(sl for key, sl, _ in self._slices() if key.startswith("W"))

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
        return 0.5 * self.reg * sum(float(np.dot(w[sl], w[sl])) for sl in self.weight_slices)

    def loss(self, w: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
        """Mean loss over the rows of X (n, D) plus the L2 penalty; no gradient is computed."""
        return float(self._data_loss(w, X, y)) + self._penalty(w)

    def loss_and_grad(self, w: np.ndarray, X: np.ndarray, y: np.ndarray, *,
                      out: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """(loss, grad (n_params,)) with grad in w's dtype, written into `out` when given (no allocation).

        The runner's hot loop uses `gd_core.fast.kernels.bind_gradient`, which equals this to float rounding."""
        grad = np.empty_like(w) if out is None else out
        data_loss = self._data_loss_and_grad(w, X, y, grad)
        if self.reg:
            for sl in self.weight_slices:
                grad[sl] += self.reg * w[sl]
        return float(data_loss) + self._penalty(w), grad

    # -- evaluation ---------------------------------------------------------------------------------
    def init_params(self, rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
        """cs231n init: weights `0.01 * randn`, zero biases. (n_params,)

        Drawn in float64 and then cast, so float32 and float64 runs start from the same point.
        """
        w = np.zeros(self.n_params)
        for sl in self.weight_slices:
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
