"""The home page under AppTest: default run, charts, form submit, share-link URL state, presets, target."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gd_core import ExperimentConfig
from ui.colors import batch_size_color, batch_size_label
from ui.presets import PRESETS

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def start(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def charts(at):
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def legend_names(spec):
    return [t["name"] for t in spec["data"] if t.get("showlegend", True)]


def summary(at):
    return at.table[0].value  # st.table (a small static table), not st.dataframe


def share_link(at):
    """The share link, shown as inline code (st.markdown, not st.code: see app.py)."""
    return next(m.value for m in at.markdown if m.value.startswith("`?")).strip("`")


def submit(at):
    return at.get("form_submit_button")[0].click().run()


@pytest.fixture(scope="module")
def home():
    at = start()
    assert not at.exception
    return at


def test_default_experiment_is_computed_and_charted(home):
    assert not home.warning and not home.error
    specs = charts(home)
    assert len(specs) == 2
    expected = [batch_size_label(b, 800) for b in (1, 32, 256, 800)]
    assert legend_names(specs[0]) == expected == ["SGD (B=1)", "B=32", "B=256", "full batch (B=800)"]
    lines = [t for t in specs[0]["data"] if t.get("showlegend", True)]
    assert [t["line"]["color"] for t in lines] == [batch_size_color(b, 800) for b in (1, 32, 256, 800)]
    assert all(t["type"] == "scatter" for s in specs for t in s["data"])
    assert summary(home)["run"].tolist() == expected
    assert home.session_state["home_config"] == ExperimentConfig()
    assert share_link(home) == "?"  # the defaults: an empty share link
    assert {b.key for b in home.get("download_button")} == {"dl_log", "dl_summary", "dl_config"}
    assert "B = 1" in home.latex[0].value  # the three update loops


def test_log_y_toggle_restyles(home):
    assert charts(home)[0]["layout"]["yaxis"].get("type") != "log"
    home.toggle(key="view_log_y").set_value(True).run()
    assert charts(home)[0]["layout"]["yaxis"]["type"] == "log"
    home.toggle(key="view_log_y").set_value(False).run()


def test_target_loss_updates_the_summary_without_rerun(home):
    before = summary(home)["steps to target"]
    home.number_input(key="view_target_loss").set_value(0.47).run()
    after = summary(home)
    assert (after["steps to target"].fillna(-1) != before.fillna(-1)).any()
    assert after["steps to target"].isna().sum() == 2  # only SGD and B=32 get below 0.47 in 10 epochs
    home.number_input(key="view_target_loss").set_value(5.0).run()
    assert summary(home)["steps to target"].eq(0).all()


def test_form_applies_on_run_and_writes_the_share_link():
    at = start()
    before = summary(at)
    at.multiselect(key="cfg_batch_sizes").set_value(["8", "full"])
    at.run()  # not submitted: nothing changes
    assert summary(at)["run"].tolist() == before["run"].tolist()
    assert at.session_state["home_config"] == ExperimentConfig()
    at.multiselect(key="cfg_batch_sizes").set_value(["8", "full"])
    at.select_slider(key="cfg_lr").set_value(0.2)
    submit(at)
    assert not at.exception and not at.error
    after = summary(at)
    assert after["run"].tolist() == ["B=8", "full batch (B=800)"]
    assert after["final train loss"].iloc[-1] != before["final train loss"].iloc[-1]
    assert dict(at.query_params) == {"batch_sizes": "8,full", "lrs": "0.2"}
    assert share_link(at) == "?lrs=0.2&batch_sizes=8%2Cfull"


def test_bad_form_value_keeps_last_results_and_names_the_field():
    at = start()
    at.multiselect(key="cfg_batch_sizes").set_value(["5000"])
    submit(at)
    assert not at.exception
    assert "batch_size must be in [1, 800]" in at.error[0].value
    assert summary(at)["run"].tolist()[0] == "SGD (B=1)"  # the last good results stay
    assert len(charts(at)) == 2


def test_query_params_are_honoured():
    at = start(problem="logistic", n_classes="2", batch_sizes="4,full", lrs="0.2")
    assert not at.exception and not at.warning
    assert at.session_state["home_config"] == ExperimentConfig(problem="logistic", n_classes=2,
                                                               batch_sizes=(4, "full"), lrs=(0.2,))
    assert at.selectbox(key="cfg_problem").value == "logistic"  # the form shows the link's config
    assert legend_names(charts(at)[0]) == ["B=4", "full batch (B=800)"]


@pytest.mark.parametrize("query, field", [({"lrs": "-1"}, "lrs"), ({"batch_sizes": "0"}, "batch_size"),
                                          ({"csv_path": "/etc/passwd", "dataset": "csv"}, "csv_path")])
def test_bad_query_param_warns_and_falls_back(query, field):
    at = start(**query)
    assert not at.exception
    assert at.warning and field in at.warning[0].value
    assert len(charts(at)) == 2  # the defaults ran


def test_preset_sets_every_control_and_the_link():
    at = start()
    at.selectbox(key="cfg_preset").set_value("ill_conditioned").run()
    assert not at.exception
    cfg = PRESETS["ill_conditioned"].config
    assert at.session_state["home_config"] == cfg
    assert at.selectbox(key="cfg_problem").value == "least_squares"
    assert at.number_input(key="cfg_condition_number").value == 100.0
    assert at.select_slider(key="cfg_lr").value == 0.015
    assert at.query_params["condition_number"] == "100.0"
    assert "diverged" in summary(at)["status"].tolist()
    assert any(t.get("marker", {}).get("symbol") == "x" for t in charts(at)[0]["data"])
    # pressing Run without changes keeps the preset's config (the form round-trips it exactly)
    submit(at)
    assert at.session_state["home_config"] == cfg and at.selectbox(key="cfg_preset").value == "ill_conditioned"


def test_csv_upload_runs_and_bad_csv_is_an_error_not_a_traceback():
    rows = "\n".join(f"{i % 7},{(i * 3) % 5},{int(i % 7 > 3)}" for i in range(60))
    at = start()
    at.file_uploader(key="cfg_csv_file").set_value(("d.csv", f"a,b,label\n{rows}\n".encode(), "text/csv")).run()
    at.selectbox(key="cfg_dataset").set_value("csv")
    at.selectbox(key="cfg_target").set_value("label")
    at.multiselect(key="cfg_batch_sizes").set_value(["4", "full"])
    submit(at)
    assert not at.exception and not at.error
    assert summary(at)["run"].tolist() == ["B=4", "full batch (B=48)"]
    at.file_uploader(key="cfg_csv_file").set_value(("bad.csv", b"a,a\n1,2\n", "text/csv")).run()
    assert not at.exception and at.error and "CSV" in at.error[0].value


@pytest.mark.parametrize("key", list(PRESETS))
def test_every_preset_round_trips_through_the_form_and_the_link(key):
    from ui.controls import config_from_state, config_to_state
    from ui.share import read_query

    cfg = PRESETS[key].config
    assert config_from_state(config_to_state(cfg)) == cfg
    assert read_query(cfg.to_query()) == (cfg, [])
