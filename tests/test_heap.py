"""ui/heap.py: the objects alive after the first page's imports are frozen out of the cyclic GC's scans, once, so
that Python's full collections stay cheap; Streamlit's full collection after every run is off."""

import json
import subprocess
import sys
import types
from pathlib import Path

from ui import heap

ROOT = Path(__file__).resolve().parents[1]


def test_freezes_once_after_preparing_and_collecting(monkeypatch):
    calls = []
    monkeypatch.setattr(heap.gc, "collect", lambda *a: calls.append("collect") or 0)
    monkeypatch.setattr(heap.gc, "freeze", lambda: calls.append("freeze"))
    freezer = heap.Freezer(prepare=lambda: calls.append("prepare"))
    assert freezer.freeze_once() is True and calls == ["prepare", "collect", "freeze"]  # garbage first
    monkeypatch.setitem(sys.modules, "gdlab_test_lazy_import", types.ModuleType("gdlab_test_lazy_import"))
    assert freezer.freeze_once() is False and calls == ["prepare", "collect", "freeze"]  # never again: sessions open


HOME_TWICE = """
import gc, json, sys
from streamlit.testing.v1 import AppTest
from ui import heap
if sys.argv[1] == "unprepared":
    heap.Freezer.__init__.__defaults__ = (lambda: None,)
for _ in range(2):
    assert not AppTest.from_file("app.py", default_timeout=120).run().exception
print(json.dumps({"frozen": gc.get_freeze_count(), "tracked": len(gc.get_objects())}))
"""


def home_twice(mode: str) -> dict:
    """In a fresh interpreter (this one's heap depends on the tests before): the objects frozen and the objects a
    full collection still traverses after two sessions of the home page."""
    out = subprocess.run([sys.executable, "-c", HOME_TWICE, mode], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(Path.home())})
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_after_home_page_runs_the_full_collection_skips_the_modules_and_the_chart_template():
    counts, unprepared = home_twice("prepared"), home_twice("unprepared")
    # measured: ~123,000 frozen, ~24,000 tracked (the lowest versions: ~108,000 and ~32,000); without the
    # freeze 0 frozen, ~147,000 tracked
    assert unprepared["frozen"] > 50_000 and unprepared["tracked"] < unprepared["frozen"] / 2, unprepared
    # build_lazy_parts covers what the home page's figure builds on first use: measured ~137,000 frozen, ~11,000
    # tracked. Fails if the page's figure starts making many objects on first use that the freeze misses.
    assert counts["tracked"] < 0.6 * unprepared["tracked"], (counts, unprepared)


def test_the_served_config_turns_off_the_collection_after_every_run():
    # read as `streamlit run` reads it, from the repository's .streamlit/config.toml: a misspelt key is ignored
    code = ("from streamlit import config; config.get_config_options(force_reparse=True); "
            "print(config.get_option('runner.postScriptGC'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(Path.home())})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_the_collector_frees_cycles_at_most_every_few_seconds():
    import gc
    import weakref

    class Node:
        pass

    now = [100.0]
    collector = heap.Collector(every_s=10.0, clock=lambda: now[0])
    was_enabled = gc.isenabled()
    gc.disable()  # only the collector may free the cycle
    try:
        node = Node()
        node.me = node  # a reference cycle, as a closed session's script globals are
        gone = weakref.ref(node)
        del node
        now[0] = 105.0
        assert collector.collect_if_due() is False and gone() is not None  # 5 s since it was made: not yet
        now[0] = 110.0
        assert collector.collect_if_due() is True and gone() is None  # due: collected
        now[0] = 115.0
        assert collector.collect_if_due() is False  # the next one 10 s after this one
        now[0] = 120.5
        assert collector.collect_if_due() is True
    finally:
        if was_enabled:
            gc.enable()


def test_every_page_run_asks_the_collector(monkeypatch):
    calls = []
    monkeypatch.setattr(heap, "collect_if_due", lambda: calls.append("due") or False)
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception and calls == ["due"]
