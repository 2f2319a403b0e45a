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

The loop has no per-step sampler or list work: `_Order` draws each seed's indices a chunk of steps at a time
(the rng calls of BatchSampler, so the order is the one-by-one order), one `np.take` per chunk gathers the rows
of every seed, and steps read views of the chunk. On a large set the seeds' epoch shuffles run on two threads
(Generator.shuffle releases the GIL; each seed has its own rng, so the draws do not depend on the threads).
Losses are computed exactly at the step before a checkpoint or a stop check (the batch_loss a stopped run logs)
and whenever a cheap bound cannot rule out a divergence (stacked_kernels.StackedStep).

A run whose batch loss passes its divergence limit is retired: its last row is written then (as the
one-by-one loop would), and its slot is zeroed with lr 0 so it stays finite and inert. Checkpoints sit at
the same steps as one by one; the log has the same rows and columns and equal values to float rounding
(tests/train/test_stacked.py). wall_time_s of a stacked run is the group's training time so far.
"""

from __future__ import annotations

import contextlib
import math
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..data.batching import BatchSampler, examples_after
from ..fast.dispatch import stackable
from ..fast.stacked_kernels import StackedStep
from ..fast.stacked_window import OneExampleWindow
from ..optim.optimizers import make_updater
from ..problems import Softmax
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
# Seeds on sets of at least this many rows shuffle on two threads at each epoch start: a hand-off costs ~0.1 ms
# here, a shuffle of 1.2M indices 55-85 ms (8 seeds: 0.56-0.69 s on one thread, 0.32-0.42 s on two; in a B = 32
# epoch of 8 stacked least-squares seeds, 0.38-0.42 s -> 0.24-0.26 s). Splitting the chunk's np.take over two
# threads as well was measured and dropped: 0.85-0.98 s -> 0.82-0.85 s a run, random rows are memory-latency bound.
PARALLEL_SHUFFLE_ROWS = 65_536


class _Order:
    """Each seed's batch order, a chunk of steps at a time: one BatchSampler per seed (`next_chunk`), their
    permutations kept as rows of one (S, n) array. The seeds move in step (same n and B), so a chunk is one
    slice of that array for all seeds and never crosses an epoch's end (its last batch may be partial)."""

    def __init__(self, n: int, B: int, sampling: str, seeds: list[int], max_rows: int, pool=None):
        self.replacement, self.n, self.pool = sampling == "replacement", n, pool
        self.perm = np.empty((len(seeds), n), np.intp)
        self.idx = np.empty((len(seeds), max_rows), np.intp) if self.replacement else None
        self.samplers = [BatchSampler(n, B, sampling, np.random.default_rng([seed, 1, B]), perm=self.perm[s])
                         for s, seed in enumerate(seeds)]

    def next(self, k: int):
        """(indices (S, rows), steps, size of the last step): up to k steps; all but the last have B rows."""
        if self.replacement:
            for s, sampler in enumerate(self.samplers):
                _, steps, last = sampler.next_chunk(k, out=self.idx[s])
            return self.idx[:, :steps * self.samplers[0].batch_size], steps, last
        half = len(self.samplers) // 2
        if self.pool is not None and half and self.samplers[0].pos >= self.n:  # epoch start: S shuffles, 2 threads
            first = self.pool.submit(lambda: [sp.next_chunk(k) for sp in self.samplers[:half]])
            for sampler in self.samplers[half:]:
                idx, steps, last = sampler.next_chunk(k)
            first.result()  # each seed has its own rng: the threads' order cannot change the draws
        else:
            for sampler in self.samplers:
                idx, steps, last = sampler.next_chunk(k)
        end = self.samplers[0].pos
        return self.perm[:, end - len(idx):end], steps, last


def run_stacked(runs, problem, ds, w0s, cfg, evaluator, schedules, report, stop, steps, checkpoints,
                explode_factor):
    """Train the runs of one batch size together.

    runs: [[meta dict for seed s, lr l] for l] for s] (S x L); w0s: initial (n_params,) per seed;
    schedules: [[lr_at]] (S x L); stop: a gd_core.train.stopping.Stop. Returns ([[rows]] (S x L), cancelled).
    A helper thread for the seeds' shuffles (`_Order`) lives for the call on a large set.
    """
    shuffles_apart = len(runs) > 1 and cfg.sampling == "shuffle" and ds.n_train >= PARALLEL_SHUFFLE_ROWS
    with (ThreadPoolExecutor(1, thread_name_prefix="gd-stacked-shuffle") if shuffles_apart
          else contextlib.nullcontext()) as pool:
        return _run_stacked(runs, problem, ds, w0s, cfg, evaluator, schedules, report, stop, steps,
                            checkpoints, explode_factor, pool)


def _run_stacked(runs, problem, ds, w0s, cfg, evaluator, schedules, report, stop, steps, checkpoints,
                 explode_factor, pool):
    X, y = ds.X_train, ds.y_train
    n, D = X.shape
    S, L = len(runs), len(runs[0])
    B = runs[0][0]["batch_size"]
    C = problem.n_classes if type(problem) is Softmax else 1
    dt = X.dtype
    P = np.empty((S, D + 1, L, C), dt)
    for s in range(S):
        P[s] = w0s[s].reshape(D + 1, 1, C)
    G = np.empty_like(P)
    hp = optimizer_hyperparameters(cfg)
    fold = cfg.optimizer == "sgd" and not hp.get("momentum", 0.0) and not hp.get("weight_decay", 0.0)
    update = None if fold else make_updater(cfg.optimizer, hp, P)
    window = OneExampleWindow(problem, P, WINDOW) if fold and B == 1 and not problem.reg else None
    chunk_rows = CHUNK_BYTES // ((D + 1) * dt.itemsize)
    K = WINDOW if window is not None else max(1, min(MAX_CHUNK_STEPS, chunk_rows // (S * B)))
    # A ones column folds the bias into the products, but np.take into the strided (S, rows, D) part of the
    # buffer costs about twice a contiguous gather: with many rows a step, the kernel adds the bias instead.
    bias_col = window is not None or S * B < BIAS_COLUMN_ROWS
    Xc = np.empty((S, K * B, D + bias_col), dt)
    Xc[..., D:] = 1
    Xg = Xc[..., :D]
    yc = np.empty((S, K * B), y.dtype)
    kernel = StackedStep(problem, P, G, fold, B, Xc, yc)
    fused = kernel.fused_step(B)  # plain-SGD least squares: one call a step where the bound holds
    order = _Order(n, B, cfg.sampling, [r[0]["seed"] for r in runs], K * B, pool)
    lr = np.zeros((S, L))
    lr4 = lr.reshape(S, 1, L, 1)  # the updater's broadcast against P
    active = np.ones((S, L), bool)
    constant = cfg.schedule == "constant" and not cfg.warmup_epochs  # lr never changes: fill once
    flat_schedules = [f for row in schedules for f in row]
    limits = np.full((S, L), np.inf)
    status = [["ok"] * L for _ in range(S)]
    rows = [[[] for _ in range(L)] for _ in range(S)]
    last_loss = np.full((S, L), np.nan)

    def fill_lr(step):
        lr.reshape(-1)[:] = [f(step) for f in flat_schedules]
        np.multiply(lr, active, out=lr)
        kernel.set_lr(lr)

    def fill_window_lr(step, k):
        """The window's lr per step: constant schedules broadcast lr, others ask every run's schedule."""
        if constant:
            np.copyto(window.lr[:, :k], lr[:, None, :], casting="unsafe")
        else:
            vals = [[f(step + t) for f in flat_schedules] for t in range(k)]
            w = window.lr[:, :k]
            np.copyto(w, np.asarray(vals).reshape(k, S, L).transpose(1, 0, 2), casting="unsafe")
            np.multiply(w, active[:, None, :], out=w)

    def limits_changed():
        kernel.set_limits(limits, active)
        if window is not None:
            window.set_limits(limits, active)

    def w_of(s, k):
        return P[s, :, k, :].reshape(-1)  # a copy in the flat layout of the problem

    def record(s, k, step, train_time, m=None):
        if m is None:
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
        for arr in () if update is None else update.state:
            arr[s, :, k, :] = 0
        lr[s, k] = 0.0
        kernel.set_lr(lr)

    fill_lr(0)
    limits_changed()
    step, train_time, cancelled = 0, 0.0, False
    careful_until = 0  # B = 1 fused path: after a window failed its check, step by step until this step
    latest = None  # the losses of the last step trained (a kernel buffer)
    piece = steps_between_checks(B, problem.n_params, ds.n_features)
    next_check = piece
    started = time.perf_counter()
    with np.errstate(all="ignore"):
        for ck in checkpoints:
            t0 = time.perf_counter()
            while step < ck:
                idx, k, last_b = order.next(min(K, ck - step))
                nrows = (k - 1) * B + last_b
                np.take(X, idx, axis=0, out=Xg[:, :nrows], mode="clip")  # mode="raise" would copy all of X
                np.take(y, idx, out=yc[:, :nrows], mode="clip")
                if window is not None and step >= careful_until and window.ok_limits:
                    fill_window_lr(step, k)
                    if window.run(Xc, yc, k, step + k == ck):
                        step += k
                        latest = window.losses
                        continue
                    careful_until = ck  # replay this window (and the rest of the interval) step by step
                kernel.prepare(nrows)
                for j in range(k):
                    b = B if j < k - 1 else last_b
                    XT, yv = kernel.step_views(j, b)
                    if not constant:
                        fill_lr(step)
                    # the last step before a checkpoint or a stop check computes its batch losses (exact, not
                    # fused): a run stopped there logs them
                    exact = step == ck - 1 or (j == k - 1 and step + 1 >= next_check)
                    if fused is not None and b == B and not exact and fused(XT, yv):
                        step += 1
                        continue
                    losses = kernel.forward(XT, yv, b, exact)
                    if losses is not None and not (losses <= limits).all():  # also catches NaN
                        np.copyto(last_loss, losses, where=active)
                        train_time += time.perf_counter() - t0
                        for s, r in zip(*np.nonzero(~(losses <= limits)), strict=True):
                            status[s][r] = "diverged"
                            record(s, r, step, train_time)
                            finish(s, r)
                        limits_changed()
                        t0 = time.perf_counter()
                        if not active.any():
                            break
                        losses = kernel.forward(XT, yv, b, True)  # the retired slots now hold zero weights
                    latest = losses
                    kernel.backward(XT, yv, b)
                    if update is not None:
                        update(G, lr4, step)
                    step += 1
                if not active.any():
                    break
                if step < ck and step >= next_check:  # a long interval: check the time and should_stop
                    next_check = step + piece
                    report(step / max(steps, 1))
                    if stop.reason(started):
                        break  # measured below as a checkpoint, whose check then ends the runs
            if active.any() and step > 0:
                np.copyto(last_loss, latest, where=active)
            if step > 0:  # the step-0 checkpoint trains nothing: its wall_time_s is 0 exactly
                train_time += time.perf_counter() - t0
            if not active.any():
                break
            measured = list(zip(*np.nonzero(active), strict=True))  # every active run, pooled where that pays
            for (s, k), m in zip(measured, evaluator.many([w_of(s, k) for s, k in measured]), strict=True):
                record(s, k, step, train_time, m)
                if step == 0:
                    limits[s, k] = divergence_limit(m["train_loss"], explode_factor)
                if not m["train_loss"] <= limits[s, k]:
                    status[s][k] = "diverged"
                    finish(s, k)
            limits_changed()
            report(step / max(steps, 1))
            ended = stop.reason(started, can_cancel=step < steps and active.any())
            cancelled = cancelled or ended == "cancelled"
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


