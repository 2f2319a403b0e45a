"""Property-based tests: configs drawn from every field kind of `config.FIELD_KINDS`.

- any valid config round-trips through JSON and through the URL (`to_query` -> `from_query`) unchanged;
- random small configs never crash the runner: they run (finite bookkeeping, a known status) or raise ConfigError;
- random bytes never crash the header reader, the dashboard's CSV path or the run-log reader: they load or raise
  the documented error (the CSV loader itself: tests/datasets/test_datasets.py::test_arbitrary_bytes_...).
Example counts come from the hypothesis profile in tests/conftest.py (few by default, many under CI=true).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gd_core import ExperimentConfig, read_csv_columns, read_log_csv, run_experiment, to_csv
from gd_core.config import FIELD_KINDS, ConfigError
from gd_core.data.csv import CSVError
from gd_core.data.synthetic import dataset_info
from gd_core.results import LOG_COLUMNS, LogFormatError

FINITE = dict(allow_nan=False, allow_infinity=False)


def field_values(name: str, small: bool) -> st.SearchStrategy:
    """Values of one field, from its kind in FIELD_KINDS; `small` keeps a run tiny."""
    kind, *args = FIELD_KINDS[name]
    small_caps = {"hidden": 8, "n_features": 4, "n_classes": 4, "n_samples": 60, "n_checkpoints": 5,
                  "eval_examples": 200, "ref_batch_size": 64}
    if kind == "choice":
        return st.sampled_from([o for o in args[0] if o != "csv"] if small else args[0])
    if kind in ("int", "opt_int"):
        lo, hi = args
        ints = st.integers(lo, min(hi, small_caps.get(name, hi)) if small else hi)
        return st.none() | ints if kind == "opt_int" else ints
    if kind in ("float", "opt_float"):
        floats = st.floats(*args, **FINITE)
        return st.none() | floats if kind == "opt_float" else floats
    if kind == "bool":
        return st.booleans()
    if kind == "opt_str":
        return st.none() | st.text(st.characters(codec="utf-8", exclude_characters=","), min_size=1, max_size=8)
    if kind == "floats":
        return st.lists(st.floats(*args, **FINITE), min_size=1, max_size=3, unique=True).map(tuple)
    if kind == "ints":
        return st.lists(st.integers(*args), min_size=1, max_size=3, unique=True).map(tuple)
    if kind == "betas":
        return st.tuples(*[st.floats(0.0, 1.0, exclude_max=True, **FINITE)] * 2)
    if kind == "batch_sizes":
        return st.lists(st.integers(1, 40) | st.just("full"), min_size=1, max_size=3, unique=True).map(tuple)
    raise AssertionError(kind)


@st.composite
def configs(draw, small: bool = False) -> ExperimentConfig:
    """A valid config: every field drawn from its kind, then the rules between fields made to hold."""
    v = {name: draw(field_values(name, small)) for name in FIELD_KINDS}
    if v["problem"] == "least_squares":
        v["dataset"] = "linear"
    elif v["dataset"] == "linear":
        v["dataset"] = "blobs"
    if v["dataset"] == "csv":
        v["target"] = v["target"] or "y"
    else:
        info = dataset_info(v["dataset"])
        if v["problem"] == "logistic" and not info.fixed_n_classes:
            v["n_classes"] = 2
        v["n_features"] = max(v["n_features"], info.intrinsic_dim or 1)
        v["n_samples"] = max(v["n_samples"], 10)
        n_train = v["n_samples"] - round(v["n_samples"] * v["val_fraction"])
        assume(n_train >= 4)
        v["n_classes"] = min(v["n_classes"], n_train)
        v["batch_sizes"] = tuple(dict.fromkeys(b if b == "full" else min(b, n_train) for b in v["batch_sizes"]))
        v["n_unique"] = None if v["n_unique"] is None else min(v["n_unique"], n_train)
    v["nesterov"] = v["nesterov"] and v["optimizer"] == "sgd" and v["momentum"] > 0
    if v["budget_unit"] != "epochs":
        v["budget"] = float(max(1, round(v["budget"])))
    if small:
        v["budget"] = min(v["budget"], {"epochs": 2.0, "steps": 30.0, "examples": 200.0}[v["budget_unit"]])
        v["csv_path"] = v["target"] = None
        v["seeds"] = v["seeds"][:2]
    try:
        return ExperimentConfig(**v)
    except ConfigError as e:  # a rule the adjustments above missed: worth knowing, not a failure of the test
        assume(False)
        raise AssertionError(e) from None


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_config_json_round_trip_is_identity(config):
    assert ExperimentConfig.from_json(config.to_json()) == config


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_config_url_round_trip_is_identity(config):
    query = config.to_query()
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in query.items())
    assert ExperimentConfig.from_query(query) == (config, [])


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(configs(small=True))
def test_random_small_configs_run_or_raise_config_error(config):
    try:
        r = run_experiment(config)
    except ConfigError:
        return
    assert list(r.log.columns) == list(LOG_COLUMNS)
    assert set(r.summary["status"]) <= {"ok", "diverged", "time_limit"}
    assert len(r.summary) == r.log["run_id"].nunique() >= 1
    assert (r.log.groupby("run_id")["step"].diff().dropna() > 0).all()  # checkpoints move forward
    ok = r.log[r.log["status"] == "ok"]
    assert np.isfinite(ok["train_loss"]).all()


LOG_TEXT = to_csv(run_experiment(ExperimentConfig(n_samples=40, batch_sizes=(4,), budget=1, n_checkpoints=2)).log)
CELL = st.sampled_from(["", "x", "nan", "inf", "-1", "1e309", "True", "2", "'=1", '"', "1.5", "é", "\x00"])


@st.composite
def damaged_logs(draw) -> bytes:
    """A real run log with a few cells, a line or the header damaged."""
    lines = LOG_TEXT.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        cells = lines[i].split(",")
        cells[draw(st.integers(0, len(cells) - 1))] = draw(CELL)
        lines[i] = ",".join(cells)
    if draw(st.booleans()):
        del lines[draw(st.integers(0, len(lines) - 1))]
    return "\n".join(lines).encode("utf-8")


@given(st.binary(max_size=200) | damaged_logs())
def test_random_bytes_never_crash_the_run_log_reader(data):
    try:
        log = read_log_csv(io.BytesIO(data))
    except LogFormatError:
        return
    assert set(LOG_COLUMNS) - {"status", "distance_to_optimum", "train_loss_full", "val_loss_full"} <= set(log)
    assert log["step"].dtype == np.int64 and log["diverged"].dtype == bool


CSV_BYTES = st.binary(max_size=120) | st.lists(
    st.lists(st.sampled_from(["1", "0", "2.5", "x", "", "a", "y", "nan", "1e309", '"', "é"]), min_size=1,
             max_size=4).map(",".join), max_size=8).map(lambda rows: "\n".join(rows).encode())


@given(CSV_BYTES)
def test_random_bytes_never_crash_the_header_reader_or_the_dashboard_csv_path(data):
    from ui import cache

    try:
        columns = read_csv_columns(io.BytesIO(data))
    except CSVError:
        return
    assert columns and all(isinstance(c, str) and c for c in columns)
    config = ExperimentConfig(dataset="csv", target=columns[-1], problem="softmax", batch_sizes=("full",),
                              budget=1, n_checkpoints=2)
    try:
        r = cache.compute(config, data)
    except ValueError as e:  # CSVError, or ConfigError (e.g. a regression target for softmax)
        assert isinstance(e, CSVError | ConfigError), repr(e)
        return
    assert isinstance(r.log, pd.DataFrame) and len(r.log) >= 1
