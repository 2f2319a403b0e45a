"""Optimizers as optax-style pairs of functions, with the update rules of the torch.optim docs.

``Optimizer(init, update)``: ``init(w) -> state`` and ``update(grad, state, w) -> (w, state)``.
For speed ``update`` works IN PLACE: it overwrites ``w`` and the state's arrays and returns them (the
runner owns ``w``; copy it first to keep the old value). ``grad`` is never modified. ``w``, ``grad`` and
the state arrays are flat ``(n_params,)`` arrays of one float dtype (float32 stays float32).
``lr`` is a number or a schedule ``step -> lr`` called with the number of updates done so far (0 first).

Each update rule is written once, as ``_<name>_step``: one step in place with NumPy ``out=`` calls, given the
state's arrays, a scratch array and ``lr`` (a float, or an array that broadcasts against ``w``: one rate per
stacked run). ``Optimizer.update`` and the runner's hot loop (``make_updater``, buffers allocated once) both call
it, so they give bit-identical weights.

Over 300 lines on purpose: the four rules, their states, their hyperparameter checks and the two ways to call
them (optax-style pairs, `make_updater`) are read together; split, a rule's checks would sit apart from its body.
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


def _decayed(grad: np.ndarray, w: np.ndarray, weight_decay: float, out: np.ndarray) -> np.ndarray:
    """grad + weight_decay * w, into ``out`` (grad itself when weight_decay is 0; grad is never modified)."""
    if not weight_decay:
        return grad
    np.multiply(w, weight_decay, out=out)
    np.add(out, grad, out=out)
    return out


# -- the update rules, one body each: w, the state's arrays and the scratch arrays are updated in place ------------

def _ema(avg, x, decay, tmp):
    """avg = decay*avg + (1 - decay)*x, in place (tmp: scratch, may be x itself)."""
    np.multiply(x, 1.0 - decay, out=tmp)
    np.multiply(avg, decay, out=avg)
    np.add(avg, tmp, out=avg)


def _sgd_step(hp, w, grad, buf, scratch, lr, step):
    """g = grad + wd*w; b = g (step 0) else mu*b + (1-damp)*g; w -= lr*(g + mu*b if nesterov else b);
    without momentum w -= lr*g."""
    mu, damp, nesterov = hp.mu, hp.damp, hp.nesterov
    tmp, g = scratch[0], _decayed(grad, w, hp.wd, scratch[1])
    if buf is not None:
        if step == 0:
            np.copyto(buf, g)
        else:
            np.multiply(buf, mu, out=buf)
            if damp:
                np.multiply(g, 1.0 - damp, out=tmp)
                np.add(buf, tmp, out=buf)
            else:
                np.add(buf, g, out=buf)
        if nesterov:
            np.multiply(buf, mu, out=tmp)
            np.add(tmp, g, out=tmp)
            np.multiply(tmp, lr, out=tmp)
        else:
            np.multiply(buf, lr, out=tmp)
    else:
        np.multiply(g, lr, out=tmp)
    np.subtract(w, tmp, out=w)


def _adagrad_step(hp, w, grad, total, scratch, lr, step):
    """g = grad + wd*w; clr = lr/(1 + step*lr_decay); sum += g^2; w -= clr*g/(sqrt(sum) + eps)."""
    lr_decay, eps = hp.lr_decay, hp.eps
    tmp, g = scratch[0], _decayed(grad, w, hp.wd, scratch[1])
    np.multiply(g, g, out=tmp)
    np.add(total, tmp, out=total)
    np.sqrt(total, out=tmp)
    np.add(tmp, eps, out=tmp)
    np.divide(g, tmp, out=tmp)
    np.multiply(tmp, lr / (1.0 + step * lr_decay), out=tmp)
    np.subtract(w, tmp, out=w)


def _rmsprop_step(hp, w, grad, square_avg, buf, grad_avg, scratch, lr):
    """g = grad + wd*w; v = a*v + (1-a)*g^2; b = mu*b + g/(sqrt(v - g_avg^2 if centered else v) + eps);
    w -= lr*b (without momentum w -= lr*g/(...))."""
    alpha, eps, mu = hp.alpha, hp.eps, hp.mu
    tmp, g = scratch[0], _decayed(grad, w, hp.wd, scratch[1])
    _ema(square_avg, np.multiply(g, g, out=tmp), alpha, tmp)
    if grad_avg is not None:
        _ema(grad_avg, g, alpha, tmp)
        np.multiply(grad_avg, grad_avg, out=tmp)
        np.subtract(square_avg, tmp, out=tmp)
        np.maximum(tmp, 0.0, out=tmp)  # v >= g_avg^2 in exact arithmetic; rounding must not give NaN
        np.sqrt(tmp, out=tmp)
    else:
        np.sqrt(square_avg, out=tmp)
    np.add(tmp, eps, out=tmp)
    np.divide(g, tmp, out=tmp)
    if buf is not None:
        np.multiply(buf, mu, out=buf)
        np.add(buf, tmp, out=buf)
        np.multiply(buf, lr, out=tmp)
    else:
        np.multiply(tmp, lr, out=tmp)
    np.subtract(w, tmp, out=w)


def _adam_step(hp, w, grad, m, v, v_max, scratch, lr, step):
    """g = grad + wd*w; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; w -= lr*m_hat/(sqrt(v_hat) + eps),
    in torch's order (amsgrad: v_max, the running max of v, in v_hat)."""
    b1, b2, eps = hp.b1, hp.b2, hp.eps
    tmp, g = scratch[0], _decayed(grad, w, hp.wd, scratch[1])
    t = step + 1
    _ema(m, g, b1, tmp)
    _ema(v, np.multiply(g, g, out=tmp), b2, tmp)
    if v_max is not None:
        np.maximum(v_max, v, out=v_max)
    # torch's order: denom = sqrt(v)/sqrt(1-b2^t) + eps; w -= (lr/(1-b1^t)) * m/denom
    np.sqrt(v if v_max is None else v_max, out=tmp)
    np.divide(tmp, math.sqrt(1.0 - b2**t), out=tmp)
    np.add(tmp, eps, out=tmp)
    np.divide(m, tmp, out=tmp)
    np.multiply(tmp, lr / (1.0 - b1**t), out=tmp)
    np.subtract(w, tmp, out=w)


# -- hyperparameters, checked once by the factories; the rules read them ------------------------------------------

class _Sgd(NamedTuple):
    mu: float
    damp: float
    nesterov: bool
    wd: float


class _Adagrad(NamedTuple):
    lr_decay: float
    wd: float
    start: float
    eps: float


class _Rmsprop(NamedTuple):
    alpha: float
    eps: float
    wd: float
    mu: float
    centered: bool


class _Adam(NamedTuple):
    b1: float
    b2: float
    eps: float
    wd: float
    amsgrad: bool


def _scratch(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two arrays shaped like w: the rule's temporary and the weight-decayed gradient."""
    return np.empty_like(w), np.empty_like(w)


def _sgd_rule(momentum, dampening, nesterov, weight_decay) -> _Sgd:
    mu = _number("momentum", momentum, *_UNIT)
    damp = _number("dampening", dampening, "in [0, 1]", lambda x: 0 <= x <= 1)
    nesterov = _flag("nesterov", nesterov)
    wd = _number("weight_decay", weight_decay, *_NON_NEGATIVE)
    if nesterov and (mu == 0 or damp != 0):
        raise ValueError("nesterov=True requires momentum > 0 and dampening = 0; "
                         f"got momentum={mu}, dampening={damp}")
    return _Sgd(mu, damp, nesterov, wd)


def _adagrad_rule(lr_decay, weight_decay, initial_accumulator_value, eps) -> _Adagrad:
    return _Adagrad(_number("lr_decay", lr_decay, *_NON_NEGATIVE),
                    _number("weight_decay", weight_decay, *_NON_NEGATIVE),
                    _number("initial_accumulator_value", initial_accumulator_value, *_NON_NEGATIVE),
                    _number("eps", eps, *_POSITIVE))


def _rmsprop_rule(alpha, eps, weight_decay, momentum, centered) -> _Rmsprop:
    return _Rmsprop(_number("alpha", alpha, *_UNIT), _number("eps", eps, *_POSITIVE),
                    _number("weight_decay", weight_decay, *_NON_NEGATIVE), _number("momentum", momentum, *_UNIT),
                    _flag("centered", centered))


def _adam_rule(betas, eps, weight_decay, amsgrad) -> _Adam:
    if (isinstance(betas, str) or not hasattr(betas, "__len__") or len(betas) != 2
            or not all(isinstance(b, numbers.Real) and not isinstance(b, bool) and 0 <= b < 1
                       for b in betas)):
        raise ValueError(f"betas must be a pair of numbers in [0, 1); got {betas!r}")
    return _Adam(float(betas[0]), float(betas[1]), _number("eps", eps, *_POSITIVE),
                 _number("weight_decay", weight_decay, *_NON_NEGATIVE), _flag("amsgrad", amsgrad))


def sgd(lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0) -> Optimizer:
    """SGD: g += wd*w; b = g (step 1) else mu*b + (1-dampening)*g; w -= lr*(g + mu*b if nesterov else b)."""
    lr_at, rule = _lr_schedule(lr), _sgd_rule(momentum, dampening, nesterov, weight_decay)

    def init(w):
        w = _float_array(w)
        return SGDState(0, np.zeros_like(w) if rule.mu else None)

    def update(grad, state, w):
        step, buf = state
        _sgd_step(rule, w, grad, buf, _scratch(w), lr_at(step), step)
        return w, SGDState(step + 1, buf)

    return Optimizer(init, update)


def adagrad(lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10) -> Optimizer:
    """Adagrad: g += wd*w; clr = lr/(1+(t-1)*lr_decay); sum += g^2; w -= clr*g/(sqrt(sum)+eps)."""
    lr_at, rule = _lr_schedule(lr), _adagrad_rule(lr_decay, weight_decay, initial_accumulator_value, eps)

    def init(w):
        return AdagradState(0, np.full_like(_float_array(w), rule.start))

    def update(grad, state, w):
        step, total = state
        _adagrad_step(rule, w, grad, total, _scratch(w), lr_at(step), step)
        return w, AdagradState(step + 1, total)

    return Optimizer(init, update)


def rmsprop(lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False) -> Optimizer:
    """RMSprop: g += wd*w; v = a*v + (1-a)*g^2; b = mu*b + g/(sqrt(v)+eps); w -= lr*b (b = 0 initially).

    centered: ``g_avg = a*g_avg + (1-a)*g`` and ``v - g_avg^2`` under the square root.
    """
    lr_at, rule = _lr_schedule(lr), _rmsprop_rule(alpha, eps, weight_decay, momentum, centered)

    def init(w):
        w = _float_array(w)
        return RMSpropState(0, np.zeros_like(w), np.zeros_like(w) if rule.mu else None,
                            np.zeros_like(w) if rule.centered else None)

    def update(grad, state, w):
        step, square_avg, buf, grad_avg = state
        _rmsprop_step(rule, w, grad, square_avg, buf, grad_avg, _scratch(w), lr_at(step))
        return w, RMSpropState(step + 1, square_avg, buf, grad_avg)

    return Optimizer(init, update)


def adam(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False) -> Optimizer:
    """Adam: g += wd*w; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; w -= lr*m_hat/(sqrt(v_hat)+eps).

    m_hat = m/(1-b1^t), v_hat = v/(1-b2^t); amsgrad uses the running max of v in v_hat.
    """
    lr_at, rule = _lr_schedule(lr), _adam_rule(betas, eps, weight_decay, amsgrad)

    def init(w):
        w = _float_array(w)
        return AdamState(0, np.zeros_like(w), np.zeros_like(w), np.zeros_like(w) if rule.amsgrad else None)

    def update(grad, state, w):
        step, m, v, v_max = state
        _adam_step(rule, w, grad, m, v, v_max, _scratch(w), lr_at(step), step)
        return w, AdamState(step + 1, m, v, v_max)

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


UPDATERS = ("sgd", "adam")  # the optimizers the runner's hot loop and stacked runs step with make_updater


def make_updater(name: str, hp: dict, w: np.ndarray):
    """update(grad, lr, step): one step of optimizer ``name`` on ``w`` in place, buffers allocated once, or None.

    The same rule bodies as ``make_optimizer``, so a run gives bit-identical weights either way. ``lr`` is a float or
    an array that broadcasts against ``w`` (one rate per stacked run: see stacked.py); ``step`` counts the updates
    done so far (0 first). ``update.state`` holds the arrays shaped like ``w`` (stacked.py zeroes retired runs).
    Covered: sgd without dampening and adam without amsgrad (None otherwise: the runner calls Optimizer.update).
    """
    if name not in UPDATERS or hp.get("dampening", 0.0) or hp.get("amsgrad", False):
        return None
    allowed = hyperparameters(name)
    rule = (_sgd_rule if name == "sgd" else _adam_rule)(**{k: hp.get(k, v) for k, v in allowed.items()})
    scratch = _scratch(w)
    if name == "sgd":
        buf = np.zeros_like(w) if rule.mu else None

        def update(grad, lr, step):
            _sgd_step(rule, w, grad, buf, scratch, lr, step)

        update.state = () if buf is None else (buf,)
    else:
        m, v = np.zeros_like(w), np.zeros_like(w)

        def update(grad, lr, step):
            _adam_step(rule, w, grad, m, v, None, scratch, lr, step)

        update.state = (m, v)
    return update
