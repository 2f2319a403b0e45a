"""The dashboard's words in English and Korean: one message catalogue per language, chosen per session.

`t(key, **params)` is the text of a stable message id in the session's language, `str.format`ted with `params`
(a user's text goes in already escaped: `ui.text.md_escape`). The catalogues are data, `ui/locales/<lang>.toml`:
a TOML table per page or module, so `[home] title = "..."` is the id `home.title`. Both files hold the same ids
with the same `{placeholders}` (tests/test_i18n.py checks that, and that every id the code names exists and is
used). The presets' English stays beside their configs in `ui/presets.py`; the English catalogue takes it from
there as `preset.<key>.title` / `preset.<key>.look_for`, and `ko.toml` has their translations.

No global state: the language lives in the session (`st.session_state["lang"]`). It is set on a session's first
run from the link's `?lang=` (an unknown value: English, with a message), else from the browser's locale
(`st.context.locale`, e.g. "ko-KR"), else English; the sidebar's switch (`ui.nav`) changes it. Outside a Streamlit
run (tests, scripts) the language is English.

To add a string: put `t("page.id")` in the code and `id = "..."` under `[page]` in both files.
"""

from __future__ import annotations

import functools
import string
import tomllib
from collections.abc import Mapping, MutableMapping
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui.presets import PRESETS
from ui.text import md_code

LANGS = {"en": "English", "ko": "한국어"}  # code -> the language's own name (the switch's labels)
DEFAULT = "en"
LOCALES = Path(__file__).resolve().parent / "locales"
STATE_KEY = "lang"
PARAM = "lang"  # the share link's parameter
AXIS_IDS = {  # a run log's column -> the message id of its axis title on charts (the CSV keeps the column's name)
    "epoch": "axis.epoch", "step": "axis.step", "wall_time_s": "axis.wall_time_s",
    "examples_seen": "axis.examples_seen",
    "train_loss": "axis.train_loss", "val_loss": "axis.val_loss", "batch_loss": "axis.batch_loss",
    "train_accuracy": "axis.train_accuracy", "val_accuracy": "axis.val_accuracy", "grad_norm": "axis.grad_norm",
    "distance_to_optimum": "axis.distance_to_optimum", "lr": "axis.lr"}


def _flatten(table: Mapping, prefix: str = "") -> dict[str, str]:
    out = {}
    for k, v in table.items():
        if isinstance(v, Mapping):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


def preset_texts() -> dict[str, str]:
    """The presets' English, as catalogue ids."""
    out = {}
    for key, p in PRESETS.items():
        out[f"preset.{key}.title"], out[f"preset.{key}.look_for"] = p.title, p.look_for
    return out


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """Every message id of `lang` and its text."""
    with open(LOCALES / f"{lang}.toml", "rb") as f:
        messages = _flatten(tomllib.load(f))
    return {**messages, **preset_texts()} if lang == DEFAULT else messages


def placeholders(text: str) -> set[str]:
    """The `{names}` a message is formatted with."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def from_locale(locale: str | None) -> str:
    """The language of a browser locale ("ko-KR" -> "ko"); English when there is none we have."""
    code = str(locale or "").replace("_", "-").split("-")[0].lower()
    return code if code in LANGS else DEFAULT


def parse(value) -> tuple[str, str | None]:
    """A link's `lang` value -> (language, None), or (English, a message saying what is allowed)."""
    value = value[-1] if isinstance(value, list | tuple) and value else value
    if isinstance(value, str) and value.lower() in LANGS:
        return value.lower(), None
    return DEFAULT, translate(DEFAULT, "lang.unknown", value=md_code(str(value)[:80]), allowed=", ".join(LANGS))


def resolve(state: MutableMapping, query_params: Mapping, locale: str | None) -> str | None:
    """Set the session's language on its first run (the link's `lang`, else the browser's locale); a link's
    `lang` also wins later in the session. Returns a message for a bad `lang` value (None otherwise)."""
    message = None
    if PARAM in query_params:
        state[STATE_KEY], message = parse(query_params[PARAM])
    elif STATE_KEY not in state:
        state[STATE_KEY] = from_locale(locale)
    return message


def current() -> str:
    """The session's language; English outside a Streamlit run. The first call of a session resolves it."""
    if get_script_run_ctx(suppress_warning=True) is None:
        return DEFAULT
    state = st.session_state
    if STATE_KEY not in state:
        resolve(state, st.query_params, st.context.locale)
    return state[STATE_KEY]


def translate(lang: str, key: str, /, **params) -> str:
    """The text of message `key` in `lang`, formatted with `params` (so a literal brace is written `{{`). A key
    missing from a catalogue falls back to English, then to the key itself (tests keep both complete)."""
    text = catalogue(lang).get(key) or catalogue(DEFAULT).get(key, key)
    return text.format(**params)


def t(key: str, /, **params) -> str:
    """`translate` in the session's language."""
    return translate(current(), key, **params)


def axis_title(column: str) -> str:
    """A run log column's axis title in the session's language (an unknown column: its name)."""
    return t(AXIS_IDS[column]) if column in AXIS_IDS else column.replace("_", " ")


SUMMARY_HEADER_IDS = {  # a summary table's header (ui.charts.SUMMARY_COLUMNS' values) -> its message id
    "run": "summary.run", "status": "summary.status", "seed": "summary.seed",
    "final train loss": "summary.final_train_loss", "best train loss": "summary.best_train_loss",
    "final val loss": "summary.final_val_loss", "best val loss": "summary.best_val_loss",
    "val accuracy": "summary.val_accuracy", "steps": "summary.steps", "epochs": "summary.epochs",
    "seconds": "summary.seconds", "steps to target": "summary.steps_to_target",
    "examples to target": "summary.examples_to_target", "seconds to target": "summary.seconds_to_target"}


def summary_header(header: str) -> str:
    """A summary table's column header as shown in the session's language (B, lr and unknown headers as is)."""
    return t(SUMMARY_HEADER_IDS[header]) if header in SUMMARY_HEADER_IDS else header


class _AxisTitles(Mapping):
    """{column: axis title}, read in the session's language at each lookup (`ui.charts.AXIS_TITLES`)."""

    def __getitem__(self, column: str) -> str:
        return t(AXIS_IDS[column])

    def __iter__(self):
        return iter(AXIS_IDS)

    def __len__(self) -> int:
        return len(AXIS_IDS)


AXIS_TITLES = _AxisTitles()


def problem_data_help(dataset_for: Mapping[str, str]) -> str:
    """The help of a page's problem picker: the data each problem is run on (problem -> dataset)."""
    return t("form.problem_data", data=", ".join(f"{p} ({d})" for p, d in dataset_for.items()))
