"""The Dask side of `executor.py` (imported only when a scheduler is named: `distributed` is an optional extra).

Every worker needs gd_core importable at the same version as the client (the same environment or image): the
scheduler unpickles the task graph too. A plain tcp:// scheduler accepts anyone who can reach its port; use it
on loopback or a private network, or tls:// with certificates (README, "Sweeps on a Dask cluster").
"""

from __future__ import annotations

import logging
import signal
import threading
import uuid
from contextlib import contextmanager

from distributed import Client, Event, LocalCluster, get_client
from distributed import wait as wait_futures
from distributed.security import Security

from ..config import ConfigError
from .executor import run_group

CONNECT_TIMEOUT_S = 10
STOP_CHECK_S = 0.1  # a task's helper thread asks the scheduler about the stop Event this often


class StopFlag:
    """should_stop() for a task on a Dask worker: a local flag that a helper thread sets once the named
    distributed.Event is set (it asks the scheduler every STOP_CHECK_S), so the training thread never waits for a
    round trip to the scheduler; `close()` ends the helper."""

    def __init__(self, name: str):
        self._stopped, self._closed = threading.Event(), threading.Event()
        self._event = Event(name, client=get_client())  # the worker's client, from the task's thread
        threading.Thread(target=self._poll, daemon=True, name=f"stop-flag {name}").start()

    def _poll(self) -> None:
        while not self._closed.wait(STOP_CHECK_S):
            try:
                if self._event.is_set():
                    self._stopped.set()
                    return
            except (OSError, TimeoutError):  # the scheduler is away: ask again at the next tick
                continue

    def __call__(self) -> bool:
        return self._stopped.is_set()

    def close(self) -> None:
        self._closed.set()


def dask_task(config_json: str, data_json: str, event_name: str):
    flag = StopFlag(event_name)
    try:
        return run_group(config_json, data_json, flag)
    finally:
        flag.close()


@contextmanager
def _sigint_ignored():
    """SIGINT ignored while the block starts processes (in the main thread; elsewhere nothing changes). A terminal's
    Ctrl-C reaches the whole process group: local workers that died of it would leave the sweep waiting for them,
    where the driver's cooperative stop is what should end their work."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


class DaskExecutor:
    """Groups as Dask futures on the cluster at `address` (or a LocalCluster of `n_local` processes)."""

    def __init__(self, address: str, *, n_local: int | None = None, tls: dict | None = None):
        self.cluster = None
        try:
            if n_local is not None:
                with _sigint_ignored():  # the worker processes inherit it: Ctrl-C reaches this process alone
                    self.cluster = LocalCluster(n_workers=n_local, threads_per_worker=1, processes=True,
                                                dashboard_address=":0", silence_logs=logging.ERROR)
                self.client = Client(self.cluster)
            else:
                security = None
                if tls:
                    security = Security(tls_ca_file=tls["ca_file"], tls_client_cert=tls["cert"],
                                        tls_client_key=tls["key"], require_encryption=True)
                self.client = Client(address, security=security, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as e:
            self.close()
            raise ConfigError(f"cannot reach the Dask scheduler at {address}: {' '.join(str(e).split())[:300]}"
                              " (is it running, and are the address and TLS files right?)") from None
        try:
            self.client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError):
            self.close()
            raise ConfigError(f"the Dask scheduler at {address} has no workers (waited {CONNECT_TIMEOUT_S} s); "
                              f"start some with: dask worker {address}") from None
        self.workers = max(1, sum(w["nthreads"] for w in self.client.scheduler_info()["workers"].values()))
        self.event_name = f"gdlab-stop-{uuid.uuid4().hex}"
        self._event = Event(self.event_name, client=self.client)

    def submit(self, config_json: str, data_json: str, event_name: str | None = None):
        """A future of one group's log; it stops when the named Event (the executor's own by default) is set."""
        return self.client.submit(dask_task, config_json, data_json, event_name or self.event_name, pure=False)

    def set_event(self, name: str) -> None:
        Event(name, client=self.client).set()

    def wait(self, futures, timeout: float):
        try:
            done = wait_futures(futures, timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return set(), set(futures)
        return done.done, done.not_done

    def stop(self, futures) -> None:
        self._event.set()

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
