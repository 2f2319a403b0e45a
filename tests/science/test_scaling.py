"""Steps to target vs batch size, the S = S_min(1 + B_noise/B) fit, scaling rules, Smith et al., the sweep CLI."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from gd_core import ExperimentConfig, read_log_csv, run_experiment
from gd_core.cli.main import main
from gd_core.science.noise import noise_during_training
from gd_core.science.phases import decay_vs_grow
from gd_core.science.scaling import (
    SweepSpec,
    b_simple_at_target,
    best_per_batch_size,
    default_spec,
    estimate_work,
    fit_steps_model,
    pow2_batch_sizes,
    predicted_steps,
    run_sweep,
    runs_to_target,
    suggest_smaller,
)
from gd_core.science.scaling_rules import rule_configs, rules_table
from gd_core.train.limits import estimate_work as run_work

TINY = ExperimentConfig(problem="least_squares", dataset="linear", n_samples=80, n_features=3, noise=0.3,
                        optimizer="sgd", target_loss=0.1, batch_sizes=(1,))


def tiny_spec(**changes):
    return dataclasses.replace(SweepSpec(TINY, (1, 8, 64), (0.03, 0.1, 0.3), epochs=3, min_steps=20,
                                         max_steps=300, n_checkpoints=30), **changes)


def test_fit_recovers_s_min_and_b_noise_exactly():
    B = np.array([1, 2, 4, 8, 16, 32, 64, 128])
    S = 7.0 * (1 + 40.0 / B)
    fit = fit_steps_model(B, S)
    np.testing.assert_allclose([fit.s_min, fit.b_noise, fit.e_min, fit.b_crit], [7.0, 40.0, 280.0, 40.0],
                               rtol=1e-10)
    np.testing.assert_allclose(predicted_steps(fit, B), S, rtol=1e-10)
    nan_fit = fit_steps_model(np.append(B, 256), np.append(S, np.nan))  # unreached sizes are dropped
    np.testing.assert_allclose(nan_fit.b_noise, 40.0, rtol=1e-10)


def test_steps_to_target_interpolates_between_checkpoints():
    log = pd.DataFrame({"run_id": "r", "problem": "p", "dataset": "d", "optimizer": "sgd", "batch_size": 4,
                        "base_lr": 0.1, "seed": 0, "step": [0, 10, 20, 30], "epoch": 0.0,
                        "examples_seen": [0, 40, 80, 120], "wall_time_s": 0.0, "lr": 0.1, "batch_loss": 1.0,
                        "train_loss": [1.0, 0.4, 0.1, 0.05], "val_loss": np.nan, "train_accuracy": np.nan,
                        "val_accuracy": np.nan, "grad_norm": 1.0, "distance_to_optimum": np.nan,
                        "train_loss_full": np.nan, "val_loss_full": np.nan, "diverged": False, "status": "ok"})
    runs = runs_to_target(log, 0.2)  # log-loss halfway between 0.4 and 0.1
    assert runs["steps_to_target"].iloc[0] == pytest.approx(15.0)
    assert runs["examples_to_target"].iloc[0] == pytest.approx(60.0)
    assert np.isnan(runs_to_target(log, 0.01)["steps_to_target"].iloc[0])


def test_pow2_batch_sizes():
    assert pow2_batch_sizes(100) == (1, 2, 4, 8, 16, 32, 64, 100)
    assert pow2_batch_sizes(64) == (1, 2, 4, 8, 16, 32, 64)
    assert pow2_batch_sizes(100, 16) == (1, 2, 4, 8, 16)


@pytest.fixture(scope="module")
def default_sweep():
    spec = default_spec()
    result = run_sweep(spec)
    return spec, result


def test_default_scenario_perfect_scaling_then_plateau(default_sweep):
    spec, result = default_sweep
    s = result.summary.set_index("batch_size")["steps_to_target"]
    n = spec.base.n_train()
    assert s.notna().all() and result.complete
    # perfect scaling at small B: doubling B from 1 to 8 halves the steps (within 25% of a 2x drop each time)
    for b in (1, 2, 4):
        assert 1.6 < s[b] / s[2 * b] < 2.5
    # plateau: from B_crit-ish sizes on, doubling B buys little; full batch is not much better than N/4
    assert s[n] > s[n // 4] / 2 and s[n // 4] / s[1] < 0.05
    fit = fit_steps_model(result.summary["batch_size"], result.summary["steps_to_target"])
    at = b_simple_at_target(spec.base, float(result.summary["best_lr"].iloc[-1]))
    assert 1 / 3 < fit.b_crit / at["b_simple_target"] < 3
    assert 4 < fit.b_crit < n  # the knee lies inside the range swept
    # the tuned lr rises with B, then saturates
    lr = result.summary.set_index("batch_size")["best_lr"]
    assert lr[16] > 4 * lr[1] and lr[n] < 4 * lr[32]


def test_linear_scaling_breaks_beyond_b_crit(default_sweep):
    spec, result = default_sweep
    fit = fit_steps_model(result.summary["batch_size"], result.summary["steps_to_target"])
    ref_lr = float(result.summary.set_index("batch_size")["best_lr"][4])
    logs = {r: run_experiment(c).log for r, c in rule_configs(spec.base, 4, ref_lr, spec.batch_sizes, 2, 0.5).items()}
    tab = rules_table(logs, None).pivot(index="batch_size", columns="rule", values="final_loss")
    linear, fixed = tab["linear + warmup"], tab["fixed lr"]
    small = [b for b in tab.index if b <= fit.b_crit / 4]
    large = [b for b in tab.index if b >= 2 * fit.b_crit]
    assert small and large
    # below B_crit linear scaling keeps the loss at equal epochs; beyond it, it is far worse (or diverges)
    assert (linear[small] <= 1.5 * linear[4]).all()
    assert (linear[large].fillna(np.inf) > 10 * linear[4]).all()
    assert fixed[small[-1]] > linear[small[-1]]


def test_sweep_parallel_equals_serial_and_stop_keeps_partial():
    spec = tiny_spec()
    serial = run_sweep(spec, jobs=1)
    parallel = run_sweep(spec, jobs=2)
    cols = [c for c in serial.log.columns if c != "wall_time_s"]
    pd.testing.assert_frame_equal(serial.log[cols], parallel.log[cols])
    calls = {"n": 0}

    def stop():
        calls["n"] += 1
        return calls["n"] > 1

    partial = run_sweep(spec, should_stop=stop)
    assert not partial.complete and 0 < partial.log["run_id"].nunique() < serial.log["run_id"].nunique()


def test_work_estimate_and_smaller_suggestion():
    spec = tiny_spec()
    n, p = TINY.n_train(), 4
    work = estimate_work(spec, n, p)
    # train.limits' model: each batch size's config makes the data once (n_train + n_val rows of 3 features);
    # the rest is per run, so one lr instead of three costs a third of it
    data = len(spec.batch_sizes) * TINY.n_samples * TINY.n_features
    assert estimate_work(dataclasses.replace(spec, lrs=spec.lrs[:1]), n, p) - data == pytest.approx((work - data) / 3)
    assert work == sum(run_work(c, n, TINY.n_features, p) for c in spec.configs(n))
    small = suggest_smaller(dataclasses.replace(spec, epochs=40, min_steps=200), work, n, p)
    assert estimate_work(small, n, p) <= work and small.epochs < 40


def test_decay_vs_grow_same_examples_fewer_steps():
    df = decay_vs_grow(TINY, batch_size=2, lr=0.05, factor=3, every_epochs=1, epochs=3)
    last = df.groupby("variant").tail(1).set_index("variant")
    assert last.loc["grow batch", "examples_seen"] == pytest.approx(last.loc["decay lr", "examples_seen"], rel=0.05)
    assert last.loc["grow batch", "step"] < last.loc["decay lr", "step"] / 2
    assert last.loc["grow batch", "train_loss"] == pytest.approx(last.loc["decay lr", "train_loss"], rel=0.3)
    assert set(df.loc[df["variant"] == "grow batch", "batch_size"]) == {2, 6, 18}
    assert df.loc[df["variant"] == "decay lr", "lr"].min() == pytest.approx(0.05 / 9)


def test_noise_during_training_follows_the_runner():
    cfg = TINY.replace(batch_sizes=(8,), lrs=(0.1,), budget=4.0, n_checkpoints=4)
    df = noise_during_training(cfg, n_points=4)
    log = run_experiment(cfg).log
    np.testing.assert_allclose(df["train_loss"], log["train_loss"], rtol=1e-10)
    assert (df["b_simple"] > 0).all() and df["b_simple"].iloc[-1] > df["b_simple"].iloc[0]


def test_cli_sweep_writes_a_log_the_runs_page_reads(tmp_path, capsys):
    out, summary = tmp_path / "sweep.csv", tmp_path / "sweep_summary.csv"
    code = main(["sweep", "--problem", "least_squares", "--dataset", "linear", "--n-samples", "80",
                 "--n-features", "3", "--noise", "0.3", "--batch-sizes", "1,8,full", "--lrs", "0.03,0.3",
                 "--target-loss", "0.1",
                 "--epochs", "2", "--min-steps", "20", "--checkpoints", "20", "--out", str(out),
                 "--summary", str(summary), "--quiet", "--jobs", "2"])
    assert code == 0
    log = read_log_csv(out)
    assert sorted(log["batch_size"].unique()) == [1, 8, 64] and log["base_lr"].nunique() == 2
    s = pd.read_csv(summary)
    assert list(s["batch_size"]) == [1, 8, 64]
    assert {"best_lr", "steps_to_target", "examples_to_target", "b_crit"} <= set(s.columns)
    assert s["steps_to_target"].notna().all()
    assert "fit S = S_min" in capsys.readouterr().err


@pytest.mark.parametrize("flags, message", [
    (["--lrs", "abc", "--target-loss", "0.1"], "lrs must be"),
    (["--lrs", "0.1", "--target-loss", "0.1", "--batch-sizes", "1,9999"], "batch_size must be in [1, 64]"),
    (["--lrs", "0.1", "--target-loss", "x"], "target_loss must be"),
    (["--lrs", "0.1", "--target-loss", "0.1", "--jobs", "0"], "--jobs must be an integer"),
    (["--lrs", "0.1"], "required"),
    (["--lrs", "0.1", "--target-loss", "0.1", "--bogus"], "unrecognized arguments"),
])
def test_cli_sweep_bad_flags_exit_2_with_one_line(tmp_path, capsys, flags, message):
    base = ["sweep", "--problem", "least_squares", "--dataset", "linear", "--n-samples", "80",
            "--out", str(tmp_path / "x.csv")]
    try:
        code = main(base + flags)
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and "\n" not in err
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("target", [None, 0.1])
def test_rules_table_equals_the_run_by_run_table(target):
    """rules_table summarises the rules' logs together; it must give what summarising each run alone gives: the
    last lr, the final loss (NaN when diverged), steps and steps to target, in the rules' and runs' order."""
    from gd_core.results import summarize
    from gd_core.science.scaling import runs_to_target

    logs = {r: run_experiment(c).log for r, c in rule_configs(TINY, 4, 0.3, (1, 8, 64), 10, 0.5).items()}
    logs["empty"] = logs["sqrt"].iloc[:0]
    rows = []
    for name, log in logs.items():
        runs = runs_to_target(log, target) if target is not None else summarize(log)
        for _, r in runs.iterrows():
            last = log[log["run_id"] == r["run_id"]].iloc[-1]
            rows.append({"rule": name, "batch_size": int(r["batch_size"]), "lr": float(last["lr"]),
                         "final_loss": np.nan if r["diverged"] else float(r["final_train_loss"]),
                         "diverged": bool(r["diverged"]), "steps": int(r["steps"]),
                         "steps_to_target": float(r.get("steps_to_target", np.nan))})
    expected = pd.DataFrame(rows)
    table = rules_table(logs, target)
    assert table["diverged"].any() and not table["diverged"].all()  # the linear rule's largest B diverges
    if target is not None:
        assert table["steps_to_target"].notna().any()
    pd.testing.assert_frame_equal(table, expected)


# -- the sweep's tables, whole columns at once, against the run-by-run definitions ----------------------------

def _crossing_one(steps, values, target):
    """The definition: the first checkpoint at or under the target, interpolated from the one before (in log
    space when both values and the target are positive)."""
    hit = np.flatnonzero(values <= target)
    if not len(hit):
        return np.nan
    k = hit[0]
    if k == 0:
        return float(steps[0])
    a, b, t = values[k - 1], values[k], target
    if a > 0 and b > 0 and target > 0:
        a, b, t = np.log(a), np.log(b), np.log(target)
    with np.errstate(invalid="ignore"):  # inf before the crossing: inf / inf
        return float(steps[k - 1] + ((a - t) / (a - b) if a != b else 1.0) * (steps[k] - steps[k - 1]))


def _best_one_by_one(runs, lrs):
    rows = []
    for b, g in runs.groupby("batch_size", sort=True):
        ok = g[np.isfinite(g["steps_to_target"].to_numpy(float))].sort_values(["steps_to_target", "base_lr"])
        lr, s, e = ((float(ok["base_lr"].iloc[0]), float(ok["steps_to_target"].iloc[0]),
                     float(ok["examples_to_target"].iloc[0])) if len(ok) else (np.nan, np.nan, np.nan))
        grid = sorted(lrs) if lrs is not None else sorted(g["base_lr"].unique())
        rows.append({"batch_size": int(b), "best_lr": lr, "steps_to_target": s, "examples_to_target": e,
                     "n_reached": len(ok), "n_runs": len(g),
                     "lr_at_edge": bool(np.isfinite(lr) and lr in (grid[0], grid[-1]))})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("target", [0.12, 0.5, 0.0, -1.0])
def test_sweep_tables_equal_the_run_by_run_definitions(target):
    """runs_to_target and best_per_batch_size on a real sweep's log, with runs that reach the target at their
    first checkpoint, in between, never, after a non-finite checkpoint, and with rows of runs interleaved."""
    spec = tiny_spec()
    log = run_sweep(spec).log.copy()
    first = log["run_id"] == log["run_id"].iloc[0]
    log.loc[first & (log["step"] == 0), "train_loss"] = 0.01  # reached at the first checkpoint
    second = log["run_id"] == log["run_id"].unique()[1]
    log.loc[second & (log["step"] > 0), "train_loss"] = np.r_[np.inf, log.loc[second & (log["step"] > 0),
                                                                                "train_loss"].iloc[1:]]
    log = log.iloc[np.r_[0:len(log):2, 1:len(log):2]]  # every run's rows interleaved with others'
    runs = runs_to_target(log, target)
    expected = []
    for run_id in runs["run_id"]:
        g = log[log["run_id"] == run_id]
        v = g["train_loss"].to_numpy(float)
        expected.append(_crossing_one(g["step"].to_numpy(float), np.where(np.isfinite(v), v, np.inf), target))
    np.testing.assert_allclose(runs["steps_to_target"], expected, rtol=1e-12)
    np.testing.assert_allclose(runs["examples_to_target"], np.array(expected) * runs["batch_size"], rtol=1e-12)
    if target == 0.12:
        reached = np.isfinite(expected)
        assert 0 < reached.sum() < len(expected)  # both kinds, so the comparison means something
    for lrs in (spec.lrs, None):
        pd.testing.assert_frame_equal(best_per_batch_size(runs, lrs), _best_one_by_one(runs, lrs))
