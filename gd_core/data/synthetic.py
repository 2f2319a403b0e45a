"""Synthetic datasets for the lab: `make_dataset` draws train and validation sets from one seeded distribution.

`make_dataset` also loads the real sets of `real.py` by name (`REAL_DATASETS`), and `dataset_info` describes both.
Each generator writes its rows into the shared pipeline of `dataset.py` (the `Dataset` type every loader returns);
a user's CSV becomes the same `Dataset` through `csv.load_csv_dataset`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np

from .dataset import (
    Dataset,
    RawRows,
    block_rows,
    check_dtype,
    column_stats,
    finish_targets,
    flip_labels,
    is_int,
    is_real,
    standardize_into,
    target_scale,
    tile_index,
)
from .real import REAL_DATASETS, load_real_dataset, real_set

DATASETS = ("linear", "blobs", "spiral", "moons", "circles", "xor")


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
    """Task, fixed class count and intrinsic dimension of a generator or a real set, without making anything."""
    if name in REAL_DATASETS:
        s = real_set(name)
        return DatasetInfo(s.task, s.n_classes, None)
    if name not in _INFO:
        raise ValueError(f"dataset must be one of {', '.join((*DATASETS, *REAL_DATASETS))}; got {name!r}")
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

    A real set's name (`REAL_DATASETS`: iris, wine, breast_cancer, digits, diabetes) loads that set
    (`real.load_real_dataset`): it fixes its own size, so n_samples, n_features, n_classes, noise and
    condition_number are ignored.
    """
    if name in REAL_DATASETS:
        return load_real_dataset(name, label_noise=label_noise, n_unique=n_unique, val_fraction=val_fraction,
                                 standardize=standardize, seed=seed, dtype=dtype)
    n_train, n_val = _check_args(name, n_samples, n_features, n_classes, noise, condition_number,
                                 n_unique, label_noise, val_fraction, seed)
    dtype = check_dtype(dtype)
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
        idx = tile_index(rng, k, n_train)
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

    flip_labels(rng, y_train, label_noise, info.task, n_classes)

    names = tuple(f"x{i}" for i in range(n_features))
    classes = None if n_classes is None else tuple(str(c) for c in range(n_classes))
    scale = target_scale(y_train, info.task, standardize)
    y_train, y_val = finish_targets(y_train, y_val, info.task, standardize, dtype)
    return Dataset(name, X_train.finish(stats, dtype), y_train, X_val, y_val, info.task, n_classes, names, classes,
                   scale)


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


def _check_args(name, n_samples, n_features, n_classes, noise, condition_number, n_unique,
                label_noise, val_fraction, seed):
    """Validate once at the entry point; return (n_train, n_val)."""
    info = dataset_info(name)
    if not is_int(n_samples) or n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2; got {n_samples!r}")
    min_features = info.intrinsic_dim or 1
    if not is_int(n_features) or n_features < min_features:
        raise ValueError(f"n_features must be an integer >= {min_features} for dataset {name!r}; "
                         f"got {n_features!r}")
    if info.task == "classification" and info.fixed_n_classes is None:
        if not is_int(n_classes) or n_classes < 2:
            raise ValueError(f"n_classes must be an integer >= 2 for dataset {name!r}; got {n_classes!r}")
    if not is_real(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0; got {noise!r}")
    if not is_real(condition_number) or condition_number < 1:
        raise ValueError(f"condition_number must be a finite number >= 1; got {condition_number!r}")
    if name == "linear" and condition_number > 1 and n_features < 2:
        raise ValueError(f"condition_number > 1 needs n_features >= 2; got condition_number="
                         f"{condition_number!r} with n_features=1")
    if not is_real(label_noise) or not 0 <= label_noise < 1:
        raise ValueError(f"label_noise must be in [0, 1); got {label_noise!r}")
    if not is_real(val_fraction) or not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1); got {val_fraction!r}")
    if not is_int(seed) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0; got {seed!r}")
    n_val = round(n_samples * val_fraction)
    n_train = n_samples - n_val
    if n_train < 1:
        raise ValueError(f"val_fraction={val_fraction!r} leaves no training examples out of "
                         f"n_samples={n_samples}; lower val_fraction or raise n_samples")
    if n_unique is not None and (not is_int(n_unique) or not 1 <= n_unique <= n_train):
        raise ValueError(f"n_unique must be None or an integer in [1, n_train={n_train}]; got {n_unique!r}")
    return n_train, n_val
