"""`python -m gd_core sweep`: steps to target vs batch size, from the command line.

    python -m gd_core sweep --problem least_squares --dataset linear --batch-sizes pow2 \
        --lrs 0.01,0.03,0.1,0.3 --target-loss 0.05 --out sweep.csv --summary sweep_summary.csv --jobs 2

Writes the long run log (the same CSV as `run`, readable by `gd_core.read_log_csv` and the Runs page) and a
sweep summary (one row per batch size: best lr, steps and examples to target, the S = S_min(1 + B_noise/B)
fit). `--jobs N` spreads the batch sizes over N local processes, `--scheduler ADDRESS` over a Dask cluster
(gd_core.cli.executor); the log is the serial one either way. Bad flags exit 2 with one line (output paths
checked before anything runs); Ctrl-C stops the running batch sizes at their next check, keeps what finished
(the stopped runs marked cancelled) and exits 130 (a second Ctrl-C: at once, nothing written).
"""

from __future__ import annotations

import dataclasses
import math
import sys
from concurrent.futures.process import BrokenProcessPool

import pandas as pd

from ..config import ConfigError, ExperimentConfig, coerce_field, shown
from ..results import to_csv
from ..science.scaling import (
    SweepResult,
    SweepSpec,
    best_per_batch_size,
    estimate_work,
    fit_steps_model,
    pow2_batch_sizes,
    run_sweep,
    runs_to_target,
)
from ..train.limits import check_memory, memory_error_message
from ..train.runner import build_dataset
from .executor import open_executor, run_groups
from .io import (
    EXIT_INTERRUPTED,
    FLAGS,
    ProgressBar,
    StopOnInterrupt,
    add_cluster_flags,
    check_outputs,
    error_line,
    int_flag,
    tls_files,
    values_from_args,
)

SWEEP_OWN = ("--batch-sizes", "--lr", "--target-loss", "--checkpoints", "--seeds")
MAX_EPOCHS = 1e6  # per run; the steps cap (--max-steps) bounds the work anyway


def add_parser(sub) -> None:
    """Register the `sweep` subcommand on main.py's subparsers."""
    p = sub.add_parser("sweep", help="tune lr per batch size, record steps to a target loss")
    p.add_argument("--config", metavar="JSON", help="base experiment config (data, problem, optimizer)")
    p.add_argument("--out", required=True, metavar="CSV", help="where to write the long run log")
    p.add_argument("--summary", metavar="CSV", help="where to write the per-batch-size sweep summary")
    for flag, name in FLAGS.items():
        if flag not in SWEEP_OWN:
            p.add_argument(flag, dest=name, metavar=name.upper(), help=f"config field {name}")
    p.add_argument("--batch-sizes", default="pow2", help="comma list of integers, or pow2 (1, 2, 4, ... N)")
    p.add_argument("--lrs", required=True, help="learning-rate grid, comma list (tuned per batch size)")
    p.add_argument("--target-loss", required=True, help="the loss to reach")
    p.add_argument("--metric", default="train_loss", choices=("train_loss", "val_loss"))
    p.add_argument("--epochs", default="20", help="examples budget per run, in epochs (clipped by the steps)")
    p.add_argument("--min-steps", default="200", help="at least this many steps per run")
    p.add_argument("--max-steps", default="20000", help="at most this many steps per run")
    p.add_argument("--checkpoints", default="200", help="checkpoints per run (steps to target interpolate)")
    p.add_argument("--jobs", default="1", help="processes (over batch sizes); results equal the serial ones")
    add_cluster_flags(p)
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="any config field")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def spec_from_args(args):
    """The SweepSpec the flags describe (ConfigError with a one-line message when they are bad)."""
    values = values_from_args(args, skip_flags=SWEEP_OWN)
    values["target_loss"] = coerce_field("target_loss", args.target_loss)
    values["target_metric"] = args.metric
    values["batch_sizes"] = (1,)  # placeholder: each batch size of the sweep gets its own config
    values["lrs"] = coerce_field("lrs", args.lrs)
    base = ExperimentConfig.from_dict(values)
    check_memory([base])  # the data, before a CSV is read to count its rows
    n_train = training_examples(base)
    if args.batch_sizes.strip().lower() == "pow2":
        sizes = pow2_batch_sizes(n_train)
    else:
        sizes = tuple(int(b) if b != "full" else n_train for b in coerce_field("batch_sizes", args.batch_sizes))
        bad = [b for b in sizes if b > n_train]
        if bad:
            raise ConfigError(f"batch_size must be in [1, {n_train}] (the training examples); got {bad[0]}")
    rule = f"a finite number in (0, {MAX_EPOCHS:g}]"
    try:
        epochs = float(args.epochs) if args.epochs.strip().isascii() else math.nan
    except ValueError:
        raise ConfigError(f"--epochs must be {rule}; got {shown(args.epochs)}") from None
    if not (math.isfinite(epochs) and 0 < epochs <= MAX_EPOCHS):
        raise ConfigError(f"--epochs must be {rule}; got {shown(args.epochs)}")
    min_steps = int_flag("--min-steps", args.min_steps, 1, 10**7)
    max_steps = int_flag("--max-steps", args.max_steps, 1, 10**8)
    if min_steps > max_steps:
        raise ConfigError(f"--min-steps must be at most --max-steps; got --min-steps {min_steps} > --max-steps "
                          f"{max_steps}")
    return SweepSpec(base, sizes, base.lrs, epochs=epochs, min_steps=min_steps, max_steps=max_steps,
                     n_checkpoints=int_flag("--checkpoints", args.checkpoints, 2, 5000))


def training_examples(base: ExperimentConfig) -> int:
    """The training set's size: from the config alone, or by reading a CSV."""
    return build_dataset(base).n_train if base.dataset == "csv" else base.n_train()


def sweep_on(executor, spec: SweepSpec, progress=None, should_stop=None) -> SweepResult:
    """`run_sweep` with the batch sizes spread over an executor (gd_core.cli.executor): the same log, row for
    row, as the serial sweep (put back in batch-size order), bar the measured wall_time_s."""
    n_train = training_examples(spec.base)
    configs = spec.configs(n_train)
    weights = [estimate_work(dataclasses.replace(spec, batch_sizes=(c.batch_sizes[0],)), n_train, 1)
               for c in configs]
    logs, complete = run_groups(executor, configs, spec.base, progress=progress, should_stop=should_stop,
                                weights=weights)
    if progress is not None:
        progress(1.0, "done")
    return sweep_result(spec, logs, complete)


def sweep_result(spec: SweepSpec, logs: dict[int, pd.DataFrame], complete: bool) -> SweepResult:
    """The SweepResult of the groups' logs ({index in spec.configs: log}), put back in batch-size order."""
    frames = [logs[i] for i in sorted(logs)]
    log = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    runs = runs_to_target(log, spec.base.target_loss, spec.base.target_metric)
    return SweepResult(log, runs, best_per_batch_size(runs, spec.lrs), complete)


def sweep_summary_frame(result):
    """The per-batch-size summary with the fit's S_min, B_noise, E_min, B_crit repeated on every row."""
    s = result.summary.copy()
    fit = fit_steps_model(s["batch_size"], s["steps_to_target"]) if len(s) else None
    for k in ("s_min", "b_noise", "e_min", "b_crit"):
        s[k] = getattr(fit, k) if fit is not None else float("nan")
    return s, fit


def main(args) -> int:
    bar = ProgressBar(not args.quiet)
    try:
        spec = spec_from_args(args)
        jobs = int_flag("--jobs", args.jobs, 1, 64)
        tls = tls_files(args)
        check_outputs({"--out": args.out, "--summary": args.summary})
        if args.scheduler is None:
            check_memory([spec.base.replace(batch_sizes=(max(spec.batch_sizes),))],
                         processes=min(jobs, len(spec.batch_sizes)))  # each process makes its own data
        with StopOnInterrupt() as interrupt:
            if args.scheduler is None and jobs == 1:
                result = run_sweep(spec, progress=bar, should_stop=lambda: interrupt.stopped)
            else:
                with open_executor(jobs=jobs, scheduler=args.scheduler, tls=tls) as executor:
                    result = sweep_on(executor, spec, bar, lambda: interrupt.stopped)
        to_csv(result.log, args.out)
        summary, fit = sweep_summary_frame(result)
        if args.summary:
            to_csv(summary, args.summary)
    except KeyboardInterrupt:
        bar.clear()
        sys.stderr.write("error: interrupted; nothing was written\n")
        return EXIT_INTERRUPTED
    except (ValueError, OSError, RecursionError, MemoryError, BrokenProcessPool) as e:
        bar.clear()
        if isinstance(e, MemoryError):
            e = memory_error_message(e)
        elif isinstance(e, BrokenProcessPool):
            e = ("a worker process died (out of memory?); run with fewer --jobs, fewer samples or features, or "
                 "batch sizes smaller than the full set")
        sys.stderr.write(error_line(e))
        return 2
    bar.clear()
    reached = int(summary["steps_to_target"].notna().sum())
    sys.stderr.write(f"wrote {len(result.log)} rows for {result.log['run_id'].nunique()} runs to {args.out}; "
                     f"{reached}/{len(summary)} batch sizes reached the target"
                     f"{'' if result.complete else ' (stopped early: partial results)'}\n")
    if fit is not None and fit.s_min == fit.s_min:
        sys.stderr.write(f"fit S = S_min (1 + B_noise/B): S_min={fit.s_min:.3g}, B_noise={fit.b_noise:.3g}, "
                         f"E_min={fit.e_min:.3g}, B_crit={fit.b_crit:.3g}\n")
    return EXIT_INTERRUPTED if interrupt.stopped else 0
