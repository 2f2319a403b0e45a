"""Gradient noise (gd_core/science/noise.py): exact B_simple against brute force, measured noise against B_simple/B."""

import numpy as np
import pytest

from gd_core import make_dataset, make_problem
from gd_core.science.noise import noise_stats, per_example_gradients, relative_noise_curve, two_batch_estimate

CASES = {
    "least_squares": ("linear", None),
    "logistic": ("moons", None),
    "softmax": ("blobs", 4),
    "svm": ("blobs", 4),
    "mlp": ("spiral", 3),
}


def _setup(name, reg=0.1, n=60):
    dataset, n_classes = CASES[name]
    ds = make_dataset(dataset, n, 3, n_classes or 3, noise=0.5, val_fraction=0.0, seed=3)
    problem = make_problem(name, ds.n_features, ds.n_classes, reg=reg, hidden=5)
    rng = np.random.default_rng(4)
    w = problem.init_params(rng) + 0.3 * rng.standard_normal(problem.n_params)
    return problem, w, ds.X_train, ds.y_train


@pytest.mark.parametrize("name", list(CASES))
def test_exact_b_simple_equals_a_per_example_loop(name):
    problem, w, X, y = _setup(name)
    G = problem.loss_and_grad(w, X, y)[1]  # includes the L2 term, as every g_i below does
    g = np.array([problem.loss_and_grad(w, X[i:i + 1], y[i:i + 1])[1] for i in range(len(y))])
    trace = np.mean(np.sum((g - G) ** 2, axis=1))  # divisor N
    s = noise_stats(problem, w, X, y)
    np.testing.assert_allclose(s.grad_norm2, G @ G, rtol=1e-10)
    np.testing.assert_allclose(s.trace_sigma, trace, rtol=1e-10)
    np.testing.assert_allclose(s.b_simple, trace / (G @ G), rtol=1e-10)
    # per-example data gradients + the (shared) penalty gradient are the loop's gradients
    penalty = G - per_example_gradients(problem, w, X, y).mean(axis=0)
    np.testing.assert_allclose(per_example_gradients(problem, w, X, y) + penalty, g, atol=1e-12)


def test_l2_term_adds_to_G_not_to_sigma():
    problem, w, X, y = _setup("softmax", reg=0.0)
    plain = noise_stats(problem, w, X, y)
    reg = noise_stats(make_problem("softmax", 3, 4, reg=0.5), w, X, y)
    np.testing.assert_allclose(reg.trace_sigma, plain.trace_sigma, rtol=1e-12)
    assert reg.grad_norm2 != pytest.approx(plain.grad_norm2)


@pytest.fixture(scope="module")
def least_squares():
    ds = make_dataset("linear", 128, 4, noise=0.5, val_fraction=0.0, seed=0)
    problem = make_problem("least_squares", 4)
    return problem, problem.init_params(np.random.default_rng(0)), ds.X_train, ds.y_train


@pytest.mark.parametrize("sampling", ["shuffle", "replacement"])
def test_measured_relative_noise_matches_b_simple_over_b(least_squares, sampling):
    problem, w, X, y = least_squares
    n = len(y)
    sizes = [1, 2, 4, 8, 16, 32, 64, n]
    df = relative_noise_curve(problem, X, y, w, sizes, n_draws=1500, sampling=sampling,
                              rng=np.random.default_rng(1))
    b_simple = noise_stats(problem, w, X, y).b_simple
    factor = (n - df["batch_size"]) / (n - 1) if sampling == "shuffle" else 1.0
    np.testing.assert_allclose(df["predicted"], b_simple / df["batch_size"] * factor, rtol=1e-12)
    upto_half = df[df["batch_size"] <= n // 2]
    np.testing.assert_allclose(upto_half["measured"], upto_half["predicted"], rtol=0.10)
    last = df.iloc[-1]
    if sampling == "shuffle":  # the whole set in any order: no noise at all
        assert last["measured"] < 1e-20 and last["predicted"] == 0
    else:
        assert last["measured"] == pytest.approx(b_simple / n, rel=0.10)


def test_two_batch_estimate_agrees_with_exact(least_squares):
    problem, w, X, y = least_squares
    exact = noise_stats(problem, w, X, y)
    est = two_batch_estimate(problem, w, X, y, 2, 32, n_pairs=1500, rng=np.random.default_rng(5))
    assert est.b_simple == pytest.approx(exact.b_simple, rel=0.20)
    assert est.grad_norm2 == pytest.approx(exact.grad_norm2, rel=0.20)


def test_bad_batch_sizes_are_rejected(least_squares):
    problem, w, X, y = least_squares
    with pytest.raises(ValueError, match=r"batch_size must be in \[1, 128\]; got 0"):
        relative_noise_curve(problem, X, y, w, [0])
    with pytest.raises(ValueError, match="b_small"):
        two_batch_estimate(problem, w, X, y, 8, 8)
