"""The one factory of throwaway datasets for tests: `small_dataset` (also the `small_dataset` fixture,
tests/conftest.py). Tests of the generators and loaders themselves build their data through those instead."""

from __future__ import annotations

import numpy as np

from gd_core.data.dataset import Dataset


def kind(problem: str, classes: int = 3) -> dict:
    """The task and class count of the data a problem takes: least squares regression, logistic two classes,
    the others `classes`."""
    if problem == "least_squares":
        return {"task": "regression", "classes": None}
    return {"task": "classification", "classes": 2 if problem == "logistic" else classes}


def small_dataset(task: str = "classification", n: int = 40, d: int = 4, classes: int | None = 3, n_val: int = 0,
                  dtype="float64", seed: int = 0, rng: np.random.Generator | None = None) -> Dataset:
    """A Dataset of n training and n_val validation rows: standard-normal features, then standard-normal targets
    (regression) or class indices drawn uniformly from 0..classes-1, in that order from `rng` (default
    default_rng(seed)); a caller that passes its rng draws on from it (weights, ...)."""
    rng = np.random.default_rng(seed) if rng is None else rng
    rows = n + n_val
    X = rng.standard_normal((rows, d)).astype(dtype)
    regression = task == "regression"
    y = rng.standard_normal(rows).astype(dtype) if regression else rng.integers(0, classes, rows)
    return Dataset("small", X[:n], y[:n], X[n:], y[n:], task, None if regression else classes,
                   tuple(f"x{i}" for i in range(d)), None if regression else tuple(f"c{k}" for k in range(classes)))
