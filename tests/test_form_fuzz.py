"""The home page's form driven with arbitrary values (issue 17, "Nothing breaks"): every widget of the form and
the scenario picker, arbitrary text wherever text can be typed (the learning-rate sweep, sizes typed into the
batch-size picker), any number each number box accepts, an optional upload of arbitrary bytes; then Run, and a
rerun. No exception element may ever appear: every bad value gets a message.

AppTest runs are slow (a few seconds an example), so this test has its own small example count. The host's work
budget and time limit are lowered so that a valid example computes in well under a second.
"""

from __future__ import annotations

from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from streamlit.testing.v1 import AppTest

from ui import cache, share
from ui.form_state import CUSTOM, SECTION_KEYS
from ui.presets import PRESETS

APP = str(Path(__file__).resolve().parents[1] / "app.py")
EXAMPLES = 12


@pytest.fixture(autouse=True)
def small_host(monkeypatch):
    """A host that refuses anything but tiny experiments, at once (the messages are what is under test)."""
    for module in (share, cache):
        monkeypatch.setattr(module, "HOST_MAX_WORK", 3e7)
    monkeypatch.setattr(share, "HOST_TIME_LIMIT_S", 2.0)


def _value(data, widget):
    """An arbitrary value the browser could send for `widget`."""
    kind = type(widget).__name__
    if kind == "NumberInput":
        lo = widget.min if widget.min is not None else -1e6
        hi = widget.max if widget.max is not None else 1e6
        integer = float(widget.step).is_integer() and float(lo).is_integer() and widget.step >= 1
        numbers = (st.integers(int(lo), int(min(hi, 2**31))) if integer
                   else st.floats(lo, hi, allow_nan=False, allow_infinity=False))
        return data.draw(st.one_of(numbers, st.sampled_from([lo, hi])), label=widget.key)
    if kind == "Multiselect":
        typed = st.one_of(st.text(max_size=12), st.from_regex(r"-?[0-9]{1,7}(\.[0-9])?|full|FULL| 1e3", fullmatch=True))
        return data.draw(st.lists(st.one_of(st.sampled_from(widget.options), typed), max_size=5), label=widget.key)
    if kind == "TextInput":
        return data.draw(st.one_of(st.text(max_size=40), st.from_regex(r"[0-9eE.,+\- ]{0,30}", fullmatch=True)),
                         label=widget.key)
    if kind == "Checkbox":
        return data.draw(st.booleans(), label=widget.key)
    if kind == "SelectSlider":  # the learning rate: its options are shown as text, its values are floats
        return data.draw(st.sampled_from([float(o) for o in widget.options]), label=widget.key)
    return data.draw(st.sampled_from(list(widget.options)), label=widget.key)  # selectbox, radio, select_slider


FORM_KEYS = ("cfg_batch_sizes", "cfg_lr", *(k for keys in SECTION_KEYS.values() for k in keys))


@settings(max_examples=EXAMPLES, deadline=None, phases=[Phase.generate],  # no shrinking: minutes of AppTest runs
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), upload=st.one_of(st.none(), st.binary(max_size=200),
                                        st.text(max_size=200).map(lambda s: ("a,b,y\n" + s).encode())))
def test_any_form_input_gives_a_message_never_an_exception(data, upload):
    at = AppTest.from_file(APP, default_timeout=60)
    if data.draw(st.booleans(), label="pick a scenario first"):
        at.run()
        at.selectbox(key="cfg_preset").set_value(data.draw(st.sampled_from([CUSTOM, *PRESETS]), label="scenario"))
    for section in SECTION_KEYS:
        at.session_state[section] = True  # open every lazy section: all widgets drawn
    at.run()
    assert not at.exception, at.exception
    if upload is not None:
        at.file_uploader(key="cfg_csv_file").set_value(("data.csv", upload, "text/csv")).run()
        assert not at.exception, at.exception
    widgets = {w.key: w for w in _all_widgets(at)}
    assert set(FORM_KEYS) - {"cfg_target"} <= set(widgets)  # every widget of the form is driven
    for key in FORM_KEYS:
        if key in widgets and getattr(widgets[key], "options", True):  # the target picker: a CSV's columns
            widgets[key].set_value(_value(data, widgets[key]))
    at.get("form_submit_button")[0].click().run()
    assert not at.exception, at.exception
    at.run()  # the next rerun (any widget change) is fine too
    assert not at.exception, at.exception


def _all_widgets(at):
    kinds = ("number_input", "multiselect", "text_input", "checkbox", "selectbox", "radio", "select_slider")
    return [w for kind in kinds for w in getattr(at, kind)]
