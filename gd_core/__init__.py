"""Gradient Descent Lab's engine: problems with analytic gradients, data, batching, optimizers, runner.

Pure NumPy + pandas; no plotting, no printing. See docs/DESIGN.md for how the parts fit.
The names below are imported on first use (`gd_core.run_experiment` imports the runner and pandas then), so a
script that needs only the numeric core (`gd_core.problems`, `gd_core.train.loop`, ...) pays for NumPy alone.
"""

import importlib

_EXPORTS = {  # public name -> the module that defines it
    "ConfigError": "config", "ExperimentConfig": "config",
    "LOG_COLUMNS": "results", "Results": "results", "read_log_csv": "results", "summarize": "results",
    "to_csv": "results",
    "Dataset": "data.dataset", "DATASETS": "data.synthetic", "dataset_info": "data.synthetic",
    "make_dataset": "data.synthetic", "load_csv_dataset": "data.csv", "read_csv_columns": "data.csv",
    "REAL_DATASETS": "data.real", "load_real_dataset": "data.real",
    "BatchSampler": "data.batching", "sample_training_data": "data.batching",
    "PROBLEMS": "problems", "make_problem": "problems",
    "gradient_check": "problems.gradcheck", "numerical_gradient": "problems.gradcheck",
    "OPTIMIZERS": "optim.optimizers", "Optimizer": "optim.optimizers", "make_optimizer": "optim.optimizers",
    "LR_SCALING": "optim.schedules", "SCHEDULES": "optim.schedules", "make_schedule": "optim.schedules",
    "scale_lr": "optim.schedules",
    "build_dataset": "train.runner", "run_experiment": "train.runner",
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
