"""Two-parameter problems drawn as a loss surface, with the exact path gradient descent takes on it.

Two problems with exactly two parameters, so the whole landscape fits on a contour plot:
  least_squares  1-D regression `y ~ w x + b`, parameters (slope w, intercept b); the inputs are shifted by
                 `x_shift` so slope and intercept are coupled and the bowl becomes a tilted valley.
  logistic_2d    binary cross-entropy of `z = x . w` on 2-D moons, two weights and NO bias
                 (gd_core's `logistic` has a bias: 3 parameters).
Grid losses are vectorised over the grid (closed form for least squares); trajectories run the
reference loop (`train.reference.Descent`: gd_core's `make_optimizer` and `BatchSampler`, seeded as the runner
seeds them), so the page shows what the engine does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..data.batching import BatchSampler
from ..data.synthetic import make_dataset
from ..optim.learning_rates import max_stable_lr
from ..optim.optimizers import make_optimizer
from ..problems import LeastSquares, Problem, make_problem
from ..train.reference import Descent, divergence_limit, sampled

LANDSCAPE_PROBLEMS = ("least_squares", "logistic_2d")
# Names shown on the page; LandscapeConfig.optimizer_args maps them to gd_core's make_optimizer.
LANDSCAPE_OPTIMIZERS = ("sgd", "sgd+momentum", "nesterov", "rmsprop", "adagrad", "adam")
# Start = optimum + offset: far enough to see the path, in a direction mixing both curvatures.
START_OFFSET = {"least_squares": (-2.0, 2.0), "logistic_2d": (-3.0, 3.0)}
# A path has diverged when its FULL loss after a step passes this multiple of the start's loss (or 1)
# (train.reference.divergence_limit). Not the runner's EXPLODE_FACTOR (1e4, on batch losses): a path is drawn
# step by step, and 1e6 lets a diverging path show its growing oscillations before it stops: at 1e4, 9 of 48
# page settings tried (2 problems x 6 optimizers x 4 lrs) would end a diverging path 1 to 23 steps earlier.
DIVERGE_FACTOR = 1e6
GridLoss = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]  # (W (k, 2), X, y) -> (k,)


class LogisticNoBias(Problem):
    """`L = mean log(1 + exp(-s x.w))`, `s = 2y - 1`; gradient `X^T (-s sigmoid(-s z)) / n`. No bias."""

    name = "logistic_2d"

    def _layout(self):
        return [("W", (self.n_features,), self.n_features)]

    def scores(self, w, X):
        return X @ w  # (n,)

    def _data_loss(self, w, X, y):
        return np.logaddexp(0, self.scores(w, X) * (1 - 2 * y)).mean()

    def _data_loss_and_grad(self, w, X, y, grad):
        sign = (1 - 2 * y).astype(X.dtype)  # -s
        m = self.scores(w, X) * sign  # negative margins (n,)
        softplus = np.logaddexp(0, m)
        with np.errstate(under="ignore"):
            dm = np.exp(m - softplus)  # sigmoid(m) without overflow
        np.matmul(dm * sign / len(y), X, out=grad)
        return softplus.mean()

    def hessian(self, w, X):
        """`X^T diag(p (1 - p)) X / n` at w: (D, D); at most `lambda_max(X^T X / n) / 4` anywhere."""
        p = 0.5 * (1 + np.tanh(0.5 * (X @ w)))
        return (X * (p * (1 - p))[:, None]).T @ X / len(X) + self.reg * np.eye(self.n_features)

    def predict(self, w, X):
        return (X @ w > 0).astype(np.int64)

    def optimum(self, X, y):
        """Minimiser by Newton's method (strictly convex when the classes overlap); None if it runs off."""
        w = np.zeros(self.n_features)
        for _ in range(100):
            _, g = self.loss_and_grad(w, X, y)
            step = np.linalg.solve(self.hessian(w, X) + 1e-12 * np.eye(len(w)), g)
            w -= step
            if not np.all(np.isfinite(w)) or np.abs(w).max() > 1e3:
                return None  # separable data: the minimum is at infinity
            if np.abs(step).max() < 1e-12:
                break
        return w


def grid_loss_fn(problem: Problem) -> GridLoss:
    """The problem's loss vectorised over many weight vectors: `f(W (k, 2), X, y) -> (k,)`."""
    reg = problem.reg
    if isinstance(problem, LeastSquares):
        def least_squares(W, X, y):
            # L(w) = w^T H w / 2 - w^T c + |y|^2/(2n) with A = [X, 1]: exact, no (n, k) matrix.
            A = np.hstack([X, np.ones((len(X), 1), X.dtype)])
            H, c, d = A.T @ A / len(X), A.T @ y / len(X), y @ y / (2 * len(X))
            Z = 0.5 * np.einsum("ki,ij,kj->k", W, H, W) - W @ c + d + 0.5 * reg * W[:, 0] ** 2
            return np.maximum(Z, 0.0)  # rounding can dip a hair below 0 at an exact fit
        return least_squares
    if isinstance(problem, LogisticNoBias):
        def logistic(W, X, y):
            M = (X @ W.T) * (1 - 2 * y)[:, None]  # negative margins (n, k)
            return np.logaddexp(0, M).mean(axis=0) + 0.5 * reg * np.einsum("ki,ki->k", W, W)
        return logistic
    return lambda W, X, y: np.array([problem.loss(w, X, y) for w in W])  # any other problem: pointwise


def loss_grid(loss_fn: GridLoss, X: np.ndarray, y: np.ndarray, w1_range: tuple[float, float],
              w2_range: tuple[float, float], resolution: int = 60):
    """Loss on a regular grid -> (w1s (r,), w2s (r,), Z (r, r)) with `Z[i, j] = L(w1s[j], w2s[i])`.

    Z is row-major in w2, as plotly's Contour(x=w1s, y=w2s, z=Z) expects. The grid is evaluated in
    chunks so an (n, k) intermediate stays below ~1M entries.
    """
    w1s = np.linspace(*w1_range, resolution)
    w2s = np.linspace(*w2_range, resolution)
    W = np.stack(np.meshgrid(w1s, w2s), axis=-1).reshape(-1, 2)  # (r*r, 2)
    chunk = max(1, 2**20 // max(len(X), 1))
    Z = np.concatenate([loss_fn(W[i:i + chunk], X, y) for i in range(0, len(W), chunk)])
    return w1s, w2s, Z.reshape(resolution, resolution)


def batch_loss_grid(loss_fn: GridLoss, X, y, batch_indices: np.ndarray, w1_range, w2_range,
                    resolution: int = 60):
    """The surface of one mini-batch (rows `batch_indices` of X): same output as `loss_grid`."""
    return loss_grid(loss_fn, X[batch_indices], y[batch_indices], w1_range, w2_range, resolution)


class TrajectoryResult(NamedTuple):
    batch_size: int
    weights: np.ndarray  # (steps+1, 2): w_0 .. w_steps; NaN rows after a divergence
    losses: np.ndarray  # (steps+1,) full-data loss at each w_t
    batch_losses: np.ndarray  # (steps,) loss of the batch that step t used, at w_t
    batch_indices: list[np.ndarray]  # one per step taken: rows of X that moved w_t to w_{t+1}
    diverged_at: int | None  # first step whose weights were non-finite or exploded


def trajectory(problem: Problem, X: np.ndarray, y: np.ndarray, w0: np.ndarray, batch_size: int, lr: float,
               optimizer: str = "sgd", steps: int = 50, sampling: str = "shuffle", seed: int = 0,
               **hp) -> TrajectoryResult:
    """Run `steps` updates of gd_core's `optimizer` from w0 and record every iterate. X: (n, D), w0: (2,)."""
    n = len(y)
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be in [1, {n}]; got {batch_size}")
    if steps < 1:
        raise ValueError(f"steps must be >= 1; got {steps}")
    sampler = BatchSampler(n, batch_size, sampling, np.random.default_rng([seed, 1, batch_size]))
    descent = Descent(problem, X, y, np.asarray(w0, dtype=np.float64), make_optimizer(optimizer, lr, **hp))
    weights = np.full((steps + 1, len(descent.w)), np.nan)
    losses, batch_losses = np.full(steps + 1, np.nan), np.full(steps, np.nan)
    weights[0], losses[0] = descent.w, problem.loss(descent.w, X, y)
    limit = divergence_limit(losses[0], DIVERGE_FACTOR)
    indices, diverged_at = [], None
    with np.errstate(all="ignore"):  # divergence is read from the values
        for t, batch in enumerate(sampled(sampler, steps)):
            # The sampler hands out views of a permutation it reshuffles in place: keep a copy.
            idx = np.arange(n) if batch is None else batch.copy()
            indices.append(idx)
            step = descent.take(idx)  # no limit on the batch loss: the path's rule is on the full loss
            batch_losses[t] = step.loss
            loss = problem.loss(descent.w, X, y)
            if step.diverged or not (np.all(np.isfinite(descent.w)) and loss <= limit):
                diverged_at = t + 1
                break
            weights[t + 1], losses[t + 1] = descent.w, loss
    return TrajectoryResult(batch_size, weights, losses, batch_losses, indices, diverged_at)


def auto_range(w_star, w0, trajectories, pad: float = 0.15, reach: float = 2.5):
    """Square view ((w1_lo, w1_hi), (w2_lo, w2_hi)) holding the optimum, the start and the paths.

    Path points farther than `reach * |w0 - w*|` from the optimum (a diverging run) are left out of view.
    """
    w_star, w0 = np.asarray(w_star, float), np.asarray(w0, float)
    radius = reach * max(np.linalg.norm(w0 - w_star), 1e-3)
    pts = [w_star[None], w0[None]]
    for traj in trajectories:
        W = traj.weights[np.all(np.isfinite(traj.weights), axis=1)]
        pts.append(W[np.linalg.norm(W - w_star, axis=1) <= radius])
    P = np.concatenate(pts)
    lo, hi = P.min(axis=0), P.max(axis=0)
    center, half = (lo + hi) / 2, (1 + pad) * max((hi - lo).max() / 2, 1e-3)
    return (center[0] - half, center[0] + half), (center[1] - half, center[1] + half)


def curvature_limit(problem: Problem, X: np.ndarray) -> tuple[float, bool]:
    """(L, exact): the largest Hessian eigenvalue (least squares, exact) or an upper bound over all w
    (logistic: `lambda_max(X^T X / n) / 4`). Plain full-batch GD is stable for lr < 2 / L."""
    if isinstance(problem, LeastSquares):
        return float(np.linalg.eigvalsh(problem.hessian(X)).max()), True
    return float(np.linalg.eigvalsh(X.T @ X / len(X)).max()) / 4 + problem.reg, False


def stable_lr(curvature: float, optimizer: str, momentum: float = 0.0) -> float | None:
    """Largest lr for which full-batch descent on a quadratic of curvature L converges (None: adaptive).

    sgd `2/L`; sgd+momentum (torch's heavy ball) `2(1+mu)/L`; nesterov `2(1+mu)/((1+2mu) L)`
    (`optim.learning_rates.max_stable_lr`).
    """
    if optimizer not in ("sgd", "sgd+momentum", "nesterov"):
        return None
    return max_stable_lr(curvature, momentum if optimizer != "sgd" else 0.0, nesterov=optimizer == "nesterov")


@dataclass(frozen=True)
class LandscapeConfig:
    """Everything one picture depends on (the page caches on it)."""

    problem: str = "least_squares"  # one of LANDSCAPE_PROBLEMS
    n_samples: int = 200  # train + validation; the landscape uses the train rows
    noise: float = 0.5  # noise-to-signal (least squares) or moon jitter: how much batches disagree
    seed: int = 0  # data and batch order
    batch_sizes: tuple[int, ...] = (1, 16, 0)  # 0 = full batch
    optimizer: str = "sgd"  # one of LANDSCAPE_OPTIMIZERS
    lr: float = 0.3
    momentum: float = 0.9  # used by sgd+momentum and nesterov only
    steps: int = 60
    sampling: str = "shuffle"  # "shuffle" (epochs) or "replacement"
    x_shift: float = 1.5  # least squares: mean of x; couples slope and intercept (a tilted valley)
    resolution: int = 60  # grid points per axis

    def __post_init__(self):
        checks = [("problem", self.problem in LANDSCAPE_PROBLEMS, f"one of {LANDSCAPE_PROBLEMS}"),
                  ("optimizer", self.optimizer in LANDSCAPE_OPTIMIZERS, f"one of {LANDSCAPE_OPTIMIZERS}"),
                  ("n_samples", 10 <= self.n_samples <= 5000, "in [10, 5000]"),
                  ("noise", 0 <= self.noise <= 5, "in [0, 5]"),
                  ("lr", 0 < self.lr <= 100, "in (0, 100]"),
                  ("momentum", 0 <= self.momentum < 1, "in [0, 1)"),
                  ("steps", 1 <= self.steps <= 1000, "in [1, 1000]"),
                  ("sampling", self.sampling in ("shuffle", "replacement"), "shuffle or replacement"),
                  ("batch_sizes", len(self.batch_sizes) > 0 and all(b >= 0 for b in self.batch_sizes),
                   "a non-empty list of sizes >= 1 (0 = full batch)"),
                  ("resolution", 10 <= self.resolution <= 200, "in [10, 200]")]
        for field, ok, rule in checks:
            if not ok:
                raise ValueError(f"{field} must be {rule}; got {getattr(self, field)!r}")

    def optimizer_args(self) -> tuple[str, dict]:
        """(gd_core optimizer name, hyperparameters) for make_optimizer."""
        return {"sgd": ("sgd", {}), "sgd+momentum": ("sgd", {"momentum": self.momentum}),
                "nesterov": ("sgd", {"momentum": self.momentum, "nesterov": True}),
                "rmsprop": ("rmsprop", {}), "adagrad": ("adagrad", {}), "adam": ("adam", {})}[self.optimizer]


class Landscape(NamedTuple):
    problem: Problem
    X: np.ndarray  # (n, 2) train inputs ((n, 1) for least squares: its 2 parameters are w and b)
    y: np.ndarray  # (n,)
    w_star: np.ndarray  # (2,) the full-data minimiser
    w0: np.ndarray  # (2,) where every run starts
    trajectories: dict[int, TrajectoryResult]  # actual batch size -> path (full batch: n)
    w1s: np.ndarray  # (r,)
    w2s: np.ndarray  # (r,)
    Z: np.ndarray  # (r, r) full-data loss, Z[i, j] at (w1s[j], w2s[i])
    param_names: tuple[str, str]


def make_landscape(cfg: LandscapeConfig) -> Landscape:
    """Data, optimum, start, one trajectory per batch size and the full-loss grid for a config."""
    if cfg.problem == "least_squares":
        ds = make_dataset("linear", cfg.n_samples, n_features=1, noise=cfg.noise, seed=cfg.seed)
        problem, names = make_problem("least_squares", 1), ("slope w", "intercept b")
        X, y = ds.X_train + cfg.x_shift, ds.y_train
    else:
        ds = make_dataset("moons", cfg.n_samples, n_features=2, noise=cfg.noise, seed=cfg.seed)
        problem, names = LogisticNoBias(2, 2, 0.0), ("w1", "w2")
        X, y = ds.X_train, ds.y_train
    w_star = problem.optimum(X, y)
    if w_star is None:
        raise ValueError("the classes are separable through the origin: the loss has no minimum; "
                         "raise the noise")
    w0 = w_star + np.array(START_OFFSET[cfg.problem])
    name, hp = cfg.optimizer_args()
    n = len(y)
    sizes = sorted({min(b, n) if b else n for b in cfg.batch_sizes})
    trajs = {B: trajectory(problem, X, y, w0, B, cfg.lr, name, cfg.steps, cfg.sampling, cfg.seed, **hp)
             for B in sizes}
    r1, r2 = auto_range(w_star, w0, trajs.values())
    w1s, w2s, Z = loss_grid(grid_loss_fn(problem), X, y, r1, r2, cfg.resolution)
    return Landscape(problem, X, y, w_star, w0, trajs, w1s, w2s, Z, names)


class StepView(NamedTuple):
    step: int  # the step shown (clamped to the steps taken)
    w: np.ndarray  # (2,) w_step
    batch_indices: np.ndarray  # rows used for the update from w_step
    full_grad: np.ndarray  # (2,) gradient of the full loss at w
    batch_grad: np.ndarray  # (2,) gradient of that mini-batch's loss at w
    Zb: np.ndarray  # (r, r) the mini-batch's loss on the landscape's grid
    batch_min: np.ndarray  # (2,) lowest grid point of the mini-batch surface (in view)


def step_view(ls: Landscape, batch_size: int, step: int) -> StepView:
    """What the chosen run sees at `step`: its weights, its batch, both gradients, the batch surface."""
    traj = ls.trajectories[batch_size]
    step = int(np.clip(step, 0, max(len(traj.batch_indices) - 1, 0)))
    w, idx = traj.weights[step], traj.batch_indices[step]
    _, full_grad = ls.problem.loss_and_grad(w, ls.X, ls.y)
    _, batch_grad = ls.problem.loss_and_grad(w, ls.X[idx], ls.y[idx])
    r = len(ls.w1s)
    _, _, Zb = batch_loss_grid(grid_loss_fn(ls.problem), ls.X, ls.y, idx, ls.w1s[[0, -1]], ls.w2s[[0, -1]], r)
    i, j = np.unravel_index(np.argmin(Zb), Zb.shape)
    return StepView(step, w, idx, full_grad, batch_grad, Zb, np.array([ls.w1s[j], ls.w2s[i]]))
