"""Tidy results: the long run log, the per-run summary, and CSV files that read back to the same frame.

Log rows are checkpoints. `train_loss`, `val_loss`, accuracies and `grad_norm` are measured on the full sets
while they hold at most `eval_examples` examples, else on a fixed seeded subsample of that size (the same for
every run). `train_loss_full` / `val_loss_full` are exact full-set losses, filled on each run's last row only.
"""

from __future__ import annotations

import io
import os
from typing import NamedTuple

import numpy as np
import pandas as pd

from .config import ExperimentConfig

LOG_COLUMNS = (
    "run_id", "problem", "dataset", "optimizer", "batch_size", "base_lr", "seed", "step", "epoch",
    "examples_seen", "wall_time_s", "lr", "batch_loss", "train_loss", "val_loss", "train_accuracy",
    "val_accuracy", "grad_norm", "distance_to_optimum", "train_loss_full", "val_loss_full", "diverged", "status",
)
STR_COLUMNS = ("run_id", "problem", "dataset", "optimizer", "status")
INT_COLUMNS = ("batch_size", "seed", "step", "examples_seen")
BOOL_COLUMNS = ("diverged",)
REQUIRED_COLUMNS = tuple(c for c in LOG_COLUMNS if c not in ("distance_to_optimum", "train_loss_full",
                                                              "val_loss_full", "status"))
RUN_KEYS = ("run_id", "problem", "dataset", "optimizer", "batch_size", "base_lr", "seed")
MAX_LOG_COLUMNS = 64  # a run log has 23 columns; pandas' header handling grows quadratically with the width
_HEADER_BYTES = 1 << 16
# Spreadsheets execute cells that start with these; such cells are written behind a quote.
_RISKY = ("=", "+", "-", "@", "\t", "\r", "'")


class Results(NamedTuple):
    """What `run_experiment` returns."""

    log: pd.DataFrame  # one row per run per checkpoint (columns: LOG_COLUMNS)
    summary: pd.DataFrame  # one row per run
    config: ExperimentConfig
    paths: dict[str, str] | None = None  # run_id -> the fast path it took (gd_core.fast.dispatch names)


class LogFormatError(ValueError):
    """An uploaded run log is not one this app (or `python -m gd_core run`) wrote."""


def summarize(log: pd.DataFrame, target_loss: float | None = None, metric: str = "train_loss") -> pd.DataFrame:
    """One row per run: final and best losses, accuracy, and the cost to first reach `target_loss`.

    `steps_to_target` etc. are read at checkpoint resolution (the first checkpoint at or below the target);
    NaN where the run never got there. Final losses are the exact full-set ones where the log has them.
    Runs in order of first appearance; whole-column operations per run group (a sweep's log has hundreds).
    """
    runs = log.groupby("run_id", sort=False)
    last = runs.tail(1).set_index("run_id", drop=False)  # each run's last row, in order of first appearance
    out = pd.DataFrame({k: last[k].to_numpy() for k in RUN_KEYS})
    diverged = last["diverged"].to_numpy(dtype=bool)
    out["status"] = (last["status"].to_numpy() if "status" in log
                     else np.where(diverged, "diverged", "ok").astype(object))
    out["diverged"] = diverged
    out["steps"] = last["step"].to_numpy(dtype=np.int64)
    out["epochs"] = last["epoch"].to_numpy(dtype=float)
    out["examples_seen"] = last["examples_seen"].to_numpy(dtype=np.int64)
    out["wall_time_s"] = last["wall_time_s"].to_numpy(dtype=float)
    for name in ("train_loss", "val_loss"):
        full = last[f"{name}_full"].to_numpy(dtype=float) if f"{name}_full" in log else np.full(len(last), np.nan)
        out[f"final_{name}"] = np.where(pd.notna(full), full, last[name].to_numpy(dtype=float))
    losses = log[["train_loss", "val_loss"]].astype(float)  # non-finite values (a diverged run's inf) do not count
    best = losses.where(np.isfinite(losses)).groupby(log["run_id"], sort=False).min().reindex(last.index)
    out["best_train_loss"], out["best_val_loss"] = best["train_loss"].to_numpy(), best["val_loss"].to_numpy()
    out["final_train_accuracy"] = last["train_accuracy"].to_numpy(dtype=float)
    out["final_val_accuracy"] = last["val_accuracy"].to_numpy(dtype=float)
    if target_loss is not None:
        first = log[log[metric] <= target_loss].groupby("run_id", sort=False).head(1).set_index("run_id")
        first = first.reindex(last.index)  # NaN rows where a run never got there
        out["target_loss"] = float(target_loss)
        out["steps_to_target"] = first["step"].to_numpy(dtype=float)
        out["examples_to_target"] = first["examples_seen"].to_numpy(dtype=float)
        out["seconds_to_target"] = first["wall_time_s"].to_numpy(dtype=float)
    return out


# -- CSV -------------------------------------------------------------------------------------------------

def _protect(v):
    return "'" + v if isinstance(v, str) and v.startswith(_RISKY) else v


def _unprotect(v: str) -> str:
    return v[1:] if v.startswith("'") else v


def to_csv(df: pd.DataFrame, path_or_buf=None) -> str | None:
    """Write a frame as CSV (floats exact; risky text cells quoted for spreadsheets). Returns text if no path."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(_protect)
    return out.to_csv(path_or_buf, index=False, lineterminator="\n")


def read_log_csv(path_or_buf) -> pd.DataFrame:
    """Read a run log written by `to_csv`: the same columns, dtypes and values (float round trip exact)."""
    _check_header_width(path_or_buf)
    try:
        raw = pd.read_csv(path_or_buf, dtype=str, keep_default_na=False)
    except UnicodeDecodeError:
        raise LogFormatError("the run log is not UTF-8 text; upload a CSV exported by this app") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise LogFormatError(f"the run log is not a readable CSV: {str(e).strip()}") from None
    # pandas renames a repeated header "step" to "step.1": a log with two "step" columns is ambiguous
    dupes = [base for base, _, n in (c.rpartition(".") for c in raw.columns) if base in raw.columns and n.isdigit()]
    if dupes:
        raise LogFormatError(f"the run log has duplicate column name(s) {', '.join(dupes)}; "
                             "each column may appear once")
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        raise LogFormatError(f"the run log lacks column(s) {', '.join(missing)}; a run log exported by this app "
                             f"has {', '.join(REQUIRED_COLUMNS)}")
    if raw.empty:
        raise LogFormatError("the run log has a header but no rows")
    df = pd.DataFrame(index=raw.index)
    for c in raw.columns:
        col = raw[c]
        try:
            if c in STR_COLUMNS:
                df[c] = col.map(_unprotect).astype(str)
            elif c in INT_COLUMNS:
                df[c] = col.astype("int64")
            elif c in BOOL_COLUMNS:
                df[c] = col.str.lower().map({"true": True, "false": False, "1": True, "0": False})
                if df[c].isna().any():
                    raise ValueError("expected True or False")
                df[c] = df[c].astype(bool)
            else:
                df[c] = col.replace("", "nan").astype(float)
        except (ValueError, TypeError, OverflowError):
            bad = _first_bad_row(col, c)
            raise LogFormatError(f"column {c!r} has a bad value {col.iloc[bad]!r} at data row {bad + 1}") from None
    return df


def _check_header_width(path_or_buf) -> None:
    """Raise LogFormatError if the first non-blank line has more than MAX_LOG_COLUMNS fields: read before
    pandas, which takes seconds on 20,000 columns and minutes on a million."""
    if isinstance(path_or_buf, str | os.PathLike):
        try:
            with open(path_or_buf, "rb") as fh:
                return _check_header_width(io.BytesIO(fh.read(_HEADER_BYTES + 1)))
        except OSError:
            return  # pandas reports a missing or unreadable file
    if not (hasattr(path_or_buf, "readline") and hasattr(path_or_buf, "seek")):
        return
    start = path_or_buf.tell()
    line, read = "", 0
    while read <= _HEADER_BYTES:
        line = path_or_buf.readline(_HEADER_BYTES + 1 - read)
        read += len(line)
        if not line or line.strip():
            break
    path_or_buf.seek(start)
    comma = b"," if isinstance(line, bytes) else ","
    n = line.count(comma) + 1
    if n > MAX_LOG_COLUMNS or read > _HEADER_BYTES:
        raise LogFormatError(f"the run log's header has {'more than ' if read > _HEADER_BYTES else ''}{n:,} "
                             f"columns; a run log has at most {MAX_LOG_COLUMNS} (this app writes "
                             f"{len(LOG_COLUMNS)}): upload a CSV exported by this app")


def _first_bad_row(col: pd.Series, name: str) -> int:
    for i, v in enumerate(col):
        try:
            if name in INT_COLUMNS:
                int(v)
            elif name in BOOL_COLUMNS:
                assert v.lower() in ("true", "false", "1", "0")
            else:
                float(v or "nan")
        except (ValueError, AssertionError):
            return i
    return 0


def log_from_text(text: str) -> pd.DataFrame:
    return read_log_csv(io.StringIO(text))
