"""The CI rule of tests/ci_skips.py: under CI=true a skip fails the run; outside CI it stays a skip."""

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
SUITE = """
import pytest
pytest_plugins = []

def test_passes():
    pass

def test_skips():
    pytest.skip("needs a thing that is not installed")

@pytest.mark.xfail(reason="known", strict=True)
def test_expected_failure():
    assert False

@pytest.fixture
def missing():
    pytest.skip("fixture needs a service")

def test_fixture_skip(missing):
    pass
"""


def run(pytester, monkeypatch, ci, *args, files=None):
    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    monkeypatch.setenv("CI", ci) if ci is not None else monkeypatch.delenv("CI", raising=False)
    pytester.makeconftest("from ci_skips import pytest_make_collect_report, pytest_runtest_makereport\n")
    pytester.makepyfile(**(files or {"test_suite": SUITE}))
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA", *args)


@pytest.mark.parametrize("ci", ["true", "1", "TRUE"])
def test_under_ci_every_skip_fails_the_run_with_its_reason(pytester, monkeypatch, ci):
    result = run(pytester, monkeypatch, ci)
    result.assert_outcomes(passed=1, failed=1, errors=1, xfailed=1)
    assert result.ret == 1
    for reason in ("needs a thing that is not installed", "fixture needs a service"):
        result.stdout.fnmatch_lines([f"*skipped under CI, where a skip is a failure: {reason}*"])


@pytest.mark.parametrize("ci", [None, "", "false", "0"])
def test_outside_ci_a_skip_stays_a_skip(pytester, monkeypatch, ci):
    result = run(pytester, monkeypatch, ci)
    result.assert_outcomes(passed=1, skipped=2, xfailed=1)
    assert result.ret == 0


def test_a_module_skipped_at_import_fails_under_ci(pytester, monkeypatch):
    files = {"test_mod": "import pytest\npytest.importorskip('no_such_module_xyz')\n\ndef test_x():\n    pass\n"}
    result = run(pytester, monkeypatch, "true", files=files)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*module skipped under CI, where a skip is a failure*no_such_module_xyz*"])


def test_allow_list_entries_are_explained():
    from ci_skips import ALLOWED_SKIPS

    assert all(isinstance(reason, str) and len(reason) > 20 for reason in ALLOWED_SKIPS.values())

