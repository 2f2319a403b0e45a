"""Stacked runs (gd_core.train.stacked) give the one-by-one log: same rows, columns, statuses; values to float
rounding."""

import time

import numpy as np
import pandas as pd
import pytest

from gd_core import ExperimentConfig, run_experiment
from gd_core.train.runner import SMALL_BATCH
from gd_core.train.stacked import stack_groups

PROBLEMS = {"least_squares": dict(problem="least_squares", dataset="linear", n_features=3, noise=0.3),
            "logistic": dict(problem="logistic", dataset="moons", n_features=2),
            "softmax": dict(problem="softmax", dataset="blobs", n_features=3, n_classes=4)}
OPTIMIZERS = {"sgd": dict(optimizer="sgd"), "momentum": dict(optimizer="sgd", momentum=0.9),
              "nesterov_wd": dict(optimizer="sgd", momentum=0.8, nesterov=True, weight_decay=1e-3),
              "adam": dict(optimizer="adam")}
LRS = {"sgd": (0.01, 0.05, 0.2), "momentum": (0.005, 0.02), "nesterov_wd": (0.005, 0.02), "adam": (0.001, 0.01)}


def both(**kw):
    c = ExperimentConfig(**{"n_samples": 250, "budget": 2.0, "n_checkpoints": 12, **kw})
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


@pytest.mark.parametrize("seeds", [(0, 5, 9), (3, 4)])
def test_seeds_shuffled_on_two_threads_draw_the_one_by_one_orders(seeds, monkeypatch):
    """On a large set the seeds' epoch shuffles run on a helper thread (gd_core.train.stacked.PARALLEL_SHUFFLE_ROWS,
    lowered here to this set's size): over several epochs the runs keep their one-by-one orders, and the
    thread is gone afterwards."""
    import threading

    import gd_core.train.stacked as stacked

    monkeypatch.setattr(stacked, "PARALLEL_SHUFFLE_ROWS", 200)
    started = []
    real = stacked.ThreadPoolExecutor

    def pool(*args, **kwargs):
        started.append(kwargs.get("thread_name_prefix"))
        return real(*args, **kwargs)

    monkeypatch.setattr(stacked, "ThreadPoolExecutor", pool)
    a, b = both(**PROBLEMS["softmax"], optimizer="sgd", lrs=(0.02, 0.1), seeds=seeds, batch_sizes=(8, 33),
                budget=4.0)
    assert_same_log(a, b)
    assert started == ["gd-stacked-shuffle"] * 2  # one helper per stacked group (B = 8, B = 33)
    assert not [t for t in threading.enumerate() if t.name.startswith("gd-stacked-shuffle")]


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
    import gd_core.train.runner as runner

    calls = []
    real = runner.run_stacked
    monkeypatch.setattr(runner, "run_stacked", lambda runs, *a, **k: calls.append(len(runs) * len(runs[0]))
                        or real(runs, *a, **k))
    c = ExperimentConfig(n_samples=200, lrs=(0.1, 0.2), seeds=(0, 1), batch_sizes=(8, "full"), budget=1)
    run_experiment(c)
    assert calls == [4]  # the B = 8 runs together; full batch one by one
    run_experiment(c.replace(problem="mlp"))
    assert calls == [4]


# -- the fused B = 1 path (stacked_window.OneExampleWindow), chunks, and the bias kept out of the gather ------

def count_paths(monkeypatch):
    """Counts of fused windows that passed / failed their check (a failed one is replayed step by step)."""
    import gd_core.fast.stacked_window as sk

    counts = {"ok": 0, "failed": 0}
    real = sk.OneExampleWindow.run

    def run(self, *a):
        ok = real(self, *a)
        counts["ok" if ok else "failed"] += 1
        return ok

    monkeypatch.setattr(sk.OneExampleWindow, "run", run)
    return counts


@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_one_example_sweep_fused_equals_one_by_one_across_windows_and_epochs(problem, monkeypatch):
    counts = count_paths(monkeypatch)
    a, b = both(**PROBLEMS[problem], optimizer="sgd", lrs=(0.01, 0.05, 0.2), batch_sizes=(1,), budget=2.5)
    assert_same_log(a, b)
    assert counts["ok"] > 0 and counts["failed"] == 0
    c = ExperimentConfig(n_samples=250, budget=2.5, n_checkpoints=2, optimizer="sgd", lrs=(0.01, 0.2),
                         batch_sizes=(1,), **PROBLEMS[problem])  # intervals of many full windows
    assert_same_log(run_experiment(c), run_experiment(c, stacked=False))


@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_one_example_runs_diverging_mid_way_are_replayed_step_by_step(problem, monkeypatch):
    counts = count_paths(monkeypatch)
    lrs = {"least_squares": (0.05, 1.0, 1.6, 3.0), "logistic": (0.5, 1e4, 1e6), "softmax": (0.1, 300.0, 3000.0, 3e4)}
    a, b = both(**PROBLEMS[problem], optimizer="sgd", lrs=lrs[problem], batch_sizes=(1,), warmup_epochs=1.5,
                seeds=(0, 4))
    assert_same_log(a, b)
    assert counts["failed"] > 0
    sizes = a.log.groupby("run_id").size()
    diverged = a.summary.loc[a.summary["status"] == "diverged", "run_id"]
    assert len(diverged) >= 2 and (sizes[diverged] > 2).any()  # some diverge after a few checkpoints
    assert (a.summary.loc[a.summary["base_lr"] == lrs[problem][0], "status"] == "ok").all()


@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_one_example_replacement_schedules_float32_and_l2(problem):
    a, b = both(**PROBLEMS[problem], optimizer="sgd", lrs=(0.02, 0.1), seeds=(0, 3), batch_sizes=(1,),
                schedule="cosine", warmup_epochs=0.5, sampling="replacement", dtype="float32")
    assert_same_log(a, b, rtol=2e-4)
    a, b = both(**PROBLEMS[problem], optimizer="sgd", lrs=(0.02, 0.1), batch_sizes=(1,), reg=1e-2)
    assert_same_log(a, b)


@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize("opt", ["sgd", "momentum", "adam"])
def test_many_rows_a_step_add_the_bias_outside_the_gather(problem, opt):
    """seeds x B >= stacked.BIAS_COLUMN_ROWS: contiguous gather, bias added to the scores; partial last batches."""
    from gd_core.train.stacked import BIAS_COLUMN_ROWS

    assert 3 * 27 >= BIAS_COLUMN_ROWS and 200 % 27
    a, b = both(**PROBLEMS[problem], **OPTIMIZERS[opt], lrs=LRS[opt], seeds=(0, 1, 2), batch_sizes=(27,), reg=1e-3)
    assert_same_log(a, b)


@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_small_chunks_cross_checkpoints_and_epochs(problem, monkeypatch):
    import gd_core.train.stacked as stacked

    monkeypatch.setattr(stacked, "CHUNK_BYTES", 20 * 4 * 8)  # 20 rows of 3 features + bias, float64: 2 steps of
    # B = 8 a chunk with one seed, 1 with two
    monkeypatch.setattr(stacked, "WINDOW", 3)
    steps_a_chunk, buffers = {}, stacked._StackedGroup._buffers

    def spied(self, X, y):  # the steps per chunk each group was given
        buf = buffers(self, X, y)
        steps_a_chunk[self.B] = buf.K
        return buf

    monkeypatch.setattr(stacked._StackedGroup, "_buffers", spied)
    for sampling in ("shuffle", "replacement"):
        a, b = both(**PROBLEMS[problem], optimizer="sgd", lrs=(0.01, 0.1), seeds=(0, 1), batch_sizes=(1, 8, 9),
                    sampling=sampling)
        assert_same_log(a, b)
        assert steps_a_chunk == {1: 3, 8: 1, 9: 1}  # windows of 3 steps; one step a chunk with two seeds


@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_plain_sgd_divergence_through_the_loss_bounds(problem):
    """Plain SGD folds lr into the step and checks cheap loss bounds; a diverging run still stops where it would."""
    lrs = {"least_squares": (0.01, 5.0, 0.05), "logistic": (0.01, 1e6, 0.05), "softmax": (0.01, 1e5, 0.05)}
    for kw in ({}, {"warmup_epochs": 1.0}):
        a, b = both(**PROBLEMS[problem], optimizer="sgd", lrs=lrs[problem], seeds=(0, 1), batch_sizes=(4, 40), **kw)
        assert_same_log(a, b)
        assert (a.summary["status"] == "diverged").any()


def test_cancel_and_time_limit_on_the_fused_path():
    c = ExperimentConfig(n_samples=300, lrs=(0.1, 0.2), batch_sizes=(1,), budget=3)
    calls = []
    r = run_experiment(c, should_stop=lambda: len(calls) > 3, progress=lambda f, m: calls.append(f))
    assert set(r.summary["status"]) == {"cancelled"} and len(r.summary) == 2
    calls = []
    one = run_experiment(c, should_stop=lambda: len(calls) > 3, progress=lambda f, m: calls.append(f), stacked=False)
    assert one.summary["status"].tolist() == ["cancelled"]  # one by one, the first run is cancelled
    assert r.log.groupby("run_id").size().tolist() == [len(one.log)] * 2 == [4, 4]
    first = r.log[r.log["run_id"] == one.log["run_id"].iloc[0]]
    np.testing.assert_allclose(first["train_loss"], one.log["train_loss"], rtol=1e-6)
    r = run_experiment(c.replace(time_limit_s=0.001), progress=lambda f, m: time.sleep(0.002))
    assert set(r.summary["status"]) == {"time_limit"} and r.log.groupby("run_id").size().tolist() == [1, 1]


@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_tight_divergence_limits_switch_the_bounds_off(problem, monkeypatch):
    """Limits under log(float max): no correct-class shift, no fused windows; exact losses decide every step."""
    import gd_core.train.runner as runner

    monkeypatch.setattr(runner, "EXPLODE_FACTOR", 1.5)
    for B in (1, 8):
        a, b = both(**PROBLEMS[problem], optimizer="sgd", lrs=(0.01, 0.5, 3.0), seeds=(0, 1), batch_sizes=(B,))
        assert_same_log(a, b)


def test_stacked_checkpoints_measure_every_run_pooled(monkeypatch, pool_sizes):
    """At a stacked checkpoint every active run is measured at once (Evaluator.many, `pool` weight vectors a
    pass for softmax on small sets); the log is that of measuring each run alone, including a run that
    diverges at a checkpoint and stops there."""
    from gd_core.train import checkpoints

    c = ExperimentConfig(**{**PROBLEMS["softmax"], "n_samples": 250, "budget": 2.0, "n_checkpoints": 12,
                            "lrs": (0.05, 0.2, 1.0, 3e5), "seeds": (0, 1, 2), "batch_sizes": (16,)})
    pooled = run_experiment(c, stacked=True)
    assert max(pool_sizes) == 12 and checkpoints.POOL < 12  # all 12 runs at once: more than one pool
    assert pooled.summary["diverged"].any() and not pooled.summary["diverged"].all()
    monkeypatch.setattr(checkpoints, "POOL", 1)
    assert_same_log(pooled, run_experiment(c, stacked=True), rtol=1e-10)  # the same path, each run alone
    assert_same_log(pooled, run_experiment(c, stacked=False))  # and one run after another, each alone


def test_fused_least_squares_step_gives_the_forward_backward_log_exactly(monkeypatch):
    """StackedStep.fused_step (plain-SGD least squares: the step's NumPy calls without their dispatch) must leave
    exactly the log of forward + backward, also when its divergence bound fails and it hands the step back."""
    from gd_core.fast.stacked_kernels import StackedStep

    c = ExperimentConfig(**{**PROBLEMS["least_squares"], "n_samples": 250, "budget": 3.0, "n_checkpoints": 12,
                            "lrs": (0.01, 0.05, 3.0), "seeds": (0, 1), "batch_sizes": (8,)})
    outcomes = []
    original = StackedStep.fused_step

    def spied(self, b):
        step = original(self, b)

        def counted(XT, yv):
            outcomes.append(step(XT, yv))
            return outcomes[-1]

        return counted

    monkeypatch.setattr(StackedStep, "fused_step", spied)
    fused = run_experiment(c, stacked=True)
    assert True in outcomes and False in outcomes  # steps taken fused, and steps handed back at the bound
    assert fused.summary["diverged"].any() and not fused.summary["diverged"].all()
    monkeypatch.setattr(StackedStep, "fused_step", lambda self, b: None)
    plain = run_experiment(c, stacked=True)
    cols = [col for col in fused.log.columns if col != "wall_time_s"]
    pd.testing.assert_frame_equal(fused.log[cols], plain.log[cols])
    assert_same_log(fused, run_experiment(c, stacked=False))


def test_a_stop_between_checkpoints_after_fused_steps_logs_the_last_batch_loss(monkeypatch):
    # A time limit or a closed tab between two checkpoints, right after fused plain-SGD least-squares steps (which
    # compute no loss), crashed with "Cannot cast scalar from dtype('O')": no loss of the last step was kept.
    from gd_core.fast.stacked_kernels import StackedStep
    from gd_core.train import stopping

    monkeypatch.setattr(stopping, "CHECK_WORK", 2e4)  # a check every few dozen steps

    def stopper():
        calls = {"n": 0}

        def should_stop():
            calls["n"] += 1
            return calls["n"] >= 4
        return should_stop

    c = ExperimentConfig(problem="least_squares", dataset="linear", n_features=3, n_samples=4000, batch_sizes=(8,),
                         seeds=(0, 1), lrs=(0.01, 0.02), n_checkpoints=1, budget=5)
    fused = run_experiment(c, should_stop=stopper())
    assert set(fused.summary["status"]) == {"cancelled"}
    last = fused.log.groupby("run_id").tail(1)
    assert np.isfinite(last["batch_loss"]).all() and (last["step"] > 0).all()
    monkeypatch.setattr(StackedStep, "fused_step", lambda self, b: None)
    plain = run_experiment(c, should_stop=stopper())  # every step through forward/backward: the same log
    cols = [col for col in fused.log.columns if col != "wall_time_s"]
    pd.testing.assert_frame_equal(fused.log[cols], plain.log[cols])
