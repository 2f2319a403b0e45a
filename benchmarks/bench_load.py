"""Load on one dashboard server, and sweep speed-up on a Dask cluster (a script, not a test).

    python -m benchmarks.bench_load [--sizes 1,10,30,100] [--configs both|identical|distinct] [--timeout 240]
                                    [--floor] [--repeats 1] [--root PATH]
                                    [--no-load|--no-warm|--no-light|--no-dask|--no-sweep]

Load: N websocket sessions on loopback (Streamlit's own protocol: a `rerun_script` BackMsg, ForwardMsgs back) open
the home page at once, all with the same config or each with its own (`?data_seed=k`), against a fresh
`streamlit run app.py` (cold caches). Reported: time to each session's first chart, the server's CPU seconds and
peak RSS over the scenario, and the sessions whose connection dropped (the client pings every 5 s and gives up
after 20 s without an answer). Every scenario stops by itself after --timeout seconds. Then what one further
identical session costs a warm server (its config computed, its figure built): the server's CPU seconds over
rounds of N sessions at once, per session. With --floor, both parts also serve the floor page (`FLOOR_PAGE`: the
same run through the same cache, one chart of it, the same heap freeze, and nothing else) in the same way, so that
the home page's ratio and per-session cost stand next to the lowest a Streamlit page can reach for them. A
fresh server's ratio is noisy: --repeats R measures each scenario R times in turns and reports the median ratio
and its range. Then a light request's time to first chart alone and while a heavy one runs, and the scaling
page's sweep by 1 and 10 sessions with and without a Dask cluster (a `dask scheduler` and two `dask worker`
processes on loopback) behind the app.

Sweep: a steps-to-target sweep whose batch sizes each train for >= 1 s, serially in this process and on a
2-process LocalCluster; the per-task overhead from many empty groups; a paper estimate for 16 and 64 workers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the checkout whose app.py is served (--root: another, for an A/B)
PING_INTERVAL_S, PING_TIMEOUT_S = 5, 20
HEAVY_QUERY = {"n_samples": "200000", "budget": "50"}  # the host fits it to its work budget: its largest request
HOME_QUERY = {"data_seed": "1000"}  # the identical sessions' config: the default one, its own data seed
# The floor for "N identical sessions cost the CPU of one": the home page's run, computed once for all sessions by the
# same cache, and its loss chart from the same figure store, after the same heap freeze; no other element.
FLOOR_PAGE = """
import streamlit as st

from ui import cache, charts, heap, share
from ui.figure_cache import cached_figure

heap.freeze_imported_objects()
config, _ = share.read_query({k: st.query_params.get_all(k) for k in st.query_params})
run = cache.session_run(share.run_config(config))
st.plotly_chart(cached_figure("loss_panels", run.results.log, charts.playable_loss_panels, df_digest=run.log_digest,
                              show_batch_loss=False, log_y=False, smoothing=0.0, band="minmax"), key="chart_loss")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            return r.read().strip() == b"ok"
    except OSError:
        return False


@contextlib.contextmanager
def server(env: dict | None = None, script: str = "app.py"):
    """A fresh `streamlit run app.py` (or `script`, run from the checkout's folder: its .streamlit/config.toml) on a
    free port: yields (port, psutil.Process)."""
    import psutil

    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 60
        while not healthy(port):
            if proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError("the streamlit server did not start")
            time.sleep(0.3)
        yield port, psutil.Process(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Usage:
    """The server's CPU seconds and peak RSS while the block runs (RSS sampled every 0.1 s)."""

    def __init__(self, process):
        self.process, self.peak_mb, self._stop = process, 0.0, threading.Event()

    def __enter__(self):
        t = self.process.cpu_times()
        self.cpu0 = t.user + t.system
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.1):
            with contextlib.suppress(Exception):
                self.peak_mb = max(self.peak_mb, self.process.memory_info().rss / 2**20)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        t = self.process.cpu_times()
        self.cpu_s = t.user + t.system - self.cpu0


async def session(port: int, query: dict, page: str = "", chart_key: str | None = None,
                  timeout: float = 240) -> float | None:
    """Seconds from connecting to the first plotly chart (or the one whose id holds `chart_key`); None if the
    connection dropped or the time ran out."""
    from urllib.parse import urlencode

    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.asyncio.client import connect

    start = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            async with connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"],
                               ping_interval=PING_INTERVAL_S, ping_timeout=PING_TIMEOUT_S, max_size=2**28) as ws:
                msg = BackMsg()
                msg.rerun_script.query_string = urlencode(query)
                msg.rerun_script.page_name = page
                await ws.send(msg.SerializeToString())
                async for data in ws:
                    fwd = ForwardMsg.FromString(data)
                    if fwd.WhichOneof("type") == "script_finished" and chart_key is not None:
                        # what a browser's st.fragment(run_every=1) timer does (here a whole rerun, once the
                        # script is idle): a sweep on the Dask cluster is polled until it is done
                        await asyncio.sleep(1.0)
                        await ws.send(msg.SerializeToString())
                        continue
                    if fwd.WhichOneof("type") != "delta" or fwd.delta.WhichOneof("type") != "new_element":
                        continue
                    element = fwd.delta.new_element
                    if element.WhichOneof("type") == "plotly_chart" and (
                            chart_key is None or chart_key in element.plotly_chart.id):
                        return time.perf_counter() - start
    except (TimeoutError, OSError, Exception):  # noqa: BLE001 - a dropped or timed-out session counts as None
        return None
    return None


def run_sessions(port, queries, **kw) -> list[float | None]:
    async def all_of():
        return await asyncio.gather(*(session(port, q, **kw) for q in queries))

    return asyncio.run(all_of())


def summary(times: list[float | None]) -> str:
    ok = sorted(t for t in times if t is not None)
    if not ok:
        return f"0/{len(times)} answered"
    return (f"{len(ok)}/{len(times)} answered, first chart median {statistics.median(ok):.2f} s, "
            f"max {ok[-1]:.2f} s")


def load_part(sizes, timeout, modes=("identical", "distinct"), floor: str | None = None,
              repeats: int = 1) -> list[str]:
    """`floor`: the floor page's path, served as a further "identical (floor page)" scenario. `repeats`: each
    scenario and size that many times, in turns (a fresh server each time), for the median of the ratios."""
    lines = ["## Home page: N sessions at once (fresh server each)", "",
             "| N | configs | answered | median s | max s | server CPU s | CPU s / session | peak RSS MB |",
             "|---|---|---|---|---|---|---|---|"]
    cpu = {}  # (mode, n) -> server CPU seconds of each repeat
    scenarios = [(mode, "app.py") for mode in modes] + ([("identical (floor page)", floor)] if floor else [])
    for _ in range(repeats):
        for mode, script in scenarios:
            for n in sizes:
                queries = [HOME_QUERY if mode != "distinct" else {"data_seed": str(1000 + k)} for k in range(n)]
                with server(script=script) as (port, proc), Usage(proc) as use:
                    times = run_sessions(port, queries, timeout=timeout)
                ok = sorted(t for t in times if t is not None)
                med = f"{statistics.median(ok):.2f}" if ok else "-"
                mx = f"{ok[-1]:.2f}" if ok else "-"
                lines.append(f"| {n} | {mode} | {len(ok)}/{n} | {med} | {mx} | {use.cpu_s:.2f} | "
                             f"{use.cpu_s / n:.2f} | {use.peak_mb:.0f} |")
                cpu.setdefault((mode, n), []).append(use.cpu_s)
                print(lines[-1], flush=True)
    lines.append("")
    for n in sizes:
        if n > 1 and 1 in sizes:
            pairs = {mode: list(zip(cpu[mode, n], cpu[mode, 1], strict=True)) for mode, _ in scenarios}
            ratios = {mode: [c / one for c, one in pairs[mode]] for mode in pairs}
            further = {mode: [1000 * (c - one) / (n - 1) for c, one in pairs[mode]] for mode in pairs}
            lines.append(f"- N = {n}: server CPU " + "; ".join(
                f"{mode} {_median_range(ratios[mode], '{:.2f}', 'x')}" for mode, _ in scenarios)
                + " that of one session; each further session "
                + "; ".join(f"{mode} {_median_range(further[mode], '{:.0f}', ' ms')}" for mode, _ in scenarios))
    return lines


def _median_range(values: list[float], fmt: str, unit: str) -> str:
    """"1.30x" for one value; "1.30x (median of 5: 1.21-1.45x)" for several."""
    med = fmt.format(statistics.median(values)) + unit
    if len(values) == 1:
        return med
    return f"{med} (median of {len(values)}: {fmt.format(min(values))}-{fmt.format(max(values))}{unit})"


def warm_part(sizes, timeout, rounds: int = 3, floor: str | None = None) -> list[str]:
    """On one server: a first session computes the home page's config; then rounds of N identical sessions at
    once, each a hit (run, figure, summary shared): the server's CPU per further session. `floor`: the floor
    page's path, measured the same way on a server of its own."""
    query = HOME_QUERY
    lines = ["## Home page: what one further identical session costs a warm server", "",
             "| page | N at once | rounds | answered | median s | server CPU ms / session (each round) |",
             "|---|---|---|---|---|---|"]
    firsts = []
    for page, script in [("home", "app.py")] + ([("floor page", floor)] if floor else []):
        with server(script=script) as (port, proc):
            with Usage(proc) as first:
                run_sessions(port, [query], timeout=timeout)
            firsts.append(f"{page} {first.cpu_s:.2f} s")
            run_sessions(port, [query] * 2, timeout=timeout)  # a first hit: anything lazy on a hit is done
            for n in sizes:
                per, ok = [], []
                for _ in range(rounds):
                    with Usage(proc) as use:
                        times = run_sessions(port, [query] * n, timeout=timeout)
                    ok += [t for t in times if t is not None]
                    per.append(1000 * use.cpu_s / n)
                med = f"{statistics.median(ok):.2f}" if ok else "-"
                lines.append(f"| {page} | {n} | {rounds} | {len(ok)}/{n * rounds} | {med} | "
                             + ", ".join(f"{v:.0f}" for v in per) + f" (median {statistics.median(per):.0f}) |")
                print(lines[-1], flush=True)
    lines += ["", "- the first session (computes the run, builds the figure), server CPU: " + "; ".join(firsts)]
    return lines


def light_heavy_part(timeout) -> list[str]:
    with server() as (port, _):
        alone = [run_sessions(port, [{"data_seed": str(2000 + k)}], timeout=timeout)[0] for k in range(3)]

        async def both():
            heavy = asyncio.ensure_future(session(port, {**HEAVY_QUERY, "data_seed": "3000"}, timeout=timeout))
            await asyncio.sleep(2.0)  # the heavy one is training
            light = await asyncio.gather(*(session(port, {"data_seed": str(2100 + k)}, timeout=timeout)
                                           for k in range(1)))
            return light[0], await heavy

        light, heavy = asyncio.run(both())
    base = statistics.median([t for t in alone if t is not None])
    return ["## A light request while a heavy one runs", "",
            f"- light alone (median of 3 distinct configs): {base:.2f} s",
            f"- light while the heavy one trains: {light:.2f} s = **{light / base:.2f}x** alone "
            f"(target <= 2x); the heavy one took {heavy:.2f} s" if light and heavy else
            f"- light while heavy: {light}, heavy: {heavy} (a session did not answer)"]


@contextlib.contextmanager
def dask_cluster():
    """`dask scheduler` + two `dask worker` processes on loopback: yields the address."""
    folder = tempfile.mkdtemp(prefix="gdlab-dask-")
    file = Path(folder) / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": folder, "env": env}
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                               "--port", "0", "--dashboard-address", ":0", "--scheduler-file", str(file)], **quiet)]
    try:
        while not file.exists():
            time.sleep(0.1)
        time.sleep(0.3)
        address = json.loads(file.read_text())["address"]
        procs += [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
                                    str(file), "--nthreads", "1", "--no-dashboard"], **quiet) for _ in range(2)]
        yield address
    finally:
        for p in procs[::-1]:
            p.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(20)


def dask_part(timeout) -> list[str]:
    lines = ["## Scaling page sweep: N identical sessions, with and without a Dask cluster", "",
             "| N | where | answered | median s to the steps chart | max s | server CPU s | peak RSS MB |",
             "|---|---|---|---|---|---|---|"]
    for where in ("this server", "Dask (2 workers)"):
        with contextlib.ExitStack() as stack:
            env = {}
            if where.startswith("Dask"):
                env["GDLAB_DASK_SCHEDULER"] = stack.enter_context(dask_cluster())
            for n in (1, 10):
                with server(env) as (port, proc), Usage(proc) as use:
                    times = run_sessions(port, [{}] * n, page="Batch_size_scaling", chart_key="sweep_steps",
                                         timeout=timeout)
                ok = sorted(t for t in times if t is not None)
                lines.append(f"| {n} | {where} | {len(ok)}/{n} | {statistics.median(ok):.2f} | {ok[-1]:.2f} | "
                             f"{use.cpu_s:.1f} | {use.peak_mb:.0f} |" if ok else f"| {n} | {where} | 0/{n} | - | - |"
                             f" {use.cpu_s:.1f} | {use.peak_mb:.0f} |")
                print(lines[-1], flush=True)
    return lines


def sweep_part() -> list[str]:
    from gd_core import ExperimentConfig, run_experiment
    from gd_core.cli.executor import open_executor, run_groups
    from gd_core.cli.sweep import sweep_on
    from gd_core.science.scaling import SweepSpec, run_sweep

    base = ExperimentConfig(problem="least_squares", dataset="linear", n_samples=25_000, n_features=32, noise=0.3,
                            target_loss=0.06, batch_sizes=(1,), lrs=(0.01,))
    spec = SweepSpec(base, (1, 2, 4, 8, 16, 32, 64, 128, 256, 512), (0.003, 0.01, 0.03, 0.1, 0.3, 1.0), epochs=1.0,
                     min_steps=2000, max_steps=20000, n_checkpoints=100)
    group_s = {}

    def timed_run(config):
        t = time.perf_counter()
        log = run_experiment(config).log
        group_s[config.batch_sizes[0]] = time.perf_counter() - t
        return log

    tiny = [base.replace(batch_sizes=(1,), budget_unit="steps", budget=1.0, n_checkpoints=1, n_samples=200,
                         seeds=(k,)) for k in range(40)]
    t = time.perf_counter()
    ex = open_executor(scheduler="local:2")
    t_start = time.perf_counter() - t
    t_serial, t_cluster = [], []
    try:
        for _ in range(2):  # interleaved, so that a change in the machine's other load hits both alike
            t = time.perf_counter()
            serial = run_sweep(spec, run=timed_run)
            t_serial.append(time.perf_counter() - t)
            t = time.perf_counter()
            spread = sweep_on(ex, spec)
            t_cluster.append(time.perf_counter() - t)
        t = time.perf_counter()
        run_groups(ex, tiny, tiny[0])
        t_tiny = time.perf_counter() - t
    finally:
        ex.close()
    t = time.perf_counter()
    for c in tiny:
        run_experiment(c)
    t_tiny_serial = time.perf_counter() - t
    t_serial, t_cluster = min(t_serial), min(t_cluster)
    cols = [c for c in serial.log.columns if c != "wall_time_s"]
    same = serial.log[cols].equals(spread.log[cols])
    work = sum(group_s.values())
    # what a task costs on the cluster beyond its own run: 2 workers' time minus the same runs done serially
    overhead = max(0.0, (2 * t_tiny - t_tiny_serial) / len(tiny))
    lines = ["## Sweep speed-up: serial vs a 2-process LocalCluster", "",
             f"- {len(spec.batch_sizes)} batch sizes x {len(spec.lrs)} lrs; each batch size's group trains for "
             + ", ".join(f"B={b}: {s:.1f} s" for b, s in group_s.items()),
             f"- serial {t_serial:.1f} s; cluster {t_cluster:.1f} s (best of 2 each, interleaved; start-up "
             f"{t_start:.1f} s not counted): "
             f"**{t_serial / t_cluster:.2f}x** (target >= 1.8x); logs equal bar wall_time_s: {same}",
             f"- per-task overhead: {len(tiny)} one-step groups took {t_tiny:.2f} s on 2 workers, "
             f"{t_tiny_serial:.2f} s "
             f"serially: {1000 * overhead:.0f} ms a task of a worker's time beyond the run itself (submit, schedule, "
             "the config as JSON, the stop flag, the log back)", ""]
    for w in (2, 16, 64):
        # groups are indivisible: the largest one bounds the time; otherwise the work spreads over w workers
        est = max(max(group_s.values()), work / w) + len(group_s) * overhead / w
        lines.append(f"- paper estimate, {w} workers: max(largest group {max(group_s.values()):.1f} s, "
                     f"work/{w} = {work / w:.1f} s) + {len(group_s)} x {1000 * overhead:.0f} ms/{w} = {est:.1f} s "
                     f"-> {t_serial / est:.1f}x")
    lines.append("- one batch size is one task, so a sweep never uses more workers than it has batch sizes; past "
                 "that, the largest batch size's group (here the small batches: most steps) sets the time")
    return lines


def main(argv=None) -> None:
    global ROOT
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_load", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1,10,30,100", help="session counts (comma list, each 1 to 200)")
    ap.add_argument("--configs", choices=("both", "identical", "distinct"), default="both",
                    help="the load part's sessions: all with the same config, each its own, or both scenarios")
    ap.add_argument("--timeout", type=float, default=240, help="seconds before a scenario gives up (10 to 3600)")
    ap.add_argument("--root", type=Path, default=ROOT, help="serve the app.py of this checkout (default: this one)")
    ap.add_argument("--repeats", type=int, default=1,
                    help="the load part's scenarios this many times each, in turns (1 to 20): the median ratio")
    ap.add_argument("--floor", action="store_true",
                    help="the load and warm parts also serve the floor page (FLOOR_PAGE, with --root's modules)")
    for part in ("load", "warm", "light", "dask", "sweep"):
        ap.add_argument(f"--no-{part}", action="store_true", help=f"skip the {part} part")
    args = ap.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        ap.error(f"--sizes must be a comma list of integers in [1, 200]; got {args.sizes!r}")
    if not all(1 <= s <= 200 for s in sizes):
        ap.error(f"--sizes must be a comma list of integers in [1, 200]; got {args.sizes!r}")
    if not 1 <= args.repeats <= 20:
        ap.error(f"--repeats must be an integer in [1, 20]; got {args.repeats}")
    if not 10 <= args.timeout <= 3600:
        ap.error(f"--timeout must be in [10, 3600] seconds; got {args.timeout:g}")
    if not (args.root / "app.py").is_file():
        ap.error(f"--root must be a checkout of this project (a folder with app.py); got {args.root}")
    ROOT = args.root.resolve()
    out = [f"# Load benchmark ({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, load average "
           f"{os.getloadavg()[0]:.1f} at the start; app: {ROOT})", ""]
    floor = None
    if args.floor:
        folder = tempfile.TemporaryDirectory(prefix="gdlab-floor-")  # removed when main() returns
        floor = str(Path(folder.name) / "floor_page.py")
        Path(floor).write_text(FLOOR_PAGE)
    if not args.no_load:
        modes = ("identical", "distinct") if args.configs == "both" else (args.configs,)
        out += load_part(sizes, args.timeout, modes, floor, args.repeats) + [""]
    if not args.no_warm:
        out += warm_part(sizes, args.timeout, floor=floor) + [""]
    if not args.no_light:
        out += light_heavy_part(args.timeout) + [""]
    if not args.no_dask:
        out += dask_part(args.timeout) + [""]
    if not args.no_sweep:
        out += sweep_part() + [""]
    print("\n".join(out))


if __name__ == "__main__":
    main()
