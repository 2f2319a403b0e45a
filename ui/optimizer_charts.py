"""Charts for the optimizers & learning-rate page: DataFrame -> plotly Figure, no `st.*` inside.

Here the colour encodes the update rule (or the learning rate), not the batch size: every run on a chart
shares one batch size, which the title names.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative, sample_colorscale

from ui.figures import label_log_ticks, log_vline
from ui.i18n import axis_title, t

OPTIMIZER_COLORS = dict(zip(("sgd", "sgd+momentum", "nesterov", "adagrad", "rmsprop", "adam"),
                            qualitative.Dark2, strict=False))
VERDICT_DASH = {"too low": "dot", "good": "solid", "too high": "dash"}
VERDICT_TEXT = {"too low": "optimizers.verdict_too_low", "good": "optimizers.verdict_good",  # -> message id
                "too high": "optimizers.verdict_too_high"}
LR_SCALE = "Viridis"

# cs231n notes 3 / torch.optim, as LaTeX (g: the mini-batch gradient, t: updates so far, from 1).
UPDATE_RULES_LATEX = {
    "sgd": r"\begin{aligned} w &\leftarrow w - \eta\, g \end{aligned}",
    "sgd+momentum": r"\begin{aligned} v &\leftarrow \mu v + g \\ w &\leftarrow w - \eta\, v \end{aligned}",
    "nesterov": r"\begin{aligned} v &\leftarrow \mu v + g \\ w &\leftarrow w - \eta\,(g + \mu v) \end{aligned}",
    "adagrad": r"\begin{aligned} s &\leftarrow s + g^2 \\ w &\leftarrow w - \eta\, g / (\sqrt{s} + \epsilon)"
               r" \end{aligned}",
    "rmsprop": r"\begin{aligned} s &\leftarrow \alpha s + (1-\alpha)\, g^2 \\ w &\leftarrow w - \eta\, g / "
               r"(\sqrt{s} + \epsilon) \end{aligned}",
    "adam": r"\begin{aligned} m &\leftarrow \beta_1 m + (1-\beta_1)\, g \\ v &\leftarrow \beta_2 v + "
            r"(1-\beta_2)\, g^2 \\ \hat m &= m / (1-\beta_1^t) \\ \hat v &= v / (1-\beta_2^t) \\ "
            r"w &\leftarrow w - \eta\, \hat m / (\sqrt{\hat v} + \epsilon) \end{aligned}",
}


def formula_rows(variants, per_row: int = 3) -> list[list[str]]:
    """The update rules in rows of `per_row`, drawn one `st.columns` per row. Columns filled down (rule i in
    column i % 3) put the second row's formulas at different heights under formulas of 1 and 2 lines."""
    names = list(variants)
    return [names[i:i + per_row] for i in range(0, len(names), per_row)]


def _loss_range(values: np.ndarray, start: float, headroom: float) -> list[float]:
    """Log-axis range from the lowest finite loss to `headroom` x the starting loss (divergence goes off the top)."""
    finite = values[np.isfinite(values) & (values > 0)]
    lo = finite.min() if len(finite) else 1e-3
    return [np.log10(lo) - 0.05, np.log10(max(start, lo) * headroom)]


def optimizer_curves_chart(df: pd.DataFrame, batch_label: str, metric: str = "train_loss",
                           x: str = "epoch") -> go.Figure:
    """Loss curves of several update rules on one problem and batch size, one colour per rule (log y).

    df: gd_core.science.lr_sweep.combine_variants output (a `variant` column over run logs).
    """
    fig = go.Figure()
    for variant, g in df.groupby("variant", sort=False):
        lr = g["base_lr"].iloc[0]
        fig.add_trace(go.Scatter(
            x=g[x], y=g[metric], mode="lines", name=f"{variant} (lr={lr:g})",
            line={"color": OPTIMIZER_COLORS.get(str(variant)), "width": 2},
            hovertemplate=f"{variant}<br>{axis_title(x)} %{{x:.3g}}<br>{axis_title(metric)} %{{y:.4g}}<extra></extra>"))
    fig.update_yaxes(title=axis_title(metric), type="log",
                     range=_loss_range(df[metric].to_numpy(dtype=float), float(df[metric].iloc[0]), 1.3))
    fig.update_xaxes(title=axis_title(x))
    fig.update_layout(title=t("optimizers.curves_title", batch=batch_label), legend_title=t("optimizers.legend_rule"),
                      height=440)
    return label_log_ticks(fig)


def lr_colors(lrs) -> dict[float, str]:
    """A sequential colour per learning rate, by its position on a log scale (small = dark)."""
    lrs = sorted(float(v) for v in lrs)
    logs = np.log10(lrs)
    span = logs[-1] - logs[0] if len(lrs) > 1 else 1.0
    pos = [0.9 * (v - logs[0]) / span for v in logs]  # stop before Viridis' pale yellow end
    return dict(zip(lrs, sample_colorscale(LR_SCALE, pos), strict=True))


def lr_sweep_chart(log: pd.DataFrame, verdicts: dict[float, str], title: str, metric: str = "train_loss",
                   x: str = "epoch") -> go.Figure:
    """Loss curves of a learning-rate sweep: colour by lr (sequential), dash by verdict (log y)."""
    fig = go.Figure()
    colors = lr_colors(log["base_lr"].unique())
    for lr, g in log.groupby("base_lr", sort=True):
        verdict = verdicts.get(float(lr), "")
        said = t(VERDICT_TEXT[verdict]) if verdict in VERDICT_TEXT else verdict
        name = f"lr={lr:.3g}: {said}" + (t("optimizers.diverged_suffix") if g["diverged"].any() else "")
        fig.add_trace(go.Scatter(
            x=g[x], y=g[metric], mode="lines", name=name,
            line={"color": colors[float(lr)], "width": 2.5 if verdict == "good" else 1.8,
                  "dash": VERDICT_DASH.get(verdict, "solid")},
            hovertemplate=f"lr={lr:.3g} ({said})<br>{axis_title(x)} %{{x:.3g}}<br>{axis_title(metric)} "
                          "%{y:.4g}<extra></extra>"))
    fig.update_yaxes(title=axis_title(metric), type="log",
                     range=_loss_range(log[metric].to_numpy(dtype=float), float(log[metric].iloc[0]), 3.0))
    fig.update_xaxes(title=axis_title(x))
    fig.update_layout(title=title, legend_title=axis_title("lr"), height=440)
    return label_log_ticks(fig)


def stability_chart(summary: pd.DataFrame, limit: float, fastest: float | None = None,
                    title: str | None = None) -> go.Figure:
    """Final loss against lr (log-log), converged vs diverged markers, a vertical line at 2/lambda_max.

    summary: gd_core.science.lr_sweep.sweep_summary output (lr, initial_loss, final_loss, diverged, verdict).
    """
    fig = go.Figure()
    bad = (summary["diverged"] | (summary["final_loss"] >= summary["initial_loss"])).to_numpy()
    for mask, name, color, symbol in ((~bad, t("optimizers.converges"), "#2ca02c", "circle"),
                                      (bad, t("optimizers.diverges"), "#d62728", "x")):
        sub = summary[mask]
        fig.add_trace(go.Scatter(
            x=sub["lr"], y=sub["final_loss"], mode="markers", name=name,
            marker={"color": color, "symbol": symbol, "size": 11},
            customdata=np.c_[sub["lr"] / limit, sub["steps"]],
            hovertemplate=t("optimizers.limit_hover")))
    lines = [(limit, f" 2/λ_max = {limit:.4g} ", "#222", "dash", 0.55, "left")]
    if fastest is not None:
        lines.append((fastest, t("optimizers.fastest", lr=fastest), "#1f77b4", "dot", 0.35, "right"))
    for x, text, color, dash, y, side in lines:
        log_vline(fig, x, text, color=color, dash=dash, y=y, xanchor=side)
    fig.update_xaxes(title=axis_title("lr"), type="log")
    fig.update_yaxes(title=t("optimizers.final_loss"), type="log")
    fig.update_layout(title=title or t("optimizers.limit_title"), legend_title=t("optimizers.legend_full_batch"),
                      height=420)
    return label_log_ticks(fig)
