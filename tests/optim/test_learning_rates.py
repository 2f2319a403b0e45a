"""optim.learning_rates: the one log-spaced lr grid and the full-batch stability limit."""

import numpy as np
import pytest

from gd_core import make_optimizer
from gd_core.optim.learning_rates import log_lr_grid, lr_grid_around, max_stable_lr


def test_log_grid_ends_at_both_bounds_with_equal_ratios():
    grid = log_lr_grid(0.001, 1.0, 4)
    assert grid == (0.001, 0.01, 0.1, 1.0)
    assert log_lr_grid(0.02, 0.7, 5)[0] == 0.02 and log_lr_grid(0.02, 0.7, 5)[-1] == 0.7
    assert lr_grid_around(0.1, 4.0, 5) == (0.001, 0.01, 0.1, 1.0, 10.0)
    # the formula the optimizer page used before it was shared: centre * 10**e, e evenly spaced
    for center in (0.003, 0.05, 0.7, 2.0):
        exps = np.linspace(-1.5, 1.5, 7)
        assert lr_grid_around(center, 3.0, 7) == tuple(float(f"{center * 10.0 ** e:.3g}") for e in exps)


def _final_distance(lr, curvature, **hp):
    """|w| after 400 full-batch steps on f(w) = curvature w^2 / 2 from w = 1 (gradient curvature * w)."""
    opt = make_optimizer("sgd", lr, **hp)
    w = np.ones(1)
    state = opt.init(w)
    with np.errstate(all="ignore"):
        for _ in range(400):
            w, state = opt.update(curvature * w, state, w)
    return abs(float(w[0]))


@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.5, False), (0.9, False), (0.5, True), (0.9, True)])
def test_descent_converges_just_below_the_limit_and_diverges_just_above(momentum, nesterov):
    curvature = 3.0
    limit = max_stable_lr(curvature, momentum, nesterov)
    hp = {"momentum": momentum, "nesterov": nesterov} if momentum else {}
    assert _final_distance(0.97 * limit, curvature, **hp) < 1e-2
    assert _final_distance(1.03 * limit, curvature, **hp) > 1e2


def test_limits_in_closed_form():
    assert max_stable_lr(4.0) == 0.5
    assert max_stable_lr(4.0, 0.5) == pytest.approx(0.75)  # 2 (1 + mu) / L
    assert max_stable_lr(4.0, 0.5, nesterov=True) == pytest.approx(0.375)  # 2 (1 + mu) / ((1 + 2 mu) L)
