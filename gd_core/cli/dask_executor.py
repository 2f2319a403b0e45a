"""The Dask side of `executor.py` (imported only when a scheduler is named: `distributed` is an optional extra).

Every worker needs gd_core importable at the same version as the client (the same environment or image): the
scheduler unpickles the task graph too. A plain tcp:// scheduler accepts anyone who can reach its port; use it
on loopback or a private network, or tls:// with certificates (README, "Sweeps on a Dask cluster").
"""

from __future__ import annotations

import logging
import time
import uuid

from distributed import Client, Event, LocalCluster
from distributed import wait as wait_futures
from distributed.security import Security

from ..config import ConfigError
from .executor import run_group

CONNECT_TIMEOUT_S = 10
STOP_CHECK_S = 0.1  # a worker asks the scheduler about the stop Event at most this often (a round trip each)


class StopFlag:
    """should_stop() for a task on a Dask worker: the named distributed.Event, asked at most every STOP_CHECK_S."""

    def __init__(self, name: str):
        self.name, self.event, self.last, self.stopped = name, None, -STOP_CHECK_S, False

    def __call__(self) -> bool:
        now = time.monotonic()
        if not self.stopped and now - self.last >= STOP_CHECK_S:
            self.last = now
            if self.event is None:
                self.event = Event(self.name)  # through the worker's own client
            self.stopped = self.event.is_set()
        return self.stopped


def dask_task(config_json: str, data_json: str, event_name: str):
    return run_group(config_json, data_json, StopFlag(event_name))


class DaskExecutor:
    """Groups as Dask futures on the cluster at `address` (or a LocalCluster of `n_local` processes)."""

    def __init__(self, address: str, *, n_local: int | None = None, tls: dict | None = None):
        self.cluster = None
        try:
            if n_local is not None:
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
