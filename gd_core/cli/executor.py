"""Where the run groups of a sweep or a comparison train: local worker processes (`--jobs N`) or a Dask cluster
(`--scheduler tcp://host:8786 | tls://host:8786 | local:N`, the optional extra in requirements-dask.txt).

The unit of work is one run group: one batch size with all its seeds and learning rates (what
`gd_core.train.stacked` trains side by side), given as a config JSON. A worker builds the dataset itself from
the data config (deterministic and cheap next to training) and keeps the last one it built, so a worker makes it
once per sweep whatever the number of groups it trains; nothing large crosses the network. Results come back
in any order and are put back by group index, so the log is the serial one row for row (only the measured
`wall_time_s` differs). At most two groups per worker are in flight (a feeder), so a stop drops the queued
ones at once; the running ones see a shared stop flag (a process Event, or a `distributed.Event`) at their
next check, at checkpoints and every ~1e8 work units in between (`gd_core.train.stopping`), and return the rows
they have, marked `cancelled`.

    with open_executor(jobs=2) as ex:          # or open_executor(scheduler="tcp://127.0.0.1:8786")
        logs, complete = run_groups(ex, configs, data_config, progress=bar, should_stop=flag)
"""

from __future__ import annotations

import importlib
import multiprocessing
import re
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor
from concurrent.futures import wait as wait_futures

import numpy as np
import pandas as pd

from ..config import ConfigError, ExperimentConfig
from ..train.plan import eval_size, plan_runs
from ..train.runner import build_dataset, run_experiment

IN_FLIGHT_PER_WORKER = 2  # queued + running groups per worker: enough to keep it busy, few to drop on a stop
POLL_S = 0.1  # how often the driver looks at its stop flag while it waits for results
STOP_GRACE_S = 30.0  # after a stop, running groups not back by then (a lost worker) are given up
DASK_EXTRA = "pip install -r requirements-dask.txt"
SCHEDULER_RULE = "tcp://HOST:PORT, tls://HOST:PORT or local:N (N worker processes, 1 to 64)"

_data: dict[str, object] = {}  # in a worker: {data config JSON: Dataset}, the last one built
_data_lock = threading.Lock()
_stop_event = None  # in a local worker process: the pool's stop Event (set by _init_local_worker)


def worker_dataset(data_json: str):
    """The dataset of `data_json` (a config whose data fields matter), built once per worker process."""
    with _data_lock:
        ds = _data.get(data_json)
        if ds is None:
            _data.clear()  # one dataset at a time: a worker's memory holds one sweep's data
            ds = _data[data_json] = build_dataset(ExperimentConfig.from_json(data_json))
        return ds


def run_group(config_json: str, data_json: str, should_stop: Callable[[], bool] | None = None) -> pd.DataFrame:
    """Train one group (a config) on its worker's dataset; the run log."""
    config = ExperimentConfig.from_json(config_json)
    return run_experiment(config, dataset=worker_dataset(data_json), should_stop=should_stop).log


def _init_local_worker(event) -> None:
    global _stop_event
    _stop_event = event
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the driver decides


def _local_task(config_json: str, data_json: str) -> pd.DataFrame:
    return run_group(config_json, data_json, _stop_event.is_set)


class LocalExecutor:
    """`workers` processes on this machine (concurrent.futures), sharing one stop Event."""

    def __init__(self, workers: int):
        context = multiprocessing.get_context()
        self.workers, self._event = workers, context.Event()
        self._pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_local_worker,
                                         initargs=(self._event,))

    def submit(self, config_json: str, data_json: str):
        return self._pool.submit(_local_task, config_json, data_json)

    def wait(self, futures, timeout: float):
        return wait_futures(futures, timeout=timeout, return_when=FIRST_COMPLETED)

    def stop(self, futures) -> None:
        self._event.set()
        for f in futures:
            f.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def parse_scheduler(address: str, name: str = "--scheduler") -> tuple[str, int | None]:
    """("local", N) for local:N, else (the address, None); ConfigError for anything else."""
    text = address.strip()
    m = re.fullmatch(r"local:(\d{1,2})", text)
    if m and 1 <= int(m.group(1)) <= 64:
        return "local", int(m.group(1))
    if re.fullmatch(r"(tcp|tls)://(\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]+):\d{1,5}", text) and \
            0 < int(text.rsplit(":", 1)[1]) < 65536:
        return text, None
    raise ConfigError(f"{name} must be {SCHEDULER_RULE}; got {address[:200]!r}")


def open_executor(*, jobs: int = 1, scheduler: str | None = None, tls: dict | None = None,
                  name: str = "--scheduler"):
    """A LocalExecutor for `jobs` processes, or a Dask executor for `scheduler` (tls: ca_file, cert, key).
    ConfigError, one line, for a bad address, missing TLS files, an unreachable scheduler or no Dask installed."""
    if scheduler is None:
        return LocalExecutor(jobs)
    address, n_local = parse_scheduler(scheduler, name)
    tls = {k: v for k, v in (tls or {}).items() if v}
    if address.startswith("tls://") and len(tls) != 3:
        raise ConfigError("a tls:// scheduler needs --tls-ca-file, --tls-cert and --tls-key (PEM files); got "
                          f"{', '.join(sorted(tls)) or 'none of them'}")
    if tls and not address.startswith("tls://"):
        raise ConfigError(f"the TLS options need a tls:// scheduler address; got {scheduler[:200]!r}")
    try:
        dask = importlib.import_module(".dask_executor", __package__)  # the optional extra, loaded on demand
    except ImportError as e:
        raise ConfigError(f"{name} needs Dask's distributed package ({e}); install it with: {DASK_EXTRA}") \
            from None
    return dask.DaskExecutor(address, n_local=n_local, tls=tls)


def run_groups(executor, configs: list[ExperimentConfig], data_config: ExperimentConfig, *,
               progress: Callable[[float, str], None] | None = None, should_stop: Callable[[], bool] | None = None,
               weights: list[float] | None = None) -> tuple[dict[int, pd.DataFrame], bool]:
    """Train every config (one group each) on `executor`; ({index: log}, complete). progress(fraction, message)
    after each group; should_stop() -> True stops: queued groups are dropped, running ones stop at their next
    check and their rows so far are kept (status `cancelled`); complete is then False."""
    weights = weights or [1.0] * len(configs)
    total, done = sum(weights) or 1.0, 0.0
    data_json = data_config.to_json()
    todo = list(range(len(configs)))[::-1]
    running: dict[object, int] = {}
    logs: dict[int, pd.DataFrame] = {}
    stopped, stopped_at = False, None
    while todo or running:
        while todo and not stopped and len(running) < IN_FLIGHT_PER_WORKER * executor.workers:
            i = todo.pop()
            running[executor.submit(configs[i].to_json(), data_json)] = i
        finished, _ = executor.wait(list(running), timeout=POLL_S)
        for f in finished:
            i = running.pop(f)
            if f.cancelled():
                continue
            log = f.result()
            if stopped and (log["step"] == 0).all():
                continue  # started after the stop: it trained nothing
            logs[i] = log
            done += weights[i]
            if progress is not None:
                progress(min(1.0, done / total), f"B={configs[i].batch_sizes[0]} done")
            if (logs[i]["status"] == "cancelled").any():
                stopped = True
        if not stopped and should_stop is not None and should_stop():
            stopped = True
        if stopped and (todo or running):
            if stopped_at is None:
                stopped_at = time.monotonic()
                executor.stop(list(running))
            elif time.monotonic() - stopped_at > STOP_GRACE_S:
                break  # what is still out will not come back
            todo = []
    return logs, not stopped and len(logs) == len(configs)


def split_by_batch_size(config: ExperimentConfig, n_train: int) -> list[ExperimentConfig] | None:
    """One config per distinct batch size (in the config's order; "full" resolved), each measuring its
    checkpoints on the whole config's `plan.eval_size` examples, so that every group computes what it computes
    inside the whole run; None if a group's evaluation size would still differ (then run the config whole)."""
    n_eval = eval_size(config, n_train, plan_runs(config, n_train))
    groups = [config.replace(batch_sizes=(b,), eval_examples=n_eval) for b in config.resolved_batch_sizes(n_train)]
    if any(eval_size(g, n_train, plan_runs(g, n_train)) != n_eval for g in groups):
        return None
    return groups


def assemble_log(config: ExperimentConfig, logs: list[pd.DataFrame]) -> pd.DataFrame:
    """The groups' logs (in the config's batch-size order, a prefix of them after a stop) in run_experiment's
    row order: for seed, for batch size, for lr; every run logs its step 0 first."""
    per_seed = len(config.lrs)
    blocks = []  # blocks[g][r]: rows of run r of group g (runs ordered seed-major, then lr)
    for log in logs:
        starts = [*np.flatnonzero(log["step"].to_numpy() == 0), len(log)]
        blocks.append([log.iloc[a:b] for a, b in zip(starts[:-1], starts[1:], strict=True)])
    ordered = [runs[i] for si in range(len(config.seeds)) for runs in blocks
               for i in range(si * per_seed, (si + 1) * per_seed) if i < len(runs)]
    return pd.concat(ordered, ignore_index=True) if ordered else logs[0].iloc[:0].copy()
