"""Optimizers as optax-style pairs of pure functions, with the update rules of the torch.optim docs.

``Optimizer(init, update)``: ``init(w) -> state`` and ``update(grad, state, w) -> (w, state)``.
For speed ``update`` works IN PLACE: it overwrites ``w`` and the state's arrays and returns them (the
runner owns ``w``; copy it first to keep the old value). ``grad`` is never modified. ``w``, ``grad`` and
the state arrays are flat ``(n_params,)`` arrays of one float dtype (float32 stays float32).
``lr`` is a number or a schedule ``step -> lr`` called with the number of updates done so far (0 first).
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adam")


class Optimizer(NamedTuple):
    init: Callable[[np.ndarray], Any]  # w -> state
    update: Callable[[np.ndarray, Any, np.ndarray], tuple[np.ndarray, Any]]  # (grad, state, w) -> (w, state)


class SGDState(NamedTuple):
    step: int  # updates done so far
    momentum_buffer: np.ndarray | None  # None when momentum == 0


class AdagradState(NamedTuple):
    step: int
    sum: np.ndarray  # running sum of g^2, starts at initial_accumulator_value


class RMSpropState(NamedTuple):
    step: int
    square_avg: np.ndarray  # EMA of g^2
    momentum_buffer: np.ndarray | None  # None when momentum == 0
    grad_avg: np.ndarray | None  # EMA of g; None unless centered


class AdamState(NamedTuple):
    step: int
    exp_avg: np.ndarray  # m, EMA of g
    exp_avg_sq: np.ndarray  # v, EMA of g^2
    max_exp_avg_sq: np.ndarray | None  # running max of v; None unless amsgrad


_POSITIVE = ("> 0", lambda x: x > 0)
_NON_NEGATIVE = (">= 0", lambda x: x >= 0)
_UNIT = ("in [0, 1)", lambda x: 0 <= x < 1)


def _number(name: str, value: Any, rule: str, test: Callable[[float], bool]) -> float:
    if (isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real)
            or not math.isfinite(value) or not test(value)):
        shown = value.item() if isinstance(value, np.generic) else value
        raise ValueError(f"{name} must be a finite number {rule}; got {shown!r}")
    return float(value)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def _lr_schedule(lr: float | Callable[[int], float]) -> Callable[[int], float]:
    if callable(lr):
        return lr
    value = _number("lr", lr, *_POSITIVE)
    return lambda step: value


def _float_array(w: np.ndarray) -> np.ndarray:
    w = np.asarray(w)
    if not np.issubdtype(w.dtype, np.floating):
        raise ValueError(f"w must be a floating-point array; got dtype {w.dtype}")
    return w


def _with_decay(grad: np.ndarray, w: np.ndarray, weight_decay: float) -> np.ndarray:
    """grad + weight_decay * w as a new array (grad itself is left alone)."""
    if not weight_decay:
        return grad
    g = np.multiply(w, weight_decay)
    g += grad
    return g


def sgd(lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0) -> Optimizer:
    """SGD: g += wd*w; b = g (step 1) else mu*b + (1-dampening)*g; w -= lr*(g + mu*b if nesterov else b)."""
    lr_at = _lr_schedule(lr)
    mu = _number("momentum", momentum, *_UNIT)
    damp = _number("dampening", dampening, "in [0, 1]", lambda x: 0 <= x <= 1)
    nesterov = _flag("nesterov", nesterov)
    wd = _number("weight_decay", weight_decay, *_NON_NEGATIVE)
    if nesterov and (mu == 0 or damp != 0):
        raise ValueError("nesterov=True requires momentum > 0 and dampening = 0; "
                         f"got momentum={mu}, dampening={damp}")

    def init(w):
        w = _float_array(w)
        return SGDState(0, np.zeros_like(w) if mu else None)

    def update(grad, state, w):
        step, buf = state
        g = _with_decay(grad, w, wd)
        if buf is not None:
            if step == 0:
                np.copyto(buf, g)
            else:
                buf *= mu
                buf += (1.0 - damp) * g if damp else g
            if nesterov:  # g + mu*b, in a fresh array: g may be the caller's grad
                tmp = np.multiply(buf, mu)
                tmp += g
                tmp *= lr_at(step)
            else:
                tmp = np.multiply(buf, lr_at(step))
        else:
            tmp = np.multiply(g, lr_at(step))
        w -= tmp
        return w, SGDState(step + 1, buf)

    return Optimizer(init, update)


def adagrad(lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10) -> Optimizer:
    """Adagrad: g += wd*w; clr = lr/(1+(t-1)*lr_decay); sum += g^2; w -= clr*g/(sqrt(sum)+eps)."""
    lr_at = _lr_schedule(lr)
    lr_decay = _number("lr_decay", lr_decay, *_NON_NEGATIVE)
    wd = _number("weight_decay", weight_decay, *_NON_NEGATIVE)
    start = _number("initial_accumulator_value", initial_accumulator_value, *_NON_NEGATIVE)
    eps = _number("eps", eps, *_POSITIVE)

    def init(w):
        return AdagradState(0, np.full_like(_float_array(w), start))

    def update(grad, state, w):
        step, total = state
        g = _with_decay(grad, w, wd)
        clr = lr_at(step) / (1.0 + step * lr_decay)  # step = t - 1
        tmp = np.multiply(g, g)
        total += tmp
        np.sqrt(total, out=tmp)
        tmp += eps
        np.divide(g, tmp, out=tmp)
        tmp *= clr
        w -= tmp
        return w, AdagradState(step + 1, total)

    return Optimizer(init, update)


def rmsprop(lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False) -> Optimizer:
    """RMSprop: g += wd*w; v = a*v + (1-a)*g^2; b = mu*b + g/(sqrt(v)+eps); w -= lr*b (b = 0 initially).

    centered: ``g_avg = a*g_avg + (1-a)*g`` and ``v - g_avg^2`` under the square root.
    """
    lr_at = _lr_schedule(lr)
    alpha = _number("alpha", alpha, *_UNIT)
    eps = _number("eps", eps, *_POSITIVE)
    wd = _number("weight_decay", weight_decay, *_NON_NEGATIVE)
    mu = _number("momentum", momentum, *_UNIT)
    centered = _flag("centered", centered)

    def init(w):
        w = _float_array(w)
        return RMSpropState(0, np.zeros_like(w), np.zeros_like(w) if mu else None,
                            np.zeros_like(w) if centered else None)

    def update(grad, state, w):
        step, square_avg, buf, grad_avg = state
        g = _with_decay(grad, w, wd)
        tmp = np.multiply(g, g)
        tmp *= 1.0 - alpha
        square_avg *= alpha
        square_avg += tmp
        if grad_avg is not None:
            grad_avg *= alpha
            grad_avg += (1.0 - alpha) * g
            np.multiply(grad_avg, grad_avg, out=tmp)
            np.subtract(square_avg, tmp, out=tmp)
            np.maximum(tmp, 0.0, out=tmp)  # v >= g_avg^2 in exact arithmetic; rounding must not give NaN
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(square_avg, out=tmp)
        tmp += eps
        np.divide(g, tmp, out=tmp)
        if buf is not None:
            buf *= mu
            buf += tmp
            np.multiply(buf, lr_at(step), out=tmp)
        else:
            tmp *= lr_at(step)
        w -= tmp
        return w, RMSpropState(step + 1, square_avg, buf, grad_avg)

    return Optimizer(init, update)


def adam(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False) -> Optimizer:
    """Adam: g += wd*w; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; w -= lr*m_hat/(sqrt(v_hat)+eps).

    m_hat = m/(1-b1^t), v_hat = v/(1-b2^t); amsgrad uses the running max of v in v_hat.
    """
    lr_at = _lr_schedule(lr)
    if (isinstance(betas, str) or not hasattr(betas, "__len__") or len(betas) != 2
            or not all(isinstance(b, numbers.Real) and not isinstance(b, bool) and 0 <= b < 1
                       for b in betas)):
        raise ValueError(f"betas must be a pair of numbers in [0, 1); got {betas!r}")
    b1, b2 = float(betas[0]), float(betas[1])
    eps = _number("eps", eps, *_POSITIVE)
    wd = _number("weight_decay", weight_decay, *_NON_NEGATIVE)
    amsgrad = _flag("amsgrad", amsgrad)

    def init(w):
        w = _float_array(w)
        return AdamState(0, np.zeros_like(w), np.zeros_like(w), np.zeros_like(w) if amsgrad else None)

    def update(grad, state, w):
        step, m, v, v_max = state
        g = _with_decay(grad, w, wd)
        t = step + 1
        tmp = np.multiply(g, 1.0 - b1)
        m *= b1
        m += tmp
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - b2
        v *= b2
        v += tmp
        if v_max is not None:
            np.maximum(v_max, v, out=v_max)
        # torch's order: denom = sqrt(v)/sqrt(1-b2^t) + eps; w -= (lr/(1-b1^t)) * m/denom
        np.sqrt(v if v_max is None else v_max, out=tmp)
        tmp /= math.sqrt(1.0 - b2**t)
        tmp += eps
        np.divide(m, tmp, out=tmp)
        tmp *= lr_at(step) / (1.0 - b1**t)
        w -= tmp
        return w, AdamState(t, m, v, v_max)

    return Optimizer(init, update)


_FACTORIES = {"sgd": sgd, "adagrad": adagrad, "rmsprop": rmsprop, "adam": adam}

_RULES = {  # one-line update rules for the dashboard; g is the gradient, t counts updates from 1
    "sgd": "g = grad + weight_decay*w; b = momentum*b + (1 - dampening)*g (b = g at t = 1); "
           "w -= lr*(g + momentum*b if nesterov else b)",
    "adagrad": "g = grad + weight_decay*w; s += g^2; w -= lr/(1 + (t - 1)*lr_decay) * g/(sqrt(s) + eps)",
    "rmsprop": "g = grad + weight_decay*w; v = alpha*v + (1 - alpha)*g^2; "
               "b = momentum*b + g/(sqrt(v - g_avg^2 if centered else v) + eps); w -= lr*b",
    "adam": "g = grad + weight_decay*w; m = b1*m + (1 - b1)*g; v = b2*v + (1 - b2)*g^2; "
            "w -= lr*(m/(1 - b1^t))/(sqrt(v/(1 - b2^t)) + eps) (amsgrad: v -> running max of v)",
}


def _check_name(name: str) -> None:
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {name!r}")


def hyperparameters(name: str) -> dict[str, Any]:
    """``{hyperparameter: default}`` of optimizer ``name``, signature order; ``lr`` (no default) left out."""
    _check_name(name)
    params = inspect.signature(_FACTORIES[name]).parameters.values()
    return {p.name: p.default for p in params if p.name != "lr"}


def describe(name: str) -> str:
    """The update rule of optimizer ``name`` in one line of plain text (torch.optim's notation)."""
    _check_name(name)
    return _RULES[name]


def make_optimizer(name: str, lr: float | Callable[[int], float], **hp: Any) -> Optimizer:
    """Optimizer ``name`` (in OPTIMIZERS) with learning rate or schedule ``lr`` and hyperparameters ``hp``."""
    _check_name(name)
    allowed = hyperparameters(name)
    for key in hp:
        if key not in allowed:
            raise ValueError(f"{name} does not take {key!r}; it takes lr, {', '.join(allowed)}")
    return _FACTORIES[name](lr, **hp)
