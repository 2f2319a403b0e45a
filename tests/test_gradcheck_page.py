"""The gradient-check page (AppTest) and its engine helpers in gd_core/science/gradient_checks.py."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from gd_core import PROBLEMS
from gd_core.problems.gradcheck import classify_rel_error
from gd_core.science.gradient_checks import gradcheck_setup, gradcheck_table, h_sweep, parameter_names, time_gradients
from ui.gradcheck_charts import table_markdown

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "2_Gradient_check.py")


@pytest.fixture(scope="module")
def at() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=60).run()


def figures(at: AppTest) -> dict[str, dict]:
    return {json.loads(c.proto.spec)["layout"]["title"]["text"]: json.loads(c.proto.spec)
            for c in at.get("plotly_chart")}


def by_title(at: AppTest, prefix: str) -> dict:
    return next(f for t, f in figures(at).items() if t.startswith(prefix))


def test_page_runs_and_draws_both_charts(at):
    assert not at.exception
    rel = by_title(at, "Relative error per parameter")
    sweep = by_title(at, "Max relative error vs step h")
    assert rel["layout"]["yaxis"]["type"] == "log"
    assert {s["y0"] for s in rel["layout"]["shapes"]} == {1e-7, 1e-4, 1e-2}
    assert sweep["layout"]["xaxis"]["type"] == "log" and sweep["layout"]["yaxis"]["type"] == "log"
    assert {t["name"] for t in sweep["data"]} == {"float64", "float32"}
    assert len(at.get("metric")) == 3
    assert "softmax" in at.subheader[0].value and "good" in at.subheader[0].value


def test_switching_problem_changes_the_chart(at):
    before = by_title(at, "Relative error per parameter")
    at.selectbox(key="gc_problem").set_value("mlp").run()
    assert not at.exception
    after = by_title(at, "Relative error per parameter")
    xs = [x for t in after["data"] for x in t["x"]]
    assert "W1[0,0]" in xs and "b2[2]" in xs
    assert xs != [x for t in before["data"] for x in t["x"]]
    assert at.subheader[0].value.startswith("mlp")


def test_float32_toggle_turns_the_check_red(at):
    at.selectbox(key="gc_problem").set_value("softmax")
    at.radio(key="gc_dtype").set_value("float32").run()
    assert not at.exception
    assert "float32" in at.subheader[0].value
    names = {t["name"].split(" ")[0] for t in by_title(at, "Relative error per parameter")["data"]}
    assert "good" not in names and names & {"uncomfortable", "wrong"}


@pytest.mark.parametrize(("r", "verdict"), [(0.0, "good"), (3e-8, "good"), (1e-7, "ok"), (5e-5, "ok"),
                                            (1e-3, "uncomfortable"), (1e-2, "wrong"), (0.5, "wrong")])
def test_thresholds_classify_known_relative_errors(r, verdict):
    assert classify_rel_error(r) == verdict


def test_table_verdicts_follow_the_thresholds():
    prob, w, X, y = gradcheck_setup("softmax", 3)
    table = gradcheck_table(prob, w, X, y)
    assert list(table["verdict"]) == [classify_rel_error(r) for r in table["rel_error"]]
    assert (table["verdict"] == "good").all()  # a correct smooth loss in float64


def test_zero_gradient_at_init_is_a_false_alarm():
    # Least squares on centered data: the bias gradient is exactly 0 at b = 0, so round-off / round-off.
    prob, w, X, y = gradcheck_setup("least_squares", 3, point="init")
    table = gradcheck_table(prob, w, X, y).set_index("parameter")
    assert table.loc["b[0]", "verdict"] == "wrong" and abs(table.loc["b[0]", "analytic"]) < 1e-12
    prob, w, X, y = gradcheck_setup("least_squares", 3, point="random")
    assert (gradcheck_table(prob, w, X, y)["verdict"] == "good").all()


@pytest.mark.parametrize("problem", PROBLEMS)
def test_parameter_names_follow_the_flat_layout(problem):
    prob, w, *_ = gradcheck_setup(problem, 2, hidden=3)
    names = parameter_names(prob)
    assert len(names) == prob.n_params == len(set(names))
    first = next(iter(prob.unpack(w)))
    assert names[0] == f"{first}[{','.join(['0'] * prob.unpack(w)[first].ndim)}]"


def test_h_sweep_is_a_v_for_a_smooth_loss():
    prob, w, X, y = gradcheck_setup("softmax", 3)
    err = h_sweep(prob, w, X, y, hs=(1e-1, 1e-5, 1e-12)).set_index("h")["max_rel_error"]
    assert err[1e-1] > 100 * err[1e-5]  # truncation error O(h^2)
    assert err[1e-12] > 100 * err[1e-5]  # round-off ~ eps / h
    assert err[1e-5] < 1e-7


def test_float32_moves_the_bottom_of_the_v_to_larger_h():
    best = {}
    for dtype in ("float64", "float32"):
        prob, w, X, y = gradcheck_setup("softmax", 3, dtype=dtype)
        sweep = h_sweep(prob, w, X, y)
        best[dtype] = sweep.loc[sweep["max_rel_error"].idxmin(), "h"]
    assert best["float32"] > 100 * best["float64"]


def test_quadratic_loss_has_no_truncation_error():
    prob, w, X, y = gradcheck_setup("least_squares", 3)
    assert h_sweep(prob, w, X, y, hs=(1e-1,))["max_rel_error"].iloc[0] < 1e-10


def test_timing_counts_two_loss_evaluations_per_parameter():
    prob, w, X, y = gradcheck_setup("mlp", 3, hidden=8)
    w0 = w.copy()
    t = time_gradients(prob, w, X, y, repeats=2)
    assert t["loss_evaluations"] == 2 * prob.n_params
    assert t["numerical_ms"] > t["analytic_ms"] > 0 and t["ratio"] > 1
    np.testing.assert_array_equal(w, w0)


def test_worst_parameters_are_a_markdown_table(at):
    """No st.dataframe on the first paint (its grid's JavaScript); the worst rows as Markdown, numbers as %.3e."""
    assert not at.get("arrow_data_frame")
    table = next(m.value for m in at.markdown if m.value.startswith("| parameter |"))
    rows = table.splitlines()
    assert len(rows) == 2 + 8 and rows[1].count("---:") == 4
    first = [c.strip() for c in rows[2].strip("|").split("|")]
    assert all("e" in first[i] and len(first[i].split("e")[0].lstrip("-")) == 5 for i in (1, 2, 3, 4)), first
    assert "\\[" in first[0]  # parameter names escaped: W[0,1] is not Markdown link syntax


def test_table_markdown_formats_and_escapes():
    md = table_markdown(pd.DataFrame({"parameter": ["*b*"], "analytic": [1.23456e-7], "numerical": [0.0],
                                      "abs_error": [1.0], "rel_error": [0.5], "verdict": ["good"]}))
    assert md.splitlines()[2] == "| \\*b\\* | 1.235e-07 | 0.000e+00 | 1.000e+00 | 5.000e-01 | good |"
