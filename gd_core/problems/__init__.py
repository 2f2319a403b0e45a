"""The problems the engine minimises, by name: `make_problem("softmax", n_features, n_classes)`.

The base class and its conventions (shapes, the L2 penalty, dtypes) are in `base.py`; the linear models in
`linear.py`, the two-layer network in `mlp.py`; `gradcheck.py` checks any of them by centered differences.
A new problem is a subclass of `base.Problem` and one entry in `_CLASSES` below.
"""

import numpy as np

from .base import Problem, softmax_cross_entropy
from .linear import OPTIMUM_CHUNK, SVM, LeastSquares, Logistic, Softmax
from .mlp import MLP

PROBLEMS = ("least_squares", "logistic", "softmax", "svm", "mlp")
_CLASSES = {"least_squares": LeastSquares, "logistic": Logistic, "softmax": Softmax, "svm": SVM, "mlp": MLP}
__all__ = ["MLP", "OPTIMUM_CHUNK", "PROBLEMS", "SVM", "LeastSquares", "Logistic", "Problem", "Softmax",
           "make_problem", "softmax_cross_entropy"]


def _check_size(field: str, value, minimum: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{field} must be an integer >= {minimum} for {name}; got {value!r}")


def make_problem(name: str, n_features: int, n_classes: int | None = None, *, reg: float = 0.0,
                 hidden: int = 32) -> Problem:
    """Build a problem by name (one of PROBLEMS). `hidden` is the MLP's width H; ignored otherwise."""
    if name not in _CLASSES:
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
    return _CLASSES[name](int(n_features), int(n_classes), reg)
