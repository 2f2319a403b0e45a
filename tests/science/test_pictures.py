"""gd_core.science.pictures: replayed weights equal the logged run's, decision regions and class templates from
hand-set weights give the known answer, bad requests get messages."""

import numpy as np
import pytest

from gd_core import ConfigError, ExperimentConfig, build_dataset, make_problem, run_experiment
from gd_core.science.pictures import (
    class_templates,
    data_range,
    decision_grid,
    snapshot_weights,
    steps_at_fraction,
    training_snapshots,
)
from gd_core.train.runner import build_problem

CONFIGS = [
    ExperimentConfig(dataset="digits", batch_sizes=(1, 32, "full"), budget=2),
    ExperimentConfig(dataset="moons", problem="mlp", batch_sizes=(1, 8, "full"), budget=3, optimizer="adam",
                     lrs=(0.01,)),
    ExperimentConfig(dataset="blobs", problem="svm", batch_sizes=(4, 64), budget=2, momentum=0.9, schedule="cosine",
                     lrs=(0.1, 0.3), seeds=(0, 1)),  # stacked runs: equal to float rounding
]


@pytest.mark.parametrize("config", CONFIGS, ids=["digits-softmax", "moons-mlp-adam", "blobs-svm-stacked"])
def test_replayed_weights_give_the_logged_losses(config):
    ds, results = build_dataset(config), run_experiment(config)
    problem = build_problem(config, ds)
    for (B, lr, seed), run in results.log.groupby(["batch_size", "base_lr", "seed"], sort=False):
        steps = run["step"].to_numpy()[[0, len(run) // 3, -1]]
        snaps = snapshot_weights(config, ds, int(B), steps, seed=int(seed), lr=float(lr))
        for s in steps:
            logged = run.loc[run["step"] == s, "train_loss"].iloc[0]
            assert problem.loss(snaps[s], ds.X_train, ds.y_train) == pytest.approx(logged, rel=1e-10)


def test_steps_at_fraction_compare_batch_sizes_after_the_same_examples():
    config = ExperimentConfig(batch_sizes=(1, 32, "full"), budget=10)  # 800 training rows
    assert [steps_at_fraction(config, 800, B, 0.5) for B in (1, 32, 800)] == [4000, 125, 5]
    assert [steps_at_fraction(config, 800, B, f) for B, f in ((32, 0.0), (32, 1.0))] == [0, 250]
    by_steps = config.replace(budget_unit="steps", budget=40)
    assert steps_at_fraction(by_steps, 800, 32, 0.25) == 10
    with pytest.raises(ConfigError, match=r"fraction must be in \[0, 1\]; got 1.5"):
        steps_at_fraction(config, 800, 32, 1.5)


def test_decision_regions_of_hand_set_weights():
    problem = make_problem("softmax", 2, 3)
    w = np.zeros(problem.n_params)
    W = problem.unpack(w)["W"]  # scores: class 0 = -x, class 1 = x, class 2 = y - 2 (wins only high up)
    W[:, 0], W[:, 1], W[:, 2] = (-1, 0), (1, 0), (0, 1)
    problem.unpack(w)["b"][:] = (0, 0, -2)
    grid = decision_grid(problem, w, (-1, 1), (-1, 4), resolution=5)
    np.testing.assert_array_equal(grid.xs, [-1, -0.5, 0, 0.5, 1])
    np.testing.assert_array_equal(grid.ys, [-1, 0.25, 1.5, 2.75, 4])
    expected = np.where(grid.ys[:, None] - 2 > np.abs(grid.xs[None, :]), 2, np.where(grid.xs[None, :] > 0, 1, 0))
    np.testing.assert_array_equal(grid.labels, expected)
    logistic = make_problem("logistic", 2, 2)
    v = np.array([1.0, 1.0, 0.0])  # class 1 where x + y > 0
    g = decision_grid(logistic, v, (-1, 1), (-1, 1), resolution=3)
    np.testing.assert_array_equal(g.labels, [[0, 0, 0], [0, 0, 1], [0, 1, 1]])


def test_class_templates_are_each_class_weights_as_an_image():
    problem = make_problem("svm", 6, 2)
    w = np.arange(problem.n_params, dtype=float)  # W (6, 2) row-major: pixel p of class c is w[2p + c]
    t = class_templates(problem, w, (2, 3))
    np.testing.assert_array_equal(t[0], [[0, 2, 4], [6, 8, 10]])
    np.testing.assert_array_equal(t[1], [[1, 3, 5], [7, 9, 11]])


def test_bad_requests_get_messages():
    with pytest.raises(ConfigError, match="decision regions need a classifier on 2 features; got problem softmax "
                                          "with 3 features"):
        decision_grid(make_problem("softmax", 3, 2), np.zeros(8), (0, 1), (0, 1))
    with pytest.raises(ConfigError, match=r"resolution must be an integer in \[2, 400\]; got 1000"):
        decision_grid(make_problem("softmax", 2, 2), np.zeros(6), (0, 1), (0, 1), resolution=1000)
    with pytest.raises(ConfigError, match="ranges must be finite with low < high"):
        decision_grid(make_problem("softmax", 2, 2), np.zeros(6), (1, 0), (0, 1))
    with pytest.raises(ConfigError, match="class templates need a linear classifier .*got problem mlp"):
        class_templates(make_problem("mlp", 4, 2, hidden=3), np.zeros(23), (2, 2))
    with pytest.raises(ConfigError, match=r"image_shape \(3, 3\) has 9 pixels; the model has 4 inputs"):
        class_templates(make_problem("softmax", 4, 2), np.zeros(10), (3, 3))
    config = ExperimentConfig(batch_sizes=(32,), budget=1)
    with pytest.raises(ConfigError, match=r"batch_size must be in \[1, 800\] .*got 900"):
        snapshot_weights(config, build_dataset(config), 900, [1])


def test_data_range_pads_each_axis():
    (x0, x1), (y0, y1) = data_range(np.array([[0.0, 10.0, 5.0], [2.0, 20.0, 6.0]]), margin=0.5)
    assert (x0, x1, y0, y1) == (-1.0, 3.0, 5.0, 25.0)


def test_a_diverging_run_stops_where_the_runner_does():
    config = ExperimentConfig(problem="least_squares", dataset="linear", batch_sizes=(800,), lrs=(100.0,),
                              budget_unit="steps", budget=2000, n_checkpoints=2000)
    ds = build_dataset(config)
    log = run_experiment(config).log
    assert log["status"].iloc[-1] == "diverged"
    snaps = snapshot_weights(config, ds, 800, [0, 1, 1000, 2000])
    assert all(np.isfinite(w).all() for w in snaps.values())
    np.testing.assert_array_equal(snaps[1000], snaps[2000])  # stopped before 1000
    problem = build_problem(config, ds)
    last = log["step"].iloc[-1]  # the runner's last checkpoint: the step it stopped at
    stopped = snapshot_weights(config, ds, 800, [last])[last]
    np.testing.assert_array_equal(stopped, snaps[2000])
    assert problem.loss(stopped, ds.X_train, ds.y_train) == pytest.approx(log["train_loss"].iloc[-1], rel=1e-10)


def test_training_snapshots_follow_the_logged_accuracy_at_the_same_examples():
    config = ExperimentConfig(dataset="moons", problem="mlp", batch_sizes=(1, 32, "full"), budget=4, lrs=(0.1,),
                              n_samples=500, n_checkpoints=4, noise=0.1)
    ds, log = build_dataset(config), run_experiment(config).log
    snaps = training_snapshots(config, ds, [0.0, 0.5, 1.0])
    assert sorted(snaps) == [1, 32, 400]
    for B, shots in snaps.items():
        run = log[log["batch_size"] == B]
        assert [s.step for s in shots] == [0, run["step"].iloc[2], run["step"].iloc[-1]]  # 2 of 4 epochs: ck 2
        for shot in (shots[0], shots[-1]):
            logged = run.loc[run["step"] == shot.step, "val_accuracy"].iloc[0]
            assert shot.val_accuracy == pytest.approx(logged, abs=1e-12)
    assert snaps[32][-1].val_accuracy > 0.8  # moons is learnt
