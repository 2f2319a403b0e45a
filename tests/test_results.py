import io

import numpy as np
import pandas as pd
import pytest

from gd_core import ExperimentConfig, read_log_csv, run_experiment, summarize, to_csv
from gd_core.results import LogFormatError


@pytest.fixture(scope="module")
def results():
    c = ExperimentConfig(problem="least_squares", dataset="linear", n_samples=150, batch_sizes=(1, 8, "full"),
                         lrs=(0.1, 2e3), budget=3, n_checkpoints=10)
    return run_experiment(c)


def test_csv_round_trip_is_exact(results):
    text = to_csv(results.log)
    back = read_log_csv(io.StringIO(text))
    pd.testing.assert_frame_equal(back, results.log, check_exact=True)
    assert results.log["diverged"].any()  # the round trip covers diverged runs and inf/NaN cells
    assert np.isnan(back["train_accuracy"]).all()  # regression: accuracies empty


def test_csv_cells_that_spreadsheets_would_execute_are_neutralised_and_read_back():
    log = pd.read_csv(io.StringIO(to_csv(run_experiment(
        ExperimentConfig(n_samples=60, batch_sizes=(4,), budget=1, n_checkpoints=2)).log)))
    evil = ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "'=quoted", "plain", "\tx"]
    log = read_log_csv(io.StringIO(to_csv(log)))
    log = pd.concat([log] * 3, ignore_index=True).iloc[:len(evil)].copy()
    log["run_id"] = evil
    text = to_csv(log)
    for line in text.splitlines()[1:]:
        assert line[0] not in "=+-@\t", line
    back = read_log_csv(io.StringIO(text))
    assert back["run_id"].tolist() == evil
    # numbers stay numbers: a negative value is not quoted
    assert "'-" not in to_csv(pd.DataFrame({"x": [-1.5]}))


def test_summary_recomputed_from_log_with_a_target(results):
    # from a start of 0.502 every run reaches 0.5 at its first update (measured since checkpoints include it)
    first = summarize(results.log, target_loss=0.5)
    assert first.loc[~first["diverged"], "steps_to_target"].eq(1).all()
    s = summarize(results.log, target_loss=0.3)
    assert len(s) == 6
    by_b = s[~s["diverged"]].set_index("batch_size")
    assert np.isnan(by_b.loc[by_b.index.max(), "steps_to_target"])  # full batch's 3 updates do not get there
    # B = 1 needs more steps but no more examples than B = 8 to reach the target
    assert by_b.loc[1, "steps_to_target"] > by_b.loc[8, "steps_to_target"]
    assert by_b.loc[1, "examples_to_target"] <= by_b.loc[8, "examples_to_target"]
    assert s[s["diverged"]]["steps_to_target"].isna().all()


def _summarize_run_by_run(log, target_loss=None, metric="train_loss"):
    """The straightforward summary: one pass over each run's rows (what summarize computes column-wise)."""
    def final(last, name):
        full = last.get(f"{name}_full", np.nan)
        return float(full) if pd.notna(full) else float(last[name])

    def best(g, name):
        v = g[name].to_numpy(dtype=float)
        return float(v[np.isfinite(v)].min()) if np.isfinite(v).any() else np.nan

    rows = []
    for _, g in log.groupby("run_id", sort=False):
        last = g.iloc[-1]
        row = {k: last[k] for k in ("run_id", "problem", "dataset", "optimizer", "batch_size", "base_lr", "seed")}
        row.update(status=last["status"] if "status" in g else ("diverged" if last["diverged"] else "ok"),
                   diverged=bool(last["diverged"]), steps=int(last["step"]), epochs=float(last["epoch"]),
                   examples_seen=int(last["examples_seen"]), wall_time_s=float(last["wall_time_s"]),
                   final_train_loss=final(last, "train_loss"), final_val_loss=final(last, "val_loss"),
                   best_train_loss=best(g, "train_loss"), best_val_loss=best(g, "val_loss"),
                   final_train_accuracy=float(last["train_accuracy"]),
                   final_val_accuracy=float(last["val_accuracy"]))
        if target_loss is not None:
            hit = g[g[metric] <= target_loss]
            first = hit.iloc[0] if len(hit) else None
            row.update(target_loss=float(target_loss),
                       **{f"{k}_to_target": np.nan if first is None else float(first[c])
                          for k, c in (("steps", "step"), ("examples", "examples_seen"),
                                       ("seconds", "wall_time_s"))})
        rows.append(row)
    return pd.DataFrame(rows)


@pytest.mark.parametrize("target, metric", [(None, "train_loss"), (0.5, "train_loss"), (0.5, "val_loss"),
                                            (1e-12, "train_loss"), (1e12, "train_loss")])
def test_summary_equals_the_run_by_run_summary(results, target, metric):
    """Diverged runs (inf losses), a CSV round trip, a log without status / *_full columns, two seeds, a run
    whose losses are all inf."""
    seeds = run_experiment(ExperimentConfig(n_samples=120, batch_sizes=(2, "full"), seeds=(0, 1), budget=1,
                                            n_checkpoints=6)).log
    all_inf = seeds.copy()
    all_inf.loc[all_inf["run_id"] == all_inf["run_id"].iloc[0], "train_loss"] = np.inf  # best: NaN, not inf
    logs = [results.log, read_log_csv(io.StringIO(to_csv(results.log))), seeds,
            seeds.drop(columns=["status", "train_loss_full", "val_loss_full"]), all_inf]
    for log in logs:
        pd.testing.assert_frame_equal(summarize(log, target, metric), _summarize_run_by_run(log, target, metric))


@pytest.mark.parametrize("text, message", [
    ("", "not a readable CSV"),
    ("a,b\n1,2\n", r"lacks column\(s\) run_id"),
    (None, "has a bad value 'x' at data row 2"),
])
def test_bad_run_logs_get_clear_errors(results, text, message):
    if text is None:
        lines = to_csv(results.log).splitlines()
        header = lines[0].split(",")
        row = lines[2].split(",")
        row[header.index("step")] = "x"
        text = "\n".join([lines[0], lines[1], ",".join(row)])
    with pytest.raises(LogFormatError, match=message):
        read_log_csv(io.StringIO(text))


def test_duplicate_columns_in_a_run_log_are_an_error(results):
    lines = to_csv(results.log).splitlines()
    text = "\n".join(line + "," + line.split(",")[7] for line in lines)  # repeat the "step" column
    assert lines[0].split(",")[7] == "step"
    with pytest.raises(LogFormatError, match="duplicate column name.* step"):
        read_log_csv(io.StringIO(text))


def test_non_utf8_run_log():
    with pytest.raises(LogFormatError, match="not UTF-8"):
        read_log_csv(io.BytesIO(b"\xff\xfe\x00bad"))
