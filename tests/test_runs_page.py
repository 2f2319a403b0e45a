"""The Runs page (AppTest, uploads through `at.file_uploader[0].set_value`) and its helpers in ui/runs.py."""

import io
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gd_core import ExperimentConfig, read_log_csv, run_experiment, to_csv
from ui import charts, runs
from ui.colors import batch_size_color
from ui.text import md_unescape

# AppTest resolves relative paths against the calling file, not the working directory.
PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "4_Runs.py")
# 200 samples -> 160 training examples; "full" is B=160.
CONFIG = ExperimentConfig(n_samples=200, batch_sizes=(1, 16, "full"), budget=2.0, n_checkpoints=20)
N_TRAIN = 160


@pytest.fixture(scope="module")
def csv_bytes() -> bytes:
    return to_csv(run_experiment(CONFIG).log).encode()


@pytest.fixture(scope="module")
def csv_bytes_two_seeds() -> bytes:
    return to_csv(run_experiment(CONFIG.replace(seeds=(0, 1), batch_sizes=(8,))).log).encode()


def page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=60).run()


def upload(at: AppTest, *files) -> AppTest:
    at.file_uploader[0].set_value([(name, data, "text/csv") for name, data in files])
    return at.run()


def figures(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def legend_traces(fig: dict) -> list[dict]:
    """The curves named in the legend (faint mini-batch losses and second panels are hidden from it)."""
    return [t for t in fig["data"] if t.get("showlegend", True)]


def test_no_upload_explains_and_offers_an_example():
    at = page()
    assert not at.exception
    assert len(at.file_uploader) == 1 and at.file_uploader[0].accept_multiple_files
    assert at.info and "Upload" in at.info[0].value
    assert at.button(key="runs_example_button").label == "Load an example"
    assert not at.get("plotly_chart")


@pytest.mark.parametrize("session", ["computes", "hits the cache"])
def test_load_an_example_fills_the_page(session):
    # The second session replays the cached example: a cached function that drew a progress bar would fail here.
    at = page()
    at.button(key="runs_example_button").click().run()
    assert not at.exception
    traces = legend_traces(figures(at)[0])
    assert [t["line"]["color"] for t in traces] == [batch_size_color(b, 400) for b in (1, 32, 400)]
    assert len(at.dataframe[0].value) == 3
    at.selectbox(key="runs_metric_x").set_value("step").run()
    assert not at.exception
    assert figures(at)[1]["layout"]["xaxis"]["title"]["text"] == charts.AXIS_TITLES["step"]


def test_upload_shows_one_trace_per_batch_size(csv_bytes):
    at = upload(page(), ("r.csv", csv_bytes))
    assert not at.exception and not at.error
    figs = figures(at)
    assert len(figs) == 2  # the home page's loss panels and metric grid
    for fig in figs:
        traces = legend_traces(fig)
        assert [t["name"] for t in traces] == ["SGD (B=1)", "B=16", "full batch (B=160)"]
        assert [t["line"]["color"] for t in traces] == [batch_size_color(b, N_TRAIN) for b in (1, 16, N_TRAIN)]
    at.toggle(key="runs_log_y").set_value(True).run()
    assert figures(at)[0]["layout"]["yaxis"]["type"] == "log"
    summary = at.dataframe[0].value
    assert list(summary["batch_size"]) == [1, 16, N_TRAIN]
    assert summary["steps_to_target"].notna().all()  # the default target is one every run reached


def test_target_loss_input_recomputes_the_summary(csv_bytes):
    at = upload(page(), ("r.csv", csv_bytes))
    at.number_input[0].set_value(1e-9).run()
    assert not at.exception
    assert at.dataframe[0].value["steps_to_target"].isna().all()


def test_bad_csv_shows_an_error_and_the_good_file_still_loads(csv_bytes):
    at = upload(page(), ("bad.csv", b"a,b\n1,2\n"))
    assert not at.exception
    shown = md_unescape(at.error[0].value)  # the text the page shows (file names and messages are escaped)
    assert len(at.error) == 1 and "bad.csv" in shown and "lacks column" in shown
    assert not at.get("plotly_chart")

    at = upload(page(), ("bad.csv", b"\xff\xfe\x00garbage"), ("good.csv", csv_bytes))
    assert not at.exception
    assert len(at.error) == 1 and "bad.csv" in md_unescape(at.error[0].value)
    assert len(legend_traces(figures(at)[0])) == 3


def test_two_files_overlaid_keep_distinct_run_ids(csv_bytes, csv_bytes_two_seeds):
    at = upload(page(), ("a.csv", csv_bytes), ("b.csv", csv_bytes_two_seeds))
    assert not at.exception and not at.error
    run_ids = list(at.dataframe[0].value["run_id"])
    assert len(run_ids) == len(set(run_ids)) == 5
    assert sum(r.startswith("a.csv: ") for r in run_ids) == 3 and sum(r.startswith("b.csv: ") for r in run_ids) == 2
    traces = legend_traces(figures(at)[0])
    assert [t["name"] for t in traces] == ["SGD (B=1) · a.csv", "B=16 · a.csv", "full batch (B=160) · a.csv",
                                           "B=8 · b.csv"]  # b.csv's two seeds: one mean curve, as at home
    assert [t["line"]["dash"] for t in traces] == ["solid"] * 3 + ["dash"]
    assert traces[3]["line"]["color"] == batch_size_color(8, N_TRAIN)


def test_the_same_file_twice_stays_two_sources(csv_bytes):
    loaded = runs.load_logs([("r.csv", csv_bytes), ("r.csv", csv_bytes)])
    assert loaded.sources == ["r.csv", "r.csv (2)"]
    assert loaded.log["run_id"].nunique() == 6


def test_read_log_reports_instead_of_raising():
    log, error = runs.read_log("x.csv", b"")
    assert log is None and "not a readable CSV" in error
    log, error = runs.read_log("x.csv", b"\xff\xfe\x00\x01")
    assert log is None and error


def test_default_target_is_reached_by_every_run(csv_bytes):
    log = runs.load_logs([("r.csv", csv_bytes)]).log
    target = runs.default_target(log)
    best = log.groupby("run_id")["train_loss"].min()
    assert (best <= target).all() and target < 1.2 * best.max()


def test_one_file_gets_exactly_the_home_page_figure(csv_bytes):
    log = runs.load_logs([("r.csv", csv_bytes)]).log
    home = charts.loss_panels(read_log_csv(io.BytesIO(csv_bytes)), log_y=True)
    assert runs.overlay(charts.loss_panels, log, log_y=True).to_dict() == home.to_dict()
