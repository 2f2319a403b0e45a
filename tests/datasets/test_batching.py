import numpy as np
import pytest

from gd_core.data.batching import (
    BatchSampler,
    examples_after,
    sample_training_data,
    steps_for_examples,
    steps_per_epoch,
)


@pytest.mark.parametrize("n, b", [(10, 3), (100, 7), (5, 5), (9, 1), (8, 16)])
def test_epoch_shuffle_visits_every_example_exactly_once(n, b):
    s = BatchSampler(n, b, "shuffle", np.random.default_rng(0))
    for _ in range(3):  # three epochs, each a fresh permutation
        spe = steps_per_epoch(n, b, "shuffle")
        batches = [s.next() for _ in range(spe)]
        if b >= n:
            assert batches == [None] * spe  # full batch: the whole set, in order
            continue
        seen = np.concatenate(batches)
        np.testing.assert_array_equal(np.sort(seen), np.arange(n))
        assert [len(x) for x in batches] == [b] * (n // b) + ([n % b] if n % b else [])


def test_epochs_are_reshuffled():
    s = BatchSampler(50, 10, "shuffle", np.random.default_rng(1))
    first = np.concatenate([s.next() for _ in range(5)])
    second = np.concatenate([s.next() for _ in range(5)])
    assert not np.array_equal(first, second)


def test_replacement_draws_uniform_independent_batches():
    s = BatchSampler(10, 4, "replacement", np.random.default_rng(0))
    draws = np.concatenate([s.next() for _ in range(5000)])
    counts = np.bincount(draws, minlength=10)
    assert counts.min() > 1800 and counts.max() < 2200  # 2000 expected each
    assert any(len(set(s.next())) < 4 for _ in range(100))  # repeats within a batch happen


@pytest.mark.parametrize("sampling", ["shuffle", "replacement"])
@pytest.mark.parametrize("n, b", [(10, 3), (100, 7), (9, 1), (8, 8)])
def test_closed_forms_agree_with_counting(sampling, n, b):
    s = BatchSampler(n, b, sampling, np.random.default_rng(0))
    seen = 0
    for step in range(1, 60):
        idx = s.next()
        seen += n if idx is None else len(idx)
        assert examples_after(step, n, b, sampling) == seen
        assert steps_for_examples(seen, n, b, sampling) <= step
        assert examples_after(steps_for_examples(seen, n, b, sampling), n, b, sampling) >= seen


def test_sample_training_data_is_the_notes_function():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    Xb, yb = sample_training_data(X, y, 256, np.random.default_rng(0))
    assert Xb.shape == (256, 2) and yb.shape == (256,)
    np.testing.assert_array_equal(Xb[:, 0] / 2, yb)
