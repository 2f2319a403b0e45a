"""The home page with GDLAB_DASK_SCHEDULER set: a large comparison's run groups train on the Dask cluster and give
the numbers this server computes; a small one stays here. Part of the `dask` group (requirements-dask.txt)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui import cache
from ui import cluster as ui_cluster

APP = str(Path(__file__).resolve().parents[1] / "app.py")
pytestmark = pytest.mark.dask


@pytest.fixture(scope="module")
def address():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp",
                                  dashboard_address=":0", silence_logs=40) as c:
        yield c.scheduler_address


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
    config, results = at.session_state["home_last"]
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
    config, results = at.session_state["home_last"]
    assert (results.summary["status"] == "ok").all() and len(results.summary) > 0
