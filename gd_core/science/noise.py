"""Gradient noise (McCandlish et al. 2018): the simple noise scale `B_simple = tr(Sigma) / |G|^2`.

Per-example gradients `g_i` of the data term, true gradient `G = mean_i g_i + reg * w_weights` (the L2 term
is the same for every example: it adds to G, not to Sigma). `tr(Sigma)` is the *population* variance over the
N examples, `mean_i |g_i - G_data|^2` (divisor N), because that is the distribution a batch is drawn from:
with replacement `E|G_B - G|^2 = tr(Sigma) / B` exactly, without replacement `tr(Sigma)/B * (N-B)/(N-1)`
(the finite-population correction that goes with the divisor-N variance; it is 0 at B = N).

Linear models have outer-product per-example gradients `g_i = x~_i d_i^T` with `x~_i = [x_i, 1]` and
`d_i = dL_i/dscores_i`, so `|g_i|^2 = |x~_i|^2 |d_i|^2` costs no more than one gradient. The MLP uses the same
identity layer by layer (Goodfellow 2015): `|g_i|^2 = (|x_i|^2+1)|dh_i|^2 + (|h_i|^2+1)|ds_i|^2`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from ..problems import Problem, softmax_cross_entropy
from ..train.plan import total_steps
from ..train.runner import build_dataset, build_problem
from .phases import train_phases


class NoiseStats(NamedTuple):
    grad_norm2: float  # |G|^2, L2 term included
    trace_sigma: float  # tr(Sigma) = mean_i |g_i - G|^2 (divisor N)
    b_simple: float  # tr(Sigma) / |G|^2
    n: int


def _dscores(problem: Problem, w: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-example `dL_i/dscores` (n, C) of a linear model (C = 1 for least squares and logistic)."""
    name, n = problem.name, len(y)
    if name in ("least_squares", "logistic"):
        z = problem.scores(w, X)  # (n,)
        if name == "least_squares":
            return (z - y)[:, None]
        with np.errstate(under="ignore"):
            p = np.exp(-np.logaddexp(0.0, -z))  # sigmoid(z), stable
        return (p - y)[:, None]
    scores = problem.scores(w, X)  # (n, C); the loss helpers leave dL/dscores / n in it
    if name == "softmax":
        softmax_cross_entropy(scores, y, want_grad=True)
    else:
        problem.loss_and_dscores(scores, y, want_grad=True)
    return scores * n


def _penalty_grad(problem: Problem, w: np.ndarray) -> np.ndarray:
    out = np.zeros_like(w)
    if problem.reg:
        for sl in problem.weight_slices:
            out[sl] = problem.reg * w[sl]
    return out


def _mlp_parts(problem, w, X, y):
    """(x~ (n, D+1), dh (n, H), h~ (n, H+1), ds (n, C)): per-example gradient factors of each layer."""
    p = problem.unpack(w)
    h, ds = problem.forward(w, X)
    softmax_cross_entropy(ds, y, want_grad=True)
    ds *= len(y)  # per-example dL_i/dscores
    dh = (ds @ p["W2"].T) * (h > 0)
    ones = np.ones((len(y), 1))
    return np.hstack([X, ones]), dh, np.hstack([h, ones]), ds


def per_example_gradients(problem: Problem, w: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Data-term gradients of each example, (n, n_params), laid out like `w` (no Python loop over examples)."""
    w, X = np.asarray(w, np.float64), np.asarray(X, np.float64)
    n = len(y)
    if problem.name == "mlp":
        xt, dh, ht, ds = _mlp_parts(problem, w, X, y)
        D, H = problem.n_features, problem.hidden
        g1 = np.einsum("nd,nh->ndh", xt, dh)  # rows 0..D-1 are W1, row D is b1
        g2 = np.einsum("nh,nc->nhc", ht, ds)
        return np.hstack([g1[:, :D].reshape(n, -1), g1[:, D], g2[:, :H].reshape(n, -1), g2[:, H]])
    d = _dscores(problem, w, X, y)  # (n, C)
    g = np.einsum("nd,nc->ndc", X, d).reshape(n, -1)  # W is (D, C) row-major, as in w
    return np.hstack([g, d])


def noise_stats(problem: Problem, w: np.ndarray, X: np.ndarray, y: np.ndarray) -> NoiseStats:
    """Exact `B_simple = tr(Sigma)/|G|^2` over the examples X (n, D), y (n,) at weights w (n_params,).

    `tr(Sigma) = mean_i |g_i|^2 - |G_data|^2` with the closed-form per-example norms above; float64 inside.
    """
    w, X = np.asarray(w, np.float64), np.asarray(X, np.float64)
    n = len(y)
    if problem.name == "mlp":
        xt, dh, ht, ds = _mlp_parts(problem, w, X, y)
        sq = (xt * xt).sum(1) * (dh * dh).sum(1) + (ht * ht).sum(1) * (ds * ds).sum(1)  # |g_i|^2 (n,)
        g_data = np.concatenate([(xt.T @ dh)[:-1].ravel(), (xt.T @ dh)[-1], (ht.T @ ds)[:-1].ravel(),
                                 (ht.T @ ds)[-1]]) / n
    else:
        d = _dscores(problem, w, X, y)
        sq = ((X * X).sum(1) + 1.0) * (d * d).sum(1)
        g_data = np.concatenate([(X.T @ d).ravel(), d.sum(0)]) / n
    trace = max(float(sq.mean() - g_data @ g_data), 0.0)
    G = g_data + _penalty_grad(problem, w)
    g2 = float(G @ G)
    return NoiseStats(g2, trace, trace / g2 if g2 > 0 else np.inf, n)


def finite_data_factor(batch_size, n: int, sampling: str):
    """`(N-B)/(N-1)` without replacement ("shuffle"), 1 with replacement."""
    if sampling == "replacement":
        return np.ones_like(np.asarray(batch_size, float))
    return (n - np.asarray(batch_size, float)) / max(n - 1, 1)


def _batch_indices(rng, n, b, sampling):
    if sampling == "replacement":
        return rng.integers(0, n, size=b)
    return rng.permutation(n)[:b]


def relative_noise_curve(problem: Problem, X: np.ndarray, y: np.ndarray, w: np.ndarray, batch_sizes,
                         n_draws: int = 200, sampling: str = "shuffle",
                         rng: np.random.Generator | None = None) -> pd.DataFrame:
    """Measured `E|G_B - G|^2 / |G|^2` (mean over `n_draws` sampled batches, each through the problem's own
    `loss_and_grad`) beside the prediction `B_simple / B * factor` (factor `(N-B)/(N-1)` for "shuffle").

    Columns: batch_size, measured, measured_se (standard error of the mean), predicted, b_simple.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    n = len(y)
    _, G = problem.loss_and_grad(w, X, y)
    stats = noise_stats(problem, w, X, y)
    rows = []
    for b in batch_sizes:
        b = int(b)
        if not 1 <= b <= n:
            raise ValueError(f"batch_size must be in [1, {n}]; got {b}")
        errs = np.empty(n_draws)
        for k in range(n_draws):
            idx = _batch_indices(rng, n, b, sampling)
            diff = problem.loss_and_grad(w, X[idx], y[idx])[1] - G
            errs[k] = diff @ diff
        rel = errs / stats.grad_norm2
        rows.append({"batch_size": b, "measured": float(rel.mean()),
                     "measured_se": float(rel.std(ddof=1) / np.sqrt(n_draws)) if n_draws > 1 else np.nan,
                     "predicted": float(stats.b_simple / b * finite_data_factor(b, n, sampling)),
                     "b_simple": stats.b_simple})
    return pd.DataFrame(rows)


def two_batch_estimate(problem: Problem, w: np.ndarray, X: np.ndarray, y: np.ndarray, b_small: int, b_big: int,
                       n_pairs: int = 100, rng: np.random.Generator | None = None) -> NoiseStats:
    """The two-batch estimator (McCandlish et al. App. A), batches drawn with replacement:

    `|G|^2 ~ (B_big |G_big|^2 - B_small |G_small|^2) / (B_big - B_small)`,
    `tr(Sigma) ~ (|G_small|^2 - |G_big|^2) / (1/B_small - 1/B_big)`; both are averaged over `n_pairs`
    pairs separately, then divided (a ratio of means, not a mean of ratios).
    """
    if not 1 <= b_small < b_big:
        raise ValueError(f"b_small must be in [1, b_big={b_big}); got {b_small}")
    rng = rng if rng is not None else np.random.default_rng(0)
    n = len(y)
    g2_sum = tr_sum = 0.0
    for _ in range(n_pairs):
        norms = []
        for b in (b_small, b_big):
            idx = rng.integers(0, n, size=b)
            g = problem.loss_and_grad(w, X[idx], y[idx])[1]
            norms.append(float(g @ g))
        small, big = norms
        g2_sum += (b_big * big - b_small * small) / (b_big - b_small)
        tr_sum += (small - big) / (1.0 / b_small - 1.0 / b_big)
    g2, tr = g2_sum / n_pairs, tr_sum / n_pairs
    return NoiseStats(g2, tr, tr / g2 if g2 > 0 else np.inf, n)


def noise_during_training(config, n_points: int = 20, dataset=None) -> pd.DataFrame:
    """B_simple at checkpoints of the config's first run (first seed, batch size and lr), re-trained here.

    The loop is the runner's (same init, schedule, sampler seeds), so the losses match `run_experiment`.
    Columns: step, epoch, examples_seen, train_loss, grad_norm2, trace_sigma, b_simple.
    """
    ds = dataset if dataset is not None else build_dataset(config)
    problem = build_problem(config, ds)
    n = ds.n_train
    B = config.resolved_batch_sizes(n)[0]
    steps = total_steps(config, n, B)
    seed = config.seeds[0]
    w0 = problem.init_params(np.random.default_rng([seed, 0]), dtype=ds.X_train.dtype)

    def measure(w):
        s = noise_stats(problem, w, ds.X_train, ds.y_train)
        return {"train_loss": problem.loss(w, ds.X_train, ds.y_train), "grad_norm2": s.grad_norm2,
                "trace_sigma": s.trace_sigma, "b_simple": s.b_simple}

    return train_phases(problem, ds, w0, config, [(steps, B, config.lrs[0])], measure, n_points,
                        rng=np.random.default_rng([seed, 1, B]), schedule=True)
