"""gd_core/__init__.py: the public names, imported on first use."""

import subprocess
import sys

import gd_core

PUBLIC = ["BatchSampler", "ConfigError", "DATASETS", "Dataset", "ExperimentConfig", "LOG_COLUMNS", "LR_SCALING",
          "OPTIMIZERS", "Optimizer", "PROBLEMS", "Results", "SCHEDULES", "build_dataset", "dataset_info",
          "gradient_check", "load_csv_dataset", "make_dataset", "make_optimizer", "make_problem", "make_schedule",
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
