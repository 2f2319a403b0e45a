"""Gradient Descent Lab's engine: problems with analytic gradients, data, batching, optimizers, runner.

Pure NumPy + pandas; no plotting, no printing. See docs/DESIGN.md for how the parts fit.
The names below are imported on first use (`gd_core.run_experiment` imports the runner and pandas then), so a
script that needs only the numeric core (`gd_core.problems`, `gd_core.loop`, ...) pays for NumPy alone.
"""

import importlib

_EXPORTS = {  # public name -> the module that defines it
    "BatchSampler": "batching", "sample_training_data": "batching",
    "ConfigError": "config", "ExperimentConfig": "config",
    "DATASETS": "datasets", "Dataset": "datasets", "dataset_info": "datasets", "load_csv_dataset": "datasets",
    "make_dataset": "datasets", "read_csv_columns": "datasets",
    "gradient_check": "gradients", "numerical_gradient": "gradients",
    "OPTIMIZERS": "optimizers", "Optimizer": "optimizers", "make_optimizer": "optimizers",
    "PROBLEMS": "problems", "make_problem": "problems",
    "LOG_COLUMNS": "results", "read_log_csv": "results", "summarize": "results", "to_csv": "results",
    "Results": "runner", "build_dataset": "runner", "run_experiment": "runner",
    "LR_SCALING": "schedules", "SCHEDULES": "schedules", "make_schedule": "schedules", "scale_lr": "schedules",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value  # once
    return value


def __dir__():
    return sorted({*globals(), *_EXPORTS})
