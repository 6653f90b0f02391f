"""The vectorised elementwise kernels (four elements per aligned load): results and choice.

Every device checks the results of long elementwise ops (whole vectors and a tail) against
the NumPy backend; on the emulated GPU the launch counts show which kernel ran, and
misaligned inputs fall back to the scalar kernels.
"""

from __future__ import annotations

import numpy as np
import pytest
from ml_dtypes import bfloat16

import gputensor as gt
from gputensor.backend.cuda.families.elementwise import VEC_MIN
from gputensor.framework.op_table import OPS
from tests.cuda_harness import emulated_device

EMU = emulated_device()
SIZES = [VEC_MIN, VEC_MIN + 3, 4 * VEC_MIN + 1]

CASES = {
    "add_float32": (lambda a, b: a + b, np.float32),
    "multiply_float16": (lambda a, b: a * b, np.float16),
    "subtract_bfloat16": (lambda a, b: a - b, bfloat16),
    "add_int8": (lambda a, b: a + b, np.int8),
    "maximum_float64": (
        lambda a, b: gt.maximum(a, b) if isinstance(a, gt.Tensor) else np.maximum(a, b),
        np.float64,
    ),
    "equal_to_bool": (lambda a, b: gt.equal(a, b) if isinstance(a, gt.Tensor) else np.equal(a, b), np.int32),
    "scalar_right": (lambda a, b: a * 3, np.float32),
    "scalar_left": (lambda a, b: 2 - a, np.int16),
}


def _data(rng, n, dtype):
    if np.dtype(dtype).kind in "iu":
        return rng.integers(-3, 4, n).astype(dtype)
    return rng.standard_normal(n).astype(dtype)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("case", list(CASES))
def test_long_elementwise_ops_match_numpy(device, rng, case, n):
    fn, dtype = CASES[case]
    a, b = _data(rng, n, dtype), _data(rng, n, dtype)
    out = fn(gt.constant(a), gt.constant(b)).numpy()
    want = fn(a, b)
    assert out.dtype == want.dtype
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("src,dst", [(np.float32, np.float16), (np.int8, np.float64), (bfloat16, np.int32)])
def test_long_casts_match_numpy(device, rng, src, dst):
    x = _data(rng, VEC_MIN + 5, src)
    out = gt.cast(gt.constant(x), gt.as_dtype(np.dtype(dst))).numpy()
    np.testing.assert_array_equal(out, x.astype(dst))


def test_leaky_relu_passes_its_attribute_to_the_vector_kernel(device, rng):
    x = _data(rng, 2 * VEC_MIN + 2, np.float32)
    out = gt.nn.leaky_relu(gt.constant(x), alpha=0.25).numpy()
    np.testing.assert_allclose(out, np.where(x > 0, x, x * np.float32(0.25)), rtol=1e-6)


emu_only = pytest.mark.skipif(EMU is None, reason="no emulated GPU (g++ missing)")


def _counts(name_part: str) -> int:
    return sum(c for k, c in EMU.backend.launcher.launch_counts.items() if name_part in k)


@emu_only
@pytest.mark.parametrize(
    "layout,call",
    [
        ("_vflat", lambda a, b: a + b),
        ("_vsr", lambda a, b: a + 1.5),
        ("_vsl", lambda a, b: 1.5 + a),
    ],
)
def test_aligned_long_inputs_launch_the_vector_kernel(rng, layout, call):
    x = _data(rng, VEC_MIN + 1, np.float32)
    before = _counts(f"gt_add_float32{layout}")
    with gt.device(EMU):
        out = call(gt.constant(x), gt.constant(x)).numpy()
    assert _counts(f"gt_add_float32{layout}") == before + 1
    np.testing.assert_array_equal(out, call(x, x))


@emu_only
def test_misaligned_and_short_inputs_take_the_scalar_kernel(rng):
    kernel = EMU.kernel(OPS["add"])
    x = _data(rng, VEC_MIN + 9, np.float32)
    a, b = x[1:], x[:-1]  # contiguous, but 4 bytes past a 16-byte boundary
    assert a.ctypes.data % 16 != 0
    before_vec, before_flat = _counts("gt_add_float32_vflat"), _counts("gt_add_float32_flat")
    np.testing.assert_array_equal(kernel(a, b), a + b)
    short = x[: VEC_MIN - 1]
    np.testing.assert_array_equal(kernel(short, short), short + short)
    assert _counts("gt_add_float32_vflat") == before_vec
    assert _counts("gt_add_float32_flat") == before_flat + 2
