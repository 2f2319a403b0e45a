"""Each fast path in fast.dispatch's registry, for each problem it lists, against train/reference.py; a problem
without a fast path falls back to the generic step, and the registry names what it lacks."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from fake_data import kind, small_dataset

from gd_core import BatchSampler, ExperimentConfig, make_optimizer, make_problem, run_experiment
from gd_core.fast.dispatch import (
    FAST_PATHS,
    FULL_CHUNKED,
    GATHERED,
    GENERIC,
    ONE_EXAMPLE,
    SINGLE_RUN_PATHS,
    STACKED,
    lacking,
    supports,
)
from gd_core.problems import PROBLEMS
from gd_core.train.loop import choose_path, make_advance
from gd_core.train.reference import Descent, reference_run, sampled
from gd_core.train.runner import build_dataset, build_problem
from gd_core.train.stacked import stack_groups

D, C, N = 4, 3, 80
GATHER_BYTES = 16 * (D + 1) * 8  # 16 rows of float64 [X, 1] a chunk: batches of 7 cross chunk boundaries
FULL_MIN = 64  # full batches of 64 rows or more take the chunked kernel

# One run per path: (batch size (0: the full set), sampling, optimizer, hyperparameters, lr, steps, reg)
SINGLE_CASES = {
    "one_example": [(1, "shuffle", "sgd", {}, 0.05, 130, 0.0),  # lazy blocks
                    (1, "replacement", "sgd", {}, 0.05, 130, 0.01)],  # row by row (L2)
    "gathered": [(7, "shuffle", "sgd", {"momentum": 0.9}, 0.05, 60, 0.01),
                 (7, "replacement", "adam", {}, 0.05, 60, 0.0),
                 (2, "shuffle", "adam", {"amsgrad": True}, 0.05, 45, 0.0)],
    "full_chunked": [(0, "shuffle", "sgd", {"momentum": 0.5}, 0.1, 12, 0.01),
                     (0, "shuffle", "rmsprop", {}, 0.01, 12, 0.0)],
    "generic": [(5, "shuffle", "rmsprop", {"centered": True}, 0.01, 40, 0.01),
                (1, "shuffle", "adagrad", {}, 0.05, 40, 0.0),
                (0, "shuffle", "sgd", {"nesterov": True, "momentum": 0.9}, 0.05, 20, 0.0)],
}


def _data(name, reg, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    ds = small_dataset(n=N, d=D, dtype=dtype, rng=rng, **kind(name, C))
    p = make_problem(name, D, ds.n_classes, reg=reg)
    return p, ds.X_train, ds.y_train, (p.init_params(rng) + 0.3 * rng.standard_normal(p.n_params)).astype(dtype)


def _cases():
    for path in (*SINGLE_RUN_PATHS, GENERIC):
        for problem in path.problems:
            for case in SINGLE_CASES[path.name]:
                if path is GENERIC or supports(path, problem, case[2], case[3]):
                    yield pytest.param(path, problem, *case, id=f"{path.name}-{problem}-{case[2]}-B{case[0]}")


def test_every_path_has_cases_for_every_problem_it_lists():
    for path in SINGLE_RUN_PATHS:
        for problem in path.problems:
            assert any(p.values[0] is path and p.values[1] == problem for p in _cases()), (path.name, problem)


@pytest.mark.parametrize("path, problem, B, sampling, optimizer, hp, lr, steps, reg", list(_cases()))
def test_single_run_path_equals_the_reference_loop(path, problem, B, sampling, optimizer, hp, lr, steps, reg):
    p, X, y, w0 = _data(problem, reg)
    B = B or N
    w = w0.copy()
    sampler = BatchSampler(N, B, sampling, np.random.default_rng(7))
    opt = make_optimizer(optimizer, lr, **hp)
    want = path if path is not GENERIC else choose_path(p, X, sampler, optimizer, hp, GATHER_BYTES, FULL_MIN)
    assert choose_path(p, X, sampler, optimizer, hp, GATHER_BYTES, FULL_MIN) is want
    with ThreadPoolExecutor(2) as pool, np.errstate(all="ignore"):
        advance = make_advance(p, X, y, w, sampler, optimizer, hp, opt, lambda step: lr, pool, 2,
                               gather_bytes=GATHER_BYTES, full_min=FULL_MIN)
        assert advance.path == want.name
        step, done = 0, []
        for until in sorted({u for u in (3, 17, steps // 2, steps) if u <= steps}):  # as checkpoints cut them
            step, loss, diverged = advance(step, until, np.inf)
            assert not diverged and step == until
            done.append(w.copy())
    ref = reference_run(p, X, y, w0, optimizer, lr, hp, B, sampling, np.random.default_rng(7), steps)
    assert ref.steps == steps and not ref.diverged
    np.testing.assert_allclose(done[-1], ref.w, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(loss, ref.loss, rtol=1e-9)


@pytest.mark.parametrize("optimizer, hp", [("sgd", {}), ("sgd", {"momentum": 0.9, "nesterov": True}),
                                           ("adam", {"weight_decay": 0.01})])
@pytest.mark.parametrize("problem", STACKED.problems)
@pytest.mark.parametrize("B", [1, 6])
def test_stacked_runs_equal_the_reference_loop_run_by_run(problem, optimizer, hp, B):
    dataset = {"least_squares": "linear", "logistic": "moons"}.get(problem, "blobs")
    c = ExperimentConfig(problem=problem, dataset=dataset, n_samples=100, lrs=(0.02, 0.05), seeds=(0, 1),
                         batch_sizes=(B,), budget_unit="steps", budget=90, n_checkpoints=3, reg=0.01,
                         optimizer=optimizer, **{k: v for k, v in hp.items()})
    ds = build_dataset(c)
    p = build_problem(c, ds)
    assert stack_groups(problem, optimizer, [B] * 4, ds.n_train, 4096) == [[0, 1, 2, 3]]
    log = run_experiment(c).log
    for (seed, lr), run in log.groupby(["seed", "base_lr"]):
        w0 = p.init_params(np.random.default_rng([seed, 0]))
        d = Descent(p, ds.X_train, ds.y_train, w0, make_optimizer(optimizer, lr, **hp))
        sampler = BatchSampler(ds.n_train, B, "shuffle", np.random.default_rng([seed, 1, B]))
        for step, train_loss in zip(run["step"], run["train_loss"], strict=True):
            d.run(sampled(sampler, step - d.step))
            np.testing.assert_allclose(train_loss, p.loss(d.w, ds.X_train, ds.y_train), rtol=1e-9)


@pytest.mark.parametrize("problem", PROBLEMS)
def test_a_problem_without_fast_paths_falls_back_to_the_generic_step(problem):
    missing = lacking(problem)
    assert missing == [path.name for path in FAST_PATHS if problem not in path.problems]
    if problem in ("svm", "mlp"):  # no hand-written kernels: every fast path is missing, by name
        assert missing == ["one_example", "gathered", "full_chunked", "stacked"]
        p, X, y, _ = _data(problem, 0.0)
        for B, sampling in ((1, "shuffle"), (7, "shuffle"), (N, "shuffle")):
            sampler = BatchSampler(N, B, sampling, np.random.default_rng(0))
            assert choose_path(p, X, sampler, "sgd", {}, GATHER_BYTES, FULL_MIN) is GENERIC
        assert stack_groups(problem, "sgd", [8, 8], 500, 4096) == [[0], [1]]
    else:
        assert missing == []
    assert problem in GENERIC.problems


def test_the_choice_follows_the_registry():
    p, X, *_ = _data("softmax", 0.0)

    def path(B, optimizer="sgd", hp=None, sampling="shuffle"):
        sampler = BatchSampler(N, B, sampling, np.random.default_rng(0))
        return choose_path(p, X, sampler, optimizer, hp or {}, GATHER_BYTES, FULL_MIN)

    assert path(1) is ONE_EXAMPLE
    assert path(1, hp={"momentum": 0.9}) is GENERIC  # the fused loop is plain SGD only
    assert path(1, "adam") is GENERIC
    assert path(8) is GATHERED and path(9) is GENERIC  # half of a 16-row chunk at most
    assert path(N) is FULL_CHUNKED and path(N, sampling="replacement") is GENERIC  # replacement: sampled rows
    assert choose_path(p, X[:FULL_MIN - 1], BatchSampler(FULL_MIN - 1, FULL_MIN - 1, "shuffle",
                                                         np.random.default_rng(0)),
                       "sgd", {}, GATHER_BYTES, FULL_MIN) is GENERIC  # too few rows to chunk


def test_results_record_the_path_each_run_took():
    c = ExperimentConfig(problem="softmax", dataset="blobs", n_samples=100, lrs=(0.05, 0.1),
                         batch_sizes=(1, 7, "full"), budget_unit="steps", budget=20, n_checkpoints=2)
    res = run_experiment(c)
    by_batch = res.log.drop_duplicates("run_id").set_index("run_id")["batch_size"]
    assert {run_id: (by_batch[run_id], path) for run_id, path in res.paths.items()} == {
        run_id: (B, "stacked" if B < 80 else "generic") for run_id, B in by_batch.items()}
    alone = run_experiment(c, stacked=False)
    assert {by_batch[run_id]: path for run_id, path in alone.paths.items()} == {
        1: "one_example", 7: "gathered", 80: "generic"}  # 80 rows: too few for the chunked full batch
    mlp = run_experiment(c.replace(problem="mlp", batch_sizes=(1,)))
    assert set(mlp.paths.values()) == {"generic"}  # no kernels: the generic step (fast.dispatch.lacking("mlp"))
