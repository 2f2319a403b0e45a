"""Korean beside English (ui/i18n.py): the catalogues agree with each other and with the code, the language comes
from the link, the session or the browser, a bad `lang` is said and falls back to English, and every page in Korean
shows Korean and none of its English."""

import ast
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from gd_core import ExperimentConfig
from ui import charts, figure_cache, i18n, share
from ui.i18n import DEFAULT, LANGS, catalogue, placeholders, translate
from ui.presets import PRESETS

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]
PAGES = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
HANGUL = re.compile(r"[\uac00-\ud7a3]")
ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")


def used_ids() -> set[str]:
    """Every message id the code names: the string literals that are ids of the English catalogue or look like
    one (`t("home.title")`, a label's id kept in a table and passed to `t` later), plus `preset.<key>.*` (named
    with an f-string)."""
    found = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in (
                    "t", "translate") and node.args:
                arg = node.args[-1] if getattr(node.func, "id", None) == "translate" else node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.add(arg.value)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in catalogue(DEFAULT):
                found.add(node.value)
    return found | set(i18n.preset_texts())


def test_catalogues_have_the_same_ids_and_placeholders():
    en = catalogue(DEFAULT)
    for lang in LANGS:
        other = catalogue(lang)
        assert set(other) == set(en), f"{lang}: missing {sorted(set(en) - set(other))}, extra " \
                                      f"{sorted(set(other) - set(en))}"
        wrong = {k: (placeholders(en[k]), placeholders(v)) for k, v in other.items() if placeholders(v) !=
                 placeholders(en[k])}
        assert not wrong, f"{lang}: placeholders differ (en, {lang}): {wrong}"
        assert all(isinstance(v, str) and v.strip() for v in other.values())


def test_korean_catalogue_is_korean():
    """Every Korean message that is prose has Hangul (a copy of the English would pass the id test)."""
    ko, en = catalogue("ko"), catalogue(DEFAULT)
    untranslated = [k for k, v in ko.items()
                    if v == en[k] and HANGUL.search(v) is None and re.search(r"[a-z]{3} [a-z]{3}", v)]
    assert not untranslated, f"ko.toml repeats the English of {untranslated}"


def test_every_id_in_the_code_is_in_the_catalogues_and_every_id_is_used():
    used, known = used_ids(), set(catalogue(DEFAULT))
    assert all(ID.match(k) for k in known), [k for k in known if not ID.match(k)]
    assert used - known == set(), f"ids used in the code but in no catalogue: {sorted(used - known)}"
    assert known - used == set(), f"ids in the catalogues that no code uses: {sorted(known - used)}"


def test_the_id_scan_finds_a_call_and_a_missing_id(tmp_path, monkeypatch):
    """The scan above would catch a new t("...") whose id is in no catalogue."""
    fake = tmp_path / "page.py"
    fake.write_text('from ui.i18n import t\nt("home.title")\nt("nowhere.new_caption")\n')
    monkeypatch.setattr(__import__(__name__), "SOURCES", [fake])
    assert {"home.title", "nowhere.new_caption"} <= used_ids()


def test_presets_have_korean_text():
    for key in PRESETS:
        for part in ("title", "look_for"):
            assert HANGUL.search(translate("ko", f"preset.{key}.{part}")), (key, part)


def test_translate_formats_and_falls_back():
    assert translate("ko", "summary_line.examples", n=1200) == "예제 1,200개"
    assert translate("en", "summary_line.examples", n=1200) == "1,200 examples"
    assert translate("ko", "no.such.id") == "no.such.id"
    assert i18n.t("home.title") == "Gradient Descent Lab"  # outside a Streamlit run: English


@pytest.mark.parametrize("locale, lang", [("ko-KR", "ko"), ("ko", "ko"), ("en-US", "en"), ("de-DE", "en"),
                                          (None, "en"), ("", "en"), ("KO_kr", "ko")])
def test_language_from_browser_locale(locale, lang):
    assert i18n.from_locale(locale) == lang


def test_link_lang_wins_over_locale_and_bad_values_fall_back_to_english():
    state = {}
    assert i18n.resolve(state, {"lang": "ko"}, "en-US") is None and state["lang"] == "ko"
    state = {}
    assert i18n.resolve(state, {}, "ko-KR") is None and state["lang"] == "ko"
    assert i18n.resolve(state, {}, "en-US") is None and state["lang"] == "ko"  # the session keeps its choice
    for bad in ("fr", "<b>x</b>", "ko\n", "", "[x](http://e.com)"):
        state = {"lang": "ko"}
        message = i18n.resolve(state, {"lang": bad}, "ko-KR")
        assert state["lang"] == "en" and "allowed: en, ko" in message, bad
        assert "<b>" not in message.replace("`<b>x</b>`", "") and "](" not in message.replace("`[x](http://e.com)`",
                                                                                              "")
    assert i18n.parse("KO") == ("ko", None)
    long_value = i18n.parse("x" * 5000)[1]
    assert len(long_value) < 300


def test_share_link_round_trips_lang():
    config = ExperimentConfig(lrs=(0.05,))
    link = share.query_string(config, "ko")
    assert link == "?lrs=0.05&lang=ko"
    params = dict(p.split("=") for p in link[1:].split("&"))
    read, messages = share.read_query(params)
    assert read == config and messages == []  # lang is not a config field, and not an unknown parameter either
    assert i18n.resolve(state := {}, params, None) is None and state["lang"] == "ko"
    assert share.query_string(config, "en") == "?lrs=0.05"
    assert share.query_string(ExperimentConfig(), "ko") == "?lang=ko"


# -- the pages in Korean --------------------------------------------------------------------------------------


def run_page(path: Path, **query) -> AppTest:
    at = AppTest.from_file(str(path), default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def shown_text(at: AppTest) -> list[str]:
    """The page's text elements and widget labels."""
    texts = [e.value for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning",
                                  "error", "success") for e in at.get(kind) if isinstance(e.value, str)]
    for kind in ("button", "toggle", "checkbox", "selectbox", "radio", "slider", "number_input", "multiselect",
                 "select_slider", "text_input", "expander", "download_button"):
        texts += [getattr(w, "label", "") or "" for w in at.get(kind)]
        texts += [str(o) for w in at.get(kind) for o in (getattr(w, "options", None) or ())]  # as shown
    return texts


def english_ui_strings() -> set[str]:
    """English messages that a Korean page must not show: the longer ones (a short one such as "Runs" could be a
    column name or a config value)."""
    ko = catalogue("ko")
    return {v for k, v in catalogue(DEFAULT).items() if len(v) > 12 and not placeholders(v) and v != ko[k]}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_page_in_korean_shows_korean_and_no_english(page):
    at = run_page(page, lang="ko")
    assert not at.exception, at.exception
    assert at.title and HANGUL.search(at.title[0].value), at.title[0].value if at.title else "no title"
    texts = shown_text(at)
    leaked = sorted({s for s in english_ui_strings() for text in texts if s in text})
    assert not leaked, f"{page.name} in Korean shows English: {leaked}"
    assert at.session_state["lang"] == "ko"


def test_browser_locale_sets_korean():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.context["locale"] = "ko-KR"
    at.run()
    assert HANGUL.search(at.title[0].value) and at.query_params["lang"] == "ko"
    assert "lang=ko" in next(m.value for m in at.markdown if m.value.startswith("`?"))  # the share link


def test_the_switch_changes_the_language_and_the_link():
    """English (an English browser) to Korean with the sidebar switch. (AppTest runs a widget's format_func in the
    test's thread, in English, so it can only drive a page's widgets while the page is English; the browser test
    switches back.)"""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.context["locale"] = "en-US"
    at.run()
    assert at.title[0].value == "Gradient Descent Lab" and "lang" not in at.query_params
    at.radio(key="lang_switch").set_value("ko").run()
    assert at.title[0].value == translate("ko", "home.title") and at.query_params["lang"] == "ko"
    assert at.session_state["lang"] == "ko"


def test_bad_lang_in_a_link_is_said_escaped_and_english_is_shown():
    at = run_page(ROOT / "app.py", lang="<img src=x onerror=alert(1)>")
    assert at.title[0].value == "Gradient Descent Lab"
    warning = next(w.value for w in at.warning if "lang" in w.value)
    assert "allowed: en, ko" in warning and "`<img src=x onerror=alert(1)>`" in warning
    assert not any("unknown link parameter" in w.value for w in at.warning)  # lang is not a config field
    assert at.query_params["lang"] == "en"


def test_summary_headers_and_axis_titles_match_the_english_catalogue():
    """The English a header or axis title is shown as (ui/charts.py) is the English catalogue's text for it, so
    the two cannot drift apart; in Korean every one of them is Hangul."""
    for header in charts.SUMMARY_COLUMNS.values():
        if header in i18n.SUMMARY_HEADER_IDS:
            assert translate("en", i18n.SUMMARY_HEADER_IDS[header]) == header
            assert HANGUL.search(translate("ko", i18n.SUMMARY_HEADER_IDS[header])), header
    assert set(i18n.SUMMARY_HEADER_IDS) <= set(charts.SUMMARY_COLUMNS.values())
    assert dict(charts.AXIS_TITLES) == {c: translate("en", k) for c, k in i18n.AXIS_IDS.items()}
    assert all(HANGUL.search(translate("ko", k)) for k in i18n.AXIS_IDS.values())


def test_built_figures_are_cached_per_language(monkeypatch):
    """A figure built for a Korean session is not served to an English one (its titles are in the catalogue)."""
    store = figure_cache.FigureStore()
    monkeypatch.setattr(figure_cache, "_store", lambda: store)
    df = pd.DataFrame({"a": [1.0]})
    built = []
    for lang in ("ko", "en", "ko"):
        monkeypatch.setattr(i18n, "current", lambda lang=lang: lang)
        figure_cache.cached_figure("t", df, lambda d, lang=lang: built.append(lang) or lang)
    assert built == ["ko", "en"]
