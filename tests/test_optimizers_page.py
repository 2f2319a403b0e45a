"""The optimizers & learning-rate page (AppTest) and its helpers in gd_core/science/lr_sweep.py."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from gd_core import build_dataset, make_dataset, make_problem, run_experiment
from gd_core.science.lr_sweep import (
    VARIANTS,
    classify_lr_curves,
    combine_variants,
    final_level,
    lr_grid,
    stability_config,
    stable_lr_limit,
    sweep_summary,
    variant_configs,
)
from ui.optimizer_charts import UPDATE_RULES_LATEX, formula_rows, lr_colors

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "3_Optimizers_and_learning_rate.py")


LAZY = ("opt_open_sweep", "opt_open_limit")  # the expanders of the lr sweep and of the 2/λ_max section


@pytest.fixture(scope="module")
def at() -> AppTest:
    """The page with its lazy sections opened (what a click on each expander does)."""
    app = AppTest.from_file(PAGE, default_timeout=60)
    for key in LAZY:
        app.session_state[key] = True
    return app.run()


def test_first_run_draws_the_curves_alone_and_each_lazy_section_once_opened():
    app = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not app.exception
    (curves,) = figures(app)
    assert "B=32" in curves["layout"]["title"]["text"] and "lim_run" not in [b.key for b in app.button]
    app.session_state["opt_open_sweep"] = True
    app.run()
    assert not app.exception
    assert [len(f["data"]) for f in figures(app)[1:]] == [7]  # the sweep's seven learning rates
    app.session_state["opt_open_limit"] = True
    app.run()
    assert not app.exception
    assert [t["name"] for t in figures(app)[2]["data"]] == ["converges", "diverges"]
    assert any("λ_max" in c.value for c in app.caption)


def figures(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_page_runs_and_draws_three_charts(at):
    assert not at.exception
    curves, sweep, limit = figures(at)
    assert [t["name"].split(" ")[0] for t in curves["data"]] == list(VARIANTS)
    assert "B=32" in curves["layout"]["title"]["text"]
    assert curves["layout"]["yaxis"]["type"] == "log"
    assert len({t["line"]["color"] for t in curves["data"]}) == len(VARIANTS)
    assert len(sweep["data"]) == 7
    verdicts = {t["name"].split(": ")[1].split(" (")[0] for t in sweep["data"]}
    assert verdicts <= {"too low", "good", "too high"} and "good" in verdicts
    assert limit["layout"]["xaxis"]["type"] == "log"
    assert [t["name"] for t in limit["data"]] == ["converges", "diverges"]
    assert any(s["type"] == "line" and s["x0"] == s["x1"] for s in limit["layout"]["shapes"])
    assert not at.latex  # the formulas are drawn once their expander is opened (no KaTeX on the first paint)
    for chart in (curves, sweep, limit):  # log axes label every tick in full
        assert chart["layout"]["yaxis"]["tickformat"] == "~g"


def test_formulas_drawn_once_opened():
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.session_state["opt_formulas"] = True  # what a click on the expander does
    at.run()
    assert not at.exception
    assert len(at.latex) == len(VARIANTS)
    # the formula grid: one row of columns per three rules, so each row's formulas start level
    def blocks(node):
        for child in getattr(node, "children", {}).values():
            yield child
            yield from blocks(child)

    rows = [b for b in blocks(at.main) if b.type in ("horizontal", "flex_container")
            and any(e.type == "latex" for c in b.children.values() for e in c.children.values())]
    assert [[e.value.strip("$\n") for c in r.children.values() for e in c.children.values() if e.type == "latex"]
            for r in rows] == [[UPDATE_RULES_LATEX[v] for v in row] for row in formula_rows(VARIANTS)]
    assert formula_rows(VARIANTS) == [list(VARIANTS)[:3], list(VARIANTS)[3:]]


def test_submitting_the_form_reruns_with_the_new_setup(at):
    at.selectbox(key="opt_problem").set_value("softmax")
    at.select_slider(key="opt_batch").set_value(128)
    at.selectbox(key="sweep_variant").set_value("adam")
    at.button(key="opt_run").click().run()
    assert not at.exception
    curves, sweep, _ = figures(at)
    assert "B=128" in curves["layout"]["title"]["text"]
    assert sweep["layout"]["title"]["text"].startswith("adam, batch size B=128")


def test_stable_lr_limit_is_two_over_the_largest_eigenvalue():
    ds = make_dataset("linear", 300, 4, condition_number=30.0, seed=3)
    X = ds.X_train
    A = np.hstack([X, np.ones((len(X), 1))])
    lam_max = np.linalg.eigvalsh(A.T @ A / len(X)).max()
    assert stable_lr_limit(make_problem("least_squares", 4), X) == pytest.approx(2 / lam_max, rel=1e-10)


@pytest.mark.parametrize("kappa", [1.0, 100.0])
def test_full_batch_gd_converges_below_the_limit_and_diverges_above(kappa):
    cfg = stability_config(n_features=5, condition_number=kappa, steps=300)
    limit = stable_lr_limit(make_problem("least_squares", 5), build_dataset(cfg).X_train)
    summary = sweep_summary(run_experiment(cfg.replace(lrs=(0.9 * limit, 1.1 * limit))).log)
    below, above = summary.iloc[0], summary.iloc[1]
    assert not below["diverged"] and below["final_loss"] < 0.5 * below["initial_loss"]
    assert above["diverged"] and above["verdict"] == "too high"


def test_sweep_labels_a_diverging_lr_too_high_and_a_tiny_lr_too_low():
    base = stability_config(n_features=3, steps=200).replace(batch_sizes=(16,), budget_unit="epochs", budget=2.0)
    limit = stable_lr_limit(make_problem("least_squares", 3), build_dataset(base).X_train)
    log = run_experiment(base.replace(lrs=(1e-4 * limit, 0.3 * limit, 5 * limit))).log
    verdicts = list(classify_lr_curves(log).values())
    assert verdicts == ["too low", "good", "too high"]


def _fake_sweep(curves: dict[float, list[float]], diverged=()) -> pd.DataFrame:
    return pd.DataFrame([{"base_lr": lr, "seed": 0, "step": i, "train_loss": v, "diverged": lr in diverged}
                         for lr, vals in curves.items() for i, v in enumerate(vals)])


def test_classifier_rule_on_hand_made_curves():
    log = _fake_sweep({1e-3: [1.0, 0.9], 1e-2: [1.0, 0.2], 1e-1: [1.0, 0.1], 1.0: [1.0, 0.6],
                       10.0: [1.0, 3.0], 100.0: [1.0, 0.5]}, diverged=(100.0,))
    assert classify_lr_curves(log) == {1e-3: "too low", 1e-2: "good", 1e-1: "good", 1.0: "too high",
                                       10.0: "too high", 100.0: "too high"}


def test_verdict_reads_the_final_level_not_one_noisy_final_point():
    # 21 checkpoints: the run settled at 0.2 (as good as the best) but its last point bounced to 0.7. Read at
    # the last point alone it fell 0.3 of the best's 0.8: "too high"; its last 10% of steps says 0.21: "good"
    bouncy = [1.0, *np.linspace(0.9, 0.2, 17), 0.2, 0.21, 0.7]
    log = _fake_sweep({1e-2: [1.0, *np.linspace(0.9, 0.2, 20)], 1e-1: bouncy})
    assert classify_lr_curves(log) == {1e-2: "good", 1e-1: "good"}
    assert final_level(np.arange(21), np.array(bouncy)) == pytest.approx(0.21)  # median of steps 18, 19, 20
    assert final_level(np.arange(3), np.array([1.0, 0.5, np.nan])) == np.inf  # blew up at the end
    assert final_level(np.array([0, 5]), np.array([1.0, 0.4])) == 0.4  # the last checkpoint at least


def test_variant_configs_map_to_the_engine_optimizers():
    cfgs = variant_configs(stability_config(), {"nesterov": 0.01, "adam": 0.001})
    assert (cfgs["nesterov"].optimizer, cfgs["nesterov"].momentum, cfgs["nesterov"].nesterov) == ("sgd", 0.9, True)
    assert cfgs["adam"].optimizer == "adam" and cfgs["adam"].lrs == (0.001,)
    logs = {v: pd.DataFrame({"step": [0]}) for v in ("adam", "sgd")}
    assert list(combine_variants(logs)["variant"]) == ["adam", "sgd"]


def test_lr_grid_and_colours():
    grid = lr_grid(0.1, 4.0, 7)
    assert len(grid) == 7 and grid[0] == pytest.approx(1e-3) and grid[-1] == pytest.approx(10.0)
    assert len(set(lr_colors(grid).values())) == 7
