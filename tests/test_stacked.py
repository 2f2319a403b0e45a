"""Stacked runs (gd_core.stacked) give the one-by-one log: same rows, columns, statuses; values to float rounding."""

import numpy as np
import pandas as pd
import pytest

from gd_core import ExperimentConfig, run_experiment
from gd_core.runner import SMALL_BATCH
from gd_core.stacked import stack_groups

PROBLEMS = {"least_squares": dict(problem="least_squares", dataset="linear", n_features=3, noise=0.3),
            "logistic": dict(problem="logistic", dataset="moons", n_features=2),
            "softmax": dict(problem="softmax", dataset="blobs", n_features=3, n_classes=4)}
OPTIMIZERS = {"sgd": dict(optimizer="sgd"), "momentum": dict(optimizer="sgd", momentum=0.9),
              "nesterov_wd": dict(optimizer="sgd", momentum=0.8, nesterov=True, weight_decay=1e-3),
              "adam": dict(optimizer="adam")}
LRS = {"sgd": (0.01, 0.05, 0.2), "momentum": (0.005, 0.02), "nesterov_wd": (0.005, 0.02), "adam": (0.001, 0.01)}


def both(**kw):
    c = ExperimentConfig(n_samples=250, budget=2.0, n_checkpoints=12, **kw)
    return run_experiment(c, stacked=True), run_experiment(c, stacked=False)


def assert_same_log(a, b, rtol=1e-6):
    assert list(a.log.columns) == list(b.log.columns)
    exact = ["run_id", "step", "epoch", "examples_seen", "status", "diverged", "batch_size", "seed", "base_lr"]
    pd.testing.assert_frame_equal(a.log[exact], b.log[exact])
    values = [c for c in a.log.columns if c not in exact and a.log[c].dtype.kind == "f" and c != "wall_time_s"]
    np.testing.assert_allclose(a.log[values].to_numpy(float), b.log[values].to_numpy(float), rtol=rtol,
                               atol=1e-9, equal_nan=True)


@pytest.mark.parametrize("opt", list(OPTIMIZERS))
@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_learning_rate_sweep_stacked_equals_one_by_one(problem, opt):
    a, b = both(**PROBLEMS[problem], **OPTIMIZERS[opt], lrs=LRS[opt], batch_sizes=(1, 16, "full"))
    assert_same_log(a, b)
    assert (a.log["status"] == "ok").all()


@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_several_seeds_and_lrs_stacked_with_independent_orders(problem):
    a, b = both(**PROBLEMS[problem], optimizer="adam", lrs=(0.003, 0.03), seeds=(0, 5, 9), batch_sizes=(8, 33))
    assert_same_log(a, b)
    assert a.log["run_id"].nunique() == 12


@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_a_diverging_lr_stops_alone_and_keeps_its_log(problem):
    lrs = (0.01, 1e4, 0.05)
    a, b = both(**PROBLEMS[problem], optimizer="sgd", momentum=0.5, lrs=lrs, seeds=(0, 1), batch_sizes=(4,),
                reg=1e-3)
    assert_same_log(a, b)
    s = a.summary.set_index("run_id")
    assert s.loc["B=4 lr=10000 seed=0", "status"] == "diverged"
    assert (a.summary["status"] == "ok").sum() == 4
    diverged = a.log[a.log["run_id"] == "B=4 lr=10000 seed=0"]
    assert 2 <= len(diverged) < 13 and diverged["train_loss_full"].notna().iloc[-1]


def test_schedule_replacement_sampling_and_float32():
    a, b = both(**PROBLEMS["softmax"], optimizer="sgd", momentum=0.9, lrs=(0.02, 0.1), seeds=(0, 3),
                batch_sizes=(5,), schedule="cosine", warmup_epochs=0.5, lr_scaling="sqrt",
                sampling="replacement", dtype="float32")
    assert_same_log(a, b, rtol=2e-4)


def test_subsampled_evaluation_and_partial_last_batch():
    a, b = both(**PROBLEMS["least_squares"], lrs=(0.01, 0.1), seeds=(0, 1), batch_sizes=(7,),
                eval_examples=100)
    assert_same_log(a, b)
    assert a.log["train_loss_full"].notna().sum() == 4


def test_cancel_and_progress_in_a_stacked_group():
    calls = []
    c = ExperimentConfig(n_samples=200, lrs=(0.1, 0.2), batch_sizes=(8, "full"), budget=3)
    r = run_experiment(c, should_stop=lambda: len(calls) > 3, progress=lambda f, m: calls.append(f))
    assert set(r.summary["status"]) == {"cancelled"} and len(r.summary) == 2
    assert calls[-1] == 1.0 and calls == sorted(calls)


def test_rule_stacks_small_batches_of_supported_models_only():
    assert stack_groups("softmax", "sgd", [1, 1, 32, 32, 500, 500], 500, SMALL_BATCH) == \
        [[0, 1], [2, 3], [4], [5]]
    assert stack_groups("mlp", "sgd", [8, 8], 500, SMALL_BATCH) == [[0], [1]]
    assert stack_groups("softmax", "rmsprop", [8, 8], 500, SMALL_BATCH) == [[0], [1]]
    assert stack_groups("softmax", "adam", [SMALL_BATCH, SMALL_BATCH], 10**6, SMALL_BATCH) == [[0], [1]]


def test_run_experiment_chooses_the_stacked_path_by_the_rule(monkeypatch):
    import gd_core.runner as runner

    calls = []
    real = runner.run_stacked
    monkeypatch.setattr(runner, "run_stacked", lambda runs, *a, **k: calls.append(len(runs) * len(runs[0]))
                        or real(runs, *a, **k))
    c = ExperimentConfig(n_samples=200, lrs=(0.1, 0.2), seeds=(0, 1), batch_sizes=(8, "full"), budget=1)
    run_experiment(c)
    assert calls == [4]  # the B = 8 runs together; full batch one by one
    run_experiment(c.replace(problem="mlp"))
    assert calls == [4]
