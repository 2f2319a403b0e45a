"""The home page's charts under AppTest (issue 18, honest curves): sampled where drawn, nothing smoothed but the
mini-batch loss (off by default), whole legends, labelled log ticks; presets open on their lesson's view."""

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from ui import chart_controls
from ui import charts as ui_charts

APP = str(Path(__file__).resolve().parents[1] / "app.py")
NAMES = ["SGD (B=1)", "B=32", "B=256", "full batch (B=800)"]


def charts(at):
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


@pytest.fixture(scope="module")
def home():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    return at


def values(v) -> np.ndarray:
    """A trace array as the browser gets it: a list, or plotly's typed array {"dtype": "f8", "bdata": base64}."""
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return np.array([np.nan if e is None else e for e in v], dtype=float)


def curve(spec, name, axis):
    return next(t for t in spec["data"] if t["name"] == name and t.get("xaxis", "x") == axis)


def test_default_chart_is_sampled_where_it_is_drawn(home):
    (spec,) = charts(home)
    assert [t["name"] for t in spec["data"] if t.get("showlegend", True)] == NAMES  # the whole legend
    assert not [t for t in spec["data"] if "mini-batch" in t["name"]]  # faint batch loss off by default
    sgd = curve(spec, "SGD (B=1)", "x2")  # the updates panel (log x)
    assert set(range(1, 41)) <= set(values(sgd["customdata"]).tolist())  # every one of its first 40 updates measured
    for t in spec["data"]:  # no line across a stretch nobody measured, on any panel, epochs and updates
        if t.get("xaxis", "x") in ("x", "x2") and t["mode"] != "markers":
            assert np.isfinite(values(t["x"])).all(), t["name"]
    full = curve(spec, "full batch (B=800)", "x2")
    assert len(values(full["x"])) == 11 and values(full["marker"]["size"]).min() > 0  # its 11 points, marked
    dense = curve(spec, "SGD (B=1)", "x")  # a dense curve: a plain line, with no marker nodes to draw
    assert dense["mode"] == "lines" and "size" not in dense["marker"]
    for axis in ("xaxis2", "xaxis3"):
        assert spec["layout"][axis]["type"] == "log" and spec["layout"][axis]["tickformat"] == "~g"


def test_smoothing_is_for_the_mini_batch_loss_only(home):
    assert "view_smoothing" not in {w.key for w in home.slider}  # nothing to smooth while the batch loss is hidden
    exact = {(t["name"], t.get("xaxis", "x")): values(t["y"]) for t in charts(home)[0]["data"]}
    home.toggle(key="view_batch_loss").set_value(True).run()
    assert not home.slider(key="view_smoothing").disabled
    home.slider(key="view_smoothing").set_value(0.9).run()
    home.toggle(key="view_batch_loss").set_value(False).run()  # hidden and shown again: the smoothing is kept
    home.toggle(key="view_batch_loss").set_value(True).run()
    assert home.slider(key="view_smoothing").value == 0.9
    (spec,) = charts(home)
    faint = [t for t in spec["data"] if t["name"].endswith("mini-batch")]
    assert len(faint) == 3 * 3  # B = 1, 32, 256 on three panels; full batch's batch loss is its loss
    for t in spec["data"]:
        if not t["name"].endswith("mini-batch"):
            np.testing.assert_array_equal(values(t["y"]), exact[(t["name"], t.get("xaxis", "x"))], t["name"])
    home.slider(key="view_smoothing").set_value(0.0).run()
    home.toggle(key="view_batch_loss").set_value(False).run()


def test_the_band_control_is_drawn_for_runs_of_several_seeds(home):
    assert "view_band" not in {w.key for w in home.radio}  # one seed: no band to choose
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["seeds"] = "0,1"
    at.run()
    band = at.radio(key="view_band")
    assert not at.exception and band.value == "minmax"
    assert band.options == ["mean, min-max", "mean ± std", "mean"]  # labelled from the catalogue
    assert set(chart_controls.BAND_LABELS) == set(ui_charts.BANDS)  # every band the chart draws is offered
    assert [t for t in charts(at)[0]["data"] if " band " in t["name"]]  # mean with its min-max band
    at.radio(key="view_band").set_value("none").run()
    assert not [t for t in charts(at)[0]["data"] if " band " in t["name"]]


def test_log_y_labels_every_tick(home):
    """A chart that starts on a log y axis (`view_log_y`, set by a preset; the chart's own buttons switch it in
    the browser) labels every tick."""
    home.session_state["view_log_y"] = True
    home.run()
    layout = charts(home)[0]["layout"]
    assert all(layout[a]["type"] == "log" and layout[a]["tickformat"] == "~g" for a in ("yaxis", "yaxis2"))
    home.session_state["view_log_y"] = False
    home.run()


def test_noisy_labels_preset_opens_the_metrics_and_ill_conditioned_a_log_axis():
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.selectbox(key="cfg_preset").set_value("noisy_labels").run()
    assert not at.exception
    specs = charts(at)
    assert len(specs) == 2 and at.toggle(key="view_metrics").value  # the validation panels, open
    val = curve(specs[1], "B=16", "x")  # validation loss against epochs
    y = values(val["y"])
    assert y[-1] > 1.3 * np.nanmin(y)  # turns up, visibly
    at.selectbox(key="cfg_preset").set_value("ill_conditioned").run()
    specs = charts(at)
    assert len(specs) == 1 and specs[0]["layout"]["yaxis"]["type"] == "log"
    assert any(t["name"].endswith("diverged") for t in specs[0]["data"])  # B=1's x marker
    at.selectbox(key="cfg_preset").set_value("three_loops").run()  # back to the default view
    assert charts(at)[0]["layout"]["yaxis"].get("type") != "log" and len(charts(at)) == 1
