"""gd_core/__init__.py: the public names, imported on first use."""

import subprocess
import sys

import gd_core

PUBLIC = ["BatchSampler", "ConfigError", "DATASETS", "Dataset", "ExperimentConfig", "LOG_COLUMNS", "LR_SCALING",
          "OPTIMIZERS", "Optimizer", "PROBLEMS", "REAL_DATASETS", "Results", "SCHEDULES", "build_dataset",
          "dataset_info", "gradient_check", "load_csv_dataset", "load_real_dataset", "make_dataset", "make_optimizer",
          "make_problem", "make_schedule",
          "numerical_gradient", "read_csv_columns", "read_log_csv", "run_experiment", "sample_training_data",
          "scale_lr", "summarize", "to_csv"]


def test_public_names_are_unchanged_and_resolve():
    assert gd_core.__all__ == PUBLIC
    from gd_core.train import runner
    assert gd_core.run_experiment is runner.run_experiment
    assert set(PUBLIC) <= set(dir(gd_core))
    namespace = {}
    exec("from gd_core import *", namespace)
    assert all(name in namespace for name in PUBLIC)
    try:
        gd_core.no_such_name  # noqa: B018
    except AttributeError as e:
        assert "no_such_name" in str(e)
    else:
        raise AssertionError("gd_core.no_such_name resolved")


def test_the_numeric_core_imports_numpy_alone():
    code = ("import sys, gd_core, gd_core.train.loop, gd_core.problems, gd_core.data.batching, "
            "gd_core.optim.optimizers, gd_core.optim.schedules; "
            "print(sorted(m for m in ('pandas', 'scipy', 'threadpoolctl') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# What each part of gd_core may import (docs/DESIGN.md draws it): nothing against these arrows.
MAY_IMPORT = {
    "data": set(), "problems": set(), "optim": set(),
    "config": {"data", "optim", "problems"},
    "results": {"config"},
    "fast": {"problems"},
    "train": {"config", "results", "data", "problems", "optim", "fast"},
    "science": {"config", "results", "data", "problems", "optim", "train"},
    "cli": {"config", "results", "science", "train"},
    "__main__": {"cli"},
    "__init__": set(),  # the public names are imported by name on first use (importlib)
}


def _engine_imports():
    """[(module, imported module, imported name, inside a function)] of every `from ... import` in gd_core."""
    import ast
    from pathlib import Path

    root = Path(gd_core.__file__).parent
    modules = {}
    for path in root.rglob("*.py"):
        parts = ("gd_core", *path.relative_to(root).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    found = []
    for name, path in modules.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        local = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
                 for n in ast.walk(f)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import) and any(a.name.startswith("gd_core") for a in node.names):
                raise AssertionError(f"{name}: use `from ... import` for engine modules")
            if not isinstance(node, ast.ImportFrom) or not (node.level or node.module.startswith("gd_core")):
                continue
            base = package[:len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{target}.{alias.name}"
                found.append((name, full if full in modules else target, alias.name, id(node) in local))
    return modules, found


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_the_engine_imports_only_along_its_layout():
    modules, imports = _engine_imports()
    assert set(MAY_IMPORT) >= {_part(m) for m in modules}, "a new part of gd_core: add it to MAY_IMPORT and DESIGN.md"
    against = [(m, t) for m, t, _, _ in imports
               if _part(m) != _part(t) and _part(t) not in MAY_IMPORT[_part(m)]]
    assert not against, f"imports against docs/DESIGN.md's arrows: {against}"
    private = [(m, t, n) for m, t, n, _ in imports if n.startswith("_") and t != m]
    assert not private, f"modules importing another module's private name: {private}"
    in_functions = [(m, t) for m, t, _, local in imports if local]
    assert not in_functions, f"imports inside functions (move the code instead): {in_functions}"
    graph = {m: {t for s, t, _, _ in imports if s == m and t in modules and t != m} for m in modules}
    done, path = set(), []

    def visit(m):
        assert m not in path, f"import cycle: {' -> '.join(path[path.index(m):] + [m])}"
        if m in done:
            return
        path.append(m)
        for t in sorted(graph[m]):
            visit(t)
        path.pop()
        done.add(m)

    for m in sorted(modules):
        visit(m)
