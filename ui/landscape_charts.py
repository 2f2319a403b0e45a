"""Figures of the loss-landscape page: arrays in, plotly Figure out (no st.* here).

Contours are drawn on log-spaced levels of the loss above its minimum in view, so the flat valley floor
gets as many lines as the steep walls. Paths use the app's batch-size colours; all traces are SVG.
Axes keep a 1:1 scale: only then is the negative gradient perpendicular to the contour lines.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go

from ui import i18n
from ui.animation import growing_frames, last_finite, race_frames, scale_buttons
from ui.colors import FULL_COLOR, batch_size_color, batch_size_label

SURFACE_COLORS = [[0.0, "#ffffff"], [1.0, "#9fa8b3"]]  # pale: the coloured paths stay readable on it
N_LEVELS = 24
ARROW_SHARE = 0.22  # the longer gradient arrow spans this share of the view


class Arrow(NamedTuple):
    origin: np.ndarray  # (2,)
    vector: np.ndarray  # (2,) in parameter units
    color: str
    name: str
    dash: str = "solid"


def gradient_arrows(w, full_grad, batch_grad, view_span: float, batch_color: str, batch_label: str):
    """The two negative gradients at w, scaled by one common factor (their ratio of lengths is kept)."""
    longest = max(np.linalg.norm(full_grad), np.linalg.norm(batch_grad), 1e-300)
    k = ARROW_SHARE * view_span / longest
    return [Arrow(w, -k * np.asarray(full_grad), FULL_COLOR, i18n.t("landscape_chart.full_gradient"), "dot"),
            Arrow(w, -k * np.asarray(batch_grad), batch_color,
                  i18n.t("landscape_chart.batch_gradient", batch=batch_label))]


def _round_values(lo: float, hi: float) -> list[float]:
    """Powers of ten in (lo, hi], or 1-2-5 steps when fewer than three powers fit."""
    for mantissas in ((1,), (1, 2, 5)):
        vals = [m * 10.0**k for k in range(-8, 9) for m in mantissas if lo < m * 10.0**k <= hi]
        if len(vals) >= 3:
            return vals
    return vals


def contour_trace(w1s, w2s, Z, name: str = "loss", showscale: bool = True) -> go.Contour:
    """Contour of Z (r, r) on log-spaced levels of `Z - min(Z)`; the hover shows the loss itself."""
    z_min, z_max = float(np.min(Z)), float(np.max(Z))
    delta = max(1e-3 * (z_max - z_min), 1e-12)
    L = np.log10(Z - z_min + delta)
    lo, hi = float(L.min()), float(L.max())
    hi = max(hi, lo + 1e-9)  # a flat surface (constant Z) still gets valid levels
    # Colourbar labels: the minimum and round loss values (not crowding the minimum's label).
    ticks = [z_min] + [v for v in _round_values(z_min, z_max)
                       if np.log10(v - z_min + delta) - lo > 0.06 * (hi - lo)]
    return go.Contour(
        x=w1s, y=w2s, z=L, customdata=Z, name=name, colorscale=SURFACE_COLORS, showscale=showscale,
        contours=dict(start=lo, end=hi, size=(hi - lo) / N_LEVELS, coloring="fill"),
        line=dict(color="rgba(60,70,80,0.35)", width=0.8),
        colorbar=dict(title=dict(text=i18n.t("landscape_chart.loss"), side="right"), len=0.8,
                      tickvals=np.log10(np.array(ticks) - z_min + delta), ticktext=[f"{v:.3g}" for v in ticks]),
        hovertemplate="(%{x:.3f}, %{y:.3f})<br>loss %{customdata:.4g}<extra></extra>")


def _arrow_traces(arrows) -> list[go.Scatter]:
    return [go.Scatter(x=[a.origin[0], a.origin[0] + a.vector[0]], y=[a.origin[1], a.origin[1] + a.vector[1]],
                       mode="lines+markers", name=a.name, line=dict(color=a.color, width=3, dash=a.dash),
                       marker=dict(symbol=["circle", "arrow"], size=[1, 16], angleref="previous",
                                   color=a.color), hoverinfo="skip")
            for a in arrows]


def _layout(fig: go.Figure, w1s, w2s, param_names, title: str) -> go.Figure:
    fig.update_layout(title=title, height=540, margin=dict(l=50, r=10, t=50, b=40),
                      legend=dict(orientation="h", yanchor="top", y=-0.2, x=0), hovermode="closest")
    fig.update_xaxes(title=param_names[0], range=[w1s[0], w1s[-1]], constrain="domain")
    fig.update_yaxes(title=param_names[1], range=[w2s[0], w2s[-1]], scaleanchor="x", scaleratio=1,
                     constrain="domain")
    return fig


def _marker(point, name, symbol, color, size=16, showlegend=True) -> go.Scatter:
    return go.Scatter(x=[point[0]], y=[point[1]], mode="markers", name=name, showlegend=showlegend,
                      marker=dict(symbol=symbol, size=size, color=color, line=dict(color="black", width=1)))


def race_chart(w1s, w2s, Z, paths: dict[int, np.ndarray], n_train: int, w_star, w0,
               param_names=("w1", "w2"), n_frames: int | None = None) -> go.Figure:
    """Full-data contour with every batch size's path racing on it (ui.animation.race_frames: Play / Pause and a
    step slider, played in the browser). paths: batch size -> weights (steps+1, 2).

    Drawn before Play: each whole path (a line+marker trace named by `batch_size_label`) and its last finite
    point as a bigger marker (trace name "now: <label>"); a frame shows the paths up to step t and the markers at
    w_t. NaN rows (a diverged run) end the line; its marker stays where it stopped.
    """
    fig = go.Figure(contour_trace(w1s, w2s, Z, name=i18n.t("landscape_chart.full_loss")))
    ordered = sorted(paths.items())
    path_traces, marker_traces = [], []
    step_word = i18n.t("landscape_chart.step")
    for B, W in ordered:
        color, label = batch_size_color(B, n_train), batch_size_label(B, n_train)
        path_traces.append(len(fig.data))
        fig.add_trace(go.Scatter(x=W[:, 0], y=W[:, 1], mode="lines+markers", name=label, legendgroup=label,
                                 line=dict(color=color, width=1.5), marker=dict(color=color, size=4),
                                 customdata=np.arange(len(W)),
                                 hovertemplate=f"{label}, {step_word} %{{customdata}}<extra></extra>"))
    for B, W in ordered:
        color, label = batch_size_color(B, n_train), batch_size_label(B, n_train)
        t = last_finite(W, len(W) - 1)
        marker_traces.append(len(fig.data))
        fig.add_trace(go.Scatter(x=[W[t, 0]], y=[W[t, 1]], mode="markers", name=f"now: {label}",
                                 legendgroup=label, showlegend=False, hoverinfo="skip",
                                 marker=dict(color=color, size=14, line=dict(color="white", width=2))))
    # the start on top of the paths: at step 0 every run's "now" marker sits on it and hid it
    fig.add_trace(_marker(w0, i18n.t("landscape_chart.start"), "square", "white", size=11))
    fig.add_trace(_marker(w_star, i18n.t("landscape_chart.optimum"), "star", "gold", size=18))
    _layout(fig, w1s, w2s, param_names, i18n.t("landscape_chart.race_title"))
    fig.update_layout(title=None, height=640, legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
                      margin=dict(t=70))
    return race_frames(fig, [W for _, W in ordered], path_traces, marker_traces, n_frames)


def batch_surface_chart(w1s, w2s, Zb, w, batch_min, w_star, color: str, label: str, step: int,
                        param_names=("w1", "w2"), arrows=()) -> go.Figure:
    """The loss of the one mini-batch used at `step`, on the same axes as the full surface."""
    fig = go.Figure(contour_trace(w1s, w2s, Zb, name=i18n.t("axis.batch_loss"), showscale=False))
    fig.add_trace(_marker(w, i18n.t("landscape_chart.w_at", step=step), "circle", color, size=14))
    fig.add_traces(_arrow_traces(arrows))
    fig.add_trace(_marker(batch_min, i18n.t("landscape_chart.batch_minimum"), "diamond", color, size=14))
    fig.add_trace(_marker(w_star, i18n.t("landscape_chart.optimum"), "star", "gold", size=18))
    return _layout(fig, w1s, w2s, param_names, i18n.t("landscape_chart.batch_title", step=step, batch=label))


def loss_curves_chart(losses: dict[int, np.ndarray], n_train: int, step: int) -> go.Figure:
    """Full-data loss against step, one line per batch size (log y; linear / log buttons), the step shown on the
    right marked; Play grows the lines step by step in the browser (ui.animation.growing_frames)."""
    fig = go.Figure()
    for B, L in sorted(losses.items()):
        fig.add_trace(go.Scatter(x=np.arange(len(L)), y=L, mode="lines", name=batch_size_label(B, n_train),
                                 line=dict(color=batch_size_color(B, n_train), width=2)))
    fig.add_vline(x=step, line=dict(color="grey", dash="dot"))
    fig.update_layout(height=360, margin=dict(l=50, r=10, t=40, b=40), title=i18n.t("landscape_chart.loss_title"),
                      xaxis_title=i18n.t("landscape_chart.step"), yaxis_title=i18n.t("landscape_chart.loss"))
    fig.update_yaxes(type="log", tickformat=".2g")
    growing_frames(fig, label=i18n.t("landscape_chart.step"), stop_format="{:.0f}")
    return scale_buttons(fig)


def stability_note(curvature: float, exact: bool, lr: float, optimizer: str, limit: float | None):
    """(is_warning, one-line text) about full-batch stability; `limit` from gd_core.science.landscape.stable_lr."""
    what = i18n.t("landscape.lmax_exact") if exact else i18n.t("landscape.lmax_bound")
    text = i18n.t("landscape.stable_for", what=what, curvature=curvature, limit=2 / curvature)
    if limit is None:
        return False, text + i18n.t("landscape.limit_adaptive", optimizer=optimizer)
    if lr < limit:
        extra = i18n.t("landscape.limit_optimizer", optimizer=optimizer, limit=limit) if optimizer != "sgd" else "."
        return False, text + extra
    verdict = i18n.t("landscape.will_diverge") if exact else i18n.t("landscape.may_diverge")
    return True, text + i18n.t("landscape.lr_over", lr=lr, limit=limit, optimizer=optimizer, verdict=verdict)
