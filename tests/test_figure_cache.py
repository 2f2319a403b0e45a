"""ui/figure_cache.py: a built figure is reused for the same data and options, rebuilt when either changes,
equal to a fresh build, bounded, and left unchanged by the page that draws it."""

import json
import threading
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io
import plotly.tools
import pytest
from streamlit.testing.v1 import AppTest

from gd_core import ExperimentConfig, run_experiment, summarize
from ui import charts, figure_cache
from ui.figure_cache import FigureStore, cached_figure, cached_frame, cached_text, frame_digest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
SCALING = str(Path(__file__).resolve().parents[1] / "pages" / "5_Batch_size_scaling.py")


@pytest.fixture(scope="module")
def log():
    return run_experiment(ExperimentConfig(n_samples=300, batch_sizes=(1, 16, "full"), budget=1.0,
                                           n_checkpoints=10)).log


@pytest.fixture
def store(monkeypatch):
    s = FigureStore(max_entries=3)
    monkeypatch.setattr(figure_cache, "_store", lambda: s)
    return s


def test_same_data_and_options_reuse_the_figure_others_rebuild(log, store):
    built = []

    def build(df, **options):
        built.append(options)
        return charts.loss_panels(df, **options)

    a = cached_figure("loss_panels", log, build, log_y=False, smoothing=0.0)
    assert cached_figure("loss_panels", log.copy(), build, log_y=False, smoothing=0.0) is a  # equal data: a hit
    b = cached_figure("loss_panels", log, build, log_y=True, smoothing=0.0)
    changed = log.assign(train_loss=log["train_loss"] * 2)
    c = cached_figure("loss_panels", changed, build, log_y=False, smoothing=0.0)
    assert len(built) == 3 and a is not b and a is not c
    assert a.to_dict() == charts.loss_panels(log, log_y=False, smoothing=0.0).to_dict()
    assert c.to_dict() == charts.loss_panels(changed, log_y=False, smoothing=0.0).to_dict()


def test_store_is_bounded_and_keeps_the_recently_used(log, store):
    for s in (0.0, 0.1, 0.2):
        cached_figure("loss_panels", log, charts.loss_panels, smoothing=s)
    cached_figure("loss_panels", log, charts.loss_panels, smoothing=0.0)  # used again: now the most recent
    cached_figure("loss_panels", log, charts.loss_panels, smoothing=0.3)  # evicts 0.1, the least recent
    assert len(store) == 3
    calls = []
    cached_figure("loss_panels", log, lambda df, **o: calls.append(o) or charts.loss_panels(df, **o), smoothing=0.0)
    assert calls == []
    cached_figure("loss_panels", log, lambda df, **o: calls.append(o) or charts.loss_panels(df, **o), smoothing=0.1)
    assert calls == [{"smoothing": 0.1}]


def test_digest_sees_values_columns_dtypes_and_index():
    df = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"], "n": [1, 2], "ok": [True, False],
                       "o": pd.Series([(1,), (2,)], dtype=object)})
    d = frame_digest(df)
    assert frame_digest(df.copy()) == d
    assert frame_digest(df.assign(a=[1.0, 2.5])) != d
    assert frame_digest(df.assign(a=[1.0, float("nan")])) != d
    assert frame_digest(df.assign(b=["x", "z"])) != d
    assert frame_digest(df.assign(b=["x", None])) != d
    assert frame_digest(df.assign(b=["x\"", "y"])) != d
    assert frame_digest(df.assign(n=[1, 3])) != d and frame_digest(df.assign(n=[1.0, 2.0])) != d  # value, dtype
    assert frame_digest(df.assign(ok=[True, True])) != d
    assert frame_digest(df.assign(o=pd.Series([(1,), (3,)], dtype=object))) != d
    assert frame_digest(df.rename(columns={"b": "c"})) != d
    assert frame_digest(df.set_axis([5, 6])) != d
    for dtype in ("string", "str"):  # missing values: pd.NA in one, NaN in the other
        s = pd.DataFrame({"s": pd.Series(["x", None], dtype=dtype)})
        assert frame_digest(s) == frame_digest(s.copy()) != frame_digest(s.fillna("x"))
    two = pd.DataFrame({"b": ["x", "y"], "c": ["z", "w"]})  # a string moved between columns
    assert frame_digest(two) != frame_digest(pd.DataFrame({"b": ["x", "yz"], "c": ["", "w"]}))


def test_home_page_draws_the_shared_figure_without_changing_it(store):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    (fig,) = [f for f in store._items.values() if isinstance(f, go.Figure)]  # and the summary table
    before = fig.to_dict()
    again = AppTest.from_file(APP, default_timeout=60).run()  # a second session: a hit, the same chart
    assert len(store) == 3 and fig.to_dict() == before  # the figure, the summary and its Markdown table
    assert json.loads(again.get("plotly_chart")[0].proto.spec) == json.loads(at.get("plotly_chart")[0].proto.spec)


def test_scaling_page_shares_its_six_figures_between_sessions(monkeypatch):
    s = FigureStore(max_entries=16)
    monkeypatch.setattr(figure_cache, "_store", lambda: s)
    at = AppTest.from_file(SCALING, default_timeout=120)
    for key in ("open_noise_training", "open_sweep_lr", "open_rules", "open_smith"):  # its lazy charts, opened
        at.session_state[key] = True
    at.run()
    assert not at.exception
    names = sorted(json.loads(k)[0] for k in s._items)
    assert names == ["scaling_lr", "scaling_noise", "scaling_noise_training", "scaling_rules", "scaling_smith",
                     "scaling_steps"]
    before = {k: f.to_dict() for k, f in s._items.items()}
    again = AppTest.from_file(SCALING, default_timeout=120)  # a second session: six hits
    for key in ("open_noise_training", "open_sweep_lr", "open_rules", "open_smith"):
        again.session_state[key] = True
    again.run()
    assert len(s) == 6 and {k: f.to_dict() for k, f in s._items.items()} == before
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert [json.loads(c.proto.spec) for c in again.get("plotly_chart")] == specs and len(specs) == 6


def test_stored_figure_makes_its_dict_once_and_hands_out_copies(log, store, monkeypatch):
    fresh = charts.loss_panels(log, log_y=False, smoothing=0.0)
    fig = cached_figure("loss_panels", log, charts.loss_panels, log_y=False, smoothing=0.0)
    assert isinstance(fig, figure_cache.SharedFigure) and fig.to_dict() == fresh.to_dict()
    made = []
    real = go.Figure.to_dict
    monkeypatch.setattr(go.Figure, "to_dict", lambda self: made.append(1) or real(self))
    first, second = fig.to_dict(), fig.to_dict()
    assert made == [] and first == second == fresh.to_dict()  # from the memo: plotly's to_dict not called again
    first["layout"]["title"] = {"text": "changed by one session"}
    first["data"][0]["name"] = "changed"
    assert fig.to_dict() == fresh.to_dict()  # a caller's copy is its own


def test_share_changes_only_plain_figures():
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))
    assert figure_cache.share(fig) is fig and type(fig) is figure_cache.SharedFigure
    assert fig.data[0].y == (3, 4)  # still a figure: its traces and layout read as before

    class Other(go.Figure):
        pass

    other = Other()
    assert figure_cache.share(other) is other and type(other) is Other


def test_sessions_asking_at_once_build_a_missing_figure_once(log, store, monkeypatch):
    entered, release, lookups, built = threading.Event(), threading.Event(), [], []
    real_get = store._get
    monkeypatch.setattr(store, "_get", lambda key: lookups.append(key) or real_get(key))

    def build(df, **options):
        built.append(1)
        entered.set()
        release.wait(30)
        return charts.loss_panels(df, **options)

    figs = []
    threads = [threading.Thread(target=lambda: figs.append(cached_figure("loss_panels", log, build, smoothing=0.0)))
               for _ in range(5)]
    threads[0].start()
    assert entered.wait(30)
    for t in threads[1:]:
        t.start()
    while len(lookups) < 6:  # the leader's 2 lookups and each follower's first: all four missed the store
        threading.Event().wait(0.01)
    release.set()
    for t in threads:
        t.join(30)
    assert len(built) == 1 and len(figs) == 5 and all(f is figs[0] for f in figs)


def test_cached_frame_is_shared_and_each_caller_gets_a_copy(log, store):
    calls = []

    def build(df, target_loss=None, metric="train_loss"):
        calls.append((target_loss, metric))
        return summarize(df, target_loss, metric)

    a = cached_frame("summary", log, build, target_loss=0.5, metric="train_loss")
    a.loc[0, "final_train_loss"] = -1.0  # one session's change
    b = cached_frame("summary", log.copy(), build, target_loss=0.5, metric="train_loss")
    pd.testing.assert_frame_equal(b, summarize(log, 0.5, "train_loss"))
    cached_frame("summary", log, build, target_loss=0.6, metric="train_loss")
    assert calls == [(0.5, "train_loss"), (0.6, "train_loss")]


def test_sessions_drawing_a_shared_figure_are_sent_one_spec_made_once(store, monkeypatch):
    """st.plotly_chart of a SharedFigure goes through the shim (ui/figure_cache.py): the JSON is made once, by
    plotly's own to_json, for every session; fails if Streamlit stops calling the two plotly functions."""
    encodings = []
    real = figure_cache._PLOTLY_TO_JSON
    monkeypatch.setattr(figure_cache, "_PLOTLY_TO_JSON", lambda *a, **k: encodings.append(1) or real(*a, **k))
    first = AppTest.from_file(APP, default_timeout=60).run()
    assert not first.exception and len(encodings) == 1  # the shared spec's
    second = AppTest.from_file(APP, default_timeout=60).run()  # another session, the same config
    assert not second.exception and len(encodings) == 1
    (fig,) = [f for f in store._items.values() if isinstance(f, go.Figure)]
    spec = first.get("plotly_chart")[0].proto.spec
    assert second.get("plotly_chart")[0].proto.spec == spec == fig.shared_spec().json
    assert fig.shared_spec() is fig.shared_spec() and len(encodings) == 1
    assert spec == real(fig.to_dict(), validate=False)  # the bytes st.plotly_chart made without the shim


def test_the_shim_leaves_other_figures_and_calls_to_plotly(log, store):
    plain = charts.loss_panels(log, log_y=False, smoothing=0.0)
    assert plotly.io.to_json(plain) == figure_cache._PLOTLY_TO_JSON(plain)
    assert plotly.tools.return_figure_from_figure_or_data(plain, True) == plain.to_dict()
    shared = cached_figure("loss_panels", log, charts.loss_panels, log_y=False, smoothing=0.0)
    assert shared.to_dict() == plain.to_dict()
    spec = plotly.tools.return_figure_from_figure_or_data(shared, True)
    assert isinstance(spec, figure_cache.SharedSpec) and spec == plain.to_dict()
    spec["data"][0]["uid"] = "kept"  # (only to see that a call below does not remove it from the shared dict)
    pretty = plotly.io.to_json(spec, validate=False, pretty=True)  # not st.plotly_chart's call: plotly's, on a copy
    assert json.loads(pretty) == json.loads(spec.json)
    assert spec["data"][0].pop("uid") == "kept"


def test_cached_text_is_shared_per_data_options_and_language(log, store, monkeypatch):
    calls = []

    def build(df, n_train=None):
        calls.append(n_train)
        return charts.summary_table_markdown(df, n_train)

    summary = summarize(log)
    a = cached_text("summary_table", summary, build, n_train=300)
    assert cached_text("summary_table", summary.copy(), build, n_train=300) is a
    assert a == charts.summary_markdown(charts.summary_table(summary, 300))
    cached_text("summary_table", summary, build, n_train=None)
    monkeypatch.setattr(figure_cache.i18n, "current", lambda: "ko")
    cached_text("summary_table", summary, build, n_train=300)
    assert calls == [300, None, 300]
