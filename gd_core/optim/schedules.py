"""Learning-rate schedules ``step -> lr`` (step 0-based) and the batch-size scaling rules for ``lr``.

Time is measured in epochs ``e = step / steps_per_epoch`` (``steps_per_epoch = N / B`` may be fractional), so
a schedule means the same thing for every batch size. Plain Python math: the runner calls it every step.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

SCHEDULES = ("constant", "step", "exponential", "inverse_time", "cosine")
LR_SCALING = ("none", "linear", "sqrt")


def _number(name: str, value: Any, rule: str, test: Callable[[float], bool]) -> float:
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not math.isfinite(value) or not test(value)):
        shown = value.item() if hasattr(value, "item") else value
        raise ValueError(f"{name} must be a finite number {rule}; got {shown!r}")
    return float(value)


def _positive(name: str, value: Any) -> float:
    return _number(name, value, "> 0", lambda x: x > 0)


def _non_negative(name: str, value: Any) -> float:
    return _number(name, value, ">= 0", lambda x: x >= 0)


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
    return int(value)


def _base(name: str, lr: float, steps_per_epoch: float, total_steps: int, step_epochs: float,
          gamma: float, decay: float) -> Callable[[int], float]:
    """The schedule without warmup."""
    if name == "constant":
        return lambda step: lr
    if name == "step":  # lr * gamma^floor(e / step_epochs)
        steps_per_drop = step_epochs * steps_per_epoch
        return lambda step: lr * gamma ** math.floor(step / steps_per_drop)
    if name == "exponential":  # lr * exp(-decay * e)
        rate = decay / steps_per_epoch
        return lambda step: lr * math.exp(-rate * step)
    if name == "inverse_time":  # lr / (1 + decay * e)
        rate = decay / steps_per_epoch
        return lambda step: lr / (1.0 + rate * step)
    # cosine over the whole run, reaching 0 at step = total_steps: lr * (1 + cos(pi * step / T)) / 2
    return lambda step: lr * 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / total_steps))


def make_schedule(name: str, lr: float, *, steps_per_epoch: float, total_steps: int,
                  warmup_epochs: float = 0.0, warmup_from: float = 0.0, step_epochs: float = 1.0,
                  gamma: float = 0.1, decay: float = 0.1) -> Callable[[int], float]:
    """A schedule ``step -> lr`` named in SCHEDULES, time in epochs ``e = step / steps_per_epoch``.

    constant ``lr``; step ``lr * gamma**floor(e / step_epochs)``; exponential ``lr * exp(-decay * e)``;
    inverse_time ``lr / (1 + decay * e)``; cosine ``lr * (1 + cos(pi * step / total_steps)) / 2``.
    With ``warmup_epochs > 0`` the first ``W = warmup_epochs * steps_per_epoch`` steps ramp linearly from
    ``warmup_from`` (at step 0) to the schedule's value at step W (Goyal et al. 2017); the schedule's clock is
    not shifted, so from step W on the value is the plain schedule's.
    """
    if name not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}; got {name!r}")
    lr = _positive("lr", lr)
    steps_per_epoch = _positive("steps_per_epoch", steps_per_epoch)
    total_steps = _positive_int("total_steps", total_steps)
    warmup_epochs = _non_negative("warmup_epochs", warmup_epochs)
    warmup_from = _non_negative("warmup_from", warmup_from)
    step_epochs = _positive("step_epochs", step_epochs)
    gamma = _number("gamma", gamma, "in (0, 1]", lambda x: 0 < x <= 1)
    decay = _non_negative("decay", decay)

    base = _base(name, lr, steps_per_epoch, total_steps, step_epochs, gamma, decay)
    warmup_steps = warmup_epochs * steps_per_epoch
    if warmup_steps == 0:
        return base
    slope = (base(warmup_steps) - warmup_from) / warmup_steps

    def schedule(step: int) -> float:
        return warmup_from + slope * step if step < warmup_steps else base(step)

    return schedule


def scale_lr(lr: float, batch_size: int, rule: str, ref_batch_size: int) -> float:
    """The lr for batch size B from the lr tuned at ``ref_batch_size`` B_ref.

    none ``lr``; linear ``lr * B / B_ref`` (Goyal et al. 2017); sqrt ``lr * sqrt(B / B_ref)``.
    """
    if rule not in LR_SCALING:
        raise ValueError(f"rule must be one of {', '.join(LR_SCALING)}; got {rule!r}")
    lr = _positive("lr", lr)
    ratio = _positive_int("batch_size", batch_size) / _positive_int("ref_batch_size", ref_batch_size)
    if rule == "linear":
        return lr * ratio
    if rule == "sqrt":
        return lr * math.sqrt(ratio)
    return lr
