"""Command line: `python -m gd_core run --config cfg.json --out runs.csv [--summary summary.csv]`.

Flags override the JSON config field by field; `--set FIELD=VALUE` reaches any config field. Bad input
exits with code 2 and a one-line message (inputs and output paths are checked before anything runs); a progress
bar goes to stderr when it is a terminal. Ctrl-C stops at the next checkpoint, writes what finished, exits 130.
"""

from __future__ import annotations

import argparse
import sys
import time

from . import sweep_cli
from .cli_io import EXIT_INTERRUPTED, StopOnInterrupt, check_input_file, check_outputs, error_line
from .config import FIELD_KINDS, ConfigError, ExperimentConfig, shown
from .limits import check_memory, memory_error_message
from .results import to_csv
from .runner import run_experiment

# flag -> config field; values are parsed by the config's own field parser
FLAGS = {
    "--problem": "problem", "--dataset": "dataset", "--n-samples": "n_samples", "--n-features": "n_features",
    "--n-classes": "n_classes", "--noise": "noise", "--csv": "csv_path", "--target": "target",
    "--batch-sizes": "batch_sizes", "--optimizer": "optimizer", "--lr": "lrs", "--momentum": "momentum",
    "--schedule": "schedule", "--seeds": "seeds", "--dtype": "dtype", "--sampling": "sampling",
    "--target-loss": "target_loss", "--checkpoints": "n_checkpoints", "--time-limit": "time_limit_s",
}
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
    sweep_cli.add_parser(sub)
    return parser


def values_from_args(args, skip_flags=()) -> dict:
    """Config values from --config, the field flags (bar `skip_flags`) and --set, as given (not validated)."""
    values = {}
    if args.config:
        try:
            with open(args.config, encoding="utf-8") as fh:
                values = ExperimentConfig.from_json(fh.read()).to_dict()
        except OSError as e:
            raise ConfigError(f"cannot read --config {args.config}: {e.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"--config {args.config} is not UTF-8 text") from None
    for flag, name in FLAGS.items():
        if flag not in skip_flags and getattr(args, name, None) is not None:
            values[name] = getattr(args, name)
    if getattr(args, "csv_path", None) is not None and args.dataset is None:
        values["dataset"] = "csv"  # --csv implies the CSV dataset
    for item in args.set:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in FIELD_KINDS:
            raise ConfigError(f"--set takes FIELD=VALUE with FIELD one of {', '.join(FIELD_KINDS)}; "
                              f"got {shown(item)}")
        values[key] = value
    if values.get("csv_path"):
        check_input_file("csv_path", values["csv_path"])
    return values


def config_from_args(args) -> ExperimentConfig:
    values = values_from_args(args)
    for unit in BUDGET_FLAGS.values():
        if getattr(args, f"budget_{unit}") is not None:
            values["budget_unit"], values["budget"] = unit, getattr(args, f"budget_{unit}")
    for item in args.set:  # --set wins over the budget flags, as over every other flag
        key, _, value = item.partition("=")
        values[key.strip().replace("-", "_")] = value
    return ExperimentConfig.from_dict(values)


class ProgressBar:
    """A one-line bar on stderr, redrawn at most ten times a second; only on a terminal (a log file or a pipe
    gets the result and error lines alone)."""

    def __init__(self, enabled: bool):
        self.enabled, self.last, self.drawn = enabled and sys.stderr.isatty(), 0.0, False

    def __call__(self, fraction: float, message: str):
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.1 and fraction < 1.0):
            return
        self.last = now
        filled = int(30 * fraction)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {100 * fraction:5.1f}%  {message[:50]:<50}")
        self.drawn = fraction < 1.0
        if fraction >= 1.0:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def clear(self) -> None:
        """Erase a bar left mid-line, so that the next line written is the only one on screen."""
        if self.drawn:
            sys.stderr.write("\r\033[K")
            self.drawn = False


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "sweep":
        return sweep_cli.main(args)
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
            to_csv(results.summary, args.summary)
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
