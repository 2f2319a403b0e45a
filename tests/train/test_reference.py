"""train/reference.py: the notes' loop, the oracle of the fast paths."""

import math

import numpy as np
import pytest

from gd_core import BatchSampler, make_optimizer, make_problem
from gd_core.train.reference import EXPLODE_FACTOR, Descent, divergence_limit, reference_run, sampled


def _least_squares(n=50, D=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, D))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.1 * rng.standard_normal(n)
    return make_problem("least_squares", D), X, y


def test_full_batch_descent_reaches_the_closed_form_optimum():
    p, X, y = _least_squares()
    d = Descent(p, X, y, np.zeros(p.n_params), make_optimizer("sgd", 0.5))
    result = d.run([None] * 300)
    assert not result.diverged and d.step == 300
    np.testing.assert_allclose(d.w, p.optimum(X, y), atol=1e-10)


def test_one_step_is_the_update_rule_on_the_batch_gradient():
    p, X, y = _least_squares()
    w0 = np.full(p.n_params, 0.1)
    d = Descent(p, X, y, w0, make_optimizer("sgd", 0.2))
    rows = np.array([3, 7, 11])
    loss, grad = p.loss_and_grad(w0, X[rows], y[rows])
    assert d.take(rows) == (loss, False)
    np.testing.assert_array_equal(d.w, w0 - 0.2 * grad)
    assert w0[0] == 0.1  # the caller's start is copied, not updated


def test_a_loss_over_the_limit_stops_before_its_update():
    p, X, y = _least_squares()
    w0 = np.zeros(p.n_params)
    d = Descent(p, X, y, w0, make_optimizer("sgd", 10.0))  # far past 2 / lambda_max: the loss grows each step
    limit = divergence_limit(p.loss(w0, X, y))
    result = d.run(sampled(BatchSampler(len(X), len(X), "shuffle", np.random.default_rng(0)), 100), limit)
    assert result.diverged and result.loss > limit and 0 < d.step < 100
    assert p.loss(d.w, X, y) == result.loss  # the weights are those the diverging loss was measured at
    assert divergence_limit(0.5) == EXPLODE_FACTOR and divergence_limit(-3.0, 10.0) == 30.0
    assert Descent(p, X, y, w0, make_optimizer("sgd", 0.1)).take(None, math.nan).diverged  # NaN never passes


@pytest.mark.parametrize("sampling", ["shuffle", "replacement"])
def test_reference_run_follows_the_sampler_and_the_schedule(sampling):
    p, X, y = _least_squares()
    w0 = np.zeros(p.n_params)

    def schedule(step):
        return 0.1 / (1 + step)

    got = reference_run(p, X, y, w0, "sgd", schedule, {"momentum": 0.9}, 8, sampling, np.random.default_rng(5), 20)
    opt, sampler, w = make_optimizer("sgd", schedule, momentum=0.9), BatchSampler(50, 8, sampling,
                                                                                 np.random.default_rng(5)), w0.copy()
    state = opt.init(w)
    for _ in range(20):
        idx = sampler.next()
        w, state = opt.update(p.loss_and_grad(w, X[idx], y[idx])[1], state, w)
    np.testing.assert_array_equal(got.w, w)
    assert got.steps == 20 and not got.diverged
