"""Chart builders: a run log (DataFrame, columns `gd_core.LOG_COLUMNS`) in, a plotly Figure out. No `st.*`.

Public API (every builder colours by batch size with `ui.colors` and names traces with `batch_size_label`):

    ema_smooth(values, weight, x=None) -> np.ndarray
        TensorBoard's debiased EMA: ema_t = a*ema_{t-1} + (1-a)*x_t, shown as ema_t / (1 - a^t); with x, the
        decay goes by x-distance. Only the mini-batch loss is smoothed: every other curve is measured exactly.
    infer_n_train(log) -> int | None                 examples per epoch, read back from the log
    aggregate_seeds(log, x, y) -> DataFrame           mean/min/max/std over seeds per (batch_size, base_lr, step)
    loss_curves(log, x="epoch", y="train_loss", *, log_y=False, log_x=False, smoothing=0.0, band="none",
                show_batch_loss=False, n_train=None, max_points=300, title=None) -> go.Figure
        x: "epoch" | "step" | "wall_time_s" | "examples_seen"; band: "none" | "minmax" | "std".
    loss_panels(log, xs=("epoch", "step", "wall_time_s"), y="train_loss", **loss_curves kwargs) -> go.Figure
        the same curves side by side, one panel per x axis (equal data / equal updates / equal time).
    metric_grid(log, metrics=("val_loss", "val_accuracy", "grad_norm"), x="epoch", *, pair_train=True,
                log_y=False, band="none", n_train=None, max_points=300) -> go.Figure
        one panel per metric; metrics with no values (accuracy for regression) say so in the panel.
    summary_table(summary, n_train=None) -> DataFrame   readable columns for `st.table` / `st.dataframe`.
    summary_markdown(table) -> str                    a `summary_table` as Markdown (the home page's table).
    summary_table_markdown(summary, n_train=None) -> str   both in one (what the home page caches).

Traces are SVG `go.Scatter` (not WebGL) and every curve is downsampled to `max_points` points. No line is drawn
across a stretch of a panel that no checkpoint measured (markers on the points either side); log axes label
every tick in full (`ui.figures.label_log_ticks`).
A diverged run ends with an "x" marker whose hover text says where it stopped. A log x axis cannot show x = 0:
there every run's start (update 0, 0 s) is drawn at the axis' left edge (`log_x_start`), and hover shows x = 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui import i18n
from ui.animation import growing_frames, scale_buttons
from ui.colors import batch_size_color, batch_size_label
from ui.figures import label_log_ticks
from ui.i18n import t

AXIS_TITLES = i18n.AXIS_TITLES  # {column: axis title} in the session's language (ui/locales)
BANDS = ("none", "minmax", "std")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
RUN_GROUP = ["batch_size", "base_lr"]
TEMPLATE = "plotly_white"  # the charts' plotly template (ui.heap builds its objects before the heap is frozen)


def ema_smooth(values, weight: float, x=None) -> np.ndarray:
    """Debiased EMA of `values` (n,) with weight a in [0, 1): ema_t = a*ema_{t-1} + (1-a)*x_t, / (1 - a^t).

    With `x` (the points' drawn positions, increasing) the decay goes by x-distance, not by point: a gap of
    dx weighs earlier points down by a**(dx / mean gap), so densely measured stretches (the first updates) are
    not smoothed over a longer x-span than sparse ones. Evenly spaced x gives the plain EMA above. The result
    is sum_i d_ti v_i / sum_i d_ti with d_ti the decay from point i to t, which is TensorBoard's debiasing.
    Non-finite values are passed through and do not enter the average (as TensorBoard does).
    """
    v = np.asarray(values, dtype=float)
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing weight must be in [0, 1); got {weight}")
    if weight == 0.0:
        return v.copy()
    if x is None:
        decay = np.full(len(v), weight)
    else:
        pos = np.asarray(x, dtype=float)
        gaps = np.diff(pos, prepend=pos[0] if len(pos) else 0.0)
        mean_gap = (pos[-1] - pos[0]) / (len(pos) - 1) if len(pos) > 1 and pos[-1] > pos[0] else 1.0
        decay = weight ** (gaps / mean_gap)
    out, num, den, carry = np.empty_like(v), 0.0, 0.0, 1.0
    for i, value in enumerate(v):
        if not np.isfinite(value):  # by x, the distance across it still counts; by point it does not
            out[i], carry = value, carry * (decay[i] if x is not None else 1.0)
            continue
        d, carry = decay[i] * carry, 1.0
        num, den = d * num + value, d * den + 1.0
        out[i] = num / den
    return out


def infer_n_train(log: pd.DataFrame) -> int | None:
    """Training examples per epoch: examples_seen / epoch on any row past the start."""
    epoch, seen = log["epoch"].to_numpy(), log["examples_seen"].to_numpy()
    past_start = np.flatnonzero((epoch > 0) & (seen > 0))  # arrays, not a filtered frame: every session asks
    return None if past_start.size == 0 else int(round(seen[past_start[0]] / epoch[past_start[0]]))


def aggregate_seeds(log: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Per (batch_size, base_lr, step): mean of x, and mean/min/max/std of y over seeds (columns y, lo, hi,
    std, n_seeds), plus `diverged` if any seed diverged."""
    g = log.groupby([*RUN_GROUP, "step"], sort=True)
    out = g.agg(x=(x, "mean"), y=(y, "mean"), lo=(y, "min"), hi=(y, "max"), n_seeds=("seed", "nunique"),
                diverged=("diverged", "any"))
    out["std"] = g[y].std(ddof=0).fillna(0.0)
    return out.reset_index()


def _downsample(pos: np.ndarray, max_points: int, keep=()) -> np.ndarray:
    """Indices of at most `max_points` points (plus `keep`) spread evenly over the drawn positions `pos`
    (increasing; log10 on a log axis), so dense stretches (the first updates) are thinned and sparse ones kept."""
    n = len(pos)
    finite = np.isfinite(pos)
    if n <= max_points or finite.sum() < 2:
        return np.arange(n)
    lo, hi = pos[finite].min(), pos[finite].max()
    idx = np.searchsorted(np.where(finite, pos, lo), np.linspace(lo, hi, max_points))
    return np.unique(np.r_[np.clip(idx, 0, n - 1), np.asarray(keep, dtype=int), n - 1])


def _runs(log: pd.DataFrame, x: str, y: str, band: str):
    """Yield (batch_size, base_lr, frame with columns x, y, lo, hi, std, diverged) per curve, in plot order."""
    many_seeds = log["seed"].nunique() > 1
    if band not in BANDS:
        raise ValueError(f"band must be one of {', '.join(BANDS)}; got {band!r}")
    data = aggregate_seeds(log, x, y) if many_seeds else log.assign(
        x=log[x], y=log[y], lo=log[y], hi=log[y], std=0.0, n_seeds=1)
    for (b, lr), g in data.groupby(RUN_GROUP, sort=True):
        yield int(b), float(lr), g.sort_values("step")


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


GAP = 0.06  # no line across more than this share of a panel's width where updates went unmeasured
SPARSE = 25  # a curve of at most this many points shows each one as a marker


def _gap_breaks(pos: np.ndarray, steps: np.ndarray, span: float) -> np.ndarray:
    """Indices i where the line from point i-1 to i is not drawn: it would cross more than GAP of the panel
    (`pos`: drawn positions, log10 on a log axis; `span`: the panel's drawn width) over updates nobody
    measured (steps more than one apart). A straight line there showed a loss no checkpoint saw."""
    if len(pos) < 2 or not span > 0:
        return np.array([], dtype=int)
    return np.flatnonzero((np.diff(pos) > GAP * span) & (np.diff(steps) > 1)) + 1


def _drawn(values, log_x: bool) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if not log_x:
        return v
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(v)


def _add_curves(fig, log, x, y, *, row=None, col=None, smoothing=0.0, band="none", show_batch_loss=False,
                n_train=None, max_points=300, showlegend=True, dash=None, log_x=False) -> list[float]:
    """Draw every run of `log` as y against x; returns the finite y values of runs that did not diverge.

    The curves are the measured values, never smoothed; `smoothing` (EMA by x-distance, `ema_smooth`) applies
    to the noisy mini-batch loss only. A stretch the checkpoints did not measure (`_gap_breaks`) is left
    blank, with markers on the points either side; a curve of few points marks every point. On a log x axis
    (`log_x`) points with x <= 0 are drawn at `log_x_start`; hover shows the true x."""
    n_train = n_train or infer_n_train(log)
    zero_at = log_x_start(log, x) if log_x else None

    def xs(values) -> np.ndarray:
        v = np.asarray(values, dtype=float)
        return v if zero_at is None else np.where(v > 0, v, zero_at)

    every = _drawn(xs(log[x]), log_x)
    every = every[np.isfinite(every)]
    span = float(every.max() - every.min()) if len(every) else 0.0
    lrs = sorted(log["base_lr"].unique())
    kept: list[float] = []
    where = {"row": row, "col": col} if row is not None else {}
    for b, lr, g in _runs(log, x, y, band):
        drawn = _drawn(xs(g["x"]), log_x)
        blanks = _gap_breaks(drawn, g["step"].to_numpy(), span)  # found before thinning, kept through it
        shown = _downsample(drawn, max_points, keep=np.r_[blanks - 1, blanks])
        g, breaks = g.iloc[shown], np.searchsorted(shown, blanks)
        color, name = batch_size_color(b, n_train), _name(b, lr, n_train, len(lrs) > 1)
        group = f"B={b} lr={lr:g}"
        line = {"color": color, "width": 2, "dash": dash or DASHES[lrs.index(lr) % len(DASHES)]}
        ys = g["y"].to_numpy(dtype=float)
        full = n_train is not None and b >= n_train  # its mini-batch loss is the training loss
        if show_batch_loss and not full and "batch_loss" in log and g["n_seeds"].max() == 1:
            raw = log[(log["batch_size"] == b) & (log["base_lr"] == lr)].sort_values("step")
            bx = xs(raw[x])
            by = ema_smooth(raw["batch_loss"].to_numpy(dtype=float), smoothing, x=_drawn(bx, log_x))
            thin = _downsample(_drawn(bx, log_x), max_points)  # smoothed at full resolution, then thinned
            fig.add_trace(go.Scatter(x=bx[thin], y=by[thin], mode="lines", name=f"{name} mini-batch", legendgroup=group,
                                     showlegend=False, opacity=0.6 if smoothing else 0.3,
                                     line={"color": color, "width": 1}, hoverinfo="skip"), **where)
        if band != "none" and g["n_seeds"].max() > 1:
            lo, hi = ((g["lo"], g["hi"]) if band == "minmax" else (g["y"] - g["std"], g["y"] + g["std"]))
            lo, hi = lo.to_numpy(dtype=float), hi.to_numpy(dtype=float)
            if not g["diverged"].any():
                kept.extend(v for v in (*lo, *hi) if np.isfinite(v))
            fig.add_trace(go.Scatter(x=xs(g["x"]), y=hi, mode="lines", line={"width": 0}, legendgroup=group,
                                     showlegend=False, hoverinfo="skip", name=f"{name} band upper"), **where)
            fig.add_trace(go.Scatter(x=xs(g["x"]), y=lo, mode="lines", line={"width": 0}, fill="tonexty",
                                     fillcolor=_rgba(color, 0.18), legendgroup=group, showlegend=False,
                                     hoverinfo="skip", name=f"{name} band {band}"), **where)
        px = xs(g["x"])
        sizes = np.zeros(len(ys)) if len(ys) > SPARSE else np.full(len(ys), 5.0)
        sizes[np.r_[breaks - 1, breaks].astype(int)] = 5.0  # the measured points either side of a blank
        # a curve with no point marked is a plain line: plotly draws an SVG node for every marker, even of size
        # 0, and on the home chart those nodes were most of its drawing time in a cold browser
        marked = bool(sizes.any())
        fig.add_trace(go.Scatter(x=np.insert(px, breaks, np.nan), y=np.insert(ys, breaks, np.nan),
                                 mode="lines+markers" if marked else "lines", name=name, legendgroup=group,
                                 showlegend=showlegend, line=line,
                                 marker={"size": np.insert(sizes, breaks, 0.0).tolist(), "color": color} if marked
                                 else {"color": color},
                                 customdata=np.insert(g["x"].to_numpy(dtype=float), breaks, np.nan),
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
                      hovermode="closest", template=TEMPLATE)
    if log_y:
        fig.update_yaxes(type="log")
    return label_log_ticks(fig)


def loss_curves(log: pd.DataFrame, x: str = "epoch", y: str = "train_loss", *, log_y: bool = False,
                log_x: bool = False, smoothing: float = 0.0, band: str = "none", show_batch_loss: bool = False,
                n_train: int | None = None, max_points: int = 300, title: str | None = None) -> go.Figure:
    """One curve per (batch size, lr): y against x; on request the mini-batch loss faint behind it (y ==
    train_loss only), EMA-smoothed by `smoothing`."""
    fig = go.Figure()
    kept = _add_curves(fig, log, x, y, smoothing=smoothing, band=band, n_train=n_train, max_points=max_points,
                       show_batch_loss=show_batch_loss and y == "train_loss", log_x=log_x)
    fig.update_xaxes(title=AXIS_TITLES.get(x, x), type="log" if log_x else None)
    fig.update_yaxes(title=AXIS_TITLES.get(y, y))
    _clip_range(fig, kept, log_y)
    return _layout(fig, title, log_y)


def loss_panels(log: pd.DataFrame, xs=("epoch", "step", "wall_time_s"), y: str = "train_loss", *,
                log_y: bool = False, log_x_for=("step", "wall_time_s"), smoothing: float = 0.0,
                band: str = "none", show_batch_loss: bool = False, n_train: int | None = None,
                max_points: int = 300, title: str | None = None) -> go.Figure:
    """`loss_curves` against several x axes side by side (shared y); steps and time on log x by default."""
    fig = make_subplots(rows=1, cols=len(xs), shared_yaxes=True, horizontal_spacing=0.03,
                        subplot_titles=[AXIS_TITLES.get(x, x) for x in xs])
    kept: list[float] = []
    for i, x in enumerate(xs, start=1):
        kept += _add_curves(fig, log, x, y, row=1, col=i, smoothing=smoothing, band=band, n_train=n_train,
                            max_points=max_points, showlegend=i == 1,
                            show_batch_loss=show_batch_loss and y == "train_loss", log_x=x in log_x_for)
        fig.update_xaxes(type="log" if x in log_x_for else None, row=1, col=i)
    fig.update_yaxes(title=AXIS_TITLES.get(y, y), row=1, col=1)
    _clip_range(fig, kept, log_y)
    return _layout(fig, title, log_y)


def playable(fig: go.Figure, label: str = "epoch") -> go.Figure:
    """Play / Pause frames (the curves grow along each panel's x axis, in the browser) and linear / log y buttons
    on a built chart: `ui.animation`. `label` names the first panel's x in the frame slider."""
    return scale_buttons(growing_frames(fig, label=label))


SLIDER_LABEL_IDS = {"epoch": "animation.epoch", "step": "animation.step", "wall_time_s": "animation.seconds",
                    "examples_seen": "animation.examples"}  # a first panel's x -> its word in the frame slider


# The home chart's side margins, fixed: room for 7-character y tick labels ("0.00012", "1e+06") and the y title.
# Plotly's automargin measures every label and lays the figure out again (~80 ms of its first draw in a cold
# browser, benchmarks/DASHBOARD.md); the bottom margin is the frame slider's (ui/animation.py), the top the legend's.
FIXED_SIDE_MARGINS = {"l": 76, "r": 24}


def playable_loss_panels(log: pd.DataFrame, **options) -> go.Figure:
    """`loss_panels(log, **options)`, made `playable`, with fixed side margins (`FIXED_SIDE_MARGINS`)."""
    x = options.get("xs", ("epoch",))[0]
    fig = playable(loss_panels(log, **options), label=t(SLIDER_LABEL_IDS[x]) if x in SLIDER_LABEL_IDS else x)
    fig.update_xaxes(automargin=False)
    fig.update_yaxes(automargin=False)
    return fig.update_layout(margin=FIXED_SIDE_MARGINS)


def metric_grid(log: pd.DataFrame, metrics=("val_loss", "val_accuracy", "grad_norm"), x: str = "epoch", *,
                pair_train: bool = True, log_y: bool = False, band: str = "none",
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
        kept = _add_curves(fig, log, x, m, row=1, col=i, band=band, n_train=n_train,
                           max_points=max_points, showlegend=i == 1)
        train = m.replace("val_", "train_")
        if pair_train and m.startswith("val_") and train in log:
            kept += _add_curves(fig, log, x, train, row=1, col=i, n_train=n_train,
                                max_points=max_points, showlegend=False, dash="dot")
        if "accuracy" not in m:  # accuracy stays in its natural autorange, never on a log axis
            fig.update_yaxes(type="log" if log_y else None, row=1, col=i)
            _clip_range(fig, kept, log_y, row=1, col=i)
        fig.update_xaxes(title=AXIS_TITLES.get(x, x), row=1, col=i)
    return _layout(fig, title, log_y=False)  # its log y axes set per panel above


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


def summary_table_markdown(summary: pd.DataFrame, n_train: int | None = None) -> str:
    """`summary_markdown(summary_table(summary, n_train))`."""
    return summary_markdown(summary_table(summary, n_train))
