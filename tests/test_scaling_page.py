"""The batch-size scaling page in AppTest: it runs, draws its charts, and a widget change + Run changes the result."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "5_Batch_size_scaling.py")
KEYS = ["noise_curve", "noise_training", "sweep_steps", "sweep_lr", "rules_chart", "smith_chart"]
LAZY = ("open_noise_training", "open_sweep_lr", "open_rules", "open_smith")  # drawn once opened


@pytest.fixture(scope="module")
def at() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for key in LAZY:  # every lazy chart and section opened (what a click on each expander does)
        at.session_state[key] = True
    return at.run()


def test_sections_3_and_4_are_computed_once_opened():
    """First paint: two charts; the learning-rate rules and decay-vs-grow sections run when opened."""
    cold = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not cold.exception
    assert len(cold.get("plotly_chart")) == 2
    assert {"rules_ref_b", "smith_b"}.isdisjoint(w.key for w in cold.select_slider)  # their forms not drawn
    cold.session_state["open_smith"] = True
    cold.run()
    assert len(cold.get("plotly_chart")) == 3
    assert "smith_b" in {w.key for w in cold.select_slider}


def test_second_charts_of_sections_1_and_2_are_drawn_once_opened():
    cold = AppTest.from_file(PAGE, default_timeout=120).run()
    noise, steps = figures(cold)
    assert noise["layout"]["xaxis"]["type"] == "log" and any(n["name"].startswith("fit S_min") for n in steps["data"])
    cold.session_state["open_noise_training"] = True
    cold.run()
    assert not cold.exception
    assert len(figures(cold)) == 3 and figures(cold)[1]["layout"]["title"]["text"] == "Noise scale during training"
    cold.session_state["open_sweep_lr"] = True
    cold.run()
    assert not cold.exception
    assert figures(cold)[3]["layout"]["title"]["text"].startswith("Tuned learning rate per batch size")


def figures(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label))


def test_page_runs_and_draws_every_chart(at):
    assert not at.exception
    figs = figures(at)
    assert len(figs) == len(KEYS)
    noise, _, steps, lr, rules, smith = figs
    assert noise["layout"]["xaxis"]["type"] == "log" and noise["layout"]["yaxis"]["type"] == "log"
    assert any(t["name"].startswith("predicted") for t in noise["data"])
    assert steps["layout"]["xaxis"]["type"] == "log" and steps["layout"]["yaxis"]["type"] == "log"
    names = [t["name"] for t in steps["data"]]
    assert any(n.startswith("fit S_min") for n in names) and any(n.startswith("perfect") for n in names)
    assert {t["name"] for t in rules["data"]} >= {"fixed lr", "linear + warmup", "sqrt"}
    assert {t["name"] for t in smith["data"]} == {"decay lr", "grow batch"}
    b_crit, b_simple = float(metric(at, "B_crit")), float(metric(at, "B_simple at the target"))
    assert 1 / 3 < b_crit / b_simple < 3


def test_changing_the_lr_grid_and_running_changes_the_fit(at):
    before = metric(at, "B_crit")
    at.select_slider(key="sweep_lrs").set_value(6)
    at.button(key="sweep_run").click().run()
    assert not at.exception
    assert metric(at, "B_crit") != before


def test_an_oversized_sweep_is_refused_before_it_starts(at):
    at.select_slider(key="sweep_lrs").set_value(16)
    at.select_slider(key="sweep_epochs").set_value(100)
    at.button(key="sweep_run").click().run()
    assert not at.exception
    assert any("work budget" in w.value and "Try" in w.value for w in at.warning)
    assert len(at.get("plotly_chart")) == len(KEYS) - 2  # no steps-to-target charts (the lazy ones opened)
