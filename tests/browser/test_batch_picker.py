"""Issue 17 item 2 in a real browser: the batch-size picker offers only sizes that fit the training set, has no
"Select all" row, and Enter adds one size (never every match)."""

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


def test_picker_enter_adds_one_size_and_offers_no_select_all(page: Page, app_url):
    open_app(page, app_url)
    assert _tags(page) == ["1", "32", "256", "full"]
    rows = _typed(page, "")
    assert rows and not [r for r in rows if r.lower().startswith("select")], rows  # no "Select all"
    assert "1024" not in rows  # 800 training examples
    assert not [r for r in _typed(page, "1") if r.lower().startswith("select")]  # (was "Select 3 matches")
    _picker(page).locator("input").press("Enter")
    page.wait_for_timeout(700)
    assert len(_tags(page)) == 5  # one size added, not every match
    _typed(page, "48")
    _picker(page).locator("input").press("Enter")
    page.wait_for_timeout(700)
    assert _tags(page)[-1] == "48" and len(_tags(page)) == 6  # a size not offered: added as typed, one tag
    assert_no_exception(page)


def test_picker_offers_only_sizes_that_fit_a_small_set(page: Page, app_url):
    open_app(page, f"{app_url}/?n_samples=100")  # 80 training examples
    assert _tags(page) == ["1", "32", "full"]  # 256 ran as full batch (a note says so)
    assert _typed(page, "") == ["2", "4", "8", "16", "64"]
    assert_no_exception(page)
