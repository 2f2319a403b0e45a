"""gd_core.science.landscape (grids, the 2-parameter logistic, trajectories), its charts, and the page via AppTest."""

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from gd_core import make_dataset, make_problem
from gd_core.problems.gradcheck import gradient_check
from gd_core.science.landscape import (
    LandscapeConfig,
    LogisticNoBias,
    auto_range,
    batch_loss_grid,
    curvature_limit,
    grid_loss_fn,
    loss_grid,
    make_landscape,
    stable_lr,
    step_view,
    trajectory,
)
from ui import landscape_charts as charts
from ui.colors import batch_size_color, batch_size_label
from ui.i18n import translate

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "1_Loss_landscape.py")


def _least_squares(n=60, reg=0.0, seed=0):
    ds = make_dataset("linear", n, n_features=1, noise=0.5, seed=seed)
    return make_problem("least_squares", 1, reg=reg), ds.X_train + 1.5, ds.y_train  # shifted: coupled valley


def _logistic(n=60, reg=0.0, seed=0):
    ds = make_dataset("moons", n, n_features=2, noise=0.3, seed=seed)
    return LogisticNoBias(2, 2, reg), ds.X_train, ds.y_train


PROBLEMS = {"least_squares": _least_squares, "logistic_2d": _logistic}


# -- engine ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("reg", [0.0, 0.3])
@pytest.mark.parametrize("name", PROBLEMS)
def test_loss_grid_matches_pointwise_loss(name, reg):
    problem, X, y = PROBLEMS[name](reg=reg)
    w1s, w2s, Z = loss_grid(grid_loss_fn(problem), X, y, (-3, 2), (-1, 4), 7)
    assert Z.shape == (7, 7)
    for i, j in [(0, 0), (6, 0), (0, 6), (3, 5), (6, 6)]:  # Z[i, j] is at (w1s[j], w2s[i])
        np.testing.assert_allclose(Z[i, j], problem.loss(np.array([w1s[j], w2s[i]]), X, y), rtol=1e-10)


def test_batch_loss_grid_is_the_loss_of_those_rows():
    problem, X, y = _logistic()
    idx = np.array([3, 7, 11])
    w1s, w2s, Zb = batch_loss_grid(grid_loss_fn(problem), X, y, idx, (-2, 2), (-2, 2), 5)
    np.testing.assert_allclose(Zb[1, 4], problem.loss(np.array([w1s[4], w2s[1]]), X[idx], y[idx]))


@pytest.mark.parametrize("reg", [0.0, 0.1])
def test_logistic_no_bias_gradient_check(reg):
    problem, X, y = _logistic(n=30, reg=reg)
    for seed in range(3):
        w = np.random.default_rng(seed).standard_normal(2)
        assert gradient_check(problem, w, X, y).max_rel_error < 1e-6


def test_logistic_no_bias_is_stable_for_huge_margins():
    problem, X, y = _logistic()
    loss, grad = problem.loss_and_grad(np.array([1e4, -1e4]), X, y)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))


def test_logistic_optimum_has_zero_gradient():
    problem, X, y = _logistic()
    _, grad = problem.loss_and_grad(problem.optimum(X, y), X, y)
    assert np.abs(grad).max() < 1e-10


def test_full_batch_least_squares_converges_to_optimum():
    problem, X, y = _least_squares()
    w_star = problem.optimum(X, y)
    traj = trajectory(problem, X, y, w_star + [-2.0, 2.0], len(y), lr=0.3, steps=400)
    assert traj.diverged_at is None and traj.weights.shape == (401, 2)
    np.testing.assert_allclose(traj.weights[-1], w_star, atol=1e-8)
    assert np.all(np.diff(traj.losses) <= 1e-12)  # lr < 2/lambda_max: the full loss never rises


def test_full_batch_trajectory_is_plain_gradient_descent():
    problem, X, y = _logistic()
    w0, lr = np.array([0.5, -1.0]), 0.7
    traj = trajectory(problem, X, y, w0, len(y), lr, "sgd", steps=3)
    w = w0.copy()
    for t in range(3):
        np.testing.assert_allclose(traj.weights[t], w, rtol=1e-12)
        w = w - lr * problem.loss_and_grad(w, X, y)[1]
        np.testing.assert_array_equal(traj.batch_indices[t], np.arange(len(y)))
    np.testing.assert_allclose(traj.weights[3], w, rtol=1e-12)
    np.testing.assert_allclose(traj.losses, [problem.loss(v, X, y) for v in traj.weights])


def test_shuffle_batches_cover_every_example_once_per_epoch():
    problem, X, y = _least_squares(n=50)  # 40 train rows; B = 16 -> batches 16, 16, 8 each epoch
    traj = trajectory(problem, X, y, np.zeros(2), 16, lr=0.05, steps=9, sampling="shuffle", seed=3)
    assert [len(i) for i in traj.batch_indices] == [16, 16, 8] * 3
    epochs = [np.concatenate(traj.batch_indices[k:k + 3]) for k in (0, 3, 6)]
    for e in epochs:
        np.testing.assert_array_equal(np.sort(e), np.arange(40))
    assert not np.array_equal(epochs[0], epochs[1])  # reshuffled, and the stored copies were not overwritten


def test_trajectory_is_seeded_and_replacement_draws_full_batches():
    problem, X, y = _least_squares()
    a = trajectory(problem, X, y, np.zeros(2), 4, 0.1, steps=5, sampling="replacement", seed=1)
    b = trajectory(problem, X, y, np.zeros(2), 4, 0.1, steps=5, sampling="replacement", seed=1)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert all(len(i) == 4 for i in a.batch_indices)


@pytest.mark.parametrize("optimizer,momentum", [("sgd", 0.0), ("sgd+momentum", 0.8), ("nesterov", 0.8)])
def test_stable_lr_separates_convergence_from_divergence(optimizer, momentum):
    problem, X, y = _least_squares()
    curvature, exact = curvature_limit(problem, X)
    assert exact
    limit = stable_lr(curvature, optimizer, momentum)
    name, hp = LandscapeConfig(optimizer=optimizer, momentum=momentum).optimizer_args()
    w0 = problem.optimum(X, y) + 1.0
    below = trajectory(problem, X, y, w0, len(y), 0.97 * limit, name, steps=1500, **hp)
    above = trajectory(problem, X, y, w0, len(y), 1.03 * limit, name, steps=1500, **hp)
    assert below.diverged_at is None and below.losses[-1] < below.losses[0]
    assert above.diverged_at is not None


def test_auto_range_holds_start_optimum_and_paths_but_not_a_blow_up():
    problem, X, y = _least_squares()
    w_star = problem.optimum(X, y)
    w0 = w_star + [-2.0, 2.0]
    ok = trajectory(problem, X, y, w0, 4, 0.3, steps=30)
    bad = trajectory(problem, X, y, w0, len(y), 0.7, steps=30)  # lr > 2/lambda_max
    (a, b), (c, d) = auto_range(w_star, w0, [ok, bad])
    assert np.isclose(b - a, d - c)  # square view: equal scales on both axes
    for p in [w_star, w0, *ok.weights]:
        assert a <= p[0] <= b and c <= p[1] <= d
    assert b - a < 20 * np.linalg.norm(w0 - w_star)


def test_make_landscape_and_step_view():
    ls = make_landscape(LandscapeConfig(batch_sizes=(4, 0), steps=10, resolution=20))
    n = len(ls.y)
    assert sorted(ls.trajectories) == [4, n] and ls.Z.shape == (20, 20)
    view = step_view(ls, 4, 3)
    np.testing.assert_array_equal(view.batch_indices, ls.trajectories[4].batch_indices[3])
    np.testing.assert_allclose(view.w, ls.trajectories[4].weights[3])
    _, g = ls.problem.loss_and_grad(view.w, ls.X[view.batch_indices], ls.y[view.batch_indices])
    np.testing.assert_allclose(view.batch_grad, g)
    assert view.Zb.min() == pytest.approx(
        ls.problem.loss(view.batch_min, ls.X[view.batch_indices], ls.y[view.batch_indices]))
    assert step_view(ls, 4, 99).step == 9  # clamped to the steps taken


@pytest.mark.parametrize("field,value", [("problem", "mlp"), ("lr", 0.0), ("batch_sizes", ()),
                                         ("momentum", 1.0), ("steps", 0), ("optimizer", "lbfgs")])
def test_config_rejects_bad_values_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        LandscapeConfig(**{field: value})


# -- charts ------------------------------------------------------------------------------------------------
def _small_landscape():
    return make_landscape(LandscapeConfig(batch_sizes=(1, 16, 0), steps=12, resolution=15))


def test_race_chart_has_contour_and_one_coloured_path_per_batch_size():
    ls = _small_landscape()
    n = len(ls.y)
    paths = {B: tr.weights for B, tr in ls.trajectories.items()}
    fig = charts.race_chart(ls.w1s, ls.w2s, ls.Z, paths, n, ls.w_star, ls.w0)
    assert [t.type for t in fig.data].count("contour") == 1
    path_traces = [t for t in fig.data if t.type == "scatter" and t.mode == "lines+markers"
                   and t.name in {batch_size_label(B, n) for B in paths}]
    assert len(path_traces) == len(paths) == 3
    for B, W in paths.items():
        (t,) = [t for t in path_traces if t.name == batch_size_label(B, n)]
        assert t.line.color == batch_size_color(B, n)
        (now,) = [t for t in fig.data if t.name == f"now: {batch_size_label(B, n)}"]
        assert (now.x[0], now.y[0]) == (W[-1, 0], W[-1, 1])  # before Play: the whole race, each at its end
        j = [f.name for f in fig.frames].index("t5")  # frame t = 5: the marker at w_5, the path up to it
        i = list(fig.frames[j].traces).index(fig.data.index(now))
        assert (fig.frames[j].data[i].x[0], fig.frames[j].data[i].y[0]) == (W[5, 0], W[5, 1])
    assert "full batch" in batch_size_label(n, n) and batch_size_color(n, n) == "#222222"
    assert not any(t.type == "scattergl" for t in fig.data)
    assert fig.layout.yaxis.scaleanchor == "x"
    # the title says what is drawn: whole paths (not "paths up to step t"), each run ringed at step t
    # the title (the page writes it above the chart, whose own title is empty) promises no "paths up to step t":
    # before Play the whole paths are drawn
    assert fig.layout.title.text is None and "up to step" not in translate("en", "landscape_chart.race_title")
    assert len(path_traces[0].x) == len(paths[1])
    # the page's caption names the start's white square: drawn after (over) the "now" markers, which at step
    # 0 all sit on the start and hid it
    names = [t.name for t in fig.data]
    start = names.index("start")
    assert fig.data[start].marker.symbol == "square" and fig.data[start].marker.color == "white"
    assert all(start > i for i, name in enumerate(names) if name and name.startswith("now: "))


def test_batch_surface_chart_and_arrows():
    ls = _small_landscape()
    view = step_view(ls, 1, 2)
    arrows = charts.gradient_arrows(view.w, view.full_grad, view.batch_grad, 4.0, "#1f77b4", "SGD (B=1)")
    lengths = [np.linalg.norm(a.vector) for a in arrows]
    assert max(lengths) == pytest.approx(charts.ARROW_SHARE * 4.0)
    np.testing.assert_allclose(lengths[0] / lengths[1],
                               np.linalg.norm(view.full_grad) / np.linalg.norm(view.batch_grad))
    fig = charts.batch_surface_chart(ls.w1s, ls.w2s, view.Zb, view.w, view.batch_min, ls.w_star,
                                     "#1f77b4", "SGD (B=1)", 2, arrows=arrows)
    assert fig.data[0].type == "contour"
    assert {"−∇ full loss", "mini-batch minimum (in view)"} <= {t.name for t in fig.data}


def test_contour_of_a_flat_surface_does_not_fail():
    trace = charts.contour_trace(np.arange(3.0), np.arange(3.0), np.ones((3, 3)))
    assert trace.contours.end > trace.contours.start


# -- page ----------------------------------------------------------------------------------------------------
def _spec(at, i=0):
    return json.loads(at.get("plotly_chart")[i].proto.spec)


def _now_marker(spec, name="now: SGD (B=1)"):
    (t,) = [t for t in spec["data"] if t.get("name") == name]
    return t["x"][0], t["y"][0]


@pytest.fixture
def app():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["ls_open_batch"] = at.session_state["ls_open_losses"] = True  # the lazy sections, opened
    return at.run()


def test_page_runs_step_slider_moves_marker_and_batch_sizes_change_traces(app):
    assert not app.exception
    assert len(app.get("plotly_chart")) == 3
    names = {t.get("name") for t in _spec(app)["data"]}
    assert {"SGD (B=1)", "B=16", "optimum (full data)"} <= names
    assert any("2/λ_max" in m.value for m in app.info)

    race = _spec(app)
    app.slider(key="ls_step").set_value(10).run()  # the one-step view follows; the race plays in the browser
    assert not app.exception
    assert _spec(app) == race and _now_marker(race) == _now_marker(_spec(app))
    assert "step 10" in _spec(app, 1)["layout"]["title"]["text"]

    app.multiselect(key="ls_batch_sizes").set_value([4, 0]).run()
    assert not app.exception
    names = {t.get("name") for t in _spec(app)["data"]}
    assert "B=4" in names and "SGD (B=1)" not in names and "B=16" not in names
    assert app.selectbox(key="ls_show_batch").value == 4  # the shown batch follows the new sizes


def test_logistic_problem_with_adam(app):
    app.selectbox(key="ls_problem").set_value("logistic_2d").run()
    app.selectbox(key="ls_optimizer").set_value("adam").run()
    assert not app.exception
    assert _spec(app)["layout"]["xaxis"]["title"]["text"] == "w1"
    assert any("does not apply" in m.value for m in app.info)


def test_large_lr_warns_and_fewer_steps_keep_the_slider_in_range(app):
    app.select_slider(key="ls_lr").set_value(1.0).run()
    assert not app.exception
    assert any("full batch will diverge" in m.value for m in app.warning)
    assert any("Diverged" in m.value for m in app.warning)
    app.slider(key="ls_step").set_value(50).run()
    app.slider(key="ls_steps").set_value(10).run()
    assert not app.exception
    assert app.slider(key="ls_step").value == 9


def test_no_batch_size_asks_for_one(app):
    app.multiselect(key="ls_batch_sizes").set_value([]).run()
    assert not app.exception and app.info and not app.get("plotly_chart")
