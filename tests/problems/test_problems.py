import numpy as np
import pytest
from fake_data import small_dataset

from gd_core.problems import PROBLEMS, make_problem
from gd_core.problems.gradcheck import gradient_check

N_CLASSES = {"least_squares": None, "logistic": 2, "softmax": 3, "svm": 3, "mlp": 3}
D, H = 4, 5


def _data(name, n=8, seed=0, dtype=np.float64):
    """Tiny seeded batch: X (n, D) and y (n,) of the kind the problem expects."""
    C = N_CLASSES[name]
    ds = small_dataset("regression" if C is None else "classification", n, D, C, dtype=dtype, seed=seed)
    return ds.X_train, ds.y_train


def _distance_to_kink(problem, w, X, y):
    """Smallest |hinge margin| (svm) or |hidden pre-activation| (mlp); inf for smooth problems."""
    p = problem.unpack(w)
    if problem.name == "svm":
        scores = X @ p["W"] + p["b"]
        margins = scores - scores[np.arange(len(y)), y][:, None] + 1
        margins[np.arange(len(y)), y] = np.inf  # the correct class has no hinge
        return np.abs(margins).min()
    if problem.name == "mlp":
        return np.abs(X @ p["W1"] + p["b1"]).min()
    return np.inf


def _smooth_point(problem, name):
    """(w, X, y) at least 1e-3 from every ReLU/hinge kink, so centered differences are honest."""
    for seed in range(50):
        X, y = _data(name, seed=seed)
        # Weights of order 1 (not the 0.01 init) so hinges and ReLUs are a mix of active and inactive.
        w = 0.7 * np.random.default_rng(100 + seed).standard_normal(problem.n_params)
        if _distance_to_kink(problem, w, X, y) > 1e-3:
            return w, X, y
    raise AssertionError("no seed gave a point away from the kinks")


@pytest.mark.parametrize("reg", [0.0, 0.1])
@pytest.mark.parametrize("name", PROBLEMS)
def test_gradient_check(name, reg):
    problem = make_problem(name, D, N_CLASSES[name], reg=reg, hidden=H)
    w, X, y = _smooth_point(problem, name)
    check = gradient_check(problem, w, X, y)
    assert check.analytic.shape == (problem.n_params,)
    assert check.max_rel_error < 1e-6


@pytest.mark.parametrize("name", PROBLEMS)
def test_loss_matches_loss_and_grad_and_works_for_one_row(name):
    problem = make_problem(name, D, N_CLASSES[name], reg=0.1, hidden=H)
    w = problem.init_params(np.random.default_rng(0))
    for n in (1, 8):
        X, y = _data(name, n=n)
        loss, grad = problem.loss_and_grad(w, X, y)
        assert isinstance(loss, float) and np.isfinite(loss)
        assert grad.shape == (problem.n_params,)
        np.testing.assert_allclose(problem.loss(w, X, y), loss, rtol=1e-12)


@pytest.mark.parametrize(("name", "expected"), [("logistic", np.log(2)), ("softmax", np.log(3)),
                                                ("svm", 2.0), ("mlp", np.log(3))])
def test_loss_at_zero_weights(name, expected):
    # Zero weights make every score equal: log C for cross-entropy, C - 1 violated unit margins for svm.
    problem = make_problem(name, D, N_CLASSES[name], hidden=H)
    X, y = _data(name)
    np.testing.assert_allclose(problem.loss(np.zeros(problem.n_params), X, y), expected, rtol=1e-12)


def _softmax_naive(W, b, X, y):
    """cs231n loop version: loss and (dW, db) one example at a time."""
    loss, dW, db = 0.0, np.zeros_like(W), np.zeros_like(b)
    for i in range(X.shape[0]):
        s = X[i] @ W + b
        s = s - s.max()
        p = np.exp(s) / np.exp(s).sum()
        loss += -np.log(p[y[i]])
        for j in range(W.shape[1]):
            dW[:, j] += (p[j] - (j == y[i])) * X[i]
            db[j] += p[j] - (j == y[i])
    n = X.shape[0]
    return loss / n, dW / n, db / n


def _svm_naive(W, b, X, y):
    loss, dW, db = 0.0, np.zeros_like(W), np.zeros_like(b)
    for i in range(X.shape[0]):
        s = X[i] @ W + b
        for j in range(W.shape[1]):
            if j == y[i]:
                continue
            margin = s[j] - s[y[i]] + 1
            if margin > 0:
                loss += margin
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
                db[j] += 1
                db[y[i]] -= 1
    n = X.shape[0]
    return loss / n, dW / n, db / n


@pytest.mark.parametrize(("name", "naive"), [("softmax", _softmax_naive), ("svm", _svm_naive)])
def test_vectorised_matches_naive_loop(name, naive):
    reg = 0.05
    problem = make_problem(name, D, 3, reg=reg)
    w, X, y = _smooth_point(problem, name)
    p = problem.unpack(w)
    loss, dW, db = naive(p["W"], p["b"], X, y)
    loss += 0.5 * reg * np.sum(p["W"] ** 2)
    dW += reg * p["W"]
    got_loss, grad = problem.loss_and_grad(w, X, y)
    g = problem.unpack(grad)
    np.testing.assert_allclose(got_loss, loss, rtol=1e-12)
    np.testing.assert_allclose(g["W"], dW, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(g["b"], db, rtol=1e-10, atol=1e-14)


def test_least_squares_optimum_is_lstsq():
    problem = make_problem("least_squares", D)
    X, y = _data("least_squares", n=20)
    expected = np.linalg.lstsq(np.hstack([X, np.ones((20, 1))]), y, rcond=None)[0]
    np.testing.assert_allclose(problem.optimum(X, y), expected, rtol=1e-10)
    np.testing.assert_allclose(problem.loss_and_grad(problem.optimum(X, y), X, y)[1], 0, atol=1e-12)


def test_ridge_optimum_of_rank_deficient_data_with_a_tiny_reg_is_the_least_norm_minimiser(monkeypatch):
    # found by the property test on numpy 2.0: two unique rows, reg = 2**-52, `solve` raised "Singular matrix"
    X = np.array([[1.0, 2.0], [2.0, 4.0]] * 5)  # centred, the columns are parallel: X^T X / n has rank 1
    y = np.array([1.0, 3.0] * 5)
    problem = make_problem("least_squares", 2, reg=2.0**-52)
    solve = np.linalg.solve

    def singular(A, b):  # what numpy 2.0's LAPACK does with this matrix (2.4's rounds its way past it)
        raise np.linalg.LinAlgError("Singular matrix")

    for how in (solve, singular):
        monkeypatch.setattr(np.linalg, "solve", how)
        w = problem.optimum(X, y)
        assert np.isfinite(w).all()
        np.testing.assert_allclose(problem.loss_and_grad(w, X, y)[1], 0, atol=1e-6)
        np.testing.assert_allclose(X @ w[:2] + w[2], y, atol=1e-6)  # the data is fitted exactly


def test_ridge_optimum_is_a_minimum_with_unpenalised_bias():
    problem = make_problem("least_squares", D, reg=0.3)
    X, y = _data("least_squares", n=20)
    y = y + 5.0  # a large offset: a penalised bias would be pulled visibly towards 0
    w_star = problem.optimum(X, y)
    np.testing.assert_allclose(problem.loss_and_grad(w_star, X, y)[1], 0, atol=1e-12)
    best = problem.loss(w_star, X, y)
    rng = np.random.default_rng(1)
    for _ in range(20):
        assert problem.loss(w_star + 1e-3 * rng.standard_normal(problem.n_params), X, y) > best


def test_bias_is_not_penalised():
    w = np.zeros(D + 1)
    w[-1] = 3.0
    X, y = _data("least_squares")
    loss0 = make_problem("least_squares", D).loss(w, X, y)
    np.testing.assert_allclose(make_problem("least_squares", D, reg=10.0).loss(w, X, y), loss0)


def test_least_squares_hessian_is_jacobian_of_gradient():
    problem = make_problem("least_squares", D, reg=0.2)
    X, y = _data("least_squares", n=20)
    H_ = problem.hessian(X)
    w0 = np.random.default_rng(0).standard_normal(D + 1)
    # The loss is quadratic, so differences of the gradient give the Hessian exactly (up to rounding).
    cols = [(problem.loss_and_grad(w0 + e, X, y)[1] - problem.loss_and_grad(w0 - e, X, y)[1]) / 2
            for e in np.eye(D + 1)]
    np.testing.assert_allclose(H_, np.array(cols).T, atol=1e-12)
    np.testing.assert_allclose(H_, H_.T)


def test_logistic_is_stable_for_huge_margins():
    problem = make_problem("logistic", 1)
    X = np.array([[1.0], [-1.0], [1.0], [-1.0]])
    y = np.array([1, 0, 0, 1])  # two right with margin 1e4, two wrong with margin -1e4
    w = np.array([1e4, 0.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, grad = problem.loss_and_grad(w, X, y)
        assert problem.loss(w, X, y) == loss
    np.testing.assert_allclose(loss, 5e3)
    np.testing.assert_allclose(grad, [0.5, 0.0], atol=1e-12)


def test_logistic_matches_textbook_formula():
    problem = make_problem("logistic", D)
    X, y = _data("logistic")
    w = np.random.default_rng(3).standard_normal(D + 1)
    z = X @ w[:D] + w[D]
    expected = np.mean(np.where(y == 1, np.log(1 + np.exp(-z)), np.log(1 + np.exp(z))))
    np.testing.assert_allclose(problem.loss(w, X, y), expected, rtol=1e-12)
    np.testing.assert_array_equal(problem.predict(w, X), (z > 0).astype(int))


@pytest.mark.parametrize("name", ["softmax", "mlp"])
def test_softmax_is_stable_and_shift_invariant(name):
    problem = make_problem(name, D, 3, hidden=H)
    w, X, y = _smooth_point(problem, name)
    shifted = w.copy()
    bias = "b" if name == "softmax" else "b2"
    problem.unpack(shifted)[bias][...] += 1e4  # exp(1e4) overflows unless the row max is subtracted
    loss, grad = problem.loss_and_grad(w, X, y)
    loss_s, grad_s = problem.loss_and_grad(shifted, X, y)
    np.testing.assert_allclose(loss_s, loss, rtol=1e-9)
    np.testing.assert_allclose(grad_s, grad, atol=1e-9)
    np.testing.assert_allclose(problem.loss(shifted, X, y), loss, rtol=1e-9)


@pytest.mark.parametrize("name", PROBLEMS)
def test_float32_in_float32_out(name):
    problem = make_problem(name, D, N_CLASSES[name], reg=0.1, hidden=H)
    w64, X64, y64 = _smooth_point(problem, name)
    w32, X32 = w64.astype(np.float32), X64.astype(np.float32)
    y32 = y64.astype(np.float32) if name == "least_squares" else y64
    loss32, grad32 = problem.loss_and_grad(w32, X32, y32)
    loss64, grad64 = problem.loss_and_grad(w64, X64, y64)
    assert grad32.dtype == np.float32
    np.testing.assert_allclose(loss32, loss64, rtol=1e-5)
    np.testing.assert_allclose(grad32, grad64, rtol=1e-4, atol=1e-6)
    assert problem.init_params(np.random.default_rng(0), np.float32).dtype == np.float32
    if name == "least_squares":
        assert problem.predict(w32, X32).dtype == np.float32
        assert problem.optimum(X32, y32).dtype == np.float32


@pytest.mark.parametrize("name", PROBLEMS)
def test_init_params_deterministic_with_zero_biases(name):
    problem = make_problem(name, D, N_CLASSES[name], hidden=H)
    w = problem.init_params(np.random.default_rng(7))
    np.testing.assert_array_equal(w, problem.init_params(np.random.default_rng(7)))
    np.testing.assert_array_equal(w.astype(np.float32), problem.init_params(np.random.default_rng(7),
                                                                            np.float32))
    for key, value in problem.unpack(w).items():
        assert np.all(value == 0) == key.startswith("b")


def test_init_scales():
    rng = np.random.default_rng(0)
    W = make_problem("softmax", 200, 50).unpack(make_problem("softmax", 200, 50).init_params(rng))["W"]
    np.testing.assert_allclose(W.std(), 0.01, rtol=0.05)
    mlp = make_problem("mlp", 200, 50, hidden=100)
    p = mlp.unpack(mlp.init_params(rng))
    np.testing.assert_allclose(p["W1"].std(), np.sqrt(2 / 200), rtol=0.05)
    np.testing.assert_allclose(p["W2"].std(), np.sqrt(1 / 100), rtol=0.05)


@pytest.mark.parametrize(("name", "shapes"), [
    ("least_squares", {"W": (D,), "b": (1,)}),
    ("logistic", {"W": (D,), "b": (1,)}),
    ("softmax", {"W": (D, 3), "b": (3,)}),
    ("svm", {"W": (D, 3), "b": (3,)}),
    ("mlp", {"W1": (D, H), "b1": (H,), "W2": (H, 3), "b2": (3,)}),
])
def test_unpack_gives_views_in_layout_order(name, shapes):
    problem = make_problem(name, D, N_CLASSES[name], hidden=H)
    w = np.arange(problem.n_params, dtype=float)
    parts = problem.unpack(w)
    assert {k: v.shape for k, v in parts.items()} == shapes
    assert problem.n_params == sum(np.prod(s) for s in shapes.values())
    np.testing.assert_array_equal(np.concatenate([v.ravel() for v in parts.values()]), w)
    for v in parts.values():
        assert np.shares_memory(v, w)


def test_predict_and_accuracy():
    problem = make_problem("softmax", 2, 2)
    X = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]])
    w = np.array([1.0, 0.0, 0.0, 1.0, 0.0, 0.0])  # W = I: predicts the larger feature
    np.testing.assert_array_equal(problem.predict(w, X), [0, 1, 0])
    assert problem.accuracy(w, X, np.array([0, 1, 1])) == pytest.approx(2 / 3)
    assert np.isnan(make_problem("least_squares", 2).accuracy(np.zeros(3), X, np.zeros(3)))
    assert make_problem("softmax", 2, 2).optimum(X, np.array([0, 1, 1])) is None


@pytest.mark.parametrize(("args", "kwargs", "match"), [
    (("foo", 2), {}, r"problem must be one of least_squares, logistic, softmax, svm, mlp; got 'foo'"),
    (("softmax", 2, 1), {}, r"n_classes must be an integer >= 2 for softmax; got 1"),
    (("svm", 2), {}, r"n_classes .* svm; got None"),
    (("logistic", 2, 3), {}, r"n_classes must be None or 2 for logistic.*got 3"),
    (("least_squares", 2, 3), {}, r"n_classes must be None for least_squares.*got 3"),
    (("softmax", 0, 3), {}, r"n_features must be an integer >= 1 .*got 0"),
    (("mlp", 2, 3), {"hidden": 0}, r"hidden must be an integer >= 1 for mlp; got 0"),
    (("softmax", 2, 3), {"reg": -1.0}, r"reg must be a finite number >= 0; got -1.0"),
])
def test_bad_arguments_name_the_field(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_problem(*args, **kwargs)


@pytest.mark.parametrize("reg", [0.0, 0.3])
@pytest.mark.parametrize("condition", ["well", "ill"])
def test_least_squares_chunked_optimum_matches_lstsq(reg, condition):
    """Sets over `chunk` rows take the chunked normal equations, or chunked QR where the normal equations would
    square a condition number over 1e8; both must land on the minimiser the direct solve finds."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((700, 4)) * [1.0, 3.0, 0.5, 2.0] + 1.5
    if condition == "ill":
        X[:, 3] = X[:, 0] + 1e-6 * rng.standard_normal(700)  # cond([X, 1]) ~ 1e6: squared, 1e12
    y = X @ [1.0, -2.0, 0.5, 0.0] + 0.3 + 0.1 * rng.standard_normal(700)
    p = make_problem("least_squares", 4, reg=reg)
    direct = p.optimum(X, y)
    A, _ = p._normal_equations(X, y, 128)
    assert (np.linalg.cond(A) < 1e8) == (condition == "well" or reg > 0)  # which chunked path runs
    chunked = p.optimum(X, y, chunk=128)
    np.testing.assert_allclose(chunked, direct, rtol=1e-6 if condition == "ill" and not reg else 1e-9, atol=1e-9)
    _, g = p.loss_and_grad(chunked, X, y)
    assert np.abs(g).max() < 1e-9


def test_least_squares_chunked_qr_is_the_minimiser_and_holds_no_float64_copy():
    """The QR path on its own (ridge too), against lstsq on the whole stacked system, and its memory."""
    import tracemalloc

    rng = np.random.default_rng(2)
    X = (rng.standard_normal((6000, 8)) * np.logspace(0, -5, 8)).astype(np.float32)
    y = X.astype(np.float64) @ rng.standard_normal(8) + 0.01 * rng.standard_normal(6000)
    for reg in (0.0, 0.05):
        p = make_problem("least_squares", 8, reg=reg)
        A = np.hstack([X.astype(np.float64), np.ones((6000, 1))])
        if reg:
            A = np.vstack([A, np.hstack([np.sqrt(6000 * reg) * np.eye(8), np.zeros((8, 1))])])
        want = np.linalg.lstsq(A, np.concatenate([y, np.zeros(8 if reg else 0)]), rcond=None)[0]
        tracemalloc.start()
        got = p._chunked_qr(X, y, 500)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)
        assert peak < A.nbytes / 2, peak  # a few chunks' worth (measured: 154 KB), not a float64 [X, 1] (432 KB)
