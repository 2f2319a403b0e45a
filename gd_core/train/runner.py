"""Run a comparison: every (seed, batch size, learning rate) of a config, from the same initial weights.

For one seed every run starts from the same weights; runs at the same (seed, batch size) see the same
batch order, so a learning-rate sweep compares like with like. Checkpoints are spaced evenly in examples
seen so curves line up across batch sizes. Wall time counts training only (metric evaluation excluded).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ..config import ConfigError, ExperimentConfig, check_problem_fits
from ..data.batching import BatchSampler
from ..data.csv import load_csv_dataset
from ..data.dataset import Dataset
from ..data.synthetic import make_dataset
from ..fast.dispatch import STACKED
from ..optim.optimizers import make_optimizer
from ..problems import Problem, make_problem
from ..results import LOG_COLUMNS, Results, summarize
from .checkpoints import Evaluator, checkpoint_steps
from .limits import MAX_CSV_ROWS, check_csv_rows, check_csv_size, check_work_budget
from .log_rows import add_row, checkpoint_row, stamp_status
from .loop import chunked_full_batch, make_advance
from .plan import RunSpec, eval_size, optimizer_hyperparameters, plan_runs, run_schedule, total_steps
from .reference import EXPLODE_FACTOR, divergence_limit
from .stacked import run_stacked, stack_groups
from .stopping import Stop, steps_between_checks

SMALL_BATCH = 4096  # below this BLAS runs single-threaded: threads only help big products (docs/PERFORMANCE.md)
# Workers of a large full-batch step (full_batch.bind_full_gradient): the result does not depend on this.
FULL_THREADS = max(1, min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                            else os.cpu_count() or 1))



def build_dataset(config: ExperimentConfig, csv_source=None, *, max_rows: int = MAX_CSV_ROWS) -> Dataset:
    """The config's data: a generator, or the CSV at `csv_source` (path or buffer) / `config.csv_path`.

    A CSV over `limits.MAX_CSV_BYTES` or with more than `max_rows` data rows raises CSVError."""
    if config.dataset == "csv":
        source = csv_source if csv_source is not None else config.csv_path
        if source is None:
            raise ConfigError("csv_path must name a CSV file when dataset is 'csv'; got None")
        check_csv_size(source)
        ds = load_csv_dataset(source, config.target, val_fraction=config.val_fraction, standardize=config.standardize,
                              seed=config.data_seed, dtype=config.dtype, max_rows=max_rows + 1)
        check_csv_rows(ds.n_train + ds.n_val, max_rows)
        return ds
    return make_dataset(
        config.dataset, config.n_samples, config.n_features, config.n_classes, noise=config.noise,
        condition_number=config.condition_number, n_unique=config.n_unique, label_noise=config.label_noise,
        val_fraction=config.val_fraction, standardize=config.standardize, seed=config.data_seed,
        dtype=config.dtype)


def build_problem(config: ExperimentConfig, ds: Dataset) -> Problem:
    check_problem_fits(config.problem, ds.task, ds.n_classes, ds.name)
    return make_problem(config.problem, ds.n_features, ds.n_classes, reg=config.reg, hidden=config.hidden)


def run_experiment(config: ExperimentConfig, *, progress: Callable[[float, str], None] | None = None,
                   dataset: Dataset | None = None,
                   should_stop: Callable[[], bool] | None = None, max_work: float | None = None,
                   max_bytes: float | None = None, stacked: bool = True, deadline: float | None = None) -> Results:
    """Run every (seed, batch size, lr) of `config`; returns the long log and the summary.

    progress(fraction, message) is called at checkpoints; should_stop() -> True ends the experiment early
    (the runs so far are kept, the current one marked 'cancelled'). max_work: a work budget
    (`gd_core.train.limits`), checked before any run starts, as is max_bytes (memory);
    over either raises ConfigError saying how to shrink the request.
    stacked: train the runs of one batch size together where gd_core.train.stacked's rule allows (same numbers
    to float rounding, several times faster); False runs them one by one.
    deadline: a time.perf_counter() value that bounds the whole call: runs still training then stop with status
    time_limit, and runs not started yet are left out (the first group always starts). Time limits, the deadline
    and should_stop are checked at checkpoints and, in long intervals, every ~1e8 work units between them.
    """
    ds = dataset if dataset is not None else build_dataset(config)
    problem = build_problem(config, ds)
    check_work_budget(config, ds.n_train, problem.n_params, max_work, n_features=ds.n_features,
                      n_outputs=ds.n_classes or 1, max_bytes=max_bytes)
    specs = plan_runs(config, ds.n_train)
    # BLAS at 1 thread: after a multi-threaded call OpenBLAS's idle worker spins on the other core for a while,
    # which slows the first steps of a full-batch run right after (two Python workers, full_batch.py;
    # docs/DESIGN.md); the optimum's chunk loop is memory-bound and takes as long on 1 thread.
    with threadpool_limits(1, user_api="blas"):
        w_star = problem.optimum(ds.X_train, ds.y_train)
    evaluator = Evaluator(problem, ds, eval_size(config, ds.n_train, specs), config.data_seed, w_star)
    weights = [total_steps(config, ds.n_train, s.batch_size) * (1 + s.batch_size / 64) for s in specs]
    groups = (stack_groups(problem.name, config.optimizer, [s.batch_size for s in specs], ds.n_train, SMALL_BATCH)
              if stacked else [[i] for i in range(len(specs))])
    done, frames, paths = 0.0, {}, {}
    init_cache: dict[int, np.ndarray] = {}
    stop = Stop(config.time_limit_s, deadline, should_stop)
    for group in groups:
        if frames and stop.past_deadline():
            break
        for seed in {specs[i].seed for i in group} - init_cache.keys():  # every run of a seed starts here
            init_cache[seed] = problem.init_params(np.random.default_rng([seed, 0]), dtype=ds.X_train.dtype)
        weight = sum(weights[i] for i in group)
        first = specs[group[0]]
        label = f"run {first.run_id}" if len(group) == 1 else f"{len(group)} stacked runs at B={first.batch_size}"

        def report(frac, _done=done, _w=weight, _label=label):
            if progress is not None:
                progress(min(1.0, (_done + frac * _w) / sum(weights)), _label)

        # Small products lose more to BLAS thread hand-offs than they gain, badly so on a busy machine.
        B = specs[group[0]].batch_size
        with threadpool_limits(1, user_api="blas") if B < SMALL_BATCH else nullcontext():
            if len(group) == 1:
                rows, cancelled, paths[specs[group[0]].run_id] = _run_one(
                    specs[group[0]], problem, ds, init_cache[specs[group[0]].seed], config, evaluator, report, stop)
                frames[group[0]] = rows
            else:
                cancelled = _run_group([specs[i] for i in group], group, problem, ds, init_cache, config,
                                       evaluator, report, stop, frames)
                paths.update((specs[i].run_id, STACKED.name) for i in group)
        done += weight
        if cancelled:
            break
    frames = [frames[i] for i in sorted(frames)]
    log = pd.DataFrame([r for rows in frames for r in rows], columns=list(LOG_COLUMNS))
    if progress is not None:
        progress(1.0, "done")
    return Results(log, summarize(log, config.target_loss, config.target_metric), config,
                   {run_id: path for run_id, path in paths.items() if run_id in set(log["run_id"])})


def _schedule(spec: RunSpec, cfg: ExperimentConfig, n: int, steps: int):
    return run_schedule(cfg, n, spec.batch_size, spec.base_lr, steps)


def _meta(spec: RunSpec, problem: Problem, ds: Dataset, cfg: ExperimentConfig) -> dict:
    return {"run_id": spec.run_id, "problem": problem.name, "dataset": ds.name, "optimizer": cfg.optimizer,
            "batch_size": spec.batch_size, "base_lr": spec.base_lr, "seed": spec.seed}


def _run_group(group_specs, indices, problem, ds, init_cache, cfg, evaluator, report, stop, frames) -> bool:
    """Runs of one batch size stacked (gd_core.train.stacked); fills frames[spec index]; True if cancelled."""
    n, B = ds.n_train, group_specs[0].batch_size
    L = len(cfg.lrs)
    grid = [group_specs[j:j + L] for j in range(0, len(group_specs), L)]  # plan_runs: seeds outer, lrs inner
    steps = total_steps(cfg, n, B)
    make_optimizer(cfg.optimizer, 1.0, **optimizer_hyperparameters(cfg))  # validates the hyperparameters
    rows, cancelled = run_stacked(
        [[_meta(sp, problem, ds, cfg) for sp in row] for row in grid], problem, ds,
        [init_cache[row[0].seed] for row in grid], cfg, evaluator,
        [[_schedule(sp, cfg, n, steps) for sp in row] for row in grid], report, stop, steps,
        checkpoint_steps(steps, n, B, cfg.sampling, cfg.n_checkpoints), EXPLODE_FACTOR)
    for j, i in enumerate(indices):
        frames[i] = rows[j // L][j % L]
    return cancelled


def _run_one(spec: RunSpec, problem: Problem, ds: Dataset, w0: np.ndarray, cfg: ExperimentConfig,
             evaluator: Evaluator, report, stop: Stop) -> tuple[list[dict], bool, str]:
    """One run: (its rows, whether it was cancelled, the fast path it took). A full batch on a large set uses the
    chunked kernel (full_batch.bind_full_gradient) on a thread pool that lives for this run only, with BLAS at 1 thread
    (each worker's products are small, docs/PERFORMANCE.md)."""
    full = spec.batch_size >= ds.n_train and cfg.sampling == "shuffle"  # as BatchSampler.full
    if full and chunked_full_batch(problem, ds.n_train):
        with threadpool_limits(1, user_api="blas"), \
                ThreadPoolExecutor(FULL_THREADS, thread_name_prefix="gd-full-batch") as pool:
            return _train_one(spec, problem, ds, w0, cfg, evaluator, report, stop, pool)
    return _train_one(spec, problem, ds, w0, cfg, evaluator, report, stop, None)


def _make_advance(spec, problem, ds, w, cfg, schedule, pool):
    """(advance: loop.make_advance for the run, whether its batches are the full set)."""
    hp = optimizer_hyperparameters(cfg)
    opt = make_optimizer(cfg.optimizer, schedule, **hp)  # validates the hyperparameters
    n, B = ds.n_train, spec.batch_size
    sampler = BatchSampler(n, B, cfg.sampling, np.random.default_rng([spec.seed, 1, B]))
    return (make_advance(problem, ds.X_train, ds.y_train, w, sampler, cfg.optimizer, hp, opt, schedule, pool,
                         FULL_THREADS), sampler.full)


def _train_interval(advance, step, ck, piece, limit, cached, between):
    """Trains from `step` to checkpoint `ck` in pieces of at most `piece` steps; `between(step)` runs between two
    pieces and returns True to stop early (measured then as a checkpoint, whose check ends the run).
    (step reached, last batch loss, diverged)."""
    while True:
        until = min(ck, step + piece)
        step, batch_loss, diverged = advance(step, until, limit, cached)
        cached = None
        if diverged or step < until or step >= ck or between(step):
            return step, batch_loss, diverged


def _train_one(spec, problem, ds, w0, cfg, evaluator, report, stop, pool) -> tuple[list[dict], bool, str]:
    """One run's loop. Where the evaluator pools (Evaluator.pool > 1), checkpoints after the first are
    measured `pool` at a time, on snapshots of the weights, and their rows recorded in order: the log, the stop
    decisions (divergence, time limit, cancel) and the final losses are those of measuring each in place; a
    stop found in a pool's later checkpoint only costs the intervals trained past it."""
    n, B = ds.n_train, spec.batch_size
    steps = total_steps(cfg, n, B)
    schedule = _schedule(spec, cfg, n, steps)
    w = w0.copy()
    advance, full = _make_advance(spec, problem, ds, w, cfg, schedule, pool)
    reuse_full = full and evaluator.train_is_full  # the step's gradient is the checkpoint's
    pooled = evaluator.pool > 1 and not reuse_full
    log = _RunLog(_meta(spec, problem, ds, cfg), n, B, cfg.sampling, schedule, steps, report, stop, evaluator, w)
    step, train_time, batch_loss, cached = 0, 0.0, np.nan, None
    piece = steps_between_checks(B, problem.n_params, ds.n_features)
    with np.errstate(all="ignore"):  # divergence is detected from the values, never from warnings
        for ck in checkpoint_steps(steps, n, B, cfg.sampling, cfg.n_checkpoints):
            diverged = False
            if step < ck:  # the step-0 checkpoint trains nothing: its wall_time_s is 0 exactly
                t0 = time.perf_counter()
                step, batch_loss, diverged = _train_interval(advance, step, ck, piece, log.limit, cached, log.between)
                cached = None
                train_time += time.perf_counter() - t0
            if pooled and step > 0:  # step 0 sets the divergence limit that the first interval needs
                log.pending.append((w.copy(), step, train_time, batch_loss, diverged))
                if len(log.pending) == evaluator.pool or diverged or step >= steps or step < ck:
                    log.flush()
            else:
                m, (loss, grad) = evaluator(w)
                log.record(m, step, train_time, batch_loss, diverged)
                cached = (loss, grad) if reuse_full and log.status == "ok" else None  # grad: the evaluator's new array
            if log.status != "ok":
                break
        if log.pending:  # training stopped short of the last checkpoint
            log.flush()
        rows = log.finish()
    return rows, log.status == "cancelled", advance.path


class _RunLog:
    """One run's rows and status as its checkpoints are measured (in place, or pooled: `pending` snapshots)."""

    def __init__(self, meta, n, B, sampling, schedule, steps, report, stop, evaluator, w):
        self.meta, self.n, self.B, self.sampling, self.schedule, self.steps = meta, n, B, sampling, schedule, steps
        self.report, self.stop, self.evaluator = report, stop, evaluator
        self.rows, self.pending, self.last_w = [], [], w  # last_w: the weights of the last row recorded
        self.status, self.limit = "ok", np.inf
        self.started = time.perf_counter()

    def between(self, at) -> bool:
        """Between the pieces of a long interval: progress, and whether the time is up or should_stop says so."""
        self.report(at / max(self.steps, 1))
        return bool(self.stop.reason(self.started))

    def record(self, m, at, t, bl, stepped_into_divergence):
        """Appends checkpoint `at`'s row and updates the run's status, as if measured right after its step."""
        if stepped_into_divergence:
            self.status = "diverged"
        if at == 0:
            self.limit = divergence_limit(m["train_loss"], EXPLODE_FACTOR)
        if self.status == "ok" and not m["train_loss"] <= self.limit:
            self.status = "diverged"
        add_row(self.rows, checkpoint_row(self.meta, at, self.n, self.B, self.sampling, t, self.schedule(at), bl, m))
        self.report(at / max(self.steps, 1))
        if self.status == "ok":
            self.status = self.stop.reason(self.started, can_cancel=at < self.steps) or "ok"

    def flush(self):
        """Measures and records the pending checkpoints, up to the first that stops the run."""
        pending = self.pending
        for m, (snap, *state) in zip(self.evaluator.many([p[0] for p in pending]), pending, strict=True):
            self.record(m, *state)
            self.last_w = snap
            if self.status != "ok":
                break
        pending.clear()

    def finish(self) -> list[dict]:
        """The rows, with the exact final losses on the last and the final status on all."""
        rows, ev = self.rows, self.evaluator
        tl, vl = (rows[-1]["train_loss"], rows[-1]["val_loss"]) if ev.exact else ev.full_losses(self.last_w)
        rows[-1]["train_loss_full"], rows[-1]["val_loss_full"] = tl, vl
        stamp_status(rows, self.status)
        return rows
