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
    s = summarize(results.log, target_loss=0.5)
    assert len(s) == 6
    ok = s[~s["diverged"]]
    assert ok["steps_to_target"].notna().all()
    # B = 1 needs more steps but no more examples than full batch to reach the target
    by_b = ok.set_index("batch_size")
    assert by_b.loc[1, "steps_to_target"] > by_b.loc[by_b.index.max(), "steps_to_target"]
    assert s[s["diverged"]]["steps_to_target"].isna().all()


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
