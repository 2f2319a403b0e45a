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
First paint (`--first-paint-repeats K`, default 3; `--first-paint-only` skips the rest): every page of
`ui.nav.PAGES` served by the home server (its path, e.g. /Loss_landscape), each load right after a load of the
one-chart page (the floor, served by its own server in the same run), timed in a new Chromium from navigation
start to the first chart drawn (a `.js-plotly-plot` with its main SVG) and to idle with every chart drawn; a page
that draws no chart by default (Runs, before an upload) is timed to idle. The first load of each page (cold
server caches) is reported apart; medians are over the later loads.
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
FIRST_PAINT_TARGET = 1.5  # each page's median time to its first chart / the one-chart page's
MINIMAL_PAGE = '''import plotly.graph_objects as go
import streamlit as st

st.title("One chart")
st.plotly_chart(go.Figure(go.Scatter(x=list(range(50)), y=[i * i for i in range(50)], mode="lines")), key="c")
'''
FIRST_CHART_JS = """() => {
    const seen = () => [...document.querySelectorAll(".js-plotly-plot")].some(
        p => p.offsetParent !== null && p.querySelector(".main-svg"));
    const timer = setInterval(() => {
        if (seen()) { window.__firstChartMs = performance.now(); clearInterval(timer); }
    }, 10);
}"""
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


def first_paint_load(pw, url: str) -> dict:
    """One load in a new browser process: seconds from navigation start to the first chart drawn (None for a page
    that draws none by default) and to idle (script run over, every chart it drew drawn)."""
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        page = browser.new_page(viewport=VIEWPORT)
        page.add_init_script(f"({FIRST_CHART_JS})()")
        page.goto(url, wait_until="commit", timeout=180_000)
        page.wait_for_function(READY_JS, arg=0, timeout=180_000, polling=20)
        charts = page.evaluate("document.querySelectorAll('.js-plotly-plot').length")
        page.wait_for_function(READY_JS, arg=charts, timeout=180_000, polling=20)
        page.wait_for_timeout(50)  # the first-chart timer ticks every 10 ms
        first_ms, idle_ms = page.evaluate("[window.__firstChartMs ?? null, performance.now()]")
        if page.locator("[data-testid='stException']").count():
            raise RuntimeError(f"{url}: {page.locator('[data-testid=stException]').first.inner_text()}")
    finally:
        browser.close()
    return {"first_s": None if first_ms is None else first_ms / 1000, "idle_s": idle_ms / 1000 - 0.05,
            "charts": charts}


def page_urls(home_url: str) -> list[tuple[str, str]]:
    """(label, URL) of every page in ui.nav.PAGES (its English name): a page's URL path is its file name minus "N_"
    and ".py"."""
    from ui.i18n import DEFAULT, translate
    from ui.nav import PAGES

    return [(translate(DEFAULT, key),
             home_url if path == "app.py" else f"{home_url}/{Path(path).stem.split('_', 1)[1]}") for path, key in PAGES]


def first_paint(pw, home_url: str, floor_url: str, repeats: int) -> list[str]:
    """The page-load table: each page against the one-chart floor page, loads alternating, in one run."""
    pages = page_urls(home_url)
    firsts = {label: first_paint_load(pw, url) for label, url in pages}  # cold server caches
    loads: dict[str, list[dict]] = {label: [] for label, _ in [("one-chart page (floor)", None), *pages]}
    for i in range(repeats):
        for label, url in pages if i % 2 == 0 else pages[::-1]:
            loads["one-chart page (floor)"].append(first_paint_load(pw, floor_url))
            loads[label].append(first_paint_load(pw, url))

    def when(r: dict) -> float:
        return r["idle_s"] if r["first_s"] is None else r["first_s"]

    med = {k: statistics.median(when(r) for r in v) for k, v in loads.items()}
    med_idle = {k: statistics.median(r["idle_s"] for r in v) for k, v in loads.items()}
    floor = med["one-chart page (floor)"]
    lines = [f"{repeats} cold-browser loads of each page, each right after a load of the floor page (median; the "
             f"floor's median is over all {repeats * len(pages)} of its loads). Target: every page <= "
             f"{FIRST_PAINT_TARGET}x the floor.", "",
             "| page | first load (s) | median to first chart (s) | x floor | median to idle (s) | charts |",
             "|---|---|---|---|---|---|"]
    for label, runs in loads.items():
        first = firsts.get(label)
        ok = "" if label.startswith("one-chart") else (" ✓" if med[label] <= FIRST_PAINT_TARGET * floor else " ✗")
        charts = runs[-1]["charts"]
        lines.append(f"| {label} | {'' if first is None else f'{when(first):.2f}'} | {med[label]:.2f} | "
                     f"{med[label] / floor:.2f}{ok} | {med_idle[label]:.2f} | "
                     f"{charts if charts else '0 (timed to idle)'} |")
    return lines


def write_first_paint(args) -> list[str]:
    """Serve the app and the floor page, time the first paint of every page, print (and write) the table."""
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="bench_first_paint_"))
    (tmp / "one_chart.py").write_text(MINIMAL_PAGE)
    home, home_url = start_server(ROOT / "app.py", ROOT, tmp / "home.log")
    try:
        floor, floor_url = start_server(tmp / "one_chart.py", tmp, tmp / "floor.log")
        try:
            with sync_playwright() as pw:
                first_paint_load(pw, floor_url)  # warms the OS file cache for chromium
                lines = first_paint(pw, home_url, floor_url, max(1, args.first_paint_repeats))
        finally:
            stop(floor)
    finally:
        stop(home)
    head = (f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average {os.getloadavg()[0]:.1f} at the end")
    print("\n".join([head, "", *lines]))
    if args.first_paint_out:
        Path(args.first_paint_out).write_text(
            "# First paint: every page against the one-chart page\n\n```\npython -m benchmarks.bench_dashboard "
            f"--first-paint-only --first-paint-repeats {args.first_paint_repeats} --first-paint-out "
            f"{args.first_paint_out}\n```\n\n" + "\n".join([head, "", *lines]) + "\n")
    return lines


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
    ap.add_argument("--first-paint-repeats", type=int, default=3, help="cold loads of each page for the "
                    "first-paint table (0: skip it)")
    ap.add_argument("--first-paint-only", action="store_true", help="only the first-paint table")
    ap.add_argument("--first-paint-out", default=None, help="also write the first-paint table to this file")
    args = ap.parse_args(argv)
    if args.repeats < 1 or args.first_paint_repeats < 0:
        ap.error("--repeats must be >= 1 and --first-paint-repeats >= 0")
    if args.first_paint_only:
        write_first_paint(args)
        return
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
            paint = first_paint(pw, home_url, min_url, args.first_paint_repeats) if args.first_paint_repeats else []
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
    if paint:
        lines += ["", "First paint, every page:", "", *paint]
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
