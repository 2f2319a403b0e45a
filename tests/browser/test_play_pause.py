"""Play / Pause in the browser: the frames play without a message to the server (no script rerun per frame)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page
from test_browser import TIMEOUT_MS, assert_no_exception, open_app, screenshot_path

pytestmark = pytest.mark.browser

STATE_JS = """(i) => {
    const p = document.querySelectorAll('.js-plotly-plot')[i];
    const slider = (p._fullLayout.sliders || [])[0];
    return {active: slider ? slider.active : null, lengths: p._fullData.map(t => t._length || 0),
            frames: (p._transitionData && p._transitionData._frames || []).length};
}"""


def chart_state(page: Page, i: int) -> dict:
    return page.evaluate(STATE_JS, i)


def count_messages(page: Page) -> dict:
    """Websocket frames the page sends and receives (a rerun is a message sent: Streamlit's BackMsg)."""
    counts = {"sent": 0, "received": 0}

    def on_socket(ws):
        ws.on("framesent", lambda _: counts.__setitem__("sent", counts["sent"] + 1))
        ws.on("framereceived", lambda _: counts.__setitem__("received", counts["received"] + 1))

    page.on("websocket", on_socket)
    return counts


def click_menu(page: Page, chart: int, label: str) -> None:
    page.locator(".js-plotly-plot").nth(chart).locator(".updatemenu-button").filter(has_text=label).click()


def play_pause(page: Page, url: str, chart: int, tmp_path, shot: str | None = None) -> None:
    """Play, see frames advance with no websocket message either way and no rerun; Pause, see them stop."""
    counts = count_messages(page)  # before the page opens its socket
    if shot:
        page.set_viewport_size({"width": 1400, "height": 1250})  # the page's top and both charts
    open_app(page, url)
    before = chart_state(page, chart)
    assert before["frames"] >= 2 and before["active"] == before["frames"] - 1, before  # drawn as the whole chart
    sent, received = counts["sent"], counts["received"]
    click_menu(page, chart, "Play")
    page.wait_for_function(f"() => ({STATE_JS})({chart}).active >= 3", timeout=TIMEOUT_MS)
    playing = chart_state(page, chart)
    assert playing["active"] < before["active"] and sum(playing["lengths"]) < sum(before["lengths"]), playing
    page.wait_for_timeout(400)
    later = chart_state(page, chart)
    assert later["active"] > playing["active"] and sum(later["lengths"]) >= sum(playing["lengths"]), later
    click_menu(page, chart, "Pause")
    paused = chart_state(page, chart)
    page.wait_for_timeout(600)
    assert chart_state(page, chart)["active"] == paused["active"] < before["active"]
    if shot:
        page.screenshot(path=str(screenshot_path(shot, tmp_path)))
    assert (counts["sent"], counts["received"]) == (sent, received), counts  # nothing went to or came from the server
    assert page.locator("[data-testid='stApp']").get_attribute("data-test-script-state") != "running"
    assert_no_exception(page)


def test_landscape_race_plays_and_pauses_in_the_browser(page: Page, app_url, tmp_path):
    play_pause(page, f"{app_url}/Loss_landscape", 0, tmp_path, shot="screenshot-landscape.png")


def test_home_curves_play_and_pause_in_the_browser(page: Page, app_url, tmp_path):
    play_pause(page, app_url, 0, tmp_path)


def test_log_y_button_switches_without_the_server(page: Page, app_url):
    counts = count_messages(page)
    open_app(page, app_url)
    sent = counts["sent"]
    axis = "() => document.querySelector('.js-plotly-plot')._fullLayout.yaxis.type"
    assert page.evaluate(axis) == "linear"
    click_menu(page, 0, "log y")
    page.wait_for_function(f"() => ({axis})() === 'log'", timeout=10_000)
    click_menu(page, 0, "linear y")
    page.wait_for_function(f"() => ({axis})() === 'linear'", timeout=10_000)
    assert counts["sent"] == sent
