"""Synthetic datasets for the lab, and the `Dataset` type every loader returns.

`make_dataset` draws train and validation sets from one seeded distribution; `load_csv_dataset`
(in `gd_core.csv_data`, re-exported here) turns a user's CSV into the same `Dataset`.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np

DATASETS = ("linear", "blobs", "spiral", "moons", "circles", "xor")
BLOCK_VALUES = 1 << 17  # numbers in one block of rows the data pipeline works on: 1 MB of float64, stays in cache
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
    rows = block_rows(n_features)

    k = n_train if n_unique is None else n_unique
    X_train = RawRows(n_train, n_features)  # float64 until the train statistics are known, then dtype in place
    draw = sample(k)
    if k < n_train:  # tile the k unique rows, then shuffle so every minibatch sees the repeats
        unique = np.concatenate(list(draw.blocks(rows)))  # (k, D)
        y_unique = draw.labels()
        idx = rng.permutation(np.resize(np.arange(k), n_train))
        for i in range(0, n_train, rows):
            np.take(unique, idx[i:i + rows], axis=0, out=X_train.raw[i:i + rows])
        y_train = y_unique[idx]
        del unique
    else:
        X_train.fill(draw.blocks(rows))
        y_train = draw.labels()
    stats = column_stats(X_train.raw, standardize, center_only=(name == "linear"))
    draw = sample(n_val)
    X_val = np.empty((n_val, n_features), dtype)
    for i, block in zip(range(0, n_val, rows), draw.blocks(rows), strict=True):
        standardize_into(X_val[i:i + len(block)], block, stats)
    y_val = draw.labels()

    n_flip = round(label_noise * n_train)
    if n_flip:
        idx = rng.choice(n_train, size=n_flip, replace=False)
        if info.task == "classification":
            y_train[idx] = (y_train[idx] + rng.integers(1, n_classes, size=n_flip)) % n_classes
        else:
            y_train[idx] = y_train[rng.permutation(idx)]  # same multiset: target statistics unchanged

    names = tuple(f"x{i}" for i in range(n_features))
    classes = None if n_classes is None else tuple(str(c) for c in range(n_classes))
    y_train, y_val = _finish_targets(y_train, y_val, info.task, standardize, dtype)
    return Dataset(name, X_train.finish(stats, dtype), y_train, X_val, y_val, info.task, n_classes, names, classes)


def finish_dataset(name, X_train, y_train, X_val, y_val, task, n_classes, feature_names, class_names, *,
                   standardize, center_only=False, dtype=np.float64) -> Dataset:
    """Standardise with train statistics (computed in float64), cast, make C-contiguous, wrap.

    The arguments are not modified. (`make_dataset` and the CSV loader write their rows into a `RawRows` and
    standardise them in place instead: the same numbers without the copies.)"""
    X_train = np.asarray(X_train, np.float64)
    raw = RawRows(*X_train.shape)
    raw.raw[...] = X_train
    stats = column_stats(raw.raw, standardize, center_only)
    X_val = np.asarray(X_val, np.float64)
    out = np.empty(X_val.shape, dtype)
    standardize_into(out, X_val, stats)
    y_train, y_val = _finish_targets(y_train, y_val, task, standardize, dtype)
    return Dataset(name, raw.finish(stats, dtype), y_train, out, y_val, task, n_classes, tuple(feature_names),
                   None if class_names is None else tuple(class_names))


def _finish_targets(y_train, y_val, task, standardize, dtype):
    """Regression targets standardised with train statistics and cast to dtype; class indices as int64."""
    if task != "regression":
        return np.ascontiguousarray(y_train, np.int64), np.ascontiguousarray(y_val, np.int64)
    y_train, y_val = np.asarray(y_train, np.float64), np.asarray(y_val, np.float64)
    if standardize:
        y_train, y_val = (a[:, 0] for a in _standardize(y_train[:, None], y_val[:, None], False))
    with np.errstate(over="ignore"):  # callers check finiteness after a float32 cast
        return np.ascontiguousarray(y_train, dtype), np.ascontiguousarray(y_val, dtype)


def block_rows(n_features: int) -> int:
    """Rows in one block of the data pipeline (BLOCK_VALUES numbers)."""
    return max(1, BLOCK_VALUES // max(1, n_features))


class RawRows:
    """An (n, D) float64 array that becomes the final (n, D) array of the run's dtype in place.

    Rows are written raw (`fill`, or `raw[...]`); `finish(stats, dtype)` standardises them block by block and,
    for float32, writes the results into the first half of the same memory (row i's float32 values end before
    row i+1's float64 values start, so nothing unread is overwritten) and returns the second half to the
    system. The data is never held twice.
    """

    def __init__(self, n: int, n_features: int):
        self.shape = (n, n_features)
        # anonymous and page-aligned; populated at once (every byte is written next): faster than a fault a page
        size = max(1, n * n_features * 8)
        if hasattr(mmap, "MAP_POPULATE"):  # Linux
            self._map = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | mmap.MAP_POPULATE)
        else:
            self._map = mmap.mmap(-1, size)
        self.raw = np.frombuffer(self._map, np.float64, n * n_features).reshape(self.shape)

    def fill(self, blocks: Iterator[np.ndarray]) -> None:
        at = 0
        for block in blocks:
            self.raw[at:at + len(block)] = block
            at += len(block)
        assert at == self.shape[0], (at, self.shape)

    def finish(self, stats, dtype) -> np.ndarray:
        n, d = self.shape
        raw, self.raw = self.raw, None
        dtype, rows = np.dtype(dtype), block_rows(d)
        if dtype == np.float64:
            for i in range(0, n, rows):
                standardize_into(raw[i:i + rows], raw[i:i + rows], stats)
            return raw
        out = np.frombuffer(self._map, dtype, n * d).reshape(self.shape)
        for i in range(0, n, rows):
            standardize_into(out[i:i + rows], raw[i:i + rows].copy(), stats)
        del raw
        used = -(-out.nbytes // mmap.PAGESIZE) * mmap.PAGESIZE
        if hasattr(mmap, "MADV_DONTNEED") and used < len(self._map):
            self._map.madvise(mmap.MADV_DONTNEED, used, len(self._map) - used)  # the float64 tail: freed
        return out


class ColumnStats(NamedTuple):
    mean: np.ndarray | None  # (D,) float64; None: no standardisation
    std: np.ndarray | None  # (D,) float64, inf for a constant column; None: centre only


def column_stats(X: np.ndarray, standardize: bool, center_only: bool = False) -> ColumnStats:
    """Train statistics of the float64 rows X, exactly `X.mean(axis=0)` and `X.std(axis=0)` (the same sums in the
    same order), without X.std's (n, D) temporaries; a (near-)constant column gets std inf (it becomes zeros)."""
    if not standardize or X.shape[0] == 0:
        return ColumnStats(None, None)
    mean = X.mean(axis=0)
    if center_only:
        return ColumnStats(mean, None)
    n, d = X.shape
    rows = block_rows(d)
    buf = np.empty((min(n, rows) + 1, d))  # row 0 carries the running sum: one sequential sum over all rows
    total = None
    for i in range(0, n, rows):
        m = min(rows, n - i)
        start = 0 if total is None else 1
        part = buf[start:start + m]
        np.subtract(X[i:i + m], mean, out=part)
        np.multiply(part, part, out=part)
        if total is not None:
            buf[0] = total
        total = np.add.reduce(buf[:start + m], axis=0)
    std = np.sqrt(total / n)
    # Scale-free: a column whose train values span at most 1e-12 of their magnitude is constant, and dividing by
    # std = inf makes it exactly zero in both sets. (The float64 mean of identical values can be an ulp off:
    # 1e100 - mean(1e100, ...) was +-1e84, not 0.)
    hi, lo = X.max(axis=0), X.min(axis=0)
    constant = (hi - lo) <= 1e-12 * np.maximum(np.abs(hi), np.abs(lo))
    return ColumnStats(mean, np.where(constant, np.inf, std))


def standardize_into(out: np.ndarray, block: np.ndarray, stats: ColumnStats) -> None:
    """out[...] = (block - mean) / std (float64 arithmetic, then out's dtype); block may be out itself."""
    with np.errstate(over="ignore"):  # callers check finiteness after a float32 cast
        if stats.mean is None:
            out[...] = block
        elif out.dtype == np.float64:
            np.subtract(block, stats.mean, out=out)
            if stats.std is not None:
                np.divide(out, stats.std, out=out)
        else:
            t = block - stats.mean
            if stats.std is not None:
                np.divide(t, stats.std, out=t)
            out[...] = t


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


class _Draw(NamedTuple):
    """n examples being drawn: `blocks(rows)` yields their features, float64 blocks of `rows` rows in order, drawing
    from the generator as it goes (the same numbers as one draw of all n); `labels()`, called after the last
    block, gives y. A sampler `sample(n) -> _Draw` draws in the order its docstring's one-shot version would."""
    blocks: Callable[[int], Iterator[np.ndarray]]
    labels: Callable[[], np.ndarray]


def _planar(make_xy):
    """Wrap a 2-D generator `(rng, n, n_classes, noise) -> (X (n, 2), y)`, appending nuisance columns."""
    def sampler(rng, n_features, n_classes, noise, condition_number):
        def sample(n):
            X, y = make_xy(rng, n, n_classes, noise)  # (n, 2)

            def blocks(rows):  # as np.hstack([X, rng.standard_normal((n, n_features - 2))])
                for i in range(0, n, rows):
                    m = min(rows, n - i)
                    out = np.empty((m, n_features))
                    out[:, :2] = X[i:i + m]
                    out[:, 2:] = rng.standard_normal((m, n_features - 2))
                    yield out
            return _Draw(blocks, lambda: y)
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

        def blocks(rows):  # as centers[y] + rng.normal(0.0, 0.5 + 5.0 * noise, (n, n_features))
            for i in range(0, n, rows):
                out = rng.normal(0.0, 0.5 + 5.0 * noise, (min(rows, n - i), n_features))
                out += centers[y[i:i + rows]]
                yield out
        return _Draw(blocks, lambda: y)
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
        xw = np.empty(n)

        def blocks(rows):  # X = rng.standard_normal((n, D)) @ root_cov.T, then y = X @ w + b + noise * eps
            for i in range(0, n, rows):
                X = rng.standard_normal((min(rows, n - i), D)) @ root_cov.T
                xw[i:i + len(X)] = X @ w
                yield X
        return _Draw(blocks, lambda: xw + b + noise * rng.standard_normal(n))
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
