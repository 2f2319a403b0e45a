"""Charts for the batch-size scaling page: tidy frames from `gd_core.science.noise` / `gd_core.science.scaling` in,
plotly Figures out, no `st.*`. Batch sizes keep their app-wide colour (`ui.colors`); axes over B are log-log.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.colors import batch_size_color, batch_size_label
from ui.figures import label_log_ticks, log_vline
from ui.i18n import axis_title, t

RULE_COLORS = {"fixed lr": "#636efa", "linear + warmup": "#ef553b", "sqrt": "#00a67e"}
VARIANT_DASH = {"decay lr": "solid", "grow batch": "dash"}
VARIANT_TEXT = {"decay lr": "scaling_chart.decay_lr", "grow batch": "scaling_chart.grow_batch"}  # -> message id
GREY = "#7f7f7f"
# below the plot and horizontal, a legend wraps onto as many rows as its entries need; at the right (plotly's
# default) it was cut at the chart's height (the noise chart's ended after B=32)
LEGEND_BELOW = {"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0}


def _b_markers(fig, B, y, n_train, name_fmt, row=None, col=None, showlegend=True, error=None):
    """One marker trace per batch size, in its app-wide colour."""
    for i, (b, v) in enumerate(zip(B, y, strict=True)):
        if not (np.isfinite(v) and v > 0):
            continue
        trace = go.Scatter(x=[b], y=[v], mode="markers", name=batch_size_label(int(b), n_train),
                           legendgroup=f"B{b}", showlegend=showlegend, hovertemplate=name_fmt,
                           marker={"color": batch_size_color(int(b), n_train), "size": 10},
                           error_y=None if error is None else {"type": "data", "array": [2 * error[i]],
                                                               "visible": True})
        fig.add_trace(trace, row=row, col=col) if row else fig.add_trace(trace)


def relative_noise_chart(df: pd.DataFrame, n_train: int, sampling: str = "shuffle") -> go.Figure:
    """Measured E|G_B - G|^2/|G|^2 (markers, 2 standard errors) against the prediction (line), log-log."""
    fig = go.Figure()
    b_simple = float(df["b_simple"].iloc[0])
    B = np.unique(np.geomspace(1, n_train, 200).round().astype(int))
    factor = (n_train - B) / max(n_train - 1, 1) if sampling == "shuffle" else np.ones(len(B))
    keep = factor > 0
    fig.add_trace(go.Scatter(x=B[keep], y=(b_simple / B * factor)[keep], mode="lines", name=t("scaling_chart.predicted")
                             + (" × (N−B)/(N−1)" if sampling == "shuffle" else ""), line={"color": GREY}))
    if sampling == "shuffle":
        fig.add_trace(go.Scatter(x=B, y=b_simple / B, mode="lines", name=t("scaling_chart.with_replacement"),
                                 line={"color": GREY, "dash": "dot"}))
    # At B = N without replacement the noise is exactly 0 (~1e-32 in floating point): off a log axis.
    df = df[df["measured"] > 1e-12 * b_simple]
    _b_markers(fig, df["batch_size"].to_numpy(), df["measured"].to_numpy(), n_train,
               t("scaling_chart.measured_hover"), error=df["measured_se"].fillna(0).to_numpy())
    fig.update_xaxes(type="log", title=t("scaling_chart.batch_size"))
    fig.update_yaxes(type="log", title=t("scaling_chart.relative_noise"))
    fig.update_layout(title=t("scaling_chart.noise_title", b_simple=b_simple), height=520,
                      legend=LEGEND_BELOW, margin={"b": 150})
    return label_log_ticks(fig)


def noise_during_training_chart(df: pd.DataFrame) -> go.Figure:
    """Training loss and B_simple against epochs, side by side (log y): the noise scale grows as loss falls."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(axis_title("train_loss"), "B_simple = tr(Σ)/|G|²"))
    fig.add_trace(go.Scatter(x=df["epoch"], y=df["train_loss"], mode="lines+markers", name=axis_title("train_loss"),
                             line={"color": GREY}), row=1, col=1)
    fig.add_trace(go.Scatter(x=df["epoch"], y=df["b_simple"], mode="lines+markers", name="B_simple",
                             line={"color": "#d62728"}), row=1, col=2)
    fig.update_xaxes(title=t("summary.epochs"))
    fig.update_yaxes(type="log")
    fig.update_layout(height=360, showlegend=False, title=t("scaling_chart.noise_training_title"))
    return label_log_ticks(fig)


def steps_to_target_chart(summary: pd.DataFrame, fit, n_train: int, b_simple: float | None = None) -> go.Figure:
    """Steps and examples to target vs B (log-log), the fit S = S_min(1 + B_noise/B), perfect scaling, B_crit."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(t("summary.steps_to_target"), t("summary.examples_to_target")))
    s = summary[np.isfinite(summary["steps_to_target"].to_numpy(float))]
    B = s["batch_size"].to_numpy(float)
    for col, key in ((1, "steps_to_target"), (2, "examples_to_target")):
        _b_markers(fig, B.astype(int), s[key].to_numpy(float), n_train, "B=%{x}: %{y:.4g}<extra></extra>",
                   row=1, col=col, showlegend=col == 1)
    if len(s):
        grid = np.geomspace(B.min(), B.max(), 100)
        b0, s0 = B[0], float(s["steps_to_target"].iloc[0])
        fig.add_trace(go.Scatter(x=grid, y=s0 * b0 / grid, mode="lines",
                                 name=t("scaling_chart.perfect_scaling") + " (S ∝ 1/B)",
                                 line={"color": GREY, "dash": "dot"}), row=1, col=1)
        fig.add_trace(go.Scatter(x=grid, y=np.full_like(grid, s0 * b0), mode="lines", showlegend=False,
                                 name=t("scaling_chart.perfect_scaling"), line={"color": GREY, "dash": "dot"}),
                      row=1, col=2)
        if fit is not None and np.isfinite(fit.s_min):
            S = fit.s_min * (1 + fit.b_noise / grid)
            fig.add_trace(go.Scatter(x=grid, y=S, mode="lines", line={"color": "black"},
                                     name=t("scaling_chart.fit", s_min=fit.s_min, b_crit=fit.b_crit)), row=1, col=1)
            fig.add_trace(go.Scatter(x=grid, y=S * grid, mode="lines", line={"color": "black"}, showlegend=False,
                                     name=t("scaling_chart.fit_short")), row=1, col=2)
    for value, label, dash in ((getattr(fit, "b_crit", None), "B_crit", "dash"), (b_simple, "B_simple", "dot")):
        if value is not None and np.isfinite(value) and value > 0:
            for col in (1, 2):
                log_vline(fig, value, f"{label}={value:.3g}" if col == 1 else None, dash=dash, color="#d62728",
                          row=1, col=col, y=0.92 if label == "B_crit" else 0.84)
    fig.update_xaxes(type="log", title=t("scaling_chart.batch_size"))
    fig.update_yaxes(type="log")
    fig.update_layout(height=520, title=t("scaling_chart.steps_title"), legend=LEGEND_BELOW, margin={"b": 150})
    return label_log_ticks(fig)


def tuned_lr_chart(summary: pd.DataFrame, lrs, n_train: int) -> go.Figure:
    """The best learning rate per batch size (log-log), with the grid's ends as dotted lines."""
    fig = go.Figure()
    s = summary[np.isfinite(summary["best_lr"].to_numpy(float))]
    fig.add_trace(go.Scatter(x=s["batch_size"], y=s["best_lr"], mode="lines", line={"color": GREY},
                             showlegend=False))
    _b_markers(fig, s["batch_size"].to_numpy(int), s["best_lr"].to_numpy(float), n_train,
               "B=%{x}: best lr %{y:.3g}<extra></extra>")
    for v in (min(lrs), max(lrs)):
        fig.add_hline(y=v, line={"dash": "dot", "color": GREY})
    fig.update_xaxes(type="log", title=t("scaling_chart.batch_size"))
    fig.update_yaxes(type="log", title=t("scaling_chart.tuned_lr"))
    fig.update_layout(height=360, title=t("scaling_chart.tuned_lr_title"),
                      showlegend=False)
    return label_log_ticks(fig)


def scaling_rules_chart(table: pd.DataFrame, b_crit: float | None = None, ref_batch_size: int | None = None
                        ) -> go.Figure:
    """Final loss after an equal-epochs budget vs B for each lr scaling rule; diverged runs marked x at the top."""
    fig = go.Figure()
    top = float(np.nanmax(table["final_loss"])) * 1.5 if table["final_loss"].notna().any() else 1.0
    for rule, g in table.groupby("rule", sort=False):
        color = RULE_COLORS.get(rule, GREY)
        fig.add_trace(go.Scatter(x=g["batch_size"], y=g["final_loss"], mode="lines+markers", name=rule,
                                 line={"color": color}, customdata=g["lr"],
                                 hovertemplate="B=%{x}: loss %{y:.4g}, lr %{customdata:.3g}<extra>" + rule
                                 + "</extra>"))
        d = g[g["diverged"]]
        if len(d):
            fig.add_trace(go.Scatter(x=d["batch_size"], y=np.full(len(d), top), mode="markers",
                                     marker={"symbol": "x", "size": 11, "color": color},
                                     name=t("scaling_chart.rule_diverged", rule=rule), customdata=d["lr"],
                                     hovertemplate="B=%{x}: diverged at lr %{customdata:.3g}<extra></extra>"))
    if b_crit is not None and np.isfinite(b_crit):
        log_vline(fig, b_crit, f"B_crit={b_crit:.3g}", color="#d62728", y=0.92)
    if ref_batch_size:
        log_vline(fig, ref_batch_size, "B_ref", dash="dot", color=GREY, y=0.02)
    fig.update_xaxes(type="log", title=t("scaling_chart.batch_size"))
    fig.update_yaxes(type="log", title=t("scaling_chart.final_loss"))
    fig.update_layout(height=420, title=t("scaling_chart.rules_title"))
    return label_log_ticks(fig)


def decay_vs_grow_chart(df: pd.DataFrame, metric: str = "train_loss") -> go.Figure:
    """Loss of "decay lr" and "grow batch" against epochs (equal data) and against steps (updates)."""
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True,
                        subplot_titles=(t("scaling_chart.against_epochs"), t("scaling_chart.against_steps")))
    for variant, g in df.groupby("variant", sort=False):
        for col, x in ((1, "epoch"), (2, "step")):
            name = t(VARIANT_TEXT[variant]) if variant in VARIANT_TEXT else variant
            fig.add_trace(go.Scatter(x=g[x], y=g[metric], mode="lines", name=name, legendgroup=variant,
                                     showlegend=col == 1, line={"dash": VARIANT_DASH.get(variant, "solid"),
                                                                "color": "black" if variant == "decay lr"
                                                                else "#d62728"},
                                     customdata=np.stack([g["batch_size"], g["lr"]], axis=1),
                                     hovertemplate="loss %{y:.4g} (B=%{customdata[0]}, lr %{customdata[1]:.3g})"
                                     "<extra>" + variant + "</extra>"), row=1, col=col)
    fig.update_xaxes(title=t("summary.epochs"), row=1, col=1)
    fig.update_xaxes(title=t("summary.steps"), row=1, col=2)
    fig.update_yaxes(type="log", title=axis_title("train_loss" if metric == "train_loss" else "val_loss"),
                     row=1, col=1)
    fig.update_yaxes(type="log", row=1, col=2)
    fig.update_layout(height=400, title=t("scaling_chart.smith_title"))
    return label_log_ticks(fig)
