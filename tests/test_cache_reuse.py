"""Run-group caching (ui.cache.results_for): a config is cached per batch size, the assembled results equal
run_experiment's exactly (wall time aside), and changing one batch size computes only that run group."""

import pandas as pd
import pytest

import ui.cache as cache
from gd_core import ExperimentConfig, build_dataset, run_experiment
from gd_core.train.plan import MIN_EVAL, eval_size, plan_runs
from ui.cache import RunStore, results_for

TIMES = ["wall_time_s", "seconds_to_target"]  # the only columns allowed to differ


def assert_same(got, want):
    for name in ("log", "summary"):
        a, b = getattr(got, name), getattr(want, name)
        pd.testing.assert_frame_equal(a.drop(columns=[c for c in TIMES if c in a]),
                                      b.drop(columns=[c for c in TIMES if c in b]), check_exact=True)
    assert got.config == want.config


@pytest.fixture
def calls(monkeypatch):
    """Batch sizes of every run_experiment call the cache makes."""
    seen = []

    def counting(config, **kw):
        seen.append(config.batch_sizes)
        return run_experiment(config, **kw)

    monkeypatch.setattr(cache, "run_experiment", counting)
    return seen


SMALL = ExperimentConfig(n_samples=120, batch_sizes=(8, 1, "full"), seeds=(0, 3), lrs=(0.05, 0.5), budget=1,
                         n_checkpoints=5, target_loss=0.9)
# N > eval_examples: the runner sizes evaluation from the shortest run of the whole comparison (B = 1 here)
LARGE = ExperimentConfig(n_samples=7500, batch_sizes=(1, "full"), seeds=(0, 1), budget_unit="steps", budget=60,
                         n_checkpoints=2, eval_examples=5000)


def test_large_sets_need_the_pinned_evaluation_size(calls):
    n_train = LARGE.n_train()
    whole = eval_size(LARGE, n_train, plan_runs(LARGE, n_train))
    alone = LARGE.replace(batch_sizes=("full",))
    assert whole == MIN_EVAL and eval_size(alone, n_train, plan_runs(alone, n_train)) == 5000  # would differ
    assert_same(results_for(LARGE, store=RunStore()), run_experiment(LARGE))
    assert calls == [(1,), (6000,)]  # cached per group, not whole


def test_an_unchanged_config_is_one_lookup_and_a_changed_target_reassembles(monkeypatch):
    """The assembled results are stored under the whole config: a rerun does not put the groups together (nor
    summarize) again; a config that differs only in its summary fields reuses the groups, reassembled."""
    store, assembled = RunStore(), []
    real = cache._assemble
    monkeypatch.setattr(cache, "_assemble", lambda config, parts: assembled.append(config) or real(config, parts))
    first = results_for(SMALL, store=store)
    assert results_for(SMALL, store=store) is first and assembled == [SMALL]
    other = results_for(SMALL.replace(target_loss=0.5), store=store)
    assert assembled == [SMALL, SMALL.replace(target_loss=0.5)]
    assert (other.summary["target_loss"] == 0.5).all()
    pd.testing.assert_frame_equal(other.log, first.log)


@pytest.mark.parametrize("config", [SMALL, SMALL.replace(sampling="replacement", optimizer="adam"),
                                    SMALL.replace(batch_sizes=(96, "full"))], ids=["small", "adam", "dup-full"])
def test_assembled_results_equal_the_whole_run(config, calls):
    store = RunStore()
    assert_same(results_for(config, store=store), run_experiment(config))
    assert len(calls) == len(config.resolved_batch_sizes(config.n_train()))
    assert_same(results_for(config, store=store), run_experiment(config))  # all from the store
    assert len(calls) == len(config.resolved_batch_sizes(config.n_train()))


def test_changing_one_batch_size_computes_only_the_new_run_group(calls):
    store = RunStore()
    results_for(SMALL, store=store)
    assert sorted(calls) == [(1,), (8,), (96,)]  # "full" resolved to n_train = 96
    calls.clear()
    added = SMALL.replace(batch_sizes=(8, 1, 32, "full"))
    assert_same(results_for(added, store=store), run_experiment(added))
    assert calls == [(32,)]
    calls.clear()
    fewer = SMALL.replace(batch_sizes=(1, 32), target_loss=0.5, target_metric="val_loss")
    assert_same(results_for(fewer, store=store), run_experiment(fewer))
    assert calls == []  # removed a batch size and moved the target: nothing to compute
    results_for(SMALL.replace(lrs=(0.05,)), store=store)
    assert len(calls) == 3  # a learning rate belongs to every group: all recomputed


def test_an_uploaded_csv_is_cached_per_group_too(calls):
    ds = build_dataset(ExperimentConfig(n_samples=100, batch_sizes=(4,)))
    pairs = zip(ds.X_train, ds.y_train, strict=True)
    rows = "\n".join(",".join(f"{v:.6f}" for v in x) + f",{int(c)}" for x, c in pairs)
    data = ("a,b,label\n" + rows + "\n").encode()
    config = ExperimentConfig(dataset="csv", target="label", batch_sizes=(4, "full"), budget=1, n_checkpoints=3)
    store = RunStore()
    first = results_for(config, data, store=store)
    assert len(calls) == 2
    results_for(config.replace(batch_sizes=("full", 4, 2)), data, store=store)
    assert calls[2:] == [(2,)]
    results_for(config, data + b"0.1,0.2,1\n", store=store)  # other bytes: other runs
    assert len(calls) == 5
    assert_same(first, cache.compute(config, data))


def test_progress_covers_only_the_missing_work_and_ends_at_one():
    store, seen = RunStore(), []
    results_for(SMALL.replace(batch_sizes=(8,)), store=store)
    results_for(SMALL, store=store, progress=lambda f, m: seen.append(f))
    assert seen[0] == 0.0 and seen[-1] == pytest.approx(1.0)
    assert all(a <= b for a, b in zip(seen, seen[1:], strict=False))


def test_a_cancelled_group_is_returned_but_not_stored(calls):
    store = RunStore()
    stopped = results_for(SMALL, store=store, should_stop=lambda: True)
    assert (stopped.summary["status"] == "cancelled").any()
    assert len(store) == 0
    results_for(SMALL, store=store)
    assert len(calls) == 1 + 3
