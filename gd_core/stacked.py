"""Stacked runs: the runs of one batch size (seeds x learning rates) trained together, one array for all.

Rule (`stack_groups`, applied by run_experiment unless `stacked=False`): runs are stacked when the problem
is least_squares, logistic or softmax, the optimizer is sgd (any momentum / nesterov / weight decay) or
adam, the batch size is below runner.SMALL_BATCH and not the full set, and at least two runs share that
batch size. Everything else runs one by one. Full batch is left out: its (N, R*C) scores would cost R
times the memory, and its products are already BLAS-bound (PERF.md).

Layout: all runs' parameters in one array `P: (S, D+1, L, C)` (S seeds, L learning rates, C outputs,
C = 1 for the one-output models); `P[s, :, l, :].ravel()` is run (s, l)'s flat `w` ([W (D, C); b]). Runs of
one seed share the batch order, so their weights sit side by side (`W: (D, L*C)`) and one product serves
them all; seeds have independent orders, gathered per step into `(S, B, D)` and multiplied batched
`(S, B, D) @ (S, D, L*C)`. The optimizer update is elementwise, with one lr per run `(S, 1, L, 1)`.

A run whose batch loss passes its divergence limit is retired: its last row is written then (as the
one-by-one loop would), and its slot is zeroed with lr 0 so it stays finite and inert. Checkpoints sit at
the same steps as one by one; the log has the same rows and columns and equal values to float rounding
(tests/test_stacked.py). wall_time_s of a stacked run is the group's training time so far.
"""

from __future__ import annotations

import math
import time

import numpy as np

from .batching import BatchSampler, examples_after
from .problems import LeastSquares, Softmax
from .updaters import make_updater

STACKED_PROBLEMS = ("least_squares", "logistic", "softmax")
STACKED_OPTIMIZERS = ("sgd", "adam")


def stack_groups(problem_name: str, optimizer: str, batch_sizes: list[int], n_train: int,
                 small_batch: int) -> list[list[int]]:
    """Spec indices run together (a group of one runs alone). `batch_sizes[i]` is spec i's batch size."""
    stackable = problem_name in STACKED_PROBLEMS and optimizer in STACKED_OPTIMIZERS
    groups: dict[int, list[int]] = {}
    for i, B in enumerate(batch_sizes):
        key = B if stackable and B < min(small_batch, n_train) else -1 - i  # unique key: alone
        groups.setdefault(key, []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


class _Gradient:
    """Per-run losses (S, L) and the gradient G (like P) of a stacked linear model on batches (S, b, D)."""

    def __init__(self, problem, P, G, S, L, C, max_batch):
        self.problem, self.P, self.G, self.C = problem, P, G, C
        D = problem.n_features
        self.W = np.reshape(P[:, :D], (S, D, L * C), copy=False)  # views: updates of P show here
        self.b = np.reshape(P[:, D], (S, 1, L * C), copy=False)
        self.gW = np.reshape(G[:, :D], (S, D, L * C), copy=False)
        self.gb = np.reshape(G[:, D], (S, L * C), copy=False)
        self.losses = np.empty((S, L), P.dtype)
        self.kind = type(problem)
        self.bufs: dict[int, tuple] = {}
        self.S, self.L = S, L
        self._buffers(max_batch)

    def _buffers(self, b):
        """Scratch for batches of b rows (at most two sizes: B and the last partial batch)."""
        if b not in self.bufs:
            S, L, C, dt = self.S, self.L, self.C, self.P.dtype
            scores = np.empty((S, b, L * C), dt)
            col = np.empty((2, S, b, L, 1), dt)
            base = (np.arange(S * b * L) * C).reshape(S, b, L)
            self.bufs[b] = (scores, col, base, np.empty((S, b, L), np.intp), np.empty((S, b, L), dt),
                            np.empty((S, b, L), dt))
        return self.bufs[b]

    def __call__(self, Xb, yb):
        """Xb (S, b, D), yb (S, b) -> losses (S, L) (a buffer, overwritten next call); writes G."""
        b = Xb.shape[1]
        scores, col, base, fl, pk, tmp = self._buffers(b)
        np.matmul(Xb, self.W, out=scores)
        scores += self.b
        XT = Xb.transpose(0, 2, 1)
        losses = self.losses
        if self.kind is Softmax:
            s4 = scores.reshape(self.S, b, self.L, self.C)
            mx, sm = col[0], col[1]
            np.maximum.reduce(s4, axis=3, keepdims=True, out=mx)
            s4 -= mx
            np.add(base, yb[:, :, None], out=fl)
            sflat = scores.reshape(-1)
            np.take(sflat, fl, out=pk, mode="clip")
            np.exp(s4, out=s4)
            np.add.reduce(s4, axis=3, keepdims=True, out=sm)
            np.log(sm[..., 0], out=tmp)
            np.subtract(tmp, pk, out=tmp)
            np.add.reduce(tmp, axis=1, out=losses)
            s4 /= sm
            np.take(sflat, fl, out=pk, mode="clip")
            pk -= 1
            np.put(sflat, fl, pk)
            dz = scores
        else:
            z = scores  # (S, b, L)
            if self.kind is LeastSquares:
                z -= yb[:, :, None]
                np.multiply(z, z, out=tmp)
                np.add.reduce(tmp, axis=1, out=losses)
                losses *= 0.5
            else:  # logistic: m = (1 - 2y) z, loss softplus(m), dL/dz = (1 - 2y) sigmoid(m)
                sign = np.subtract(1, 2 * yb, dtype=z.dtype)[:, :, None]
                m = np.multiply(z, sign, out=pk)
                np.logaddexp(0, m, out=tmp)
                np.add.reduce(tmp, axis=1, out=losses)
                np.subtract(m, tmp, out=m)
                with np.errstate(under="ignore"):
                    np.exp(m, out=m)
                np.multiply(m, sign, out=z)
            dz = z
        losses *= 1 / b
        dz *= 1 / b
        np.matmul(XT, dz, out=self.gW)
        np.add.reduce(dz, axis=1, out=self.gb)
        reg = self.problem.reg
        if reg:
            D = self.problem.n_features
            Wp = self.P[:, :D]
            sq = np.multiply(Wp, Wp)
            losses += 0.5 * reg * sq.sum(axis=(1, 3))
            np.multiply(Wp, reg, out=sq)
            self.G[:, :D] += sq
        return losses


def run_stacked(runs, problem, ds, w0s, cfg, evaluator, schedules, report, should_stop, steps, checkpoints,
                explode_factor):
    """Train the runs of one batch size together.

    runs: [[meta dict for seed s, lr l] for l] for s] (S x L); w0s: initial (n_params,) per seed;
    schedules: [[lr_at]] (S x L). Returns ([[rows]] (S x L), cancelled).
    """
    X, y = ds.X_train, ds.y_train
    n, D = X.shape
    S, L = len(runs), len(runs[0])
    B = runs[0][0]["batch_size"]
    C = problem.n_classes if type(problem) is Softmax else 1
    P = np.empty((S, D + 1, L, C), X.dtype)
    for s in range(S):
        P[s] = w0s[s].reshape(D + 1, 1, C)
    G = np.empty_like(P)
    gradient = _Gradient(problem, P, G, S, L, C, B)
    update = make_updater(cfg.optimizer, _hp(cfg), P)
    samplers = [BatchSampler(n, B, cfg.sampling, np.random.default_rng([r[0]["seed"], 1, B])) for r in runs]
    Xbufs: dict[int, tuple] = {}
    lr = np.empty((S, 1, L, 1))
    active = np.ones((S, L), bool)
    constant = cfg.schedule == "constant" and not cfg.warmup_epochs  # lr never changes: fill once
    limits = np.full((S, L), np.inf)
    status = [["ok"] * L for _ in range(S)]
    rows = [[[] for _ in range(L)] for _ in range(S)]
    last_loss = np.full((S, L), np.nan)

    def fill_lr(step):
        for s in range(S):
            for k in range(L):
                lr[s, 0, k, 0] = schedules[s][k](step) if active[s, k] else 0.0

    def w_of(s, k):
        return P[s, :, k, :].reshape(-1)  # a copy in the flat layout of the problem

    def record(s, k, step, train_time):
        m, _ = evaluator(w_of(s, k))
        seen = examples_after(step, n, B, cfg.sampling)
        rows[s][k].append({**runs[s][k], "step": step, "epoch": seen / n, "examples_seen": seen,
                           "wall_time_s": train_time, "lr": schedules[s][k](step),
                           "batch_loss": float(last_loss[s, k]), **m, "train_loss_full": np.nan,
                           "val_loss_full": np.nan})
        return m

    def finish(s, k):
        """The run ends now: exact final losses, then its slot goes inert (zero weights, lr 0)."""
        r = rows[s][k]
        tl, vl = (r[-1]["train_loss"], r[-1]["val_loss"]) if evaluator.exact else evaluator.full_losses(w_of(s, k))
        r[-1]["train_loss_full"], r[-1]["val_loss_full"] = tl, vl
        active[s, k] = False
        limits[s, k] = np.inf
        P[s, :, k, :] = 0
        for arr in update.state:
            arr[s, :, k, :] = 0
        lr[s, 0, k, 0] = 0.0

    fill_lr(0)
    step, train_time, cancelled = 0, 0.0, False
    started = time.perf_counter()
    with np.errstate(all="ignore"):
        for ck in checkpoints:
            t0 = time.perf_counter()
            while step < ck:
                idx = [sp.next() for sp in samplers]
                b = len(idx[0])
                if b not in Xbufs:
                    Xbufs[b] = (np.empty((S, b, D), X.dtype), np.empty((S, b), y.dtype), np.empty((S, b), np.intp))
                Xb, yb, ib = Xbufs[b]
                for s in range(S):
                    ib[s] = idx[s]
                np.take(X, ib, axis=0, out=Xb, mode="clip")
                np.take(y, ib, out=yb, mode="clip")
                losses = gradient(Xb, yb)
                if not (losses <= limits).all():  # also catches NaN
                    np.copyto(last_loss, losses, where=active)
                    train_time += time.perf_counter() - t0
                    t0 = time.perf_counter()
                    for s, k in zip(*np.nonzero(~(losses <= limits)), strict=True):
                        status[s][k] = "diverged"
                        record(s, k, step, train_time)
                        finish(s, k)
                    if not active.any():
                        break
                    gradient(Xb, yb)  # the retired slots' gradients are recomputed at zero weights
                if not constant:
                    fill_lr(step)
                update(G, lr, step)
                step += 1
            if active.any():
                np.copyto(last_loss, gradient.losses, where=active & (step > 0))
            train_time += time.perf_counter() - t0
            if not active.any():
                break
            for s, k in zip(*np.nonzero(active), strict=True):
                m = record(s, k, step, train_time)
                if step == 0:
                    limits[s, k] = explode_factor * max(abs(m["train_loss"]), 1.0)
                if not m["train_loss"] <= limits[s, k]:
                    status[s][k] = "diverged"
                    finish(s, k)
            report(step / max(steps, 1))
            ended = None
            if cfg.time_limit_s is not None and time.perf_counter() - started > cfg.time_limit_s:
                ended = "time_limit"
            elif should_stop is not None and step < steps and active.any() and should_stop():
                ended, cancelled = "cancelled", True
            if ended or not active.any():
                for s, k in zip(*np.nonzero(active), strict=True):
                    status[s][k] = ended or "ok"
                    finish(s, k)
                break
        for s, k in zip(*np.nonzero(active), strict=True):
            finish(s, k)
    for s in range(S):
        for k in range(L):
            r, st = rows[s][k], status[s][k]
            if st == "ok" and not math.isfinite(r[-1]["train_loss"]):
                st = "diverged"
            for row in r:
                row["diverged"], row["status"] = st == "diverged", st
    return rows, cancelled


def _hp(cfg):
    from .runner import optimizer_hyperparameters  # runner imports this module

    return optimizer_hyperparameters(cfg)
