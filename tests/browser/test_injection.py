"""Issue 17 item 7 in a real browser: values a link carries are shown as text, never rendered as a link or an
image, and no request leaves for the host they name."""

from __future__ import annotations

from urllib.parse import quote, urlparse

import pytest
from playwright.sync_api import Page
from test_browser import TIMEOUT_MS, assert_no_exception, open_app

pytestmark = pytest.mark.browser

HOST = "evil.example"  # a dotted host: Markdown autolinks a bare URL or www. name only when it has a dot
LINKS = {"link": f"[Log in again](http://{HOST}/phish)", "image": f"![t](http://{HOST}/track.png)",
         "bare url": f"http://{HOST}/x", "www": f"www.{HOST}", "mail": f"mailto:a@{HOST}"}


@pytest.mark.parametrize("value", list(LINKS.values()), ids=list(LINKS))
def test_injection_link_renders_as_text_and_fetches_nothing(page: Page, app_url, value):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    open_app(page, f"{app_url}/?lrs={quote(value, safe='')}")
    assert_no_exception(page)
    alert = page.locator("[data-testid='stAlert']").filter(has_text="lrs must be").first
    alert.wait_for(timeout=TIMEOUT_MS)
    # the value is there, as the characters it is made of (and an invisible word joiner that breaks autolinks)
    assert value in alert.inner_text().replace("\u2060", "")
    links = page.locator("a").evaluate_all("els => els.map(e => e.href)")
    images = page.locator("img").evaluate_all("els => els.map(e => e.src)")
    assert not [u for u in links + images if HOST in (urlparse(u).hostname or "") or HOST in u], (links, images)
    page.wait_for_timeout(1_000)  # a late image fetch would show here
    assert not [u for u in requests if urlparse(u).hostname == HOST], requests
