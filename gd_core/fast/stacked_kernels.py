"""Step kernels of stacked runs (gd_core.train.stacked): every run of a group in one array, one vectorised step.

Shapes: S seeds (each its own batch order), L learning rates (one order per seed), C outputs (C = 1 for least
squares and logistic), D features. Parameters `P (S, D+1, L, C)` (stacked.py), seen as `P2 (S, D+1, L*C)`: each
seed's runs side by side, the bias as row D. Batches are rows of a chunk `Xc (S, rows, D+1)` (stacked.py gathers
a chunk of steps at once) whose column D holds ones, so the bias rides in the products: the scores of a batch of
b rows are one batched product, kept transposed, `P2^T @ Xb^T -> (S, L*C, b)` (the reductions over C then run
along contiguous rows of b), and the gradient, bias included, is `Xb^T @ dz^T -> (S, D+1, L*C)`. A chunk without
the ones column (`Xc (S, rows, D)`: a contiguous gather, cheaper with many rows a step) adds the bias to the
scores and sums dz for its gradient instead.

StackedStep: one step at any batch size and optimizer. `forward` computes scores and the per-run batch losses
`(S, L)` only when asked (`exact`) or when a cheap bound cannot rule out divergence (the bound, per model, is in
`_thresholds`); `backward` writes the gradient `G` (like P), or with plain SGD (`fold`) applies the update
itself: the per-run `lr / b` is folded into dz, so `P2 -= Xb^T @ dz^T` is the whole update.

OneExampleWindow (B = 1 plain SGD, many runs) is in stacked_window.py.
Over 300 lines on purpose: StackedStep is one class whose methods share its buffers and bounds.
"""

from __future__ import annotations

import math

import numpy as np

from ..problems import LeastSquares, Logistic, Softmax

SOFTMAX, LSQ, LOGISTIC = 0, 1, 2
MARGIN = 1e-3  # relative slack of the divergence bounds (float rounding of the bounded quantities)


def problem_kind(problem) -> int:
    kind = type(problem)
    if kind is Softmax:
        return SOFTMAX
    if kind is LeastSquares:
        return LSQ
    if kind is Logistic:
        return LOGISTIC
    raise ValueError(f"no stacked kernel for {kind.__name__}")


def min_active_limit(limits: np.ndarray, active: np.ndarray) -> float:
    """The smallest divergence limit of the active runs (inf if none)."""
    return float(limits[active].min()) if active.any() else math.inf


class StackedStep:
    """Loss and gradient (and, with `fold`, the plain-SGD update) of all stacked runs on one batch per seed.

    Xc (S, K*B, D+1), yc (S, K*B): the chunk buffers (column D of Xc holds ones; or Xc (S, K*B, D): no bias
    column); step j of a chunk reads rows j*B ... j*B + b. `fold`: plain SGD (no momentum, no weight decay):
    backward updates P itself (with the L2 term as a per-run decay); else backward leaves the gradient (L2 term
    included) in G for the updater.
    """

    def __init__(self, problem, P, G, fold: bool, B: int, Xc, yc):
        S, D1, L, C = P.shape
        self.kind, self.S, self.L, self.C, self.D, self.B = problem_kind(problem), S, L, C, D1 - 1, B
        self.P, self.G, self.fold, self.reg = P, G, fold, float(problem.reg)
        self.dt = dt = P.dtype
        self.P2 = P.reshape(S, D1, L * C)
        self.G2 = G.reshape(S, D1, L * C)
        if not (np.shares_memory(self.P2, P) and np.shares_memory(self.G2, G)):
            raise ValueError("P and G must be C-contiguous")
        self.bias_col = Xc.shape[2] == D1  # else the bias is added to the scores and summed from dz
        self.A = self.P2.transpose(0, 2, 1) if self.bias_col else self.P2[:, :D1 - 1].transpose(0, 2, 1)
        self.bcol = self.P2[:, D1 - 1][:, :, None]  # (S, L*C, 1)
        self.G2W, self.G2b = self.G2[:, :D1 - 1], self.G2[:, D1 - 1]
        self.W, self.GW = P[:, :self.D], G[:, :self.D]
        self.Wsq = np.empty_like(self.W) if self.reg else None
        self.pen = np.zeros((S, L), dt)
        self.losses = np.empty((S, L), dt)
        self.lr = np.zeros((S, L))  # the runs' learning rates (set_lr)
        self.decay = np.ones((S, 1, L, 1), dt)  # fold with L2: W *= 1 - lr * reg
        self.scales: dict[int, np.ndarray] = {}  # b -> (S, L, 1, 1): lr / b (fold) or 1 / b
        self.bufs: dict[int, tuple] = {}
        self.limit = math.inf  # smallest active divergence limit
        self.limits_active, self.active = np.empty(0), np.zeros((S, L), bool)
        self.thr = -math.inf
        self.shift_ok = False
        self.Xc, self.yc = Xc, yc
        K = Xc.shape[1] // B
        if self.kind == SOFTMAX:  # step j: flat index of each row's correct class in the (S, L, C, B) scores
            self.fbase = (np.arange(S * L) * C * B).reshape(S, L, 1) + np.arange(B)  # class 0
            self.ytmp = np.empty((K, S, 1, B), np.intp)
            self.yv = np.empty((K, S, L, B), np.intp)  # contiguous per step: take / put copy strided indices
        elif self.kind == LOGISTIC:
            self.yv = np.empty((S, 1, K * B), dt)  # 1 - 2y
        else:
            self.yv = yc[:, None, :]
        self.views = [self._views(j, B) for j in range(K)]

    # -- per-chunk and per-step inputs ---------------------------------------------------------------------------

    def prepare(self, rows: int) -> None:
        """Derive the label inputs of the chunk's first `rows` rows (after the caller filled yc)."""
        if self.kind == SOFTMAX:  # full steps only: a partial last batch gets its indices in _views
            k, B = rows // self.B, self.B
            if k:
                y3 = self.yc[:, :k * B].reshape(self.S, k, B).transpose(1, 0, 2)[:, :, None, :]
                np.multiply(y3, B, out=self.ytmp[:k])
                np.add(self.fbase, self.ytmp[:k], out=self.yv[:k])
        elif self.kind == LOGISTIC:
            yv = self.yv[:, 0, :rows]
            np.multiply(self.yc[:, :rows], -2, out=yv, casting="unsafe")
            np.add(yv, 1, out=yv)

    def _views(self, j, b):
        r = slice(j * self.B, j * self.B + b)
        XT = self.Xc[:, r].transpose(0, 2, 1)
        if self.kind == SOFTMAX and b != self.B:  # partial batch: its own (S, L, C, b) score layout
            S, L, C = self.S, self.L, self.C
            idx = (np.arange(S * L) * C * b).reshape(S, L, 1) + np.arange(b) + self.yc[:, None, r] * b
            return XT, idx
        return XT, self.yv[j] if self.kind == SOFTMAX else self.yv[:, :, r]

    def step_views(self, j: int, b: int):
        """(X^T (S, D+1, b), label input) of step j of the chunk."""
        return self.views[j] if b == self.B else self._views(j, b)

    # -- learning rates and limits -------------------------------------------------------------------------------

    def set_lr(self, lr: np.ndarray) -> None:
        """lr (S, L): the runs' current learning rates (0 for retired runs)."""
        np.copyto(self.lr, lr)
        for b in self.scales:
            self._fill_scale(b)
        if self.fold and self.reg:
            np.multiply(lr.reshape(self.decay.shape), -self.reg, out=self.decay, casting="unsafe")
            np.add(self.decay, 1, out=self.decay)
        self._thresholds()

    def set_limits(self, limits: np.ndarray, active: np.ndarray) -> None:
        """limits (S, L): the runs' divergence limits; active (S, L): the runs still training."""
        self.limit = min_active_limit(limits, active)
        self.limits_active = limits[active]
        self.active = active.copy()
        self._thresholds()

    def _fill_scale(self, b):
        s = self.scales[b]
        if self.fold:
            np.multiply(self.lr.reshape(s.shape), 1 / b, out=s, casting="unsafe")
        else:
            s.fill(1 / b)

    def _scale(self, b):
        if b not in self.scales:
            self.scales[b] = np.empty((self.S, self.L, 1, 1), self.dt)
            self._fill_scale(b)
        return self.scales[b]

    def _thresholds(self):
        """The cheap bounds under which no run can have passed its limit (forward computes exact losses otherwise).

        softmax: scores shifted by the correct class's score make each row's loss log(sum of exp); a finite sum
        bounds it by log(float max), so the shift is used (`shift_ok`) while every limit is above that.
        logistic: loss <= max(m, 0) + log 2, passes when max(m) <= thr. least squares: with dz = scale * r,
        sum(dz * r) = sum over runs of scale * (sum of squared residuals) <= T implies every run's loss <= its
        limit for T = min over runs of 2 limit lr (fold: scale = lr / b) or 2 limit (scale = 1 / b).
        With an L2 term the bounds always fail (exact losses every step)."""
        lim = self.limit * (1 - MARGIN)
        if self.kind == SOFTMAX:
            self.shift_ok = lim > math.log(np.finfo(self.dt).max) + 10
        elif self.kind == LOGISTIC:
            t = lim - math.log(2.0) - 1.0
            self.thr = -math.inf if self.reg or not t > 0 else t
        else:
            lims = self.limits_active
            if lims.size:
                sc = self.lr[self.active] if self.fold else 1.0
                with np.errstate(invalid="ignore"):  # inf * 0 before the first limits: NaN, never passes
                    T = 2.0 * (1 - MARGIN) * float(np.min(lims * sc))
            else:
                T = math.inf
            self.thr = -math.inf if self.reg or not T > 0 else T

    # -- the step ------------------------------------------------------------------------------------------------

    def _buffers(self, b):
        if b not in self.bufs:
            S, L, C, dt = self.S, self.L, self.C, self.dt
            if self.kind == SOFTMAX:
                ST = np.empty((S, L * C, b), dt)
                sm = np.empty((S, L, 1, b), dt)
                self.bufs[b] = (ST, ST.reshape(S, L, C, b), ST.reshape(-1), np.empty((S, L, 1, b), dt), sm,
                                sm.reshape(S, L, b), np.empty((S, L, b), dt), np.empty((S, L, b), dt),
                                np.empty((S, L, b), dt), ST.transpose(0, 2, 1), None)
                pk = self.bufs[b][6]
                self.bufs[b] = self.bufs[b][:-1] + (pk.reshape(S, L, 1, b),)
            else:
                Z = np.empty((S, L, b), dt)
                self.bufs[b] = (Z, np.empty((S, L, b), dt), np.empty((S, L, b), dt), Z.transpose(0, 2, 1))
        return self.bufs[b]

    def _penalty(self):
        np.multiply(self.W, self.W, out=self.Wsq)
        np.add.reduce(self.Wsq, axis=(1, 3), out=self.pen)
        np.multiply(self.pen, 0.5 * self.reg, out=self.pen)

    def forward(self, XT, yv, b: int, exact: bool):
        """Scores of the batch; returns the losses (S, L) (a buffer) when `exact` or when the bound fails, else None."""
        if self.reg:
            self._penalty()
        losses = self.losses
        if self.kind == SOFTMAX:
            ST, ST4, STf, mx, sm, sm3, pk, lg, _, _, pk4 = self._buffers(b)
            np.matmul(self.A, XT, out=ST)
            if not self.bias_col:
                np.add(ST, self.bcol, out=ST)
            if self.shift_ok:  # shifted by the correct class's score: loss = log(sum), no row max needed
                STf.take(yv, out=pk, mode="clip")
                np.subtract(ST4, pk4, out=ST4)
                np.exp(ST4, out=ST4)
                np.add.reduce(ST4, axis=2, keepdims=True, out=sm)
                if math.isfinite(np.add.reduce(sm3, axis=None)):  # then every loss <= log(float max) < limit
                    if not (exact or self.reg):
                        return None
                    np.log(sm3, out=lg)
                    np.add.reduce(lg, axis=2, out=losses)
                    return self._mean_losses(b)
                np.matmul(self.A, XT, out=ST)  # an exp overflowed: again, shifted by the row max
                if not self.bias_col:
                    np.add(ST, self.bcol, out=ST)
            np.maximum.reduce(ST4, axis=2, keepdims=True, out=mx)
            np.subtract(ST4, mx, out=ST4)
            STf.take(yv, out=pk, mode="clip")  # correct-class scores (<= 0)
            np.exp(ST4, out=ST4)
            np.add.reduce(ST4, axis=2, keepdims=True, out=sm)
            np.log(sm3, out=lg)
            np.subtract(lg, pk, out=lg)
            np.add.reduce(lg, axis=2, out=losses)
        elif self.kind == LSQ:
            Z, DZ, SQ, _ = self._buffers(b)
            np.matmul(self.A, XT, out=Z)
            if not self.bias_col:
                np.add(Z, self.bcol, out=Z)
            np.subtract(Z, yv, out=Z)  # residuals
            np.multiply(Z, self._scale(b)[..., 0], out=DZ)  # dz, scaled (lr / b or 1 / b)
            if not exact and np.vdot(DZ, Z) <= self.thr:
                return None
            np.multiply(Z, Z, out=SQ)
            np.add.reduce(SQ, axis=2, out=losses)
            losses *= 0.5
        else:  # logistic: m = (1 - 2y) z, loss softplus(m), dL/dz = (1 - 2y) sigmoid(m)
            Z, M, SP, _ = self._buffers(b)
            np.matmul(self.A, XT, out=Z)
            if not self.bias_col:
                np.add(Z, self.bcol, out=Z)
            np.multiply(Z, yv, out=M)
            self._sp_ready = False
            if not exact and np.maximum.reduce(M, axis=None) <= self.thr:
                return None
            np.logaddexp(0, M, out=SP)
            self._sp_ready = True
            np.add.reduce(SP, axis=2, out=losses)
        return self._mean_losses(b)

    def fused_step(self, b: int):
        """Plain SGD on least squares without an L2 term, batches of b rows: f(XT, yv) -> True after a whole
        step (forward with the bound, then backward) when the divergence bound holds, else False with P as it
        was (the caller then takes forward/backward for the exact losses). The same NumPy calls as those two,
        without their dispatch: ~20% of an 8-seed B = 32 step. None where it does not apply."""
        if not (self.kind == LSQ and self.fold and not self.reg):
            return None
        Z, DZ, _, _ = self._buffers(b)
        DZT, sc = DZ.transpose(0, 2, 1), self._scale(b)[..., 0]  # sc: a view, refreshed in place by set_lr
        A, bcol, P2, G2, G2W, G2b, bias_col = self.A, self.bcol, self.P2, self.G2, self.G2W, self.G2b, self.bias_col
        matmul, add, subtract, multiply, vdot, add_reduce = (np.matmul, np.add, np.subtract, np.multiply, np.vdot,
                                                              np.add.reduce)

        def step(XT, yv) -> bool:
            matmul(A, XT, out=Z)
            if not bias_col:
                add(Z, bcol, out=Z)
            subtract(Z, yv, out=Z)
            multiply(Z, sc, out=DZ)
            if not vdot(DZ, Z) <= self.thr:
                return False
            if bias_col:
                matmul(XT, DZT, out=G2)
            else:
                matmul(XT, DZT, out=G2W)
                add_reduce(DZ, axis=2, out=G2b)
            subtract(P2, G2, out=P2)
            return True

        return step

    def _mean_losses(self, b):
        """The summed per-row losses in self.losses -> the batch means, plus the L2 term."""
        losses = self.losses
        losses *= 1 / b
        if self.reg:
            losses += self.pen
        return losses

    def _grad(self, XT, dz, dzT):
        """G2 = X^T dz^T (dz (S, L*C, b)), bias row included."""
        if self.bias_col:
            np.matmul(XT, dzT, out=self.G2)
        else:
            np.matmul(XT, dzT, out=self.G2W)
            np.add.reduce(dz, axis=2, out=self.G2b)

    def backward(self, XT, yv, b: int) -> None:
        """After forward on the same batch: the gradient into G, or (fold) the SGD update of P."""
        sc = self._scale(b)
        if self.kind == SOFTMAX:
            ST, ST4, STf, _, sm, _, _, _, pk2, STT, _ = self._buffers(b)
            np.divide(sc, sm, out=sm)
            np.multiply(ST4, sm, out=ST4)  # scale * softmax
            STf.take(yv, out=pk2, mode="clip")
            np.subtract(pk2, sc[..., 0], out=pk2)  # minus scale * onehot
            STf.put(yv, pk2, mode="clip")
            self._grad(XT, ST, STT)
        elif self.kind == LSQ:
            _, DZ, _, _ = self._buffers(b)
            self._grad(XT, DZ, DZ.transpose(0, 2, 1))
        else:
            Z, M, SP, ZT = self._buffers(b)
            if not self._sp_ready:
                np.logaddexp(0, M, out=SP)
            np.subtract(M, SP, out=M)
            with np.errstate(under="ignore"):
                np.exp(M, out=M)  # sigmoid(m)
            np.multiply(M, yv, out=Z)
            np.multiply(Z, sc[..., 0], out=Z)
            self._grad(XT, Z, ZT)
        if self.fold:
            if self.reg:
                np.multiply(self.W, self.decay, out=self.W)
            np.subtract(self.P2, self.G2, out=self.P2)
        elif self.reg:
            np.multiply(self.W, self.reg, out=self.Wsq)
            np.add(self.GW, self.Wsq, out=self.GW)
