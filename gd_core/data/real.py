"""Small real datasets shipped with the lab as CSV files (`real_csv/`, provenance and licences in its PROVENANCE.md):
scikit-learn's bundled copies of iris, wine, breast cancer, the optdigits 8x8 digits and diabetes, written once by
`tests/data/record_real_datasets.py`. They load offline, without scikit-learn.

A real set fixes its size: `n_samples`, `n_features` and (classification) `n_classes` are the file's. It is split
into training and validation rows by a seeded permutation (`val_fraction`, `seed`), and takes the same
`label_noise`, `n_unique` and `standardize` options as the generators.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from .dataset import (
    Dataset,
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

DATA_DIR = Path(__file__).resolve().parent / "real_csv"


class RealSet(NamedTuple):
    title: str  # what the examples are
    task: str  # "regression" | "classification"
    n_samples: int
    n_features: int
    n_classes: int | None  # None for regression
    class_names: tuple[str, ...] | None  # the name of class index i, as scikit-learn's target_names
    image_shape: tuple[int, int] | None  # the features are an image's pixels, row by row
    target: str  # what the target is (regression: its unit)


REAL = {
    "iris": RealSet("iris flowers: 4 measurements in cm, 3 species", "classification", 150, 4, 3,
                    ("setosa", "versicolor", "virginica"), None, "species"),
    "wine": RealSet("wines: 13 chemical measurements, 3 cultivars", "classification", 178, 13, 3,
                    ("class_0", "class_1", "class_2"), None, "cultivar"),
    "breast_cancer": RealSet("breast mass cell nuclei: 30 features of an image, malignant or benign",
                             "classification", 569, 30, 2, ("malignant", "benign"), None, "diagnosis"),
    "digits": RealSet("handwritten digits: 8x8 images, pixel values 0-16", "classification", 1797, 64, 10,
                      tuple(str(d) for d in range(10)), (8, 8), "digit"),
    "diabetes": RealSet("diabetes patients: age, sex, BMI, blood pressure, 6 blood serum measurements",
                        "regression", 442, 10, None, None, None,
                        "disease progression one year after baseline (a quantitative score)"),
}
REAL_DATASETS = tuple(REAL)


def real_set(name: str) -> RealSet:
    if name not in REAL:
        raise ValueError(f"dataset must be one of {', '.join(REAL_DATASETS)}; got {name!r}")
    return REAL[name]


def fixed_sizes(name: str) -> dict[str, int]:
    """The config fields a real set fixes: n_samples, n_features and, for classification, n_classes."""
    s = real_set(name)
    sizes = {"n_samples": s.n_samples, "n_features": s.n_features}
    if s.n_classes is not None:
        sizes["n_classes"] = s.n_classes
    return sizes


def read_real_csv(name: str) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """(feature names, X (n, D) float64, y (n,)) as stored: y int64 class indices, or float64 for regression.
    Raises ValueError if the file is missing or does not hold the registered shape."""
    s, path = real_set(name), DATA_DIR / f"{name}.csv"
    try:
        with open(path, encoding="utf-8") as fh:
            header = fh.readline().rstrip("\n").split(",")
            values = np.loadtxt(fh, delimiter=",", dtype=np.float64, ndmin=2)
    except (OSError, ValueError) as e:
        raise ValueError(f"the bundled dataset file {path.name} cannot be read ({e}); it ships with the lab in "
                         f"{DATA_DIR}: restore it from the repository") from None
    if values.shape != (s.n_samples, s.n_features + 1) or len(header) != s.n_features + 1:
        raise ValueError(f"the bundled dataset file {path.name} holds {values.shape[0]} rows of {values.shape[1]} "
                         f"columns; expected {s.n_samples} rows of {s.n_features + 1}: restore it from the repository")
    y = values[:, -1]
    if s.task == "classification":
        y = y.astype(np.int64)
    return tuple(header[:-1]), np.ascontiguousarray(values[:, :-1]), y


def load_real_dataset(name: str, *, label_noise=0.0, n_unique=None, val_fraction=0.2, standardize=True, seed=0,
                      dtype="float64") -> Dataset:
    """A real set split by a seeded permutation: the first round(n * val_fraction) rows of it are validation.

    n_unique=k: the training set is its first k rows tiled and shuffled to the same size; label_noise=p:
    round(p * n_train) training labels become another class (regression: those targets shuffled), as in
    `make_dataset`. Features standardised with the training rows' statistics; a regression target too, and
    the Dataset's `target_scale` is its standard deviation in the file's units.
    """
    s = real_set(name)
    if not is_real(label_noise) or not 0 <= label_noise < 1:
        raise ValueError(f"label_noise must be in [0, 1); got {label_noise!r}")
    if not is_real(val_fraction) or not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1); got {val_fraction!r}")
    if not is_int(seed) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0; got {seed!r}")
    dtype = check_dtype(dtype)
    n_val = round(s.n_samples * val_fraction)
    n_train = s.n_samples - n_val
    if n_unique is not None and (not is_int(n_unique) or not 1 <= n_unique <= n_train):
        raise ValueError(f"n_unique must be None or an integer in [1, n_train={n_train}]; got {n_unique!r}")
    names, X, y = read_real_csv(name)
    rng = np.random.default_rng(seed)
    order = rng.permutation(s.n_samples)
    train, val = order[n_val:], order[:n_val]
    if n_unique is not None:
        train = train[:n_unique][tile_index(rng, n_unique, n_train)]
    X_train, y_train = X[train], y[train]  # fancy indexing: copies, the file's arrays stay as read
    flip_labels(rng, y_train, label_noise, s.task, s.n_classes)
    stats = column_stats(X_train, standardize)
    X_train_out, X_val = np.empty(X_train.shape, dtype), np.empty((n_val, s.n_features), dtype)
    standardize_into(X_train_out, X_train, stats)
    standardize_into(X_val, X[val], stats)
    scale = target_scale(y_train, s.task, standardize)
    y_train, y_val = finish_targets(y_train, y[val], s.task, standardize, dtype)
    return Dataset(name, X_train_out, y_train, X_val, y_val, s.task, s.n_classes, names, s.class_names, scale)
