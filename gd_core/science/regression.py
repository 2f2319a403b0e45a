"""Regression in numbers a reader knows: the RMSE in the target's own units and R², from a summary's exact losses.

The least-squares loss is L = |Xw + b - y|^2 / (2n) + 0.5 reg |W|^2 on the standardised target. With reg = 0 the
mean squared error is 2L (standardised units), so RMSE = sqrt(2L) * `Dataset.target_scale` (the target's raw
standard deviation) and R² = 1 - 2L / Var(y) over the same set (scikit-learn's `r2_score`: the set's own mean).
With reg > 0 the logged loss includes the penalty and the error alone is not in the log: the columns are NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.dataset import Dataset

REGRESSION_COLUMNS = ("final_train_rmse", "final_val_rmse", "final_train_r2", "final_val_r2")


def rmse_and_r2(loss: np.ndarray, y: np.ndarray, scale: float | None) -> tuple[np.ndarray, np.ndarray]:
    """(RMSE in the target's units, R²) from least-squares losses (reg = 0) on a set with standardised targets y.
    RMSE is NaN when the scale is unknown (None), R² when the set is empty or its targets constant."""
    loss = np.asarray(loss, dtype=float)
    mse = 2.0 * loss
    with np.errstate(invalid="ignore", over="ignore"):
        rmse = np.sqrt(mse) * (np.nan if scale is None else scale)
    var = float(np.var(np.asarray(y, np.float64))) if len(y) else 0.0
    r2 = 1.0 - mse / var if var > 0 else np.full(loss.shape, np.nan)
    return rmse, r2


def regression_metrics(summary: pd.DataFrame, ds: Dataset, reg: float) -> pd.DataFrame:
    """A copy of `summary` (gd_core.summarize's) with REGRESSION_COLUMNS for its least-squares runs on `ds`
    (NaN on other rows, and everywhere when reg > 0: see the module's docstring)."""
    out = summary.copy()
    for column in REGRESSION_COLUMNS:
        out[column] = np.nan
    rows = (out["problem"] == "least_squares").to_numpy() if "problem" in out else np.zeros(len(out), bool)
    if ds.task != "regression" or reg > 0 or not rows.any():
        return out
    for part, y in (("train", ds.y_train), ("val", ds.y_val)):
        rmse, r2 = rmse_and_r2(out.loc[rows, f"final_{part}_loss"].to_numpy(dtype=float), y, ds.target_scale)
        out.loc[rows, f"final_{part}_rmse"], out.loc[rows, f"final_{part}_r2"] = rmse, r2
    return out
