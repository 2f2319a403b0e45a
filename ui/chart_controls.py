"""Controls beside the charts (outside the form): they restyle or re-summarise, never rerun the engine."""

from __future__ import annotations

from collections.abc import MutableMapping

import numpy as np
import pandas as pd
import streamlit as st

from gd_core import ExperimentConfig
from gd_core.config import TARGET_METRICS
from ui.i18n import t


def view_controls(n_seeds: int = 1) -> dict:
    """The home chart's view. The curves are measured losses and are never smoothed: the smoothing (an EMA by
    x-distance) is for the noisy mini-batch loss, drawn faint behind them on request. A control is drawn only
    while it applies (smoothing while the mini-batch loss is shown, the seeds' band for runs of several seeds),
    and keeps its value while it is not: a cold browser lays out the page once for every slider it draws."""
    c1, c2, c3 = st.columns(3)
    # log / linear y: the chart's own buttons, in the browser (ui/animation.py); `view_log_y` (a preset may set it)
    # only picks the axis the chart starts with
    shown = c1.toggle(t("view.batch_loss"), key="view_batch_loss", help=t("view.batch_loss_help"))
    smoothing = (c2.slider(t("view.smoothing"), 0.0, 0.99, step=0.01, **_remembered("view_smoothing", 0.0))
                 if shown else st.session_state.get("_view_smoothing", 0.0))
    bands = tuple(BAND_LABELS)
    band = (c3.radio(t("view.seeds"), bands, horizontal=True, format_func=lambda b: t(BAND_LABELS[b]),
                     **_remembered("view_band", bands[0]))
            if n_seeds > 1 else st.session_state.get("_view_band", bands[0]))
    return dict(log_y=bool(st.session_state.get("view_log_y", False)), show_batch_loss=shown,
                smoothing=smoothing, band=band)


# the seeds' band choices (ui.charts.BANDS) in the order offered, the default first, with their message ids
BAND_LABELS = {"minmax": "view.band_minmax", "std": "view.band_std", "none": "view.band_none"}
METRIC_XS = ("epoch", "step", "wall_time_s", "examples_seen")


def metric_x_picker() -> str:
    """The x axis of the metric grid. Drawn only while the grid is shown; its choice is kept while it is not."""
    return st.selectbox(t("view.metric_x"), METRIC_XS, **_remembered("view_metric_x", METRIC_XS[0]))


def _remembered(key: str, default) -> dict:
    """A widget's key and callback such that its value outlives the runs it is not drawn in (Streamlit drops a
    widget's state in a run that does not draw it): the value is kept under the plain key `_<key>`."""
    s = st.session_state
    s[key] = s.get(f"_{key}", default)
    return dict(key=key, on_change=_keep, args=(s, key))


def _keep(state: MutableMapping, key: str) -> None:
    state[f"_{key}"] = state[key]


def suggest_target(summary: pd.DataFrame, metric: str) -> float | None:
    """A target about half the runs reach: the median best loss of the runs that did not diverge."""
    ok = summary.loc[~summary["diverged"], f"best_{metric}"].to_numpy(dtype=float)
    ok = ok[np.isfinite(ok)]
    return float(f"{np.median(ok) * 1.05:.2g}") if len(ok) else None


def target_controls(summary: pd.DataFrame, config: ExperimentConfig) -> tuple[float | None, str]:
    s = st.session_state
    if s.get("_view_target_for") != config:  # a new experiment: a target that fits its losses
        s["_view_target_for"] = config
        s["view_target_metric"] = config.target_metric
        s["view_target_loss"] = config.target_loss or suggest_target(summary, config.target_metric)
    c1, c2 = st.columns(2)
    metric = c2.selectbox(t("view.measured_on"), TARGET_METRICS, key="view_target_metric")
    target = c1.number_input(t("view.target_loss"), format="%g", key="view_target_loss", step=0.01,
                             help=t("view.target_loss_help"))
    return target, metric
