"""Which examples each step sees: the notes' `sample_training_data`, as an epoch shuffle or with replacement.

The closed forms below (`examples_after`, `steps_for_examples`) let the runner place checkpoints evenly in
examples seen without materialising a per-step table (B = 1 on 1.2M examples is 1.2M steps an epoch).
"""

from __future__ import annotations

import math

import numpy as np


def sample_training_data(X, y, batch_size, rng):
    """cs231n's `sample_training_data(data, 256)`: a batch drawn with replacement. X: (N, D) -> (B, D)."""
    idx = rng.integers(0, X.shape[0], size=batch_size)
    return X[idx], y[idx]


def steps_per_epoch(n: int, batch_size: int, sampling: str) -> float:
    """Updates per pass over n examples: ceil(n/B) for an epoch shuffle (last partial batch kept), n/B else."""
    return math.ceil(n / batch_size) if sampling == "shuffle" else n / batch_size


def examples_after(step: int, n: int, batch_size: int, sampling: str) -> int:
    """Examples seen after `step` updates."""
    if sampling == "replacement":
        return step * batch_size
    spe = math.ceil(n / batch_size)
    epochs, within = divmod(step, spe)
    return epochs * n + min(within * batch_size, n)


def steps_for_examples(examples: float, n: int, batch_size: int, sampling: str) -> int:
    """The fewest updates after which at least `examples` examples have been seen."""
    if sampling == "replacement":
        return math.ceil(examples / batch_size - 1e-9)
    epochs, rest = divmod(examples, n)
    return int(epochs) * math.ceil(n / batch_size) + math.ceil(rest / batch_size - 1e-9)


class BatchSampler:
    """Yields the index batches of one run.

    shuffle: a fresh permutation every epoch; batches are consecutive slices of it, the last one partial
    (each example exactly once per epoch). replacement: every batch drawn independently, uniformly.
    Full batch (B = N, shuffle) never shuffles: the order cannot change the mean gradient.
    `next()` returns a view of the permutation, which the next epoch reshuffles in place: copy the
    indices if you keep them past the step.
    """

    def __init__(self, n: int, batch_size: int, sampling: str, rng: np.random.Generator):
        self.n, self.batch_size, self.sampling, self.rng = n, batch_size, sampling, rng
        self.full = batch_size >= n and sampling == "shuffle"
        self.perm = np.arange(n)
        self.pos = n  # start a new epoch on the first call

    def next(self) -> np.ndarray | None:
        """Indices of the next batch, or None for 'all examples in order' (full batch)."""
        if self.full:
            return None
        if self.sampling == "replacement":
            return self.rng.integers(0, self.n, size=self.batch_size)
        if self.pos >= self.n:
            self.rng.shuffle(self.perm)  # in place on a persistent array: no per-epoch allocation
            self.pos = 0
        idx = self.perm[self.pos:self.pos + self.batch_size]
        self.pos += self.batch_size
        return idx

    def next_rows(self, steps: int) -> list[int]:
        """The single indices of the next `steps` batches when batch_size == 1, as python ints.

        Equals `[int(self.next()[0]) for _ in range(steps)]` (same rng stream, same reshuffles), with one
        slice per epoch instead of one call per step: the B = 1 loop then costs a few NumPy calls a step.
        """
        if self.batch_size != 1 or self.full:
            raise ValueError(f"next_rows needs batch_size == 1 and a sampled batch; got batch_size "
                             f"{self.batch_size}")
        if self.sampling == "replacement":  # one draw per step: a single size=steps draw is another stream
            return [int(self.rng.integers(0, self.n, size=1)[0]) for _ in range(steps)]
        out: list[int] = []
        while len(out) < steps:
            if self.pos >= self.n:
                self.rng.shuffle(self.perm)
                self.pos = 0
            take = min(steps - len(out), self.n - self.pos)
            out += self.perm[self.pos:self.pos + take].tolist()
            self.pos += take
        return out
