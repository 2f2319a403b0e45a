"""A run's log rows, built alike by the one-by-one loop (runner.py) and stacked runs (stacked.py)."""

from __future__ import annotations

import math

import numpy as np

from ..data.batching import examples_after


def checkpoint_row(meta: dict, step: int, n: int, batch_size: int, sampling: str, wall_time: float, lr: float,
                   batch_loss: float, measured: dict) -> dict:
    """The log row of checkpoint `step`: the run's `meta`, where it is (epoch, examples seen), the evaluator's
    `measured` values; the exact final losses (`*_full`) are filled in on the run's last row only."""
    seen = examples_after(step, n, batch_size, sampling)
    return {**meta, "step": step, "epoch": seen / n, "examples_seen": seen, "wall_time_s": wall_time, "lr": lr,
            "batch_loss": float(batch_loss), **measured, "train_loss_full": np.nan, "val_loss_full": np.nan}


def add_row(rows: list[dict], row: dict) -> None:
    """Appends a checkpoint's row, one row per step: a run whose update right after a checkpoint diverged (the
    update is not taken) is logged again at that step, and that row, with the diverging batch loss, replaces
    the checkpoint's (as a run that diverges between checkpoints ends on a row with its diverging batch loss)."""
    if rows and rows[-1]["step"] == row["step"]:
        rows[-1] = row
    else:
        rows.append(row)


def stamp_status(rows: list[dict], status: str) -> None:
    """Writes the run's final status on every row; an "ok" run whose last training loss is not finite diverged."""
    if status == "ok" and not math.isfinite(rows[-1]["train_loss"]):
        status = "diverged"
    for r in rows:
        r["diverged"], r["status"] = status == "diverged", status
