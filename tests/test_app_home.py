"""The home page under AppTest: default run, charts, form submit, share-link URL state, presets, target, and the
lazy parts of the first paint (the form's closed sections with their caption, the metric grid on request)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from gd_core import ExperimentConfig
from ui.colors import batch_size_color, batch_size_label
from ui.presets import PRESETS
from ui.text import md_unescape

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


def summary(at) -> pd.DataFrame:
    """The summary, shown as a Markdown table (not st.table / st.dataframe: see app.py), read back: '–' is NaN."""
    text = next(m.value for m in at.markdown if m.value.startswith("| run |"))  # scrolls by a style rule
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in text.splitlines()
            if line.startswith("|")]
    assert set(rows[1]) <= {"---", "---:"}
    df = pd.DataFrame(rows[2:], columns=rows[0]).replace("–", np.nan)
    for col in df.columns:
        try:
            df[col] = pd.to_numeric(df[col].str.replace(",", ""))
        except ValueError:  # a text column
            pass
    return df


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


def problem_caption(at) -> str:
    return next(c.value for c in at.caption if "open *Problem and data* to change" in c.value)


def test_default_experiment_is_computed_and_charted(home):
    assert not home.warning and not home.error
    specs = charts(home)
    assert len(specs) == 1  # the loss panels; the metric grid is drawn on request
    expected = [batch_size_label(b, 800) for b in (1, 32, 256, 800)]
    assert legend_names(specs[0]) == expected == ["SGD (B=1)", "B=32", "B=256", "full batch (B=800)"]
    lines = [t for t in specs[0]["data"] if t.get("showlegend", True)]
    assert [t["line"]["color"] for t in lines] == [batch_size_color(b, 800) for b in (1, 32, 256, 800)]
    assert all(t["type"] == "scatter" for s in specs for t in s["data"])
    assert summary(home)["run"].tolist() == expected
    assert home.session_state["home_config"] == ExperimentConfig()
    assert share_link(home) == "?"  # the defaults: an empty share link
    assert {b.key for b in home.get("download_button")} == {"dl_log", "dl_summary", "dl_config"}
    rules = [m.value for m in home.markdown if "w ← w − η ∇L(w;" in m.value]  # the three update loops
    assert len(rules) == 1 and "all N examples" in rules[0] and "B = 1" in rules[0]
    assert not home.latex  # Markdown, not KaTeX, on the first paint
    assert problem_caption(home).startswith(
        "**softmax** on **blobs** · 1,000 examples · 2 features · 3 classes · noise 0.5 · 20% validation")


def test_no_markdown_carries_html(home):
    """Markdown with HTML in it (unsafe_allow_html) makes a cold browser load a 190 KB parser before the chart."""
    assert home.markdown and not any(m.proto.allow_html for m in home.markdown)


def test_log_y_is_a_chart_button_and_view_state_picks_the_start(home):
    """Log / linear y switch in the browser (the chart's buttons, no rerun); `view_log_y` (a preset's view) only
    picks the axis the chart starts with."""
    layout = charts(home)[0]["layout"]
    assert layout["yaxis"].get("type") != "log"
    scale = next(m for m in layout["updatemenus"] if m["name"] == "scale")
    assert [b["args"][0]["yaxis.type"] for b in scale["buttons"]] == ["linear", "log"]
    assert not home.get("toggle") or "view_log_y" not in {t.key for t in home.get("toggle")}
    home.session_state["view_log_y"] = True
    home.run()
    assert charts(home)[0]["layout"]["yaxis"]["type"] == "log"
    home.session_state["view_log_y"] = False
    home.run()


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
    at.multiselect(key="cfg_batch_sizes").set_value(["0"])  # (a size above N runs as full batch: issue 17)
    submit(at)
    assert not at.exception
    assert 'batch_size must be an integer >= 1 or "full"; got 0' in md_unescape(at.error[0].value)
    assert summary(at)["run"].tolist()[0] == "SGD (B=1)"  # the last good results stay
    assert len(charts(at)) == 1


def test_query_params_are_honoured():
    at = start(problem="logistic", n_classes="2", batch_sizes="4,full", lrs="0.2")
    assert not at.exception and not at.warning
    assert at.session_state["home_config"] == ExperimentConfig(problem="logistic", n_classes=2,
                                                               batch_sizes=(4, "full"), lrs=(0.2,))
    assert problem_caption(at).startswith("**logistic** on **blobs** · 1,000 examples · 2 features · noise 0.5")
    set_open(at, "exp_problem", True)
    assert at.selectbox(key="cfg_problem").value == "logistic"  # the form shows the link's config
    assert legend_names(charts(at)[0]) == ["B=4", "full batch (B=800)"]


@pytest.mark.parametrize("query, field", [({"lrs": "-1"}, "lrs"), ({"batch_sizes": "0"}, "batch_size"),
                                          ({"csv_path": "/etc/passwd", "dataset": "csv"}, "csv_path")])
def test_bad_query_param_warns_and_falls_back(query, field):
    at = start(**query)
    assert not at.exception
    assert at.warning and field in md_unescape(at.warning[0].value)
    assert len(charts(at)) == 1  # the defaults ran


def test_preset_sets_every_control_and_the_link():
    at = start()
    at.selectbox(key="cfg_preset").set_value("ill_conditioned").run()
    assert not at.exception
    cfg = PRESETS["ill_conditioned"].config
    assert at.session_state["home_config"] == cfg
    assert problem_caption(at).startswith("**least_squares** on **linear** · 1,000 examples · 10 features · "
                                          "noise 0.1 · condition number 100 · 20% validation")
    set_open(at, "exp_problem", True)
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
    assert at.session_state["exp_problem"] is True  # an upload opens "Problem and data": the target is picked there
    at.selectbox(key="cfg_dataset").set_value("csv")
    at.selectbox(key="cfg_target").set_value("label")
    at.multiselect(key="cfg_batch_sizes").set_value(["4", "full"])
    submit(at)
    assert not at.exception and not at.error
    assert summary(at)["run"].tolist() == ["B=4", "full batch (B=48)"]
    assert "on **your CSV** · target `label`" in problem_caption(at)
    at.file_uploader(key="cfg_csv_file").set_value(("bad.csv", b"a,a\n1,2\n", "text/csv")).run()
    assert not at.exception and at.error and "CSV" in at.error[0].value


@pytest.mark.parametrize("key", list(PRESETS))
def test_every_preset_round_trips_through_the_form_and_the_link(key):
    from ui.form_state import config_from_state, config_to_state
    from ui.share import read_query

    cfg = PRESETS[key].config
    assert config_from_state(config_to_state(cfg)) == cfg
    assert read_query(cfg.to_query()) == (cfg, [])


# -- the form's lazy expanders: widgets drawn only once opened, values kept in `_saved_cfg_*` ------------------

WIDGET_TYPES = ("number_input", "selectbox", "checkbox", "radio", "text_input", "multiselect", "select_slider")


def drawn_form_keys(at) -> set[str]:
    from ui.form_state import FORM_KEYS

    return {w.key for t in WIDGET_TYPES for w in at.get(t)} & set(FORM_KEYS)


def set_open(at, expander: str, is_open: bool, forget: bool = False):
    """Open or close a lazy expander (what a click does). `forget`: also drop the session's memory that it was
    opened, so that its widgets are really not drawn while closed (the saved values must carry them)."""
    at.session_state[expander] = is_open
    if forget:
        del at.session_state[f"_opened_{expander}"]
    return at.run()


def test_closed_expanders_draw_no_widgets_and_each_draws_its_keys_once_opened():
    from ui.form_state import ALWAYS_KEYS, FORM_KEYS, SECTION_KEYS

    at = start()
    assert drawn_form_keys(at) == set(ALWAYS_KEYS) == {"cfg_batch_sizes", "cfg_lr"}  # a cold page: all closed
    assert [e.label for e in at.expander] == ["Problem and data", "Optimizer", "Schedule and batch-size scaling",
                                              "Budget, sampling, seeds", "Advanced"]
    drawn = set(ALWAYS_KEYS)
    for expander, keys in SECTION_KEYS.items():
        set_open(at, expander, True)
        assert not at.exception
        assert drawn_form_keys(at) - drawn == set(keys), expander
        drawn |= set(keys)
    assert drawn == set(FORM_KEYS)


@pytest.mark.parametrize("forget", [False, True], ids=["closed", "closed-not-drawn"])
def test_value_edited_in_an_expander_survives_closing_it(forget):
    at = start()
    set_open(at, "exp_budget", True)
    set_open(at, "exp_optimizer", True)
    at.number_input(key="cfg_n_seeds").set_value(2)
    at.number_input(key="cfg_momentum").set_value(0.9)
    submit(at)
    expected = ExperimentConfig(seeds=(0, 1), momentum=0.9)
    assert at.session_state["home_config"] == expected
    set_open(at, "exp_budget", False, forget)
    set_open(at, "exp_optimizer", False, forget)
    assert ("cfg_n_seeds" in drawn_form_keys(at)) is not forget
    submit(at)  # Run again with both closed
    assert not at.exception and not at.error
    assert at.session_state["home_config"] == expected
    assert share_link(at) == "?momentum=0.9&seeds=0%2C1"
    assert dict(at.query_params) == {"momentum": "0.9", "seeds": "0,1"}
    assert set(summary(at)["seed"].astype(int)) == {0, 1} and len(summary(at)) == 8
    set_open(at, "exp_optimizer", True)  # reopened: the widget shows the kept value
    assert at.number_input(key="cfg_momentum").value == 0.9


def test_sidebar_links_every_page_and_names_the_home_page_home():
    """The automatic navigation is off (.streamlit/config.toml): it named the home page "app", after its file.
    ui/nav.py links every file of pages/ and the home page as "Home"; the links work from another page too."""
    root = Path(APP).parent
    config = (root / ".streamlit" / "config.toml").read_text()
    assert "showSidebarNavigation = false" in config
    at = start()
    links = at.get("page_link")
    assert [link.proto.label for link in links][0] == "Home"
    pages = {link.proto.page_script_hash for link in links[1:]}
    assert len(links) == 1 + len(list((root / "pages").glob("*.py"))) == 1 + len(pages)
    at.switch_page("pages/4_Runs.py").run()
    assert not at.exception
    assert [link.proto.label for link in at.get("page_link")] == [link.proto.label for link in links]


def test_values_survive_another_page():
    at = start()
    set_open(at, "exp_advanced", True)
    at.number_input(key="cfg_data_seed").set_value(7)
    submit(at)
    at.switch_page("pages/2_Gradient_check.py").run()  # its run drops the home page's widget state
    assert not at.exception
    at.switch_page("app.py").run()
    assert at.number_input(key="cfg_data_seed").value == 7
    submit(at)
    assert at.session_state["home_config"] == ExperimentConfig(data_seed=7)


def test_preset_applied_while_expanders_are_closed():
    at = start()
    set_open(at, "exp_optimizer", True)
    at.number_input(key="cfg_momentum").set_value(0.9)
    submit(at)
    set_open(at, "exp_optimizer", False, forget=True)
    at.selectbox(key="cfg_preset").set_value("noisy_labels").run()  # optimizer and budget are hidden fields
    cfg = PRESETS["noisy_labels"].config
    assert at.session_state["home_config"] == cfg and cfg.optimizer == "adam" and cfg.momentum == 0.0
    submit(at)  # Run with the expanders still closed keeps the preset exactly
    assert at.session_state["home_config"] == cfg and at.selectbox(key="cfg_preset").value == "noisy_labels"
    set_open(at, "exp_optimizer", True)
    set_open(at, "exp_budget", True)
    assert at.selectbox(key="cfg_optimizer").value == "adam"
    assert at.number_input(key="cfg_momentum").value == 0.0  # not the 0.9 edited before the preset
    assert at.number_input(key="cfg_budget").value == cfg.budget == 300.0
    submit(at)
    assert at.session_state["home_config"] == cfg


def test_share_link_with_hidden_fields_loads_them():
    query = dict(optimizer="rmsprop", momentum="0.5", seeds="3,4", schedule="cosine", dtype="float32",
                 n_checkpoints="40")
    at = start(**query)
    cfg = ExperimentConfig(optimizer="rmsprop", momentum=0.5, seeds=(3, 4), schedule="cosine", dtype="float32",
                           n_checkpoints=40)
    assert not at.exception and not at.warning
    assert at.session_state["home_config"] == cfg
    assert drawn_form_keys(at).isdisjoint({"cfg_optimizer", "cfg_n_seeds", "cfg_dtype", "cfg_problem"})  # closed
    submit(at)  # Run without opening anything: the link's hidden fields stay
    assert at.session_state["home_config"] == cfg
    assert dict(at.query_params) == query
    for expander in ("exp_problem", "exp_optimizer", "exp_schedule", "exp_budget", "exp_advanced"):
        set_open(at, expander, True)
    assert at.selectbox(key="cfg_optimizer").value == "rmsprop"
    assert at.number_input(key="cfg_momentum").value == 0.5
    assert at.number_input(key="cfg_n_seeds").value == 2 and at.number_input(key="cfg_first_seed").value == 3
    assert at.selectbox(key="cfg_schedule").value == "cosine" and at.selectbox(key="cfg_dtype").value == "float32"
    submit(at)
    assert at.session_state["home_config"] == cfg


# -- "Problem and data" closed and lazy, with a caption that says what it holds ------------------------------

def test_problem_caption_follows_a_preset_a_link_and_a_run_with_the_section_closed():
    at = start(problem="mlp", dataset="spiral", n_samples="600", hidden="64", label_noise="0.3", reg="0.01")
    assert not at.exception and not at.warning
    assert problem_caption(at).startswith("**mlp** (64 hidden units) on **spiral** · 600 examples · 2 features · "
                                          "3 classes · noise 0.5 · 30% label noise · L2 0.01 · 20% validation")
    at.selectbox(key="cfg_preset").set_value("redundant").run()
    assert problem_caption(at).startswith("**softmax** on **blobs** · 2,500 examples · 2 features · 3 classes · "
                                          "noise 0.5 · 10 unique · 20% validation")
    set_open(at, "exp_problem", True)
    at.number_input(key="cfg_n_features").set_value(5)
    at.selectbox(key="cfg_dataset").set_value("moons")
    assert "2 features" in problem_caption(at)  # not run yet: the caption states what is being run
    submit(at)
    set_open(at, "exp_problem", False, forget=True)  # closed, its widgets not drawn
    assert "cfg_n_features" not in drawn_form_keys(at)
    assert problem_caption(at).startswith("**softmax** on **moons** · 2,500 examples · 5 features")
    submit(at)  # Run with the section closed: nothing is lost
    assert at.session_state["home_config"] == PRESETS["redundant"].config.replace(dataset="moons", n_features=5)
    assert dict(at.query_params) == {"n_samples": "2500", "n_unique": "10", "budget": "5.0", "dataset": "moons",
                                     "n_features": "5"}


@pytest.mark.parametrize("values, expected", [
    (dict(problem="least_squares", dataset="linear", n_features=1, condition_number=1.0, val_fraction=0.0),
     "**least_squares** on **linear** · 1,000 examples · 1 feature · noise 0.5 · 0% validation"),
    (dict(problem="logistic", dataset="csv", target=None), "**logistic** on **your CSV** · no target yet · "
     "20% validation"),
])
def test_problem_summary(values, expected):
    from ui.controls import problem_summary
    from ui.form_state import config_to_state

    state = config_to_state(ExperimentConfig())
    state.update({f"cfg_{k}": v for k, v in values.items()})
    assert problem_summary(state) == expected


# -- the metric grid, drawn on request ------------------------------------------------------------------------

def test_metric_grid_on_request_and_kept_across_run():
    at = start()
    assert [c.key for c in at.get("plotly_chart")] == ["chart_loss"]
    assert "view_metric_x" not in {w.key for w in at.selectbox}
    at.toggle(key="view_metrics").set_value(True).run()
    assert [c.key for c in at.get("plotly_chart")] == ["chart_loss", "chart_metrics"]
    grid = charts(at)[1]
    assert [a["text"] for a in grid["layout"]["annotations"]] == [
        "validation loss", "validation accuracy", "gradient norm |grad L|"]
    assert grid["layout"]["xaxis"]["title"]["text"] == "epochs (equal data)"
    at.selectbox(key="view_metric_x").set_value("step").run()
    assert charts(at)[1]["layout"]["xaxis"]["title"]["text"] == "updates (equal steps)"
    at.multiselect(key="cfg_batch_sizes").set_value(["8", "full"])
    submit(at)  # a new experiment: the grid stays, on the same x axis
    assert not at.exception and at.toggle(key="view_metrics").value
    assert legend_names(charts(at)[1]) == ["B=8", "full batch (B=800)"]
    assert charts(at)[1]["layout"]["xaxis"]["title"]["text"] == "updates (equal steps)"
    at.toggle(key="view_metrics").set_value(False).run()
    assert len(charts(at)) == 1
    at.toggle(key="view_metrics").set_value(True).run()  # hidden and shown again: its x axis is kept
    assert at.selectbox(key="view_metric_x").value == "step"


def test_batch_size_picker_labels_read_back_as_sizes():
    from ui.form_state import batch_size_label, batch_size_value

    for size in ["1", "32", "4096", "full"]:
        assert batch_size_value(batch_size_label(size)) == size
    assert [batch_size_value(t) for t in ["12", " B = 7 ", "B=64", "full", "abc", "C = 3"]] == [
        "12", "7", "64", "full", "abc", "C = 3"]


def test_the_form_is_sent_after_the_loss_chart_of_a_stored_run_and_before_a_computation(monkeypatch):
    """First paint: when the run is stored, the sidebar's form is drawn after the loss chart (a cold browser
    renders its widgets while it fetches the chart's code); before a run to compute, it is drawn first, usable
    while the run computes; a CSV config without its file draws it too. Always in its place under the upload."""
    import streamlit as st

    from ui import cache, controls
    order, form, chart = [], controls.experiment_form, st.plotly_chart
    monkeypatch.setattr(controls, "experiment_form", lambda *a, **k: order.append("form") or form(*a, **k))
    monkeypatch.setattr(st, "plotly_chart", lambda *a, **k: order.append("chart") or chart(*a, **k))

    def session(**state):
        order.clear()
        at = AppTest.from_file(APP, default_timeout=60)
        for k, v in state.items():
            at.session_state[k] = v
        at.run()
        assert not at.exception
        kinds = [type(e).__name__ for e in at.sidebar.children.values()]
        assert kinds[-4:] == ["Selectbox", "FileUploader", "Block", "Caption"]
        assert at.sidebar.children[len(kinds) - 2].button  # the form's Run button, in its place
        return at, list(order)

    cache._store.clear()
    assert session()[1] == ["form", "chart"]  # computed now
    assert session()[1] == ["chart", "form"]  # a second session: stored
    at, sent = session(home_config=ExperimentConfig(dataset="csv", target="y"), home_messages=[], home_error=None)
    assert sent == ["form"] and at.warning  # "upload a CSV"
