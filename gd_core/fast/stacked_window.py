"""The fused B = 1 path of stacked runs (gd_core.train.stacked), OneExampleWindow.

B = 1 plain SGD without L2 for all runs, `window` rows at a time with the weights updated once per window:
with `P_t = P_0 - sum_{k<t} x_k dz_k^T`, the scores of row t are
`x_t P_0 - sum_{k<t} (x_t . x_k) dz_k`, so one product gives `x_t P_0` for the whole window, one the Gram matrix
`x_t . x_k`, and a step costs a short (1, t) @ (t, L*C) product plus the elementwise work: sequential SGD, summed
in another order. The parts of dz known in advance (`lr * onehot(y)` for softmax, `lr * y` for least squares)
are moved into the window's base scores. Divergence is checked once per window: softmax scores are shifted by
the correct class's score, so a finite sum of exponentials bounds the loss by log(float max), far below any
divergence limit; least squares compares every step's loss with its limit; logistic bounds softplus(m) by
max(m, 0) + log 2. A window that fails its check leaves the weights untouched (it returns False) and the caller
replays its rows with StackedStep (stacked_kernels.py), which finds the step that diverged.
"""

from __future__ import annotations

import math

import numpy as np

from .stacked_kernels import LOGISTIC, LSQ, MARGIN, SOFTMAX, min_active_limit, problem_kind


class OneExampleWindow:
    """B = 1 plain SGD (no L2) of all stacked runs, `window` rows per weight update (module docstring).

    `run(Xc, yc, m, want_loss)` trains on the chunk's first m rows (one per step; Xc (S, >= m, D+1) with ones in
    column D, yc (S, >= m)) with the learning rates in `self.lr` (S, window, L): lr of run (s, l) at step t.
    Returns False, with P untouched, when the window's divergence check fails; else updates P and, with
    want_loss, leaves the last step's batch losses in `self.losses` (S, L).
    """

    def __init__(self, problem, P, window: int):
        """Views of P and every buffer of a window, allocated once (just over 60 lines: one list of buffers)."""
        S, D1, L, C = P.shape
        M, LC, dt = window, L * C, P.dtype
        self.kind, self.S, self.L, self.C, self.M = problem_kind(problem), S, L, C, window
        self.P2 = P.reshape(S, D1, LC)
        if not np.shares_memory(self.P2, P):
            raise ValueError("P must be C-contiguous")
        self.G2 = np.empty_like(self.P2)
        self.Sb = np.empty((S, M, LC), dt)  # x_t P_0 (+ the known parts of dz's effect)
        self.GL = np.empty((S, M, M), dt)  # x_t . x_k for k < t, else 0
        self.mask = np.tril(np.ones((M, M), dt), -1)
        self.DZ = np.empty((S, M, LC), dt)  # each step's dz (minus the known parts)
        self.lr = np.zeros((S, M, L), dt)
        self.losses = np.empty((S, L), dt)
        self.ok_limits = False
        self.thr = -math.inf
        # Per-step views, built once. One seed: 2-D rows and np.dot (half the call cost of a batched matmul).
        one = S == 1
        self.mm = np.dot if one else np.matmul

        def at(a, t):  # step t's row of an (S, M, ...) buffer
            return a[0, t] if one else a[:, t:t + 1]

        def gram(t):
            return None if t == 0 else self.GL[0, t, :t] if one else self.GL[:, t:t + 1, :t]

        def before(a, t):
            return a[0, :t] if one else a[:, :t]

        self.srow = np.empty(LC if one else (S, 1, LC), dt)
        views = []
        if self.kind == SOFTMAX:
            self.Y = np.zeros((S, M, LC), dt)
            self.DZf, self.Yf = self.DZ.reshape(-1), self.Y.reshape(-1)
            self.ybase = (np.arange(S * M * L) * C).reshape(S, M, L, 1)
            self.yidx = np.empty((S, M, L, 1), np.intp)  # flat index of the correct class in DZ / Y
            self.TOT = np.empty((S, M, L, 1), dt)  # sum of exp(score - correct-class score)
            self.cb = np.empty((L, 1) if one else (S, 1, L, 1), dt)
            self.q = np.empty(L if one else (S, 1, L, 1), dt)
            self.q1 = self.q[:, None] if one else self.q
            self.ones = np.ones(C if one else (C, 1), dt)
            DZ4, lr4 = self.DZ.reshape(S, M, L, C), self.lr.reshape(S, M, L, 1)
            for t in range(M):
                views.append((gram(t), before(self.DZ, t), at(self.Sb, t), at(self.DZ, t), at(DZ4, t),
                              at(self.yidx, t), self.TOT[0, t, :, 0] if one else self.TOT[:, t:t + 1],
                              self.lr[0, t] if one else lr4[:, t:t + 1]))
        else:
            self.Zh = np.empty((S, M, L), dt)  # each step's scores (least squares) / (2y - 1) z (logistic)
            self.E = np.empty((S, M, L), dt)
            if self.kind == LSQ:
                self.Y = np.zeros((S, M, L), dt)
            else:
                self.A = np.empty((S, M, 1), dt)  # 2y - 1
                self.NLRA = np.empty((S, M, L), dt)  # -(2y - 1) lr
                self.Mh = np.empty((S, M, L), dt)
                self.q = np.empty(L if one else (S, 1, L), dt)
            for t in range(M):
                extra = ((at(self.lr, t),) if self.kind == LSQ else
                         (at(self.A, t), at(self.Mh, t), at(self.NLRA, t)))
                views.append((gram(t), before(self.DZ, t), at(self.Sb, t), at(self.Zh, t), at(self.DZ, t), *extra))
        self.views = views

    def set_limits(self, limits: np.ndarray, active: np.ndarray) -> None:
        lim = min_active_limit(limits, active) * (1 - MARGIN)
        self.limits = (limits * (1 - MARGIN)).astype(self.DZ.dtype)[:, None, :]  # (S, 1, L), a little under
        if self.kind == SOFTMAX:  # no overflow => loss <= log(float max): must be under every limit
            self.ok_limits = lim > math.log(np.finfo(self.DZ.dtype).max) + 10
        elif self.kind == LOGISTIC:
            self.thr = lim - math.log(2.0) - 1.0
            self.ok_limits = self.thr > 0
        else:
            self.ok_limits = True

    def run(self, Xc, yc, m: int, want_loss: bool) -> bool:
        """Trains the window of m steps (m rows of each seed's chunk): True if done, False if a divergence bound
        failed and the caller replays the window step by step (train/stacked.py).

        One method on purpose (over 60 lines): a window is a fixed sequence of batched products over locals;
        helpers would add calls per window without making the algebra (module docstring) easier to follow."""
        Xw = Xc[:, :m]
        XwT = Xw.transpose(0, 2, 1)
        Sb, DZ, GL, lr = self.Sb[:, :m], self.DZ[:, :m], self.GL[:, :m, :m], self.lr[:, :m]
        np.matmul(Xw, self.P2, out=Sb)
        np.matmul(Xw, XwT, out=GL)
        np.multiply(GL, self.mask[:m, :m], out=GL)
        srow, mm = self.srow, self.mm

        def scores(g, dzp, sb, out):
            """A step's scores: its base scores minus the window's earlier updates (none for the first step)."""
            if g is None:
                np.copyto(out, sb)
            else:
                mm(g, dzp, out=srow)
                np.subtract(sb, srow, out=out)

        if self.kind == SOFTMAX:
            Y, yidx = self.Y[:, :m], self.yidx[:, :m]
            np.add(self.ybase[:, :m], yc[:, :m, None, None], out=yidx)
            Y.fill(0)
            self.Yf.put(yidx, lr, mode="clip")  # Y: lr at each step's correct class
            np.matmul(GL, Y, out=DZ)
            np.add(Sb, DZ, out=Sb)
            take, cb, q, q1, ones = self.DZf.take, self.cb, self.q, self.q1, self.ones
            for g, dzp, sb, dz, s4, fl, tot, lrt in self.views[:m]:
                scores(g, dzp, sb, dz)
                take(fl, out=cb, mode="clip")
                np.subtract(s4, cb, out=s4)  # shift by the correct class's score: exp overflows before a divergence
                np.exp(s4, out=s4)
                mm(s4, ones, out=tot)
                np.divide(lrt, tot, out=q)
                np.multiply(s4, q1, out=s4)  # lr * softmax
            if not math.isfinite(np.add.reduce(self.TOT[:, :m], axis=None)):
                return False
            np.subtract(DZ, Y, out=DZ)
            if want_loss:
                np.log(self.TOT[:, m - 1, :, 0], out=self.losses)
        elif self.kind == LSQ:
            Y, yv = self.Y[:, :m], yc[:, :m, None]
            np.multiply(lr, yv, out=Y)
            np.matmul(GL, Y, out=DZ)
            np.add(Sb, DZ, out=Sb)
            for g, dzp, sb, z, dz, lrt in self.views[:m]:
                scores(g, dzp, sb, z)
                np.multiply(z, lrt, out=dz)
            E = self.E[:, :m]
            np.subtract(self.Zh[:, :m], yv, out=E)
            np.multiply(E, E, out=E)
            np.multiply(E, 0.5, out=E)  # each step's loss
            if not (E <= self.limits).all():
                return False
            np.subtract(DZ, Y, out=DZ)
            if want_loss:
                np.copyto(self.losses, self.E[:, m - 1])
        else:
            A, NLRA = self.A[:, :m], self.NLRA[:, :m]
            np.multiply(yc[:, :m, None], 2, out=A, casting="unsafe")
            np.subtract(A, 1, out=A)
            np.multiply(lr, A, out=NLRA)
            np.negative(NLRA, out=NLRA)
            q = self.q
            for g, dzp, sb, z, dz, a, mh, nlra in self.views[:m]:
                scores(g, dzp, sb, z)
                np.multiply(z, a, out=mh)  # -m = (2y - 1) z
                np.exp(mh, out=q)
                np.add(q, 1, out=q)
                np.divide(nlra, q, out=dz)  # lr * dL/dz = -(2y - 1) lr sigmoid(m)
            if not np.minimum.reduce(self.Mh[:, :m], axis=None) >= -self.thr:  # loss <= max(m, 0) + log 2
                return False
            if want_loss:
                np.negative(self.Mh[:, m - 1], out=self.losses)
                np.logaddexp(0, self.losses, out=self.losses)
        np.matmul(XwT, DZ, out=self.G2)
        np.subtract(self.P2, self.G2, out=self.P2)
        return True
