import json
import subprocess
import sys

import pandas as pd
import pytest

from gd_core import LOG_COLUMNS, read_log_csv
from gd_core.cli.main import main


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "gd_core", *args], capture_output=True, text=True, cwd=cwd)


def test_issue_command_writes_columns_and_is_reproducible(tmp_path):
    args = ["run", "--problem", "softmax", "--dataset", "spiral", "--batch-sizes", "1,32,256,full",
            "--epochs", "5"]
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    p1 = run_cli(*args, "--out", str(a))
    p2 = run_cli(*args, "--out", str(b), "--summary", str(tmp_path / "s.csv"))
    assert p1.returncode == 0, p1.stderr
    assert p2.returncode == 0, p2.stderr
    assert "wrote" in p1.stderr
    la, lb = read_log_csv(a), read_log_csv(b)
    assert list(la.columns) == list(LOG_COLUMNS)
    assert sorted(la["batch_size"].unique()) == [1, 32, 256, 800]
    pd.testing.assert_frame_equal(la.drop(columns="wall_time_s"), lb.drop(columns="wall_time_s"))
    assert len(pd.read_csv(tmp_path / "s.csv")) == 4


def test_config_file_round_trip_and_flag_override(tmp_path, capsys):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"problem": "least_squares", "dataset": "linear", "budget": 2,
                               "batch_sizes": [4, "full"]}))
    out = tmp_path / "r.csv"
    assert main(["run", "--config", str(cfg), "--lr", "0.01,0.02", "--out", str(out), "--quiet"]) == 0
    log = read_log_csv(out)
    assert set(log["base_lr"]) == {0.01, 0.02} and set(log["problem"]) == {"least_squares"}
    assert main(["run", "--config", str(cfg), "--out", str(out), "--print-config"]) == 0
    assert json.loads(capsys.readouterr().out)["batch_sizes"] == [4, "full"]


def test_csv_dataset_flag(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("x1,x2,label\n" + "".join(f"{i % 5},{(i * 3) % 7},{'ab'[i % 2]}\n" for i in range(40)))
    out = tmp_path / "r.csv"
    assert main(["run", "--csv", str(data), "--target", "label", "--problem", "logistic", "--epochs", "1",
                 "--batch-sizes", "4,full", "--out", str(out), "--quiet"]) == 0
    assert set(read_log_csv(out)["dataset"]) == {"d.csv"}  # the file name names the data


@pytest.mark.parametrize("args, message", [
    (["--batch-sizes", "0"], 'batch_size must be an integer >= 1 or "full"; got 0'),
    (["--batch-sizes", "5000"], 'batch_size must be in [1, 800]'),
    (["--lr", "-1"], "lrs must be a non-empty list of finite numbers"),
    (["--lr", "nan"], "lrs must be"),
    (["--optimizer", "lbfgs"], "optimizer must be one of sgd, adagrad, rmsprop, adam; got 'lbfgs'"),
    (["--epochs", "0"], "budget must be a finite number in"),
    (["--config", "/nonexistent.json"], "cannot read --config /nonexistent.json"),
    (["--csv", "/nonexistent.csv", "--target", "y"], "nonexistent.csv"),
    (["--set", "colour=red"], "--set takes FIELD=VALUE with FIELD one of"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, args, message):
    p = run_cli("run", "--out", str(tmp_path / "r.csv"), "--quiet", *args)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), p.stderr
    assert message in lines[0]
    assert not (tmp_path / "r.csv").exists()


def test_bad_config_json_exits_2(tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text('{"problem": "softmax", "extra": 1}')
    p = run_cli("run", "--config", str(cfg), "--out", str(tmp_path / "r.csv"))
    assert p.returncode == 2 and "unknown config field(s) 'extra'" in p.stderr


def _under_ulimit(*args, kb=4_000_000):
    """The CLI as a subprocess under `ulimit -v kb` (a 4 GB address space): (process, seconds)."""
    import shlex
    import time

    command = f"ulimit -v {kb}; exec {shlex.quote(sys.executable)} -m gd_core {shlex.join(args)}"
    t0 = time.perf_counter()
    p = subprocess.run(["bash", "-c", command], capture_output=True, text=True)
    return p, time.perf_counter() - t0


@pytest.mark.parametrize("args, needs", [
    # ~16 GB of float64 data
    (["run", "--problem", "softmax", "--dataset", "blobs", "--n-samples", "2000000", "--n-features", "1000",
      "--n-classes", "10", "--batch-sizes", "256", "--epochs", "1"], "data"),
    # 16 MB of data, but the MLP's full-batch step over 1.6M rows x 1,024 hidden units needs ~50 GB
    (["run", "--problem", "mlp", "--dataset", "blobs", "--n-samples", "2000000", "--n-features", "2",
      "--set", "hidden=1024", "--batch-sizes", "full", "--epochs", "1"], "step"),
    (["sweep", "--problem", "mlp", "--dataset", "blobs", "--n-samples", "2000000", "--n-features", "2",
      "--set", "hidden=1024", "--batch-sizes", "1600000", "--lrs", "0.1", "--target-loss", "0.1"], "step"),
])
def test_a_request_too_big_for_the_process_limit_is_refused_before_allocating(tmp_path, args, needs):
    out = tmp_path / "r.csv"
    p, seconds = _under_ulimit(*args, "--out", str(out))
    assert p.returncode == 2, p.stderr
    lines = p.stderr.splitlines()
    assert p.stderr.count("\n") == 1 and lines[0].startswith("error: this request needs about "), p.stderr
    assert "ulimit -v" in lines[0] and "shrink it about" in lines[0], lines[0]
    first = "fewer samples or features" if needs == "data" else "batch sizes smaller than the full set"
    assert lines[0].split("shrink it about")[1].split(": ", 1)[1].startswith(first), lines[0]
    assert not out.exists()
    assert seconds < 20, seconds  # refused from the estimate: no allocation was tried (that would take minutes)


def test_a_request_that_fits_the_process_limit_still_runs(tmp_path):
    out = tmp_path / "r.csv"
    p, _ = _under_ulimit("run", "--problem", "softmax", "--dataset", "blobs", "--n-samples", "20000",
                         "--n-features", "16", "--batch-sizes", "64", "--epochs", "1", "--quiet", "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert len(read_log_csv(out)) > 0


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_memory_error_anywhere_becomes_one_line(tmp_path, capsys, monkeypatch, command):
    import gd_core.cli.main
    import gd_core.cli.sweep

    def fail(*args, **kwargs):
        raise MemoryError("Unable to allocate 11.9 GiB for an array with shape (2000000, 800) and data type float64")

    monkeypatch.setattr(gd_core.cli.main, "run_experiment", fail)
    monkeypatch.setattr(gd_core.cli.sweep, "run_sweep", fail)
    args = ["--problem", "softmax", "--dataset", "blobs", "--n-samples", "200", "--batch-sizes", "8",
            "--out", str(tmp_path / "r.csv"),
            "--quiet"]
    args = ["run", *args] if command == "run" else ["sweep", *args, "--lrs", "0.1", "--target-loss", "0.1"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: out of memory: Unable to allocate 11.9 GiB"), err
    assert "is available" in err and "fewer samples or features" in err, err
