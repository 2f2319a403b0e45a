"""The dashboard in Korean in a real browser: `?lang=ko` draws Korean text, and the Hangul is drawn with a font that
has it (Debian's fonts-nanum; `.ci/run` installs it) instead of empty boxes. Saves docs/screenshot-korean.png when
GDLAB_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from test_browser import (
    TIMEOUT_MS,
    assert_no_exception,
    charts,
    legend_texts,
    open_app,
    rerun_and_wait,
    save_full_page,
    screenshot_path,
)

from ui.i18n import translate

pytestmark = pytest.mark.browser
HANGUL = re.compile(r"[\uac00-\ud7a3]")

# Draws each text on a canvas in the title's font and returns the images: two different Hangul syllables drawn
# alike (or drawn as nothing) mean no font had them and the browser drew its "missing glyph" box for both.
GLYPHS_JS = """texts => {
    const font = getComputedStyle(document.querySelector("h1")).fontFamily;
    return texts.map(text => {
        const c = document.createElement("canvas");
        c.width = 160; c.height = 60;
        const ctx = c.getContext("2d");
        ctx.font = `40px ${font}`;
        ctx.fillText(text, 4, 44);
        const px = ctx.getImageData(0, 0, c.width, c.height).data;
        let ink = 0;
        for (let i = 3; i < px.length; i += 4) ink += px[i] > 0;
        return [c.toDataURL(), ink];
    });
}"""


def test_korean_page_renders_hangul(page: Page, app_url, tmp_path):
    open_app(page, f"{app_url}/?lang=ko")
    expect(charts(page).first).to_be_visible(timeout=TIMEOUT_MS)
    assert_no_exception(page)
    title = page.locator("h1").first.inner_text()
    assert title == translate("ko", "home.title") and HANGUL.search(title), title
    sidebar = page.locator("[data-testid='stSidebar']").inner_text()
    assert translate("ko", "home.sidebar_header") in sidebar and translate("ko", "nav.home") in sidebar
    (a, ink_a), (b, ink_b), (c, _) = page.evaluate(GLYPHS_JS, ["경", "사", "경"])
    assert ink_a > 50 and ink_b > 50, "Hangul drew no ink: is a Korean font installed (fonts-nanum)?"
    assert a == c and a != b, "two Hangul syllables drew the same glyph: no Korean font (install fonts-nanum)"
    legend = " | ".join(legend_texts(page))
    assert translate("ko", "chart.full_batch_label", b=800) in legend, legend
    menus = page.locator(".js-plotly-plot").first.locator(".updatemenu-button")  # SVG: text, not inner text
    buttons = [b.strip() for b in menus.all_text_contents()]
    for key in ("animation.play", "animation.pause", "animation.linear_y", "animation.log_y"):  # the chart's own
        assert translate("ko", key) in buttons and translate("en", key) not in buttons, (key, buttons)
    # the title's box is as wide as its text: a missing font would not collapse it, but an unrendered page would
    assert page.locator("h1").first.bounding_box()["width"] > 100
    shot = screenshot_path("screenshot-korean.png", tmp_path)
    save_full_page(page, shot)
    assert shot.stat().st_size > 50_000  # a page of text and a chart, not a blank image


def test_language_switch_keeps_the_link(page: Page, app_url):
    """The Korean form runs (its "전체 배치" entry reads back as full batch); switching to English in the sidebar puts
    `lang=en` in the address bar, and the page is English."""
    open_app(page, f"{app_url}/?lang=ko&budget=2")
    rerun_and_wait(page, lambda: page.locator("[data-testid='stFormSubmitButton'] button").filter(
        has_text=translate("ko", "form.run")).click())
    assert_no_exception(page)
    assert page.locator("[data-testid='stAlert']").filter(has_text="batch_sizes").count() == 0  # no bad size
    assert "lang=ko" in page.url and "budget=2" in page.url
    page.locator("[data-testid='stSidebar'] label").filter(has_text="English").click()
    page.wait_for_function("() => location.search.includes('lang=en')", timeout=TIMEOUT_MS)
    expect(page.locator("h1").first).to_have_text(translate("en", "home.title"), timeout=TIMEOUT_MS)
