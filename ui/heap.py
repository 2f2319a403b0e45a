"""The Python heap of a dashboard server: the objects every session shares are kept out of the cyclic GC's scans.

A full garbage collection traverses every tracked object in the process, and almost all of them are the imported
modules' functions, classes and dicts (plotly, pandas, Streamlit, NumPy: ~146,000 objects after a home page run),
which live as long as the server. Streamlit runs one after every script run by default (`runner.postScriptGC`):
~70 ms of CPU each, more than half of what a further session with an already computed config cost the server
(benchmarks/results/2026-12-07-load-3.md). This app turns that off (`.streamlit/config.toml`): even with the
modules frozen it traversed every open session's objects, once per session. `Collector` collects instead at the
start of a page run, at most every COLLECT_EVERY_S seconds, so that what closed sessions leave in reference
cycles (an upload, through their script's globals) is still given back soon.

`freeze_imported_objects` collects, then moves every object alive at that moment into the interpreter's permanent
generation (`gc.freeze`): later collections skip them, and still collect what each run leaves behind. It acts
once per process, at the start of its first script run (`ui.nav.page_links`, which every page calls first, after
its imports), when no session holds results yet. Reference counting still frees a frozen object that is no longer
used; what is never collected is a reference cycle among the objects frozen: the modules' own, and the first
session's (its Streamlit session objects and, through them, what it holds when it closes: one session's state).
Before it freezes, it builds what a page's first figure builds on first use (`build_lazy_parts`): plotly makes a
chart template's objects, and imports its trace types' classes, when a figure first uses the template (~12,000
objects). What is made later (another page's modules, the sessions' objects) stays in the scans: ~10,000 objects
after a home page run. Freezing again after it would also freeze every session open at that moment, so that each
of them would never be collected once closed.
"""

from __future__ import annotations

import gc
import threading
import time

import streamlit as st

COLLECT_EVERY_S = 10.0  # a full collection at the start of a page run, at most this often (Collector)


def build_lazy_parts() -> None:
    """Build what the pages' first figure builds on first use: the objects of the chart templates (the home
    charts' `ui.charts.TEMPLATE` and plotly's default, the other pages'), with figure frames and a pandas column
    (read through narwhals) in the same figure."""
    import pandas as pd
    import plotly.graph_objects as go
    import plotly.io as pio

    from ui.charts import TEMPLATE

    for template in dict.fromkeys((TEMPLATE, pio.templates.default)):
        go.Figure(go.Scatter(x=pd.Series([0.0]), y=[0.0]), layout_template=template, frames=[go.Frame()])


class Freezer:
    """Freezes the heap once (`gc.freeze` acts on the whole process: one Freezer per server, `_freezer`), after
    `prepare()` (default `build_lazy_parts`)."""

    def __init__(self, prepare=build_lazy_parts):
        self.frozen, self.prepare = False, prepare
        self._lock = threading.Lock()

    def freeze_once(self) -> bool:
        """Prepare, collect, then freeze every object alive now, the first time; later calls do nothing. Returns
        True when this call froze."""
        if self.frozen:
            return False
        with self._lock:
            if self.frozen:
                return False
            self.prepare()
            gc.collect()  # garbage alive now would never be collected once frozen
            gc.freeze()
            self.frozen = True
            return True


@st.cache_resource
def _freezer() -> Freezer:
    return Freezer()


def freeze_imported_objects() -> bool:
    """The server's `Freezer.freeze_once`."""
    return _freezer().freeze_once()


class Collector:
    """A full collection at the start of a page run, at most every `every_s` seconds (one per server:
    `_collector`), instead of Streamlit's after every run. A closed session's script globals sit in reference
    cycles (its functions and download callbacks point back at them), and they hold its data, an upload
    included: this frees them within `every_s` of the next run, where Python's own full collections may wait for
    hundreds of runs."""

    def __init__(self, every_s: float = COLLECT_EVERY_S, clock=time.monotonic):
        self.every_s, self.clock = every_s, clock
        self._last = clock()
        self._lock = threading.Lock()

    def collect_if_due(self) -> bool:
        """Collect if `every_s` has passed since the last time (or since this Collector was made). Returns True
        when this call collected."""
        now = self.clock()
        with self._lock:
            if now - self._last < self.every_s:
                return False
            self._last = now
        gc.collect()
        return True


@st.cache_resource
def _collector() -> Collector:
    return Collector()


def collect_if_due() -> bool:
    """The server's `Collector.collect_if_due`."""
    return _collector().collect_if_due()
