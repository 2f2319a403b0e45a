"""Synthetic datasets for the lab, and the `Dataset` type every loader returns.

`make_dataset` draws train and validation sets from one seeded distribution; `load_csv_dataset`
(in `gd_core.csv_data`, re-exported here) turns a user's CSV into the same `Dataset`.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np

DATASETS = ("linear", "blobs", "spiral", "moons", "circles", "xor")
_CSV_NAMES = ("CSVError", "load_csv_dataset", "read_csv_columns")


@dataclass(frozen=True)
class Dataset:
    """Train/validation arrays plus what a problem needs to know about them.

    X_train: (n_train, n_features), X_val: (n_val, n_features), C-contiguous float64 or float32.
    y_train: (n_train,), y_val: (n_val,): same float dtype as X for regression, int64 class indices
    0..n_classes-1 for classification. n_val may be 0.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    task: str  # "regression" | "classification"
    n_classes: int | None  # None for regression
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...] | None  # label of class index i; None for regression

    @property
    def n_train(self) -> int:
        return self.X_train.shape[0]

    @property
    def n_val(self) -> int:
        return self.X_val.shape[0]

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]


class DatasetInfo(NamedTuple):
    task: str  # "regression" | "classification"
    fixed_n_classes: int | None  # 2 for the binary generators; None when n_classes is free (or regression)
    intrinsic_dim: int | None  # 2 for the planar generators (n_features >= 2); None when any D works


_INFO = {
    "linear": DatasetInfo("regression", None, None),
    "blobs": DatasetInfo("classification", None, None),
    "spiral": DatasetInfo("classification", None, 2),
    "moons": DatasetInfo("classification", 2, 2),
    "circles": DatasetInfo("classification", 2, 2),
    "xor": DatasetInfo("classification", 2, 2),
}


def dataset_info(name: str) -> DatasetInfo:
    """Task, fixed class count and intrinsic dimension of a generator, without generating anything."""
    if name not in _INFO:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {name!r}")
    return _INFO[name]


def make_dataset(name, n_samples=1000, n_features=2, n_classes=3, *, noise=0.1, condition_number=1.0,
                 n_unique=None, label_noise=0.0, val_fraction=0.2, standardize=True, seed=0,
                 dtype="float64") -> Dataset:
    """Draw a seeded synthetic dataset; `n_samples` = n_train + n_val, n_val = round(n_samples*val_fraction).

    Generators (X: (n, n_features)):
      linear   y = X w + b + noise*eps, X ~ N(0, Q diag(geomspace(1, condition_number, D)) Q^T) with Q a
               random rotation, so X^T X / n has condition number ~condition_number. w is scaled so
               Var(X w) = 1: `noise` is the noise-to-signal std ratio.
      blobs    n_classes Gaussian blobs in D dims, centers uniform in [-5, 5]^D, std 0.5 + 5*noise.
      spiral   cs231n's spiral: arm j at radius r ~ U(0, 1), angle 4r + 2*pi*j/n_classes + N(0, (2*noise)^2)
               (default noise 0.1 gives cs231n's 0.2 jitter; arms evenly spaced so any n_classes works).
      moons, circles, xor  binary, as scikit-learn's make_moons / make_circles(factor=0.5); xor is
               U([-1, 1]^2) labelled by sign(x0*x1) then jittered by N(0, noise^2). `n_classes` is ignored.
    The planar generators (spiral, moons, circles, xor) append n_features-2 N(0, 1) nuisance columns.

    n_unique=k: the train set is k unique draws tiled and shuffled to n_train rows; validation rows are
    fresh draws. label_noise=p: round(p*n_train) train labels become a uniformly random *other* class;
    for regression those targets are shuffled among themselves (X-y link broken; the train targets'
    mean/std, hence the standardisation, unchanged). Validation labels stay clean.

    standardize: features get train mean/std (constant columns become 0). For `linear` features are only
    centered: per-feature scaling would undo the designed conditioning (centering keeps it and decouples
    the bias). Regression targets are standardised too (so loss scales agree across datasets).
    """
    n_train, n_val = _check_args(name, n_samples, n_features, n_classes, noise, condition_number,
                                 n_unique, label_noise, val_fraction, seed)
    dtype = _check_dtype(dtype)
    info = _INFO[name]
    if info.fixed_n_classes is not None:
        n_classes = info.fixed_n_classes
    elif info.task == "regression":
        n_classes = None
    rng = np.random.default_rng(seed)
    sample = _SAMPLERS[name](rng, n_features, n_classes, noise, condition_number)

    k = n_train if n_unique is None else n_unique
    X_train, y_train = sample(k)
    if k < n_train:  # tile the k unique rows, then shuffle so every minibatch sees the repeats
        idx = rng.permutation(np.resize(np.arange(k), n_train))
        X_train, y_train = X_train[idx], y_train[idx]
    X_val, y_val = sample(n_val)

    n_flip = round(label_noise * n_train)
    if n_flip:
        idx = rng.choice(n_train, size=n_flip, replace=False)
        if info.task == "classification":
            y_train[idx] = (y_train[idx] + rng.integers(1, n_classes, size=n_flip)) % n_classes
        else:
            y_train[idx] = y_train[rng.permutation(idx)]  # same multiset: target statistics unchanged

    names = tuple(f"x{i}" for i in range(n_features))
    classes = None if n_classes is None else tuple(str(c) for c in range(n_classes))
    return finish_dataset(name, X_train, y_train, X_val, y_val, info.task, n_classes, names, classes,
                          standardize=standardize, center_only=(name == "linear"), dtype=dtype)


def finish_dataset(name, X_train, y_train, X_val, y_val, task, n_classes, feature_names, class_names, *,
                   standardize, center_only=False, dtype=np.float64) -> Dataset:
    """Standardise with train statistics (computed in float64), cast, make C-contiguous, wrap."""
    X_train, X_val = np.asarray(X_train, np.float64), np.asarray(X_val, np.float64)
    if standardize:
        X_train, X_val = _standardize(X_train, X_val, center_only)
    if task == "regression":
        y_train, y_val = np.asarray(y_train, np.float64), np.asarray(y_val, np.float64)
        if standardize:
            y_train, y_val = (a[:, 0] for a in _standardize(y_train[:, None], y_val[:, None], False))
        y_dtype = dtype
    else:
        y_dtype = np.int64
    with np.errstate(over="ignore"):  # callers check finiteness after a float32 cast
        arrays = [np.ascontiguousarray(a, dtype=t)
                  for a, t in ((X_train, dtype), (y_train, y_dtype), (X_val, dtype), (y_val, y_dtype))]
    return Dataset(name, *arrays, task, n_classes, tuple(feature_names),
                   None if class_names is None else tuple(class_names))


def _standardize(A_train, A_val, center_only):
    """Shift/scale columns by train statistics; a (near-)constant column becomes all zeros (in both sets)."""
    if A_train.shape[0] == 0:
        return A_train, A_val
    mean = A_train.mean(axis=0)
    if center_only:
        return A_train - mean, A_val - mean
    std = A_train.std(axis=0)
    # Scale-free: a column whose train values span at most 1e-12 of their magnitude is constant. (The float64
    # mean of identical values can be off by an ulp: 1e100 - mean(1e100, ...) was +-1e84, not 0.)
    hi, lo = A_train.max(axis=0), A_train.min(axis=0)
    constant = (hi - lo) <= 1e-12 * np.maximum(np.abs(hi), np.abs(lo))
    std = np.where(constant, 1.0, std)
    keep = ~constant
    return (A_train - mean) / std * keep, (A_val - mean) / std * keep


def _balanced_labels(rng, n, n_classes):
    """(n,) int64 labels with class counts differing by at most one, in random order."""
    return rng.permutation(np.arange(n, dtype=np.int64) % n_classes)


def _planar(make_xy):
    """Wrap a 2-D generator `(rng, n, n_classes, noise) -> (X (n, 2), y)`, appending nuisance columns."""
    def sampler(rng, n_features, n_classes, noise, condition_number):
        def sample(n):
            X, y = make_xy(rng, n, n_classes, noise)
            return np.hstack([X, rng.standard_normal((n, n_features - 2))]), y
        return sample
    return sampler


@_planar
def _spiral(rng, n, n_classes, noise):
    y = _balanced_labels(rng, n, n_classes)
    r = rng.uniform(0.0, 1.0, n)
    t = 4.0 * r + 2.0 * np.pi * y / n_classes + rng.normal(0.0, 2.0 * noise, n)
    return np.column_stack([r * np.sin(t), r * np.cos(t)]), y


@_planar
def _moons(rng, n, n_classes, noise):
    y = _balanced_labels(rng, n, 2)
    t = rng.uniform(0.0, np.pi, n)
    X = np.where(y[:, None] == 0,
                 np.column_stack([np.cos(t), np.sin(t)]),
                 np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)]))
    return X + rng.normal(0.0, noise, (n, 2)), y


@_planar
def _circles(rng, n, n_classes, noise):
    y = _balanced_labels(rng, n, 2)
    t = rng.uniform(0.0, 2.0 * np.pi, n)
    radius = np.where(y == 0, 1.0, 0.5)  # class 0 outer, as scikit-learn
    X = radius[:, None] * np.column_stack([np.cos(t), np.sin(t)])
    return X + rng.normal(0.0, noise, (n, 2)), y


@_planar
def _xor(rng, n, n_classes, noise):
    X = rng.uniform(-1.0, 1.0, (n, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return X + rng.normal(0.0, noise, (n, 2)), y


def _blobs(rng, n_features, n_classes, noise, condition_number):
    centers = rng.uniform(-5.0, 5.0, (n_classes, n_features))

    def sample(n):
        y = _balanced_labels(rng, n, n_classes)
        return centers[y] + rng.normal(0.0, 0.5 + 5.0 * noise, (n, n_features)), y
    return sample


def _linear(rng, n_features, n_classes, noise, condition_number):
    D = n_features
    Q, R = np.linalg.qr(rng.standard_normal((D, D)))
    Q *= np.sign(np.diag(R))  # sign fix makes Q Haar-distributed
    root_cov = Q * np.sqrt(np.geomspace(1.0, condition_number, D))  # (D, D): Q diag(sqrt(eig))
    w = rng.standard_normal(D)
    w /= np.linalg.norm(root_cov.T @ w)  # Var(x^T w) = w^T Q diag(eig) Q^T w = 1
    b = rng.standard_normal()

    def sample(n):
        X = rng.standard_normal((n, D)) @ root_cov.T
        return X, X @ w + b + noise * rng.standard_normal(n)
    return sample


_SAMPLERS = {"linear": _linear, "blobs": _blobs, "spiral": _spiral, "moons": _moons,
             "circles": _circles, "xor": _xor}


def _is_int(v):
    return isinstance(v, Integral) and not isinstance(v, bool)


def _is_real(v):
    return isinstance(v, Real) and not isinstance(v, bool) and np.isfinite(v)


def _check_dtype(dtype):
    if dtype not in ("float64", "float32", np.float64, np.float32):
        raise ValueError(f"dtype must be 'float64' or 'float32'; got {dtype!r}")
    return np.dtype(dtype)


def _check_args(name, n_samples, n_features, n_classes, noise, condition_number, n_unique,
                label_noise, val_fraction, seed):
    """Validate once at the entry point; return (n_train, n_val)."""
    info = dataset_info(name)
    if not _is_int(n_samples) or n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2; got {n_samples!r}")
    min_features = info.intrinsic_dim or 1
    if not _is_int(n_features) or n_features < min_features:
        raise ValueError(f"n_features must be an integer >= {min_features} for dataset {name!r}; "
                         f"got {n_features!r}")
    if info.task == "classification" and info.fixed_n_classes is None:
        if not _is_int(n_classes) or n_classes < 2:
            raise ValueError(f"n_classes must be an integer >= 2 for dataset {name!r}; got {n_classes!r}")
    if not _is_real(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0; got {noise!r}")
    if not _is_real(condition_number) or condition_number < 1:
        raise ValueError(f"condition_number must be a finite number >= 1; got {condition_number!r}")
    if name == "linear" and condition_number > 1 and n_features < 2:
        raise ValueError(f"condition_number > 1 needs n_features >= 2; got condition_number="
                         f"{condition_number!r} with n_features=1")
    if not _is_real(label_noise) or not 0 <= label_noise < 1:
        raise ValueError(f"label_noise must be in [0, 1); got {label_noise!r}")
    if not _is_real(val_fraction) or not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1); got {val_fraction!r}")
    if not _is_int(seed) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0; got {seed!r}")
    n_val = round(n_samples * val_fraction)
    n_train = n_samples - n_val
    if n_train < 1:
        raise ValueError(f"val_fraction={val_fraction!r} leaves no training examples out of "
                         f"n_samples={n_samples}; lower val_fraction or raise n_samples")
    if n_unique is not None and (not _is_int(n_unique) or not 1 <= n_unique <= n_train):
        raise ValueError(f"n_unique must be None or an integer in [1, n_train={n_train}]; got {n_unique!r}")
    return n_train, n_val


def __getattr__(attr):
    # the CSV loader lives in csv_data.py (which imports this module); re-export it lazily
    if attr in _CSV_NAMES:
        from gd_core import csv_data
        return getattr(csv_data, attr)
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
