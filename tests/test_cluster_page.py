"""The scaling page with GDLAB_DASK_SCHEDULER set: its sweep trains on the Dask cluster and gives the local
page's numbers; the server's group table shares a group between sessions and stops it when nobody holds it.
The home page likewise: a large comparison's run groups train on the cluster and give the numbers this server
computes; a small one stays here. Part of the `dask` group (requirements-dask.txt)."""

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gd_core import ExperimentConfig
from ui import cache
from ui import cluster as ui_cluster

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "5_Batch_size_scaling.py")
APP = str(Path(__file__).resolve().parents[1] / "app.py")
pytestmark = pytest.mark.dask


@pytest.fixture(scope="module")
def address():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp",
                                  dashboard_address=":0", silence_logs=40) as c:
        yield c.scheduler_address


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label))


def test_the_sweep_trains_on_the_cluster_with_the_local_numbers(address, monkeypatch):
    local = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not local.exception
    monkeypatch.setenv(ui_cluster.SCHEDULER_ENV, address)
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    job = at.session_state[ui_cluster.JOB_KEY]
    assert isinstance(job, ui_cluster.SweepJob) and len(job.keys) > 3
    end = time.monotonic() + 120
    while not any(m.label.startswith("B_crit") for m in at.metric):
        assert time.monotonic() < end, "the cluster never finished the sweep"
        time.sleep(0.5)
        at.run()
        assert not at.exception
    assert metric(at, "B_crit") == metric(local, "B_crit")
    assert metric(at, "S_min") == metric(local, "S_min")


def test_an_unreachable_cluster_warns_and_trains_here(monkeypatch):
    from gd_core.cli import dask_executor

    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT_S", 1)
    monkeypatch.setenv(ui_cluster.SCHEDULER_ENV, "tcp://127.0.0.1:9")
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    assert any("cannot reach" in w.value and "training on this server" in w.value for w in at.warning)
    assert any(m.label.startswith("B_crit") for m in at.metric)


def _executing(dask_worker) -> int:
    return len(dask_worker.state.executing)


def test_a_group_is_shared_and_stopped_when_nobody_holds_it(address):
    c = ui_cluster.Cluster(address)
    try:
        data = ExperimentConfig(problem="least_squares", dataset="linear", n_samples=200, n_features=3,
                                batch_sizes=(1,), lrs=(0.01,), budget_unit="steps", budget=1e9, n_checkpoints=1000)
        a, b = c.submit(data, data, "session a"), c.submit(data, data, "session b")
        assert a == b and c.in_flight() == 1  # one future for both sessions
        client = c.executor.client
        end = time.monotonic() + 60
        while sum(client.run(_executing).values()) < 1:
            assert time.monotonic() < end, "the group never ran"
            time.sleep(0.05)
        c.release([a], "session a")
        assert c.in_flight() == 1 and not c.future(b).done()  # b still holds it: it trains on
        c.release([b], "session b")
        assert c.in_flight() == 0
        while sum(client.run(_executing).values()) > 0:  # the worker saw the stop Event
            assert time.monotonic() < end, "the released group kept running"
            time.sleep(0.05)
    finally:
        c.close()


def test_cancel_releases_the_sessions_sweep(address, monkeypatch):
    monkeypatch.setenv(ui_cluster.SCHEDULER_ENV, address)
    at = AppTest.from_file(PAGE, default_timeout=120).run()  # the default sweep, on the cluster
    at.select_slider(key="sweep_epochs").set_value(50)  # within the page's budget, ~5x the default's work
    at.button(key="sweep_run").click().run()
    assert not at.exception
    job = at.session_state[ui_cluster.JOB_KEY]
    if job.done():
        pytest.fail("the sweep finished before it could be cancelled; make it longer")
    assert job.cluster.held_by(job.holder) == len(job.keys)
    at.button(key="sweep_cancel").click().run()
    assert not at.exception
    assert job.cancelled and job.cluster.held_by(job.holder) == 0
    assert any("cancelled" in i.value for i in at.info)
    assert not any(m.label.startswith("B_crit") for m in at.metric)


def test_a_local_cluster_is_never_started_inside_the_app(monkeypatch):
    monkeypatch.setenv(ui_cluster.SCHEDULER_ENV, "local:2")
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    assert any("not local:N" in w.value and "training on this server" in w.value for w in at.warning)
    assert ui_cluster.JOB_KEY not in at.session_state


@pytest.fixture
def submitted(address, monkeypatch):
    """The groups the page submits to the cluster, with a fresh run store (nothing cached from other tests)."""
    cache._store.clear()
    monkeypatch.setenv(ui_cluster.SCHEDULER_ENV, address)
    seen, real = [], ui_cluster.Cluster.submit

    def recording(self, config, data, holder):
        seen.append(config.batch_sizes)
        return real(self, config, data, holder)

    monkeypatch.setattr(ui_cluster.Cluster, "submit", recording)
    yield seen
    cache._store.clear()


def test_a_large_comparison_trains_on_the_cluster_with_this_servers_numbers(submitted, monkeypatch):
    monkeypatch.setattr(ui_cluster, "HOME_MIN_WORK", 0.0)  # the default comparison counts as large
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    config, results, _ = at.session_state["home_last"]
    assert len(submitted) == len(results.config.batch_sizes) >= 3  # every group went to the cluster
    here = cache.results_for(results.config, store=cache.RunStore())  # the same groups computed in this process
    cols = [c for c in here.log.columns if c != "wall_time_s"]
    assert results.log[cols].equals(here.log[cols])
    assert results.summary.drop(columns="wall_time_s").equals(here.summary.drop(columns="wall_time_s"))
    again = AppTest.from_file(APP, default_timeout=120).run()  # another session: from the store, no new tasks
    assert not again.exception and len(submitted) == len(results.config.batch_sizes)


def test_a_small_comparison_stays_on_this_server(submitted):
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception and at.session_state["home_last"] and submitted == []


def test_a_cluster_that_fails_the_groups_warns_and_this_server_trains_them(submitted, monkeypatch):
    monkeypatch.setattr(ui_cluster, "HOME_MIN_WORK", 0.0)

    def failing(self, config, data, holder):
        raise RuntimeError("worker lost")

    monkeypatch.setattr(ui_cluster.Cluster, "submit", failing)
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert any("could not train" in w.value and "worker lost" in w.value for w in at.warning)
    config, results, _ = at.session_state["home_last"]
    assert (results.summary["status"] == "ok").all() and len(results.summary) > 0
