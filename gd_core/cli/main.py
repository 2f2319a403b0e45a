"""Command line: `python -m gd_core run --config cfg.json --out runs.csv [--summary summary.csv]`.

Flags override the JSON config field by field; `--set FIELD=VALUE` reaches any config field. Bad input
exits with code 2 and a one-line message (inputs and output paths are checked before anything runs); a progress
bar goes to stderr when it is a terminal. Ctrl-C stops at the next checkpoint, writes what finished, exits 130.
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from ..config import ExperimentConfig
from ..results import LOG_COLUMNS, Results, summarize, to_csv
from ..science.regression import regression_metrics, target_stats
from ..train.limits import check_memory, memory_error_message
from ..train.plan import total_steps
from ..train.runner import build_dataset, run_experiment
from . import sweep
from .executor import assemble_log, open_executor, run_groups, split_by_batch_size
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
from .sweep import training_examples

BUDGET_FLAGS = {"--epochs": "epochs", "--steps": "steps", "--examples": "examples"}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse prints the whole usage otherwise)
        self.exit(2, error_line(f"{message} (see {self.prog} --help)"))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m gd_core", description="Gradient Descent Lab engine.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="run a batch-size comparison and write the run log as CSV")
    run.add_argument("--config", metavar="JSON", help="experiment config (as the dashboard downloads it)")
    run.add_argument("--out", required=True, metavar="CSV", help="where to write the long run log")
    run.add_argument("--summary", metavar="CSV", help="where to write the per-run summary")
    for flag, name in FLAGS.items():
        run.add_argument(flag, dest=name, metavar=name.upper(), help=f"config field {name}")
    budget = run.add_mutually_exclusive_group()
    for flag, unit in BUDGET_FLAGS.items():
        budget.add_argument(flag, dest=f"budget_{unit}", metavar="N", help=f"budget in {unit}")
    run.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                     help="any config field, e.g. --set lr_scaling=linear (repeatable)")
    run.add_argument("--print-config", action="store_true", help="print the resolved config as JSON and exit")
    run.add_argument("--jobs", default="1", help="processes (over batch sizes); results equal the serial ones")
    add_cluster_flags(run)
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.add_parser(sub)
    return parser


def config_from_args(args) -> ExperimentConfig:
    values = values_from_args(args)
    for unit in BUDGET_FLAGS.values():
        if getattr(args, f"budget_{unit}") is not None:
            values["budget_unit"], values["budget"] = unit, getattr(args, f"budget_{unit}")
    for item in args.set:  # --set wins over the budget flags, as over every other flag
        key, _, value = item.partition("=")
        values[key.strip().replace("-", "_")] = value
    return ExperimentConfig.from_dict(values)


def run_spread(executor, config: ExperimentConfig, progress=None, should_stop=None) -> Results:
    """run_experiment with its batch sizes spread over an executor (gd_core.cli.executor): the same log, row for
    row, bar the measured wall_time_s."""
    n_train = training_examples(config)
    groups = split_by_batch_size(config, n_train) or [config]
    weights = [sum(total_steps(g, n_train, b) * (1 + b / 64) for b in g.resolved_batch_sizes(n_train))
               for g in groups]
    logs, _ = run_groups(executor, groups, config, progress=progress, should_stop=should_stop, weights=weights)
    log = assemble_log(config, [logs[i] for i in sorted(logs)]) if logs else pd.DataFrame(columns=list(LOG_COLUMNS))
    if progress is not None:
        progress(1.0, "done")
    return Results(log, summarize(log, config.target_loss, config.target_metric), config)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "sweep":
        return sweep.main(args)
    bar = ProgressBar(not args.quiet)
    try:
        config = config_from_args(args)
        if args.print_config:
            print(config.to_json())
            return 0
        jobs = int_flag("--jobs", args.jobs, 1, 64)
        tls = tls_files(args)
        check_outputs({"--out": args.out, "--summary": args.summary})
        check_memory([config], processes=jobs if args.scheduler is None else 1)  # before anything is allocated
        stats = None
        with StopOnInterrupt() as interrupt:
            if args.scheduler is None and jobs == 1:
                ds = build_dataset(config)
                if args.summary and config.problem == "least_squares":
                    stats = target_stats(ds)  # RMSE in the target's units and R²
                results = run_experiment(config, dataset=ds, progress=bar, should_stop=lambda: interrupt.stopped)
                del ds
            else:
                if args.summary and config.problem == "least_squares":
                    stats = target_stats(build_dataset(config))
                with open_executor(jobs=jobs, scheduler=args.scheduler, tls=tls) as executor:
                    results = run_spread(executor, config, bar, lambda: interrupt.stopped)
        to_csv(results.log, args.out)
        if args.summary:
            summary = results.summary
            if stats is not None:
                summary = regression_metrics(summary, stats, config.reg)
            to_csv(summary, args.summary)
    except KeyboardInterrupt:  # before the run started, or a second Ctrl-C
        bar.clear()
        sys.stderr.write("error: interrupted; nothing was written\n")
        return EXIT_INTERRUPTED
    except (ValueError, OSError, RecursionError, MemoryError) as e:  # ConfigError, CSVError, files, memory
        bar.clear()
        sys.stderr.write(error_line(memory_error_message(e) if isinstance(e, MemoryError) else e))
        return 2
    bar.clear()
    n_div = int(results.summary["diverged"].sum())
    done = f"wrote {len(results.log)} rows for {len(results.summary)} runs to {args.out}"
    if interrupt.stopped:
        n_cut = int((results.summary["status"] == "cancelled").sum())
        sys.stderr.write(f"interrupted: {done} (the runs that finished, and {n_cut} stopped early, marked "
                         f"cancelled; the rest did not start)\n")
        return EXIT_INTERRUPTED
    sys.stderr.write(f"{done}{f' ({n_div} diverged)' if n_div else ''}\n")
    return 0
