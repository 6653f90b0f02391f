"""The softmax family's fused kernels on every layout, against float64 NumPy formulas.

Rows longer than launch_config.WARP_ROW_LIMIT take a block each, shorter ones a
warp (softmax: a warp holding the row in registers, in every elements-per-lane bucket
of register_shape, scalar and Vec4), and softmax over a leading axis runs on 32-column tiles; the cases below
hit each with sizes that are not multiples of 32. On "/EMU_GPU:0" (and a real
GPU) these run cuda_kernels/softmax.cuh; on the CPU, the NumPy kernels.
"""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt
from gputensor.framework.op_table import OPS, execute

# (shape, axis)
SOFTMAX_CASES = {
    "block_per_row": ((3, 2500), -1),
    "warp_per_row": ((45, 37), -1),
    # Register-resident rows: each elements-per-lane bucket, scalar and Vec4 groups.
    "regs_1x1": ((5, 4), -1),
    "regs_2x1": ((9, 33), -1),
    "regs_4x1": ((6, 127), -1),
    "regs_1x4": ((7, 128), -1),
    "regs_2x4": ((3, 196), -1),
    "regs_8x4": ((11, 1000), -1),
    "regs_8x4_full": ((2, 1024), -1),
    "regs_32x1": ((4, 999), -1),
    "one_class": ((4, 1), -1),
    "column_tiles": ((50, 33), 0),
    "middle_axis": ((3, 40, 70), 1),
}
TOL = {"float16": 4e-3, "bfloat16": 3e-2, "float32": 2e-6, "float64": 1e-13}


def _log_softmax64(x, axis):
    z = x.astype(np.float64)
    z = z - np.max(z, axis=axis, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def _logits(rng, shape, dtype, scale=5.0, shift=0.0):
    return (rng.standard_normal(shape) * scale + shift).astype(gt.as_dtype(dtype).as_numpy_dtype)


@pytest.mark.parametrize("case", list(SOFTMAX_CASES))
@pytest.mark.parametrize("dtype", list(TOL))
def test_softmax_and_log_softmax_match_float64_formula(device, rng, case, dtype):
    shape, axis = SOFTMAX_CASES[case]
    x = _logits(rng, shape, dtype, shift=300.0)  # exp(300) overflows float32 without the max shift
    log_p = _log_softmax64(x, axis)
    p = gt.nn.softmax(gt.constant(x), axis=axis).numpy()
    lp = gt.nn.log_softmax(gt.constant(x), axis=axis).numpy()
    assert p.dtype == x.dtype and lp.dtype == x.dtype
    np.testing.assert_allclose(p.astype(np.float64), np.exp(log_p), atol=TOL[dtype], rtol=TOL[dtype])
    np.testing.assert_allclose(lp.astype(np.float64), log_p, atol=TOL[dtype] * 50, rtol=TOL[dtype])


def test_softmax_of_rows_with_infinities(device):
    x = np.array([[-np.inf, 0.0, 0.0], [np.inf, 0.0, 1.0], [-np.inf, -np.inf, -np.inf]], np.float32)
    p = gt.nn.softmax(gt.constant(x)).numpy()
    np.testing.assert_array_equal(p[0], [0.0, 0.5, 0.5])
    assert np.all(np.isnan(p[1:]))  # inf - inf and -inf - (-inf), as NumPy and TF


def _special_rows(rng, n: int) -> np.ndarray:
    """Rows with one -inf, one +inf, only -inf, one NaN, and none, each of length n."""
    x = rng.standard_normal((5, n)).astype(np.float32)
    x[0, n // 2] = -np.inf
    x[1, n // 3] = np.inf
    x[2] = -np.inf
    x[3, n - 1] = np.nan
    return x


@pytest.mark.parametrize(
    "n", [3, 700, 1000, 1500], ids=["warp_per_row", "warp_long_row", "vec4_row", "block_per_row"]
)
@pytest.mark.parametrize("axis", [1, 0], ids=["rows", "columns"])
def test_softmax_special_values_follow_the_two_pass_formula_on_every_layout(device, rng, n, axis):
    x = _special_rows(rng, n)
    if axis == 0:
        x = np.ascontiguousarray(x.T)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = x.astype(np.float64) - np.max(x, axis=axis, keepdims=True)
        log_p = z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))
    p = gt.nn.softmax(gt.constant(x), axis=axis).numpy()
    lp = gt.nn.log_softmax(gt.constant(x), axis=axis).numpy()
    np.testing.assert_allclose(p, np.exp(log_p), rtol=1e-5, atol=1e-7, equal_nan=True)
    np.testing.assert_allclose(lp, log_p, rtol=1e-5, atol=1e-5, equal_nan=True)


def test_softmax_of_an_empty_tensor_is_empty(device):
    assert gt.nn.softmax(gt.constant(np.zeros((0, 5), np.float32))).shape == (0, 5)
    assert gt.nn.softmax(gt.constant(np.zeros((3, 0), np.float32))).shape == (3, 0)


XENT_SHAPES = {
    "block_per_row": (3, 1800),
    "warp_per_row": (33, 10),
    "batched": (2, 3, 40),
    "one_class": (5, 1),
}


@pytest.mark.parametrize("case", list(XENT_SHAPES))
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_dense_xent_primitive_gives_loss_and_softmax_minus_labels(device, rng, case, dtype):
    shape = XENT_SHAPES[case]
    x = _logits(rng, shape, dtype, shift=-200.0)
    labels = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]).astype(dtype)
    loss, backprop = execute(OPS["softmax_xent"], (gt.constant(labels), gt.constant(x)))
    log_p = _log_softmax64(x, -1)
    tol = TOL[dtype] * 20
    np.testing.assert_allclose(loss.numpy(), -np.sum(labels * log_p, axis=-1), rtol=tol, atol=tol)
    np.testing.assert_allclose(backprop.numpy(), np.exp(log_p) - labels, rtol=tol, atol=tol)


@pytest.mark.parametrize("case", list(XENT_SHAPES))
@pytest.mark.parametrize("label_dtype", ["int32", "int64"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sparse_xent_primitive_gives_loss_and_softmax_minus_one_hot(device, rng, case, label_dtype, dtype):
    shape = XENT_SHAPES[case]
    x = _logits(rng, shape, dtype, shift=1000.0)
    labels = rng.integers(0, shape[-1], size=shape[:-1]).astype(label_dtype)
    loss, backprop = execute(OPS["sparse_softmax_xent"], (gt.constant(labels), gt.constant(x)))
    log_p = _log_softmax64(x, -1)
    one_hot = np.eye(shape[-1])[labels]
    tol = TOL[dtype] * 20
    np.testing.assert_allclose(loss.numpy(), -np.sum(one_hot * log_p, axis=-1), rtol=tol, atol=tol)
    np.testing.assert_allclose(backprop.numpy(), np.exp(log_p) - one_hot, rtol=tol, atol=tol)


@pytest.mark.parametrize("bad", [-1, 7, 2**40])
def test_sparse_xent_with_a_label_out_of_range_raises_on_every_device(device, bad):
    labels = np.array([0, bad, 2], np.int64)
    with pytest.raises(gt.errors.InvalidArgumentError, match=rf"label value of {bad} .*range of \[0, 7\)"):
        gt.nn.sparse_softmax_cross_entropy_with_logits(labels, np.zeros((3, 7), np.float32))


def test_xent_of_an_empty_batch_is_empty(device):
    loss = gt.nn.sparse_softmax_cross_entropy_with_logits(
        np.zeros((0,), np.int32), np.zeros((0, 4), np.float32)
    )
    assert loss.shape == (0,)


@pytest.mark.parametrize(
    "r, aligned, shape",
    [
        (1, True, (1, 1)),
        (32, True, (1, 1)),
        (33, True, (2, 1)),
        (128, True, (1, 4)),
        (128, False, (4, 1)),
        (130, True, (8, 1)),
        (1000, True, (8, 4)),
        (1024, True, (8, 4)),
        (999, True, (32, 1)),
    ],
)
def test_register_shape_holds_the_row_in_the_fewest_registers(r, aligned, shape):
    from gputensor.backend.cuda.families.softmax import register_shape

    k, v = register_shape(r, aligned)
    assert (k, v) == shape and 32 * k * v >= r
