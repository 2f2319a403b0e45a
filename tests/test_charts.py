"""ui/charts.py on small real logs: names, colours, axes, smoothing, seed bands, divergence markers."""

import numpy as np
import pandas as pd
import pytest

from gd_core import ExperimentConfig, run_experiment
from ui import charts
from ui.colors import batch_size_color, batch_size_label

N_TRAIN = 160  # n_samples=200, val_fraction=0.2


@pytest.fixture(scope="module")
def log():
    return run_experiment(ExperimentConfig(n_samples=200, batch_sizes=(1, 16, "full"), budget=2.0,
                                           n_checkpoints=30)).log


@pytest.fixture(scope="module")
def seeds_log():
    return run_experiment(ExperimentConfig(n_samples=200, batch_sizes=(8, "full"), seeds=(0, 1, 2), budget=2.0,
                                           n_checkpoints=20)).log


@pytest.fixture(scope="module")
def diverged_log():
    cfg = ExperimentConfig(problem="least_squares", dataset="linear", n_samples=200, n_features=5,
                           condition_number=100.0, lrs=(0.1,), batch_sizes=(16, "full"), budget=20.0)
    log = run_experiment(cfg).log
    assert log.groupby("batch_size")["diverged"].any().tolist() == [True, True]
    return log


def test_ema_smooth_known_sequence():
    # a = 0.5: ema = 0.5, 1.25, 2.125; debiased by 1 - 0.5^t = 0.5, 0.75, 0.875
    np.testing.assert_allclose(charts.ema_smooth([1.0, 2.0, 3.0], 0.5), [1.0, 1.25 / 0.75, 2.125 / 0.875])
    np.testing.assert_allclose(charts.ema_smooth([4.0] * 5, 0.9), [4.0] * 5)  # debiased: no pull towards 0
    np.testing.assert_array_equal(charts.ema_smooth([3.0, 1.0], 0.0), [3.0, 1.0])
    out = charts.ema_smooth([1.0, np.nan, 3.0], 0.5)  # NaN passes through and is not averaged in
    assert np.isnan(out[1])
    np.testing.assert_allclose(out[[0, 2]], [1.0, (0.5 * 0.5 + 0.5 * 3.0) / 0.75])
    with pytest.raises(ValueError, match="smoothing weight"):
        charts.ema_smooth([1.0], 1.0)


def test_infer_n_train(log):
    assert charts.infer_n_train(log) == N_TRAIN
    # read from the first row past the start, whatever the rows before it hold
    late = pd.concat([log.head(1).assign(epoch=0.5, examples_seen=0), log.iloc[1:]], ignore_index=True)
    assert charts.infer_n_train(late) == N_TRAIN
    assert charts.infer_n_train(log[log["step"] == 0]) is None  # every run stopped at its start
    assert charts.infer_n_train(log.head(0)) is None


def test_ema_smooth_by_x_distance():
    # evenly spaced x: the plain EMA
    np.testing.assert_allclose(charts.ema_smooth([1.0, 2.0, 3.0], 0.5, x=[0, 10, 20]),
                               charts.ema_smooth([1.0, 2.0, 3.0], 0.5))
    # x = 0, 1, 3 (mean gap 1.5): decays 0.5**(1/1.5) then 0.5**(2/1.5); weighted mean of the points so far
    d1, d2 = 0.5 ** (1 / 1.5), 0.5 ** (2 / 1.5)
    expect = [1.0, (d1 * 1 + 2) / (d1 + 1), (d2 * (d1 * 1 + 2) + 3) / (d2 * (d1 + 1) + 1)]
    np.testing.assert_allclose(charts.ema_smooth([1.0, 2.0, 3.0], 0.5, x=[0, 1, 3]), expect)
    # a NaN is skipped, but the distance across it still decays what came before
    out = charts.ema_smooth([1.0, np.nan, 3.0], 0.5, x=[0, 1, 2])
    np.testing.assert_allclose(out[[0, 2]], [1.0, (0.25 * 1 + 3) / (0.25 + 1)])


def test_loss_curves_names_and_colours_per_batch_size(log):
    assert not [t for t in charts.loss_curves(log).data if "mini-batch" in t.name]  # off by default
    fig = charts.loss_curves(log, show_batch_loss=True)
    lines = [t for t in fig.data if t.showlegend is not False]
    assert [t.name for t in lines] == [batch_size_label(b, N_TRAIN) for b in (1, 16, N_TRAIN)]
    assert [t.line.color for t in lines] == [batch_size_color(b, N_TRAIN) for b in (1, 16, N_TRAIN)]
    assert lines[-1].name.startswith("full batch")
    assert {t.type for t in fig.data} == {"scatter"}  # SVG, not WebGL
    faint = [t for t in fig.data if t.name.endswith("mini-batch")]
    assert len(faint) == 2 and all(t.opacity < 0.5 and t.line.width <= 1 for t in faint)  # not for full
    assert [t.line.color for t in faint] == [batch_size_color(b) for b in (1, 16)]
    assert not [t for t in charts.loss_curves(log, show_batch_loss=False).data if "mini-batch" in t.name]


def test_x_axes_and_log_y(log):
    for x in ("epoch", "step", "wall_time_s", "examples_seen"):
        fig = charts.loss_curves(log, x=x)
        b1 = next(t for t in fig.data if t.name == "SGD (B=1)")
        drawn = np.asarray(b1.x, dtype=float)  # NaN: a blank where no checkpoint measured (a pause in time)
        np.testing.assert_allclose(drawn[np.isfinite(drawn)], log.loc[log["batch_size"] == 1, x].to_numpy())
    assert charts.loss_curves(log).layout.yaxis.type != "log"
    assert charts.loss_curves(log, log_y=True).layout.yaxis.type == "log"
    panels = charts.loss_panels(log, log_y=True)
    assert [panels.layout[a].type for a in ("yaxis", "yaxis2", "yaxis3")] == ["log"] * 3
    assert panels.layout.xaxis2.type == "log" and panels.layout.xaxis.type != "log"
    assert sum(t.showlegend is not False for t in panels.data) == 3  # one legend entry per batch size


def test_log_x_panels_draw_the_start_at_the_left_edge(log, seeds_log):
    # a log axis cannot show x = 0: without the shift every curve would start at update 1 / its first second
    for lg, name in ((log, "full batch (B=160)"), (seeds_log, "B=8")):
        panels = charts.loss_panels(lg)
        first = lg[lg["step"] == 0].groupby("batch_size")["train_loss"].mean()
        for axis, x in (("x2", "step"), ("x3", "wall_time_s")):
            start = charts.log_x_start(lg, x)
            positive = lg.loc[lg[x] > 0, x]
            assert start == positive.min() / 2 > 0
            curve = next(t for t in panels.data if t.name == name and t.xaxis == axis)
            assert curve.x[0] == start and curve.customdata[0] == 0 and curve.x[1] > start
            b = int(lg.loc[lg["step"] == 0, "batch_size"].max()) if lg is log else 8
            assert curve.y[0] == pytest.approx(first[b])
            assert all(min(t.x) > 0 for t in panels.data if t.xaxis == axis)  # bands and faint lines too
        epochs = next(t for t in panels.data if t.name == name and t.xaxis == "x")
        assert epochs.x[0] == 0  # the linear epochs panel keeps x = 0
    assert charts.loss_curves(log, x="step", log_x=True).data[-1].x[0] == 0.5
    assert charts.loss_curves(log, x="step").data[-1].x[0] == 0


def test_smoothing_applies_to_the_mini_batch_loss_only(log):
    # the curves are exact losses on fixed evaluation sets: smoothing them moved full batch's 0.839 to 0.93
    raw = charts.loss_curves(log, show_batch_loss=True)
    smooth = charts.loss_curves(log, show_batch_loss=True, smoothing=0.8)
    for a, b in zip(raw.data, smooth.data, strict=True):
        if "mini-batch" not in a.name:
            np.testing.assert_array_equal(np.asarray(a.y, float), np.asarray(b.y, float))
    faint = next(t for t in smooth.data if t.name == "B=16 mini-batch")
    g = log[log["batch_size"] == 16]
    np.testing.assert_allclose(faint.y, charts.ema_smooth(g["batch_loss"].to_numpy(), 0.8, x=g["epoch"].to_numpy()))
    assert not np.allclose(faint.y, g["batch_loss"])
    curve = next(t for t in smooth.data if t.name == "B=16")
    np.testing.assert_allclose(np.asarray(curve.y, float)[np.isfinite(np.asarray(curve.y, float))], g["train_loss"])


def test_no_line_where_no_checkpoint_measured(log):
    # drop the B = 1 checkpoints between 0.2 and 1.5 epochs: a straight line there showed a loss nobody measured
    sparse = log[~((log["batch_size"] == 1) & log["epoch"].between(0.2, 1.5))]
    fig = charts.loss_curves(sparse)
    b1 = next(t for t in fig.data if t.name == "SGD (B=1)")
    x = np.asarray(b1.x, dtype=float)
    gap = np.flatnonzero(np.isnan(x))
    assert len(gap) == 1 and x[gap[0] - 1] < 0.2 and x[gap[0] + 1] > 1.5
    sizes = np.asarray(b1.marker.size)
    assert sizes[gap[0] - 1] > 0 and sizes[gap[0] + 1] > 0  # the measured points either side are marked
    assert b1.mode == "lines+markers"
    full = next(t for t in fig.data if t.name.startswith("full batch"))
    assert (np.asarray(full.marker.size) > 0).all()  # a curve of 3 points shows each of them
    assert not np.isnan(np.asarray(full.x, float)).any()  # its updates are consecutive: nothing unmeasured
    # the complete log: no blank on the epoch axis, and its 41 points drawn as a line without markers
    whole = next(t for t in charts.loss_curves(log).data if t.name == "SGD (B=1)")
    assert not np.isnan(np.asarray(whole.x, float)).any() and len(whole.x) > charts.SPARSE
    assert whole.mode == "lines" and whole.marker.size is None  # no marker nodes for the browser to draw


def test_log_axes_label_every_tick_in_full(log):
    panels = charts.loss_panels(log, log_y=True)
    for axis in ("xaxis2", "xaxis3", "yaxis", "yaxis2", "yaxis3"):
        assert panels.layout[axis].type == "log" and panels.layout[axis].tickformat == "~g", axis
    assert panels.layout.xaxis.tickformat is None  # the linear epochs axis keeps plotly's labels
    grid = charts.metric_grid(log, log_y=True)
    assert grid.layout.yaxis.tickformat == "~g" and grid.layout.yaxis2.tickformat is None  # accuracy: linear


def test_downsampled(log):
    fig = charts.loss_curves(log, max_points=10)
    assert max(len(t.x) for t in fig.data) <= 10
    b1 = next(t for t in fig.data if t.name == "SGD (B=1)")
    assert b1.x[-1] == log.loc[log["batch_size"] == 1, "epoch"].iloc[-1]  # the last point is kept


def test_seed_bands(seeds_log):
    fig = charts.loss_curves(seeds_log, band="minmax")
    bands = [t for t in fig.data if t.name.endswith("band minmax")]
    assert len(bands) == 2 and all(t.fill == "tonexty" for t in bands)
    mean = next(t for t in fig.data if t.name == "B=8")
    upper = next(t for t in fig.data if t.name == "B=8 band upper")
    lower = next(t for t in fig.data if t.name == "B=8 band minmax")
    assert np.all(np.asarray(lower.y) <= np.asarray(mean.y) + 1e-12)
    assert np.all(np.asarray(mean.y) <= np.asarray(upper.y) + 1e-12)
    assert np.any(np.asarray(upper.y) > np.asarray(lower.y))  # seeds differ
    g = seeds_log[seeds_log["batch_size"] == 8].groupby("step")["train_loss"]
    np.testing.assert_allclose(mean.y, g.mean().to_numpy())
    std = [t for t in charts.loss_curves(seeds_log, band="std").data if t.name.endswith("band std")]
    np.testing.assert_allclose(std[0].y, (g.mean() - g.std(ddof=0)).to_numpy())
    assert not [t for t in charts.loss_curves(seeds_log, band="none").data if "band" in t.name]
    with pytest.raises(ValueError, match="band"):
        charts.loss_curves(seeds_log, band="iqr")


def test_diverged_marker_and_clipped_range(diverged_log):
    fig = charts.loss_curves(diverged_log)
    markers = [t for t in fig.data if t.mode == "markers"]
    assert len(markers) == 2 and all(t.marker.symbol == "x" for t in markers)
    assert all("diverged at step" in t.hovertext[0] for t in markers)
    b16 = diverged_log[diverged_log["batch_size"] == 16]
    assert markers[0].x[0] == b16["epoch"].iloc[-1]  # where the run stopped


def test_diverged_marker_stays_in_the_clipped_frame(log):
    mixed = log.copy()
    b1 = mixed["batch_size"] == 1
    mixed.loc[b1 & (mixed["step"] == mixed.loc[b1, "step"].max()), "train_loss"] = 1e6
    mixed["diverged"] = b1
    fig = charts.loss_curves(mixed)
    marker = next(t for t in fig.data if t.mode == "markers")
    assert marker.y[0] == fig.layout.yaxis.range[1] and "1e+06" in marker.hovertext[0]
    assert next(t for t in charts.loss_curves(mixed, log_y=True).data if t.mode == "markers").y[0] == 1e6


def test_clipped_range_ignores_diverged_runs(log, diverged_log):
    mixed = charts.loss_curves(log.assign(diverged=log["batch_size"] == 1))
    hi = log.loc[log["batch_size"] > 1, "train_loss"].max()
    assert mixed.layout.yaxis.range[1] < hi * 1.2
    assert charts.loss_curves(diverged_log, log_y=True).layout.yaxis.range is None


def test_metric_grid(log, diverged_log):
    fig = charts.metric_grid(log)
    assert [a.text for a in fig.layout.annotations] == ["validation loss", "validation accuracy",
                                                       "gradient norm |grad L|"]
    val = [t for t in fig.data if t.xaxis == "x" and t.line.dash == "dot"]
    assert len(val) == 3  # the training counterpart, dotted
    reg = charts.metric_grid(diverged_log)
    assert any("not defined" in a.text for a in reg.layout.annotations)


def test_summary_table(log, diverged_log):
    from gd_core import summarize

    table = charts.summary_table(summarize(log, 0.5), N_TRAIN)
    assert table["run"].tolist() == ["SGD (B=1)", "B=16", f"full batch (B={N_TRAIN})"]
    assert {"steps to target", "examples to target", "seconds to target", "val accuracy"} <= set(table.columns)
    reg = charts.summary_table(summarize(diverged_log))
    assert "val accuracy" not in reg.columns and reg["status"].eq("diverged").all()
