"""Command line: `python -m gd_core run --config cfg.json --out runs.csv [--summary summary.csv]`.

Flags override the JSON config field by field; `--set FIELD=VALUE` reaches any config field. Bad input
exits with code 2 and a one-line message (inputs and output paths are checked before anything runs); a progress
bar goes to stderr when it is a terminal. Ctrl-C stops at the next checkpoint, writes what finished, exits 130.
"""

from __future__ import annotations

import argparse
import sys

from ..config import ExperimentConfig
from ..results import to_csv
from ..science.regression import regression_metrics, target_stats
from ..train.limits import check_memory, memory_error_message
from ..train.runner import build_dataset, run_experiment
from . import sweep
from .io import EXIT_INTERRUPTED, FLAGS, ProgressBar, StopOnInterrupt, check_outputs, error_line, values_from_args

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
        check_outputs({"--out": args.out, "--summary": args.summary})
        check_memory([config])  # before anything is allocated
        with StopOnInterrupt() as interrupt:
            results = run_experiment(config, progress=bar, should_stop=lambda: interrupt.stopped)
        to_csv(results.log, args.out)
        if args.summary:
            summary = results.summary
            if config.problem == "least_squares":  # RMSE in the target's units and R²
                summary = regression_metrics(summary, target_stats(build_dataset(config)), config.reg)
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
