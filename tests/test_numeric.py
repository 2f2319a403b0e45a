"""tests/numeric.py: the tolerant assertions other tests use."""

import pytest
from numeric import assert_decreases_to_rounding_level


def test_decreases_to_rounding_level_fails_on_a_real_rise_and_passes_an_ulp_wobble():
    assert_decreases_to_rounding_level([0.9, 5.237392e-16, 5.237037e-16, 5.237392e-16], floor=1e-12)  # the log
    with pytest.raises(AssertionError, match="rises above the rounding level 1e-12 at index 2"):
        assert_decreases_to_rounding_level([0.9, 0.5, 0.6, 1e-13], floor=1e-12)
    with pytest.raises(AssertionError, match="at index 1"):
        assert_decreases_to_rounding_level([0.5, 0.5], floor=1e-12)  # flat above the floor is not a decrease
