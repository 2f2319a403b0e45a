"""One config type for an experiment: the CLI, the dashboard, share links and CSV exports all carry it.

`ExperimentConfig` is validated when it is built (`__post_init__`), so any instance is a valid experiment
description. Messages name the field, the rule and the value, scikit-learn style:
``"lrs must be finite numbers > 0; got -1.0"``. Three boundaries read configs from outside:
`from_dict` (JSON; unknown keys rejected), `from_query` (URL parameters; a bad value falls back to that
field's default and is reported) and the CLI flags (strings, parsed by the same `coerce_field`).

Over 300 lines on purpose: every field, its default and its check sit together, so a new field is one place.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, fields

from .data.dataset import MAX_FEATURES
from .data.real import REAL_DATASETS, fixed_sizes
from .data.synthetic import DATASETS, dataset_info
from .optim.optimizers import OPTIMIZERS
from .optim.schedules import LR_SCALING, SCHEDULES
from .problems import PROBLEMS

BUDGET_UNITS = ("epochs", "steps", "examples")
SAMPLING = ("shuffle", "replacement")
DTYPES = ("float64", "float32")
TARGET_METRICS = ("train_loss", "val_loss")
MAX_SAMPLES = 2_000_000  # the notes' ImageNet scale (1.2M) fits; more would not fit a hosted app
MAX_RUNS = 64


class ConfigError(ValueError):
    """A config value breaks a rule; the message names the field, the rule and the value."""


@dataclass(frozen=True)
class ExperimentConfig:
    # -- what is minimised
    problem: str = "softmax"
    hidden: int = 32  # MLP hidden width
    reg: float = 0.0  # L2 strength: loss += 0.5 * reg * |W|^2 (biases excluded)
    # -- the data (n_samples counts train + validation); a real dataset (REAL_DATASETS) fixes n_samples,
    # n_features and n_classes to its own: the config holds the set's values whatever was given
    dataset: str = "blobs"
    n_samples: int = 1000
    n_features: int = 2
    n_classes: int = 3
    noise: float = 0.5
    condition_number: float = 1.0  # linear regression only: kappa of the Hessian
    n_unique: int | None = None  # redundancy: the training set is k unique examples repeated
    label_noise: float = 0.0  # fraction of training labels replaced at random
    val_fraction: float = 0.2
    standardize: bool = True
    data_seed: int = 0  # the data is the same for every run seed
    csv_path: str | None = None  # dataset == "csv": the file (CLI); the dashboard keeps uploads in memory
    target: str | None = None  # dataset == "csv": the target column
    # -- how it is minimised (names as torch.optim)
    optimizer: str = "sgd"
    lrs: tuple[float, ...] = (0.1,)  # one run per learning rate
    momentum: float = 0.0
    nesterov: bool = False
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float | None = None  # None: the optimizer's own default (1e-10 Adagrad, 1e-8 others)
    alpha: float = 0.99
    weight_decay: float = 0.0
    schedule: str = "constant"
    step_epochs: float = 10.0  # step schedule: decay every this many epochs
    gamma: float = 0.5  # step schedule factor
    decay: float = 0.1  # exponential / inverse_time rate per epoch
    warmup_epochs: float = 0.0
    lr_scaling: str = "none"  # batch-size scaling of lr: none / linear / sqrt
    ref_batch_size: int = 32
    # -- the comparison
    batch_sizes: tuple[int | str, ...] = (1, 32, 256, "full")
    seeds: tuple[int, ...] = (0,)
    sampling: str = "shuffle"  # epoch shuffle without replacement, or independent draws with replacement
    budget_unit: str = "epochs"
    budget: float = 10.0
    n_checkpoints: int = 200  # metric rows per run: half evenly spaced in examples, half log-spaced updates
    eval_examples: int = 50_000  # checkpoints evaluate at most this many examples (fixed seeded subsample)
    dtype: str = "float64"
    target_loss: float | None = None  # summary: steps/examples/seconds to reach it
    target_metric: str = "train_loss"
    time_limit_s: float | None = None  # a run past this stops and keeps its log, marked time_limit

    def __post_init__(self):
        for f in fields(self):
            object.__setattr__(self, f.name, coerce_field(f.name, getattr(self, f.name)))
        if self.dataset in REAL_DATASETS:
            for name, value in fixed_sizes(self.dataset).items():
                object.__setattr__(self, name, value)
        _check_relations(self)

    # -- round trips
    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, d: dict) -> ExperimentConfig:
        if not isinstance(d, dict):
            raise ConfigError(f"a config must be a JSON object; got {type(d).__name__}")
        unknown = sorted(set(d) - set(FIELD_KINDS))
        if unknown:
            raise ConfigError(f"unknown config field(s) {', '.join(map(repr, unknown))}; allowed: "
                              f"{', '.join(FIELD_KINDS)}")
        clashes = list(fixed_size_clashes(d).values())
        if clashes:
            raise ConfigError(f"{clashes[0]}: leave the field out or give the set's value")
        return cls(**d)

    @classmethod
    def from_json(cls, text: str) -> ExperimentConfig:
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(f"the config is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from e
        except ValueError as e:  # e.g. an integer with more than 4300 digits
            raise ConfigError(f"the config is not valid JSON: {e}") from None
        except RecursionError:
            raise ConfigError("the config is not valid JSON: nested too deeply (a config is one flat object)") from None
        return cls.from_dict(d)

    def to_query(self) -> dict[str, str]:
        """URL parameters for the fields that differ from the defaults (values are strings)."""
        default = ExperimentConfig()
        fixed = fixed_sizes(self.dataset) if self.dataset in REAL_DATASETS else {}  # the dataset's name says them
        return {f.name: format_field(getattr(self, f.name)) for f in fields(self)
                if getattr(self, f.name) != getattr(default, f.name) and f.name not in fixed}

    @classmethod
    def from_query(cls, params) -> tuple[ExperimentConfig, list[str]]:
        """Read URL parameters; a bad value is dropped (that field keeps its default) and reported."""
        errors, values = [], {}
        for key in params:
            if key not in FIELD_KINDS:
                continue  # other pages' parameters
            try:
                values[key] = coerce_field(key, params[key])
            except ConfigError as e:
                errors.append(str(e))
        for message in fixed_size_clashes(values).values():
            errors.append(f"{message} (the link's value is ignored)")
        try:
            return cls(**values), errors
        except ConfigError as e:
            errors.append(str(e))
        # A rule between fields failed: drop the one parameter whose removal makes the rest valid.
        for key in reversed(list(values)):
            rest = {k: v for k, v in values.items() if k != key}
            try:
                return cls(**rest), errors
            except ConfigError:
                continue
        return cls(), errors

    def replace(self, **changes) -> ExperimentConfig:
        return dataclasses.replace(self, **changes)

    def n_train(self) -> int | None:
        """Training examples for generated data (None for a CSV, known only once loaded)."""
        if self.dataset == "csv":
            return None
        return training_examples(self.n_samples, self.val_fraction)

    def n_runs(self, n_train: int) -> int:
        """Runs of the comparison on a training set of n_train: distinct batch sizes x seeds x learning rates."""
        return len(self.resolved_batch_sizes(n_train)) * len(self.seeds) * len(self.lrs)

    def resolved_batch_sizes(self, n_train: int) -> list[int]:
        """Batch sizes as integers ("full" -> n_train), duplicates removed, order kept."""
        out = []
        for b in self.batch_sizes:
            b = n_train if b == "full" else int(b)
            if b not in out:
                out.append(b)
        return out


def fixed_size_clashes(values: dict) -> dict[str, str]:
    """{field: message} for the sizes in `values` that differ from those its real dataset fixes (empty for
    generated data, a CSV or a bad dataset name). `values` holds raw or coerced field values."""
    name = values.get("dataset")
    name = name.strip().lower() if isinstance(name, str) else name
    if name not in REAL_DATASETS:
        return {}
    out = {}
    for field, fixed in fixed_sizes(name).items():
        if field in values:
            try:
                given = coerce_field(field, values[field])
            except ConfigError:
                given = values[field]
            if given != fixed:
                out[field] = f"{field} is fixed at {fixed} by the real dataset {name}; got {shown(values[field])}"
    return out


# -- field kinds and coercion (shared by JSON, URL and CLI) -------------------------------------------

FIELD_KINDS = {
    "problem": ("choice", PROBLEMS), "hidden": ("int", 1, 1024), "reg": ("float", 0.0, 1e3),
    "dataset": ("choice", (*DATASETS, *REAL_DATASETS, "csv")), "n_samples": ("int", 2, MAX_SAMPLES),
    "n_features": ("int", 1, MAX_FEATURES), "n_classes": ("int", 2, 100), "noise": ("float", 0.0, 100.0),
    "condition_number": ("float", 1.0, 1e8), "n_unique": ("opt_int", 1, MAX_SAMPLES),
    "label_noise": ("float", 0.0, 0.99), "val_fraction": ("float", 0.0, 0.9), "standardize": ("bool",),
    "data_seed": ("int", 0, 2**32 - 1), "csv_path": ("opt_str",), "target": ("opt_str",),
    "optimizer": ("choice", OPTIMIZERS), "lrs": ("floats", 1e-12, 1e6), "momentum": ("float", 0.0, 0.9999),
    "nesterov": ("bool",), "betas": ("betas",), "eps": ("opt_float", 1e-300, 1.0),
    "alpha": ("float", 0.0, 0.9999), "weight_decay": ("float", 0.0, 1e3),
    "schedule": ("choice", SCHEDULES), "step_epochs": ("float", 1e-6, 1e9), "gamma": ("float", 1e-6, 1.0),
    "decay": ("float", 0.0, 1e6), "warmup_epochs": ("float", 0.0, 1e6),
    "lr_scaling": ("choice", LR_SCALING), "ref_batch_size": ("int", 1, MAX_SAMPLES),
    "batch_sizes": ("batch_sizes",), "seeds": ("ints", 0, 2**32 - 1), "sampling": ("choice", SAMPLING),
    "budget_unit": ("choice", BUDGET_UNITS), "budget": ("float", 1e-9, 1e12),
    "n_checkpoints": ("int", 1, 5000), "eval_examples": ("int", 100, MAX_SAMPLES),
    "dtype": ("choice", DTYPES), "target_loss": ("opt_float", -1e300, 1e300),
    "target_metric": ("choice", TARGET_METRICS), "time_limit_s": ("opt_float", 1e-3, 1e6),
}


def format_field(value) -> str:
    """A value as a URL/CLI string that `coerce_field` reads back to the same value."""
    if isinstance(value, (tuple, list)):
        return ",".join(format_field(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


MAX_SHOWN = 80  # characters of a bad value quoted in a message


def shown(value) -> str:
    """repr(value) for a message, cut to about MAX_SHOWN characters (a million seeds would be 7.9 MB)."""
    text = repr(value) if not isinstance(value, str) or len(value) <= 4 * MAX_SHOWN else repr(value[:4 * MAX_SHOWN])
    length = len(value) if isinstance(value, str) else len(text)
    if len(text) <= MAX_SHOWN:
        return text
    return f"{text[:MAX_SHOWN - 20]}... ({length:,} characters)"


def _bad(name, rule, value):
    return ConfigError(f"{name} must be {rule}; got {shown(value)}")


def _number(name, value, rule, integer):
    raw = value
    if isinstance(value, bool):
        raise _bad(name, rule, raw)
    if isinstance(value, str):
        text = value.strip()
        if not text.isascii():  # one rule with the CSV reader: digits are ASCII ('１００' is not a number)
            raise _bad(name, rule, raw)
        try:
            value = int(text) if integer and text.lstrip("+-").isdigit() else float(text)
        except ValueError:
            raise _bad(name, rule, raw) from None
    if not isinstance(value, (int, float)):
        raise _bad(name, rule, raw)
    if isinstance(value, float) and not math.isfinite(value):
        raise _bad(name, rule, raw)
    if integer:
        if isinstance(value, float) and not value.is_integer():
            raise _bad(name, rule, raw)
        return int(value)
    try:
        return float(value)
    except OverflowError:  # a JSON integer beyond the float range
        raise _bad(name, rule, raw) from None


def _bound(v, integer: bool) -> str:
    """A range's end in a message: an integer whole (4294967295, not 4.29497e+09), a float short."""
    return str(int(v)) if integer else f"{v:g}"


def _ranged(name, value, lo, hi, integer, rule=None):
    kind = "an integer" if integer else "a finite number"
    rule = rule or f"{kind} in [{_bound(lo, integer)}, {_bound(hi, integer)}]"
    v = _number(name, value, rule, integer)
    if not lo <= v <= hi:
        raise _bad(name, rule, value)
    return v


def _items(value):
    if isinstance(value, str):
        return [s for s in (p.strip() for p in value.split(",")) if s]
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def coerce_field(name: str, value):
    """Parse and check one field from a native value or a string (URL, CLI)."""
    kind, *args = FIELD_KINDS[name]
    if kind in ("opt_int", "opt_float", "opt_str") and (value is None or value == ""):
        return None
    if kind == "choice":
        if not isinstance(value, str) or value.strip().lower() not in args[0]:
            raise _bad(name, f"one of {', '.join(args[0])}", value)
        return value.strip().lower()
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "false", "0", "no"):
            return value.strip().lower() in ("true", "1", "yes")
        raise _bad(name, "true or false", value)
    if kind in ("int", "opt_int"):
        return _ranged(name, value, *args, integer=True)
    if kind in ("float", "opt_float"):
        return _ranged(name, value, *args, integer=False)
    if kind == "opt_str":
        if not isinstance(value, str):
            raise _bad(name, "a string", value)
        return value
    items = _items(value)
    if kind in ("floats", "ints"):
        integer = kind == "ints"
        rule = (f"a non-empty list of {'integers' if integer else 'finite numbers'} in "
                f"[{_bound(args[0], integer)}, {_bound(args[1], integer)}]")
        if not items or len(items) > MAX_RUNS:
            raise _bad(name, f"{rule} with at most {MAX_RUNS} entries", value)
        out = tuple(_ranged(name, v, *args, integer=integer, rule=rule) for v in items)
        return tuple(dict.fromkeys(out))  # duplicates would only repeat a run
    if kind == "betas":
        rule = "two numbers in [0, 1), e.g. 0.9,0.999"
        if len(items) != 2:
            raise _bad(name, rule, value)
        b = tuple(_number(name, v, rule, integer=False) for v in items)
        if not all(0.0 <= x < 1.0 for x in b):
            raise _bad(name, rule, value)
        return b
    if kind == "batch_sizes":
        rule = f'a non-empty list of integers >= 1 or "full", at most {MAX_RUNS} entries'
        if not items or len(items) > MAX_RUNS:
            raise _bad(name, rule, value)
        out = []
        for v in items:
            if isinstance(v, str) and v.strip().lower() == "full":
                v = "full"
            else:
                v = _number("batch_size", v, 'an integer >= 1 or "full"', integer=True)
                if v < 1:
                    raise ConfigError(f'batch_size must be an integer >= 1 or "full"; got {v}')
            if v not in out:
                out.append(v)
        return tuple(out)
    raise AssertionError(kind)


def training_examples(n_samples: int, val_fraction: float) -> int:
    """Training examples of generated data: n_samples minus the validation share."""
    return n_samples - round(n_samples * val_fraction)


def fit_batch_sizes(batch_sizes, n_train: int) -> tuple[tuple[int | str, ...], list[int]]:
    """The dashboard's rule for sizes above the training set: each becomes "full" (duplicates dropped, order
    kept). Returns (the sizes, the ones that were too large). The CLI and the API refuse them instead."""
    too_large = [b for b in batch_sizes if b != "full" and b > n_train]
    fitted = tuple(dict.fromkeys("full" if b in too_large else b for b in batch_sizes))
    return fitted, too_large


def _check_relations(c: ExperimentConfig) -> None:
    """Rules that involve several fields."""
    if c.dataset == "csv":
        if not c.target:
            raise ConfigError("target must name the CSV's target column when dataset is 'csv'; got None")
        task, n_classes = None, None  # known once the file is read
    else:
        info = dataset_info(c.dataset)
        task = info.task
        n_classes = info.fixed_n_classes or (c.n_classes if task == "classification" else None)
        n_train = c.n_train()
        if n_train < 1:
            raise ConfigError(f"val_fraction leaves no training example; got val_fraction={c.val_fraction} "
                              f"with n_samples={c.n_samples}")
        for b in c.batch_sizes:
            if b != "full" and b > n_train:
                raise ConfigError(f'batch_size must be in [1, {n_train}] (the training examples) or "full"; '
                                  f"got {b}")
        if n_classes is not None and n_classes > n_train:
            raise ConfigError(f"n_classes must be at most the training examples ({n_train}); got {n_classes}")
        if c.n_unique is not None and c.n_unique > n_train:
            raise ConfigError(f"n_unique must be in [1, {n_train}] (the training examples); got {c.n_unique}")
        if c.dataset == "linear" and c.condition_number > 1 and c.n_features < 2:
            raise ConfigError(f"condition_number > 1 needs n_features >= 2; got condition_number="
                              f"{c.condition_number} with n_features={c.n_features}")
        if info.intrinsic_dim and c.n_features < info.intrinsic_dim:
            raise ConfigError(f"n_features must be >= {info.intrinsic_dim} for the {c.dataset} dataset; "
                              f"got {c.n_features}")
    check_problem_fits(c.problem, task, n_classes, c.dataset)
    if c.nesterov and (c.optimizer != "sgd" or c.momentum <= 0):
        raise ConfigError(f"nesterov needs optimizer sgd with momentum > 0; got optimizer={c.optimizer}, "
                          f"momentum={c.momentum}")
    if len(c.batch_sizes) * len(c.seeds) * len(c.lrs) > MAX_RUNS:
        raise ConfigError(f"batch_sizes x seeds x lrs must be at most {MAX_RUNS} runs; got "
                          f"{len(c.batch_sizes)} x {len(c.seeds)} x {len(c.lrs)}")
    if c.budget_unit in ("steps", "examples") and not float(c.budget).is_integer():
        raise ConfigError(f"budget must be a whole number of {c.budget_unit}; got {c.budget}")


def check_problem_fits(problem: str, task: str | None, n_classes: int | None, dataset: str) -> None:
    """least_squares needs a regression target; the others need classes (logistic: exactly two)."""
    if task is None:
        return
    if problem == "least_squares" and task != "regression":
        raise ConfigError(f"problem least_squares needs a regression dataset ({', '.join(_names('regression'))}, "
                          f"or a CSV with a numeric target); got dataset {dataset} ({task})")
    if problem != "least_squares" and task != "classification":
        raise ConfigError(f"problem {problem} needs a classification dataset "
                          f"({', '.join(_names('classification'))}); got dataset {dataset} (regression)")
    if problem == "logistic" and n_classes != 2:
        hint = "use softmax" + ("" if dataset in REAL_DATASETS else ", or n_classes=2")
        raise ConfigError(f"problem logistic needs exactly 2 classes; got {n_classes} classes in dataset "
                          f"{dataset} ({hint})")


def _names(task: str) -> list[str]:
    """The generated and real datasets of a task."""
    return [n for n in (*DATASETS, *REAL_DATASETS) if dataset_info(n).task == task]
