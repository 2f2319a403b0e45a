"""Chart builders: a run log (DataFrame, columns `gd_core.LOG_COLUMNS`) in, a plotly Figure out. No `st.*`.

Public API (every builder colours by batch size with `ui.colors` and names traces with `batch_size_label`):

    ema_smooth(values, weight) -> np.ndarray
        TensorBoard's debiased EMA: ema_t = a*ema_{t-1} + (1-a)*x_t, shown as ema_t / (1 - a^t).
    infer_n_train(log) -> int | None                 examples per epoch, read back from the log
    aggregate_seeds(log, x, y) -> DataFrame           mean/min/max/std over seeds per (batch_size, base_lr, step)
    loss_curves(log, x="epoch", y="train_loss", *, log_y=False, log_x=False, smoothing=0.0, band="none",
                show_batch_loss=True, n_train=None, max_points=300, title=None) -> go.Figure
        x: "epoch" | "step" | "wall_time_s" | "examples_seen"; band: "none" | "minmax" | "std".
    loss_panels(log, xs=("epoch", "step", "wall_time_s"), y="train_loss", **loss_curves kwargs) -> go.Figure
        the same curves side by side, one panel per x axis (equal data / equal updates / equal time).
    metric_grid(log, metrics=("val_loss", "val_accuracy", "grad_norm"), x="epoch", *, pair_train=True,
                log_y=False, smoothing=0.0, band="none", n_train=None, max_points=300) -> go.Figure
        one panel per metric; metrics with no values (accuracy for regression) say so in the panel.
    summary_table(summary, n_train=None) -> DataFrame   readable columns for `st.table` / `st.dataframe`.

Traces are SVG `go.Scatter` (not WebGL) and every curve is downsampled to `max_points` points.
A diverged run ends with an "x" marker whose hover text says where it stopped. A log x axis cannot show x = 0:
there every run's start (update 0, 0 s) is drawn at the axis' left edge (`log_x_start`), and hover shows x = 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui import i18n
from ui.colors import batch_size_color, batch_size_label
from ui.i18n import t

AXIS_TITLES = i18n.AXIS_TITLES  # {column: axis title} in the session's language (ui/locales)
BANDS = ("none", "minmax", "std")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
RUN_GROUP = ["batch_size", "base_lr"]


def ema_smooth(values, weight: float) -> np.ndarray:
    """Debiased EMA of `values` (n,) with weight a in [0, 1): ema_t = a*ema_{t-1} + (1-a)*x_t, / (1 - a^t).

    Non-finite values are passed through and do not enter the average (as TensorBoard does).
    """
    x = np.asarray(values, dtype=float)
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing weight must be in [0, 1); got {weight}")
    if weight == 0.0:
        return x.copy()
    out, last, t = np.empty_like(x), 0.0, 0
    for i, v in enumerate(x):
        if not np.isfinite(v):
            out[i] = v
            continue
        t += 1
        last = weight * last + (1.0 - weight) * v
        out[i] = last / (1.0 - weight ** t)
    return out


def infer_n_train(log: pd.DataFrame) -> int | None:
    """Training examples per epoch: examples_seen / epoch on any row past the start."""
    rows = log[(log["epoch"] > 0) & (log["examples_seen"] > 0)]
    return None if rows.empty else int(round(rows["examples_seen"].iloc[0] / rows["epoch"].iloc[0]))


def aggregate_seeds(log: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Per (batch_size, base_lr, step): mean of x, and mean/min/max/std of y over seeds (columns y, lo, hi,
    std, n_seeds), plus `diverged` if any seed diverged."""
    g = log.groupby([*RUN_GROUP, "step"], sort=True)
    out = g.agg(x=(x, "mean"), y=(y, "mean"), lo=(y, "min"), hi=(y, "max"), n_seeds=("seed", "nunique"),
                diverged=("diverged", "any"))
    out["std"] = g[y].std(ddof=0).fillna(0.0)
    return out.reset_index()


def _downsample(df: pd.DataFrame, max_points: int) -> pd.DataFrame:
    if len(df) <= max_points:
        return df
    idx = np.unique(np.linspace(0, len(df) - 1, max_points).round().astype(int))
    return df.iloc[idx]


def _runs(log: pd.DataFrame, x: str, y: str, band: str, max_points: int):
    """Yield (batch_size, base_lr, frame with columns x, y, lo, hi, std, diverged) per curve, in plot order."""
    many_seeds = log["seed"].nunique() > 1
    if band not in BANDS:
        raise ValueError(f"band must be one of {', '.join(BANDS)}; got {band!r}")
    data = aggregate_seeds(log, x, y) if many_seeds else log.assign(
        x=log[x], y=log[y], lo=log[y], hi=log[y], std=0.0, n_seeds=1)
    for (b, lr), g in data.groupby(RUN_GROUP, sort=True):
        yield int(b), float(lr), _downsample(g.sort_values("step"), max_points)


def _name(b: int, lr: float, n_train: int | None, several_lrs: bool) -> str:
    label = batch_size_label(b, n_train)
    return f"{label}, lr={lr:g}" if several_lrs else label


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def log_x_start(log: pd.DataFrame, x: str) -> float | None:
    """Where x = 0 (the start: update 0, 0 s) is drawn on a log x axis, which cannot show 0: half the smallest
    positive x of the log, so every run's start sits together at the axis' left edge."""
    v = log[x].to_numpy(dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    return float(v.min()) / 2 if len(v) else None


def _add_curves(fig, log, x, y, *, row=None, col=None, smoothing=0.0, band="none", show_batch_loss=False,
                n_train=None, max_points=300, showlegend=True, dash=None, zero_at=None) -> list[float]:
    """Draw every run of `log` as y against x; returns the finite y values of runs that did not diverge.

    `zero_at` (log x axes, see `log_x_start`): where points with x <= 0 are drawn; hover shows the true x."""
    n_train = n_train or infer_n_train(log)

    def xs(values) -> np.ndarray:
        v = np.asarray(values, dtype=float)
        return v if zero_at is None else np.where(v > 0, v, zero_at)

    lrs = sorted(log["base_lr"].unique())
    kept: list[float] = []
    where = {"row": row, "col": col} if row is not None else {}
    for b, lr, g in _runs(log, x, y, band, max_points):
        color, name = batch_size_color(b, n_train), _name(b, lr, n_train, len(lrs) > 1)
        group = f"B={b} lr={lr:g}"
        line = {"color": color, "width": 2, "dash": dash or DASHES[lrs.index(lr) % len(DASHES)]}
        ys = ema_smooth(g["y"].to_numpy(), smoothing)
        full = n_train is not None and b >= n_train  # its mini-batch loss is the training loss
        if show_batch_loss and not full and "batch_loss" in log and g["n_seeds"].max() == 1:
            raw = log[(log["batch_size"] == b) & (log["base_lr"] == lr)].sort_values("step")
            raw = _downsample(raw, max_points)
            fig.add_trace(go.Scatter(x=xs(raw[x]), y=raw["batch_loss"], mode="lines", name=f"{name} mini-batch",
                                     legendgroup=group, showlegend=False, opacity=0.3,
                                     line={"color": color, "width": 1}, hoverinfo="skip"), **where)
        if band != "none" and g["n_seeds"].max() > 1:
            lo, hi = ((g["lo"], g["hi"]) if band == "minmax" else (g["y"] - g["std"], g["y"] + g["std"]))
            lo, hi = ema_smooth(lo.to_numpy(), smoothing), ema_smooth(hi.to_numpy(), smoothing)
            if not g["diverged"].any():
                kept.extend(v for v in (*lo, *hi) if np.isfinite(v))
            fig.add_trace(go.Scatter(x=xs(g["x"]), y=hi, mode="lines", line={"width": 0}, legendgroup=group,
                                     showlegend=False, hoverinfo="skip", name=f"{name} band upper"), **where)
            fig.add_trace(go.Scatter(x=xs(g["x"]), y=lo, mode="lines", line={"width": 0}, fill="tonexty",
                                     fillcolor=_rgba(color, 0.18), legendgroup=group, showlegend=False,
                                     hoverinfo="skip", name=f"{name} band {band}"), **where)
        fig.add_trace(go.Scatter(x=xs(g["x"]), y=ys, mode="lines", name=name, legendgroup=group,
                                 showlegend=showlegend, line=line, customdata=g["x"].to_numpy(),
                                 hovertemplate=f"{name}<br>{x}=%{{customdata:.4g}}<br>{y}=%{{y:.4g}}<extra></extra>"),
                      **where)
        finite = np.isfinite(ys)
        if g["diverged"].any() and finite.any():
            i = np.flatnonzero(finite)[-1]
            step = int(g["step"].iloc[i])
            fig.add_trace(go.Scatter(
                x=xs(g["x"].iloc[i:i + 1]), y=[ys[i]], mode="markers", name=f"{name} diverged", legendgroup=group,
                showlegend=False, marker={"symbol": "x", "size": 11, "color": color, "line": {"width": 2}},
                hovertext=[t("chart.diverged_at", name=name, step=step, y=y, value=f"{ys[i]:.3g}")],
                hoverinfo="text"), **where)
        elif not g["diverged"].any():
            kept.extend(ys[finite].tolist())
    return kept


def _clip_range(fig, kept: list[float], log_y: bool, **where) -> None:
    """On a linear axis fit the y range to the curves of runs that did not diverge: diverged runs reach ~1e4x
    the start and single mini-batch losses spike; both stay visible up to the frame."""
    if not log_y and kept:
        lo, hi = min(kept), max(kept)
        pad = 0.05 * (hi - lo or abs(hi) or 1.0)
        fig.update_yaxes(range=[lo - pad, hi + pad], **where)
        yaxis = f"y{where['col'] if where.get('col', 1) > 1 else ''}"
        for t in fig.data:  # a divergence marker above the frame sits on its top edge (hover: the value)
            if t.mode == "markers" and (not where or t.yaxis == yaxis) and t.y[0] > hi + pad:
                t.y = [hi + pad]


def _layout(fig: go.Figure, title: str | None, log_y: bool) -> go.Figure:
    fig.update_layout(title=title, margin={"l": 10, "r": 10, "t": 90 if title else 60, "b": 10},
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.1, "x": 0},
                      hovermode="closest", template="plotly_white")
    if log_y:
        fig.update_yaxes(type="log")
    return fig


def loss_curves(log: pd.DataFrame, x: str = "epoch", y: str = "train_loss", *, log_y: bool = False,
                log_x: bool = False, smoothing: float = 0.0, band: str = "none", show_batch_loss: bool = True,
                n_train: int | None = None, max_points: int = 300, title: str | None = None) -> go.Figure:
    """One curve per (batch size, lr): y against x, mini-batch loss faint behind (y == train_loss only)."""
    fig = go.Figure()
    kept = _add_curves(fig, log, x, y, smoothing=smoothing, band=band, n_train=n_train, max_points=max_points,
                       show_batch_loss=show_batch_loss and y == "train_loss",
                       zero_at=log_x_start(log, x) if log_x else None)
    fig.update_xaxes(title=AXIS_TITLES.get(x, x), type="log" if log_x else None)
    fig.update_yaxes(title=AXIS_TITLES.get(y, y))
    _clip_range(fig, kept, log_y)
    return _layout(fig, title, log_y)


def loss_panels(log: pd.DataFrame, xs=("epoch", "step", "wall_time_s"), y: str = "train_loss", *,
                log_y: bool = False, log_x_for=("step", "wall_time_s"), smoothing: float = 0.0,
                band: str = "none", show_batch_loss: bool = True, n_train: int | None = None,
                max_points: int = 300, title: str | None = None) -> go.Figure:
    """`loss_curves` against several x axes side by side (shared y); steps and time on log x by default."""
    fig = make_subplots(rows=1, cols=len(xs), shared_yaxes=True, horizontal_spacing=0.03,
                        subplot_titles=[AXIS_TITLES.get(x, x) for x in xs])
    kept: list[float] = []
    for i, x in enumerate(xs, start=1):
        kept += _add_curves(fig, log, x, y, row=1, col=i, smoothing=smoothing, band=band, n_train=n_train,
                            max_points=max_points, showlegend=i == 1,
                            show_batch_loss=show_batch_loss and y == "train_loss",
                            zero_at=log_x_start(log, x) if x in log_x_for else None)
        fig.update_xaxes(type="log" if x in log_x_for else None, row=1, col=i)
    fig.update_yaxes(title=AXIS_TITLES.get(y, y), row=1, col=1)
    _clip_range(fig, kept, log_y)
    return _layout(fig, title, log_y)


def metric_grid(log: pd.DataFrame, metrics=("val_loss", "val_accuracy", "grad_norm"), x: str = "epoch", *,
                pair_train: bool = True, log_y: bool = False, smoothing: float = 0.0, band: str = "none",
                n_train: int | None = None, max_points: int = 300, title: str | None = None) -> go.Figure:
    """One panel per metric against x; with `pair_train`, val_* panels also show train_* dotted."""
    fig = make_subplots(rows=1, cols=len(metrics), horizontal_spacing=0.06,
                        subplot_titles=[AXIS_TITLES.get(m, m) for m in metrics])
    for i, m in enumerate(metrics, start=1):
        if m not in log or not np.isfinite(log[m].to_numpy(dtype=float)).any():
            fig.add_annotation(text=t("chart.regression_accuracy") if "accuracy" in m
                               else t("chart.no_values"), showarrow=False, xref="paper", yref="paper", y=0.5,
                               x=float(np.mean(fig.layout[f"xaxis{i if i > 1 else ''}"].domain)))
            continue
        kept = _add_curves(fig, log, x, m, row=1, col=i, smoothing=smoothing, band=band, n_train=n_train,
                           max_points=max_points, showlegend=i == 1)
        train = m.replace("val_", "train_")
        if pair_train and m.startswith("val_") and train in log:
            kept += _add_curves(fig, log, x, train, row=1, col=i, smoothing=smoothing, n_train=n_train,
                                max_points=max_points, showlegend=False, dash="dot")
        if "accuracy" not in m:  # accuracy stays in its natural autorange, never on a log axis
            fig.update_yaxes(type="log" if log_y else None, row=1, col=i)
            _clip_range(fig, kept, log_y, row=1, col=i)
        fig.update_xaxes(title=AXIS_TITLES.get(x, x), row=1, col=i)
    return _layout(fig, title, log_y=False)


SUMMARY_COLUMNS = {
    "run": "run", "batch_size": "B", "base_lr": "lr", "seed": "seed", "status": "status",
    "final_train_loss": "final train loss", "best_train_loss": "best train loss",
    "final_val_loss": "final val loss", "best_val_loss": "best val loss",
    "final_val_accuracy": "val accuracy", "steps": "steps", "epochs": "epochs", "wall_time_s": "seconds",
    "steps_to_target": "steps to target", "examples_to_target": "examples to target",
    "seconds_to_target": "seconds to target",
}


def summary_table(summary: pd.DataFrame, n_train: int | None = None) -> pd.DataFrame:
    """`gd_core.summarize` output with readable column names, a legend-style run label first."""
    df = summary.copy()
    df["run"] = [batch_size_label(int(b), n_train) for b in df["batch_size"]]
    if df["final_val_accuracy"].isna().all():
        df = df.drop(columns=["final_val_accuracy"])
    cols = [c for c in SUMMARY_COLUMNS if c in df.columns]
    return df[cols].rename(columns=SUMMARY_COLUMNS).reset_index(drop=True)


def _summary_formats(table: pd.DataFrame) -> dict[str, str]:
    formats = {c: "{:,.0f}" for c in table.columns if c in ("steps", "steps to target", "examples to target")}
    formats.update({c: "{:g}" for c in table.columns if c in ("lr", "epochs")})
    formats.update({c: "{:.3g}" for c in table.columns if c.startswith("seconds")})
    return formats


def styled_summary(table: pd.DataFrame):
    """`summary_table` formatted for `st.table`: counts as integers, losses to 4 digits, blanks for 'never'."""
    return table.style.format(_summary_formats(table), na_rep="–", precision=4).hide(axis="index")


def summary_markdown(table: pd.DataFrame) -> str:
    """`summary_table` as a Markdown table for `st.markdown`, formatted as `styled_summary` ('–' for 'never').

    The home page shows this, not `st.table` / `st.dataframe`: in a cold browser those load ~0.9 MB / ~1.4 MB of
    JavaScript for a table of a few rows (benchmarks/DASHBOARD.md)."""
    formats = _summary_formats(table)

    def cell(column: str, value) -> str:
        if pd.isna(value):
            return "–"
        if column in formats:
            return formats[column].format(value)
        if isinstance(value, float | np.floating):
            return f"{value:.4f}"
        return str(value).replace("|", "\\|")

    numeric = [pd.api.types.is_numeric_dtype(table[c]) for c in table.columns]
    lines = ["| " + " | ".join(map(i18n.summary_header, table.columns)) + " |",
             "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    lines += ["| " + " | ".join(cell(c, v) for c, v in zip(table.columns, row, strict=True)) + " |"
              for row in table.itertuples(index=False)]
    return "\n".join(lines)
