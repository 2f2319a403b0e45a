"""The work budget: how big a request is, checked before anything runs, with a message that says how to shrink it.

One unit of work is one multiply-add on one parameter or feature of one example, roughly. A gradient step on a
batch of B costs about B * (n_params + n_features) (the gradient, plus gathering the batch), plus a fixed Python
overhead per step; a checkpoint measures loss, gradient and accuracy on the evaluation sets. The engine enforces
nothing by default (`run_experiment(max_work=None)`); a host passes its own budget (the dashboard:
`ui.share.HOST_MAX_WORK`). A CSV read from a path is bounded by `MAX_CSV_BYTES` and `MAX_CSV_ROWS` wherever it
comes from (the dashboard's uploads are further bounded by Streamlit's `server.maxUploadSize`).
"""

from __future__ import annotations

import os

from .batching import examples_after
from .config import MAX_SAMPLES, ConfigError, ExperimentConfig
from .csv_data import CSVError

STEP_OVERHEAD = 20_000  # work units one optimizer step costs beyond its arithmetic (~50-80 us of Python on 2 cores)
EVAL_PASSES = 3  # a checkpoint: loss and gradient, accuracy, validation loss
DATA_COPIES = 3  # the data and the generator's / standardisation's temporaries
STEP_ARRAYS = 4  # (rows, width) arrays alive in one step or checkpoint (2.4 measured for the MLP, rounded up)
MAX_CSV_ROWS = MAX_SAMPLES  # the same scale as generated data
MAX_CSV_BYTES = 1 << 30  # 1 GiB: the reader holds the text and its tokens in memory at once


def estimate_work(config: ExperimentConfig, n_train: int, n_features: int, n_params: int) -> float:
    """Work units of `config` on a training set of (n_train, n_features) with a problem of n_params.

    sum over runs of examples_processed * (n_params + n_features) + steps * STEP_OVERHEAD, plus the
    checkpoints' evaluation (as the runner sizes it) and one pass to make or read the data.
    """
    from .runner import eval_size, plan_runs, total_steps  # runner imports this module

    specs = plan_runs(config, n_train)
    per_example = n_params + n_features
    work = 0.0
    for s in specs:
        steps = total_steps(config, n_train, s.batch_size)
        work += examples_after(steps, n_train, s.batch_size, config.sampling) * per_example
        work += steps * STEP_OVERHEAD
    n_eval = min(n_train, eval_size(config, n_train, specs))
    n_val = round(n_train * config.val_fraction / max(1e-12, 1 - config.val_fraction))
    per_checkpoint = (n_eval + min(n_val, n_eval)) * per_example * EVAL_PASSES
    work += len(specs) * (config.n_checkpoints + 2) * per_checkpoint
    return work + (n_train + n_val) * n_features


def estimate_peak_bytes(config: ExperimentConfig, n_train: int, n_features: int, n_outputs: int) -> float:
    """Rough peak memory of a run: the data (with the generator's temporaries) plus the widest step.

    A step or checkpoint holds a few (rows, width) arrays at once: rows = the largest batch or evaluation set,
    width = inputs + outputs (+ the MLP's hidden layer). Measured: an MLP full-batch step holds ~2.4 of them.
    """
    from .runner import eval_size, plan_runs

    itemsize = 4 if config.dtype == "float32" else 8
    specs = plan_runs(config, n_train)
    n_val = round(n_train * config.val_fraction / max(1e-12, 1 - config.val_fraction))
    rows = max(max(s.batch_size for s in specs), min(n_train, eval_size(config, n_train, specs)))
    width = n_features + n_outputs + (config.hidden if config.problem == "mlp" else 0)
    return itemsize * (DATA_COPIES * (n_train + n_val) * n_features + STEP_ARRAYS * rows * width)


def check_work_budget(config: ExperimentConfig, n_train: int, n_params: int, max_work: float | None, *,
                      n_features: int = 0, n_outputs: int = 1, max_bytes: float | None = None) -> float:
    """Raise ConfigError if `config` would cost more than `max_work` units (or, given `max_bytes`, need more
    memory than that); returns the work estimate."""
    if max_bytes is not None:
        need = estimate_peak_bytes(config, n_train, n_features, n_outputs)
        if need > max_bytes:
            raise ConfigError(
                f"this experiment needs about {need / 2**20:,.0f} MB of memory, more than the {max_bytes / 2**20:,.0f} "
                "MB this host allows: use smaller batch sizes than the full set (or fewer samples), fewer features, "
                "fewer MLP hidden units or fewer evaluation examples, or run it with `python -m gd_core run ...`")
    work = estimate_work(config, n_train, n_features, n_params)
    if max_work is not None and work > max_work:
        runs = len(config.seeds) * len(config.resolved_batch_sizes(n_train)) * len(config.lrs)
        factor = _times(work / max_work)
        raise ConfigError(
            f"this experiment is too large for this host: about {work:.2g} units of work "
            f"({runs} run(s) x {config.budget:g} {config.budget_unit} on {n_train:,} training examples x "
            f"{n_params:,} parameters), {factor} the limit of {max_work:.2g}; shrink it about {factor}: "
            "fewer epochs (budget), seeds, batch sizes or learning rates, fewer samples or features, "
            "fewer checkpoints, or run it with `python -m gd_core run ...`")
    return work


def _times(factor: float) -> str:
    """A ratio for a message: 3.3x, 332x, 1.7e+09x (never 1663520000.0x)."""
    if factor < 100:
        return f"{factor:.1f}x"
    return f"{factor:.0f}x" if factor < 1000 else f"{factor:.2g}x"


def check_data_size(n_samples: int, n_features: int, max_values: int) -> None:
    """Raise ConfigError if the data matrix (n_samples, n_features) would hold more than max_values numbers."""
    if n_samples * n_features > max_values:
        raise ConfigError(
            f"n_samples x n_features must be at most {max_values:,} numbers on this host; got "
            f"{n_samples:,} x {n_features:,} = {n_samples * n_features:,}: use fewer samples or features, or "
            "run it with `python -m gd_core run ...`")


def check_csv_size(source) -> None:
    """Raise CSVError if the CSV at `source` (a path or a seekable buffer) is larger than MAX_CSV_BYTES."""
    if isinstance(source, str | os.PathLike):
        try:
            size = os.path.getsize(source)
        except OSError:
            return  # the loader reports a missing or unreadable file with its own message
    elif hasattr(source, "seek") and hasattr(source, "tell"):
        pos = source.tell()
        size = source.seek(0, os.SEEK_END)
        source.seek(pos)
    else:
        return
    if size > MAX_CSV_BYTES:
        raise CSVError(f"the CSV file must be at most {MAX_CSV_BYTES:,} bytes ({MAX_CSV_BYTES / 2**20:g} MB); "
                       f"got {size:,} bytes: use a sample of its rows")


def check_csv_rows(n_rows: int, max_rows: int = MAX_CSV_ROWS) -> None:
    """Raise CSVError if a CSV had more than max_rows data rows (read with max_rows + 1 to tell)."""
    if n_rows > max_rows:
        raise CSVError(f"the CSV file must have at most {max_rows:,} data rows; it has more: "
                          "use a sample of its rows")
