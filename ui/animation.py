"""Training replayed in the browser: Plotly animation frames with Play / Pause buttons and a frame slider.

Every frame is computed here, once, from the checkpoints already measured; the browser plays them (no server
round trip per frame, no script rerun). A frame only sends the `y` arrays of the traces it grows, as prefixes
of the static chart's arrays: Plotly draws min(len(x), len(y)) points, so the full `x`, `customdata` and hover
text stay in the trace and still belong to the points shown. The last frame is the static chart itself.

    growing_frames(fig, n_frames=None, *, label="frame", stop_format="{:.3g}") -> fig
        each line grows along its own x axis: frame k shows the points with x up to the k-th of n evenly
        spaced stops over that axis (log-spaced on a log axis); panels side by side grow together.
    race_frames(fig, paths, path_traces, marker_traces, n_frames=None) -> fig
        paths (steps + 1, 2) drawn up to step t and one marker per path at w_t: every batch size racing.
    scale_buttons(fig) -> fig            client-side linear / log y buttons (no rerun)
    frame_count(points, max_frames, budget) -> int     how many frames fit a budget of numbers sent
    (n_frames=None: as many as `frame_count` allows, at most MAX_FRAMES and one per point or step)

Axis ranges are fixed to the whole chart's before playing, so the axes stand still while the lines grow. The
buttons and the slider's prefix are in the session's language (`ui.i18n`); a caller passes `label` translated.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui import i18n

MAX_FRAMES = 120
FRAME_BUDGET = 15_000  # numbers in all frames together: bytes, and the time st.plotly_chart takes to copy them
PLAY_MS = 4000  # a whole replay, whatever the number of frames (each frame 40-150 ms)
PLAY_MENU = "play"  # updatemenus' name: tests and the page find the buttons by it


def frame_count(points: int, max_frames: int = MAX_FRAMES, budget: int = FRAME_BUDGET) -> int:
    """Frames whose prefixes (on average half of `points` numbers each) fit `budget`, at least 2."""
    if points <= 0:
        return 2
    return int(max(2, min(max_frames, 2 * budget // points)))


def _stops(lo: float, hi: float, n: int, log: bool) -> np.ndarray:
    """n stops from lo to hi (the last is hi exactly), geometric on a log axis."""
    if log and lo > 0 and hi > lo:
        stops = np.geomspace(lo, hi, n)
    else:
        stops = np.linspace(lo, hi, n)
    stops[-1] = hi
    return stops


def _axis_name(trace, letter: str) -> str:
    ref = getattr(trace, f"{letter}axis", None) or letter
    return f"{letter}axis{ref[1:]}"


def _prefix_len(x: np.ndarray, stop: float) -> int:
    """How many leading points have x <= stop (a NaN x ends nothing: it counts as passed once reached)."""
    beyond = np.flatnonzero(x > stop)
    return int(beyond[0]) if len(beyond) else len(x)


def _growable(fig: go.Figure) -> list[int]:
    return [i for i, t in enumerate(fig.data) if isinstance(t, go.Scatter) and t.x is not None and t.y is not None
            and len(t.x) > 0]


def _axis_values(fig: go.Figure, letter: str) -> dict[str, np.ndarray]:
    """Every finite coordinate drawn on each axis of one letter ("x" or "y"), by layout name."""
    values: dict[str, list[float]] = {}
    for t in fig.data:
        if isinstance(t, go.Scatter) and t.x is not None and t.y is not None:
            v = np.asarray(getattr(t, letter), dtype=float)
            values.setdefault(_axis_name(t, letter), []).extend(v[np.isfinite(v)].tolist())
    return {k: np.asarray(v) for k, v in values.items()}


def _span(values: np.ndarray, log: bool) -> list[float] | None:
    """The range Plotly's autorange would give a line chart of these values (log10 units on a log axis), padded."""
    v = np.log10(values[values > 0]) if log else values
    if not len(v):
        return None
    lo, hi = float(v.min()), float(v.max())
    pad = 0.04 * (hi - lo or abs(hi) or 1.0)
    return [lo - pad, hi + pad]


def _fix_ranges(fig: go.Figure) -> None:
    """Set every autoranged axis to the span of its data, so frames do not rescale it. Axes that match another
    (shared subplot axes) take the span of the whole group."""
    for letter in "xy":
        groups: dict[str, list[np.ndarray]] = {}
        for name, values in _axis_values(fig, letter).items():
            matches = fig.layout[name].matches if fig.layout[name] is not None else None
            root = f"{letter}axis{matches[1:]}" if matches else name
            groups.setdefault(root, []).append(values)
        for root, parts in groups.items():
            axis = fig.layout[root]
            if axis is not None and axis.range is None and (rng := _span(np.concatenate(parts), axis.type == "log")):
                axis.range = rng


def _controls(fig: go.Figure, names: Sequence[str], labels: Sequence[str], prefix: str) -> None:
    """Play / Pause buttons and a slider with one step per frame (a step: click or drag it, or arrow keys).

    Scatter-only charts play without a full redraw per frame; a chart with other traces (the landscape's
    contour) needs one: Plotly's scatter-only transition wipes the contour layer."""
    redraw = any(not isinstance(t, go.Scatter) for t in fig.data)
    frame_ms = int(min(150, max(40, PLAY_MS / len(names))))
    play = dict(frame=dict(duration=frame_ms, redraw=redraw), transition=dict(duration=0), fromcurrent=True,
                mode="immediate")
    pause = dict(frame=dict(duration=0, redraw=redraw), transition=dict(duration=0), mode="immediate")
    menus = [m for m in fig.layout.updatemenus if m.name != PLAY_MENU]
    fig.update_layout(
        updatemenus=[*menus, dict(name=PLAY_MENU, type="buttons", direction="left", showactive=False,
                                  x=0, xanchor="left", y=0, yanchor="top", pad=dict(t=120, r=10),
                                  buttons=[dict(label=i18n.t("animation.play"), method="animate", args=[None, play]),
                                           dict(label=i18n.t("animation.pause"), method="animate",
                                                args=[[None], pause])])],
        sliders=[dict(active=len(names) - 1, x=0, len=1, y=0, yanchor="top", pad=dict(t=50),
                      currentvalue=dict(prefix=prefix, font=dict(size=12)),
                      steps=[dict(label=lab, method="animate", args=[[name], pause])
                             for name, lab in zip(names, labels, strict=True)])])
    margin = fig.layout.margin
    fig.update_layout(margin=dict(b=max(margin.b or 0, 170)))


def _compact(y: np.ndarray, exact: bool) -> np.ndarray:
    """Frame arrays as float32 (half the bytes; plenty for a picture), the last frame's exactly as drawn."""
    return y if exact else y.astype(np.float32)


def growing_frames(fig: go.Figure, n_frames: int | None = None, *, label: str = "frame",
                   stop_format: str = "{:.3g}") -> go.Figure:
    """Add frames in which every scatter trace grows along its x axis (see the module doc); returns `fig`.

    `label` names the first x axis in the slider (e.g. "epoch"): step k reads "epoch ≤ 0.5"."""
    grow = _growable(fig)
    if not grow:
        return fig
    _fix_ranges(fig)
    xs = {i: np.asarray(fig.data[i].x, dtype=float) for i in grow}
    ys = {i: np.asarray(fig.data[i].y, dtype=float) for i in grow}
    n = n_frames or frame_count(sum(len(v) for v in ys.values()), min(MAX_FRAMES, max(len(v) for v in ys.values())))
    by_axis: dict[str, list[int]] = {}
    for i in grow:
        by_axis.setdefault(_axis_name(fig.data[i], "x"), []).append(i)
    stops = {}
    for name, idx in by_axis.items():
        v = np.concatenate([xs[i][np.isfinite(xs[i])] for i in idx])
        log = fig.layout[name].type == "log"
        lo = float(v[v > 0].min()) if log and (v > 0).any() else float(v.min()) if len(v) else 0.0
        stops[name] = _stops(lo, float(v.max()) if len(v) else 0.0, n, log)
    first_axis = sorted(by_axis, key=lambda a: (len(a), a))[0]
    frames, names, labels = [], [], []
    for k in range(n):
        last = k == n - 1
        data = []
        for i in grow:
            stop = stops[_axis_name(fig.data[i], "x")][k]
            m = len(ys[i]) if last else _prefix_len(xs[i], stop)
            data.append({"type": "scatter", "y": _compact(ys[i][:m], last)})
        names.append(f"f{k}")
        labels.append(stop_format.format(stops[first_axis][k]))
        frames.append({"name": names[-1], "data": data, "traces": grow})
    fig.frames = frames
    _controls(fig, names, labels, i18n.t("animation.up_to", label=label))
    return fig


def race_frames(fig: go.Figure, paths: Sequence[np.ndarray], path_traces: Sequence[int],
                marker_traces: Sequence[int], n_frames: int | None = None) -> go.Figure:
    """Frames over steps t: trace path_traces[j] shows paths[j] (steps + 1, 2) up to row t, marker_traces[j]
    sits at its last finite row <= t (a diverged path stops). The last frame is the whole path, each marker at
    the path's last finite point; returns `fig`."""
    steps = max(len(W) for W in paths) - 1
    if steps < 1:
        return fig
    n = n_frames or frame_count(sum(len(W) for W in paths), max_frames=min(MAX_FRAMES, steps + 1))
    ts = np.unique(np.round(np.linspace(0, steps, n)).astype(int))
    _fix_ranges(fig)
    frames, names = [], []
    for t in ts:
        last = t == ts[-1]
        data = []
        for W in paths:
            m = min(int(t), len(W) - 1)
            data.append({"type": "scatter", "y": _compact(W[:m + 1, 1], last)})
        for W in paths:
            p = last_finite(W, int(t))
            data.append({"type": "scatter", "x": [float(W[p, 0])], "y": [float(W[p, 1])]})
        names.append(f"t{t}")
        frames.append({"name": names[-1], "data": data, "traces": [*path_traces, *marker_traces]})
    fig.frames = frames
    _controls(fig, names, [str(t) for t in ts], i18n.t("animation.race_prefix"))
    return fig


def last_finite(W: np.ndarray, t: int) -> int:
    """The last row <= t of a path with both coordinates finite (0 if none): where a diverged run stopped."""
    t = min(t, len(W) - 1)
    ok = np.flatnonzero(np.all(np.isfinite(W[:t + 1]), axis=1))
    return int(ok[-1]) if len(ok) else 0


def scale_buttons(fig: go.Figure) -> go.Figure:
    """Linear / log y buttons applied in the browser (every y axis with data; no rerun). Each button sets the axis
    type and a fixed range: the figure's own for its current type, else the data's span."""
    values = _axis_values(fig, "y")
    typed = [n for n in values if fig.layout[n] is not None]  # every y axis changes type
    names = [n for n in typed if not fig.layout[n].matches]  # ranges: the matched axes follow theirs
    for n in values:
        if fig.layout[n] is not None and fig.layout[n].matches:  # a shared axis: its group's span
            root = f"yaxis{fig.layout[n].matches[1:]}"
            values[root] = np.concatenate([values.get(root, np.array([])), values[n]])

    def relayout(kind: str) -> dict:
        out = {f"{name}.type": kind for name in typed}
        for name in names:
            axis = fig.layout[name]
            same = (axis.type == "log") == (kind == "log")
            rng = list(axis.range) if same and axis.range is not None else _span(values[name], kind == "log")
            if rng is not None:
                out[f"{name}.range"] = rng
        return out

    current = fig.layout[names[0]].type if names else None
    menus = [m for m in fig.layout.updatemenus if m.name != "scale"]
    fig.update_layout(updatemenus=[*menus, dict(
        name="scale", type="buttons", direction="left", showactive=True, active=1 if current == "log" else 0,
        x=1, xanchor="right", y=1, yanchor="bottom", pad=dict(b=4),
        buttons=[dict(label=i18n.t("animation.linear_y"), method="relayout", args=[relayout("linear")]),
                 dict(label=i18n.t("animation.log_y"), method="relayout", args=[relayout("log")])])])
    return fig
