"""Pictures of the data and the model (the Data and model page): each batch size's decision regions over 2-D data,
small multiples side by side; a linear classifier's class templates on images, one row per batch size; example
images of an image dataset; and the regression table (RMSE in the target's units, R²) the home page shows.

Figures are built from engine output (`gd_core.science.pictures`), no st.* here. Names that may come from a user
(class names of a CSV, labels) are escaped (`ui.text.html_escape`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from gd_core import ExperimentConfig
from gd_core.data.real import REAL
from gd_core.science.pictures import Grid
from ui.i18n import t
from ui.text import html_escape

# Classes (not batch sizes: those keep ui.colors' palette): colour-blind-safe "Okabe-Ito" order, then more.
CLASS_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
                "#999999", "#882255")
REGION_OPACITY = 0.3
MAX_POINTS = 200  # points drawn per panel (a fixed subsample: every panel shows the same points)


def class_color(c: int) -> str:
    return CLASS_COLORS[c % len(CLASS_COLORS)]


def _discrete_scale(n_classes: int) -> list:
    """A heatmap colour scale that maps the integer z = c (with zmin -0.5, zmax C - 0.5) to class c's colour."""
    scale = []
    for c in range(n_classes):
        scale += [[c / n_classes, class_color(c)], [(c + 1) / n_classes, class_color(c)]]
    return scale


def point_subsample(n: int, k: int = MAX_POINTS, seed: int = 0) -> np.ndarray:
    """Sorted indices of at most k of n points, the same every time."""
    if n <= k:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False))


def decision_regions_figure(panels: list[tuple[str, Grid]], X: np.ndarray, y: np.ndarray, class_names,
                            title: str | None = None) -> go.Figure:
    """One panel per (label, grid): the predicted class as a faint region, the points (X's first two columns,
    coloured by their class y) on top; the same axes in every panel."""
    names = [html_escape(c) for c in class_names]
    fig = make_subplots(rows=1, cols=max(1, len(panels)), shared_yaxes=True, horizontal_spacing=0.02,
                        subplot_titles=[html_escape(label) for label, _ in panels])
    keep = point_subsample(len(X))
    Xs, ys = np.asarray(X)[keep], np.asarray(y)[keep]
    for col, (_, grid) in enumerate(panels, start=1):
        fig.add_trace(go.Heatmap(x=grid.xs, y=grid.ys, z=grid.labels, colorscale=_discrete_scale(len(names)),
                                 zmin=-0.5, zmax=len(names) - 0.5, showscale=False, opacity=REGION_OPACITY,
                                 hoverinfo="skip", name=t("data_chart.predicted_class")), row=1, col=col)
        for c, name in enumerate(names):
            pts, shown = Xs[ys == c], t("data_chart.class_name", name=name)
            fig.add_trace(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", name=shown,
                                     legendgroup=f"class{c}", showlegend=col == 1,
                                     marker={"color": class_color(c), "size": 5,
                                             "line": {"width": 0.5, "color": "white"}},
                                     hovertemplate=shown + "<br>x0=%{x:.2f}, x1=%{y:.2f}<extra></extra>"),
                          row=1, col=col)
        fig.update_xaxes(range=[grid.xs[0], grid.xs[-1]], title=t("data_chart.x0"), row=1, col=col,
                         constrain="domain")
        fig.update_yaxes(range=[grid.ys[0], grid.ys[-1]], row=1, col=col)
    fig.update_yaxes(title=t("data_chart.x1"), row=1, col=1)
    fig.update_layout(height=380, margin={"l": 50, "r": 10, "t": 60 if title else 40, "b": 40},
                      title=html_escape(title) if title else None, legend={"orientation": "h", "y": -0.2},
                      plot_bgcolor="white")
    return fig


def _image_grid(rows: list[tuple[str, np.ndarray]], column_titles, *, symmetric: bool, colorscale: str,
                title: str | None, height_per_row: int = 120, row_labels: bool = True) -> go.Figure:
    """rows of images (label, (k, h, w)): one row per label (written left of the row: a label's ": " starts a
    second line), one column per image."""
    n_cols = max((len(images) for _, images in rows), default=1)
    fig = make_subplots(rows=max(1, len(rows)), cols=n_cols, horizontal_spacing=0.01, vertical_spacing=0.06,
                        column_titles=[html_escape(t) for t in column_titles][:n_cols])
    for r, (_, images) in enumerate(rows, start=1):
        for c, image in enumerate(images, start=1):
            image = np.asarray(image, dtype=float)
            if symmetric:  # each template on its own scale, 0 in the middle (white): cs231n scales each too
                top = float(np.max(np.abs(image))) or 1.0
                zmin, zmax = -top, top
            else:
                zmin, zmax = float(image.min()), float(image.max()) or 1.0
            fig.add_trace(go.Heatmap(z=image, colorscale=colorscale, zmin=zmin, zmax=zmax, showscale=False,
                                     hovertemplate=t("data_chart.pixel_hover")),
                          row=r, col=c)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="", constrain="domain")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="", autorange="reversed",
                     constrain="domain")
    for i in range(1, len(rows) * n_cols + 1):  # each image square: its y axis anchored to its own x axis
        fig.update_layout({f"yaxis{i if i > 1 else ''}": {"scaleanchor": f"x{i if i > 1 else ''}"}})
    for r, (label, _) in enumerate(rows if row_labels else []):
        axis = fig.layout[f"yaxis{r * n_cols + 1 if r else ''}"]
        fig.add_annotation(text="<br>".join(html_escape(part) for part in label.split(": ", 1)), xref="paper",
                           yref="paper", x=-0.005, y=sum(axis.domain) / 2, xanchor="right", showarrow=False,
                           align="right", font={"size": 12})
    fig.update_layout(height=70 + height_per_row * max(1, len(rows)),
                      margin={"l": 190 if row_labels else 10, "r": 10, "t": 60, "b": 10},
                      title=html_escape(title) if title else None, plot_bgcolor="white")
    return fig


def templates_figure(rows: list[tuple[str, np.ndarray]], class_names, title: str | None = None) -> go.Figure:
    """cs231n's class templates: row = a batch size's weights (label, (C, h, w) from `class_templates`), column =
    a class. Red: a pixel that raises the class's score, blue: one that lowers it (each image on its own scale)."""
    return _image_grid(rows, [t("data_chart.class_name", name=c) for c in class_names], symmetric=True,
                       colorscale="RdBu_r", title=title)


def examples_figure(images: np.ndarray, labels, title: str | None = None) -> go.Figure:
    """A row of example images (k, h, w) from the data, each titled by its class."""
    return _image_grid([("data", images)], [t("data_chart.class_name", name=c) for c in labels], symmetric=False,
                       colorscale="Greys", title=title, height_per_row=110, row_labels=False)


REGRESSION_HEADERS = {"final_train_rmse": "data_chart.train_rmse", "final_val_rmse": "data_chart.val_rmse",
                      "final_train_r2": "data_chart.train_r2", "final_val_r2": "data_chart.val_r2"}  # -> message id


def regression_markdown(summary: pd.DataFrame, run_labels: list[str]) -> str:
    """The regression columns of `summary` (gd_core.science.regression.regression_metrics) as a Markdown table,
    one row per run: RMSE to 4 significant digits, R² to 4 decimals, '–' where undefined."""
    headers = [t("summary.run"), *(t(k) for k in REGRESSION_HEADERS.values())]
    lines = ["| " + " | ".join(headers) + " |", "|---|" + "---:|" * len(REGRESSION_HEADERS)]
    for label, (_, row) in zip(run_labels, summary.iterrows(), strict=True):
        cells = []
        for column in REGRESSION_HEADERS:
            v = float(row[column])
            cells.append("–" if not np.isfinite(v) else (f"{v:.4g}" if "rmse" in column else f"{v:.4f}"))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def regression_caption(config: ExperimentConfig) -> str:
    """What the regression table's numbers are, for the config that ran."""
    if config.dataset in REAL:
        units = t("data_chart.units_real", target=REAL[config.dataset].target)
    elif config.dataset == "csv":
        units = t("data_chart.units_csv")
    else:
        units = t("data_chart.units_generated")
    text = t("data_chart.regression_caption", units=units)
    if config.reg > 0:
        text += t("data_chart.regression_reg")
    return text
