"""What AppTest cannot check: rendering in headless Chromium, the Run button, CSV download, share links, uploads.

Slow machine: every wait is generous. Each test waits for the script run to finish before asserting.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from gd_core import LOG_COLUMNS, read_log_csv

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_MS = 120_000
# "/" (the home page) is covered by test_home_page_renders_default_charts.
PAGES = {"Loss_landscape": "Loss landscape", "Gradient_check": "Gradient check",
         "Optimizers_and_learning_rate": "Optimizers", "Runs": "Runs", "Batch_size_scaling": "Batch-size scaling",
         "Data_and_model": "Data and model"}
SHARE_QUERY = "batch_sizes=1,32&budget=3.0"
IDLE_JS = """() => {
    const app = document.querySelector("[data-testid='stApp']");
    if (!app || ["initial", "running", "rerunRequested"].includes(app.dataset.testScriptState)) return false;
    if (document.querySelector("[data-testid='stSkeleton']")) return false;
    const status = document.querySelector("[data-testid='stStatusWidget']");
    return !status || !/Running/i.test(status.innerText);
}"""


def wait_for_idle(page: Page) -> None:
    """The app is drawn and no script run is going on."""
    page.wait_for_selector("[data-testid='stApp']", timeout=TIMEOUT_MS)
    page.wait_for_function(IDLE_JS, timeout=TIMEOUT_MS)


def rerun_and_wait(page: Page, action) -> None:
    """Do something that starts a rerun, see it start (if it is not already over), then wait for it to end."""
    action()
    try:
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='running']", timeout=5_000)
    except Exception:  # noqa: BLE001 - a fast rerun may be over before we look
        pass
    wait_for_idle(page)


def open_app(page: Page, url: str) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url, wait_until="domcontentloaded")
    wait_for_idle(page)


def charts(page: Page):
    return page.locator(".js-plotly-plot")


def legend_texts(page: Page) -> list[str]:
    return page.locator(".js-plotly-plot .legendtext").evaluate_all("els => els.map(e => e.textContent)")


def assert_no_exception(page: Page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0, page.locator(
        "[data-testid='stException']").first.inner_text()


def download_run_log(page: Page, dest: Path) -> Path:
    button = page.locator("[data-testid='stDownloadButton'] button").filter(has_text=re.compile(r"run log", re.I))
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        button.first.click()
    info.value.save_as(dest)
    return dest


def save_full_page(page: Page, path: Path, max_height: int = 4000) -> None:
    """Streamlit scrolls inside `stMain`, not the document, so `full_page=True` alone stops at the viewport:
    grow the viewport to the content first."""
    width = page.viewport_size["width"]
    height = page.evaluate("document.querySelector(\"[data-testid='stMain']\").scrollHeight")
    page.set_viewport_size({"width": width, "height": min(max(height, 1000), max_height)})
    page.wait_for_timeout(1_500)  # plotly redraws after the resize
    wait_for_idle(page)
    page.screenshot(path=str(path), full_page=True)


@pytest.fixture(scope="session")
def downloaded_log(browser, browser_context_args, app_url, tmp_path_factory) -> Path:
    """The home page's default run log, downloaded once through the browser."""
    context = browser.new_context(**browser_context_args)
    try:
        page = context.new_page()
        open_app(page, app_url)
        return download_run_log(page, tmp_path_factory.mktemp("download") / "run_log.csv")
    finally:
        context.close()


def screenshot_path(name: str, tmp_path: Path) -> Path:
    """docs/<name> when GDLAB_UPDATE_SCREENSHOTS=1 (to refresh the README's pictures), else a temporary file:
    a test run leaves the working tree as it found it."""
    return (ROOT / "docs" if os.environ.get("GDLAB_UPDATE_SCREENSHOTS") == "1" else tmp_path) / name


def test_home_page_renders_default_charts(page: Page, app_url, tmp_path):
    open_app(page, app_url)
    expect(charts(page).first).to_be_visible(timeout=TIMEOUT_MS)
    assert charts(page).count() == 1  # the loss panels; the metric grid is drawn on request
    legend = " | ".join(legend_texts(page))
    assert "B=32" in legend and "full batch" in legend, legend
    assert_no_exception(page)
    # the wide summary table scrolls inside its column instead of running past the page's edge
    table = page.locator("table").first
    expect(table).to_be_visible(timeout=TIMEOUT_MS)
    box = table.evaluate("t => [getComputedStyle(t).overflowX, t.clientWidth, t.closest('.stMarkdown').clientWidth]")
    assert box[0] == "auto" and box[1] <= box[2], box
    save_full_page(page, screenshot_path("screenshot-home.png", tmp_path))


def test_run_button_reruns_and_keeps_the_charts(page: Page, app_url):
    open_app(page, app_url)
    run = page.get_by_role("button", name=re.compile(r"^\s*Run\s*$"))
    rerun_and_wait(page, lambda: run.first.click())
    expect(charts(page).first).to_be_visible(timeout=TIMEOUT_MS)
    assert charts(page).count() >= 1
    assert_no_exception(page)


def test_downloaded_run_log_reads_back(downloaded_log):
    log = read_log_csv(downloaded_log)
    assert set(LOG_COLUMNS) - {"train_loss_full", "val_loss_full", "distance_to_optimum"} <= set(log.columns)
    runs = log.groupby(["batch_size", "seed", "base_lr"])["run_id"].nunique()
    assert (runs == 1).all() and len(runs) >= 2
    assert log.groupby("run_id").size().min() >= 2
    assert np.isfinite(log["train_loss"]).any()


def test_share_link_reproduces_the_run(page: Page, browser, browser_context_args, app_url, tmp_path):
    open_app(page, f"{app_url}/?{SHARE_QUERY}")
    assert_no_exception(page)
    share_url = page.url
    params = parse_qs(urlparse(share_url).query)
    assert params.get("batch_sizes") == ["1,32"], share_url
    first = read_log_csv(download_run_log(page, tmp_path / "first.csv"))
    assert sorted(first["batch_size"].unique()) == [1, 32]

    other = browser.new_context(**browser_context_args)  # a new user: no session state, no cookies
    try:
        page2 = other.new_page()
        open_app(page2, share_url)
        assert_no_exception(page2)
        assert parse_qs(urlparse(page2.url).query).get("batch_sizes") == ["1,32"]
        second = read_log_csv(download_run_log(page2, tmp_path / "second.csv"))
    finally:
        other.close()
    assert list(second["run_id"]) == list(first["run_id"])
    for col in ("step", "examples_seen", "train_loss", "val_loss"):  # wall time differs, the numbers may not
        np.testing.assert_array_equal(second[col].to_numpy(), first[col].to_numpy(), err_msg=col)


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_renders(page: Page, app_url, path):
    open_app(page, f"{app_url}/{path}")
    assert urlparse(page.url).path == f"/{path}", page.url  # the URL path is the file name minus "N_"
    assert_no_exception(page)
    has_chart = charts(page).count() > 0
    title = page.locator("h1").first.inner_text() if page.locator("h1").count() else ""
    assert has_chart or PAGES[path].lower() in title.lower(), f"/{path}: no chart and title {title!r}"


def test_runs_page_shows_an_uploaded_log(page: Page, app_url, downloaded_log):
    open_app(page, f"{app_url}/Runs")
    uploader = page.locator("[data-testid='stFileUploaderDropzoneInput']")
    rerun_and_wait(page, lambda: uploader.set_input_files(str(downloaded_log)))
    expect(charts(page).first).to_be_visible(timeout=TIMEOUT_MS)
    assert_no_exception(page)
    assert page.locator("[data-testid='stAlertContentError']").count() == 0
    legend = " | ".join(legend_texts(page))
    assert "B=32" in legend and "full batch" in legend, legend


def run_button(page: Page):
    return page.get_by_role("button", name=re.compile(r"^\s*Run\s*$")).first


def toggle_expander(page: Page, key: str) -> None:
    """Open or close one of the form's lazy expanders (each click reruns the script)."""
    rerun_and_wait(page, lambda: page.locator(f".st-key-{key} summary").click())


def set_number(page: Page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Tab")  # commits the value to the form (Enter would submit it)


def shown_link(page: Page) -> str:
    texts = page.locator("[data-testid='stMarkdown'] code").all_inner_texts()
    return next(t for t in texts if t.startswith("?") and len(t) > 1)


def test_lazy_expanders_keep_edited_values(page: Page, app_url):
    """The form's closed expanders draw their widgets only once opened: an edit made in one must survive
    Run, closing it, Run again, and another page in between (the values live on in session state)."""
    open_app(page, app_url)
    assert page.get_by_label("Seeds (runs per batch size)", exact=True).count() == 0  # cold: not drawn
    toggle_expander(page, "exp_budget")
    set_number(page, "Seeds (runs per batch size)", "2")
    toggle_expander(page, "exp_optimizer")  # a rerun before Run: the unsubmitted edit above stays
    set_number(page, "momentum (sgd, rmsprop)", "0.9")
    toggle_expander(page, "exp_optimizer")  # closed again before Run: its edit still applies
    rerun_and_wait(page, lambda: run_button(page).click())
    want = {"seeds": ["0,1"], "momentum": ["0.9"]}
    assert parse_qs(urlparse(page.url).query) == want, page.url
    toggle_expander(page, "exp_budget")
    expect(page.get_by_label("Seeds (runs per batch size)", exact=True)).to_be_hidden()
    rerun_and_wait(page, lambda: run_button(page).click())  # Run with both expanders closed
    assert_no_exception(page)
    assert parse_qs(urlparse(page.url).query) == want, page.url
    assert parse_qs(shown_link(page).lstrip("?")) == want
    nav = page.locator("[data-testid='stSidebar'] [data-testid='stPageLink-NavLink']")  # ui/nav.py's links
    assert page.locator("[data-testid='stSidebarNav']").count() == 0  # the automatic navigation is off
    rerun_and_wait(page, lambda: nav.filter(has_text="Gradient check").click())
    expect(nav.first).to_have_text("Home")
    rerun_and_wait(page, lambda: nav.first.click())  # back home: the form is drawn anew from saved values
    expect(charts(page).first).to_be_visible(timeout=TIMEOUT_MS)
    rerun_and_wait(page, lambda: run_button(page).click())
    assert_no_exception(page)
    assert parse_qs(urlparse(page.url).query) == want, page.url
    toggle_expander(page, "exp_budget")
    expect(page.get_by_label("Seeds (runs per batch size)", exact=True)).to_have_value("2")


def problem_caption(page: Page) -> str:
    return page.locator("[data-testid='stSidebar'] [data-testid='stCaptionContainer']").filter(
        has_text="open Problem and data to change").first.inner_text()


def test_problem_section_and_metric_grid_on_request(page: Page, app_url):
    """First paint: "Problem and data" closed (its fields not drawn) under a caption that states them, one chart.
    The metric grid comes with its toggle; an edit in the problem section survives closing it and Run."""
    open_app(page, app_url)
    assert problem_caption(page).startswith("softmax on blobs · 1,000 examples · 2 features · 3 classes")
    assert page.get_by_label("Features", exact=True).count() == 0
    assert charts(page).count() == 1
    rerun_and_wait(page, lambda: page.locator(".st-key-view_metrics label").click())
    expect(charts(page)).to_have_count(2, timeout=TIMEOUT_MS)
    toggle_expander(page, "exp_problem")
    set_number(page, "Features", "3")
    toggle_expander(page, "exp_problem")  # closed before Run: the edit still applies
    rerun_and_wait(page, lambda: run_button(page).click())
    assert_no_exception(page)
    assert parse_qs(urlparse(page.url).query) == {"n_features": ["3"]}, page.url
    assert "3 features" in problem_caption(page)
    rerun_and_wait(page, lambda: run_button(page).click())  # Run again, closed: nothing lost
    assert parse_qs(urlparse(page.url).query) == {"n_features": ["3"]}, page.url
    expect(charts(page)).to_have_count(2, timeout=TIMEOUT_MS)  # the grid stays on across runs


def test_csv_upload_opens_the_problem_section(page: Page, app_url, tmp_path):
    rows = "\n".join(f"{i % 7},{(i * 3) % 5},{int(i % 7 > 3)}" for i in range(60))
    data = tmp_path / "d.csv"
    data.write_text(f"a,b,label\n{rows}\n")
    open_app(page, app_url)
    uploader = page.locator("[data-testid='stSidebar'] [data-testid='stFileUploaderDropzoneInput']")
    rerun_and_wait(page, lambda: uploader.set_input_files(str(data)))
    assert_no_exception(page)
    expect(page.locator("[data-testid='stSidebar']").get_by_text("Target column (csv)")).to_be_visible()


def test_server_log_is_clean(app_url, server_log):
    """Runs last (file order): nothing the sessions above did may log a traceback, error or warning."""
    bad = [line for line in server_log.read_text(errors="replace").splitlines()
           if re.search(r"Traceback|Error|Warning", line)]
    assert not bad, "\n".join(bad)
