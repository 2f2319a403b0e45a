"""Stacked runs: the runs of one batch size (seeds x learning rates) trained together, one array for all.

Rule (`stack_groups`, applied by run_experiment unless `stacked=False`): runs are stacked when fast.dispatch.STACKED
supports them (the problem is least_squares, logistic or softmax, the optimizer sgd, with any momentum / nesterov /
weight decay, or adam), the batch size is below runner.SMALL_BATCH and not the full set, and at least two runs share
that batch size. Everything else runs one by one. Full batch is left out: its (N, R*C) scores would cost R
times the memory, and its products are already BLAS-bound (docs/PERFORMANCE.md).

Layout: all runs' parameters in one array `P: (S, D+1, L, C)` (S seeds, L learning rates, C outputs,
C = 1 for the one-output models); `P[s, :, l, :].ravel()` is run (s, l)'s flat `w` ([W (D, C); b]). Runs of
one seed share the batch order, so their weights sit side by side (`W: (D, L*C)`) and one product serves
them all; seeds have independent orders, multiplied batched `(S, L*C, D) @ (S, D, b)`. The kernels are in
stacked_kernels.py: sgd and adam through optimizers.make_updater (one lr per run, `(S, 1, L, 1)`); plain SGD
folds lr into the gradient and updates P in the same step; B = 1 plain SGD without L2 runs a window of rows
per weight update (stacked_window.OneExampleWindow, exact sequential SGD).

The loop has no per-step sampler or list work: `SeedOrders` draws each seed's indices a chunk of steps at a time
(the rng calls of BatchSampler, so the order is the one-by-one order), one `np.take` per chunk gathers the rows
of every seed, and steps read views of the chunk. On a large set the seeds' epoch shuffles run on two threads
(Generator.shuffle releases the GIL; each seed has its own rng, so the draws do not depend on the threads).

Just over 300 lines: the stacking rule and `_StackedGroup` (the group's loop, checkpoints and stops) stay together.
Losses are computed exactly at the step before a checkpoint or a stop check (the batch_loss a stopped run logs)
and whenever a cheap bound cannot rule out a divergence (stacked_kernels.StackedStep).

A run whose batch loss passes its divergence limit is retired: its last row is written then (as the
one-by-one loop would), and its slot is zeroed with lr 0 so it stays finite and inert. Checkpoints sit at
the same steps as one by one; the log has the same rows and columns and equal values to float rounding
(tests/train/test_stacked.py). wall_time_s of a stacked run is the group's training time so far.
"""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from ..fast.dispatch import stackable
from ..fast.stacked_kernels import StackedStep
from ..fast.stacked_window import OneExampleWindow
from ..optim.optimizers import make_updater
from ..problems import Softmax
from .batch_order import PARALLEL_SHUFFLE_ROWS, SeedOrders
from .log_rows import add_row, checkpoint_row, stamp_status
from .plan import optimizer_hyperparameters
from .reference import divergence_limit
from .stopping import steps_between_checks


def stack_groups(problem_name: str, optimizer: str, batch_sizes: list[int], n_train: int,
                 small_batch: int) -> list[list[int]]:
    """Spec indices run together (a group of one runs alone). `batch_sizes[i]` is spec i's batch size."""
    can_stack = stackable(problem_name, optimizer)
    groups: dict[int, list[int]] = {}
    for i, B in enumerate(batch_sizes):
        key = B if can_stack and B < min(small_batch, n_train) else -1 - i  # unique key: alone
        groups.setdefault(key, []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


CHUNK_BYTES = 4 << 20  # rows gathered at once over all seeds: a chunk of steps of about this size (>= 1 step)
MAX_CHUNK_STEPS = 1_024  # steps per chunk at most (their views are built once)
BIAS_COLUMN_ROWS = 64  # below this many rows a step (seeds x B), the bias rides in the products as a ones column
WINDOW = 64  # B = 1 plain SGD: steps per weight update of the fused path (stacked_window.OneExampleWindow)
def run_stacked(runs, problem, ds, w0s, cfg, evaluator, schedules, report, stop, steps, checkpoints,
                explode_factor):
    """Train the runs of one batch size together.

    runs: [[meta dict for seed s, lr l] for l] for s] (S x L); w0s: initial (n_params,) per seed;
    schedules: [[lr_at]] (S x L); stop: a gd_core.train.stopping.Stop. Returns ([[rows]] (S x L), cancelled).
    A helper thread for the seeds' shuffles (`SeedOrders`) lives for the call on a large set.
    """
    shuffles_apart = len(runs) > 1 and cfg.sampling == "shuffle" and ds.n_train >= PARALLEL_SHUFFLE_ROWS
    with (ThreadPoolExecutor(1, thread_name_prefix="gd-stacked-shuffle") if shuffles_apart
          else contextlib.nullcontext()) as pool:
        group = _StackedGroup(runs, problem, ds, w0s, cfg, evaluator, schedules, explode_factor, pool)
        return group.train(checkpoints, steps, report, stop)


class _Buffers(NamedTuple):
    """The chunk of rows every step reads (all seeds), and its shape."""

    Xc: np.ndarray  # (S, K * B, D [+ 1 ones column]): the chunk's rows
    Xg: np.ndarray  # Xc's first D columns: where np.take gathers
    yc: np.ndarray  # (S, K * B): the chunk's labels
    K: int  # steps per chunk


class _StackedGroup:
    """The S x L runs of one batch size in one parameter array `P` (module docstring): their state (lr, active,
    divergence limits, status, rows) and the steps of the interval to the next checkpoint."""

    def __init__(self, runs, problem, ds, w0s, cfg, evaluator, schedules, explode_factor, pool):
        X = ds.X_train
        n, D = X.shape
        S, L = len(runs), len(runs[0])
        self.runs, self.problem, self.ds, self.cfg, self.evaluator = runs, problem, ds, cfg, evaluator
        self.schedules, self.explode_factor = schedules, explode_factor
        self.n, self.S, self.L, self.B = n, S, L, runs[0][0]["batch_size"]
        C = problem.n_classes if type(problem) is Softmax else 1
        self.P = np.empty((S, D + 1, L, C), X.dtype)
        for s in range(S):
            self.P[s] = w0s[s].reshape(D + 1, 1, C)
        self.G = np.empty_like(self.P)
        hp = optimizer_hyperparameters(cfg)
        fold = cfg.optimizer == "sgd" and not hp.get("momentum", 0.0) and not hp.get("weight_decay", 0.0)
        self.update = None if fold else make_updater(cfg.optimizer, hp, self.P)
        self.window = OneExampleWindow(problem, self.P, WINDOW) if fold and self.B == 1 and not problem.reg else None
        self.buf = self._buffers(X, ds.y_train)
        self.kernel = StackedStep(problem, self.P, self.G, fold, self.B, self.buf.Xc, self.buf.yc)
        self.fused = self.kernel.fused_step(self.B)  # plain-SGD least squares: one call a step where the bound holds
        self.order = SeedOrders(n, self.B, cfg.sampling, [r[0]["seed"] for r in runs], self.buf.K * self.B, pool)
        self.lr = np.zeros((S, L))
        self.lr4 = self.lr.reshape(S, 1, L, 1)  # the updater's broadcast against P
        self.active = np.ones((S, L), bool)
        self.constant = cfg.schedule == "constant" and not cfg.warmup_epochs  # lr never changes: fill once
        self.flat_schedules = [f for row in schedules for f in row]
        self.limits = np.full((S, L), np.inf)
        self.status = [["ok"] * L for _ in range(S)]
        self.rows = [[[] for _ in range(L)] for _ in range(S)]
        self.last_loss = np.full((S, L), np.nan)
        self.step, self.train_time = 0, 0.0
        self.careful_until = 0  # B = 1 fused path: after a window failed its check, step by step until this step
        self.latest = None  # the losses of the last step trained (a kernel buffer)

    def _buffers(self, X, y) -> _Buffers:
        D, dt, S, B = X.shape[1], X.dtype, self.S, self.B
        chunk_rows = CHUNK_BYTES // ((D + 1) * dt.itemsize)
        K = WINDOW if self.window is not None else max(1, min(MAX_CHUNK_STEPS, chunk_rows // (S * B)))
        # A ones column folds the bias into the products, but np.take into the strided (S, rows, D) part of the
        # buffer costs about twice a contiguous gather: with many rows a step, the kernel adds the bias instead.
        bias_col = self.window is not None or S * B < BIAS_COLUMN_ROWS
        Xc = np.empty((S, K * B, D + bias_col), dt)
        Xc[..., D:] = 1
        return _Buffers(Xc, Xc[..., :D], np.empty((S, K * B), y.dtype), K)

    # -- the runs' learning rates, limits and rows ------------------------------------------------------------

    def fill_lr(self, step):
        self.lr.reshape(-1)[:] = [f(step) for f in self.flat_schedules]
        np.multiply(self.lr, self.active, out=self.lr)
        self.kernel.set_lr(self.lr)

    def fill_window_lr(self, step, k):
        """The window's lr per step: constant schedules broadcast lr, others ask every run's schedule."""
        if self.constant:
            np.copyto(self.window.lr[:, :k], self.lr[:, None, :], casting="unsafe")
        else:
            vals = [[f(step + t) for f in self.flat_schedules] for t in range(k)]
            w = self.window.lr[:, :k]
            np.copyto(w, np.asarray(vals).reshape(k, self.S, self.L).transpose(1, 0, 2), casting="unsafe")
            np.multiply(w, self.active[:, None, :], out=w)

    def limits_changed(self):
        self.kernel.set_limits(self.limits, self.active)
        if self.window is not None:
            self.window.set_limits(self.limits, self.active)

    def w_of(self, s, k):
        return self.P[s, :, k, :].reshape(-1)  # a copy in the flat layout of the problem

    def record(self, s, k, m=None):
        if m is None:
            m, _ = self.evaluator(self.w_of(s, k))
        add_row(self.rows[s][k], checkpoint_row(self.runs[s][k], self.step, self.n, self.B, self.cfg.sampling,
                                                self.train_time, self.schedules[s][k](self.step),
                                                self.last_loss[s, k], m))
        return m

    def finish(self, s, k):
        """The run ends now: exact final losses, then its slot goes inert (zero weights, lr 0)."""
        r = self.rows[s][k]
        ev = self.evaluator
        tl, vl = (r[-1]["train_loss"], r[-1]["val_loss"]) if ev.exact else ev.full_losses(self.w_of(s, k))
        r[-1]["train_loss_full"], r[-1]["val_loss_full"] = tl, vl
        self.active[s, k] = False
        self.limits[s, k] = np.inf
        self.P[s, :, k, :] = 0
        for arr in () if self.update is None else self.update.state:
            arr[s, :, k, :] = 0
        self.lr[s, k] = 0.0
        self.kernel.set_lr(self.lr)

    # -- training ---------------------------------------------------------------------------------------------

    def train(self, checkpoints, steps, report, stop):
        """Trains to each checkpoint in turn and measures it; ([[rows]] (S x L), cancelled)."""
        self.fill_lr(0)
        self.limits_changed()
        cancelled = False
        piece = steps_between_checks(self.B, self.problem.n_params, self.ds.n_features)
        self.next_check = piece
        started = time.perf_counter()
        active = self.active
        with np.errstate(all="ignore"):
            for ck in checkpoints:
                t0 = time.perf_counter()
                while self.step < ck:
                    t0, windowed = self._chunk(ck, t0)
                    if windowed:
                        continue
                    if not active.any():
                        break
                    if self.step < ck and self.step >= self.next_check:  # a long interval: check time, should_stop
                        self.next_check = self.step + piece
                        report(self.step / max(steps, 1))
                        if stop.reason(started):
                            break  # measured below as a checkpoint, whose check then ends the runs
                if active.any() and self.step > 0:
                    np.copyto(self.last_loss, self.latest, where=active)
                if self.step > 0:  # the step-0 checkpoint trains nothing: its wall_time_s is 0 exactly
                    self.train_time += time.perf_counter() - t0
                if not active.any():
                    break
                self._measure()
                report(self.step / max(steps, 1))
                ended = stop.reason(started, can_cancel=self.step < steps and active.any())
                cancelled = cancelled or ended == "cancelled"
                if ended or not active.any():
                    for s, k in zip(*np.nonzero(active), strict=True):
                        self.status[s][k] = ended or "ok"
                        self.finish(s, k)
                    break
            for s, k in zip(*np.nonzero(active), strict=True):
                self.finish(s, k)
        for s in range(self.S):
            for k in range(self.L):
                stamp_status(self.rows[s][k], self.status[s][k])
        return self.rows, cancelled

    def _measure(self):
        """Checkpoint: every active run measured (pooled where that pays), its row written, its limit checked."""
        measured = list(zip(*np.nonzero(self.active), strict=True))
        for (s, k), m in zip(measured, self.evaluator.many([self.w_of(s, k) for s, k in measured]), strict=True):
            self.record(s, k, m)
            if self.step == 0:
                self.limits[s, k] = divergence_limit(m["train_loss"], self.explode_factor)
            if not m["train_loss"] <= self.limits[s, k]:
                self.status[s][k] = "diverged"
                self.finish(s, k)
        self.limits_changed()

    def _chunk(self, ck, t0):
        """Draws and gathers the next chunk of steps (at most to checkpoint `ck`) and trains it: the B = 1
        window in one go where it applies, else step by step. Returns (the possibly restarted timer t0, whether
        the window trained the chunk)."""
        B, buf, step = self.B, self.buf, self.step
        idx, k, last_b = self.order.next(min(buf.K, ck - step))
        nrows = (k - 1) * B + last_b
        np.take(self.ds.X_train, idx, axis=0, out=buf.Xg[:, :nrows], mode="clip")  # mode="raise" copies all of X
        np.take(self.ds.y_train, idx, out=buf.yc[:, :nrows], mode="clip")
        window = self.window
        if window is not None and step >= self.careful_until and window.ok_limits:
            self.fill_window_lr(step, k)
            if window.run(buf.Xc, buf.yc, k, step + k == ck):
                self.step += k
                self.latest = window.losses
                return t0, True
            self.careful_until = ck  # replay this window (and the rest of the interval) step by step
        self.kernel.prepare(nrows)
        return self._steps(k, last_b, ck, t0), False

    def _steps(self, k, last_b, ck, t0):
        """The chunk's k steps one at a time (the last one `last_b` rows); retires runs whose batch loss passes
        their limit. Returns the timer t0 (restarted after the retired runs' rows were written)."""
        B, kernel, fused, update, step = self.B, self.kernel, self.fused, self.update, self.step
        active, limits = self.active, self.limits
        for j in range(k):
            b = B if j < k - 1 else last_b
            XT, yv = kernel.step_views(j, b)
            if not self.constant:
                self.fill_lr(step)
            # the last step before a checkpoint or a stop check computes its batch losses (exact, not fused): a
            # run stopped there logs them
            exact = step == ck - 1 or (j == k - 1 and step + 1 >= self.next_check)
            if fused is not None and b == B and not exact and fused(XT, yv):
                step += 1
                continue
            losses = kernel.forward(XT, yv, b, exact)
            if losses is not None and not (losses <= limits).all():  # also catches NaN
                self.step = step
                t0 = self._retire(losses, t0)
                if not active.any():
                    break
                losses = kernel.forward(XT, yv, b, True)  # the retired slots now hold zero weights
            self.latest = losses
            kernel.backward(XT, yv, b)
            if update is not None:
                update(self.G, self.lr4, step)
            step += 1
        self.step = step
        return t0

    def _retire(self, losses, t0):
        """The runs whose batch loss is not <= their limit diverged: their rows are written now (as the one-by-one
        loop would) and their slots go inert. Returns the restarted timer."""
        np.copyto(self.last_loss, losses, where=self.active)
        self.train_time += time.perf_counter() - t0
        for s, r in zip(*np.nonzero(~(losses <= self.limits)), strict=True):
            self.status[s][r] = "diverged"
            self.record(s, r)
            self.finish(s, r)
        self.limits_changed()
        return time.perf_counter()
