"""The batch orders of stacked runs' seeds (train/stacked.py), drawn a chunk of steps at a time for all seeds."""

from __future__ import annotations

import numpy as np

from ..data.batching import BatchSampler

# Seeds on sets of at least this many rows shuffle on two threads at each epoch start: there a shuffle costs far
# more than the thread hand-off (the numbers, and the chunk gather over two threads that did not pay: random rows
# are memory-latency bound, are in benchmarks/results/2026-12-07-code-comments.md).
PARALLEL_SHUFFLE_ROWS = 65_536


class SeedOrders:
    """Each seed's batch order, a chunk of steps at a time: one BatchSampler per seed (`next_chunk`), their
    permutations kept as rows of one (S, n) array. The seeds move in step (same n and B), so a chunk is one
    slice of that array for all seeds and never crosses an epoch's end (its last batch may be partial)."""

    def __init__(self, n: int, B: int, sampling: str, seeds: list[int], max_rows: int, pool=None):
        self.replacement, self.n, self.pool = sampling == "replacement", n, pool
        self.perm = np.empty((len(seeds), n), np.intp)
        self.idx = np.empty((len(seeds), max_rows), np.intp) if self.replacement else None
        self.samplers = [BatchSampler(n, B, sampling, np.random.default_rng([seed, 1, B]), perm=self.perm[s])
                         for s, seed in enumerate(seeds)]

    def next(self, k: int):
        """(indices (S, rows), steps, size of the last step): up to k steps; all but the last have B rows."""
        if self.replacement:
            for s, sampler in enumerate(self.samplers):
                _, steps, last = sampler.next_chunk(k, out=self.idx[s])
            return self.idx[:, :steps * self.samplers[0].batch_size], steps, last
        half = len(self.samplers) // 2
        if self.pool is not None and half and self.samplers[0].pos >= self.n:  # epoch start: S shuffles, 2 threads
            first = self.pool.submit(lambda: [sp.next_chunk(k) for sp in self.samplers[:half]])
            for sampler in self.samplers[half:]:
                idx, steps, last = sampler.next_chunk(k)
            first.result()  # each seed has its own rng: the threads' order cannot change the draws
        else:
            for sampler in self.samplers:
                idx, steps, last = sampler.next_chunk(k)
        end = self.samplers[0].pos
        return self.perm[:, end - len(idx):end], steps, last
