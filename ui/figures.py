"""Small plotly helpers the chart modules share (no st.* here)."""

from __future__ import annotations

import math

import plotly.graph_objects as go


def log_vline(fig: go.Figure, x: float, text: str | None = None, *, color: str = "#888", dash: str = "dash",
              row: int | None = None, col: int | None = None, y: float = 1.0, xanchor: str = "left") -> None:
    """A vertical line at `x` on a LOG x axis, with its label where it belongs.

    Plotly's `add_vline(annotation_text=...)` places the label at the raw value, which a log axis reads as
    log10(x): the label lands at 10^x and stretches the axis (B_crit = 60 showed up at 10^60).
    """
    where = {"row": row, "col": col} if row is not None else {}
    fig.add_vline(x=x, line={"dash": dash, "color": color, "width": 1.5}, **where)
    if text:
        xref = "x" if not col or col == 1 else f"x{col}"
        fig.add_annotation(x=math.log10(x), xref=xref, y=y, yref="paper", text=text, showarrow=False,
                           xanchor=xanchor, yanchor="bottom", font={"size": 11, "color": color})


def label_log_ticks(fig: go.Figure) -> go.Figure:
    """Every tick of every log axis labelled in full ("0.3", "2", "5e-05"): left to itself plotly labels the
    ticks between powers of ten with their first digit alone ("4 3 2 1 9 8"), which says nothing of the
    magnitude. Apply after the axis types are set; returns `fig`."""
    fig.update_xaxes(tickformat="~g", selector={"type": "log"})
    fig.update_yaxes(tickformat="~g", selector={"type": "log"})
    return fig
