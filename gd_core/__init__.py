"""Gradient Descent Lab's engine: problems with analytic gradients, data, batching, optimizers, runner.

Pure NumPy + pandas; no plotting, no printing. See docs/DESIGN.md for how the parts fit.
"""

from .batching import BatchSampler, sample_training_data
from .config import ConfigError, ExperimentConfig
from .datasets import DATASETS, Dataset, dataset_info, load_csv_dataset, make_dataset, read_csv_columns
from .gradients import gradient_check, numerical_gradient
from .optimizers import OPTIMIZERS, Optimizer, make_optimizer
from .problems import PROBLEMS, make_problem
from .results import LOG_COLUMNS, read_log_csv, summarize, to_csv
from .runner import Results, build_dataset, run_experiment
from .schedules import LR_SCALING, SCHEDULES, make_schedule, scale_lr

__all__ = [
    "BatchSampler",
    "ConfigError",
    "DATASETS",
    "Dataset",
    "ExperimentConfig",
    "LOG_COLUMNS",
    "LR_SCALING",
    "OPTIMIZERS",
    "Optimizer",
    "PROBLEMS",
    "Results",
    "SCHEDULES",
    "build_dataset",
    "dataset_info",
    "gradient_check",
    "load_csv_dataset",
    "make_dataset",
    "make_optimizer",
    "make_problem",
    "make_schedule",
    "numerical_gradient",
    "read_csv_columns",
    "read_log_csv",
    "run_experiment",
    "sample_training_data",
    "scale_lr",
    "summarize",
    "to_csv",
]
