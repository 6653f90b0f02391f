"""The linalg family on every device: cuBLAS/cuSOLVER glue and the word-moving kernels.

band part, diagonal part and diagonal matrix move raw words (cuda_kernels/linalg.cuh),
so they are checked for every element width, complex128's two-word elements
included, against NumPy's tril/triu/diagonal. matmul and einsum are checked for the
transposed-view and broadcast paths, and half precision for float32 accumulation.
"""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt
from gputensor.framework.op_table import OPS, execute

DTYPES = ["bool", "int8", "float16", "int32", "float64", "complex64", "complex128"]


def _matrices(rng, shape, dtype):
    x = rng.standard_normal(shape) * 10
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype) if dtype != "bool" else x > 0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("num_lower, num_upper", [(0, 0), (-1, 0), (0, -1), (1, 2), (-1, -1), (5, 0)])
def test_band_part_keeps_the_band_of_every_matrix(device, rng, dtype, num_lower, num_upper):
    x = _matrices(rng, (3, 5, 6), dtype)
    out = gt.linalg.band_part(x, num_lower, num_upper).numpy()
    rows, cols = np.indices((5, 6))
    keep = ((num_lower < 0) | (rows - cols <= num_lower)) & ((num_upper < 0) | (cols - rows <= num_upper))
    np.testing.assert_array_equal(out, np.where(keep, x, np.zeros_like(x)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [0, 1, -2, 4, -3])
def test_diag_part_reads_diagonal_k_of_every_matrix(device, rng, dtype, k):
    x = _matrices(rng, (2, 4, 5), dtype)
    out = gt.linalg.diag_part(x, k=k).numpy()
    np.testing.assert_array_equal(out, np.diagonal(x, offset=k, axis1=-2, axis2=-1))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [0, 2, -1])
def test_diag_places_the_diagonal_and_pads_the_rest(device, rng, dtype, k):
    d = _matrices(rng, (3, 4), dtype)
    pad = np.ones((), dtype)  # a padding value with non-zero bits in every word
    out = execute(
        OPS["matrix_diag"],
        (gt.constant(d),),
        {"k": k, "num_rows": 4 + max(-k, 0), "num_cols": 4 + max(k, 0), "padding_value": pad},
    ).numpy()
    expected = np.full((3, 4 + max(-k, 0), 4 + max(k, 0)), pad, dtype)
    i = np.arange(4)
    expected[:, i + max(-k, 0), i + max(k, 0)] = d
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("transpose_a", [False, True])
@pytest.mark.parametrize("transpose_b", [False, True])
@pytest.mark.parametrize("batch_a, batch_b", [((), ()), ((3,), (3,)), ((2, 1), (4,))])
def test_matmul_with_transposes_and_broadcast_batches(
    device, rng, transpose_a, transpose_b, batch_a, batch_b
):
    a = rng.standard_normal(batch_a + ((7, 5) if transpose_a else (5, 7)))
    b = rng.standard_normal(batch_b + ((6, 7) if transpose_b else (7, 6)))
    out = gt.linalg.matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b).numpy()
    ta = np.swapaxes(a, -1, -2) if transpose_a else a
    tb = np.swapaxes(b, -1, -2) if transpose_b else b
    np.testing.assert_allclose(out, np.matmul(ta, tb), rtol=1e-12, atol=1e-12)


def test_float16_matmul_accumulates_in_float32(device):
    # 4096 products of 1 * 2^-12 sum to 1; a float16 accumulator stalls at 0.5 (ulp 2^-11 there).
    a = np.ones((1, 4096), np.float16)
    b = np.full((4096, 1), 2.0**-12, np.float16)
    assert gt.linalg.matmul(a, b).numpy()[0, 0] == 1.0


def test_einsum_contracts_and_returns_scalars_as_rank_0(device, rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal((4, 5)).astype(np.float32)
    np.testing.assert_allclose(gt.einsum("ij,jk->ik", a, b).numpy(), a @ b, rtol=1e-5)
    total = gt.einsum("ij->", a)
    assert total.shape == ()
    np.testing.assert_allclose(total.numpy(), a.sum(), rtol=1e-5)
