"""The same config and seed give bit-identical metrics: run twice, from the command line, and on the dashboard.

Every column but wall_time_s is compared with check_exact=True. (tests/train/test_runner.py and
tests/cli/test_cli.py check the default config twice in the engine and twice on the command line; here: other
optimizers, float32, sampling with replacement, a schedule, several seeds, a CSV, and the three entry points against
each other.)
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gd_core import ExperimentConfig, read_log_csv, run_experiment, to_csv
from ui import cache, share

ROOT = Path(__file__).resolve().parents[2]
CSV = b"x1,x2,label\n" + b"".join(b"%d,%.3f,%s\n" % (i % 7, (i * 0.37) % 2, b"ab"[i % 2:i % 2 + 1])
                                  for i in range(90))
CONFIGS = {
    "adam_f32_replacement": ExperimentConfig(
        problem="mlp", dataset="spiral", n_samples=240, hidden=8, optimizer="adam", lrs=(0.01, 0.05),
        batch_sizes=(1, 16, "full"), seeds=(0, 7), sampling="replacement", dtype="float32", budget=2.0,
        n_checkpoints=20, schedule="cosine", warmup_epochs=0.5),
    "sgd_momentum_subsampled_eval": ExperimentConfig(
        problem="least_squares", dataset="linear", n_samples=3000, n_features=4, condition_number=20.0,
        momentum=0.9, nesterov=True, lrs=(0.01,), batch_sizes=(32, "full"), lr_scaling="sqrt",
        eval_examples=500, budget=1.0, n_checkpoints=10),
    "csv": ExperimentConfig(dataset="csv", target="label", problem="logistic", batch_sizes=(4, "full"),
                            optimizer="rmsprop", lrs=(0.01,), seeds=(1, 2), budget=2.0, n_checkpoints=15),
}


def _numbers(log: pd.DataFrame, *drop: str) -> pd.DataFrame:
    return log.drop(columns=["wall_time_s", *drop]).reset_index(drop=True)


@pytest.fixture(scope="module")
def cli_logs(tmp_path_factory):
    """Each config through `python -m gd_core run --config cfg.json`, all processes started at once."""
    tmp = tmp_path_factory.mktemp("cli")
    (tmp / "data.csv").write_bytes(CSV)
    procs = {}
    for name, config in CONFIGS.items():
        if config.dataset == "csv":
            config = config.replace(csv_path=str(tmp / "data.csv"))
        (tmp / f"{name}.json").write_text(config.to_json())
        procs[name] = subprocess.Popen(
            [sys.executable, "-m", "gd_core", "run", "--config", str(tmp / f"{name}.json"), "--out",
             str(tmp / f"{name}.csv"), "--quiet"], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    logs = {}
    for name, p in procs.items():
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        logs[name] = read_log_csv(tmp / f"{name}.csv")
    return logs, tmp


def _engine(name, tmp):
    config = CONFIGS[name]
    if config.dataset == "csv":
        config = config.replace(csv_path=str(tmp / "data.csv"))
    return run_experiment(config).log


@pytest.mark.parametrize("name", list(CONFIGS))
def test_engine_twice_and_command_line_are_bit_identical(name, cli_logs):
    logs, tmp = cli_logs
    first, second = _engine(name, tmp), _engine(name, tmp)
    pd.testing.assert_frame_equal(_numbers(first), _numbers(second), check_exact=True)
    pd.testing.assert_frame_equal(_numbers(logs[name]), _numbers(first), check_exact=True)
    assert len(first) > 10 and first["status"].eq("ok").all()


@pytest.mark.parametrize("name", list(CONFIGS))
def test_dashboard_path_is_bit_identical_to_the_engine(name, cli_logs):
    logs, tmp = cli_logs
    config = CONFIGS[name]
    dashboard = cache.compute(share.run_config(config), CSV if config.dataset == "csv" else None).log
    # The dashboard holds an upload as bytes, so its dataset column says "csv" where the CLI names the file.
    drop = ("dataset",) if config.dataset == "csv" else ()
    pd.testing.assert_frame_equal(_numbers(dashboard, *drop), _numbers(logs[name], *drop), check_exact=True)


def test_runs_cut_short_export_what_they_computed_and_read_back_identical():
    """tests/test_results.py round-trips diverged runs; here a time_limit run, its log and its summary."""
    config = ExperimentConfig(n_samples=3000, batch_sizes=(1, "full"), budget=50.0, time_limit_s=0.05)
    results = run_experiment(config)
    assert results.summary["status"].iloc[0] == "time_limit"  # B=1: 120,000 steps cannot fit in 0.05 s
    cut = results.log[results.log["status"] == "time_limit"]
    assert len(cut) >= 2 and cut["epoch"].max() < 50 and cut["train_loss_full"].notna().iloc[-1]
    pd.testing.assert_frame_equal(read_log_csv(io.StringIO(to_csv(results.log))), results.log, check_exact=True)
    text = to_csv(results.summary)
    cells = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    for c in results.summary.columns[results.summary.dtypes.map(lambda t: t.kind == "f")]:  # every digit written
        back = np.array([float(v) if v else np.nan for v in cells[c]])
        np.testing.assert_array_equal(back, results.summary[c].to_numpy(), err_msg=c)
    # plain pandas.read_csv: exact on pandas 3; pandas 2's float parser can be an ulp off on 17-digit numbers
    pd.testing.assert_frame_equal(pd.read_csv(io.StringIO(text)), results.summary, rtol=1e-15)
