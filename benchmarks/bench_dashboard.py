"""Dashboard latency: the home page's charts in a cold headless Chromium vs a one-chart Streamlit page.

    python -m benchmarks.bench_dashboard [--repeats 5] [--out benchmarks/DASHBOARD.md]

Starts `streamlit run app.py` and a minimal page (one `st.plotly_chart` of a 50-point line, written to a temp
dir) on two free ports, then, alternating between them, launches a *new* Chromium process for every load
(`/usr/bin/chromium`, the launch args of tests/browser/conftest.py) and times `page.goto` until the page's
`.js-plotly-plot` charts are visible and drawn and no script run is going on. The first home load is reported
apart (it computes the default experiment on a cold server); the medians are over the later loads (server
cache warm, browser cold). Also: the default home experiment computed alone (`ui.cache.compute`, in this
process) and the server's peak RSS (VmHWM) after loading the home page. "browser CPU" is the CPU time all
Chromium processes spent from `goto` to ready: other jobs on the host inflate it far less than wall time, so it
is the steadier A/B signal on a busy machine. Same-run ratios; no assertions.
The notes'-scale preset (200,000 x 64, B = 256) is loaded twice by its share link after the alternation: the
first load computes it on the server (what Run does after picking the preset), the second finds it cached.
`--variant NAME=SCRIPT[@CHARTS]` (repeatable) also serves SCRIPT (run from the repo root, so it can import `ui`
or exec app.py) and loads it in the same alternation, waiting for CHARTS charts (default: as many as the home
page): a same-run A/B of a change against the home page.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from conftest import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, _free_port, _healthy  # noqa: E402
from conftest import stop_server as stop  # noqa: E402

HOME_CHARTS = 1  # app.py: the loss panels (the metric grid is drawn on request)
MINIMAL_PAGE = '''import plotly.graph_objects as go
import streamlit as st

st.title("One chart")
st.plotly_chart(go.Figure(go.Scatter(x=list(range(50)), y=[i * i for i in range(50)], mode="lines")), key="c")
'''
READY_JS = """(n) => {
    const app = document.querySelector("[data-testid='stApp']");
    if (!app || ["initial", "running", "rerunRequested"].includes(app.dataset.testScriptState)) return false;
    if (document.querySelector("[data-testid='stSkeleton']")) return false;
    const status = document.querySelector("[data-testid='stStatusWidget']");
    if (status && /Running/i.test(status.innerText)) return false;
    const plots = [...document.querySelectorAll(".js-plotly-plot")].filter(
        p => p.offsetParent !== null && p.querySelector(".main-svg"));
    return plots.length >= n;
}"""
STATS_JS = """() => {
    const plots = [...document.querySelectorAll(".js-plotly-plot")];
    const points = plots.reduce((s, p) => s + (p._fullData || []).reduce(
        (t, tr) => t + (tr._length || 0), 0), 0);
    const traces = plots.reduce((s, p) => s + (p.data || []).length, 0);
    const res = performance.getEntriesByType("resource");
    const js = res.filter(r => r.name.endsWith(".js"));
    const sum = (rs) => rs.reduce((s, r) => s + (r.encodedBodySize || 0), 0);
    const gl = document.querySelectorAll("canvas.gl-canvas-context, .gl-container canvas").length;
    return {charts: plots.length, traces, points, js_files: js.length, js_bytes: sum(js),
            all_bytes: sum(res), webgl_canvases: gl};
}"""


def start_server(script: Path, cwd: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true", "--server.port",
           str(port), "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 90
    while not _healthy(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"{script} did not start:\n{log.read_text()}")
        time.sleep(0.3)
    return proc, url


def rss_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of a process in MB, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def browser_cpu_s() -> float:
    """CPU seconds (user + system) used so far by the live Chromium processes started under this process.

    Unlike wall time, it hardly grows when other jobs share the cores: the better A/B signal on a busy host."""
    procs = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                head, rest = (d / "stat").read_text().rsplit(")", 1)
            except OSError:
                continue
            f = rest.split()
            procs[int(d.name)] = (int(f[1]), head.split("(", 1)[1], (int(f[11]) + int(f[12])))
    mine, grew = {os.getpid()}, True
    while grew:
        new = {pid for pid, (ppid, *_) in procs.items() if ppid in mine and pid not in mine}
        mine |= new
        grew = bool(new)
    ticks = sum(t for pid, (_, comm, t) in procs.items() if pid in mine and "chrom" in comm)
    return ticks / os.sysconf("SC_CLK_TCK")


def cold_load(pw, url: str, n_charts: int) -> dict:
    """One load in a new browser process: seconds from goto to charts drawn and idle, plus page stats."""
    t_launch = time.perf_counter()
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        page = browser.new_page(viewport=VIEWPORT)
        cpu0, t0 = browser_cpu_s(), time.perf_counter()
        page.goto(url, wait_until="commit", timeout=180_000)
        page.wait_for_selector("[data-testid='stApp']", timeout=180_000)
        t_app = time.perf_counter() - t0
        page.wait_for_function(READY_JS, arg=n_charts, timeout=180_000, polling=20)
        t_ready = time.perf_counter() - t0
        stats = page.evaluate(STATS_JS)
        stats["cpu_s"] = browser_cpu_s() - cpu0
        if page.locator("[data-testid='stException']").count():
            raise RuntimeError(f"{url}: {page.locator('[data-testid=stException]').first.inner_text()}")
    finally:
        browser.close()
    return {"launch_s": t0 - t_launch, "app_s": t_app, "ready_s": t_ready, **stats}


def compute_seconds(repeats: int) -> list[float]:
    """The default home experiment (what app.py runs on first load), computed alone, no cache."""
    from gd_core import ExperimentConfig
    from ui import cache, share

    config = share.run_config(ExperimentConfig())
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        cache.compute(config)
        times.append(time.perf_counter() - t0)
    return times


CSV_MEMORY = """
import io, sys
import numpy as np
from gd_core.data import csv as csv_data
rows, cols, strict = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "strict"
rng = np.random.default_rng(0)
header = ",".join([f"x{j}" for j in range(cols - 1)] + ["label"])
body = "\\n".join(",".join(f"{v:.4f}" for v in r) + f",{int(r[0] > 0) + int(r[1] > 0)}"
                  for r in rng.standard_normal((rows, cols - 1)))
data = (header + "\\n" + body + "\\n").encode()  # an upload: the bytes are in memory already
del body
def rss():
    return int(next(ln for ln in open("/proc/self/status") if ln.startswith("VmRSS")).split()[1]) / 1024
if strict:
    csv_data._fast_load = lambda *a: None  # the streaming reader declines: the strict one reads
strict_parse, ran = csv_data.strict_parse, []
csv_data.strict_parse = lambda *a, **k: ran.append(1) or strict_parse(*a, **k)  # which reader read it
before = rss()
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak (VmHWM) to the current RSS: generating the file is not counted
except OSError:
    pass
ds = csv_data.load_csv_dataset(io.BytesIO(data), "label")
peak = int(next(ln for ln in open("/proc/self/status") if ln.startswith("VmHWM")).split()[1]) / 1024
print(f"{len(data) / 2**20:.1f} {before:.0f} {peak:.0f} {ds.n_train + ds.n_val} {ds.n_features} {len(ran)}")
"""


def csv_memory(rows: int, cols: int) -> dict[str, list[float]]:
    """Peak RSS (MB) of loading a valid CSV upload, fast reader vs strict reader, each in a fresh process:
    {reader: [file MB, RSS before, peak RSS, rows, features, 1 if the strict reader read it else 0]}.

    The file is generated before the baseline is read, so its bytes are in `before` (as an upload's are);
    the peak (VmHWM) is reset after generating it."""
    out = {}
    for mode in ("fast", "strict"):
        res = subprocess.run([sys.executable, "-c", CSV_MEMORY, str(rows), str(cols), mode], cwd=ROOT,
                             capture_output=True, text=True, check=True)
        out[mode] = [float(v) for v in res.stdout.split()]
    return out


def notes_scale_url(home_url: str) -> str:
    """The home page's share link to the notes'-scale preset (200,000 x 64, B = 256, one epoch): loading it
    computes the preset, as pressing Run after picking it does."""
    from ui import presets, share

    return home_url.rstrip("/") + "/" + share.query_string(presets.PRESETS["notes_scale"].config)


def notes_scale_compute_seconds() -> float:
    """The notes'-scale preset computed alone (`ui.cache.compute`, this process, cold)."""
    from ui import cache, presets, share

    t0 = time.perf_counter()
    cache.compute(share.run_config(presets.PRESETS["notes_scale"].config))
    return time.perf_counter() - t0


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5, help="cold loads of each page (after the first)")
    ap.add_argument("--csv-rows", type=int, default=150_000, help="rows of the CSV upload (0: skip)")
    ap.add_argument("--csv-cols", type=int, default=41, help="columns of the CSV upload (features + label)")
    ap.add_argument("--out", default=None, help="also write the figures as Markdown to this file (its sections "
                    "from the first '## ' heading on are kept)")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=SCRIPT[@CHARTS]",
                    help="also load this page (a home-page variant) in the same alternation")
    args = ap.parse_args(argv)
    variants = [tuple(v.split("=", 1)) for v in args.variant]
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="bench_dashboard_"))
    (tmp / "one_chart.py").write_text(MINIMAL_PAGE)
    home, home_url = start_server(ROOT / "app.py", ROOT, tmp / "home.log")
    extra = []
    try:
        minimal, min_url = start_server(tmp / "one_chart.py", tmp, tmp / "minimal.log")
        extra.append(minimal)
        variant_urls = []
        for i, (name, script) in enumerate(variants):
            script, _, n_charts = script.partition("@")
            proc, url = start_server(Path(script).resolve(), ROOT, tmp / f"variant{i}.log")
            extra.append(proc)
            variant_urls.append((name, url, int(n_charts or HOME_CHARTS)))
        rss_start = rss_mb(home.pid)
        with sync_playwright() as pw:
            cold_min = cold_load(pw, min_url, 1)  # warms the OS file cache for chromium too
            first = cold_load(pw, home_url, HOME_CHARTS)
            rss_home = rss_mb(home.pid)
            firsts = {name: cold_load(pw, url, n) for name, url, n in variant_urls}  # their cold servers
            loads = {"home": [], "one-chart": [], **{name: [] for name, *_ in variant_urls}}
            for i in range(args.repeats):
                order = [("home", home_url, HOME_CHARTS), ("one-chart", min_url, 1), *variant_urls]
                for name, url, n in order if i % 2 == 0 else order[::-1]:
                    loads[name].append(cold_load(pw, url, n))
            # the notes' scale: the first load computes the preset (a cache miss), the second finds it cached
            notes = [cold_load(pw, notes_scale_url(home_url), HOME_CHARTS) for _ in range(2)]
        rss_end = rss_mb(home.pid)
    finally:
        for proc in extra:
            stop(proc)
        stop(home)
    comp = compute_seconds(3)
    notes_compute = notes_scale_compute_seconds()
    mem = csv_memory(args.csv_rows, args.csv_cols) if args.csv_rows else None

    med = {k: statistics.median(r["ready_s"] for r in v) for k, v in loads.items()}
    med_app = {k: statistics.median(r["app_s"] for r in v) for k, v in loads.items()}
    med_cpu = {k: statistics.median(r["cpu_s"] for r in v) for k, v in loads.items()}
    launch = statistics.median(r["launch_s"] for v in loads.values() for r in v)
    h, m = loads["home"][-1], loads["one-chart"][-1]
    lines = [
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{args.repeats} cold loads of each page, alternating (median); chromium launch ~{launch:.2f} s not counted",
        "",
        "| page | first load (s) | median load (s) | app shell (s) | browser CPU (s) | charts | traces | points "
        "| JS files | JS KB |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| home (`app.py`) | {first['ready_s']:.2f} | {med['home']:.2f} | {med_app['home']:.2f} | "
        f"{med_cpu['home']:.2f} | {h['charts']} | "
        f"{h['traces']} | {h['points']:,} | {h['js_files']} | {h['js_bytes'] / 1024:,.0f} |",
        f"| one-chart page | {cold_min['ready_s']:.2f} | {med['one-chart']:.2f} | {med_app['one-chart']:.2f} | "
        f"{med_cpu['one-chart']:.2f} | "
        f"{m['charts']} | {m['traces']} | {m['points']:,} | {m['js_files']} | {m['js_bytes'] / 1024:,.0f} |",
        *(f"| variant `{name}` | {firsts[name]['ready_s']:.2f} | {med[name]:.2f} | {med_app[name]:.2f} | "
          f"{med_cpu[name]:.2f} | "
          f"{v['charts']} | {v['traces']} | {v['points']:,} | {v['js_files']} | {v['js_bytes'] / 1024:,.0f} |"
          for name, v in ((name, loads[name][-1]) for name, *_ in variants)),
        "",
        f"- home / one-chart, median cold load: **{med['home'] / med['one-chart']:.2f}x** (target <= 1.5x); "
        f"first home load (computes the default on a cold server) / one-chart median: "
        f"{first['ready_s'] / med['one-chart']:.2f}x",
        f"- browser CPU seconds from goto to ready (all Chromium processes; less sensitive than wall time to "
        f"other jobs on the host), home / one-chart: {med_cpu['home'] / med_cpu['one-chart']:.2f}x",
        *(f"- variant `{name}` / one-chart, median cold load: **{med[name] / med['one-chart']:.2f}x**; "
          f"browser CPU {med_cpu[name] / med_cpu['one-chart']:.2f}x" for name, _ in variants),
        f"- the notes'-scale preset by its share link (200,000 x 64, B = 256, one epoch), cold browser: "
        f"{notes[0]['ready_s']:.2f} s to the chart when the server computes it (computed alone: "
        f"{notes_compute:.2f} s), {notes[1]['ready_s']:.2f} s when cached; "
        f"{notes[0]['ready_s'] / med['one-chart']:.1f}x / {notes[1]['ready_s'] / med['one-chart']:.1f}x the "
        "one-chart page",
        f"- default home experiment computed alone: median {statistics.median(comp):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in comp)}; target < 2 s)",
        f"- home server RSS: {rss_start[0]:.0f} MB at start, {rss_home[0]:.0f} MB after the first home load, "
        f"peak (VmHWM) {rss_end[1]:.0f} MB after {args.repeats + 1} home loads (target: fits 690 MB)",
    ]
    if mem:
        size, _, _, n, d = mem["fast"]
        n, d = int(n), int(d)
        lines.append(f"- CSV upload of {size:.1f} MB ({n:,} rows x {d + 1} columns), `load_csv_dataset` in a fresh "
                     f"process, RSS before -> peak: fast reader {mem['fast'][1]:.0f} -> {mem['fast'][2]:.0f} MB, "
                     f"strict reader {mem['strict'][1]:.0f} -> {mem['strict'][2]:.0f} MB "
                     f"({(mem['strict'][2] - mem['strict'][1]) / max(1.0, mem['fast'][2] - mem['fast'][1]):.1f}x "
                     "the fast reader's growth)")
    text = "\n".join(lines)
    print(text)
    if args.out:
        out = Path(args.out)
        old = out.read_text() if out.exists() else ""
        kept = old[old.find("\n## "):] if "\n## " in old else ""  # the hand-written sections
        out.write_text(
            "# Dashboard latency\n\n```\npython -m benchmarks.bench_dashboard --repeats "
            f"{args.repeats} --out {args.out}\n```\n\n{text}\n\n{__doc__.split(chr(10) * 2, 2)[2].rstrip()}\n"
            + kept)


if __name__ == "__main__":
    main()
