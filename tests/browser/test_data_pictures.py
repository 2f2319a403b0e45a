"""Issue 18 item 4 in a real browser: the Data and model page draws each batch size's decision regions and the
digits' class templates (plotly heatmaps rendered as images), and saves the README's pictures when asked
(GDLAB_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from test_browser import (
    TIMEOUT_MS,
    assert_no_exception,
    charts,
    open_app,
    rerun_and_wait,
    save_full_page,
    screenshot_path,
)

pytestmark = pytest.mark.browser


def heatmap_images(page: Page) -> int:
    """Heatmaps drawn: plotly renders each as an <image> inside a `g.hm` group."""
    return page.locator(".js-plotly-plot g.hm image").count()


def panel_titles(page: Page) -> list[str]:
    return page.locator(".js-plotly-plot .annotation-text").evaluate_all("els => els.map(e => e.textContent)")


def test_decision_regions_and_class_templates_render(page: Page, app_url, tmp_path):
    open_app(page, f"{app_url}/Data_and_model")
    expect(charts(page).first).to_be_visible(timeout=TIMEOUT_MS)
    assert_no_exception(page)
    assert heatmap_images(page) == 3  # one region map per batch size
    titles = panel_titles(page)
    assert [t.split(":")[0] for t in titles] == ["SGD (B=1)", "B=32", "full batch (B=480)"], titles
    assert page.locator(".js-plotly-plot .scatterlayer .point").count() > 100  # the data's points
    save_full_page(page, screenshot_path("screenshot-decision-regions.png", tmp_path), max_height=1400)

    rerun_and_wait(page, lambda: page.get_by_text("Class templates (handwritten digits)").click())
    expect(charts(page).nth(1)).to_be_visible(timeout=TIMEOUT_MS)
    assert_no_exception(page)
    assert heatmap_images(page) == 10 + 30  # 10 example digits, then 10 templates for each of 3 batch sizes
    titles = panel_titles(page)
    assert [f"class {d}" for d in range(10)] == titles[:10] and "SGD (B=1)" in " ".join(titles)
    save_full_page(page, screenshot_path("screenshot-digits-templates.png", tmp_path), max_height=1600)
