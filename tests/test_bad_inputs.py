"""Every bad input of issue 6, through the entry point it arrives by, with the exact message it gets.

One table (`CASES`): (issue item, source, input, expected message regex). Sources:
  config  ExperimentConfig(**input)                          -> ConfigError
  cli     python -m gd_core run ... (gd_core.cli.main.main)       -> exit 2, one stderr line "error: ..."
  csv     a data file given to the CLI as --csv FILE         -> exit 2, one line (CSVError's message)
  json    a config file given to the CLI as --config FILE    -> exit 2, one line
  url     the home page's URL reader (ui.share.read_query)  -> a message per bad field, defaults used
  runlog  an imported run CSV (gd_core.read_log_csv)         -> LogFormatError
Issue 17 ("Nothing breaks") has its own table below, `CASES17` (guard: `ISSUE17_ITEMS`), with two more sources:
  home    the home page (AppTest) opened with a link's params -> what its warnings and errors say, as shown
  form    the home page, form values set then Run (AppTest)   -> what its warnings and errors say, as shown
  link    ui.share.read_query, every valid field kept          -> its messages
  loud    `python -m gd_core run` without --quiet (main())     -> exit 2, one stderr line; "{tmp}" is tmp_path
  sweep   `python -m gd_core sweep ...` (main())               -> exit 2, one stderr line
  argv    main(argv) as given                                  -> exit 2, one stderr line
  budget  ui.share.check_host_budget(ExperimentConfig(**input)) -> ConfigError
Items already covered elsewhere at another entry point are listed in `ELSEWHERE` (not repeated here):
the loader itself (tests/datasets/test_datasets.py::BAD_FILES), config fields (tests/test_config.py), CLI flags
(tests/cli/test_cli.py), run logs (tests/test_results.py), the form and the upload (tests/test_app_home.py).
"""

from __future__ import annotations

import io
import re
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from gd_core import ExperimentConfig, build_dataset, load_csv_dataset, read_log_csv, to_csv
from gd_core.cli.main import main
from gd_core.config import FIELD_KINDS, ConfigError
from gd_core.data.csv import CSVError
from gd_core.results import LogFormatError
from gd_core.train import limits
from ui import share
from ui.text import md_escape, md_unescape

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
    ("a 1-row dataset", "cli", ["--n-samples", "1"], r"n_samples must be an integer in \[2, 2000000\]; got '1'"),
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
    # (a link whose model cannot fit keeps its other fields: test_a_link_whose_model_cannot_fit_keeps_every_other_field)
    ("a URL with every parameter tampered", "url", {"csv_path": "/etc/passwd"}, r"csv_path cannot be set from a link"),
]
# Items whose other entry points are tested elsewhere (the loader, the fields, the form, the upload).
ELSEWHERE = {
    "a constant column": "tests/datasets/test_datasets.py::test_csv_constant_feature_is_kept_as_zeros_without_nan (a "
                         "constant feature is valid: it becomes zeros); here a constant target is one class",
    "a file over the upload limit": "test_upload_limit_is_set_and_row_cap_is_enforced (below)",
    "a URL with every parameter tampered": "test_home_page_with_every_parameter_tampered_warns_and_runs (below)",
    "a JSON config with extra or missing keys": "tests/test_config.py::test_unknown_and_missing_keys, "
                                                "tests/cli/test_cli.py::test_bad_config_json_exits_2",
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


def _shown(at: AppTest) -> str:
    """The page's warnings, errors and notes as the browser shows them. A warning quotes link values: every ASCII
    punctuation character in its Markdown is backslash-escaped (so none forms a link, image, tag or directive)."""
    assert not at.exception, at.exception
    for w in at.warning:
        assert not re.search(r"(?<!\\)[!-/:-@\[\]^_`{-~]", w.value.replace("\\\\", "")), w.value
    return "\n".join(md_unescape(e.value) for e in [*at.warning, *at.error, *at.info])


@pytest.mark.parametrize("item, source, value, message", CASES, ids=[f"{c[1]}: {c[0]}" for c in CASES])
def test_bad_input_gets_its_message(item, source, value, message, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(limits, "MAX_CSV_BYTES", 1024)  # the CSV size guard, at a testable size
    got = _feed(source, value, tmp_path, capsys)
    assert re.search(message, got, flags=re.MULTILINE), got




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
    warnings = "\n".join(md_unescape(w.value) for w in at.warning)
    for name, (kind, *_) in FIELD_KINDS.items():
        if kind != "opt_str":  # target: any text is a column name; csv_path: never from a link
            assert f"{'batch_size' if name == 'batch_sizes' else name} must be" in warnings, name
    assert "csv_path cannot be set from a link" in warnings
    assert at.session_state["home_config"] == ExperimentConfig(target="<script>")
    assert len(at.get("plotly_chart")) == 1  # the defaults ran (the loss chart; the metric grid is on request)


def test_home_page_upload_errors_are_messages_not_tracebacks():
    at = _home()
    at.file_uploader(key="cfg_csv_file").set_value(("bad.csv", b"a,y\n\xff,1\n", "text/csv")).run()
    assert not at.exception and "CSV: the file is not UTF-8 text: byte 0xff on line 2" in md_unescape(at.error[0].value)
    at.file_uploader(key="cfg_csv_file").set_value(("one.csv", b"a,b,y\n1,2,c\n2,3,c\n3,1,c\n", "text/csv")).run()
    at.selectbox(key="cfg_dataset").set_value("csv")
    at.selectbox(key="cfg_target").set_value("y")
    at.multiselect(key="cfg_batch_sizes").set_value(["1"])
    at.get("form_submit_button")[0].click().run()
    assert not at.exception  # (issue 17 item 4: the file is checked on upload; Run adds no second message)
    assert [md_unescape(e.value) for e in at.error] == [
        "CSV: target column 'y' has a single class 'c'; classification needs at least 2 classes"]


def test_home_page_too_large_request_is_an_error_and_keeps_the_last_results():
    at = _home()
    at.session_state["exp_budget"] = True  # open the lazy "Budget" expander: its widgets are drawn once opened
    at.session_state["exp_problem"] = True  # and "Problem and data" (lazy too)
    at.run()
    at.selectbox(key="cfg_problem").set_value("mlp")  # (issue 17: 200,000 samples now run, without B=1)
    at.number_input(key="cfg_hidden").set_value(1024)
    at.number_input(key="cfg_n_features").set_value(1000)
    at.number_input(key="cfg_n_samples").set_value(16_000)
    at.get("form_submit_button")[0].click().run()
    assert not at.exception
    assert "Not run: this experiment needs about 914 MB of memory" in md_unescape(at.error[0].value)
    assert at.session_state["home_config"] == ExperimentConfig()
    assert len(at.get("plotly_chart")) == 1


def test_runs_page_non_utf8_log_is_an_error():
    at = AppTest.from_file(str(ROOT / "pages" / "4_Runs.py"), default_timeout=30).run()
    at.file_uploader(key="runs_upload").set_value([("x.csv", b"\xff\xfe\x00", "text/csv")]).run()
    assert not at.exception
    assert "**x.csv** could not be read: the run log is not UTF-8 text" in md_unescape(at.error[0].value)


# -- issue 17: "Nothing breaks" ---------------------------------------------------------------------------

ISSUE17_ITEMS = (
    "1 typed batch size", "2 batch-size picker", "3 small data", "7 markdown injection", "9 wide headers",
    "11 CLI tracebacks", "12 CLI error lines", "13 data read exactly", "6 links",
    "10 time limit and cancel", "4 uploads", "5 limits keep the request",
    "8 upload cost",
)
SWEEP = ["--problem", "least_squares", "--dataset", "linear", "--n-samples", "80", "--lrs", "0.1",
         "--target-loss", "0.1", "--quiet"]


def _wide(n: int, last: str = "y") -> bytes:
    """A CSV whose header has n columns (c0, c1, ..., then `last`) and one data row."""
    return (",".join([*(f"c{i}" for i in range(n - 1)), last]) + "\n" + ",".join(["1"] * n) + "\n").encode()


IRIS = b"a,b,label\n" + b"".join(b"%d,%d,%d\n" % (i % 7, i * 3 % 5, i % 3) for i in range(150))  # 150 rows
INJECTIONS = {"link": "[Log in again](http://host/phish)", "image": "![t](http://host/track.png)"}
CASES17 = [
    ("5 limits keep the request", "link", {"n_samples": "60000"},
     r"^batch size 1 left out: with it this experiment is more work than this host allows \(1e\+10 units\); run it "
     r"whole with python -m gd_core run \.\.\.$"),
    ("5 limits keep the request", "link", {"n_samples": "200000", "seeds": "0,1", "lrs": "0.1,0.05"},
     r"^batch size 1 left out: "),
    ("5 limits keep the request", "link", {"n_samples": "200000", "batch_sizes": "1", "budget": "50"},
     r"^budget lowered from 50 to 2\.8 epochs to fit this host's work budget \(1e\+10 units\)"),
    ("5 limits keep the request", "link", {"n_samples": "200000", "n_features": "100", "noise": "0.3"},
     r"^n_samples capped from 200,000 to 160,000 on this host \(100 features: at most 16,000,000 numbers of data\)"
     r"[^\n]*\nbatch size full left out: more memory than this host allows \(512 MB\)"),
    ("6 links", "link", {"lrs": ["0.1", "0.2"]}, r"^lrs is given 2 times in the link; the last, '0\.2', is used$"),
    ("6 links", "link", {"colour": "red", "lrs": "0.2"},
     r"^unknown link parameter 'colour'; ignored \(a link names config fields, e\.g\. \?lrs=0\.05&batch_sizes="),
    ("6 links", "link", {f"k{i}": "1" for i in range(50)}, r"^unknown link parameters 'k0', .*'k9' and 40 more; "),
    ("6 links", "link", {"lrs": "0." + "1" * 150_000, "budget": "3"},
     r"^lrs must be at most 2,000 characters in a link; got 150,002 \(default used\)$"),
    ("6 links", "home", {"time_limit_s": "0.001"},
     r"^4 run\(s\) stopped at the time limit of 0\.001 s per run and show their curves so far \(status "
     r"time_limit\): B=1 lr=0\.1 seed=0, B=32 lr=0\.1 seed=0, B=256 lr=0\.1 seed=0, B=800 lr=0\.1 seed=0$"),
    ("6 links", "budget", {"n_samples": 200_000, "budget": 1e6},
     r"about 3\.3e\+15 units of work .*, 3\.3e\+05x the limit of 1e\+10; shrink it about 3\.3e\+05x: "),
    ("6 links", "budget", {"n_samples": 200_000, "budget": 1000},
     r", 332x the limit of 1e\+10; shrink it about 332x: "),
    ("11 CLI tracebacks", "loud", ["--csv", "/dev/zero", "--target", "y"],
     r"^error: csv_path must be a regular CSV file; got '/dev/zero', which is a device, pipe or socket$"),
    ("11 CLI tracebacks", "loud", ["--csv", "/dev/urandom", "--target", "y"], r"got '/dev/urandom', which is a dev"),
    ("11 CLI tracebacks", "loud", ["--set", "csv_path=/tmp", "--set", "dataset=csv", "--target", "y"],
     r"^error: csv_path must be a regular CSV file; got '/tmp', which is a directory$"),
    ("11 CLI tracebacks", "json", b"[" * 100_000,
     r"^error: the config is not valid JSON: nested too deeply \(a config is one flat object\)$"),
    ("11 CLI tracebacks", "sweep", ["--epochs", "inf"],
     r"^error: --epochs must be a finite number in \(0, 1e\+06\]; got 'inf'$"),
    ("11 CLI tracebacks", "sweep", ["--epochs", "1e309"], r"^error: --epochs must be .*; got '1e309'$"),
    ("11 CLI tracebacks", "sweep", ["--epochs", "nan"], r"^error: --epochs must be .*; got 'nan'$"),
    ("12 CLI error lines", "loud", ["--lr", "0"], r"^error: lrs must be a non-empty list .*; got '0'$"),
    ("12 CLI error lines", "loud", ["--summary", "{tmp}"], r"^error: --summary must be a file path; got '.*', "
                                                           r"which is a directory$"),
    ("12 CLI error lines", "loud", ["--summary", "{tmp}/r.csv"], r"^error: --summary and --out name the same file"),
    ("12 CLI error lines", "loud", ["--summary", "{tmp}/no/such/dir/s.csv"],
     r"^error: --summary must be in an existing directory; got '.*/no/such/dir/s\.csv'$"),
    ("12 CLI error lines", "json", b'{"seeds": [' + b",".join(b"%d" % i for i in range(100_000)) + b"]}",
     r"^error: seeds must be .*; got \[0, 1, 2, 3, .{1,60}\.\.\. \(688,890 characters\)$"),
    ("12 CLI error lines", "loud", ["--set", "optimizer=" + "x" * 100_000],
     r"^error: optimizer must be one of sgd, adagrad, rmsprop, adam; got 'x{59}\.\.\. \(100,000 characters\)$"),
    ("12 CLI error lines", "loud", ["--set", "x" * 100_000],
     r"^error: --set takes FIELD=VALUE with FIELD one of .*; got 'x{59}\.\.\. \(100,000 characters\)$"),
    ("12 CLI error lines", "sweep", ["--min-steps", "1000", "--max-steps", "10"],
     r"^error: --min-steps must be at most --max-steps; got --min-steps 1000 > --max-steps 10$"),
    ("12 CLI error lines", "sweep", ["--max-steps", "１０"], r"^error: --max-steps must be an integer .*; got '１０'$"),
    ("12 CLI error lines", "loud", ["--n-samples", "１００"],
     r"^error: n_samples must be an integer in \[2, 2000000\]; got '１００'$"),
    ("12 CLI error lines", "json", '{"lrs": "０.１"}'.encode(), r"^error: lrs must be .*; got '０\.１'$"),
    ("12 CLI error lines", "argv", [], r"^error: the following arguments are required: command "
                                      r"\(see python -m gd_core --help\)$"),
    ("12 CLI error lines", "argv", ["run", "--out"], r"^error: argument --out: expected one argument "
                                                     r"\(see python -m gd_core run --help\)$"),
    ("9 wide headers", "csv", _wide(40_000),
     r"^error: the header has 40,000 columns; at most 1,001 are allowed \(1,000 feature columns and the target\)$"),
    ("9 wide headers", "csv", _wide(1_000_000), r"the header has 1,000,000 columns; at most 1,001 are allowed"),
    ("9 wide headers", "csv", _wide(1_001, last="c0"), r"duplicate column name 'c0' \(columns 1 and 1001\)"),
    ("9 wide headers", "runlog", _wide(65), r"^the run log's header has 65 columns; a run log has at most 64 \("),
    ("9 wide headers", "runlog", b"\n\n" + _wide(1_000_000), r"^the run log's header has more than [\d,]+ columns"),
    ("1 typed batch size", "form", [("cfg_batch_sizes", ["abc"])],
     r'^Not run: batch_size must be an integer >= 1 or "full"; got \'abc\'\. The last results stay on screen\.$'),
    ("1 typed batch size", "form", [("cfg_batch_sizes", ["1,2"])], r'^Not run: batch_size must be .*; got \'1,2\''),
    ("1 typed batch size", "form", [("cfg_batch_sizes", ["32", "512full"])], r"got '512full'"),
    ("1 typed batch size", "form", [("cfg_batch_sizes", ["1e999"])], r"got '1e999'"),
    ("3 small data", "form", [("upload", IRIS), ("cfg_dataset", "csv"), ("cfg_target", "label")],
     r"^batch size 256 is larger than the 120 training examples: run as full batch \(B=120\)$"),
    ("3 small data", "form", [("cfg_n_samples", 100)],
     r"^batch size 256 is larger than the 80 training examples: run as full batch \(B=80\)$"),
    ("3 small data", "link", {"batch_sizes": "801"},
     r"^batch size 801 is larger than the 800 training examples: run as full batch \(B=800\)$"),
    ("3 small data", "link", {"n_samples": "60", "batch_sizes": "1,64,100,full"},
     r"^batch sizes 64, 100 are larger than the 48 training examples: run as full batch \(B=48\)$"),
    ("7 markdown injection", "home", {"lrs": INJECTIONS["link"]},
     r"lrs must be .*; got '\[Log in again\]\(http://host/phish\)' \(default used\)"),
    ("7 markdown injection", "home", {"lrs": INJECTIONS["image"]}, r"got '!\[t\]\(http://host/track\.png\)'"),
    ("7 markdown injection", "home", {"optimizer": "<img src=x onerror=alert(1)>"},
     r"optimizer must be one of .*; got '<img src=x onerror=alert\(1\)>'"),
]
ELSEWHERE17 = {
    "8 upload cost": "test_an_upload_is_sized_before_it_is_parsed (below); parsing with bounded memory: issue 16",
    "5 limits keep the request": "test_requests_the_docs_promise_fit_the_host, "
                                 "test_a_large_csv_fits_the_host_without_b1 (below)",
    "4 uploads": "test_an_upload_switches_the_form_to_it_and_runs, test_a_bad_upload_is_one_message (below)",
    "10 time limit and cancel": "test_checks_between_checkpoints_change_no_number, "
                                "test_time_limit_and_cancel_act_between_checkpoints, "
                                "test_a_deadline_bounds_the_whole_request (below), "
                                "tests/browser/test_closed_tab.py (a closed tab stops its run)",
    "6 links": "test_repeated_link_parameters_reach_the_page (below)",
    "13 data read exactly": "test_a_constant_column_of_any_scale_becomes_zeros_and_trains, "
                            "test_integer_targets_beyond_float64_stay_distinct_classes (below)",
    "11 CLI tracebacks": "test_ctrl_c_during_run_writes_what_finished_and_exits_130, "
                         "test_second_ctrl_c_stops_at_once_without_a_traceback (below)",
    "9 wide headers": "test_runs_page_refuses_a_wide_log_at_once (below)",
    "1 typed batch size": "test_picker_offers_valid_sizes_and_survives_typed_text (below)",
    "2 batch-size picker": "test_picker_offers_valid_sizes_and_survives_typed_text (below), "
                           "tests/browser/test_batch_picker.py (no Select all; Enter adds one size)",
    "3 small data": "test_small_data_runs_every_size_that_fits (below)",
    "7 markdown injection": "test_link_values_are_escaped_in_the_markdown, "
                            "test_file_column_and_run_names_are_shown_as_text (below), "
                            "tests/browser/test_injection.py (no <a>/<img> to the host, no request to it)",
}


FORM_WIDGETS = {"cfg_batch_sizes": "multiselect", "cfg_dataset": "selectbox", "cfg_target": "selectbox",
                "cfg_n_samples": "number_input", "cfg_val_fraction": "number_input"}


def _form(actions) -> AppTest:
    """The home page with its form's values set (an ("upload", bytes) action uploads a CSV), then Run."""
    at = _home()
    at.session_state["exp_problem"] = True  # open "Problem and data" (lazy: drawn once opened)
    at.run()
    for key, value in actions:
        if key == "upload":
            at.file_uploader(key="cfg_csv_file").set_value(("d.csv", value, "text/csv")).run()
        else:
            getattr(at, FORM_WIDGETS[key])(key=key).set_value(value)
    at.get("form_submit_button")[0].click().run()
    return at


def _feed17(source, value, tmp_path, capsys) -> str:
    if source == "home":
        return _shown(_home(**value))
    if source == "form":
        at = _form(value)
        shown = _shown(at)
        _shown(at.run())  # and the page stays usable on the next rerun
        return shown
    if source in ("loud", "sweep", "argv"):
        out = str(tmp_path / "r.csv")
        argv = {"loud": ["run", "--out", out], "sweep": ["sweep", *SWEEP, "--out", out], "argv": []}[source]
        argv += [v.replace("{tmp}", str(tmp_path)) for v in value]
        try:
            code = main(argv)
        except SystemExit as e:  # argparse errors
            code = e.code
        lines = capsys.readouterr().err.splitlines()  # exactly one line: no blank line before it
        assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (code, lines[:3])
        assert len(lines[0]) <= 1010 and not (tmp_path / "r.csv").exists()
        return lines[0]
    if source == "link":  # every valid field is kept
        config, messages = share.read_query(value)
        kept = {k: v if isinstance(v, str) else v[-1] for k, v in value.items() if k != "batch_sizes"}
        kept = {k: v for k, v in kept.items() if len(v) <= share.MAX_LINK_VALUE_CHARS
                and not any(m.startswith((f"{k} capped", f"{k} lowered")) for m in messages)}  # said so
        assert ExperimentConfig.from_query(kept)[0].to_query().items() <= config.to_query().items()
        return "\n".join(messages)
    if source == "budget":
        with pytest.raises(ConfigError) as e:
            share.check_host_budget(ExperimentConfig(**value))
        return str(e.value)
    return _feed(source, value, tmp_path, capsys)


@pytest.mark.parametrize("item, source, value, message", CASES17, ids=[f"{c[1]}: {c[0]}" for c in CASES17])
def test_issue17_bad_input_gets_its_message(item, source, value, message, tmp_path, capsys):
    got = _feed17(source, value, tmp_path, capsys)
    assert re.search(message, got, flags=re.MULTILINE), got


@pytest.mark.parametrize("cases, items, elsewhere", [(CASES, ISSUE_ITEMS, ELSEWHERE),
                                                     (CASES17, ISSUE17_ITEMS, ELSEWHERE17)],
                         ids=["issue 6", "issue 17"])
def test_every_issue_item_is_in_its_table(cases, items, elsewhere):
    tested = {c[0] for c in cases}
    assert set(items) <= tested | set(elsewhere)
    assert tested <= set(items)


def test_picker_offers_valid_sizes_and_survives_typed_text():
    at = _home(n_samples="100")  # 80 training examples
    picker = at.multiselect(key="cfg_batch_sizes")
    assert picker.options == ["B = 1", "B = 2", "B = 4", "B = 8", "B = 16", "B = 32", "B = 64", "full batch"]
    assert picker.value == ["1", "32", "full"]  # 256 ran as full batch (a note says so)
    at = _home()
    assert "B = 1024" not in at.multiselect(key="cfg_batch_sizes").options  # 800 training examples
    at.multiselect(key="cfg_batch_sizes").set_value(["32", "abc", "1,2"])
    at.get("form_submit_button")[0].click().run()
    assert not at.exception and "got 'abc'" in md_unescape(at.error[0].value)
    at.multiselect(key="cfg_batch_sizes").set_value(["8"])
    at.get("form_submit_button")[0].click().run()  # a good value runs again: the page was never broken
    assert not at.exception and not at.error and at.session_state["home_config"].batch_sizes == (8,)


def test_small_data_runs_every_size_that_fits():
    at = _form([("upload", IRIS), ("cfg_dataset", "csv"), ("cfg_target", "label")])
    assert not at.exception and not at.error
    config, results, _ = at.session_state["home_last"]
    assert config.batch_sizes == (1, 32, 256, "full")  # what was asked (and what the link says)
    assert results.config.batch_sizes == (1, 32, "full")  # what ran: 256 > 120 is the full batch
    assert sorted(results.summary["batch_size"]) == [1, 32, 120]


@pytest.mark.parametrize("value", list(INJECTIONS.values()), ids=list(INJECTIONS))
def test_link_values_are_escaped_in_the_markdown(value):
    at = _home(lrs=value)
    body = "\n".join(w.value for w in at.warning)
    assert md_escape(value) in body  # every [ ] ( ) ! : / . behind a backslash: text, not a link or an image
    assert "](" not in body and "http:" not in body and value in md_unescape(body)
    assert len(at.get("plotly_chart")) == 1  # the rest of the link (the defaults) ran


@pytest.mark.parametrize("value", ["http://evil.example/x", "https://evil.example", "www.evil.example",
                                   "mailto:a@evil.example", "a@evil.example", "[t](www.evil.example)"])
def test_escaped_text_holds_no_autolink(value):
    # Streamlit's Markdown autolinks a bare URL, a www. name or an e-mail address even with its punctuation
    # backslash-escaped (the browser audit found <a href="http://evil.example/phish"> in the app's own warning)
    escaped = md_escape(value)
    text = re.sub(r"\\(.)", r"\1", escaped)  # what remark-gfm searches: the parsed text, escapes resolved
    assert not re.search(r"(?i)https?://|www\.|[-.\w+]@", text), escaped  # remark-gfm's autolink patterns
    assert md_unescape(escaped) == value


def test_file_column_and_run_names_are_shown_as_text(tmp_path):
    from ui import charts, controls, runs

    evil = '<a href="http://host/x">f</a>.csv'
    log = read_log_csv(io.StringIO(LOG))
    fig = runs.overlay(charts.loss_panels, runs.combine_logs([(evil, log), ("b.csv", log)]))
    names = " ".join(t.name for t in fig.data)
    assert "<a" not in names and "&lt;a href=&quot;http://host/x&quot;&gt;" in names  # plotly draws no link
    values = {"cfg_problem": "softmax", "cfg_dataset": "csv", "cfg_target": "`x` [y](http://host/z)",
              "cfg_label_noise": 0, "cfg_reg": 0, "cfg_val_fraction": 0.2}
    caption = controls.problem_summary(values)
    assert "target `` `x` [y](http://host/z) ``" in caption  # inline code that the name's backticks cannot close


def test_runs_page_refuses_a_wide_log_at_once():
    at = AppTest.from_file(str(ROOT / "pages" / "4_Runs.py"), default_timeout=30).run()
    at.file_uploader(key="runs_upload").set_value([("wide.csv", _wide(1_000_000), "text/csv"),
                                                  ("log.csv", LOG.encode(), "text/csv")]).run()
    assert not at.exception and len(at.error) == 1
    assert "**wide.csv** could not be read: the run log's header has more than" in md_unescape(at.error[0].value)
    assert at.get("plotly_chart")  # the good file still loads


class _CtrlCAt:
    """A progress bar that presses Ctrl-C (a real SIGINT to this process) the `times` first times it is called
    past `fraction` of the work."""

    def __init__(self, fraction: float, times: int = 1):
        self.fraction, self.left = fraction, times

    def __call__(self, enabled):
        def progress(fraction, message):
            if fraction >= self.fraction and self.left:
                self.left -= 1
                signal.raise_signal(signal.SIGINT)
        progress.clear = lambda: None
        return progress


def test_ctrl_c_during_run_writes_what_finished_and_exits_130(tmp_path, capsys, monkeypatch):
    import gd_core.cli.main

    monkeypatch.setattr(gd_core.cli.main, "ProgressBar", _CtrlCAt(0.5))
    out, summary = tmp_path / "r.csv", tmp_path / "s.csv"
    code = main(["run", "--batch-sizes", "1,8,full", "--epochs", "5", "--out", str(out), "--summary", str(summary)])
    lines = capsys.readouterr().err.splitlines()
    assert code == 130 and len(lines) == 1, lines
    assert re.fullmatch(r"interrupted: wrote \d+ rows for \d runs to .*r\.csv \(the runs that finished, and 1 "
                        r"stopped early, marked cancelled; the rest did not start\)", lines[0]), lines[0]
    log = read_log_csv(out)
    assert "cancelled" in set(log["status"]) and log["run_id"].nunique() < 3  # B=full never started
    assert summary.exists()


def test_second_ctrl_c_stops_at_once_without_a_traceback(tmp_path, capsys, monkeypatch):
    import gd_core.cli.main

    monkeypatch.setattr(gd_core.cli.main, "ProgressBar", _CtrlCAt(0.2, times=2))
    code = main(["run", "--batch-sizes", "1,full", "--epochs", "5", "--out", str(tmp_path / "r.csv")])
    assert code == 130 and capsys.readouterr().err.splitlines() == ["error: interrupted; nothing was written"]
    assert not (tmp_path / "r.csv").exists()


def test_ctrl_c_on_a_real_process_is_one_line_and_exit_130(tmp_path):
    """Whenever it lands (loading numpy, or running), Ctrl-C ends `python -m gd_core run` with exit 130 and one
    line, never a traceback."""
    p = subprocess.Popen([sys.executable, "-m", "gd_core", "run", "--epochs", "3000", "--out", str(tmp_path / "r.csv")],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    lines = err.splitlines()
    assert p.returncode == 130 and len(lines) == 1 and lines[0].startswith(("interrupted: wrote", "error: inter")), err


@pytest.mark.parametrize("value", ["1e-300", "-7", "1e50", "1e100", "-1e100"])
def test_a_constant_column_of_any_scale_becomes_zeros_and_trains(value, tmp_path, capsys):
    body = "".join(f"{i % 5},{value},{i % 2}\n" for i in range(40))
    ds = load_csv_dataset(io.StringIO("a,c,y\n" + body), "y")
    assert not ds.X_train[:, 1].any() and not ds.X_val[:, 1].any()  # exactly zero (1e100 gave +-3.9e84)
    assert np.allclose(ds.X_train[:, 0].std(), 1.0)
    (tmp_path / "d.csv").write_text("a,c,y\n" + body)
    code, _ = _cli(["--csv", str(tmp_path / "d.csv"), "--target", "y", "--problem", "logistic", "--epochs", "2",
                    "--batch-sizes", "4,full", "--out", str(tmp_path / "r.csv"), "--summary", str(tmp_path / "s.csv")],
                   capsys)
    assert code == 0
    assert set(pd.read_csv(tmp_path / "s.csv")["status"]) == {"ok"}  # before: every run diverged at step 0


@pytest.mark.parametrize("labels, names", [
    ((10**18, 10**18 + 1), ("1000000000000000000", "1000000000000000001")),
    ((-(10**19), 10**19 - 1, 10**19), ("-10000000000000000000", "9999999999999999999", "10000000000000000000")),
    ((2**53, 2**53 + 1), ("9007199254740992", "9007199254740993")),
])
def test_integer_targets_beyond_float64_stay_distinct_classes(labels, names):
    body = "".join(f"{i},{i * 7 % 3},{labels[i % len(labels)]}\n" for i in range(30))
    for source in (io.StringIO("a,b,y\n" + body), io.BytesIO(("a,b,y\n" + body).encode())):
        ds = load_csv_dataset(source, "y")
        assert ds.task == "classification" and ds.class_names == names
        y = np.concatenate([ds.y_train, ds.y_val])
        assert sorted(np.bincount(y).tolist()) == sorted(np.bincount(np.arange(30) % len(labels)).tolist())


def test_repeated_link_parameters_reach_the_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lrs"] = ["0.5", "0.2"]
    at.query_params["utm_source"] = "mail"
    at.run()
    shown = _shown(at)
    assert "lrs is given 2 times in the link; the last, '0.2', is used" in shown
    assert "unknown link parameter 'utm_source'; ignored" in shown
    assert at.session_state["home_config"].lrs == (0.2,)


LONG = ExperimentConfig(batch_sizes=(1,), budget=3000, n_checkpoints=1)  # 2.4M steps: minutes, unless stopped


@pytest.mark.parametrize("config, stacked", [
    (ExperimentConfig(batch_sizes=(1, 8, "full"), lrs=(0.1, 0.05), budget=3, n_checkpoints=2), True),
    (ExperimentConfig(batch_sizes=(1, 8, "full"), budget=3, n_checkpoints=2), False),
    (ExperimentConfig(problem="mlp", batch_sizes=(1, 4), budget=2, n_checkpoints=3, n_samples=300), True),
    (ExperimentConfig(optimizer="adam", lrs=(0.01,), batch_sizes=(1, 16), budget=2, n_checkpoints=1), False),
])
def test_checks_between_checkpoints_change_no_number(config, stacked, monkeypatch):
    from gd_core import run_experiment
    from gd_core.train import stopping

    cut = lambda r: r.log.drop(columns="wall_time_s")  # noqa: E731
    whole = run_experiment(config, stacked=stacked)
    monkeypatch.setattr(stopping, "CHECK_WORK", 1.0)  # a check after every step (B = 1: every lazy block)
    calls = []
    pieces = run_experiment(config, stacked=stacked, should_stop=lambda: calls.append(1) and False)
    pd.testing.assert_frame_equal(cut(whole), cut(pieces))
    assert len(calls) > 2 * config.n_checkpoints  # it did check inside the intervals


@pytest.mark.parametrize("stacked", [True, False])
def test_time_limit_and_cancel_act_between_checkpoints(stacked):
    from gd_core import run_experiment

    r = run_experiment(LONG.replace(time_limit_s=0.3), stacked=stacked)  # one interval of 2.4M steps
    (status,), last = r.summary["status"].tolist(), int(r.log["step"].iloc[-1])
    assert status == "time_limit" and 0 < last < 2_400_000, (status, last)
    t0 = time.perf_counter()
    r = run_experiment(LONG, stacked=stacked, should_stop=lambda: time.perf_counter() > t0 + 0.3)
    (status,), last = r.summary["status"].tolist(), int(r.log["step"].iloc[-1])
    assert status == "cancelled" and 0 < last < 2_400_000, (status, last)


def test_a_deadline_bounds_the_whole_request():
    from gd_core import run_experiment
    from ui import cache

    config = LONG.replace(batch_sizes=(1, 2, 4, 8), time_limit_s=60.0)
    r = run_experiment(config, deadline=time.perf_counter() + 0.3)
    assert r.summary["status"].tolist() == ["time_limit"]  # the first run stopped; the others never started
    store, config = cache.RunStore(), config.replace(budget=300)  # within the host's work budget
    r = cache.results_for(config, store=store, deadline=time.perf_counter() + 0.3)
    assert r.summary["batch_size"].tolist() == [1] and set(r.summary["status"]) == {"time_limit"}
    assert store.get(f"assembled|{cache.cache_key(config, None)}") is None  # a partial whole is not kept


def test_an_upload_switches_the_form_to_it_and_runs():
    at = _home()
    at.file_uploader(key="cfg_csv_file").set_value(("iris.csv", IRIS, "text/csv")).run()
    assert not at.exception and not at.error
    assert at.selectbox(key="cfg_dataset").value == "csv" and at.selectbox(key="cfg_target").value == "label"
    assert any("Dataset set to **your CSV**" in c.value for c in at.caption)
    at.get("form_submit_button")[0].click().run()  # Run alone: the upload is what runs, not the blobs
    config, results, _ = at.session_state["home_last"]
    assert config.dataset == "csv" and set(results.log["dataset"]) == {"csv"}


@pytest.mark.parametrize("name, data, message", [
    ("empty", b"", "CSV: the file is empty; expected a header line and data rows"),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "CSV: the file is not UTF-8 text: byte 0x89 on line 1"),
    ("bad data", b"a,b,y\n1,2,0\n3,x,1\n4,5,0\n", "CSV: non-numeric value 'x' in column 'b', row 2 (line 3)"),
])
def test_a_bad_upload_is_one_message(name, data, message):
    at = _home()
    at.file_uploader(key="cfg_csv_file").set_value((f"{name}.csv", data, "text/csv")).run()
    shown = [md_unescape(e.value) for e in [*at.error, *at.warning]]
    assert len(shown) == 1 and shown[0].startswith(message), shown  # on upload, before any Run
    at.session_state["exp_problem"] = True
    at.run()
    at.selectbox(key="cfg_dataset").set_value("csv")
    at.get("form_submit_button")[0].click().run()
    assert not at.exception
    assert [md_unescape(e.value) for e in [*at.error, *at.warning]] == shown  # Run adds nothing (no "got None")


@pytest.mark.parametrize("query, sizes", [({"n_samples": "60000"}, (32, 256, "full")),
                                          ({"n_samples": "100000"}, (32, 256, "full")),
                                          ({"n_samples": "200000", "noise": "0.3"}, (32, 256, "full"))])
def test_requests_the_docs_promise_fit_the_host(query, sizes):
    config, _ = share.read_query(query)
    assert config == ExperimentConfig.from_query(query)[0].replace(batch_sizes=sizes)  # every field kept
    share.check_host_budget(config)  # and it runs here


def test_a_link_whose_model_cannot_fit_keeps_every_other_field():
    # an MLP of 1,024 units on 1,000 features needs ~914 MB: only the size fields go back to their defaults
    query = {"problem": "mlp", "hidden": "1024", "n_features": "1000", "n_samples": "16000", "optimizer": "adam",
             "lrs": "0.003,0.01", "seeds": "3,4", "budget": "2", "batch_sizes": "8,64", "label_noise": "0.1"}
    config, messages = share.read_query(query)
    asked = ExperimentConfig.from_query(query)[0]
    assert config == asked.replace(hidden=32, n_features=2, n_samples=1000)
    assert [m for m in messages if "914 MB" in m] == [
        "this experiment needs about 914 MB of memory, more than the 512 MB this host allows: use smaller batch sizes "
        "than the full set (or fewer samples), fewer features, fewer MLP hidden units or fewer evaluation examples, "
        "or run it with python -m gd_core run ...; n_samples, n_features, hidden set back to the defaults, the rest "
        "of the link applies"], messages
    share.check_host_budget(config)  # and it runs here
    config, messages = share.read_query({"n_features": "1000", "n_samples": "16000", "hidden": "1024",
                                         "problem": "mlp", "dataset": "spiral"})  # spiral has 2 features
    assert config == ExperimentConfig(problem="mlp", dataset="spiral")


def test_a_link_whose_capped_data_still_needs_too_much_memory_gets_fewer_samples():
    # the browser audit: 200,000 x 500 was capped to 32,000 samples (the values cap), then refused for memory
    # (515 MB) and the whole link fell back to the defaults
    config, messages = share.read_query({"n_samples": "200000", "n_features": "500", "optimizer": "adam"})
    assert config.n_features == 500 and config.optimizer == "adam" and 100 <= config.n_samples < 32_000
    assert any(f"n_samples lowered from 32,000 to {config.n_samples:,} to fit, the rest of the link applies" in m
               for m in messages), messages
    share.check_host_budget(config)  # it runs here


def test_a_large_csv_fits_the_host_without_b1():
    from ui import cache  # a CSV of 150,000 rows (~2 MB; 10 MB of wider rows alike) with the default sizes

    rows = b"".join(b"%d,%d,%d\n" % (i % 97, i % 89, i % 2) for i in range(150_000))
    asked = ExperimentConfig(dataset="csv", target="y", problem="logistic")
    ds = cache.load_dataset(asked, b"a,b,y\n" + rows)
    ran = cache.fit_csv(asked, ds)
    assert ran == asked.replace(batch_sizes=(32, 256, "full"))
    assert share.fitted_notes(asked, ran, ds.n_train) == [share.left_out_note([1])]


def test_an_upload_is_sized_before_it_is_parsed(monkeypatch):
    from ui import cache

    def parse(*a, **k):
        raise AssertionError("parsed")

    monkeypatch.setattr(cache, "build_dataset", parse)
    wide = _wide(1001) + b"".join(b",".join([b"1"] * 1001) + b"\n" for _ in range(16_000))  # 16,001 rows, 32 MB
    cfg = ExperimentConfig(dataset="csv", target="y")
    with pytest.raises(CSVError, match=r"^the CSV file must hold at most 16,000,000 feature values on this host; it "
                                       r"has about 16,001 rows x 1,000 feature columns = 16,001,000: use fewer rows"):
        cache.load_dataset(cfg, wide)  # parsing it took 2.2 s and 570 MB more (measured at 20,000 rows)
    long = b"a,y\n" + b"1,0\n" * 200_001
    with pytest.raises(CSVError, match=r"^the CSV file must have at most 200,000 data rows on this host; it has "
                                       r"about 200,001: use a sample"):
        cache.load_dataset(cfg, long)
