"""The work budget: how big a request is, checked before anything runs, with a message that says how to shrink it.

One unit of work is one multiply-add on one parameter or feature of one example, roughly. A gradient step on a
batch of B costs about B * (n_params + n_features) (the gradient, plus gathering the batch), plus a fixed Python
overhead per step; a checkpoint measures loss, gradient and accuracy on the evaluation sets. The engine enforces
nothing by default (`run_experiment(max_work=None)`); a host passes its own budget (the dashboard:
`ui.share.HOST_MAX_WORK`). A CSV read from a path is bounded by `MAX_CSV_BYTES` and `MAX_CSV_ROWS` wherever it
comes from (the dashboard's uploads are further bounded by Streamlit's `server.maxUploadSize`).

Memory: `estimate_peak_bytes` is a request's peak; the command line compares it with what this process can still
get (`available_memory`: the machine's MemAvailable, the process limits `ulimit -v` / `ulimit -d`, the cgroup's
limit) before anything is allocated (`check_memory`), and the dashboard with its fixed `ui.share.HOST_MAX_BYTES`.
Just over 300 lines: the work and memory models and the refusals that quote them stay together.
"""

from __future__ import annotations

import math
import os
import resource

from ..config import MAX_SAMPLES, ConfigError, ExperimentConfig
from ..data.batching import examples_after
from ..data.csv import MAX_AUTO_CLASSES as CSV_CLASSES  # a CSV classifier's outputs, sized before it is read
from ..data.csv import CSVError
from ..data.synthetic import dataset_info
from .checkpoints import max_checkpoints
from .plan import eval_size, plan_runs, total_steps

STEP_OVERHEAD = 20_000  # work units one optimizer step costs beyond its arithmetic (its Python overhead)
EVAL_PASSES = 3  # a checkpoint: loss and gradient, accuracy, validation loss
STEP_ARRAYS = 4  # (rows, width) arrays alive in one step or checkpoint (the MLP's full-batch step, rounded up)
WORKING_RESERVE = 64 * 2**20  # beyond the estimate: OpenBLAS's buffers, thread stacks, pandas' parse blocks
MAX_CSV_ROWS = MAX_SAMPLES  # the same scale as generated data
MAX_CSV_BYTES = 1 << 30  # 1 GiB: the strict reader (for files the streaming one leaves to it) holds the text in memory


def estimate_work(config: ExperimentConfig, n_train: int, n_features: int, n_params: int) -> float:
    """Work units of `config` on a training set of (n_train, n_features) with a problem of n_params.

    sum over runs of examples_processed * (n_params + n_features) + steps * STEP_OVERHEAD, plus the
    checkpoints' evaluation (as the runner sizes it) and one pass to make or read the data.
    """
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
    work += len(specs) * max_checkpoints(config.n_checkpoints) * per_checkpoint
    return work + (n_train + n_val) * n_features


def estimate_peak_bytes(config: ExperimentConfig, n_train: int, n_features: int, n_outputs: int, *,
                        parts: bool = False) -> float | tuple[float, float]:
    """Rough peak memory of a run: the data as it is made or read, plus the widest step.

    The data pipeline (`data.dataset.RawRows`) holds the training rows in float64 until their statistics are known,
    then in the run's dtype in the same memory; generated validation rows and labels are written final. A CSV read
    as standardised float32 is held in float32 throughout (`data.dataset.ShiftedRows`). A step or
    checkpoint holds a few (rows, width) arrays at once: rows = the largest batch or evaluation set, width =
    inputs + outputs (+ the MLP's hidden layer). Measured: an MLP full-batch step holds ~2.4 of them.
    parts=True: (data bytes, step bytes) instead of their sum.
    """
    itemsize = 4 if config.dtype == "float32" else 8
    specs = plan_runs(config, n_train)
    n_val = round(n_train * config.val_fraction / max(1e-12, 1 - config.val_fraction))
    rows = max(max(s.batch_size for s in specs), min(n_train, eval_size(config, n_train, specs)))
    width = n_features + n_outputs + (config.hidden if config.problem == "mlp" else 0)
    # a CSV's rows are scattered to the split as they are read: validation rows wait in float64 too
    staged = n_train + (n_val if config.dataset == "csv" else 0)
    if config.dataset == "csv" and config.dtype == "float32" and config.standardize:
        staged = 0
    data = (8 * staged + itemsize * (n_train + n_val - staged)) * n_features + 8 * (n_train + n_val)
    step = itemsize * STEP_ARRAYS * rows * width
    return (data, step) if parts else data + step


def request_shape(config: ExperimentConfig) -> tuple[int, int, int] | None:
    """(n_train, n_features, n_outputs) of `config` without making or reading its data.

    Generated data: exact. A CSV: the columns from its header and the rows estimated from the file's size and
    its first MiB's lines (exact for a file under 1 MiB; at least the largest batch size); its class count is
    unknown until it is read, so a classifier is sized for CSV_CLASSES outputs. None for a CSV that cannot be
    read (the loader says why).
    """
    if config.dataset == "csv":
        n_rows, n_columns = csv_shape(config.csv_path)
        if n_rows < 1 or n_columns < 2:
            return None
        n_train = max([n_rows - round(n_rows * config.val_fraction), *(b for b in config.batch_sizes if b != "full")])
        outputs = 1 if config.problem in ("least_squares", "logistic") else CSV_CLASSES
        return n_train, n_columns - 1, outputs
    info = dataset_info(config.dataset)
    n_classes = info.fixed_n_classes or (config.n_classes if info.task == "classification" else None)
    outputs = 1 if n_classes is None or config.problem in ("least_squares", "logistic") else n_classes
    return config.n_train(), config.n_features, outputs


def csv_shape(path) -> tuple[int, int]:
    """(data rows, columns) of the CSV file at `path`, the rows estimated from its first MiB (0, 0 if unreadable:
    the loader then reports the file with its own message)."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(1 << 20)
    except (OSError, TypeError, ValueError):
        return 0, 0
    lines = [ln for ln in head.split(b"\n") if ln.strip()]
    if not lines:
        return 0, 0
    header = lines[0].decode("utf-8", "replace")
    n_columns = max(header.count(d) for d in ",;\t|") + 1
    body = lines[1:-1] if len(head) < size else lines[1:]  # the last line of a prefix may be cut
    if len(head) >= size or not body:
        return len(body), n_columns
    per_line = (len(head) - len(lines[0]) - len(lines[-1])) / len(body)
    return math.ceil((size - len(lines[0])) / per_line), n_columns


class MemoryRefusal(ConfigError):
    """A request needs more memory than this process can get; the message says how much and what to shrink."""


def _int_file(path) -> int | None:
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _cgroup_room() -> float | None:
    """Bytes left under this process's cgroup memory limit (v2 or v1), reclaimable page cache counted as free;
    None without a limit."""
    try:
        with open("/proc/self/cgroup") as f:
            entries = [line.rstrip("\n").split(":", 2) for line in f]
    except OSError:
        return None
    rooms = []
    for _, controllers, path in (e for e in entries if len(e) == 3):
        if controllers == "":  # v2
            base, files = "/sys/fs/cgroup", ("memory.max", "memory.current", "inactive_file")
        elif "memory" in controllers.split(","):  # v1
            base, files = "/sys/fs/cgroup/memory", ("memory.limit_in_bytes", "memory.usage_in_bytes",
                                                    "total_inactive_file")
        else:
            continue
        # inside a container the process's own cgroup is usually the mount's root
        for d in dict.fromkeys((os.path.join(base, path.lstrip("/")), base)):
            limit, used = _int_file(os.path.join(d, files[0])), _int_file(os.path.join(d, files[1]))
            if limit is None or used is None:
                continue
            if limit < 1 << 60:  # v1 writes ~2^63 for "no limit"; v2 writes "max" (not a number)
                inactive = 0
                try:
                    with open(os.path.join(d, "memory.stat")) as f:
                        inactive = next((int(v) for k, v in (ln.split() for ln in f) if k == files[2]), 0)
                except (OSError, ValueError):
                    pass
                rooms.append(limit - used + inactive)
            break
    return min(rooms) if rooms else None


def available_memory() -> tuple[float, str]:
    """(bytes this process can still allocate, what bounds it): the least of the machine's MemAvailable, the room
    left under `ulimit -v` (RLIMIT_AS) and `ulimit -d` (RLIMIT_DATA), and under the cgroup's memory limit.
    (inf, "") where none of them can be read."""
    found = [(math.inf, "")]
    try:
        with open("/proc/meminfo") as f:
            kb = next(int(line.split()[1]) for line in f if line.startswith("MemAvailable:"))
        found.append((kb * 1024, "MemAvailable, the machine's free RAM"))
    except (OSError, StopIteration, ValueError, IndexError):
        pass
    status = {}
    try:
        with open("/proc/self/status") as f:
            status = {k: int(v.split()[0]) * 1024 for k, v in (ln.split(":", 1) for ln in f)
                      if k in ("VmSize", "VmData")}
    except (OSError, ValueError, IndexError):
        pass
    for limit_name, used_key, what in ((resource.RLIMIT_AS, "VmSize", "ulimit -v, the process's address-space limit"),
                                       (resource.RLIMIT_DATA, "VmData", "ulimit -d, the process's data limit")):
        soft, _ = resource.getrlimit(limit_name)
        if soft != resource.RLIM_INFINITY:
            found.append((soft - status.get(used_key, 0), what))
    room = _cgroup_room()
    if room is not None:
        found.append((room, "the cgroup's memory limit"))
    return min(found, key=lambda f: f[0])


_SHRINK_DATA = "fewer samples or features, --dtype float32"
_SHRINK_STEP = "batch sizes smaller than the full set, fewer MLP hidden units (hidden) or eval_examples"


def _size(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:,.1f} GB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:,.0f} MB"


def check_memory(configs, available: tuple[float, str] | None = None, *, processes: int = 1) -> float:
    """Raise MemoryRefusal if the largest of `configs` (run `processes` at a time, each with its own data), plus
    WORKING_RESERVE per process, needs more memory than `available` (default: `available_memory()`); returns
    that need. Nothing is allocated."""
    need, parts = 0.0, None
    for config in configs:
        shape = request_shape(config)
        if shape is None:
            continue
        n_train, n_features, n_outputs = shape
        peak = estimate_peak_bytes(config, n_train, n_features, n_outputs, parts=True)
        if sum(peak) > need:
            need, parts = sum(peak), peak
    if parts is None:
        return 0.0
    need = (need + WORKING_RESERVE) * processes
    room, what = available if available is not None else available_memory()
    if need > room:
        data, step = parts
        jobs = f", x {processes} processes" if processes > 1 else ""
        shrink = [_SHRINK_DATA, _SHRINK_STEP] if data >= step else [_SHRINK_STEP, _SHRINK_DATA]
        raise MemoryRefusal(
            f"this request needs about {_size(need)} of memory (data {_size(data)}, widest step or checkpoint "
            f"{_size(step)}, working memory {_size(WORKING_RESERVE)}{jobs}) but {_size(max(room, 0))} is available "
            f"({what}); shrink it about {math.ceil(10 * need / max(room, 1)) / 10:.1f}x: {', '.join(shrink)}"
            + (", fewer --jobs" if processes > 1 else ""))
    return need


def memory_error_message(error: MemoryError) -> str:
    """The one line a MemoryError that got past `check_memory` becomes."""
    room, what = available_memory()
    detail = " ".join(str(error).split()) or "an allocation failed"
    there = f"; {_size(max(room, 0))} is available ({what})" if math.isfinite(room) else ""
    return f"out of memory: {detail}{there}: use {_SHRINK_DATA}, {_SHRINK_STEP}"


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
                "fewer MLP hidden units or fewer evaluation examples, or run it with python -m gd_core run ...")
    work = estimate_work(config, n_train, n_features, n_params)
    if max_work is not None and work > max_work:
        runs = len(config.seeds) * len(config.resolved_batch_sizes(n_train)) * len(config.lrs)
        factor = _times(work / max_work)
        raise ConfigError(
            f"this experiment is too large for this host: about {work:.2g} units of work "
            f"({runs} run(s) x {config.budget:g} {config.budget_unit} on {n_train:,} training examples x "
            f"{n_params:,} parameters), {factor} the limit of {max_work:.2g}; shrink it about {factor}: "
            "fewer epochs (budget), seeds, batch sizes or learning rates, fewer samples or features, "
            "fewer checkpoints, or run it with python -m gd_core run ...")
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
            "run it with python -m gd_core run ...")


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
