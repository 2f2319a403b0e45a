"""ui/animation.py: frames are prefixes of the static chart, bounded in number and size, the last one is the chart."""

import json

import numpy as np
import plotly.graph_objects as go
import pytest

from gd_core import ExperimentConfig, run_experiment
from ui import animation, charts
from ui.animation import (
    FRAME_BUDGET,
    MAX_FRAMES,
    PLAY_MENU,
    PLAY_MS,
    frame_count,
    growing_frames,
    race_frames,
    scale_buttons,
)


def menu(fig: go.Figure, name: str):
    return next(m for m in fig.layout.updatemenus if m.name == name)


def frame_ys(fig: go.Figure, k: int) -> list[np.ndarray]:
    return [np.asarray(d["y"], dtype=float) for d in fig.frames[k].data]


def test_frame_count_fits_the_budget():
    assert frame_count(10) == MAX_FRAMES
    assert frame_count(10, max_frames=7) == 7
    assert frame_count(10**9) == 2  # never fewer than a start and an end
    assert frame_count(2 * FRAME_BUDGET // 50) == 50
    counts = [frame_count(p) for p in (100, 1_000, 5_000, 20_000)]
    assert counts == sorted(counts, reverse=True)


def test_growing_frames_show_the_points_up_to_each_stop():
    fig = go.Figure(go.Scatter(x=[0, 1, 2, 3, 4], y=[5.0, 4, 3, 2, 1], customdata=[0, 1, 2, 3, 4]))
    growing_frames(fig, n_frames=5)
    assert [len(y) for y in (frame_ys(fig, k)[0] for k in range(5))] == [1, 2, 3, 4, 5]  # stops 0, 1, 2, 3, 4
    assert frame_ys(fig, 4)[0].tolist() == [5.0, 4, 3, 2, 1]
    assert fig.frames[0].data[0].x is None  # x and customdata stay in the trace: the prefix keeps them paired
    assert list(fig.layout.xaxis.range) == pytest.approx([-0.16, 4.16])  # fixed: the axes stand still


def test_growing_frames_on_a_log_axis_are_log_spaced():
    fig = go.Figure(go.Scatter(x=[1, 10, 100, 1000], y=[4.0, 3, 2, 1]))
    fig.update_xaxes(type="log")
    growing_frames(fig, n_frames=4)
    assert [len(frame_ys(fig, k)[0]) for k in range(4)] == [1, 2, 3, 4]
    assert list(fig.layout.xaxis.range) == pytest.approx([-0.12, 3.12])  # log10 units


@pytest.fixture(scope="module")
def home_log():
    return run_experiment(ExperimentConfig()).log


def test_playable_loss_panels_frames_are_bounded_prefixes_ending_in_the_chart(home_log):
    static = charts.loss_panels(home_log)
    fig = charts.playable_loss_panels(home_log)
    n = len(fig.frames)
    assert 2 <= n <= MAX_FRAMES
    grown = fig.frames[0].traces
    assert sum(len(d["y"]) for f in fig.frames[:-1] for d in f.data) <= FRAME_BUDGET
    for k in range(n):
        for i, y in zip(grown, frame_ys(fig, k), strict=True):
            full = np.asarray(static.data[i].y, dtype=float)
            np.testing.assert_allclose(y, full[:len(y)], rtol=1e-6)  # float32 frames: a prefix of the line
    for i, y in zip(grown, frame_ys(fig, n - 1), strict=True):  # the last frame is the static chart, exactly
        np.testing.assert_array_equal(y, np.asarray(static.data[i].y, dtype=float))
    lengths = np.array([[len(y) for y in frame_ys(fig, k)] for k in range(n)])
    assert (np.diff(lengths, axis=0) >= 0).all() and lengths[0].max() < lengths[-1].max()
    play = menu(fig, PLAY_MENU)
    assert [b.label for b in play.buttons] == ["▶ Play", "❚❚ Pause"]
    assert play.buttons[0].args[0] is None and play.buttons[0].args[1]["fromcurrent"]
    assert play.buttons[0].args[1]["frame"]["redraw"] is False  # scatter frames: no full redraw per frame
    assert play.buttons[0].args[1]["frame"]["duration"] == int(min(150, max(40, PLAY_MS / n)))  # one replay: ~PLAY_MS
    assert list(play.buttons[1].args[0]) == [None]  # Plotly's pause: animate to no frame, immediately
    steps = fig.layout.sliders[0].steps
    assert [list(s.args[0])[0] for s in steps] == [f.name for f in fig.frames] and fig.layout.sliders[0].active == n - 1
    assert len(fig.to_json()) < 2.5 * len(static.to_json()) + 8 * FRAME_BUDGET  # bytes: the budget, not n x chart


def test_frames_stop_where_each_panel_stops(home_log):
    fig = charts.playable_loss_panels(home_log)
    k = len(fig.frames) // 2
    stop = {}
    for i, y in zip(fig.frames[k].traces, frame_ys(fig, k), strict=True):
        trace = fig.data[i]
        x = np.asarray(trace.x, dtype=float)
        if len(y):
            stop.setdefault(trace.xaxis, []).append(x[len(y) - 1])
        if len(y) < len(x):  # the next point is past the stop every other line of the panel reached
            stop.setdefault(f"next {trace.xaxis}", []).append(x[len(y)])
    for axis in ("x", "x2", "x3"):
        assert max(stop[axis]) < min(stop[f"next {axis}"]), axis


def test_race_frames_move_each_marker_along_its_path_and_stop_a_diverged_one():
    a = np.column_stack([np.arange(11.0), np.arange(11.0) ** 2])
    b = a * 0.5
    b[6:] = np.nan  # diverged after step 5
    fig = go.Figure([go.Scatter(x=a[:, 0], y=a[:, 1]), go.Scatter(x=b[:, 0], y=b[:, 1]),
                     go.Scatter(x=[10.0], y=[100.0]), go.Scatter(x=[2.5], y=[12.5])])
    race_frames(fig, [a, b], [0, 1], [2, 3], n_frames=11)
    assert [f.name for f in fig.frames] == [f"t{t}" for t in range(11)]
    f3 = fig.frames[3].data
    assert list(f3[0]["y"]) == [0, 1, 4, 9] and list(f3[2]["x"]) == [3.0] and list(f3[2]["y"]) == [9.0]
    f8 = fig.frames[8].data
    assert list(f8[3]["x"]) == [2.5] and list(f8[3]["y"]) == [12.5]  # stays where the run stopped
    last = fig.frames[-1].data
    np.testing.assert_array_equal(last[0]["y"], a[:, 1])
    np.testing.assert_array_equal(last[1]["y"], b[:, 1])
    assert list(last[2]["x"]) == [10.0] and list(last[2]["y"]) == [100.0]


def test_race_frames_are_bounded_for_long_paths():
    rng = np.random.default_rng(0)
    paths = [rng.standard_normal((301, 2)).cumsum(axis=0) for _ in range(8)]
    fig = go.Figure([go.Scatter(x=W[:, 0], y=W[:, 1]) for W in paths]
                    + [go.Scatter(x=[W[-1, 0]], y=[W[-1, 1]]) for W in paths])
    race_frames(fig, paths, list(range(8)), list(range(8, 16)))
    assert 2 <= len(fig.frames) <= MAX_FRAMES
    assert sum(len(d["y"]) for f in fig.frames[:-1] for d in f.data) <= FRAME_BUDGET + 8 * len(fig.frames)
    assert fig.frames[0].name == "t0" and fig.frames[-1].name == "t300"
    assert len(json.loads(fig.to_json())["frames"]) == len(fig.frames)


def test_scale_buttons_keep_the_chart_range_and_give_the_other_scale_the_data_span():
    fig = go.Figure(go.Scatter(x=[0, 1, 2], y=[100.0, 10, 1]))
    fig.update_yaxes(range=[0, 110])
    scale_buttons(fig)
    linear, log = menu(fig, "scale").buttons
    assert linear.args[0] == {"yaxis.type": "linear", "yaxis.range": [0, 110]}
    assert log.args[0]["yaxis.type"] == "log"
    assert log.args[0]["yaxis.range"] == pytest.approx([-0.08, 2.08])  # log10 of 1..100, padded
    assert menu(fig, "scale").active == 0


def test_scale_buttons_on_a_log_chart_start_on_log():
    fig = go.Figure(go.Scatter(x=[0, 1], y=[1.0, 1000]))
    fig.update_yaxes(type="log")
    animation.growing_frames(fig, n_frames=2)
    scale_buttons(fig)
    assert menu(fig, "scale").active == 1
    assert menu(fig, "scale").buttons[1].args[0]["yaxis.range"] == pytest.approx(list(fig.layout.yaxis.range))


def test_a_chart_with_a_contour_redraws_each_frame():
    """Plotly's scatter-only transition wipes a contour layer: the race chart plays with full redraws."""
    W = np.column_stack([np.arange(5.0), np.arange(5.0)])
    fig = go.Figure([go.Contour(z=[[0, 1], [1, 2]]), go.Scatter(x=W[:, 0], y=W[:, 1]), go.Scatter(x=[4.0], y=[4.0])])
    race_frames(fig, [W], [1], [2])
    assert menu(fig, PLAY_MENU).buttons[0].args[1]["frame"]["redraw"] is True


def test_shared_axes_get_one_range_for_the_whole_group(home_log):
    """loss_panels shares y across panels (`matches`): the fixed range covers every panel's lines."""
    fig = charts.playable_loss_panels(home_log, log_y=True)
    ys = np.concatenate([np.asarray(t.y, dtype=float) for t in fig.data])
    ys = np.log10(ys[np.isfinite(ys) & (ys > 0)])
    lo, hi = fig.layout.yaxis.range
    assert lo <= ys.min() and hi >= ys.max()
    assert fig.layout.yaxis2.matches == "y" and fig.layout.yaxis2.range is None
    log_button = menu(fig, "scale").buttons[1].args[0]
    assert set(log_button) == {"yaxis.type", "yaxis2.type", "yaxis3.type", "yaxis.range"}  # one range for all
