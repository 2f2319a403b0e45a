"""checkpoint_steps: where a run is measured, so that every chart axis is sampled where it is drawn."""

import numpy as np
import pytest

from gd_core import ExperimentConfig, run_experiment
from gd_core.data.batching import examples_after, steps_for_examples
from gd_core.train.checkpoints import checkpoint_steps, max_checkpoints

CASES = [(8000, 800, 1, "shuffle", 200), (10, 800, 800, "shuffle", 200), (250, 800, 32, "shuffle", 200),
         (781, 200_000, 256, "shuffle", 50), (10**7, 800, 1, "shuffle", 5000), (10**6, 800, 1, "replacement", 200),
         (4000, 250, 7, "replacement", 8), (12345, 999, 3, "shuffle", 1), (12345, 999, 3, "shuffle", 2),
         (1, 800, 800, "shuffle", 200), (201, 800, 4, "shuffle", 200)]


@pytest.mark.parametrize("steps, n, b, sampling, count", CASES)
def test_checkpoints_are_sorted_unique_bounded_and_include_both_ends(steps, n, b, sampling, count):
    s = checkpoint_steps(steps, n, b, sampling, count)
    assert s[0] == 0 and s[-1] == steps
    assert all(x < y for x, y in zip(s, s[1:], strict=False))  # strictly increasing: monotone and unique
    assert all(isinstance(x, int) for x in s)
    assert len(s) <= max_checkpoints(count)  # what limits.estimate_work and plan.eval_size count
    if steps <= count:
        assert s == list(range(steps + 1))


def test_sgd_is_measured_at_every_one_of_its_first_40_updates():
    # the default comparison: B = 1 on 800 examples for 10 epochs, 200 checkpoints. Spaced by examples seen
    # alone its first point after the start was update 40, and a straight line hid updates 1-39.
    s = checkpoint_steps(8000, 800, 1, "shuffle", 200)
    assert s[:41] == list(range(41))
    # and the log-scaled updates axis stays sampled past them: no gap wider than 10% of where it starts
    later = np.array([x for x in s if x >= 40], dtype=float)
    assert (np.diff(later) / later[:-1]).max() <= 0.1


def test_the_evenly_spaced_checkpoints_of_before_are_all_kept():
    # steps-to-target (gd_core.science.scaling) interpolates between them: the log-spaced ones only add
    for steps, n, b, sampling, count in CASES:
        even = {0, steps, *(min(steps, steps_for_examples(examples_after(steps, n, b, sampling) * k / count,
                                                           n, b, sampling)) for k in range(1, count))}
        assert even <= set(checkpoint_steps(steps, n, b, sampling, count))
    s = checkpoint_steps(1000, 100, 10, "shuffle", 10)
    # count // 3 = 3 log-spaced: updates 1 and 2 (count // 5), then one geometric step to ten spacings (1000)
    assert s == [0, 1, 2, *range(100, 1001, 100)]


def test_every_batch_size_of_a_run_is_measured_early_and_at_the_end():
    c = ExperimentConfig(n_samples=250, batch_sizes=(1, 7, "full"), budget=4, n_checkpoints=8)
    log = run_experiment(c).log
    for _, g in log.groupby("batch_size"):
        assert g["step"].iloc[0] == 0 and g["epoch"].iloc[-1] == pytest.approx(4.0)
        assert len(g) <= max_checkpoints(8)
    sgd = log.query("batch_size == 1")
    assert list(sgd["step"].iloc[:2]) == [0, 1]  # the first update is measured
    # curves line up: the B = 1 checkpoints include every half epoch
    assert set(np.arange(9) * 0.5) <= set(sgd["epoch"])
