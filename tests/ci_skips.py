"""Under CI (CI=true) a skipped test is a failure: a skip there means a check that nobody runs.

Loaded by tests/conftest.py. A skip that no CI machine can ever satisfy goes in ALLOWED_SKIPS with its reason;
today there is none (the browser tests get Debian's Chromium from .ci/run, torch has its own test group).
"""

from __future__ import annotations

import os

import pytest

# node id prefix -> why the skip cannot be satisfied on any CI machine
ALLOWED_SKIPS: dict[str, str] = {}


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _allowed(nodeid: str) -> bool:
    return any(nodeid.startswith(prefix) for prefix in ALLOWED_SKIPS)


def _reason(longrepr) -> str:
    text = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return text.removeprefix("Skipped: ")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if under_ci() and report.skipped and not hasattr(report, "wasxfail") and not _allowed(report.nodeid):
        report.outcome = "failed"
        report.longrepr = (f"skipped under CI, where a skip is a failure: {_reason(report.longrepr)} "
                           "(install what the test needs in .ci/run, or add it to tests/ci_skips.ALLOWED_SKIPS "
                           "with the reason no CI machine can run it)")


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if under_ci() and report.skipped and not _allowed(report.nodeid):
        report.outcome = "failed"
        report.longrepr = f"module skipped under CI, where a skip is a failure: {_reason(report.longrepr)}"
