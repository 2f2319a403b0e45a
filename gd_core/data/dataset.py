"""The `Dataset` every loader returns, and the data pipeline both loaders share.

Rows are written raw into a `RawRows` (float64), standardised in place with the training set's statistics
(`column_stats`, `standardize_into`) and cast to the run's dtype: the data is never held twice. The generators
are in `synthetic.py`, the CSV loader in `csv.py`.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from dataclasses import dataclass
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np

BLOCK_VALUES = 1 << 17  # numbers in one block of rows the data pipeline works on: 1 MB of float64, stays in cache
MAX_FEATURES = 1000  # generated data's n_features; a CSV may have this many feature columns (+ the target)

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
    target_scale: float | None = None  # regression: one unit of y is this much of the raw target (None: unknown)

    @property
    def n_train(self) -> int:
        return self.X_train.shape[0]

    @property
    def n_val(self) -> int:
        return self.X_val.shape[0]

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]


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
    y_train, y_val = finish_targets(y_train, y_val, task, standardize, dtype)
    return Dataset(name, raw.finish(stats, dtype), y_train, out, y_val, task, n_classes, tuple(feature_names),
                   None if class_names is None else tuple(class_names))


def finish_targets(y_train, y_val, task, standardize, dtype):
    """Regression targets standardised with train statistics and cast to dtype; class indices as int64."""
    if task != "regression":
        return np.ascontiguousarray(y_train, np.int64), np.ascontiguousarray(y_val, np.int64)
    y_train, y_val = np.asarray(y_train, np.float64), np.asarray(y_val, np.float64)
    if standardize:
        y_train, y_val = (a[:, 0] for a in standardize_columns(y_train[:, None], y_val[:, None], False))
    with np.errstate(over="ignore"):  # callers check finiteness after a float32 cast
        return np.ascontiguousarray(y_train, dtype), np.ascontiguousarray(y_val, dtype)


def target_scale(y_train, task, standardize) -> float | None:
    """A regression target's raw standard deviation when `finish_targets` standardises it (1.0 when it does not,
    or the target is constant); None for classification. RMSE in the target's units = RMSE of y * this."""
    if task != "regression":
        return None
    y = np.asarray(y_train, np.float64)
    if not standardize or len(y) == 0 or np.ptp(y) <= 1e-12 * np.max(np.abs(y)):
        return 1.0
    return float(y.std())


def tile_index(rng, k: int, n: int) -> np.ndarray:
    """Rows 0..k-1 repeated to n rows and shuffled (n_unique: every minibatch sees the repeats)."""
    return rng.permutation(np.resize(np.arange(k), n))


def flip_labels(rng, y_train: np.ndarray, label_noise: float, task: str, n_classes: int | None) -> None:
    """In place: round(label_noise * n) training labels become a uniformly random *other* class; for regression
    those targets are shuffled among themselves (the X-y link broken, the targets' mean and std unchanged)."""
    n = len(y_train)
    n_flip = round(label_noise * n)
    if n_flip:
        idx = rng.choice(n, size=n_flip, replace=False)
        if task == "classification":
            y_train[idx] = (y_train[idx] + rng.integers(1, n_classes, size=n_flip)) % n_classes
        else:
            y_train[idx] = y_train[rng.permutation(idx)]  # same multiset: target statistics unchanged


def block_rows(n_features: int, block_values: int | None = None) -> int:
    """Rows in one block of the data pipeline (`block_values` numbers, default BLOCK_VALUES)."""
    return max(1, (BLOCK_VALUES if block_values is None else block_values) // max(1, n_features))


def populated(nbytes: int) -> mmap.mmap:
    """Anonymous, page-aligned memory, populated at once (every byte is written next): faster than a fault a page."""
    if hasattr(mmap, "MAP_POPULATE"):  # Linux
        return mmap.mmap(-1, max(1, nbytes), flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | mmap.MAP_POPULATE)
    return mmap.mmap(-1, max(1, nbytes))


class RawRows:
    """An (n, D) float64 array that becomes the final (n, D) array of the run's dtype in place.

    Rows are written raw (`fill`, or `raw[...]`); `finish(stats, dtype)` standardises them block by block and,
    for float32, writes the results into the first half of the same memory (row i's float32 values end before
    row i+1's float64 values start, so nothing unread is overwritten) and returns the second half to the
    system. The data is never held twice.
    """

    def __init__(self, n: int, n_features: int):
        self.shape = (n, n_features)
        self._map = populated(n * n_features * 8)
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


class ShiftedRows:
    """(n_train + n_val, D) float32 rows that arrive in blocks, standardised in place once all have arrived.

    For float32 data, where holding every row in float64 until the statistics are known (`RawRows`) would need
    twice the data's memory. A column is stored as (x - shift) / 2**k, shift and k from the first block written
    (its median, and its largest |x - shift|), so float32's rounding is relative to the column's spread, not to
    its offset: the standardised values differ from `RawRows`'s by ~1e-7 of the column's std (tests/datasets).
    The statistics are those of the stored training rows (shift and scale cancel); the (near-)constant test uses
    their span mapped back to the column's units. The same blocks give the same result bit for bit. `write`
    raises `SpreadTooWide` for a value 2**100 times the first block's spread (float32's range could not keep the
    rest): the caller then stages the rows in float64 (`RawRows`).
    """

    MAX_EXPONENT = 100  # stored magnitudes stay below 2**100, far from float32's 2**128

    def __init__(self, n_train: int, n_val: int, n_features: int):
        size = (n_train + n_val) * n_features
        self.out = np.frombuffer(populated(4 * size), np.float32, size).reshape(n_train + n_val, n_features)
        self.n_train = n_train
        self.shift = self.scale = None
        self._buf = np.empty((0, n_features))  # one block of shifted rows, reused

    def write(self, rows: np.ndarray, X: np.ndarray) -> None:
        """out[rows] = the float64 block X, stored shifted (rows < n_train: training rows)."""
        if len(X) == 0:
            return
        if self.shift is None:
            self.shift = np.median(X, axis=0)
            self.scale = np.ldexp(1.0, -np.frexp(np.abs(X - self.shift).max(axis=0))[1])  # exact: a power of two
        if len(self._buf) < len(X):
            self._buf = np.empty(X.shape)
        d = self._buf[:len(X)]
        np.subtract(X, self.shift, out=d)
        np.multiply(d, self.scale, out=d)
        if not max(d.max(), -d.min()) < 2.0**self.MAX_EXPONENT:
            raise SpreadTooWide
        self.out[rows] = d

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        """(X_train, X_val): views of one C-contiguous float32 array, standardised with the training statistics."""
        train = self.out[:self.n_train]
        with np.errstate(over="ignore"):  # a column's span in its own units (inf only beyond float64: not constant)
            span = (self.shift + train.min(axis=0) / self.scale, self.shift + train.max(axis=0) / self.scale)
        stats = column_stats(train, True, span=span)
        rows = block_rows(self.out.shape[1])
        for i in range(0, len(self.out), rows):
            standardize_into(self.out[i:i + rows], self.out[i:i + rows], stats)
        return train, self.out[self.n_train:]


class SpreadTooWide(Exception):
    """A column's values span more than `ShiftedRows` can hold in float32."""


class ColumnStats(NamedTuple):
    mean: np.ndarray | None  # (D,) float64; None: no standardisation
    std: np.ndarray | None  # (D,) float64, inf for a constant column; None: centre only


def column_stats(X: np.ndarray, standardize: bool, center_only: bool = False, span=None,
                 block_values: int | None = None) -> ColumnStats:
    """Train statistics of the rows X, exactly `X.mean(axis=0)` and `X.std(axis=0)` for float64 X (the same sums in
    the same order; float32 X is summed in float64), without X.std's (n, D) temporaries; a (near-)constant column
    gets std inf (it becomes zeros). span: the columns' (lo, hi) in the original units, where X holds them shifted.
    The squares are summed a block of `block_values` numbers (default BLOCK_VALUES) at a time."""
    if not standardize or X.shape[0] == 0:
        return ColumnStats(None, None)
    mean = X.mean(axis=0, dtype=np.float64)
    if center_only:
        return ColumnStats(mean, None)
    n, d = X.shape
    rows = block_rows(d, block_values)
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
    lo, hi = (X.min(axis=0), X.max(axis=0)) if span is None else span
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


def standardize_columns(A_train, A_val, center_only):
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


def is_int(v):
    return isinstance(v, Integral) and not isinstance(v, bool)


def is_real(v):
    return isinstance(v, Real) and not isinstance(v, bool) and np.isfinite(v)


def check_dtype(dtype):
    if dtype not in ("float64", "float32", np.float64, np.float32):
        raise ValueError(f"dtype must be 'float64' or 'float32'; got {dtype!r}")
    return np.dtype(dtype)
