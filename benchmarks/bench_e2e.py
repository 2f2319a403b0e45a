"""End to end: what a user of the command line waits for, as whole processes, against floors in the same run.

    python -m benchmarks.bench_e2e [--quick] [--n 1200000] [--d 64] [--classes 10] [--rounds 2] [--csv-file PATH]

1. The notes' headline command, `python -m gd_core run --problem softmax --dataset blobs --n-samples N ...
   --batch-sizes 256 --epochs 1 --dtype float32 --out p.csv`, as a subprocess: wall time (import, data,
   training, checkpoints, exact losses, CSV written) and peak RSS (the process's own ru_maxrss, from wait4 in
   a small launcher process),
   next to the run's training time (`wall_time_s` in its CSV) and a floor process that only imports NumPy
   (and the engine's numeric core, which imports NumPy alone), draws the same blobs in float32, standardises
   them and runs the engine's training loop for the same epoch (no checkpoints, no log).
2. The same command on a CSV of N rows x D features + a label column (`--csv FILE --target label`), and the
   loading alone (`gd_core.load_csv_dataset(..., dtype="float32")`) against `pandas.read_csv(FILE)
   .to_numpy(np.float32)`, each in its own process.
3. Import times (`python -X importtime`): gd_core, gd_core.cli.main (what `python -m gd_core` imports), the
   dashboard's shared modules (ui.cache, ui.charts) and streamlit.
Each measurement is repeated `--rounds` times, the processes alternating; the fastest of each is kept (peak
RSS: the largest). Targets (issue 16) are ratios, printed at the end.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TARGET_SCALE = (1_200_000, 64, 10)  # (N, D, C) the targets are set for
NOISE_STD = 0.5 + 5.0 * 0.5  # blobs' std at the config's default noise (0.5)
LR = 0.1  # the config's default learning rate
B = 256


class Proc(NamedTuple):
    seconds: float  # wall time of the whole process
    peak_mb: float  # its peak RSS (MiB)
    stdout: str


# Runs argv[2:] as a child of this small process and writes "exit code, seconds, child's ru_maxrss (KiB)" to
# argv[1]. A child forked straight from the benchmark would report the benchmark's own peak: Linux carries the
# forking process's high-water mark into the child's ru_maxrss across exec.
LAUNCHER = """import os, sys, time
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(f"{os.waitstatus_to_exitcode(status)} {time.perf_counter() - t0} {usage.ru_maxrss}")
"""


def run_process(args: list[str], cwd=ROOT) -> Proc:
    """Runs `args`; returns its wall time, its own peak RSS and its stdout; raises on failure."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "rusage"
        p = subprocess.run([sys.executable, "-c", LAUNCHER, str(report), *args], cwd=cwd, capture_output=True,
                           text=True)
        code, seconds, maxrss = report.read_text().split() if report.exists() else (p.returncode or 1, 0, 0)
    if int(code) != 0 or p.returncode != 0:
        raise RuntimeError(f"{shlex.join(args)} exited {code}: {p.stderr.strip()[-2000:]}")
    return Proc(float(seconds), int(maxrss) / 1024, p.stdout)  # ru_maxrss is in KiB on Linux


def cli_args(n: int, d: int, classes: int, out: Path, csv: Path | None = None) -> list[str]:
    data = (["--csv", str(csv), "--target", "label"] if csv else
            ["--dataset", "blobs", "--n-samples", str(n), "--n-features", str(d), "--n-classes", str(classes)])
    return [sys.executable, "-m", "gd_core", "run", "--problem", "softmax", *data, "--batch-sizes", str(B),
            "--epochs", "1", "--dtype", "float32", "--out", str(out), "--quiet"]


def training_seconds(log_csv: Path) -> float:
    """The run's own training time: the largest wall_time_s of its log."""
    import pandas as pd

    return float(pd.read_csv(log_csv, usecols=["wall_time_s"])["wall_time_s"].max())


FLOOR = r'''
import sys, time
import numpy as np
n_samples, d, c, noise_std, lr, B = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), \
    float(sys.argv[5]), int(sys.argv[6])
# the same draws as gd_core.make_dataset("blobs", ...) (seed 0), written in float32 a block at a time
rng = np.random.default_rng(0)
centers = rng.uniform(-5.0, 5.0, (c, d))
rows = max(1, (1 << 17) // d)

def draw(n):
    y = rng.permutation(np.arange(n, dtype=np.int64) % c)
    X = np.empty((n, d), np.float32)
    for i in range(0, n, rows):
        X[i:i + rows] = centers[y[i:i + rows]] + rng.normal(0.0, noise_std, (min(rows, n - i), d))
    return X, y

n_val = round(n_samples * 0.2)
X, y = draw(n_samples - n_val)
Xv, yv = draw(n_val)
# standardise with float32 train statistics, in place, a block at a time
mean = X.mean(axis=0, dtype=np.float64)
var = sum(((X[i:i + rows] - mean) ** 2).sum(axis=0) for i in range(0, len(X), rows)) / len(X)
scale = (1.0 / np.sqrt(var)).astype(np.float32)
for A in (X, Xv):
    for i in range(0, len(A), rows):
        A[i:i + rows] -= mean.astype(np.float32)
        A[i:i + rows] *= scale
from threadpoolctl import threadpool_limits
from gd_core.data.batching import BatchSampler, steps_per_epoch
from gd_core.train.loop import make_advance
from gd_core.optim.optimizers import make_optimizer
from gd_core.problems import make_problem
from gd_core.optim.schedules import make_schedule
n = len(X)
steps = -(-n // B)
problem = make_problem("softmax", d, c)
w = problem.init_params(np.random.default_rng([0, 0]), dtype=np.float32)
schedule = make_schedule("constant", lr, steps_per_epoch=steps_per_epoch(n, B, "shuffle"), total_steps=steps)
hp = {"weight_decay": 0.0, "momentum": 0.0, "nesterov": False}
opt = make_optimizer("sgd", schedule, **hp)
sampler = BatchSampler(n, B, "shuffle", np.random.default_rng([0, 1, B]))
with threadpool_limits(1, user_api="blas"), np.errstate(all="ignore"):
    advance = make_advance(problem, X, y, w, sampler, "sgd", hp, opt, schedule)
    t0 = time.perf_counter()
    done, loss, diverged = advance(0, steps, np.inf, None)
    print(time.perf_counter() - t0, done, loss)
'''

LOAD_OURS = ("import sys, time; t0 = time.perf_counter(); from gd_core import load_csv_dataset; "
             "ds = load_csv_dataset(sys.argv[1], 'label', dtype='float32'); print(time.perf_counter() - t0)")
LOAD_PANDAS = ("import sys, time; t0 = time.perf_counter(); import numpy as np, pandas as pd; "
               "X = pd.read_csv(sys.argv[1]).to_numpy(np.float32); print(time.perf_counter() - t0)")


def write_csv(path: Path, n: int, d: int, classes: int, seed: int = 0) -> None:
    """N rows of D features (6 significant digits) and an integer label: blobs-like, ~10 bytes a value."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-5.0, 5.0, (classes, d))
    fmt = ",".join(["%.6g"] * d) + ",%d"
    with open(path, "w") as f:
        f.write(",".join([f"x{i}" for i in range(d)] + ["label"]) + "\n")
        for i in range(0, n, 50_000):
            m = min(50_000, n - i)
            y = rng.integers(0, classes, m)
            X = centers[y] + rng.normal(0.0, NOISE_STD, (m, d))
            np.savetxt(f, np.column_stack([X, y]), fmt=fmt)


def import_times() -> list[tuple[str, float]]:
    """(module, cumulative import seconds) from `python -X importtime` in fresh processes."""
    out = []
    for module in ("numpy", "gd_core", "gd_core.cli.main", "ui.cache", "ui.charts", "streamlit"):
        p = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], cwd=ROOT,
                           capture_output=True, text=True)
        lines = [ln for ln in p.stderr.splitlines() if ln.startswith("import time:")]
        if p.returncode != 0 or not lines:
            out.append((module, float("nan")))
            continue
        cumulative = int(re.split(r"\s*\|\s*", lines[-1])[1])  # the last line is the top-level module
        out.append((module, cumulative / 1e6))
    return out


class Best:
    """The fastest time and the largest peak RSS of a measurement's rounds."""

    def __init__(self):
        self.seconds, self.peak_mb, self.extra = float("inf"), 0.0, float("inf")

    def add(self, proc: Proc, extra: float = float("inf")):
        self.seconds = min(self.seconds, proc.seconds)
        self.peak_mb = max(self.peak_mb, proc.peak_mb)
        self.extra = min(self.extra, extra)


def measure(args, workdir: Path) -> tuple[list[str], list[tuple[str, bool, str]]]:
    """Runs the sections; returns the report's lines and the target checks (name, met, reading)."""
    n, d, c = args.n, args.d, args.classes
    data_mb = n * d * 4 / 2**20  # the float32 feature matrix, train + validation
    lines, checks = [], []
    out = workdir / "p.csv"
    cli, floor = Best(), Best()
    for _ in range(args.rounds):
        proc = run_process(cli_args(n, d, c, out))
        cli.add(proc, training_seconds(out))
        proc = run_process([sys.executable, "-c", FLOOR, str(n), str(d), str(c), str(NOISE_STD), str(LR), str(B)])
        floor.add(proc, float(proc.stdout.split()[0]))
    lines += [
        f"Headline command (N = {n:,}, D = {d}, C = {c}, float32, softmax B = {B}, 1 epoch); data {data_mb:,.0f} MB:",
        f"  whole CLI process      {cli.seconds:7.2f} s   peak RSS {cli.peak_mb:7,.0f} MB   "
        f"its training (wall_time_s) {cli.extra:.2f} s",
        f"  floor process          {floor.seconds:7.2f} s   peak RSS {floor.peak_mb:7,.0f} MB   "
        f"its training {floor.extra:.2f} s",
        f"  CLI / its training {cli.seconds / cli.extra:.1f}x; CLI / floor {cli.seconds / floor.seconds:.2f}x; "
        f"CLI - floor = {cli.seconds - floor.seconds:.2f} s",
    ]
    rss_cap = 1.5 * data_mb + 250
    checks += [
        ("whole CLI <= 3x its own training time", cli.seconds <= 3 * cli.extra, f"{cli.seconds / cli.extra:.1f}x"),
        ("whole CLI <= 1.5x the floor process", cli.seconds <= 1.5 * floor.seconds,
         f"{cli.seconds / floor.seconds:.2f}x"),
        ("CLI peak RSS <= 1.5x data + 250 MB", cli.peak_mb <= rss_cap,
         f"{cli.peak_mb:,.0f} MB vs {rss_cap:,.0f} MB ({(cli.peak_mb - 250) / data_mb:.2f}x data + 250 MB)"),
    ]

    csv = Path(args.csv_file) if args.csv_file else workdir / "data.csv"
    if not csv.exists():
        t0 = time.perf_counter()
        write_csv(csv, n, d, c)
        lines.append(f"\n(wrote {csv.name}: {n:,} rows x {d + 1} columns, {csv.stat().st_size / 2**20:,.0f} MB, "
                     f"in {time.perf_counter() - t0:.0f} s)")
    n_csv = sum(1 for _ in open(csv, "rb")) - 1 if args.csv_file else n
    csv_mb = n_csv * d * 4 / 2**20
    cli_csv, ours, plain = Best(), Best(), Best()
    for _ in range(args.rounds):
        proc = run_process(cli_args(n, d, c, out, csv))
        cli_csv.add(proc, training_seconds(out))
        proc = run_process([sys.executable, "-c", LOAD_OURS, str(csv)])
        ours.add(proc, float(proc.stdout.split()[0]))
        proc = run_process([sys.executable, "-c", LOAD_PANDAS, str(csv)])
        plain.add(proc, float(proc.stdout.split()[0]))
    lines += [
        f"\n--csv on {n_csv:,} rows x {d} features + label ({csv.stat().st_size / 2**20:,.0f} MB of text); "
        f"data {csv_mb:,.0f} MB as float32:",
        f"  whole CLI process      {cli_csv.seconds:7.2f} s   peak RSS {cli_csv.peak_mb:7,.0f} MB   "
        f"its training {cli_csv.extra:.2f} s",
        f"  load_csv_dataset       {ours.extra:7.2f} s   peak RSS {ours.peak_mb:7,.0f} MB   (import included)",
        f"  pandas.read_csv + to_numpy(float32) {plain.extra:.2f} s   peak RSS {plain.peak_mb:,.0f} MB",
        f"  CLI / its training {cli_csv.seconds / cli_csv.extra:.1f}x; "
        f"loading / pandas {ours.extra / plain.extra:.2f}x",
    ]
    csv_cap = 1.5 * csv_mb + 250
    checks += [
        ("CSV loading <= 1.5x pandas.read_csv + to_numpy", ours.extra <= 1.5 * plain.extra,
         f"{ours.extra / plain.extra:.2f}x"),
        ("--csv CLI peak RSS <= 1.5x data + 250 MB", cli_csv.peak_mb <= csv_cap,
         f"{cli_csv.peak_mb:,.0f} MB vs {csv_cap:,.0f} MB ({(cli_csv.peak_mb - 250) / csv_mb:.2f}x data + 250 MB)"),
    ]

    lines.append("\nImport times (python -X importtime, cumulative, fresh process):")
    lines += [f"  {module:<12} {seconds:6.3f} s" for module, seconds in import_times()]
    return lines, checks


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="N = 60,000, one round")
    ap.add_argument("--n", type=int, default=TARGET_SCALE[0], help="samples (train + validation)")
    ap.add_argument("--d", type=int, default=TARGET_SCALE[1])
    ap.add_argument("--classes", type=int, default=TARGET_SCALE[2])
    ap.add_argument("--rounds", type=int, default=2, help="alternating repetitions of each measurement")
    ap.add_argument("--csv-file", help="an existing CSV (N rows, columns x0.. and label) instead of writing one")
    a = ap.parse_args(argv)
    if a.quick:
        a.n, a.rounds = 60_000, 1
    for name, lo in (("n", 200), ("d", 1), ("classes", 2), ("rounds", 1)):
        if getattr(a, name) < lo:
            ap.error(f"--{name} must be an integer >= {lo}; got {getattr(a, name)}")
    return a


def main(argv=None) -> list[tuple[str, bool, str]]:
    from .bench_engine import header, targets_report

    args = parse_args(argv)
    print(header() + "\n", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        lines, checks = measure(args, Path(tmp))
    print("\n".join(lines))
    print(targets_report(checks, (args.n, args.d, args.classes) == TARGET_SCALE))
    return checks


if __name__ == "__main__":
    main()
