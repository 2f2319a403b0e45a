"""Write every preset's run log and summary as CSV, or compare two such folders (all columns but wall_time_s).

    python -m benchmarks.compare_presets OUT_DIR              # write OUT_DIR/<preset>.log.csv and .summary.csv
    python -m benchmarks.compare_presets --compare A B        # exit 1 unless every file in A equals B's

A refactor that must not change a user-visible number is checked by writing the presets before and after it and
comparing the two folders: equal text, column by column, apart from the measured wall-clock time.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

import gd_core
from ui.presets import PRESETS

IGNORED = ("wall_time_s",)  # measured, not computed


def write(out_dir: Path) -> list[Path]:
    """Run every preset of ui.presets and write its log and summary as OUT_DIR/<preset>.log.csv, .summary.csv."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for key, preset in PRESETS.items():
        res = gd_core.run_experiment(preset.config)
        for part, frame in (("log", res.log), ("summary", res.summary)):
            path = out_dir / f"{key}.{part}.csv"
            gd_core.to_csv(frame, path)
            written.append(path)
    return written


def compare(a: Path, b: Path) -> list[str]:
    """The differences between two folders written by `write` (empty when equal apart from IGNORED)."""
    names_a, names_b = {p.name for p in a.glob("*.csv")}, {p.name for p in b.glob("*.csv")}
    problems = [f"only in {a}: {n}" for n in sorted(names_a - names_b)]
    problems += [f"only in {b}: {n}" for n in sorted(names_b - names_a)]
    if not names_a:
        problems.append(f"no CSV in {a}")
    for name in sorted(names_a & names_b):
        fa = pd.read_csv(a / name, dtype=str, keep_default_na=False)
        fb = pd.read_csv(b / name, dtype=str, keep_default_na=False)
        if list(fa.columns) != list(fb.columns) or len(fa) != len(fb):
            problems.append(f"{name}: shape or columns differ ({fa.shape} vs {fb.shape})")
            continue
        for col in fa.columns:
            if col in IGNORED:
                continue
            diff = (fa[col] != fb[col]).to_numpy().nonzero()[0]
            if len(diff):
                i = diff[0]
                problems.append(f"{name}: column {col} differs in {len(diff)} row(s), first row {i}: "
                                f"{fa[col].iloc[i]!r} vs {fb[col].iloc[i]!r}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", type=Path, help="folder to write the presets' CSVs into")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("A", "B"), help="compare two written folders")
    args = parser.parse_args(argv)
    if args.compare:
        a, b = args.compare
        problems = compare(a, b)
        for p in problems:
            print(p)
        n = len(list(a.glob("*.csv")))
        print(f"{n} files compared: " + ("identical apart from " + ", ".join(IGNORED) if not problems
                                           else f"{len(problems)} difference(s)"))
        return 1 if problems else 0
    if args.out_dir is None:
        parser.error("give OUT_DIR, or --compare A B")
    for path in write(args.out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
