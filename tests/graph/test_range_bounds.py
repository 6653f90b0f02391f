"""gt.range and gt.one_hot with Python bounds inside gt.function (their bounds are op attributes)."""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt


def test_range_with_python_bounds_traces_and_matches_eager():
    @gt.function
    def f(x):
        return x + gt.cast(gt.range(1, 7, 2), gt.float32)

    np.testing.assert_array_equal(f(gt.constant([0.0, 1.0, 2.0])).numpy(), [1.0, 4.0, 7.0])


def test_one_hot_traces_and_matches_eager():
    f = gt.function(lambda labels: gt.one_hot(labels, 4))
    labels = gt.constant([3, 0, 2])
    np.testing.assert_array_equal(f(labels).numpy(), gt.one_hot(labels, 4).numpy())
    np.testing.assert_array_equal(f(labels).numpy(), np.eye(4, dtype=np.float32)[[3, 0, 2]])


def test_range_with_a_symbolic_bound_still_explains_itself():
    f = gt.function(lambda n: gt.range(n))
    with pytest.raises(TypeError, match="is not known while the function is traced"):
        f(gt.constant(3))
