"""Many users at once: concurrent home-page sessions each get their own numbers, and no module keeps mutable state.

The shared run store (ui.cache.RunStore) is covered in tests/test_cache.py (copies, bounds, two sequential
sessions); here four sessions run at the same time in threads, each with a config no other test uses.
"""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from gd_core import ExperimentConfig, run_experiment
from ui import share

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = [  # small, different, and seeded apart from every other test's configs
    ExperimentConfig(n_samples=300, batch_sizes=(4, "full"), budget=2.0, data_seed=1001),
    ExperimentConfig(n_samples=400, batch_sizes=(1, 16), lrs=(0.05,), budget=1.0, data_seed=1002),
    ExperimentConfig(problem="least_squares", dataset="linear", n_samples=350, n_features=3, batch_sizes=(8,),
                     lrs=(0.02, 0.1), budget=2.0, data_seed=1003),
    ExperimentConfig(problem="logistic", dataset="moons", n_samples=250, optimizer="adam", lrs=(0.01,),
                     batch_sizes=(2, "full"), seeds=(3, 4), budget=1.0, data_seed=1004),
]


def _session(config: ExperimentConfig, out: dict, key: int) -> None:
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        for k, v in config.to_query().items():
            at.query_params[k] = v
        at.run()
        out[key] = (at.exception, at.warning, at.session_state["home_last"])
    except BaseException as e:  # a thread's failure must reach the test
        out[key] = e


def _numbers(summary: pd.DataFrame) -> pd.DataFrame:
    return summary.drop(columns=["wall_time_s"]).reset_index(drop=True)


def test_four_concurrent_sessions_each_see_their_own_solo_numbers():
    out: dict = {}
    threads = [threading.Thread(target=_session, args=(c, out, i)) for i, c in enumerate(CONFIGS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    for i, config in enumerate(CONFIGS):
        assert not isinstance(out[i], BaseException), out[i]
        exception, warnings, (seen_config, results, _) = out[i]
        assert not exception and not warnings
        assert seen_config == config
        solo = run_experiment(share.run_config(config))  # what the page runs: the config plus the host time limit
        pd.testing.assert_frame_equal(_numbers(results.summary), _numbers(solo.summary), check_exact=True)
        pd.testing.assert_frame_equal(results.log.drop(columns="wall_time_s"), solo.log.drop(columns="wall_time_s"),
                                      check_exact=True)


# -- no module-level mutable state -------------------------------------------------------------------------

MUTATORS = {"append", "extend", "insert", "update", "setdefault", "pop", "popitem", "clear", "add", "remove",
            "discard", "sort", "reverse", "__setitem__"}
CONTAINER_CALLS = {"list", "dict", "set", "OrderedDict", "defaultdict", "deque", "Counter"}


def _module_containers(tree: ast.Module) -> set[str]:
    """Names bound at module level to a list / dict / set (literal, comprehension or constructor call)."""
    names = set()
    for node in tree.body:
        targets, value = [], None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        mutable = isinstance(value, ast.List | ast.Dict | ast.Set | ast.ListComp | ast.DictComp | ast.SetComp) or (
            isinstance(value, ast.Call) and getattr(value.func, "id", getattr(value.func, "attr", None))
            in CONTAINER_CALLS)
        if mutable:
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _mutations(tree: ast.Module, names: set[str]) -> list[str]:
    """Places where one of `names` is changed in place, or rebound through `global`."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            found += [f"global {n} (line {node.lineno})" for n in node.names]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS \
                and isinstance(node.func.value, ast.Name) and node.func.value.id in names:
            found.append(f"{node.func.value.id}.{node.func.attr}() (line {node.lineno})")
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.Delete):
            targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
            for t in targets:
                if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id in names:
                    found.append(f"{t.value.id}[...] changed (line {node.lineno})")
    return found


def test_no_module_level_mutable_state_in_the_engine_or_the_ui():
    files = sorted([*(ROOT / "gd_core").glob("*.py"), *(ROOT / "ui").glob("*.py"), ROOT / "app.py",
                    *(ROOT / "pages").glob("*.py")])
    trees = {f: ast.parse(f.read_text(encoding="utf-8")) for f in files}
    problems = [f"{f.relative_to(ROOT)}: {m}" for f, tree in trees.items()
                for m in _mutations(tree, _module_containers(tree))]
    assert problems == [], "shared state across sessions:\n" + "\n".join(problems)


def test_the_scan_finds_what_it_looks_for():
    tree = ast.parse("SEEN = []\nCACHE = {}\ndef f(x):\n    global N\n    SEEN.append(x)\n    CACHE[x] = 1\n")
    names = _module_containers(tree)
    assert names == {"SEEN", "CACHE"}
    assert len(_mutations(tree, names)) == 3
