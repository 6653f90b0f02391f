"""Eager memory release: dispose, tidy, gt.memory, and no leaks after errors."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import gputensor as gt


@pytest.fixture(autouse=True)
def no_collection_midway():
    """The counters count live tensors: a garbage collection during a test would free earlier
    tests' cyclic garbage between two readings. Collect first and hold collection off."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_dispose_frees_now_and_later_use_raises(device):
    before = gt.memory()["num_tensors"]
    t = gt.constant(np.ones(10, np.float32))
    assert gt.memory()["num_tensors"] == before + 1
    t.dispose()
    assert gt.memory()["num_tensors"] == before and t.is_disposed
    with pytest.raises(gt.errors.FailedPreconditionError, match="disposed"):
        t.numpy()
    with pytest.raises(gt.errors.FailedPreconditionError, match="disposed"):
        gt.exp(t)
    t.dispose()  # a second dispose is harmless


def test_tidy_frees_intermediates_but_keeps_returned_tensors(device):
    before = gt.memory()
    keep = gt.tidy(lambda: {"y": gt.square(gt.constant([1.0, 2.0])) + 1.0})
    after = gt.memory()
    assert after["num_tensors"] == before["num_tensors"] + 1
    np.testing.assert_array_equal(keep["y"].numpy(), [2.0, 5.0])


def test_nested_tidy_hands_results_to_outer_scope(device):
    inner_result = {}

    def outer():
        inner_result["t"] = gt.tidy(lambda: gt.constant([1.0]) * 2.0)
        return gt.constant([0.0])

    gt.tidy(outer)
    assert inner_result["t"].is_disposed  # the outer tidy did not return it


def test_failed_op_leaves_memory_counters_unchanged(device):
    a = gt.constant(np.ones((2, 3), np.float32))
    b = gt.constant(np.ones((4,), np.float32))
    before = gt.memory()
    with pytest.raises(
        gt.errors.InvalidArgumentError, match=r"Incompatible shapes: \(2, 3\) float32, \(4,\) float32"
    ):
        gt.add(a, b)
    assert gt.memory()["num_tensors"] == before["num_tensors"]
    assert gt.memory()["num_bytes"] == before["num_bytes"]


def test_memory_reports_devices():
    m = gt.memory()
    assert set(m) >= {"num_tensors", "num_bytes", "devices"}
    assert any(name.endswith("CPU:0") for name in m["devices"])
