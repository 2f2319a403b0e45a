import math

import numpy as np
import pytest
import torch_golden

from gd_core.optim.optimizers import (
    OPTIMIZERS,
    AdamState,
    Optimizer,
    SGDState,
    adam,
    describe,
    hyperparameters,
    make_optimizer,
    sgd,
)


def cosine(lr0, total):
    return lambda t: lr0 * 0.5 * (1.0 + math.cos(math.pi * t / total))


def quadratic(n_dims, seed=0):
    """0.5 (w - w*)^T H (w - w*) with eigenvalues 1..100 (condition number 100) in a random basis."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n_dims, n_dims)))
    H = (Q * np.logspace(0, 2, n_dims)) @ Q.T
    w_star = rng.standard_normal(n_dims)
    return (lambda w: H @ (w - w_star)), w_star


def logistic(seed=1, n=80, reg=0.01):
    """Mean logistic loss + 0.5 reg |w|^2 on 3 features + intercept; optimum by Newton's method."""
    rng = np.random.default_rng(seed)
    X = np.c_[rng.standard_normal((n, 3)), np.ones(n)]  # (n, 4)
    y = (X[:, :3] @ [1.5, -2.0, 0.5] + 0.3 + rng.standard_normal(n) > 0).astype(float)

    def grad(w):
        p = 0.5 * (1.0 + np.tanh(0.5 * (X @ w)))  # sigmoid without overflow
        return X.T @ (p - y) / n + reg * w

    w = np.zeros(4)
    for _ in range(30):
        p = 0.5 * (1.0 + np.tanh(0.5 * (X @ w)))
        w = w - np.linalg.solve((X.T * (p * (1 - p))) @ X / n + reg * np.eye(4), grad(w))
    assert np.linalg.norm(grad(w)) < 1e-14
    return grad, w


def run(opt, grad_fn, w0, steps):
    w = np.array(w0, dtype=float)
    state = opt.init(w)
    for _ in range(steps):
        w, state = opt.update(grad_fn(w), state, w)
    return w


# (name, lr, hyperparameters, steps, use a cosine schedule): constant-lr RMSprop hovers around the minimum
CONVERGENCE = [
    ("sgd", 0.019, {}, 1500, False),
    ("sgd", 0.01, {"momentum": 0.9}, 500, False),
    ("sgd", 0.01, {"momentum": 0.9, "nesterov": True, "weight_decay": 0.0}, 500, False),
    ("adagrad", 1.0, {}, 1500, False),
    ("rmsprop", 0.01, {}, 1500, True),
    ("rmsprop", 0.003, {"momentum": 0.9, "centered": True}, 1500, True),
    ("adam", 0.1, {}, 1500, False),
    ("adam", 0.1, {"amsgrad": True}, 1500, True),
]


@pytest.mark.parametrize("n_dims", [2, 10])
@pytest.mark.parametrize("name, lr, hp, steps, scheduled", CONVERGENCE)
def test_reaches_minimum_of_ill_conditioned_quadratic(name, lr, hp, steps, scheduled, n_dims):
    grad_fn, w_star = quadratic(n_dims)
    opt = make_optimizer(name, cosine(lr, steps) if scheduled else lr, **hp)
    w = run(opt, grad_fn, np.zeros(n_dims), steps)
    assert np.linalg.norm(w - w_star) < 1e-5 * np.linalg.norm(w_star)


@pytest.mark.parametrize("name, lr, hp, steps, scheduled", CONVERGENCE)
def test_reaches_logistic_regression_optimum(name, lr, hp, steps, scheduled):
    grad_fn, w_star = logistic()
    lr = 50 * lr if name == "sgd" else lr  # the logistic Hessian is ~100x flatter than the quadratic's
    opt = make_optimizer(name, cosine(lr, 2 * steps) if scheduled else lr, **hp)
    w = run(opt, grad_fn, np.zeros(4), 2 * steps)
    np.testing.assert_allclose(w, w_star, atol=1e-6)
    assert np.linalg.norm(grad_fn(w)) < 1e-7


def reference_loop(name, hp, grads, w0, lr=0.05):
    """Hand-written rules from the papers (Polyak, Nesterov, Duchi et al., Hinton, Kingma & Ba, Reddi et al.)."""
    w, t = w0.copy(), 0
    a = b = c = np.zeros_like(w0)
    for g in grads:
        t += 1
        if name == "momentum":  # v = mu v + g; w -= lr v
            a = hp["momentum"] * a + g
            w = w - lr * a
        elif name == "nesterov":  # v = mu v + g; w -= lr (g + mu v)
            a = hp["momentum"] * a + g
            w = w - lr * (g + hp["momentum"] * a)
        elif name == "adagrad":  # s += g^2; w -= lr g / (sqrt(s) + eps)
            a = a + g**2
            w = w - lr * g / (np.sqrt(a) + 1e-10)
        elif name == "rmsprop":  # s = alpha s + (1 - alpha) g^2; w -= lr g / (sqrt(s) + eps)
            a = 0.9 * a + 0.1 * g**2
            w = w - lr * g / (np.sqrt(a) + 1e-8)
        elif name == "rmsprop_centered_momentum":  # Graves 2013 / torch: subtract the squared mean gradient
            a, b = 0.9 * a + 0.1 * g**2, 0.9 * b + 0.1 * g
            c = 0.5 * c + g / (np.sqrt(a - b**2) + 1e-8)
            w = w - lr * c
        else:  # Adam, Kingma & Ba Algorithm 1 (amsgrad: Reddi et al. use the running max of v)
            b1, b2 = hp.get("betas", (0.9, 0.999))
            a, b = b1 * a + (1 - b1) * g, b2 * b + (1 - b2) * g**2
            c = np.maximum(c, b) if hp.get("amsgrad") else b
            w = w - lr * (a / (1 - b1**t)) / (np.sqrt(c / (1 - b2**t)) + 1e-8)
    return w


REFERENCES = [
    ("momentum", "sgd", {"momentum": 0.9}),
    ("nesterov", "sgd", {"momentum": 0.8, "nesterov": True}),
    ("adagrad", "adagrad", {}),
    ("rmsprop", "rmsprop", {"alpha": 0.9}),
    ("rmsprop_centered_momentum", "rmsprop", {"alpha": 0.9, "centered": True, "momentum": 0.5}),
    ("adam", "adam", {}),
    ("adam", "adam", {"betas": (0.5, 0.9), "amsgrad": True}),
]


@pytest.mark.parametrize("ref, name, hp", REFERENCES)
def test_matches_hand_written_reference_for_20_steps(ref, name, hp):
    rng = np.random.default_rng(3)
    grads, w0 = rng.standard_normal((20, 6)), rng.standard_normal(6)
    opt, w = make_optimizer(name, 0.05, **hp), w0.copy()
    state = opt.init(w)
    for g in grads:  # a fixed gradient sequence, independent of w
        w, state = opt.update(g, state, w)
    np.testing.assert_allclose(w, reference_loop(ref, hp, grads, w0), rtol=1e-12, atol=1e-12)


def test_sgd_without_momentum_is_plain_gradient_step():
    grad_fn, _ = quadratic(5)
    opt, w = sgd(0.01), np.ones(5)
    state, expected = opt.init(w), np.ones(5)
    for _ in range(30):
        g = grad_fn(w)
        expected = expected - 0.01 * g
        w, state = opt.update(g, state, w)
        np.testing.assert_array_equal(w, expected)
    assert state == SGDState(30, None)


GOLDEN_INPUTS, GOLDEN, GOLDEN_TORCH = torch_golden.load()


def test_golden_file_covers_every_case_with_its_own_inputs():
    assert sorted(GOLDEN) == sorted(torch_golden.case_id(*c) for c in torch_golden.CASES)
    assert {name for name, _ in torch_golden.SETTINGS} == set(OPTIMIZERS)
    for k, v in torch_golden.make_inputs().items():  # the stored inputs are the recorder's, bit for bit
        np.testing.assert_array_equal(GOLDEN_INPUTS[k], v)
    assert all(t.shape == (torch_golden.STEPS, 5) and np.isfinite(t).all() for t in GOLDEN.values())


@pytest.mark.parametrize("name, hp, scheduled", torch_golden.CASES, ids=[torch_golden.case_id(*c)
                                                                          for c in torch_golden.CASES])
def test_matches_torch_optim_step_by_step_for_50_steps(name, hp, scheduled):
    """Every step equals torch.optim's, recorded in tests/data/torch_optim_trajectories.json (torch_golden.py)."""
    H, noise, w0 = GOLDEN_INPUTS["H"], GOLDEN_INPUTS["noise"], GOLDEN_INPUTS["w0"]
    lr = torch_golden.lr_at(scheduled)
    opt, w = make_optimizer(name, lr if scheduled else torch_golden.LR, **hp), w0.copy()
    state = opt.init(w)
    want = GOLDEN[torch_golden.case_id(name, hp, scheduled)]
    for t in range(torch_golden.STEPS):
        w, state = opt.update(H @ w + noise[t], state, w)
        np.testing.assert_allclose(w, want[t], rtol=1e-10, atol=1e-10, err_msg=f"step {t + 1} (torch {GOLDEN_TORCH})")


@pytest.mark.torch
@pytest.mark.parametrize("name, hp, scheduled", torch_golden.CASES, ids=[torch_golden.case_id(*c)
                                                                          for c in torch_golden.CASES])
def test_installed_torch_still_gives_the_golden_trajectories(name, hp, scheduled):
    """The `torch` group (`pip install -r requirements-torch.txt && python -m pytest -m torch`): live torch.optim."""
    live = torch_golden.torch_trajectory(name, hp, scheduled, GOLDEN_INPUTS)
    np.testing.assert_allclose(live, GOLDEN[torch_golden.case_id(name, hp, scheduled)], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name, hp", [
    ("sgd", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("adagrad", {"weight_decay": 0.1}), ("rmsprop", {"momentum": 0.5, "centered": True}),
    ("adam", {"amsgrad": True, "weight_decay": 0.1}),
])
def test_float32_in_place_and_grad_untouched(name, hp):
    opt = make_optimizer(name, 0.01, **hp)
    w = np.linspace(-1, 1, 7, dtype=np.float32)
    grad = (2 * w).astype(np.float32)
    grad_before, state = grad.copy(), opt.init(w)
    for _ in range(3):
        new_w, state = opt.update(grad, state, w)
        assert new_w is w and w.dtype == np.float32  # the runner owns w: updated in place
    np.testing.assert_array_equal(grad, grad_before)
    assert all(a.dtype == np.float32 for a in state[1:] if a is not None)
    assert state.step == 3


def test_lr_schedule_called_with_zero_based_step():
    seen = []
    opt = adam(lambda t: seen.append(t) or 0.1 * 0.5**t)
    w = np.zeros(3)
    state = opt.init(w)
    for _ in range(4):
        w, state = opt.update(np.ones(3), state, w)
    assert seen == [0, 1, 2, 3] and isinstance(state, AdamState)
    # constant gradient: Adam's bias-corrected step is lr * 1/(1 + eps), so w = -sum of the lrs
    np.testing.assert_allclose(w, -sum(0.1 * 0.5**t for t in range(4)), rtol=1e-7)


def test_adagrad_lr_decay_divides_by_one_plus_decay_times_steps_done():
    opt, w = make_optimizer("adagrad", 1.0, lr_decay=1.0, initial_accumulator_value=1.0), np.zeros(1)
    state = opt.init(w)
    w, state = opt.update(np.zeros(1), state, w)  # t = 1: nothing moves, the count advances
    w, state = opt.update(np.ones(1), state, w)  # t = 2: clr = 1/2, sum = 2
    np.testing.assert_allclose(w, [-0.5 / (math.sqrt(2) + 1e-10)])


@pytest.mark.parametrize("name, kwargs, message", [
    ("sgd", {"lr": -1.0}, "lr must be a finite number > 0; got -1.0"),
    ("adam", {"lr": float("nan")}, "lr must be a finite number > 0; got nan"),
    ("sgd", {"lr": 0.1, "momentum": -0.5}, "momentum must be a finite number in [0, 1); got -0.5"),
    ("sgd", {"lr": 0.1, "nesterov": True}, "nesterov=True requires momentum > 0"),
    ("sgd", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "dampening": 0.1}, "dampening = 0"),
    ("sgd", {"lr": 0.1, "weight_decay": -1}, "weight_decay must be a finite number >= 0; got -1"),
    ("sgd", {"lr": 0.1, "nesterov": "yes"}, "nesterov must be True or False; got 'yes'"),
    ("adam", {"lr": 0.1, "betas": (0.9, 1.0)}, "betas must be a pair of numbers in [0, 1); got (0.9, 1.0)"),
    ("adam", {"lr": 0.1, "betas": 0.9}, "betas must be a pair"),
    ("adam", {"lr": 0.1, "eps": 0.0}, "eps must be a finite number > 0; got 0.0"),
    ("adagrad", {"lr": 0.1, "lr_decay": -0.1}, "lr_decay must be a finite number >= 0"),
    ("adagrad", {"lr": 0.1, "initial_accumulator_value": -1.0}, "initial_accumulator_value must be"),
    ("rmsprop", {"lr": 0.1, "alpha": 1.0}, "alpha must be a finite number in [0, 1); got 1.0"),
    ("rmsprop", {"lr": 0.1, "centered": 1}, "centered must be True or False; got 1"),
    ("sgd", {"lr": 0.1, "betas": (0.9, 0.99)},
     "sgd does not take 'betas'; it takes lr, momentum, dampening, nesterov, weight_decay"),
    ("adagrad", {"lr": 0.1, "momentum": 0.9}, "adagrad does not take 'momentum'"),
    ("lbfgs", {"lr": 0.1}, "optimizer must be one of sgd, adagrad, rmsprop, adam; got 'lbfgs'"),
])
def test_bad_values_raise_value_error_naming_the_parameter(name, kwargs, message):
    with pytest.raises(ValueError) as info:
        make_optimizer(name, **kwargs)
    assert message in str(info.value)


def test_integer_w_is_rejected():
    with pytest.raises(ValueError, match="w must be a floating-point array; got dtype int64"):
        sgd(0.1).init(np.zeros(3, dtype=np.int64))


def test_hyperparameters_and_describe_cover_every_optimizer():
    assert hyperparameters("sgd") == dict(momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0)
    assert hyperparameters("adam") == dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False)
    assert list(hyperparameters("adagrad")) == ["lr_decay", "weight_decay", "initial_accumulator_value",
                                                "eps"]
    assert list(hyperparameters("rmsprop")) == ["alpha", "eps", "weight_decay", "momentum", "centered"]
    for name in OPTIMIZERS:
        opt = make_optimizer(name, 0.1, **hyperparameters(name))  # the defaults are valid
        assert isinstance(opt, Optimizer)
        text = describe(name)
        assert "w -= lr" in text and "\n" not in text
    assert "1 - b2^t" in describe("adam") and "nesterov" in describe("sgd")
