"""Every bad input of issue 6, through the entry point it arrives by, with the exact message it gets.

One table (`CASES`): (issue item, source, input, expected message regex). Sources:
  config  ExperimentConfig(**input)                          -> ConfigError
  cli     python -m gd_core run ... (gd_core.cli.main)       -> exit 2, one stderr line "error: ..."
  csv     a data file given to the CLI as --csv FILE         -> exit 2, one line (CSVError's message)
  json    a config file given to the CLI as --config FILE    -> exit 2, one line
  url     the home page's URL reader (ui.share.read_query)  -> a message per bad field, defaults used
  runlog  an imported run CSV (gd_core.read_log_csv)         -> LogFormatError
Items already covered elsewhere at another entry point are listed in `ELSEWHERE` (not repeated here):
the loader itself (tests/test_datasets.py::BAD_FILES), config fields (tests/test_config.py), CLI flags
(tests/test_cli.py), run logs (tests/test_results.py), the form and the upload (tests/test_app_home.py).
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gd_core import ExperimentConfig, build_dataset, limits, load_csv_dataset, read_log_csv, to_csv
from gd_core.cli import main
from gd_core.config import FIELD_KINDS, ConfigError
from gd_core.csv_data import CSVError
from gd_core.results import LogFormatError
from ui import share

ROOT = Path(__file__).resolve().parents[1]
ROWS = b"".join(b"%d,%d,%d\n" % (i, i * 3 % 7, i % 2) for i in range(12))  # a,b,y: a good body
LOG = to_csv(read_log_csv(io.StringIO(
    "run_id,problem,dataset,optimizer,batch_size,base_lr,seed,step,epoch,examples_seen,wall_time_s,lr,batch_loss,"
    "train_loss,val_loss,train_accuracy,val_accuracy,grad_norm,diverged\n"
    "B=1,softmax,blobs,sgd,1,0.1,0,0,0.0,0,0.0,0.1,nan,1.1,1.1,0.3,0.3,0.5,False\n")))
HEADER = LOG.splitlines()[0]

ISSUE_ITEMS = (
    "empty file", "header only", "non-UTF-8 bytes", "wrong delimiter", "non-numeric feature columns",
    "NaN/inf values", "a constant column", "a single class", "more classes than examples",
    "a target column that does not exist", "duplicate column names", "a 1-row dataset",
    "a file over the upload limit", "numbers like 1e309", "negative or zero batch size", "batch size > N",
    "lr <= 0 or NaN", "unknown optimizer", "epochs = 0", "a URL with every parameter tampered",
    "a JSON config with extra or missing keys",
)

CASES = [
    ("empty file", "csv", b"", r"^error: the file is empty; expected a header line and data rows$"),
    ("empty file", "json", b"", r"^error: the config is not valid JSON: Expecting value at line 1, column 1$"),
    ("empty file", "runlog", b"", r"the run log is not a readable CSV: No columns to parse from file"),
    ("header only", "csv", b"a,b,y\n", r"the file has no data rows \(header only\); need at least 2 data rows"),
    ("header only", "runlog", HEADER.encode() + b"\n", r"^the run log has a header but no rows$"),
    ("non-UTF-8 bytes", "csv", b"a,b,y\n1,2,\xe9\n", r"not UTF-8 text: byte 0xe9 on line 2 cannot be decoded; "
                                                     r"save the file as 'CSV UTF-8'"),
    ("non-UTF-8 bytes", "json", b'{"problem": "sv\xffm"}', r"^error: --config .*cfg\.json is not UTF-8 text$"),
    ("wrong delimiter", "csv", b"a,b,y\n1;2;0\n3;4;1\n", r"line 2: expected 3 fields like the header, got 1 "
                                                         r"\(it contains ';' but the header is split on ','\)"),
    ("wrong delimiter", "csv", b"a;b;y\n1,5;2;0\n3,5;4;1\n", r"non-numeric value '1,5' in column 'a', row 1 "
                                                             r"\(line 2\); .*\(decimal comma\? use '\.'"),
    ("wrong delimiter", "runlog", HEADER.replace(",", ";").encode() + b"\n1;2\n",
     r"the run log lacks column\(s\) run_id, problem"),
    ("non-numeric feature columns", "csv", b"a,b,y\n1,x,0\n2,y,1\n3,z,0\n",
     r"non-numeric value 'x' in column 'b', row 1 \(line 2\); feature columns must be numeric"),
    ("NaN/inf values", "csv", b"a,b,y\n1,2,0\nnan,3,1\n", r"missing value 'nan' in column 'a', row 2 \(line 3\)"),
    ("NaN/inf values", "csv", b"a,b,y\n1,inf,0\n2,3,1\n", r"value 'inf' in column 'b', row 1 \(line 2\) is "
                                                          r"infinite or too large"),
    ("NaN/inf values", "url", {"lrs": "nan", "momentum": "inf"}, r"lrs must be .*; got 'nan' \(default used\)"),
    ("NaN/inf values", "runlog", LOG.replace(",0,0.0,0,", ",nan,0.0,0,", 1).encode(),
     r"column 'step' has a bad value 'nan' at data row 1"),
    ("a constant column", "csv", b"a,b,y\n1,5,7\n2,5,7\n3,5,7\n",
     r"target column 'y' has a single class '7'; classification needs at least 2 classes"),
    ("a single class", "csv", b"a,b,y\n1,2,cat\n2,3,cat\n3,4,cat\n", r"has a single class 'cat'"),
    ("more classes than examples", "csv", b"a,y\n1,p\n2,q\n3,r\n4,s\n5,t\n",
     r"target column 'y' has 5 classes but only 4 training rows"),
    ("more classes than examples", "config", {"n_samples": 10, "n_classes": 20, "batch_sizes": (1, "full")},
     r"n_classes must be at most the training examples \(8\); got 20"),
    ("a target column that does not exist", "csv", b"a,b,label\n" + ROWS,
     r"target column 'y' not found; available columns: 'a', 'b', 'label'"),
    ("a target column that does not exist", "json", b'{"dataset": "csv", "csv_path": "d.csv"}',
     r"target must name the CSV's target column when dataset is 'csv'; got None"),
    ("duplicate column names", "csv", b"a,a,y\n" + ROWS, r"duplicate column name 'a' \(columns 1 and 2\)"),
    ("a 1-row dataset", "csv", b"a,b,y\n1,2,0\n", r"the file has only 1 data row; need at least 2 data rows"),
    ("a 1-row dataset", "cli", ["--n-samples", "1"], r"n_samples must be an integer in \[2, 2e\+06\]; got '1'"),
    ("a file over the upload limit", "csv", b"a,b,y\n" + ROWS * 100,
     r"the CSV file must be at most 1,024 bytes \(0\.000976562 MB\); got [\d,]+ bytes: use a sample"),
    ("numbers like 1e309", "cli", ["--lr", "1e309"], r"lrs must be .*; got '1e309'"),
    ("numbers like 1e309", "cli", ["--epochs", "1e309"], r"budget must be a finite number in .*; got '1e309'"),
    ("numbers like 1e309", "json", b'{"noise": 1e309}', r"noise must be a finite number in \[0, 100\]; got inf"),
    ("numbers like 1e309", "json", b'{"noise": 1' + b"0" * 400 + b"}", r"noise must be a finite number in"),
    ("numbers like 1e309", "json", b'{"hidden": 1' + b"0" * 5000 + b"}",
     r"the config is not valid JSON: Exceeds the limit \(4300 digits\)"),
    ("numbers like 1e309", "url", {"n_samples": "1e309"}, r"n_samples must be an integer in .*; got '1e309'"),
    ("negative or zero batch size", "cli", ["--batch-sizes", "8,-4"],
     r'batch_size must be an integer >= 1 or "full"; got -4'),
    ("negative or zero batch size", "url", {"batch_sizes": "0,full"}, r'batch_size must be an integer >= 1'),
    ("negative or zero batch size", "json", b'{"batch_sizes": [0]}', r'batch_size must be an integer >= 1'),
    ("batch size > N", "json", b'{"n_samples": 100, "batch_sizes": [81]}',
     r'batch_size must be in \[1, 80\] \(the training examples\) or "full"; got 81'),
    ("batch size > N", "url", {"batch_sizes": "801"}, r"batch_size must be in \[1, 800\]"),
    ("lr <= 0 or NaN", "cli", ["--lr", "0"], r"lrs must be a non-empty list of finite numbers in \[1e-12, "
                                             r"1e\+06\]; got '0'"),
    ("lr <= 0 or NaN", "json", b'{"lrs": [NaN]}', r"lrs must be .*; got nan"),
    ("lr <= 0 or NaN", "url", {"lrs": "-0.1"}, r"lrs must be .*; got '-0\.1'"),
    ("unknown optimizer", "url", {"optimizer": "lbfgs"}, r"optimizer must be one of sgd, adagrad, rmsprop, adam"),
    ("unknown optimizer", "json", b'{"optimizer": "SGD2"}', r"optimizer must be one of .*; got 'SGD2'"),
    ("epochs = 0", "url", {"budget": "0"}, r"budget must be a finite number in \[1e-09, 1e\+12\]; got '0'"),
    ("epochs = 0", "json", b'{"budget": 0}', r"budget must be a finite number in \[1e-09, 1e\+12\]; got 0"),
    ("a JSON config with extra or missing keys", "json", b'{"problem": "svm", "lr": 0.1}',
     r"^error: unknown config field\(s\) 'lr'; allowed: problem, hidden"),
    ("a JSON config with extra or missing keys", "json", b'{"dataset": "csv", "target": "y"}',
     r"^error: csv_path must name a CSV file when dataset is 'csv'; got None$"),
    ("a JSON config with extra or missing keys", "json", b'[{"problem": "svm"}]',
     r"a config must be a JSON object; got list"),
    ("a URL with every parameter tampered", "url", {"n_samples": "200000"},
     r"too large for this host: about 3\.3e\+10 units of work .* fewer epochs \(budget\), seeds, batch sizes"),
    ("a URL with every parameter tampered", "url", {"csv_path": "/etc/passwd"}, r"csv_path cannot be set from a link"),
]
# Items whose other entry points are tested elsewhere (the loader, the fields, the form, the upload).
ELSEWHERE = {
    "a constant column": "tests/test_datasets.py::test_csv_constant_feature_is_kept_as_zeros_without_nan (a "
                         "constant feature is valid: it becomes zeros); here a constant target is one class",
    "a file over the upload limit": "test_upload_limit_is_set_and_row_cap_is_enforced (below)",
    "a URL with every parameter tampered": "test_home_page_with_every_parameter_tampered_warns_and_runs (below)",
    "a JSON config with extra or missing keys": "tests/test_config.py::test_unknown_and_missing_keys, "
                                                "tests/test_cli.py::test_bad_config_json_exits_2",
}


def _cli(args, capsys):
    """main() as `python -m gd_core` runs it: -> (exit code, stderr lines)."""
    try:
        code = main(["run", "--quiet", *args])
    except SystemExit as e:  # argparse errors
        code = e.code
    return code, capsys.readouterr().err.strip().splitlines()


def _feed(source, value, tmp_path, capsys) -> str:
    """The message `value` gets at `source` (fails if it gets none)."""
    out = ["--out", str(tmp_path / "r.csv")]
    if source == "config":
        with pytest.raises(ConfigError) as e:
            ExperimentConfig(**value)
        return str(e.value)
    if source == "url":
        config, messages = share.read_query(value)
        assert config.to_query().keys().isdisjoint(value), "a bad value was kept"
        return "\n".join(messages)
    if source == "runlog":
        with pytest.raises(LogFormatError) as e:
            read_log_csv(io.BytesIO(value))
        return str(e.value)
    if source == "csv":
        (tmp_path / "d.csv").write_bytes(value)
        args = ["--csv", str(tmp_path / "d.csv"), "--target", "y", "--batch-sizes", "1,full", *out]
    elif source == "json":
        (tmp_path / "cfg.json").write_bytes(value)
        args = ["--config", str(tmp_path / "cfg.json"), *out]
    else:
        args = [*value, *out]
    code, lines = _cli(args, capsys)
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (code, lines)
    assert not (tmp_path / "r.csv").exists()
    return lines[0]


@pytest.mark.parametrize("item, source, value, message", CASES, ids=[f"{c[1]}: {c[0]}" for c in CASES])
def test_bad_input_gets_its_message(item, source, value, message, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(limits, "MAX_CSV_BYTES", 1024)  # the CSV size guard, at a testable size
    got = _feed(source, value, tmp_path, capsys)
    assert re.search(message, got, flags=re.MULTILINE), got


def test_every_issue_item_is_in_the_table():
    tested = {c[0] for c in CASES}
    assert set(ISSUE_ITEMS) <= tested | set(ELSEWHERE)
    assert tested <= set(ISSUE_ITEMS)


def test_every_cli_error_is_one_line_from_a_real_process(tmp_path):
    """The table drives main() in-process; here `python -m gd_core` itself, a few cases in parallel."""
    (tmp_path / "bad.csv").write_bytes(b"a,y\n\xff,1\n")
    (tmp_path / "cfg.json").write_text('{"budget": 1' + "0" * 400 + "}")
    cases = [(["--csv", str(tmp_path / "bad.csv"), "--target", "y"], "not UTF-8 text"),
             (["--config", str(tmp_path / "cfg.json")], "budget must be a finite number"),
             (["--lr", "nan", "--batch-sizes", "0"], "lrs must be"),
             (["--epochs", "0", "--steps", "3"], "not allowed with argument")]
    procs = [subprocess.Popen([sys.executable, "-m", "gd_core", "run", "--out", str(tmp_path / "r.csv"), *args],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for args, _ in cases]
    for p, (_, message) in zip(procs, cases, strict=True):
        _, err = p.communicate(timeout=60)
        lines = err.strip().splitlines()
        assert p.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
        assert message in lines[0]
        assert "Traceback" not in err


def test_a_constant_feature_column_is_kept_and_runs(tmp_path, capsys):
    (tmp_path / "d.csv").write_bytes(b"a,c,y\n" + b"".join(b"%d,5,%d\n" % (i, i % 2) for i in range(20)))
    code, _ = _cli(["--csv", str(tmp_path / "d.csv"), "--target", "y", "--problem", "logistic", "--epochs", "1",
                    "--batch-sizes", "4,full", "--out", str(tmp_path / "r.csv")], capsys)
    assert code == 0
    assert read_log_csv(tmp_path / "r.csv")["train_loss"].notna().all()


def test_upload_limit_is_set_and_row_cap_is_enforced(tmp_path):
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == 50  # MB; Streamlit refuses larger uploads itself
    assert limits.MAX_CSV_ROWS == 2_000_000 and limits.MAX_CSV_BYTES == 2**30
    data = b"a,b,y\n" + ROWS
    cfg = ExperimentConfig(dataset="csv", target="y", problem="logistic", batch_sizes=(2,))
    assert build_dataset(cfg, io.BytesIO(data), max_rows=12).n_train == 10
    with pytest.raises(CSVError, match=r"the CSV file must have at most 11 data rows; it has more"):
        build_dataset(cfg, io.BytesIO(data), max_rows=11)
    assert load_csv_dataset(io.BytesIO(data), "y", max_rows=5).n_train == 4  # the loader's own cap


def test_dashboard_csv_is_capped_at_the_hosted_sample_count(monkeypatch):
    from ui import cache

    monkeypatch.setattr(cache, "HOSTED_MAX_SAMPLES", 10)
    cfg = ExperimentConfig(dataset="csv", target="y", problem="logistic", batch_sizes=(2,))
    with pytest.raises(CSVError, match=r"at most 10 data rows"):
        cache.compute(cfg, b"a,b,y\n" + ROWS)


def test_work_budget_message_says_size_limit_and_how_to_shrink():
    cfg = ExperimentConfig(n_samples=200_000, seeds=(0, 1))
    with pytest.raises(ConfigError) as e:
        share.check_host_budget(cfg)
    msg = str(e.value)
    for part in ("about 6.6e+10 units of work", "8 run(s) x 10 epochs on 160,000 training examples x 9 parameters",
                 "6.6x the limit of 1e+10", "fewer epochs (budget), seeds, batch sizes"):
        assert part in msg, msg
    with pytest.raises(ConfigError, match=r"n_samples x n_features must be at most 16,000,000 numbers"):
        share.check_host_budget(ExperimentConfig(n_samples=100_000, n_features=500, budget=0.01))
    with pytest.raises(ConfigError, match=r"needs about 5,024 MB of memory, more than the 512 MB"):
        share.check_host_budget(ExperimentConfig(problem="mlp", hidden=1024, n_samples=200_000, n_classes=2,
                                                 batch_sizes=("full",), budget_unit="steps", budget=1,
                                                 n_checkpoints=1, eval_examples=100))


def _home(**query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


TAMPERED = {"choice": "evil';--", "int": "1e309", "float": "nan", "bool": "maybe", "opt_int": "x",
            "opt_float": "inf", "opt_str": "<script>", "floats": "0", "ints": "-1", "betas": "1,1",
            "batch_sizes": "0"}


def test_home_page_with_every_parameter_tampered_warns_and_runs():
    query = {name: TAMPERED[kind] for name, (kind, *_) in FIELD_KINDS.items()}
    at = _home(**query)
    assert not at.exception
    warnings = "\n".join(w.value for w in at.warning)
    for name, (kind, *_) in FIELD_KINDS.items():
        if kind != "opt_str":  # target: any text is a column name; csv_path: never from a link
            assert f"{'batch_size' if name == 'batch_sizes' else name} must be" in warnings, name
    assert "csv_path cannot be set from a link" in warnings
    assert at.session_state["home_config"] == ExperimentConfig(target="<script>")
    assert len(at.get("plotly_chart")) == 1  # the defaults ran (the loss chart; the metric grid is on request)


def test_home_page_upload_errors_are_messages_not_tracebacks():
    at = _home()
    at.file_uploader(key="cfg_csv_file").set_value(("bad.csv", b"a,y\n\xff,1\n", "text/csv")).run()
    assert not at.exception and "CSV: the file is not UTF-8 text: byte 0xff on line 2" in at.error[0].value
    at.file_uploader(key="cfg_csv_file").set_value(("one.csv", b"a,b,y\n1,2,c\n2,3,c\n3,1,c\n", "text/csv")).run()
    at.selectbox(key="cfg_dataset").set_value("csv")
    at.selectbox(key="cfg_target").set_value("y")
    at.multiselect(key="cfg_batch_sizes").set_value(["1"])
    at.get("form_submit_button")[0].click().run()
    assert not at.exception
    assert "Could not run this experiment: target column 'y' has a single class 'c'" in at.error[0].value


def test_home_page_too_large_request_is_an_error_and_keeps_the_last_results():
    at = _home()
    at.session_state["exp_budget"] = True  # open the lazy "Budget" expander: its widgets are drawn once opened
    at.session_state["exp_problem"] = True  # and "Problem and data" (lazy too)
    at.run()
    at.number_input(key="cfg_n_samples").set_value(200_000)
    at.number_input(key="cfg_budget").set_value(50.0)
    at.get("form_submit_button")[0].click().run()
    assert not at.exception
    assert "Not run: this experiment is too large for this host" in at.error[0].value
    assert at.session_state["home_config"] == ExperimentConfig()
    assert len(at.get("plotly_chart")) == 1


def test_runs_page_non_utf8_log_is_an_error():
    at = AppTest.from_file(str(ROOT / "pages" / "4_Runs.py"), default_timeout=30).run()
    at.file_uploader(key="runs_upload").set_value([("x.csv", b"\xff\xfe\x00", "text/csv")]).run()
    assert not at.exception
    assert "**x.csv** could not be read: the run log is not UTF-8 text" in at.error[0].value
