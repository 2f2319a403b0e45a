"""All benchmarks in one command: the engine table, then the dashboard latency figures.

    python -m benchmarks [bench_engine options] [--dashboard-repeats K] [--no-dashboard]

Engine options (`--quick`, `--problems`, `--batch-sizes`, ...) go to `benchmarks.bench_engine`; the dashboard
part (`benchmarks.bench_dashboard`, needs /usr/bin/chromium and Playwright) runs K cold loads per page.
"""

from __future__ import annotations

import argparse

from . import bench_engine


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0], add_help=False)
    ap.add_argument("--no-dashboard", action="store_true", help="skip the dashboard latency part")
    ap.add_argument("--dashboard-repeats", type=int, default=5, help="cold loads of each page (default 5)")
    ap.add_argument("-h", "--help", action="store_true")
    own, rest = ap.parse_known_args(argv)
    if own.help:
        ap.print_help()
        print("\nengine options:")
        bench_engine.parse_args(["--help"])
    if own.dashboard_repeats < 1:
        ap.error(f"--dashboard-repeats must be an integer >= 1; got {own.dashboard_repeats}")
    bench_engine.main(rest)
    if not own.no_dashboard:
        from . import bench_dashboard  # imports Playwright: only when the part runs

        print("\n# Dashboard latency\n", flush=True)
        bench_dashboard.main(["--repeats", str(own.dashboard_repeats)])


if __name__ == "__main__":
    main()
