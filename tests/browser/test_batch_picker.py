"""Issue 17 item 2 in a real browser: the batch-size picker offers only sizes that fit the training set, has no
"Select all" row, and Enter adds the size typed (never every match, nor the first match)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page
from test_browser import assert_no_exception, open_app

pytestmark = pytest.mark.browser


def _picker(page: Page):
    return page.locator("[data-testid='stMultiSelect']").first


def _tags(page: Page) -> list[str]:
    return _picker(page).locator("[data-tag] [title]").evaluate_all("els => els.map(e => e.title)")


def _typed(page: Page, text: str) -> list[str]:
    """Type into the picker; the dropdown's rows."""
    field = _picker(page).locator("input")
    field.click()
    field.fill("")
    field.type(text)
    page.wait_for_timeout(700)
    return page.locator("[role='option']").all_inner_texts()


def _enter(page: Page, text: str) -> list[str]:
    """Type `text` into the picker and press Enter: the tags then."""
    _typed(page, text)
    _picker(page).locator("input").press("Enter")
    page.wait_for_timeout(700)
    return _tags(page)


def test_picker_enter_adds_the_typed_size_and_offers_no_select_all(page: Page, app_url):
    open_app(page, app_url)
    assert _tags(page) == ["B = 1", "B = 32", "B = 256", "full batch"]
    rows = _typed(page, "")
    assert rows and not [r for r in rows if r.lower().startswith("select")], rows  # no "Select all"
    assert "B = 1024" not in rows and "B = 512" in rows  # 800 training examples
    assert not [r for r in _typed(page, "1") if r.lower().startswith("select")]  # (was "Select 3 matches")
    # Enter adds what was typed: "12" was 128 (the first match), "1" every match (1, 16, 128, 1024, 512)
    assert _enter(page, "12") == ["B = 1", "B = 32", "B = 256", "full batch", "12"]  # a new tag shows as typed
    assert _enter(page, "6")[-1] == "6" and _enter(page, "48")[-1] == "48"
    assert len(_tags(page)) == 7
    assert_no_exception(page)


def test_picker_offers_only_sizes_that_fit_a_small_set(page: Page, app_url):
    open_app(page, f"{app_url}/?n_samples=100")  # 80 training examples
    assert _tags(page) == ["B = 1", "B = 32", "full batch"]  # 256 ran as full batch (a note says so)
    assert _typed(page, "") == ["B = 2", "B = 4", "B = 8", "B = 16", "B = 64"]
    assert_no_exception(page)
