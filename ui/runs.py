"""The Runs page's helpers: read uploaded run logs, overlay them, chart and summarise them. No `st.*` here.

A log is the engine's long frame (`gd_core.results.LOG_COLUMNS`, one row per run per checkpoint). When
several files are overlaid, `run_id` gets the file name as a prefix and a `source` column names the file.
Charts are the home page's builders (`ui.charts`): colour is the batch size, line dash tells files apart.
"""

from __future__ import annotations

import io
from typing import NamedTuple

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from gd_core import ExperimentConfig, read_log_csv, summarize

from . import charts
from .text import html_escape

X_AXES = ("epoch", "step", "wall_time_s", "examples_seen")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
SUMMARY_COLUMNS = ("run_id", "batch_size", "base_lr", "seed", "status", "steps", "epochs", "final_train_loss",
                   "final_val_loss", "best_train_loss", "final_val_accuracy", "steps_to_target",
                   "examples_to_target", "seconds_to_target")
# Small enough for the smallest hosted machine: three batch sizes, 3 epochs of 400 blobs.
EXAMPLE_CONFIG = ExperimentConfig(n_samples=500, batch_sizes=(1, 32, "full"), budget=3.0, n_checkpoints=60)


class LoadedLogs(NamedTuple):
    log: pd.DataFrame | None  # all files' rows; None when no file could be read
    errors: list[tuple[str, str]]  # (file name, what is wrong with it)
    sources: list[str]  # names of the files that loaded, in upload order


def read_log(name: str, data: bytes) -> tuple[pd.DataFrame | None, str | None]:
    """(log, None) for a good run log, (None, message) for a bad one; never raises for bad content."""
    try:
        return read_log_csv(io.BytesIO(data)), None
    except ValueError as e:  # LogFormatError is a ValueError; so are pandas' parser errors
        return None, str(e)


def combine_logs(named: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    """Stack logs; with several files, prefix run_id with the file name so runs stay distinct.

    Adds `source`: the file name, made unique.
    """
    frames, seen = [], {}
    for name, log in named:
        seen[name] = seen.get(name, 0) + 1
        source = name if seen[name] == 1 else f"{name} ({seen[name]})"
        log = log.copy()
        log["source"] = source
        if len(named) > 1:
            log["run_id"] = source + ": " + log["run_id"]
        frames.append(log)
    return pd.concat(frames, ignore_index=True)


def load_logs(files: list[tuple[str, bytes]], reader=read_log) -> LoadedLogs:
    """Read every (name, bytes); bad files are reported in `errors` and the others still load."""
    good, errors = [], []
    for name, data in files:
        log, error = reader(name, data)
        if error is None:
            good.append((name, log))
        else:
            errors.append((name, error))
    if not good:
        return LoadedLogs(None, errors, [])
    log = combine_logs(good)
    return LoadedLogs(log, errors, list(dict.fromkeys(log["source"])))


def overlay(builder, log: pd.DataFrame, **kwargs) -> go.Figure:
    """`builder(log_of_one_file, n_train=..., **kwargs)` (a `ui.charts` builder) drawn once per source file.

    One file: exactly the home page's figure. Several: their traces in one figure, the file named in the legend
    and told apart by line dash (colour stays the batch size's).
    """
    sources = list(dict.fromkeys(log["source"])) if "source" in log else [None]
    figs = []
    for source in sources:
        part = log if source is None else log[log["source"] == source]
        n_train = charts.infer_n_train(part)
        figs.append(builder(part.drop(columns=["source", "n_train"], errors="ignore"), n_train=n_train, **kwargs))
    if len(figs) == 1:
        return figs[0]
    traces = []
    for i, (source, part) in enumerate(zip(sources, figs, strict=True)):
        for trace in part.data:
            trace.update(name=f"{trace.name} · {html_escape(source)}", legendgroup=f"{source}: {trace.legendgroup}")
            if trace.mode != "markers":
                trace.update(line_dash=DASHES[i % len(DASHES)])
            traces.append(trace)
    fig = figs[0]  # its layout: the subplots and axes every file's builder made alike
    fig.data = ()
    fig.add_traces(traces)
    fig.update_yaxes(range=None, autorange=True)  # each file clipped its own diverged runs; fit them all
    return fig


def default_target(log: pd.DataFrame, metric: str = "train_loss") -> float:
    """A target every run that trained reached: 1.1 x the largest of the runs' best losses (3 significant digits)."""
    best = log.groupby("run_id")[metric].min().to_numpy(dtype=float)
    best = best[np.isfinite(best)]
    if best.size == 0:
        return 1.0
    return float(f"{1.1 * best.max():.3g}")


def summary_table(log: pd.DataFrame, target_loss: float | None, metric: str = "train_loss") -> pd.DataFrame:
    """`gd_core.summarize` with the columns worth showing, in a readable order."""
    summary = summarize(log, target_loss, metric=metric)
    return summary[[c for c in SUMMARY_COLUMNS if c in summary]]
