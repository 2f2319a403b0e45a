"""The Data and model page (decision regions, class templates) and the real datasets on the home page (the dataset
picker, share links, the regression table), under AppTest."""

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from gd_core import ExperimentConfig
from ui.text import md_unescape

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "6_Data_and_model.py")
APP = str(ROOT / "app.py")


def specs(at):
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def heatmaps(spec):
    """The heatmap traces, their z decoded (plotly writes numpy arrays as base64 typed arrays)."""
    return [{**t, "z": array(t["z"])} for t in spec["data"] if t["type"] == "heatmap"]


def array(value) -> np.ndarray:
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        return flat.reshape([int(n) for n in str(shape).split(",")]) if shape else flat
    return np.asarray(value, dtype=float)


@pytest.fixture(scope="module")
def page():
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception and not at.error
    return at


def test_decision_regions_one_panel_per_batch_size(page):
    [spec] = specs(page)
    titles = [a["text"] for a in spec["layout"]["annotations"]]
    assert [t.split(":")[0] for t in titles] == ["SGD (B=1)", "B=32", "full batch (B=480)"]
    assert all("updates, val acc" in t for t in titles)
    regions = heatmaps(spec)
    assert len(regions) == 3 and all(np.shape(h["z"]) == (120, 120) for h in regions)
    final = [np.asarray(h["z"]) for h in regions]
    assert all(set(np.unique(z)) == {0, 1} for z in final)  # moons: both classes get a region
    page.select_slider(key="dm_frame").set_value(0).run()
    start = [np.asarray(h["z"]) for h in heatmaps(specs(page)[0])]
    for a, b in zip(start[1:], start[:-1], strict=True):  # step 0: every run still has the same initial weights
        np.testing.assert_array_equal(a, b)
    assert any((a != b).any() for a, b in zip(start, final, strict=True))
    assert [a["text"].split(":")[1].strip().split(" ")[0] for a in specs(page)[0]["layout"]["annotations"]] == \
        ["0", "0", "0"]  # updates done at the start


def test_templates_one_row_per_batch_size_one_image_per_class(page):
    page.radio(key="dm_kind").set_value("templates").run()
    assert not page.exception and not page.error
    examples, templates = specs(page)
    assert len(heatmaps(examples)) == 10 and all(np.shape(h["z"]) == (8, 8) for h in heatmaps(examples))
    images = heatmaps(templates)
    assert len(images) == 30 and all(np.shape(h["z"]) == (8, 8) for h in images)
    texts = [a["text"] for a in templates["layout"]["annotations"]]
    assert [f"class {d}" for d in range(10)] == texts[:10]
    assert [t.split("<br>")[0] for t in texts[10:]] == ["SGD (B=1)", "B=32", "full batch (B=1438)"]
    for h in images:  # each template on its own symmetric scale
        assert h["zmin"] == -h["zmax"] and h["zmax"] == pytest.approx(np.abs(np.asarray(h["z"])).max())


def test_bad_choices_get_messages_not_tracebacks():
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.selectbox(key="dm_dataset").set_value("blobs")
    at.selectbox(key="dm_regions_problem").set_value("logistic").run()
    assert not at.exception and not at.get("plotly_chart")
    assert "logistic needs exactly 2 classes; got 3 classes in dataset blobs" in md_unescape(at.error[0].value)
    at.slider(key="dm_classes").set_value(2).run()
    assert not at.exception and not at.error and len(specs(at)) == 1
    at.multiselect(key="dm_batch_sizes").set_value([]).run()
    assert not at.exception and "Pick at least one batch size" in at.warning[0].value


def home(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def test_the_dataset_picker_runs_a_real_set_and_the_form_shows_its_sizes():
    at = home()
    at.session_state["exp_problem"] = True
    at.run()
    picker = at.selectbox(key="cfg_dataset")
    assert picker.options == ["linear", "blobs", "spiral", "moons", "circles", "xor", "iris (real, 150 x 4)",
                              "wine (real, 178 x 13)", "breast_cancer (real, 569 x 30)", "digits (real, 1,797 x 64)",
                              "diabetes (real, 442 x 10)", "your CSV"]
    assert "fixes samples, features and classes" in picker.help
    picker.set_value("digits")
    at.multiselect(key="cfg_batch_sizes").set_value(["32", "full"])
    at.get("form_submit_button")[0].click().run()
    assert not at.exception and not at.error
    config = at.session_state["home_config"]
    assert (config.dataset, config.n_samples, config.n_features, config.n_classes) == ("digits", 1797, 64, 10)
    assert at.number_input(key="cfg_n_features").value == 64  # the form now shows the set's sizes
    assert dict(at.query_params) == {"dataset": "digits", "batch_sizes": "32,full"}
    caption = next(c.value for c in at.caption if "open *Problem and data* to change" in c.value)
    assert caption.startswith("**softmax** on the real **digits** set · 1,797 examples · 64 features (8x8 pixels) · "
                              "10 classes")


def test_a_link_to_a_real_set_ignores_a_clashing_size_with_a_warning():
    at = home(dataset="iris", n_samples="30")
    assert not at.exception
    warnings = [md_unescape(w.value) for w in at.warning]
    assert "n_samples is fixed at 150 by the real dataset iris; got '30' (the link's value is ignored)" in warnings
    assert "batch size 256 is larger than the 120 training examples: run as full batch (B=120)" in warnings
    assert at.session_state["home_config"] == ExperimentConfig(dataset="iris", batch_sizes=(1, 32, "full"))


def test_a_regression_on_diabetes_reports_rmse_in_target_units_and_r2():
    at = home(dataset="diabetes", problem="least_squares", batch_sizes="32,full", lrs="0.05")
    assert not at.exception and not at.warning and not at.error
    table = next(m.value for m in at.markdown if m.value.startswith("| run | train RMSE"))
    rows = [line.split("|")[1:-1] for line in table.splitlines()[2:]]
    assert [r[0].strip() for r in rows] == ["B=32", "full batch (B=354)"]
    rmse, r2 = float(rows[0][2]), float(rows[0][4])
    assert 45 < rmse < 70 and 0.3 < r2 < 0.7  # diabetes: RMSE ~54-58 score points, R² ~0.4-0.5
    assert any("in the target's units (disease progression" in c.value for c in at.caption)


def test_the_page_in_korean_draws_its_pictures_in_korean():
    """?lang=ko: the page's own text and its figures' panel titles, axes and legend are Korean; the same pictures
    (one panel per batch size) as in English, on both of its pictures."""
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["lang"] = "ko"
    at.run()
    assert not at.exception and not at.error
    assert at.title[0].value == "데이터와 모델"
    [spec] = specs(at)
    titles = [a["text"] for a in spec["layout"]["annotations"]]
    assert [t.split(":")[0] for t in titles] == ["SGD (B=1)", "B=32", "전체 배치 (B=480)"]
    assert all("업데이트" in t and "검증 정확도" in t for t in titles), titles
    assert spec["layout"]["xaxis"]["title"]["text"] == "x0 (표준화)"
    assert {t["name"] for t in spec["data"] if t["type"] == "scatter"} == {"클래스 0", "클래스 1"}
    assert any("학습 세트" in c.value for c in at.caption)
    at.radio(key="dm_kind").set_value("templates").run()
    assert not at.exception and not at.error
    examples, templates = specs(at)
    assert examples["layout"]["title"]["text"].startswith("데이터:")
    assert templates["layout"]["title"]["text"] == "클래스별 가중치를 이미지로"
    assert any("8x8 숫자 이미지" in c.value for c in at.caption)
