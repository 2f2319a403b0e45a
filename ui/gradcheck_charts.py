"""Charts for the gradient-check page: DataFrame -> plotly Figure, no `st.*` inside."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from gd_core.problems.gradcheck import REL_ERROR_THRESHOLDS
from ui.i18n import t
from ui.text import md_escape

VERDICT_COLORS = {"good": "#2ca02c", "ok": "#9acd32", "uncomfortable": "#ff7f0e", "wrong": "#d62728"}
DTYPE_COLORS = {"float64": "#1f77b4", "float32": "#d62728"}
VERDICT_TEXT = {"good": "gradcheck.verdict_good", "ok": "gradcheck.verdict_ok",  # verdict -> its message id
                "uncomfortable": "gradcheck.verdict_uncomfortable", "wrong": "gradcheck.verdict_wrong"}
ZERO_FLOOR = 1e-17  # a relative error of exactly 0 is drawn here (a log axis has no 0)


def verdict_text(verdict: str) -> str:
    """A verdict of `gd_core.problems.gradcheck` in the session's language."""
    return t(VERDICT_TEXT[verdict])


def _threshold_lines(fig: go.Figure) -> None:
    """Dotted horizontal lines at the verdict bounds (1e-7, 1e-4, 1e-2), labelled on the right."""
    for verdict, bound in REL_ERROR_THRESHOLDS:
        fig.add_hline(y=bound, line_dash="dot", line_color=VERDICT_COLORS[verdict], line_width=1)
        # placed by hand: plotly puts add_hline's own annotation at the raw value, off a log axis
        label = t("gradcheck.threshold_label", verdict=verdict_text(verdict), bound=f"{bound:.0e}")
        fig.add_annotation(x=1, xref="paper", y=np.log10(bound), yref="y", text=label,
                           showarrow=False, xanchor="right", yanchor="bottom",
                           font={"size": 10, "color": VERDICT_COLORS[verdict]})


def rel_error_chart(table: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Strip of `rel_error` per parameter (log y), one colour per verdict, threshold lines.

    table: gd_core.science.gradient_checks.gradcheck_table output (parameter, analytic, numerical, rel_error, verdict).
    """
    fig = go.Figure()
    y = np.maximum(table["rel_error"].to_numpy(dtype=float), ZERO_FLOOR)
    for verdict, color in VERDICT_COLORS.items():
        mask = (table["verdict"] == verdict).to_numpy()
        if not mask.any():
            continue
        sub = table[mask]
        fig.add_trace(go.Scatter(
            x=sub["parameter"], y=y[mask], mode="markers", name=f"{verdict_text(verdict)} ({mask.sum()})",
            marker={"color": color, "size": 9, "line": {"width": 0.5, "color": "#333"}},
            customdata=np.c_[sub["analytic"], sub["numerical"], sub["rel_error"]],
            hovertemplate=t("gradcheck.rel_error_hover")))
    _threshold_lines(fig)
    fig.update_xaxes(title=t("gradcheck.axis_parameter"), categoryorder="array", categoryarray=list(table["parameter"]))
    fig.update_yaxes(title=t("gradcheck.axis_rel_error"), type="log", exponentformat="power",
                     range=[np.log10(ZERO_FLOOR) - 0.5, 0.5])
    fig.update_layout(title=title or t("gradcheck.rel_error_title_plain"), legend_title=t("gradcheck.legend_verdict"),
                      height=420, margin={"t": 60}, showlegend=True)
    return fig


def h_sweep_chart(sweep: pd.DataFrame, h: float | None = None,
                  title: str | None = None) -> go.Figure:
    """Max relative error against `h` (log-log), one line per dtype; the V of truncation vs round-off.

    sweep: rows of gd_core.science.gradient_checks.h_sweep with a `dtype` column; `h`: the step used above
    (vertical line).
    """
    fig = go.Figure()
    for dtype, g in sweep.groupby("dtype", sort=False):
        g = g.sort_values("h")
        fig.add_trace(go.Scatter(
            x=g["h"], y=np.maximum(g["max_rel_error"], ZERO_FLOOR), mode="lines+markers", name=str(dtype),
            line={"color": DTYPE_COLORS.get(str(dtype))},
            hovertemplate=t("gradcheck.h_hover") + "<extra>" + str(dtype) + "</extra>"))
    _threshold_lines(fig)
    if h is not None:
        fig.add_vline(x=h, line_dash="dash", line_color="#888", line_width=1)
    for x, text, anchor in ((sweep["h"].min(), t("gradcheck.roundoff_label"), "left"),
                            (sweep["h"].max(), t("gradcheck.truncation_label"), "right")):
        fig.add_annotation(x=np.log10(x), y=-14, yref="y", text=text, showarrow=False, xanchor=anchor,
                           font={"size": 11, "color": "#555"})
    fig.update_xaxes(title=t("gradcheck.axis_h"), type="log", exponentformat="power", dtick=1)
    fig.update_yaxes(title=t("gradcheck.axis_max_rel_error"), type="log", exponentformat="power",
                     range=[np.log10(ZERO_FLOOR) - 0.5, 0.7])
    fig.update_layout(title=title or t("gradcheck.h_sweep_title"), legend_title="dtype", height=420, margin={"t": 60})
    return fig


NUMBER_COLUMNS = ("analytic", "numerical", "abs_error", "rel_error")


def table_markdown(table: pd.DataFrame) -> str:
    """Rows of `gradcheck_table` as a Markdown table (numbers as %.3e, text escaped). The page shows this, not
    `st.dataframe`, whose grid is ~1.4 MB of JavaScript a cold browser loads beside the first chart."""
    def cell(column: str, value) -> str:
        if column == "verdict":  # the verdict in the session's language; the column names stay the table's own
            return verdict_text(value)
        return f"{value:.3e}" if column in NUMBER_COLUMNS else md_escape(value)

    lines = ["| " + " | ".join(table.columns) + " |",
             "|" + "|".join("---:" if c in NUMBER_COLUMNS else "---" for c in table.columns) + "|"]
    lines += ["| " + " | ".join(cell(c, v) for c, v in zip(table.columns, row, strict=True)) + " |"
              for row in table.itertuples(index=False)]
    return "\n".join(lines)
