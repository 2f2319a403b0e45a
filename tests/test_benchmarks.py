"""Smoke test of benchmarks/bench_engine.py: every implementation runs, and the baselines compute the same
SGD as the engine (same initial weights, same batch order). No timing assertions."""

import math

import numpy as np
import pytest

from benchmarks import bench_engine as be
from gd_core import ExperimentConfig, make_problem, run_experiment
from gd_core.train.checkpoints import checkpoint_steps

N, D, C, STEPS = 2000, 5, 3, 70  # 70 steps of B = 32 cross an epoch boundary (63 steps): reshuffle + partial batch


def data(problem):
    X, y = be.make_data(problem, N, D, C, "float64", seed=0)
    Xv, yv = be.make_data(problem, 50, D, C, "float64", seed=1)
    return X, y, Xv, yv


def full_loss(problem, w, X, y):
    return make_problem(problem, D, C if problem == "softmax" else None).loss(w, X, y)


@pytest.mark.parametrize("problem", ["softmax", "least_squares"])
@pytest.mark.parametrize("B", [1, 32, N])
def test_naive_baseline_matches_the_engine_after_identical_steps(problem, B):
    X, y, Xv, yv = data(problem)
    steps = min(STEPS, be.epoch_steps(N, B) * 3)
    lr = 0.05
    eng = be.run_engine(problem, X, y, Xv, yv, B, steps, lr, C, n_checkpoints=2)
    assert eng.status == "ok" and eng.steps == steps
    w0 = be.init_weights(problem, D, C, "float64")
    t = be.naive(problem, X, y, w0, B, steps, lr, C)
    assert t.seconds > 0 and t.steps == steps
    assert t.examples == be.examples_in(N, B, steps)
    # the engine's last train_loss is exact here (N <= eval_examples): the full-set loss of its final weights
    np.testing.assert_allclose(full_loss(problem, t.w, X, y), eng.final_train_loss, rtol=1e-10)
    assert full_loss(problem, t.w, X, y) < full_loss(problem, w0, X, y)  # it trained


@pytest.mark.parametrize("problem", ["softmax", "least_squares"])
@pytest.mark.parametrize("B", [1, 32, N])
def test_prototypes_and_engine_replica_compute_the_naive_weights(problem, B):
    X, y, _, _ = data(problem)
    w0 = be.init_weights(problem, D, C, "float64")
    ref = be.naive(problem, X, y, w0, B, 20, 0.05, C).w
    careful = be.careful_softmax if problem == "softmax" else be.careful_least_squares
    for t in (careful(X, y, w0, B, 20, 0.05, C), be.engine_loop_replica(problem, X, y, w0, B, 20, 0.05, C)):
        assert t.seconds > 0
        np.testing.assert_allclose(t.w, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("problem", ["softmax", "least_squares"])
@pytest.mark.parametrize("autograd", [True, False])
def test_torch_loops_compute_the_naive_weights(problem, autograd):
    X, y, _, _ = data(problem)
    w0 = be.init_weights(problem, D, C, "float64")
    t = be.torch_loop(problem, X, y, w0, 32, 20, 0.05, C, autograd=autograd)
    assert t.seconds > 0 and t.examples == 20 * 32
    np.testing.assert_allclose(t.w, be.naive(problem, X, y, w0, 32, 20, 0.05, C).w, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("problem", ["softmax", "least_squares"])
def test_sklearn_blas_floor_and_full_batch_prototypes_return_positive_finite_numbers(problem):
    X, y, _, _ = data(problem)
    t = be.sklearn_epoch(problem, X, y, 0.01, C)
    assert t.seconds > 0 and t.examples == N
    assert 0 < be.blas_floor(problem, X, C, reps=1) < math.inf
    if problem == "softmax":
        w = be.init_weights(problem, D, C, "float64")
        loss, grad = be.threaded_full_softmax_grad(X, y, w, C, chunk=300)
        ref_loss, ref_grad = make_problem("softmax", D, C).loss_and_grad(w, X, y)
        np.testing.assert_allclose(loss, ref_loss, rtol=1e-10)
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-8, atol=1e-12)
    else:
        np.testing.assert_allclose(be.chunked_lstsq_optimum(X, y, chunk=300),
                                   make_problem(problem, D).optimum(X, y), rtol=1e-8, atol=1e-10)


def test_table_has_one_line_per_row_and_ratios_to_the_baselines():
    rows = [be.Row("softmax", "32", "engine/ck=2", "10/10", 2e6, 16.0, 1.5),
            be.Row("softmax", "32", "naive", "10/10", 1e6, 32.0, 0.5)]
    lines = be.format_table(rows).splitlines()
    assert len(lines) == 4
    assert "| 2.00 | 1.00 |" in lines[2] and "| 1.00 | 0.50 |" in lines[3]


def test_targets_report_counts_and_says_when_the_scale_is_not_the_targets():
    checks = [("a", True, "1.6x"), ("b", False, "1.2x"), ("c", True, "3%")]
    full = be.targets_report(checks, True).splitlines()
    assert full[1:] == ["Targets:", "  [PASS] a: 1.6x", "  [FAIL] b: 1.2x", "  [PASS] c: 3%", "  2 of 3 PASS, 1 FAIL"]
    quick = be.targets_report(checks, False).splitlines()
    assert "N = 1,200,000" in quick[1] and "only indicate" in quick[1]
    assert quick[2:] == ["  [met] a: 1.6x", "  [not met] b: 1.2x", "  [met] c: 3%", "  2 of 3 met, 1 not met"]
    assert be.targets_report(checks[:1], True).splitlines()[-1] == "  1 of 1 PASS"
    assert be.at_target_scale(be.parse_args([])) and not be.at_target_scale(be.parse_args(["--quick"]))


def test_peak_memory_sees_numpy_allocations():
    assert be.traced_peak_mb(lambda: np.ones(1_000_000)) >= 7.9  # 8 MB of float64


def test_stacked_pair_times_both_paths_with_the_same_losses(monkeypatch):
    X, y, Xv, yv = data("softmax")
    (ts, rs), (tq, rq) = be.run_stacked_pair("softmax", X, y, Xv, yv, 32, 20, [0.01, 0.05], [0], C)
    assert ts > 0 and tq > 0 and len(rs.log) == len(rq.log) == 6
    np.testing.assert_allclose(rs.log["train_loss"], rq.log["train_loss"], rtol=1e-8)
    monkeypatch.setattr(be, "STACK_MAX_STEPS", 5)
    monkeypatch.setattr(be, "SK_ROWS", 400)
    monkeypatch.setitem(be.REPS, "reps", 1)
    args = be.parse_args(["--n", "300", "--d", "4", "--classes", "3", "--problems", "softmax", "--dtype", "float64",
                          "--batch-sizes", "1,32"])
    lines, checks = be.stacked_section(args)
    assert len(lines) == 4 + be._has("sklearn") and len(checks) >= 2


def test_all_benchmarks_command_rejects_bad_flags_with_a_clear_message(capsys):
    from benchmarks.__main__ import main

    with pytest.raises(SystemExit) as e:
        main(["--dashboard-repeats", "0", "--no-stacked"])
    assert e.value.code == 2
    assert "--dashboard-repeats must be an integer >= 1; got 0" in capsys.readouterr().err


@pytest.mark.parametrize("pool", [8, 1])
def test_checkpoint_timer_counts_each_measurement_once(pool, monkeypatch):
    """timed_checkpoints counts the outermost evaluator calls: a pool of 8 (`many`) is one call, and `many`
    measuring one at a time (pool 1) is not counted again through the evaluator calls it makes."""
    from gd_core.train import checkpoints

    monkeypatch.setattr(checkpoints, "POOL", pool)
    cfg = ExperimentConfig(problem="softmax", dataset="blobs", n_samples=200, lrs=(0.1, 0.3), batch_sizes=(8,),
                           budget=1.0, n_checkpoints=10)
    with be.timed_checkpoints() as spent:
        run_experiment(cfg)  # the two lrs stacked: one `many` call of both runs per checkpoint
    # steps 0, 1/10 .. 10/10 of the epoch (20 steps of B = 8 on 160 examples), and update 1 (checkpoint_steps'
    # first log-spaced updates are 1 and 2, and 2 is already a tenth)
    assert spent[1] == len(checkpoint_steps(20, 160, 8, "shuffle", 10)) == 12 and spent[0] > 0


# -- benchmarks/bench_e2e.py: whole processes ------------------------------------------------------------------

def test_e2e_process_peak_is_the_childs_own():
    import sys

    from benchmarks import bench_e2e

    big = np.ones(40_000_000)  # this process: +305 MB, which a child forked from it would report as its own
    small = bench_e2e.run_process([sys.executable, "-c", "pass"])
    grown = bench_e2e.run_process([sys.executable, "-c", "import numpy as np; a = np.ones(25_000_000)"])
    assert small.peak_mb < 60 and 190 < grown.peak_mb < 400, (small, grown)
    assert small.seconds > 0 and big[-1] == 1.0
    with pytest.raises(RuntimeError, match="exited 3"):
        bench_e2e.run_process([sys.executable, "-c", "raise SystemExit(3)"])


def test_e2e_benchmark_runs_every_section_at_a_tiny_scale(capsys):
    from benchmarks import bench_e2e

    checks = bench_e2e.main(["--n", "2000", "--rounds", "1"])
    assert [name for name, _, _ in checks] == [
        "whole CLI <= 3x its own training time", "whole CLI <= 1.5x the floor process",
        "CLI peak RSS <= 1.5x data + 250 MB", "CSV loading <= 1.5x pandas.read_csv + to_numpy",
        "--csv CLI peak RSS <= 1.5x data + 250 MB"]
    out = capsys.readouterr().out
    for part in ("whole CLI process", "floor process", "load_csv_dataset", "pandas.read_csv + to_numpy(float32)",
                 "gd_core.cli.main", "at this scale the readings only indicate"):
        assert part in out, part


def test_e2e_floor_trains_the_engine_loop_on_the_same_data(tmp_path):
    import sys

    from benchmarks import bench_e2e
    from gd_core import make_dataset

    args = ["3000", "8", "4", str(bench_e2e.NOISE_STD), "0.1", "64"]
    proc = bench_e2e.run_process([sys.executable, "-c", bench_e2e.FLOOR, *args])
    seconds, done, loss = (float(v) for v in proc.stdout.split())
    assert seconds > 0 and done == math.ceil(2400 / 64) and 0 < loss < math.log(4) * 2
    saved = tmp_path / "X.npy"
    code = bench_e2e.FLOOR + f"\nnp.save({str(saved)!r}, np.concatenate([X, Xv]))\n"
    bench_e2e.run_process([sys.executable, "-c", code, *args])
    ds = make_dataset("blobs", 3000, 8, 4, noise=0.5, dtype="float32")  # the CLI's data (default noise 0.5)
    np.testing.assert_allclose(np.load(saved), np.concatenate([ds.X_train, ds.X_val]), rtol=1e-4, atol=1e-5)


def test_e2e_rejects_bad_flags():
    from benchmarks import bench_e2e

    with pytest.raises(SystemExit) as e:
        bench_e2e.parse_args(["--rounds", "0"])
    assert e.value.code == 2
    assert bench_e2e.parse_args(["--quick"]).n == 60_000


def test_dashboard_csv_memory_measures_both_readers():
    import json
    import subprocess
    import sys

    from benchmarks.bench_e2e import ROOT

    # its own process: bench_dashboard imports tests/browser/conftest.py, which this session's conftest shadows
    code = "import json; from benchmarks.bench_dashboard import csv_memory; print(json.dumps(csv_memory(20000, 41)))"
    mem = json.loads(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                                    check=True).stdout)
    assert mem["fast"][3:5] == mem["strict"][3:5] == [20_000, 40]
    assert mem["fast"][5] == 0 and mem["strict"][5] == 1, mem  # each reader really read its file
    assert all(m[2] >= m[1] > 0 for m in mem.values()), mem  # a peak, over the baseline


def test_dashboard_notes_scale_link_carries_the_preset():
    import json
    import subprocess
    import sys
    from urllib.parse import parse_qsl, urlsplit

    from benchmarks.bench_e2e import ROOT
    from ui import presets, share

    code = "from benchmarks.bench_dashboard import notes_scale_url; print(notes_scale_url('http://h:1'))"
    url = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert url.startswith("http://h:1/?")
    config, errors = share.read_query(dict(parse_qsl(urlsplit(url).query)))
    assert not errors and config == presets.PRESETS["notes_scale"].config
    assert json.loads(config.to_json())["n_samples"] == 200_000


def test_first_paint_loads_every_page_by_its_url_path():
    """The first-paint table covers ui.nav.PAGES, each at the path Streamlit serves it (file name minus "N_")."""
    import json
    import subprocess
    import sys

    from benchmarks.bench_e2e import ROOT
    from ui.nav import PAGES

    code = "import json; from benchmarks.bench_dashboard import page_urls; print(json.dumps(page_urls('http://h:1')))"
    urls = json.loads(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                                     check=True).stdout)
    assert [label for label, _ in urls][:2] == ["Home", "Loss landscape"]  # the pages' English names
    assert len(urls) == len(PAGES)
    assert [u for _, u in urls] == ["http://h:1", "http://h:1/Loss_landscape", "http://h:1/Gradient_check",
                                    "http://h:1/Optimizers_and_learning_rate", "http://h:1/Runs",
                                    "http://h:1/Batch_size_scaling", "http://h:1/Data_and_model"]


def test_compare_presets_ignores_wall_time_and_names_any_other_difference(tmp_path, capsys):
    from benchmarks.compare_presets import compare, main

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "p.log.csv").write_text("run_id,wall_time_s,train_loss\nB=1,0.5,0.25\n")
    (b / "p.log.csv").write_text("run_id,wall_time_s,train_loss\nB=1,0.7,0.25\n")
    assert compare(a, b) == []
    assert main(["--compare", str(a), str(b)]) == 0
    assert "identical apart from wall_time_s" in capsys.readouterr().out
    (b / "p.log.csv").write_text("run_id,wall_time_s,train_loss\nB=1,0.5,0.2500000000000001\n")
    assert compare(a, b) == ["p.log.csv: column train_loss differs in 1 row(s), first row 0: '0.25' vs "
                             "'0.2500000000000001'"]
    assert main(["--compare", str(a), str(b)]) == 1
    (b / "q.summary.csv").write_text("run_id\nB=1\n")
    assert f"only in {b}: q.summary.csv" in compare(a, b)
    assert compare(tmp_path / "empty", b)[-1] == f"no CSV in {tmp_path / 'empty'}"
