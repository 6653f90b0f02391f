"""The random family's Philox kernels give the CPU backend's stream on every device.

docs/random.md promises the same uint32 words, uniform floats and integers bit for
bit on every device, and normals equal up to the last bits of log/sin/cos. The
reference is the NumPy kernel (gputensor/backend/cpu/random.py, itself checked
against Random123's known answers in tests/ops/test_random_ops.py). Sizes are
not multiples of the 4 words of a Philox block, keys and offsets use both 32-bit
halves, and the truncated normal takes many redraws.
"""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt
from gputensor.backend.cpu import random as cpu_random
from gputensor.framework.op_table import OPS, execute

SIZES = [(0,), (1,), (3,), (5,), (2, 3, 7), (1001,)]
STREAMS = [(0, 0), (0x1234_5678_9ABC_DEF0, 7), (2**64 - 1, 2**63 + 5)]
FLOATS = ["float16", "bfloat16", "float32", "float64"]


def _draw(op, key, offset, shape, dtype, **extra):
    dtype = gt.as_dtype(dtype).as_numpy_dtype
    attrs = {"key": key, "offset": offset, "shape": shape, "dtype": np.dtype(dtype), **extra}
    out = execute(OPS[op], (), attrs).numpy()
    return out, cpu_random.KERNELS[op](**attrs)


@pytest.mark.parametrize("shape", SIZES)
@pytest.mark.parametrize("key, offset", STREAMS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_uniform_floats_are_bit_identical_to_the_cpu_stream(device, shape, key, offset, dtype):
    out, ref = _draw("random_uniform", key, offset, shape, dtype)
    assert out.shape == shape and out.dtype == ref.dtype
    np.testing.assert_array_equal(out.view(f"u{out.itemsize}"), ref.view(f"u{ref.itemsize}"))
    assert np.all((out >= 0) & (out < 1))


@pytest.mark.parametrize("shape", SIZES)
@pytest.mark.parametrize("key, offset", STREAMS)
@pytest.mark.parametrize("dtype", ["int32", "uint32", "int64", "uint64"])
def test_random_bits_are_the_cpu_words(device, shape, key, offset, dtype):
    out, ref = _draw("random_bits", key, offset, shape, dtype)
    assert out.dtype == ref.dtype
    np.testing.assert_array_equal(out, ref)


@pytest.mark.parametrize("shape", SIZES)
@pytest.mark.parametrize("key, offset", STREAMS)
@pytest.mark.parametrize(
    "dtype, minval, maxval",
    [("int32", -5, 17), ("int32", -(2**31), 2**31 - 1), ("int64", -(2**62), 2**62 + 3)],
)
def test_uniform_ints_are_bit_identical_to_the_cpu_stream(device, shape, key, offset, dtype, minval, maxval):
    out, ref = _draw("random_uniform_int", key, offset, shape, dtype, minval=minval, maxval=maxval)
    np.testing.assert_array_equal(out, ref)
    assert np.all((out >= minval) & (out < maxval))


NORMAL_TOL = {"float16": 1e-3, "bfloat16": 8e-3, "float32": 2e-6, "float64": 1e-13}


@pytest.mark.parametrize("shape", SIZES)
@pytest.mark.parametrize("key, offset", STREAMS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_normals_match_the_cpu_box_muller_to_rounding(device, shape, key, offset, dtype):
    out, ref = _draw("random_normal", key, offset, shape, dtype)
    assert out.dtype == ref.dtype
    tol = NORMAL_TOL[dtype]
    np.testing.assert_allclose(out.astype(np.float64), ref.astype(np.float64), rtol=tol, atol=tol)


@pytest.mark.parametrize("key, offset", STREAMS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_truncated_normals_redraw_like_the_cpu_and_stay_within_two(device, key, offset, dtype):
    shape = (3001,)  # about 137 elements need at least one redraw, a few need two or more
    out, ref = _draw("random_truncated_normal", key, offset, shape, dtype)
    wide = out.astype(np.float64)
    assert np.all(np.abs(wide) <= 2)
    tol = NORMAL_TOL[dtype]
    np.testing.assert_allclose(wide, ref.astype(np.float64), rtol=tol, atol=tol)
