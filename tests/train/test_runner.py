import warnings

import numpy as np
import pandas as pd
import pytest
from numeric import assert_decreases_to_rounding_level

from gd_core import LOG_COLUMNS, ConfigError, ExperimentConfig, run_experiment
from gd_core.train.reference import EXPLODE_FACTOR, divergence_limit
from gd_core.train.runner import build_dataset, build_problem

LSQ = dict(problem="least_squares", dataset="linear", n_samples=200, n_features=3, noise=0.5)


def test_log_has_the_engine_columns_and_one_run_per_batch_size_and_seed():
    c = ExperimentConfig(n_samples=300, batch_sizes=(1, 32, "full"), seeds=(0, 1), budget=2, n_checkpoints=20)
    r = run_experiment(c)
    assert list(r.log.columns) == list(LOG_COLUMNS)
    assert r.log.groupby(["batch_size", "seed"]).ngroups == 6
    assert len(r.summary) == 6
    # accuracies present for classifiers; regression leaves them empty
    assert r.log["train_accuracy"].notna().all()
    assert set(r.log["batch_size"]) == {1, 32, 240}


def test_full_batch_gd_reaches_lstsq_solution():
    c = ExperimentConfig(**LSQ, batch_sizes=("full",), lrs=(0.5,), budget_unit="steps", budget=3000,
                         n_checkpoints=10)
    ds = build_dataset(c)
    r = run_experiment(c)
    A = np.c_[ds.X_train, np.ones(ds.n_train)]
    w_star = np.linalg.lstsq(A, ds.y_train, rcond=None)[0]
    distance = r.log["distance_to_optimum"].to_numpy() / np.linalg.norm(w_star)
    assert distance[-1] < 1e-6
    # converged to ~5e-16 within the first checkpoints, then an ulp's wobble that depends on BLAS and threads
    assert_decreases_to_rounding_level(distance, floor=1e-12)


def test_every_run_of_a_seed_starts_from_the_same_weights():
    c = ExperimentConfig(n_samples=200, batch_sizes=(1, 8, "full"), lrs=(0.1, 0.3), budget=1)
    first = run_experiment(c).log.query("step == 0")
    assert first["train_loss"].nunique() == 1 and first["val_loss"].nunique() == 1


@pytest.mark.parametrize("stacked", [False, True])
def test_start_takes_no_training_time_and_time_grows(stacked):
    # the step-0 checkpoint trains nothing; a timer read around it gave ~1e-7 s, which a log time axis drew
    # as a start four decades left of the first update
    c = ExperimentConfig(n_samples=200, batch_sizes=(1, 8, "full"), seeds=(0, 1), budget=1, n_checkpoints=5)
    log = run_experiment(c, stacked=stacked).log
    assert (log.loc[log["step"] == 0, "wall_time_s"] == 0.0).all()
    for _, g in log.groupby(["batch_size", "seed"]):
        assert (g["wall_time_s"].diff().iloc[1:] > 0).all()


def test_same_config_gives_identical_numbers():
    c = ExperimentConfig(n_samples=200, batch_sizes=(1, 16, "full"), seeds=(3,), budget=2, sampling="replacement")
    a, b = run_experiment(c).log, run_experiment(c).log
    pd.testing.assert_frame_equal(a.drop(columns="wall_time_s"), b.drop(columns="wall_time_s"))


@pytest.mark.parametrize("unit, budget, expect", [("steps", 7, 7), ("examples", 95, 10)])
def test_budget_units(unit, budget, expect):
    c = ExperimentConfig(n_samples=125, batch_sizes=(10,), budget_unit=unit, budget=budget)
    assert run_experiment(c).log["step"].iloc[-1] == expect


def test_huge_learning_rate_diverges_quietly():
    c = ExperimentConfig(**LSQ, batch_sizes=(1, 32, "full"), lrs=(1e3,), budget=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = run_experiment(c)
    assert r.summary["diverged"].all()
    assert (r.summary["status"] == "diverged").all()
    # the log so far is kept: more than the starting row, and it stops early
    for _, g in r.log.groupby("run_id"):
        assert len(g) >= 2 and g["epoch"].iloc[-1] < 5


@pytest.mark.parametrize("stacked", [True, False])
def test_a_run_diverging_right_after_a_checkpoint_logs_that_step_once(stacked):
    """Found by tests/test_properties.py at the lowest versions: full batch, two checkpoints; the update right
    after checkpoint 1 diverges (not taken), and step 1 was logged twice. One row per step, the last with the
    diverging batch loss (over the limit), in both loops."""
    c = ExperimentConfig(problem="softmax", dataset="circles", n_samples=39, n_features=2, n_classes=2, noise=2.0,
                         val_fraction=0.0, standardize=False, data_seed=258, optimizer="adagrad", lrs=(6000.0,),
                         eps=1.0, weight_decay=96.0, batch_sizes=("full",), seeds=(261, 262),
                         sampling="replacement", budget=2.0, n_checkpoints=2, eval_examples=100)
    r = run_experiment(c, stacked=stacked)
    diverged, fine = (g for _, g in r.log.groupby("seed"))
    assert diverged["step"].tolist() == [0, 1] and (diverged["status"] == "diverged").all()
    assert diverged["batch_loss"].iloc[-1] > divergence_limit(diverged["train_loss"].iloc[0], EXPLODE_FACTOR)
    assert fine["step"].tolist() == [0, 1, 2] and (fine["status"] == "ok").all()


def test_small_learning_rate_does_not_diverge_and_loss_falls():
    c = ExperimentConfig(**LSQ, batch_sizes=(1, 32, "full"), lrs=(0.05,), budget=50)
    r = run_experiment(c)
    ds = build_dataset(c)
    problem = build_problem(c, ds)
    best = problem.loss(problem.optimum(ds.X_train, ds.y_train), ds.X_train, ds.y_train)
    assert not r.summary["diverged"].any()
    for _, g in r.log.groupby("run_id"):
        assert g["train_loss"].iloc[-1] - best < 0.5 * (g["train_loss"].iloc[0] - best)


def test_lr_scaling_and_schedule_show_in_lr_column():
    c = ExperimentConfig(n_samples=330, batch_sizes=(8, 32), lrs=(0.1,), lr_scaling="linear", ref_batch_size=8,
                         schedule="cosine", budget=2)
    log = run_experiment(c).log
    assert log.query("batch_size == 8")["lr"].iloc[0] == pytest.approx(0.1)
    assert log.query("batch_size == 32")["lr"].iloc[0] == pytest.approx(0.4)
    assert log.query("batch_size == 32")["lr"].iloc[-1] == pytest.approx(0.0, abs=1e-12)


def test_warmup_starts_from_reference_lr_when_scaling():
    c = ExperimentConfig(n_samples=330, batch_sizes=(64,), lrs=(0.1,), lr_scaling="linear", ref_batch_size=8,
                         warmup_epochs=1.0, budget=3)
    lr = run_experiment(c).log["lr"]
    assert lr.iloc[0] == pytest.approx(0.1) and lr.max() == pytest.approx(0.8)


def test_subsampled_evaluation_and_exact_final_losses():
    c = ExperimentConfig(n_samples=3000, batch_sizes=(64,), eval_examples=500, budget=1)
    r = run_experiment(c)
    ds = build_dataset(c)
    problem = build_problem(c, ds)
    last = r.log.iloc[-1]
    assert np.isnan(r.log["train_loss_full"].iloc[0])
    assert np.isfinite(last["train_loss_full"])
    # the exact final loss differs from the subsample estimate but is close
    assert last["train_loss_full"] != last["train_loss"]
    assert last["train_loss_full"] == pytest.approx(last["train_loss"], rel=0.1)
    assert r.summary["final_train_loss"].iloc[0] == last["train_loss_full"]
    assert problem.n_params == 9


def test_time_limit_cuts_short_and_keeps_the_log():
    c = ExperimentConfig(n_samples=2000, batch_sizes=(1,), budget=200, time_limit_s=0.05)
    r = run_experiment(c)
    assert r.summary["status"].iloc[0] == "time_limit"
    assert 2 <= len(r.log) < 200 and r.log["epoch"].iloc[-1] < 200


def test_should_stop_cancels_and_keeps_partial_results():
    calls = []
    c = ExperimentConfig(n_samples=200, batch_sizes=(1, 8, "full"), budget=3)
    r = run_experiment(c, should_stop=lambda: len(calls) > 3, progress=lambda f, m: calls.append(f))
    assert r.summary["status"].tolist() == ["cancelled"]
    assert calls[-1] == 1.0 and calls == sorted(calls)


def test_target_loss_in_summary():
    c = ExperimentConfig(**LSQ, batch_sizes=(1, "full"), lrs=(0.1,), budget=5, target_loss=1.0)
    s = run_experiment(c).summary
    assert s["steps_to_target"].notna().all()
    assert (s["examples_to_target"] <= s["examples_seen"]).all()


def test_batch_size_larger_than_csv_data_is_rejected(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("a,b,t\n" + "".join(f"{i},{i * 2 % 7},{i % 2}\n" for i in range(20)))
    c = ExperimentConfig(dataset="csv", csv_path=str(f), target="t", problem="logistic", batch_sizes=(64,))
    with pytest.raises(ConfigError, match=r"batch_size must be in \[1, 16\]"):
        run_experiment(c)
    ok = run_experiment(c.replace(batch_sizes=(4, "full"), budget=2))
    assert set(ok.log["batch_size"]) == {4, 16}


@pytest.mark.parametrize("problem, dataset", [("logistic", "moons"), ("svm", "blobs"), ("mlp", "spiral"),
                                              ("least_squares", "linear")])
@pytest.mark.parametrize("optimizer", ["sgd", "adagrad", "rmsprop", "adam"])
def test_every_problem_and_optimizer_runs(problem, dataset, optimizer):
    c = ExperimentConfig(problem=problem, dataset=dataset, optimizer=optimizer, n_samples=120, lrs=(0.01,),
                         batch_sizes=(1, 16, "full"), budget=1, n_checkpoints=5, dtype="float32")
    r = run_experiment(c)
    assert not r.summary["diverged"].any()
    assert np.isfinite(r.log["train_loss"]).all()


@pytest.mark.parametrize("case", ["ok", "diverges", "cancelled", "subsampled_cancelled"])
def test_pooled_checkpoints_log_what_measuring_each_in_place_logs(case, monkeypatch, pool_sizes):
    """Softmax checkpoints on small sets are measured several at a time on snapshots (checkpoints.POOL); the log, the
    stop decisions and the exact final losses must be those of measuring each checkpoint as it comes."""
    from gd_core.train import checkpoints

    c = ExperimentConfig(n_samples=400, batch_sizes=(4, 50), lrs=(0.3,), budget=3, n_checkpoints=40,
                         eval_examples=100 if case == "subsampled_cancelled" else 50_000)
    original_metrics, measured = checkpoints.Evaluator._metrics, []

    def metrics(self, *args):  # "diverges": the 13th checkpoint measured blows up (a pool's 4th, not its last)
        measured.append(1)
        m = original_metrics(self, *args)
        return {**m, "train_loss": np.inf} if case == "diverges" and len(measured) == 13 else m

    monkeypatch.setattr(checkpoints.Evaluator, "_metrics", metrics)

    def run(pool):
        monkeypatch.setattr(checkpoints, "POOL", pool)
        calls = []
        measured.clear()
        stop = (lambda: len(calls) > 30) if "cancelled" in case else None
        return run_experiment(c, stacked=False, should_stop=stop, progress=lambda f, m: calls.append(f))

    pool = checkpoints.POOL
    pooled = run(pool)
    assert pool_sizes and max(pool_sizes) == pool > 1  # the pooled path ran, with full pools
    in_place = run(1)
    a, b = pooled.log, in_place.log
    assert len(a) == len(b) and list(a["status"]) == list(b["status"])
    expect = {"ok": {"ok"}, "diverges": {"diverged", "ok"}}.get(case, {"cancelled"})  # diverges: the first run
    assert set(a["status"]) == expect
    for col in ("step", "examples_seen", "batch_size"):
        assert list(a[col]) == list(b[col]), col
    for col in ("batch_loss", "lr", "train_loss", "val_loss", "train_accuracy", "val_accuracy", "grad_norm",
                "train_loss_full", "val_loss_full"):
        np.testing.assert_allclose(a[col], b[col], rtol=1e-9, err_msg=col)


def test_run_ids_are_distinct_for_learning_rates_that_print_alike():
    # "%g" prints 1e6 and 999999.5 both as 1e+06: the two runs shared one id and one line in every chart
    from gd_core.train.plan import lr_label, plan_runs

    c = ExperimentConfig(n_samples=50, lrs=(1e6, 999999.5, 0.1, 3e-4), batch_sizes=(1, "full"))
    ids = [spec.run_id for spec in plan_runs(c, 40)]
    assert len(set(ids)) == len(ids) == 8
    assert [lr_label(v) for v in (1e6, 999999.5, 0.1, 3e-4, 1.0)] == ["1e+06", "999999.5", "0.1", "0.0003", "1"]
