"""Make the repo root importable (gd_core, ui) however pytest is started; shared fixtures."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ci_skips import pytest_make_collect_report, pytest_runtest_makereport, under_ci  # noqa: E402, F401
from fake_data import small_dataset as _small_dataset  # noqa: E402
from hypothesis import settings  # noqa: E402

pytest_plugins = ["pytester"]  # tests/test_ci_skips.py runs small suites through the CI rule

# Hypothesis: a few examples by default (the suite stays fast), many more under CI (CI=true).
settings.register_profile("dev", max_examples=20, deadline=None)
settings.register_profile("ci", max_examples=300, deadline=None)
settings.load_profile("ci" if under_ci() else "dev")


@pytest.fixture
def pool_sizes(monkeypatch):
    """How many weight vectors each checkpoints.Evaluator.many call measured while the test ran."""
    from gd_core.train import checkpoints

    sizes, original = [], checkpoints.Evaluator.many

    def spy(self, ws):
        sizes.append(len(ws))
        return original(self, ws)

    monkeypatch.setattr(checkpoints.Evaluator, "many", spy)
    return sizes


@pytest.fixture
def small_dataset():
    """The factory of throwaway Datasets (tests/fake_data.py): small_dataset(task=, n=, d=, classes=, n_val=,
    dtype=, seed=). Module-level helpers import it from fake_data instead."""
    return _small_dataset
