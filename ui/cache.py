"""Cached engine runs for the pages, cached per *run group*: the runs of one batch size.

A config's runs at batch size B depend only on (the config minus `batch_sizes`, B) and on how many examples
each checkpoint measures (`plan.eval_size`: on sets larger than `eval_examples` it is sized from the
shortest run of the whole comparison). So a config is split into one sub-config per batch size, with
`eval_examples` pinned to the full config's evaluation size; each sub-config is cached under its JSON (and an
upload's SHA-256), only the missing ones are computed, and their logs are put back in the runner's order
(seed, batch size, lr) with the summary rebuilt by `summarize`. Adding a batch size computes one group. The
assembled results are stored too, so a rerun with an unchanged config is one lookup.

The store is one bounded LRU shared by all sessions (`st.cache_resource`, guarded by a lock): two users with
the same config share the work, and each caller gets its own copy of the frames, so nobody can change
another's results. It is bounded in entries and in bytes, for a hosted app. A run computes *outside* any
`st.cache_data` function so that its progress bar is a plain element (cache_data would record the bar and
fail to replay it on a hit).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
import pandas as pd
import streamlit as st

from gd_core import ExperimentConfig, Results, build_dataset, read_csv_columns, run_experiment, summarize
from gd_core.cli.executor import assemble_log
from gd_core.data.csv import MAX_COLUMNS, CSVError
from gd_core.science.regression import target_stats
from gd_core.train.limits import check_work_budget, estimate_work
from gd_core.train.plan import eval_size, plan_runs, total_steps
from gd_core.train.runner import build_problem
from ui import cluster as ui_cluster
from ui.i18n import t
from ui.presets import HOSTED_MAX_SAMPLES
from ui.share import HOST_MAX_BYTES, HOST_MAX_VALUES, HOST_MAX_WORK, HOST_TIME_LIMIT_S, fit_host_budget, fit_to_data

MAX_ENTRIES = 192  # run groups (one batch size each): 48 comparisons of 4 batch sizes
MAX_BYTES = 200 * 2**20  # run logs are small (~200 rows a run); this bounds a hosted app's memory
PROGRESS_EVERY_S = 0.2  # progress bar updates (each a message to the browser) at most this often
MAX_PLANS = 1024  # tiny (n_train, eval size) records, one per full config seen
WAIT_TICK_S = 0.1  # a session waiting for another's identical run, or for a compute slot, looks up this often
# Computations at once on this host (GDLAB_COMPUTE_SLOTS), and how long one runs before it lets a waiting one in
COMPUTE_SLOTS = max(1, int(os.environ.get("GDLAB_COMPUTE_SLOTS", "1") or 1))
QUANTUM_S = 0.25
LINGER_S = 0.05  # a request between two of its run groups keeps its claim on the slot this long
_RUN_FIELDS_DEFAULTS = {"target_loss": None, "target_metric": "train_loss"}  # summary-only fields


class Plan(NamedTuple):
    n_train: int
    eval_examples: int  # plan.eval_size of the full config: every group measures on this many examples
    config: ExperimentConfig  # what runs: a CSV's config fitted to its data (`fit_to_data`, `fit_host_budget`)
    work: float = 0.0  # gd_core.train.limits.estimate_work of the whole config


class _Flight:
    def __init__(self):
        self.done, self.result, self.failed, self.fraction = threading.Event(), None, False, 0.0


class SingleFlight:
    """Identical computations asked for at the same time run once: the first caller of a key computes it, the
    others wait for its result (polling `tick(fraction)` every WAIT_TICK_S: where a waiting session's progress
    shows and where Streamlit stops a closed one). If the computing caller fails or is stopped (its session
    ended), a waiter computes the key itself."""

    def __init__(self):
        self._lock = threading.Lock()
        self._flights: dict[str, _Flight] = {}

    def do(self, key: str, compute, tick=None, usable=lambda result: True):
        """compute(report) -> result, report(fraction) telling the waiters how far it is."""
        while True:
            with self._lock:
                flight = self._flights.get(key)
                leader = flight is None
                if leader:
                    flight = self._flights[key] = _Flight()
            if leader:
                try:
                    flight.result = compute(lambda fraction, _f=flight: setattr(_f, "fraction", fraction))
                except BaseException:
                    flight.failed = True
                    raise
                finally:
                    with self._lock:
                        del self._flights[key]
                    flight.done.set()
                return flight.result
            while not flight.done.wait(WAIT_TICK_S):
                if tick is not None:
                    tick(flight.fraction)
            if not flight.failed and usable(flight.result):
                return flight.result

    def __len__(self) -> int:
        return len(self._flights)


class Account:
    """Seconds one request's computations have held compute slots (all its run groups')."""

    def __init__(self):
        self.used = 0.0


class _Slot:
    def __init__(self, gate: FairGate, tick, account: Account | None = None):
        self.gate, self.tick, self.since = gate, tick, 0.0
        self.account = account if account is not None else Account()

    @property
    def used(self) -> float:
        return self.account.used

    def turn(self) -> bool:
        """Called at the engine's checks: while a computation that has had a quantum less of the host waits
        (`FairGate.should_yield`), give the slot up and queue again. Returns False (never asks the run to stop)."""
        if self.gate.should_yield(self):
            self.gate.release(self)
            self.gate.acquire(self)
        return False


class FairGate:
    """At most `slots` computations at once on this host, least attained service first: a free slot goes to the
    waiting computation that has held slots for the shortest time so far (first come, first served among
    equals), and a computation gives its slot up at its next check (`_Slot.turn`, from the engine's should_stop)
    when one that has had more than `quantum_s` less of the host waits. A short request arriving while a long one
    runs gets the host at the long one's next check and keeps it until it is done (it never catches up with the
    long one's time), instead of sharing it turn by turn; two long ones alternate about every quantum."""

    def __init__(self, slots: int = COMPUTE_SLOTS, quantum_s: float = QUANTUM_S):
        self.slots, self.quantum_s = slots, quantum_s
        self._cond = threading.Condition()
        self._queue: list[_Slot] = []  # waiting, in arrival order
        self._busy = 0
        self._claim: tuple[Account, float] | None = None  # (a request, until): its next group goes first

    def waiting(self) -> bool:
        return bool(self._queue)

    def _next(self) -> _Slot:
        return min(self._queue, key=lambda s: s.used)  # the first of the least served

    def _claimant(self) -> Account | None:
        if self._claim is not None and time.perf_counter() >= self._claim[1]:
            self._claim = None
        return self._claim[0] if self._claim is not None else None

    def _may_take(self, slot: _Slot) -> bool:
        if self._busy >= self.slots:
            return False
        claimant = self._claimant()
        return slot.account is claimant if claimant is not None else self._next() is slot

    def should_yield(self, slot: _Slot) -> bool:
        """Whether `slot` should give its slot up now: a waiting request has had more than a quantum less of the
        host than it (so two long ones alternate about every quantum, and a new one gets in at once)."""
        held = time.perf_counter() - slot.since
        with self._cond:
            return bool(self._queue) and self._next().used + self.quantum_s < slot.used + held

    def acquire(self, slot: _Slot) -> None:
        with self._cond:
            self._queue.append(slot)
            try:
                while not self._may_take(slot):
                    claim_left = self._claim[1] - time.perf_counter() if self._claim is not None else WAIT_TICK_S
                    self._cond.wait(max(0.001, min(WAIT_TICK_S, claim_left)))
                    if slot.tick is not None and not self._may_take(slot):
                        self._cond.release()  # the tick may draw (or stop the session): not under the lock
                        try:
                            slot.tick()
                        finally:
                            self._cond.acquire()
            except BaseException:
                self._queue.remove(slot)
                self._cond.notify_all()
                raise
            self._queue.remove(slot)
            if self._claimant() is slot.account:
                self._claim = None
            self._busy += 1
            slot.since = time.perf_counter()
            self._cond.notify_all()

    def release(self, slot: _Slot) -> None:
        """Give the slot up. A request that has had no more of the host than every waiting one (a short request
        between two of its run groups) keeps a claim on it for LINGER_S: the long one waiting does not get back
        in between its groups."""
        with self._cond:
            slot.account.used += time.perf_counter() - slot.since
            self._busy -= 1
            if self._queue and slot.account.used <= self._next().used:
                self._claim = (slot.account, time.perf_counter() + LINGER_S)
            self._cond.notify_all()

    @contextmanager
    def slot(self, tick=None, account: Account | None = None):
        """A slot for the `with` block, its time charged to `account` (a request's); `tick()` is called while
        waiting for it."""
        s = _Slot(self, tick, account)
        self.acquire(s)
        try:
            yield s
        finally:
            self.release(s)


def frame_digest(df: pd.DataFrame) -> str:
    """SHA-256 of a DataFrame's column names and dtypes, index and every value: a NumPy column's raw bytes, a
    string column's values as JSON, any other column's pandas row hashes: ~0.4-0.7x the time of pandas' row
    hashes of every column. A stored run's log is digested once for all sessions (`RunStore.log_digest`)."""
    h, columns = hashlib.sha256(), []
    for name, col in df.items():
        columns.append([str(name), str(col.dtype)])
        h.update(_column_bytes(col))
    index = df.index
    if type(index) is pd.RangeIndex:  # a run log's, a summary's: its three numbers
        index_header = ["range", index.start, index.stop, index.step]
    else:
        index_header = ["rows", str(index.dtype)]
        h.update(pd.util.hash_pandas_object(index).to_numpy().tobytes())
    h.update(json.dumps([df.shape, columns, index_header]).encode())
    return h.hexdigest()


def _column_bytes(col: pd.Series) -> bytes:
    if isinstance(col.dtype, np.dtype) and col.dtype.kind in "biufcmM":  # numbers, booleans, times
        return np.ascontiguousarray(col.to_numpy()).tobytes()
    if isinstance(col.dtype, pd.StringDtype):  # strings and missing values, each told apart by JSON
        return json.dumps(col.tolist(), default=_missing_as_null).encode()
    return pd.util.hash_pandas_object(col, index=False).to_numpy().tobytes()


def _missing_as_null(value):
    if value is pd.NA:  # a "string" column's missing value ("str" columns hold NaN, which JSON writes as NaN)
        return None
    raise TypeError(f"not a string column's value: {value!r}")


class RunStore:
    """A thread-safe LRU of Results, bounded in entries and bytes (plus a small LRU of Plans), with the host's
    single-flight table and compute gate."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES, slots: int = COMPUTE_SLOTS):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self.flights, self.gate = SingleFlight(), FairGate(slots)
        # key -> [results, size in bytes, frame_digest of its log once a session asked (log_digest)]
        self._items: OrderedDict[str, list] = OrderedDict()
        self._plans: OrderedDict[str, Plan] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Results | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: str, results: Results) -> None:
        size = int(results.log.memory_usage(deep=True).sum() + results.summary.memory_usage(deep=True).sum())
        with self._lock:
            self._items[key] = [results, size, None]
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries or (
                    len(self._items) > 1 and sum(item[1] for item in self._items.values()) > self.max_bytes):
                self._items.popitem(last=False)

    def log_digest(self, results: Results) -> str:
        """`frame_digest(results.log)`: made once for a stored Results (the object `get` returns), for all the
        sessions that draw it; made each time for any other."""
        with self._lock:
            item = next((item for item in self._items.values() if item[0] is results), None)
            if item is not None and item[2] is not None:
                return item[2]
        digest = frame_digest(results.log)
        if item is not None:
            with self._lock:
                item[2] = digest  # dropped with its item
        return digest

    def get_plan(self, key: str) -> Plan | None:
        with self._lock:
            return self._plans.get(key)

    def put_plan(self, key: str, plan: Plan) -> None:
        with self._lock:
            self._plans[key] = plan
            self._plans.move_to_end(key)
            while len(self._plans) > MAX_PLANS:
                self._plans.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


@st.cache_resource
def _store() -> RunStore:
    return RunStore()


def cache_key(config: ExperimentConfig, csv_bytes: bytes | None) -> str:
    digest = hashlib.sha256(csv_bytes).hexdigest() if csv_bytes is not None else "-"
    return f"{config.to_json()}|{digest}"


def _assembled_key(full_key: str) -> str:
    """The key of a whole config's results put together from its run groups: a rerun's lookup."""
    return f"assembled|{full_key}"


def stored(config: ExperimentConfig, csv_bytes: bytes | None = None) -> bool:
    """Whether `run(config, csv_bytes)` would find its results in the store, computing nothing."""
    store, key = _store(), cache_key(config, csv_bytes)
    return store.get(_assembled_key(key)) is not None or store.get(key) is not None


def _copy(r: Results) -> Results:
    return Results(r.log.copy(), r.summary.copy(), r.config)


def load_dataset(config: ExperimentConfig, csv_bytes: bytes | None):
    if config.dataset == "csv":
        check_upload_size(csv_bytes or b"")
        return build_dataset(config, csv_source=io.BytesIO(csv_bytes or b""), max_rows=HOSTED_MAX_SAMPLES)
    return build_dataset(config)


def check_upload_size(data: bytes) -> None:
    """Raise CSVError, before the file is parsed, if an upload has more data rows than HOSTED_MAX_SAMPLES or more
    numbers than HOST_MAX_VALUES (the generated data's cap), counted from its line breaks and header: parsing
    costs several times the file's size in memory, so it must not start on a file that would be refused after."""
    rows = data.count(b"\n") + (not data.endswith(b"\n")) - 1  # an upper bound: blank lines count too
    if rows <= HOSTED_MAX_SAMPLES and rows * (MAX_COLUMNS - 1) <= HOST_MAX_VALUES:
        return  # small enough whatever its width
    head = data[:data.find(b"\n", 0, 1 << 20) + 1]  # the header line (within 1 MB; else refused as too wide)
    if not head:
        raise CSVError("the CSV file's header line is longer than 1 MB; a header names at most "
                       f"{MAX_COLUMNS:,} columns")
    width = len(read_csv_columns(io.BytesIO(head)))
    if rows > HOSTED_MAX_SAMPLES:
        raise CSVError(f"the CSV file must have at most {HOSTED_MAX_SAMPLES:,} data rows on this host; it has about "
                       f"{rows:,}: use a sample of its rows, or python -m gd_core run --csv ...")
    if rows * (width - 1) > HOST_MAX_VALUES:
        raise CSVError(f"the CSV file must hold at most {HOST_MAX_VALUES:,} feature values on this host; it has about "
                       f"{rows:,} rows x {width - 1:,} feature columns = {rows * (width - 1):,}: use fewer rows or "
                       "columns, or python -m gd_core run --csv ...")


def compute(config: ExperimentConfig, csv_bytes: bytes | None = None, progress=None, should_stop=None,
            dataset=None, deadline: float | None = None) -> Results:
    """run_experiment for a whole config (no cache); `csv_bytes` is the uploaded file when dataset == 'csv'."""
    if dataset is None and config.dataset == "csv":
        dataset = load_dataset(config, csv_bytes)
    return run_experiment(config, dataset=dataset, progress=progress, should_stop=should_stop,
                          max_work=HOST_MAX_WORK, max_bytes=HOST_MAX_BYTES, deadline=deadline)


def group_configs(config: ExperimentConfig, plan: Plan) -> list[ExperimentConfig]:
    """One sub-config per distinct batch size (in the config's order): batch_sizes=(B,) with "full" resolved,
    eval_examples pinned to the full config's evaluation size, summary-only fields at their defaults."""
    return [config.replace(batch_sizes=(b,), eval_examples=plan.eval_examples, **_RUN_FIELDS_DEFAULTS)
            for b in config.resolved_batch_sizes(plan.n_train)]


def fit_csv(config: ExperimentConfig, ds) -> ExperimentConfig:
    """A CSV's config made to fit its data, known only once read: batch sizes above its training set run as
    full batch, and the work is fitted to the host's budget (`ui.share.fit_host_budget`). The page notes what
    changed by comparing the config it asked for with `Results.config`."""
    if config.dataset != "csv":
        return config
    config, _ = fit_to_data(config, ds.n_train)
    shape = dict(n_train=ds.n_train, n_params=build_problem(config, ds).n_params, n_features=ds.n_features,
                 n_outputs=ds.n_classes or 1)
    return fit_host_budget(config, **shape)[0]


def _plan(config: ExperimentConfig, ds) -> Plan | None:
    """Check the whole config's budget (as run_experiment would) and size its evaluation; None when the
    groups would not reproduce the whole run (their evaluation size differs), so it is cached whole."""
    problem = build_problem(config, ds)
    check_work_budget(config, ds.n_train, problem.n_params, HOST_MAX_WORK, n_features=ds.n_features,
                      n_outputs=ds.n_classes or 1, max_bytes=HOST_MAX_BYTES)
    n_eval = eval_size(config, ds.n_train, plan_runs(config, ds.n_train))
    plan = Plan(ds.n_train, n_eval, config, estimate_work(config, ds.n_train, ds.n_features, problem.n_params))
    for sub in group_configs(config, plan):
        if eval_size(sub, ds.n_train, plan_runs(sub, ds.n_train)) != n_eval:
            return None
    return plan


def _assemble(config: ExperimentConfig, parts: list[Results]) -> Results:
    """Concatenate the groups' logs in run_experiment's order: for seed, for batch size, for lr."""
    log = assemble_log(config, [part.log for part in parts])
    return Results(log, summarize(log, config.target_loss, config.target_metric), config)


def _complete(results: Results) -> bool:
    return bool((results.summary["status"] != "cancelled").all())


def _shared(store: RunStore, key: str, config: ExperimentConfig, csv_bytes, progress, should_stop, ds,
            deadline, account: Account | None = None) -> Results:
    """`compute` of `config`, stored under `key` unless cancelled; computed once for all sessions asking for
    it at the same time (store.flights), in turns of the host's compute slots (store.gate) charged to
    `account` (the request's)."""

    def tick(fraction=0.0):
        if progress is not None:
            progress(fraction, t("progress.waiting") if fraction else t("progress.queued"))

    def lead(report):
        hit = store.get(key)  # finished by a leader that was gone by the time this caller asked
        if hit is not None:
            return hit

        def progress_both(fraction, message):
            report(fraction)
            if progress is not None:
                progress(fraction, message)

        with store.gate.slot(tick, account) as slot:
            results = compute(config, csv_bytes, progress_both,
                              lambda: slot.turn() or (should_stop is not None and should_stop()), ds, deadline)
        if _complete(results):
            store.put(key, results)
        return results

    hit = store.get(key)  # computed by another session since this one looked
    return hit if hit is not None else store.flights.do(key, lead, tick, usable=_complete)


def results_for(config: ExperimentConfig, csv_bytes: bytes | None = None, progress=None, should_stop=None,
                store: RunStore | None = None, deadline: float | None = None,
                cluster: ui_cluster.Cluster | None = None) -> Results:
    """The results of `config`: cached run groups reused, missing ones computed (progress(fraction, message)
    over the missing work only). `deadline` (a time.perf_counter() value) bounds the computing: runs still
    training then stop (time_limit), groups not started are left out (and the whole is not stored). With a Dask
    `cluster`, a comparison of generated data whose work is at least ui.cluster.HOME_MIN_WORK trains its missing
    groups there (`ui.cluster.train_groups`). Returns the store's objects: callers copy."""
    store = store if store is not None else _store()
    full_key = cache_key(config, csv_bytes)
    ds = None
    plan = store.get_plan(full_key)
    if plan is None:
        if progress is not None:
            progress(0.0, t("progress.preparing"))
        ds = load_dataset(config, csv_bytes)
        config = fit_csv(config, ds)
        plan = _plan(config, ds)
        if plan is None:  # whole-config caching
            hit = store.get(full_key)
            if hit is None:
                hit = _shared(store, full_key, config, csv_bytes, progress, should_stop, ds, deadline)
            return hit
        store.put_plan(full_key, plan)
    config = plan.config
    assembled_key = _assembled_key(full_key)
    hit = store.get(assembled_key)
    if hit is not None:
        return hit
    subs = group_configs(config, plan)
    keys = [cache_key(sub, csv_bytes) for sub in subs]
    parts = [store.get(k) for k in keys]
    missing = [i for i, part in enumerate(parts) if part is None]
    weights = {i: total_steps(config, plan.n_train, subs[i].batch_sizes[0]) * (1 + subs[i].batch_sizes[0] / 64)
               for i in missing}
    if missing and progress is not None:
        progress(0.0, t("progress.to_compute", n=len(missing), total=len(subs)))
    if missing and cluster is not None and config.dataset != "csv" and plan.work >= ui_cluster.HOME_MIN_WORK:
        logs = ui_cluster.train_groups(cluster, [subs[i] for i in missing], config, progress, deadline)
        if logs is not None:  # None: the cluster failed them (a warning says so), trained below on this server
            for j, log in logs.items():
                i = missing[j]
                parts[i] = Results(log, summarize(log, subs[i].target_loss, subs[i].target_metric), subs[i])
                if _complete(parts[i]):
                    store.put(keys[i], parts[i])
            missing = [i for i, part in enumerate(parts) if part is None]
            if missing or not all(_complete(p) for p in parts):  # the request's time ran out on the cluster
                return _assemble(config, [p for p in parts if p is not None])
    done, account = 0.0, Account()  # the request's groups are charged together at the compute gate
    for i in missing:
        if deadline is not None and time.perf_counter() > deadline and any(p is not None for p in parts):
            return _assemble(config, [p for p in parts if p is not None])  # the request's time is up
        if ds is None:
            ds = load_dataset(config, csv_bytes)

        def report(fraction, message, _done=done, _w=weights[i]):
            if progress is not None:
                progress(min(1.0, (_done + fraction * _w) / sum(weights.values())), message)

        parts[i] = _shared(store, keys[i], subs[i], csv_bytes, report, should_stop, ds, deadline, account)
        done += weights[i]
        if (parts[i].summary["status"] == "cancelled").any():
            return _assemble(config, [p for p in parts if p is not None])

    def assemble(_report):
        hit = store.get(assembled_key)  # put together by a caller that finished before this one asked
        if hit is None:
            hit = _assemble(config, parts)
            store.put(assembled_key, hit)
        return hit

    # the sessions that waited for the same groups get them at the same moment: one of them puts them together
    return store.flights.do(assembled_key, assemble)


class SessionRun(NamedTuple):
    """A run as one session gets it: its own copy of the results (its frames are the session's to change) and
    `log_digest`, the `frame_digest` of the log as the store holds it, made once for all sessions: the figure
    store's key for the log's charts (`ui.figure_cache`)."""

    results: Results
    log_digest: str


def run(config: ExperimentConfig, csv_bytes: bytes | None = None, label: str = "Running") -> Results:
    """The results of `config`, from the shared store or computed now with a progress bar, in at most
    HOST_TIME_LIMIT_S for the whole request. Each bar update is also where Streamlit stops the script when its
    session ends (the tab closed) or reruns: the engine reports at checkpoints and inside long intervals."""
    return _copy(_shared_run(config, csv_bytes, label, _store()))


def session_run(config: ExperimentConfig, csv_bytes: bytes | None = None, label: str = "Running") -> SessionRun:
    """`run`, with the log's digest."""
    store = _store()
    shared = _shared_run(config, csv_bytes, label, store)
    return SessionRun(_copy(shared), store.log_digest(shared))


def _shared_run(config: ExperimentConfig, csv_bytes: bytes | None, label: str, store: RunStore) -> Results:
    """`run`'s results as the store holds them (not copied), with the progress bar."""
    bar, last = None, 0.0

    def progress(fraction: float, message: str) -> None:
        nonlocal bar, last
        now = time.perf_counter()
        if bar is not None and now - last < PROGRESS_EVERY_S and fraction < 1.0:
            return
        last = now
        if bar is None:
            bar = st.progress(0.0, text=f"{label}...")
        bar.progress(fraction, text=f"{label}: {message}")

    try:
        return results_for(config, csv_bytes, progress, store=store, deadline=time.perf_counter() + HOST_TIME_LIMIT_S,
                           cluster=ui_cluster.connect())
    finally:
        if bar is not None:
            bar.empty()


def cached_run(config_json: str, csv_bytes: bytes | None = None) -> Results:
    """`run` for a config given as JSON (no progress bar)."""
    return _copy(results_for(ExperimentConfig.from_json(config_json), csv_bytes))


@st.cache_data(max_entries=32, show_spinner=False)
def _target_stats(key: str, _config: ExperimentConfig, _csv_bytes: bytes | None):
    return target_stats(load_dataset(_config, _csv_bytes))


def regression_stats(config: ExperimentConfig, csv_bytes: bytes | None):
    """`gd_core.science.regression.target_stats` of the config's data (a few numbers, cached by config and
    upload), for the RMSE and R² of a regression summary; None for classification."""
    return _target_stats(cache_key(config, csv_bytes), config, csv_bytes)
