"""The dashboard's Dask cluster: with GDLAB_DASK_SCHEDULER set (tcp://HOST:PORT or tls://HOST:PORT; a tls://
scheduler also needs GDLAB_DASK_TLS_CA_FILE, GDLAB_DASK_TLS_CERT and GDLAB_DASK_TLS_KEY), the scaling page's sweep
trains on the cluster instead of in this server's threads (the optional extra, requirements-dask.txt), and so do
the home page's large comparisons (`train_groups`, from ui.cache: estimated work of at least HOME_MIN_WORK).

- One client per server (`connect`, `st.cache_resource`): it is held in a plain `Cluster` object, as
  `st.cache_resource` refuses to cache an awaitable such as `distributed.Client`.
- Each run group is one Dask future, shared by every session of this server that asks for the same group while
  it is in flight or held (`Cluster.submit` keeps a table: key -> future and its holders), so identical
  requests train once.
- A session keeps its `SweepJob` (the keys it holds) in `st.session_state`: the futures survive reruns. The
  page polls it in an `st.fragment(run_every=1)` and reruns the whole page once it is done. Cancel (or a new
  sweep) releases the session's keys: a group no other session holds gets its stop Event set, so a running one
  stops at its next check, and its future is cancelled.
- The cluster is never started inside the Streamlit script (Streamlit replaces `__main__` with the page, so Dask's
  spawned worker processes would re-run the page); start it outside (README, "Hosting").
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid
import weakref

import pandas as pd
import streamlit as st

from gd_core import ConfigError, ExperimentConfig
from gd_core.cli.executor import open_executor
from gd_core.cli.sweep import sweep_result
from gd_core.science.scaling import SweepResult, SweepSpec
from ui.i18n import t
from ui.text import md_escape

SCHEDULER_ENV = "GDLAB_DASK_SCHEDULER"
JOB_KEY = "dask_sweep_job"  # st.session_state: the session's SweepJob
HOME_MIN_WORK = 1e9  # gd_core.train.limits work units: comparisons larger than every preset (seconds or more here)
POLL_S = 0.5  # a comparison waiting for the cluster updates its progress bar this often
TLS_ENV = {"ca_file": "GDLAB_DASK_TLS_CA_FILE", "cert": "GDLAB_DASK_TLS_CERT", "key": "GDLAB_DASK_TLS_KEY"}


class _Group:
    def __init__(self, future, event: str):
        self.future, self.event, self.holders = future, event, set()


class Cluster:
    """A Dask executor (gd_core.cli.executor) and this server's table of in-flight run groups."""

    def __init__(self, address: str, tls: dict | None = None):
        self.executor = open_executor(scheduler=address, tls=tls, name=SCHEDULER_ENV)
        self._lock = threading.Lock()
        self._groups: dict[str, _Group] = {}

    @staticmethod
    def key(config: ExperimentConfig, data: ExperimentConfig) -> str:
        return hashlib.sha256(f"{config.to_json()}|{data.to_json()}".encode()).hexdigest()

    def submit(self, config: ExperimentConfig, data: ExperimentConfig, holder: str) -> str:
        """Hold the group `config` (trained on the data of `data`) for `holder`; start it unless it is in flight
        or done and not cancelled. Returns its key."""
        key = self.key(config, data)
        with self._lock:
            group = self._groups.get(key)
            if group is None or group.future.cancelled() or group.future.status == "error" or (
                    group.future.done() and (group.future.result()["status"] == "cancelled").any()):
                event = f"gdlab-stop-{uuid.uuid4().hex}"
                group = self._groups[key] = _Group(
                    self.executor.submit(config.to_json(), data.to_json(), event), event)
            group.holders.add(holder)
        return key

    def future(self, key: str):
        with self._lock:
            return self._groups[key].future

    def release(self, keys, holder: str) -> None:
        """`holder` no longer needs these groups; one nobody holds is stopped (if running) and forgotten."""
        with self._lock:
            for key in keys:
                group = self._groups.get(key)
                if group is None:
                    continue
                group.holders.discard(holder)
                if not group.holders:
                    if not group.future.done():
                        self.executor.set_event(group.event)
                        group.future.cancel()
                    del self._groups[key]

    def held_by(self, holder: str) -> int:
        """How many groups `holder` holds."""
        with self._lock:
            return sum(holder in g.holders for g in self._groups.values())

    def in_flight(self) -> int:
        with self._lock:
            return len(self._groups)

    def alive(self) -> bool:
        return self.executor.client.status == "running"

    def close(self) -> None:
        self.executor.close()


def tls_from_env() -> dict:
    return {name: os.environ.get(var) for name, var in TLS_ENV.items() if os.environ.get(var)}


@st.cache_resource(show_spinner=False, validate=lambda c: c.alive(),  # the caller's spinner: the session's language
                   on_release=lambda c: c.close())
def _connect(address: str, tls: tuple) -> Cluster:
    return Cluster(address, dict(tls))


def connect() -> Cluster | None:
    """This server's Cluster, or None when GDLAB_DASK_SCHEDULER is unset or the cluster cannot be used (then a
    warning says why, and the page trains on this server)."""
    address = os.environ.get(SCHEDULER_ENV, "").strip()
    if not address:
        return None
    if address.startswith("local:"):  # worker processes spawned from a page would re-run the page
        st.warning(t("cluster.no_local", env=SCHEDULER_ENV))
        return None
    try:
        with st.spinner(t("cluster.connecting")):
            return _connect(address, tuple(sorted(tls_from_env().items())))
    except ConfigError as e:
        st.warning(t("cluster.unusable", error=md_escape(str(e))))
        return None


class SweepJob:
    """One session's sweep on the cluster: its groups' keys in spec order, kept in st.session_state."""

    def __init__(self, cluster: Cluster, configs: list[ExperimentConfig], data: ExperimentConfig):
        self.cluster, self.holder = cluster, uuid.uuid4().hex
        self.keys = [cluster.submit(c, data, self.holder) for c in configs]
        self.cancelled = False
        # a session that ends drops its job: its groups are released then
        self._finalizer = weakref.finalize(self, cluster.release, list(self.keys), self.holder)

    def progress(self) -> tuple[int, int]:
        return sum(self.cluster.future(k).done() for k in self.keys), len(self.keys)

    def done(self) -> bool:
        return not self.cancelled and all(self.cluster.future(k).done() for k in self.keys)

    def logs(self) -> dict[int, pd.DataFrame]:
        """{index: log} of every group (call once done; a failed group raises its error here)."""
        return {i: self.cluster.future(k).result() for i, k in enumerate(self.keys)}

    def cancel(self) -> None:
        self.cancelled = True
        self._finalizer()  # releases the groups, once


def cluster_sweep(cluster: Cluster, spec: SweepSpec, n_train: int, restart: bool, state=None) -> SweepResult | None:
    """The sweep's results once the cluster has trained every group; until then None, with a progress bar
    that polls every second and a Cancel button. A cancelled sweep starts again only when `restart` (Run)."""
    state = st.session_state if state is None else state
    configs = spec.configs(n_train)
    job = state.get(JOB_KEY)
    keys = [cluster.key(c, spec.base) for c in configs]
    if job is not None and job.keys == keys and job.cancelled and not restart:
        st.info(t("cluster.cancelled"))
        return None
    if job is None or job.keys != keys or job.cluster is not cluster or job.cancelled:
        if job is not None:
            job.cancel()
        job = state[JOB_KEY] = SweepJob(cluster, configs, spec.base)
    if job.done():
        try:
            return sweep_result(spec, job.logs(), True)
        except Exception as e:  # a group failed on a worker (its error, one line)
            job.cancel()
            st.error(t("cluster.failed", error=md_escape(" ".join(str(e).split())[:300])))
            return None
    _progress(job)
    return None


@st.fragment(run_every=1)
def _progress(job: SweepJob) -> None:
    done, total = job.progress()
    st.progress(done / total, text=t("cluster.progress", done=done, total=total))
    if st.button(t("cluster.cancel"), key="sweep_cancel"):
        job.cancel()
        st.rerun(scope="app")
    if job.done():
        st.rerun(scope="app")


def train_groups(cluster: Cluster, configs: list[ExperimentConfig], data: ExperimentConfig, progress=None,
                 deadline: float | None = None) -> dict[int, pd.DataFrame] | None:
    """Train run groups on the cluster and wait for them: {index in `configs`: log} of those done, or None (with a
    warning) if the cluster failed them (a worker's error, the scheduler gone): then this server trains them.
    Sessions asking for the same group at the same time share its future (`Cluster.submit`). `progress(fraction,
    message)` is called every POLL_S (where Streamlit stops a closed session's script); when it raises, or
    `deadline` (a time.perf_counter() value) passes, the groups not done are released: one nobody else holds
    stops."""
    holder = uuid.uuid4().hex
    keys = []
    try:
        keys += [cluster.submit(c, data, holder) for c in configs]
        while True:
            futures = [cluster.future(k) for k in keys]
            pending = [f for f in futures if not f.done()]
            if progress is not None:
                progress(1 - len(pending) / len(keys),
                         t("cluster.progress", done=len(keys) - len(pending), total=len(keys)))
            if not pending or (deadline is not None and time.perf_counter() > deadline):
                return {i: f.result() for i, f in enumerate(futures) if f.done()}
            cluster.executor.wait(pending, timeout=POLL_S)
    except Exception as e:  # noqa: BLE001 - whatever the cluster raised, this server can still train the groups
        st.warning(t("cluster.home_failed", error=md_escape(" ".join(str(e).split())[:300])))
        return None
    finally:
        cluster.release(keys, holder)
