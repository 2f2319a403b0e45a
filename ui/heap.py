"""The Python heap of a dashboard server: the objects every session shares are kept out of the cyclic GC's scans.

Streamlit runs a full garbage collection (`gc.collect(2)`) after every script run (`runner.postScriptGC`, on by
default: a closed session's memory is given back at once). A full collection traverses every tracked object in
the process, and almost all of them are the imported modules' functions, classes and dicts (plotly, pandas,
Streamlit, NumPy: ~146,000 objects after a home page run), which live as long as the server. Each collection cost
~70 ms of CPU, more than half of what a further session with an already computed config cost the server
(benchmarks/results/2026-12-07-load-3.md).

`freeze_imported_objects` collects, then moves every object alive at that moment into the interpreter's permanent
generation (`gc.freeze`): later collections skip them, and still collect what each run leaves behind. It acts at
the start of a script run (`ui.nav.page_links`, which every page calls first, after its imports) when modules
were imported since it last acted: the first run of the process, and the first run after one that imported
modules lazily (the engine, a page's first visit). Reference counting still frees a frozen object that is no
longer used; only a reference cycle among objects alive at a freeze is never collected: the modules' own, and
whatever a session then holding results had in cycles. Module imports are finite, so freezes are too; at most
MAX_FREEZES, whatever happens.
"""

from __future__ import annotations

import gc
import sys
import threading

import streamlit as st

MAX_FREEZES = 20  # a process imports finitely many modules: a bound in case something adds one per run


class Freezer:
    """Freezes the heap when modules were imported since its last freeze (`gc.freeze` acts on the whole process:
    one Freezer per server, `_freezer`)."""

    def __init__(self, max_freezes: int = MAX_FREEZES):
        self.max_freezes, self.freezes, self.modules = max_freezes, 0, 0
        self._lock = threading.Lock()

    def _due(self) -> bool:
        return len(sys.modules) > self.modules and self.freezes < self.max_freezes

    def freeze_if_due(self) -> bool:
        """Collect, then freeze every object alive now, if modules were imported since the last freeze (or none
        was made) and fewer than `max_freezes` were made; else do nothing. Returns True when this call froze."""
        if not self._due():
            return False
        with self._lock:
            if not self._due():
                return False
            gc.collect()  # garbage alive now would never be collected once frozen
            gc.freeze()
            self.modules, self.freezes = len(sys.modules), self.freezes + 1
            return True


@st.cache_resource
def _freezer() -> Freezer:
    return Freezer()


def freeze_imported_objects() -> bool:
    """The server's `Freezer.freeze_if_due`."""
    return _freezer().freeze_if_due()
