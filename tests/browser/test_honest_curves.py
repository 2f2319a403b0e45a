"""The home chart as Chromium draws it (issue 18, honest curves): log axes labelled with whole numbers, the
whole legend inside the figure, markers on the sparse full-batch curve, no faint mini-batch lines by default."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from test_browser import TIMEOUT_MS, assert_no_exception, charts, legend_texts, open_app

pytestmark = pytest.mark.browser

NAMES = ["SGD (B=1)", "B=32", "B=256", "full batch (B=800)"]


def tick_labels(page: Page, axis: str) -> list[str]:
    """The drawn tick labels of one axis of the first chart (plotly's `g.<axis>tick text`, axis "x2", "y")."""
    return charts(page).first.locator(f"g.{axis}tick text").evaluate_all("els => els.map(e => e.textContent)")


def number(label: str) -> float:
    return float(label.replace("\u2212", "-").replace(",", ""))  # plotly draws minus as U+2212


def test_home_chart_log_ticks_legend_and_markers(page: Page, app_url):
    open_app(page, app_url)
    expect(charts(page).first).to_be_visible(timeout=TIMEOUT_MS)
    assert_no_exception(page)
    # the updates and time panels are log x: every label a whole number, increasing along the axis (bare
    # first digits, "1 2 5 10 2 5 100", would not be)
    for axis in ("x2", "x3"):
        labels = tick_labels(page, axis)
        assert len(labels) >= 2, (axis, labels)
        values = [number(t) for t in labels]
        assert values == sorted(values) and len(set(values)) == len(values), (axis, labels)
    # the whole legend, inside the figure
    assert legend_texts(page) == NAMES
    inside = page.locator(".js-plotly-plot").first.evaluate("""p => {
        const box = p.getBoundingClientRect();
        return [...p.querySelectorAll('.legend .traces')].every(e => {
            const r = e.getBoundingClientRect();
            return r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom;
        });
    }""")
    assert inside
    # full batch's 11 measurements are drawn as markers on each panel; nothing faint (opacity < 1) by default
    points = page.locator(".js-plotly-plot .scatterlayer .trace .points path").count()
    assert points >= 3 * 11, points
    faint = page.locator(".js-plotly-plot .scatterlayer .trace").evaluate_all(
        "els => els.filter(e => parseFloat(getComputedStyle(e).opacity) < 1).length")
    assert faint == 0


def y_labels_inside(page: Page) -> bool:
    """The first chart's y tick labels and y title lie inside the figure (its side margins are fixed, not
    measured by plotly: ui.charts.FIXED_SIDE_MARGINS)."""
    return page.locator(".js-plotly-plot").first.evaluate("""p => {
        const box = p.getBoundingClientRect();
        const els = [...p.querySelectorAll('g.ytick text, .g-ytitle text')];
        return els.length > 2 && els.every(e => {
            const r = e.getBoundingClientRect();
            return r.left >= box.left && r.right <= box.right;
        });
    }""")


def test_log_y_labels_every_tick(page: Page, app_url):
    open_app(page, app_url)
    expect(charts(page).first).to_be_visible(timeout=TIMEOUT_MS)
    assert y_labels_inside(page)
    # log / linear y are the chart's own buttons, applied in the browser (ui/animation.scale_buttons)
    charts(page).first.locator(".updatemenu-button").filter(has_text="log y").click()
    page.wait_for_function("() => document.querySelector('.js-plotly-plot')._fullLayout.yaxis.type === 'log'",
                           timeout=10_000)
    labels = tick_labels(page, "y")
    values = [number(t) for t in labels]
    assert len(values) >= 2 and values == sorted(values) and len(set(values)) == len(values), labels
    assert all(v > 0 for v in values)
    assert y_labels_inside(page)
