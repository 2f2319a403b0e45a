"""In-place optimizer steps for the runner's hot loop: the same arithmetic as `optimizers.py`, buffers allocated once.

`make_updater(name, hp, w)` returns `update(grad, lr, step)` that applies one step of optimizer `name` to
`w` in place, or None when the optimizer is not covered (the runner then calls `Optimizer.update`).
`lr` is a float, or an array that broadcasts against `w` (one learning rate per stacked run: see
stacked.py); `step` counts the updates done so far (0 first). The operations are those of
`optimizers.sgd` / `optimizers.adam` in the same order, so a single run gives bit-identical weights
(tests/test_fast_paths.py); only the temporaries are preallocated (`out=`) instead of allocated per step.
"""

from __future__ import annotations

import math

import numpy as np

UPDATERS = ("sgd", "adam")


def make_updater(name: str, hp: dict, w: np.ndarray):
    """update(grad, lr, step) for optimizer `name` with hyperparameters `hp` (as make_optimizer), or None."""
    if name == "sgd" and not hp.get("dampening", 0.0):
        return _sgd(w, hp.get("momentum", 0.0), hp.get("nesterov", False), hp.get("weight_decay", 0.0))
    if name == "adam" and not hp.get("amsgrad", False):
        return _adam(w, hp.get("betas", (0.9, 0.999)), hp.get("eps", 1e-8), hp.get("weight_decay", 0.0))
    return None


def _decayed(w, wd, buf):
    """g(grad) = grad + wd*w (into `buf`) when wd, else grad itself."""
    if not wd:
        return lambda grad: grad

    def g(grad):
        np.multiply(w, wd, out=buf)
        np.add(buf, grad, out=buf)
        return buf

    return g


# Closures update their arrays with ufunc calls (`np.multiply(m, b1, out=m)`): an augmented assignment
# (`m *= b1`) would make `m` a local name of the inner function.

def _sgd(w, mu, nesterov, wd):
    tmp = np.empty_like(w)
    g_of = _decayed(w, wd, np.empty_like(w))
    buf = np.zeros_like(w) if mu else None

    def update(grad, lr, step):
        g = g_of(grad)
        if buf is not None:
            if step == 0:
                np.copyto(buf, g)
            else:
                np.multiply(buf, mu, out=buf)
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

    update.state = () if buf is None else (buf,)  # arrays shaped like w (stacked.py zeroes retired runs)
    return update


def _adam(w, betas, eps, wd):
    b1, b2 = float(betas[0]), float(betas[1])
    tmp = np.empty_like(w)
    g_of = _decayed(w, wd, np.empty_like(w))
    m, v = np.zeros_like(w), np.zeros_like(w)

    def update(grad, lr, step):
        g = g_of(grad)
        t = step + 1
        np.multiply(g, 1.0 - b1, out=tmp)
        np.multiply(m, b1, out=m)
        np.add(m, tmp, out=m)
        np.multiply(g, g, out=tmp)
        np.multiply(tmp, 1.0 - b2, out=tmp)
        np.multiply(v, b2, out=v)
        np.add(v, tmp, out=v)
        # torch's order: denom = sqrt(v)/sqrt(1-b2^t) + eps; w -= (lr/(1-b1^t)) * m/denom
        np.sqrt(v, out=tmp)
        np.divide(tmp, math.sqrt(1.0 - b2**t), out=tmp)
        np.add(tmp, eps, out=tmp)
        np.divide(m, tmp, out=tmp)
        np.multiply(tmp, lr / (1.0 - b1**t), out=tmp)
        np.subtract(w, tmp, out=w)

    update.state = (m, v)
    return update
