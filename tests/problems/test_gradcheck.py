import warnings

import numpy as np
import pytest

from gd_core.problems.gradcheck import (
    REL_ERROR_THRESHOLDS,
    classify_rel_error,
    gradient_check,
    numerical_gradient,
    relative_error,
)


class _Cubic:
    """Stand-in problem with a known gradient: loss = sum(w**3), grad = 3 w**2 (or a wrong one)."""

    def __init__(self, grad_scale=3.0):
        self.grad_scale = grad_scale

    def loss(self, w, X, y):
        return float(np.sum(w**3))

    def loss_and_grad(self, w, X, y):
        return self.loss(w, X, y), self.grad_scale * w**2


class _Constant:
    def loss(self, w, X, y):
        return 1.0

    def loss_and_grad(self, w, X, y):
        return 1.0, np.zeros_like(w)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_numerical_gradient_restores_w_exactly(dtype):
    w = np.random.default_rng(0).standard_normal((3, 4)).astype(dtype)
    before = w.copy()
    seen = []
    grad = numerical_gradient(lambda v: seen.append(v is w) or float(np.sum(v**2)), w)
    np.testing.assert_array_equal(w, before)
    assert grad.shape == w.shape and all(seen)  # probes w in place, no copy per coordinate


def test_numerical_gradient_restores_w_when_f_raises():
    w = np.ones(3)

    def f(v):
        if v[1] != 1.0:
            raise RuntimeError("boom")
        return 0.0

    with pytest.raises(RuntimeError):
        numerical_gradient(f, w)
    np.testing.assert_array_equal(w, np.ones(3))


def test_numerical_gradient_of_cubic_is_accurate():
    w = np.random.default_rng(1).standard_normal(6)
    # Centered differences of a cubic are off by exactly h^2 (f''' = 6): tiny at h = 1e-5.
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(v**3), w), 3 * w**2, rtol=1e-8)


def test_numerical_gradient_probes_non_contiguous_views_in_place():
    base = np.random.default_rng(3).standard_normal((4, 3))
    w = base.T  # (3, 4) F-ordered view: reshape(-1) would silently copy
    before = base.copy()
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(v**3), w), 3 * w**2, rtol=1e-8)
    np.testing.assert_array_equal(base, before)


def test_gradient_check_known_gradient():
    w = np.random.default_rng(2).uniform(0.5, 2.0, 5)
    check = gradient_check(_Cubic(), w, None, None)
    np.testing.assert_allclose(check.analytic, 3 * w**2)
    assert check.max_rel_error < 1e-8
    assert classify_rel_error(check.max_rel_error) == "good"


def test_gradient_check_catches_wrong_gradient():
    w = np.random.default_rng(2).uniform(0.5, 2.0, 5)
    check = gradient_check(_Cubic(grad_scale=2.0), w, None, None)
    np.testing.assert_allclose(check.rel_error, 1 / 3, rtol=1e-6)  # |2 - 3| / 3
    assert classify_rel_error(check.max_rel_error) == "wrong"


def test_rel_error_is_zero_without_warnings_when_both_zero():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check = gradient_check(_Constant(), np.ones(4), None, None)
        np.testing.assert_array_equal(check.rel_error, 0.0)
        assert check.max_rel_error == 0.0
        np.testing.assert_array_equal(relative_error(np.array([0.0, 1.0]), np.array([0.0, -1.0])), [0, 2])


@pytest.mark.parametrize(("r", "verdict"), [
    (0.0, "good"), (1e-8, "good"), (1e-7, "ok"), (1e-5, "ok"), (1e-4, "uncomfortable"),
    (1e-3, "uncomfortable"), (1e-2, "wrong"), (0.5, "wrong"), (float("nan"), "wrong"),
])
def test_classify_rel_error(r, verdict):
    assert classify_rel_error(r) == verdict


def test_thresholds_follow_cs231n():
    assert dict(REL_ERROR_THRESHOLDS) == {"good": 1e-7, "ok": 1e-4, "uncomfortable": 1e-2}
