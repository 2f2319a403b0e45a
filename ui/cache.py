"""Cached engine runs for the pages, keyed by the full config (as JSON) and an uploaded file's content hash.

The store is one bounded LRU shared by all sessions (`st.cache_resource`, guarded by a lock): two users with
the same config share the work, and each caller gets its own copy of the frames, so nobody can change
another's results. It is bounded in entries and in bytes, for a hosted app. A run computes *outside* any
`st.cache_data` function so that its progress bar is a plain element (cache_data would record the bar and
fail to replay it on a hit).
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict

import streamlit as st

from gd_core import ExperimentConfig, Results, build_dataset, run_experiment
from ui.presets import HOSTED_MAX_SAMPLES
from ui.share import HOST_MAX_BYTES, HOST_MAX_WORK

MAX_ENTRIES = 48
MAX_BYTES = 200 * 2**20  # run logs are small (~200 rows a run); this bounds a hosted app's memory


class RunStore:
    """A thread-safe LRU of Results, bounded in entries and bytes."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._items: OrderedDict[str, tuple[Results, int]] = OrderedDict()
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
            self._items[key] = (results, size)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries or (
                    len(self._items) > 1 and sum(s for _, s in self._items.values()) > self.max_bytes):
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


@st.cache_resource
def _store() -> RunStore:
    return RunStore()


def cache_key(config: ExperimentConfig, csv_bytes: bytes | None) -> str:
    digest = hashlib.sha256(csv_bytes).hexdigest() if csv_bytes is not None else "-"
    return f"{config.to_json()}|{digest}"


def _copy(r: Results) -> Results:
    return Results(r.log.copy(), r.summary.copy(), r.config)


def compute(config: ExperimentConfig, csv_bytes: bytes | None = None, progress=None, should_stop=None) -> Results:
    """run_experiment for a config; `csv_bytes` is the uploaded file when dataset == 'csv'."""
    dataset = None
    if config.dataset == "csv":
        dataset = build_dataset(config, csv_source=io.BytesIO(csv_bytes or b""), max_rows=HOSTED_MAX_SAMPLES)
    return run_experiment(config, dataset=dataset, progress=progress, should_stop=should_stop,
                          max_work=HOST_MAX_WORK, max_bytes=HOST_MAX_BYTES)


def run(config: ExperimentConfig, csv_bytes: bytes | None = None, label: str = "Running") -> Results:
    """The results of `config`, from the shared store or computed now with a progress bar."""
    store, key = _store(), cache_key(config, csv_bytes)
    hit = store.get(key)
    if hit is None:
        bar = st.progress(0.0, text=f"{label}...")

        def progress(fraction: float, message: str) -> None:
            bar.progress(fraction, text=f"{label}: {message}")

        try:
            hit = compute(config, csv_bytes, progress)
        finally:
            bar.empty()
        if (hit.summary["status"] != "cancelled").all():
            store.put(key, hit)
    return _copy(hit)


def cached_run(config_json: str, csv_bytes: bytes | None = None) -> Results:
    """`run` for a config given as JSON (no progress bar)."""
    config = ExperimentConfig.from_json(config_json)
    store, key = _store(), cache_key(config, csv_bytes)
    hit = store.get(key)
    if hit is None:
        hit = compute(config, csv_bytes)
        store.put(key, hit)
    return _copy(hit)
