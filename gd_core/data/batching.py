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

    def __init__(self, n: int, batch_size: int, sampling: str, rng: np.random.Generator,
                 perm: np.ndarray | None = None):
        """perm: an (n,) intp array to keep the permutation in (e.g. a row of stacked runs' shared array);
        it is overwritten with 0..n-1."""
        self.n, self.batch_size, self.sampling, self.rng = n, batch_size, sampling, rng
        self.full = batch_size >= n and sampling == "shuffle"
        self.perm = np.arange(n) if perm is None else perm
        if perm is not None:
            perm[:] = np.arange(n)
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

    def next_chunk(self, steps: int, out: np.ndarray | None = None) -> tuple[np.ndarray, int, int]:
        """Up to `steps` batches in one index array, never past an epoch's end: (indices, steps taken, rows of
        the last batch; every other batch has batch_size rows). Same rng calls and order as that many `next()`
        calls. shuffle: a view of the permutation (reshuffled in place when the next epoch starts);
        replacement: all `steps` batches, written into `out` (at least steps * batch_size long)."""
        if self.full:
            raise ValueError("next_chunk needs a sampled batch; a full batch takes all examples in order")
        B = self.batch_size
        if self.sampling == "replacement":
            for j in range(steps):  # one draw per step: a single size=steps*B draw is another stream
                out[j * B:(j + 1) * B] = self.rng.integers(0, self.n, size=B)
            return out[:steps * B], steps, B
        if self.pos >= self.n:
            self.rng.shuffle(self.perm)
            self.pos = 0
        steps = min(steps, -(-(self.n - self.pos) // B))
        rows = min(steps * B, self.n - self.pos)
        idx = self.perm[self.pos:self.pos + rows]
        self.pos += rows
        return idx, steps, rows - (steps - 1) * B

    def next_rows(self, steps: int) -> list[int]:
        """The single indices of the next `steps` batches when batch_size == 1, as python ints.

        Equals `[int(self.next()[0]) for _ in range(steps)]` (same rng stream, same reshuffles), with one
        slice per epoch instead of one call per step: the B = 1 loop then costs a few NumPy calls a step.
        """
        if self.batch_size != 1 or self.full:
            raise ValueError(f"next_rows needs batch_size == 1 and a sampled batch; got batch_size "
                             f"{self.batch_size}")
        if self.sampling == "replacement":
            return self.next_chunk(steps, np.empty(steps, np.intp))[0].tolist()
        out: list[int] = []
        while len(out) < steps:
            out += self.next_chunk(steps - len(out))[0].tolist()
        return out
