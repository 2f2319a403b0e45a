"""ui/figure_cache.py: a built figure is reused for the same data and options, rebuilt when either changes,
equal to a fresh build, bounded, and left unchanged by the page that draws it."""

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from gd_core import ExperimentConfig, run_experiment
from ui import charts, figure_cache
from ui.figure_cache import FigureStore, cached_figure, frame_digest

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


def test_digest_sees_values_columns_and_index():
    df = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    d = frame_digest(df)
    assert frame_digest(df.copy()) == d
    assert frame_digest(df.assign(a=[1.0, 2.5])) != d
    assert frame_digest(df.rename(columns={"b": "c"})) != d
    assert frame_digest(df.set_axis([5, 6])) != d


def test_home_page_draws_the_shared_figure_without_changing_it(store):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    (fig,) = [f for f in store._items.values()]
    before = fig.to_dict()
    again = AppTest.from_file(APP, default_timeout=60).run()  # a second session: a hit, the same chart
    assert len(store) == 1 and fig.to_dict() == before
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
