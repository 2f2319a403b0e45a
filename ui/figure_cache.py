"""Built Plotly figures shared by all sessions: a chart is rebuilt only when its data or its options change.

Building the home page's loss panels (3 subplots, 21 traces) is mostly plotly-python's validation, on every rerun
and for every session opening the same link, while `st.plotly_chart` copies a built Figure far faster (measured:
benchmarks/results/2026-12-07-code-comments.md). The store keeps
built figures in a bounded LRU (`st.cache_resource`, locked), keyed by the chart's name, a digest of the DataFrame
it draws and its options. Figures are only read after they are built (`st.plotly_chart` copies them with
`to_dict`), so sharing them cannot leak one session's changes into another's.

`st.plotly_chart` turns the figure into a dict (`Figure.to_dict`: every array re-checked and base64-encoded, ~60 ms
for the home page's playable panels, half a warm session's script) in every session that draws it. A stored
figure is a `SharedFigure`, which makes that dict once and hands each caller a deep copy of it (~5 ms).

Streamlit 1.67's `st.plotly_chart` then encodes that copy as JSON (`plotly.io.to_json`): with the copy, ~6 ms of
server CPU in every session for the home chart, the same ~200 KB of JSON each time. No public argument takes a
ready spec, so a small shim (`install_spec_shim`, at import) wraps the two plotly functions Streamlit calls: given
a `SharedFigure`, `plotly.tools.return_figure_from_figure_or_data` returns its `SharedSpec` (the shared dict, not
copied: Streamlit only reads it) and `plotly.io.to_json` returns that spec's JSON, made once per figure by plotly's
own `to_json` from a copy of the dict, so every session is sent the bytes it was sent before. Every other argument
goes to plotly's functions unchanged. tests/test_figure_cache.py fails if Streamlit stops taking this path.
"""

from __future__ import annotations

import copy
import json
import threading
from collections import OrderedDict
from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go
import plotly.io
import plotly.tools
import streamlit as st

from ui import i18n
from ui.cache import SingleFlight, frame_digest

MAX_FIGURES = 32  # a few hundred KB each


class SharedSpec(dict):
    """A shared figure's dict, as `st.plotly_chart` gets it through the shim, with its JSON (`json`), made once."""

    __slots__ = ("json",)


_shared_lock = threading.Lock()  # held only while a figure's dict or spec is first made


class SharedFigure(go.Figure):
    """A built figure that is no longer changed: `to_dict` is computed once, then deep-copied for each caller;
    `shared_spec` is that dict and its JSON, made once, for `st.plotly_chart` (through the shim)."""

    def _shared_dict_once(self) -> dict:
        memo = self.__dict__.get("_shared_dict")
        if memo is None:
            with _shared_lock:  # two sessions drawing a new figure at once: made once
                memo = self.__dict__.get("_shared_dict")
                if memo is None:
                    memo = self._shared_dict = super().to_dict()
        return memo

    def to_dict(self) -> dict:
        return copy.deepcopy(self._shared_dict_once())

    def shared_spec(self) -> SharedSpec:
        spec = self.__dict__.get("_shared_spec")
        if spec is None:
            memo = self._shared_dict_once()
            with _shared_lock:
                spec = self.__dict__.get("_shared_spec")
                if spec is None:
                    spec = SharedSpec(memo)
                    # what st.plotly_chart made from each session's copy: plotly's to_json of the dict
                    spec.json = _PLOTLY_TO_JSON(copy.deepcopy(memo), validate=False)
                    self._shared_spec = spec
        return spec


def _return_figure_from_figure_or_data(figure_or_data, validate_figure):
    if type(figure_or_data) is SharedFigure:
        return figure_or_data.shared_spec()
    return _PLOTLY_RETURN_FIGURE(figure_or_data, validate_figure)


def _to_json(fig, validate=True, pretty=False, remove_uids=True, engine=None):
    if type(fig) is SharedSpec:
        if not validate and not pretty and remove_uids and engine is None:  # how st.plotly_chart calls it
            return fig.json
        fig = copy.deepcopy(dict(fig))  # plotly's to_json removes trace uids in place: not from the shared dict
    return _PLOTLY_TO_JSON(fig, validate, pretty, remove_uids, engine)


def install_spec_shim() -> None:
    """Route `st.plotly_chart` of a SharedFigure to its spec made once (the module docstring); idempotent."""
    plotly.io.to_json = _to_json
    plotly.tools.return_figure_from_figure_or_data = _return_figure_from_figure_or_data


_PLOTLY_RETURN_FIGURE = plotly.tools.return_figure_from_figure_or_data  # plotly's own, taken before the shim
_PLOTLY_TO_JSON = plotly.io.to_json
install_spec_shim()


def share(fig: go.Figure) -> go.Figure:
    """`fig` as a SharedFigure (the same object, its class changed: no copy, no re-validation); a figure of
    another class is returned as it is."""
    if type(fig) is go.Figure:
        fig.__class__ = SharedFigure
    return fig


class FigureStore:
    """A thread-safe LRU of built figures (or other values: `cached_frame`), bounded in entries. Sessions asking
    for the same missing figure at the same time (ten opening one link: their run is computed once and reaches
    them all at once) build it once: the first builds, the others wait for it (`ui.cache.SingleFlight`)."""

    def __init__(self, max_entries: int = MAX_FIGURES):
        self.max_entries = max_entries
        self._items: OrderedDict[str, object] = OrderedDict()
        self._lock = threading.Lock()
        self._flights = SingleFlight()

    def _get(self, key: str):
        with self._lock:
            fig = self._items.get(key)
            if fig is not None:
                self._items.move_to_end(key)
            return fig

    def get_or_build(self, key: str, build: Callable[[], go.Figure]) -> go.Figure:
        fig = self._get(key)
        return fig if fig is not None else self._flights.do(key, lambda _report: self._build(key, build))

    def _build(self, key: str, build: Callable[[], go.Figure]) -> go.Figure:
        fig = self._get(key)  # built by a caller that finished before this one asked
        if fig is not None:
            return fig
        fig = share(build())  # outside the lock: another figure's lookup need not wait for this build
        with self._lock:
            self._items[key] = fig
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)
        return fig

    def __len__(self) -> int:
        return len(self._items)


@st.cache_resource
def _store() -> FigureStore:
    return FigureStore()


def cached_figure(name: str, df: pd.DataFrame, build: Callable[..., go.Figure], *, df_digest: str | None = None,
                  **options) -> go.Figure:
    """`build(df, **options)`, or the figure built before for the same name, data, options and language (its
    titles and labels are in the session's: `ui.i18n`; do not modify it: other sessions may be drawing it).
    `df_digest`: `frame_digest(df)` when the caller has it (`ui.cache.session_run`), else it is made here."""
    key = json.dumps([name, df_digest or frame_digest(df), options, i18n.current()], sort_keys=True, default=repr)
    return _store().get_or_build(key, lambda: build(df, **options))


def cached_figure_for(name: str, key, build: Callable[[], go.Figure]) -> go.Figure:
    """`build()`, or the figure built before under the same name and key (a value whose `repr` names everything
    the figure depends on, e.g. a frozen config dataclass) and language. Do not modify it: other sessions may be
    drawing it."""
    return _store().get_or_build(json.dumps(["key", name, repr(key), i18n.current()]), build)


def cached_frame(name: str, df: pd.DataFrame, build: Callable[..., pd.DataFrame], *, df_digest: str | None = None,
                 **options) -> pd.DataFrame:
    """A copy of `build(df, **options)` (a DataFrame computed from `df`, e.g. a run log's summary), kept in the
    same store as the figures and shared the same way (`df_digest` as in `cached_figure`)."""
    key = json.dumps(["frame", name, df_digest or frame_digest(df), options], sort_keys=True, default=repr)
    return _store().get_or_build(key, lambda: build(df, **options)).copy()


def cached_text(name: str, df: pd.DataFrame, build: Callable[..., str], **options) -> str:
    """`build(df, **options)` (a string made from `df`, e.g. a summary's Markdown table), or the one made before for
    the same name, data, options and language, kept in the same store as the figures."""
    key = json.dumps(["text", name, frame_digest(df), options, i18n.current()], sort_keys=True, default=repr)
    return _store().get_or_build(key, lambda: build(df, **options))
