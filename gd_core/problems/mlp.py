"""Two-layer network: `X -> ReLU(X W1 + b1) -> softmax(h W2 + b2)` (cs231n assignment 1 `TwoLayerNet`).

Build it with `make_problem("mlp", ...)`.
"""

import numpy as np

from .base import Problem, softmax_cross_entropy


class MLP(Problem):
    """Parameters `W1 (D, H), b1 (H,), W2 (H, C), b2 (C,)` in that order in the flat vector."""

    name = "mlp"

    def __init__(self, n_features: int, n_classes: int, reg: float, *, hidden: int = 32):
        self.hidden = hidden  # set first: the base class reads the layout
        super().__init__(n_features, n_classes, reg)

    def _layout(self):
        D, H, C = self.n_features, self.hidden, self.n_classes
        return [("W1", (D, H), D * H), ("b1", (H,), H), ("W2", (H, C), H * C), ("b2", (C,), C)]

    def init_params(self, rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
        """He init `randn * sqrt(2 / fan_in)` for W1 (a ReLU follows), `sqrt(1 / H)` for the linear
        output layer, zero biases. (n_params,); drawn in float64 then cast."""
        D, H, C = self.n_features, self.hidden, self.n_classes
        w = np.zeros(self.n_params)
        p = self.unpack(w)
        p["W1"][...] = rng.standard_normal((D, H)) * np.sqrt(2.0 / D)
        p["W2"][...] = rng.standard_normal((H, C)) * np.sqrt(1.0 / H)
        return w.astype(dtype)

    def forward(self, w, X):
        """Return hidden activations h (n, H) and scores (n, C)."""
        p = self.unpack(w)
        h = X @ p["W1"]
        h += p["b1"]
        np.maximum(h, 0, out=h)  # ReLU in place: h == 0 exactly where the unit is off
        scores = h @ p["W2"]
        scores += p["b2"]
        return h, scores

    def scores(self, w, X):
        return self.forward(w, X)[1]

    def _data_loss(self, w, X, y):
        return softmax_cross_entropy(self.scores(w, X), y, want_grad=False)

    def _data_loss_and_grad(self, w, X, y, grad):
        p, g = self.unpack(w), self.unpack(grad)
        h, dscores = self.forward(w, X)
        loss = softmax_cross_entropy(dscores, y, want_grad=True)  # dscores = dL/dscores (n, C)
        np.matmul(h.T, dscores, out=g["W2"])
        dscores.sum(axis=0, out=g["b2"])
        dh = dscores @ p["W2"].T  # (n, H)
        dh *= h > 0  # ReLU passes gradient only through active units (a multiply beats a masked write)
        np.matmul(X.T, dh, out=g["W1"])
        dh.sum(axis=0, out=g["b1"])
        return loss
