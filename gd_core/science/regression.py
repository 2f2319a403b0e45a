"""Regression in numbers a reader knows: the RMSE in the target's own units and R², from a summary's exact losses.

The least-squares loss is L = |Xw + b - y|^2 / (2n) + 0.5 reg |W|^2 on the standardised target. With reg = 0 the
mean squared error is 2L (standardised units), so RMSE = sqrt(2L) * `Dataset.target_scale` (the target's raw
standard deviation) and R² = 1 - 2L / Var(y) over the same set (scikit-learn's `r2_score`: the set's own mean).
With reg > 0 the logged loss includes the penalty and the error alone is not in the log: the columns are NaN.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from ..data.dataset import Dataset

REGRESSION_COLUMNS = ("final_train_rmse", "final_val_rmse", "final_train_r2", "final_val_r2")


class TargetStats(NamedTuple):
    """What RMSE and R² need from a regression dataset: small, so a page can cache it."""
    scale: float | None  # Dataset.target_scale: raw units per standardised unit (None: unknown)
    var_train: float  # variance of the (standardised) training targets
    var_val: float  # of the validation targets (NaN without validation rows)


def target_stats(ds: Dataset) -> TargetStats | None:
    """The regression facts of `ds`; None for classification."""
    if ds.task != "regression":
        return None
    var = [float(np.var(np.asarray(y, np.float64))) if len(y) else np.nan for y in (ds.y_train, ds.y_val)]
    return TargetStats(ds.target_scale, *var)


def rmse_and_r2(loss, var: float, scale: float | None) -> tuple[np.ndarray, np.ndarray]:
    """(RMSE in the target's units, R²) from least-squares losses (reg = 0) on a set whose standardised targets
    have variance `var`. RMSE is NaN when the scale is unknown (None), R² when the variance is 0 or NaN."""
    mse = 2.0 * np.asarray(loss, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        rmse = np.sqrt(mse) * (np.nan if scale is None else scale)
    r2 = 1.0 - mse / var if var > 0 else np.full(mse.shape, np.nan)
    return rmse, r2


def regression_metrics(summary: pd.DataFrame, stats: TargetStats | None, reg: float) -> pd.DataFrame:
    """A copy of `summary` (gd_core.summarize's) with REGRESSION_COLUMNS for its least-squares runs, `stats` being
    `target_stats` of their dataset (NaN on other rows, and everywhere when reg > 0: see the module's docstring)."""
    out = summary.copy()
    for column in REGRESSION_COLUMNS:
        out[column] = np.nan
    rows = (out["problem"] == "least_squares").to_numpy() if "problem" in out else np.zeros(len(out), bool)
    if stats is None or reg > 0 or not rows.any():
        return out
    for part, var in (("train", stats.var_train), ("val", stats.var_val)):
        rmse, r2 = rmse_and_r2(out.loc[rows, f"final_{part}_loss"].to_numpy(dtype=float), var, stats.scale)
        out.loc[rows, f"final_{part}_rmse"], out.loc[rows, f"final_{part}_r2"] = rmse, r2
    return out
