"""Cached engine calls for the pages. Keys are the config (as JSON) and an uploaded file's bytes.

`st.cache_data` hands every caller its own copy and is shared by all sessions, so two users with the
same config share the work but never each other's objects. Entries and age are bounded for a hosted app.
"""

from __future__ import annotations

import io

import streamlit as st

from gd_core import ExperimentConfig, Results, build_dataset, run_experiment


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def cached_run(config_json: str, csv_bytes: bytes | None = None, _progress=None) -> Results:
    """run_experiment for a config; `csv_bytes` is the uploaded file when dataset == 'csv'."""
    config = ExperimentConfig.from_json(config_json)
    dataset = None
    if config.dataset == "csv":
        dataset = build_dataset(config, csv_source=io.BytesIO(csv_bytes or b""))
    return run_experiment(config, dataset=dataset, progress=_progress)


def run(config: ExperimentConfig, csv_bytes: bytes | None = None, label: str = "Running") -> Results:
    """Run (or fetch from the cache) with a progress bar while it computes."""
    bar = st.empty()

    def progress(fraction: float, message: str) -> None:
        bar.progress(fraction, text=f"{label}: {message}")

    try:
        return cached_run(config.to_json(), csv_bytes, _progress=progress)
    finally:
        bar.empty()
