"""The order a page sends its elements in, which is the order a cold browser draws them in: the first chart before
the controls drawn after it (in their place above it). Measured effect: benchmarks/results/2026-12-07-first-paint-2.md.

Recorded from Streamlit's forward-message queue (every delta of a run, in the order sent to the browser), not from
AppTest's element tree, which is in page order and would look the same either way."""

import json
from pathlib import Path

import pytest
from streamlit.runtime.forward_msg_queue import ForwardMsgQueue
from streamlit.testing.v1 import AppTest

from ui import cache

ROOT = Path(__file__).resolve().parents[1]
MAIN, SIDEBAR = 0, 1  # the first index of a delta's path: its root container


def sent(monkeypatch, script: str, **query) -> tuple[AppTest, list[tuple[int, str, str]]]:
    """Run `script` once; (root container, element type, widget id or "") of every element it sent, in order."""
    msgs = []
    monkeypatch.setattr(ForwardMsgQueue, "_before_enqueue_msg", msgs.append)
    at = AppTest.from_file(str(ROOT / script), default_timeout=60)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    monkeypatch.setattr(ForwardMsgQueue, "_before_enqueue_msg", None)
    order = []
    for m in msgs:
        if m.WhichOneof("type") == "delta" and m.delta.WhichOneof("type") == "new_element":
            kind = m.delta.new_element.WhichOneof("type")
            order.append((m.metadata.delta_path[0], kind, getattr(getattr(m.delta.new_element, kind), "id", "")))
    assert order, "no deltas recorded: the queue's hook has changed"
    return at, order


def index_of_chart(order) -> int:
    return next(i for i, (root, kind, _) in enumerate(order) if root == MAIN and kind == "plotly_chart")


def widgets_with(order, keys) -> dict[str, int]:
    """{key: where its widget was sent} of the widgets whose id names one of `keys`."""
    return {k: i for i, (_, _, wid) in enumerate(order) for k in keys if wid.endswith(f"-{k}")}


def in_page_order(node):
    """`node` and what it holds, in the order they stand on the page (not the order they were sent in)."""
    yield node
    for i in sorted(getattr(node, "children", {})):
        yield from in_page_order(node.children[i])


HOME_FORM = ("cfg_preset", "cfg_csv_file", "cfg_batch_sizes", "cfg_lr", "cfg_run")  # drawn on every home run


def test_home_sends_its_chart_before_the_sidebar_form(monkeypatch):
    at, order = sent(monkeypatch, "app.py")
    assert not at.exception and len(at.get("plotly_chart")) == 1
    form = widgets_with(order, HOME_FORM)
    assert set(form) == set(HOME_FORM)
    assert all(order[i][0] == SIDEBAR for i in form.values())
    chart = index_of_chart(order)
    assert chart < min(form.values()), [order[i] for i in sorted(form.values())]
    # ... and the form is still at the top of the sidebar, under its header, above the sidebar's caption
    keys = [getattr(e, "key", None) for e in in_page_order(at.sidebar)]
    assert [k for k in keys if k in (*HOME_FORM, "lang_switch")] == [
        "lang_switch", "cfg_preset", "cfg_csv_file", "cfg_batch_sizes", "cfg_lr", "cfg_run"]


def test_home_without_a_chart_still_draws_the_form(monkeypatch):
    """The page stops before a chart when a CSV config has no upload (a share link with dataset=csv): the form is
    drawn first, so the upload and the presets are there."""
    at, order = sent(monkeypatch, "app.py", dataset="csv", target="label")
    assert not at.exception and not at.get("plotly_chart")
    assert set(widgets_with(order, HOME_FORM)) == set(HOME_FORM)
    assert any("CSV" in w.value for w in at.warning)


def test_home_draws_the_form_when_the_run_fails_unexpectedly(monkeypatch):
    """An error the page does not catch (a bug) still leaves the form to change the experiment with."""
    def broken(*args, **kwargs):
        raise RuntimeError("engine bug")

    monkeypatch.setattr(cache, "run", broken)
    at, order = sent(monkeypatch, "app.py")
    assert at.exception and not at.get("plotly_chart")
    assert set(widgets_with(order, HOME_FORM)) == set(HOME_FORM)


@pytest.mark.parametrize("upload", [b"a,b,label\n1,2,0\n2,1,1\n3,3,0\n4,1,1\n", b"a,a\n1,2\n"], ids=["good", "bad"])
def test_home_reads_the_upload_before_its_widget_as_the_widget_returns_it(upload):
    """`controls.read_upload` reads the uploader's state before the widget is drawn: the page's data and error are
    those of the file in the widget, in the same run."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.file_uploader(key="cfg_csv_file").set_value(("d.csv", upload, "text/csv")).run()
    assert not at.exception
    good = upload.startswith(b"a,b")
    assert at.session_state["_csv_columns"] == (["a", "b", "label"] if good else [])
    assert bool(at.session_state["_csv_problem"]) is not good
    assert bool(at.sidebar.error) is not good
    at.file_uploader(key="cfg_csv_file").set_value(None).run()
    assert at.session_state["_csv_columns"] == [] and at.session_state["_csv_problem"] is None


GRADCHECK = ("pages/2_Gradient_check.py", "gc_rel_error",
             ("gc_problem", "gc_features", "gc_hidden", "gc_reg", "gc_h", "gc_dtype", "gc_point"))
SCALING = ("pages/5_Batch_size_scaling.py", "noise_curve",
           ("noise_sampling", "noise_draws", "noise_level", "noise_run"))


@pytest.mark.parametrize("page, chart, keys", [GRADCHECK, SCALING], ids=["gradient-check", "batch-size-scaling"])
def test_page_sends_its_first_chart_before_the_controls_above_it(monkeypatch, page, chart, keys):
    at, order = sent(monkeypatch, page)
    assert not at.exception
    controls = widgets_with(order, keys)
    assert set(controls) == set(keys)
    assert index_of_chart(order) < min(controls.values())
    placed = [getattr(e, "key", None) for e in in_page_order(at.main)]
    assert max(placed.index(k) for k in keys) < placed.index(chart)  # on the page, still above the chart


def test_scaling_noise_form_values_reach_the_chart_of_the_same_run():
    """The noise section's form is read from the session state before it is drawn: a submitted change is in the
    chart of that run (sampling with replacement drops the (N-B)/(N-1) factor and its dotted line)."""
    at = AppTest.from_file(str(ROOT / SCALING[0]), default_timeout=120).run()
    names = [tr["name"] for tr in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]]
    assert any("(N−B)/(N−1)" in n for n in names)
    at.selectbox(key="noise_sampling").set_value("replacement")
    at.button(key="noise_run").click().run()
    assert not at.exception
    names = [tr["name"] for tr in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]]
    assert not any("(N−B)/(N−1)" in n for n in names) and at.selectbox(key="noise_sampling").value == "replacement"
