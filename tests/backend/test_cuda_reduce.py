"""The reduce family's kernels on every layout they have, against NumPy.

Shapes are picked so that every path of gputensor/backend/cuda/families/reduce.py
runs: a block per row (rows longer than launch_config.WARP_ROW_LIMIT), a warp per
row, 32-column tiles (full and partial), the axis permutation (reduced axes
separated by kept ones, and short inner extents), all axes, unit and empty axes;
sizes are not multiples of the block or warp size. On the emulated GPU
("/EMU_GPU:0") and a real one these run the CUDA kernels; on the CPU, the NumPy
kernels (the same expectations hold for both).
"""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt
from gputensor.backend.cuda import launch_config
from gputensor.backend.cuda.families import reduce as reduce_family

# (shape, axis): name says which kernel path it exercises on the GPU.
LAYOUT_CASES = {
    "block_per_row": ((3, 1500), (1,)),
    "warp_per_row": ((37, 33), (1,)),
    "single_element_rows": ((5, 1), (1,)),
    "column_tiles": ((2, 70, 40), (1,)),
    "partial_column_tile": ((130, 33), (0,)),
    "short_inner_transposed": ((300, 3), (0,)),
    "separated_axes_permuted": ((6, 5, 7, 3), (0, 2)),
    "all_axes": ((9, 11, 13), None),
    "unit_axes_merged": ((4, 1, 5), (0, 1)),
    "scalar": ((), None),
    "few_long_rows_split": ((2, 2 * 16384 + 77), (1,)),
    "full_reduction_split": ((70001,), None),
    "long_columns_transposed": ((40000, 33), (0,)),
}
_ids = list(LAYOUT_CASES)


def _np_axis(axis):
    return None if axis is None else tuple(axis)


# Accumulation error per unit of sum(|x|), and the rounding of the result to the output
# type. The CUDA kernels sum half types in float32, NumPy (the CPU backend) in the type
# itself, so the half-type bound is the looser one.
SUM_EPS = {"float16": 2**-11, "bfloat16": 2**-8, "float32": 1e-6, "float64": 1e-14}
OUT_EPS = {"float16": 2**-11, "bfloat16": 2**-8, "float32": 2**-24, "float64": 2**-53}


def _float_tol(dtype, x, axis, expected):
    return (
        8 * SUM_EPS[dtype] * np.sum(np.abs(x.astype(np.float64)), axis=_np_axis(axis))
        + np.abs(expected) * OUT_EPS[dtype]
        + SUM_EPS[dtype]
    )


def _data(rng, shape, dtype):
    if dtype in SUM_EPS:
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    # The full range of the type, so sums and products wrap around.
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)


def test_plan_reads_contiguous_axes_in_place_and_gathers_separated_ones():
    assert reduce_family.plan((4, 5, 6), (1,)) == (None, 4, 5, 6)
    assert reduce_family.plan((3, 1, 5), (0, 1)) == (None, 1, 3, 5)  # unit dims do not split a block
    assert reduce_family.plan((4, 5), ()) == (None, 20, 1, 1)
    assert reduce_family.plan((4, 0, 5), (1,)) == (None, 20, 0, 1)
    perm, outer, r, inner = reduce_family.plan((6, 5, 7, 3), (0, 2))
    assert (outer, r, inner) == (15, 42, 1)
    assert perm == ((5, 3, 6, 7), (21, 1, 105, 3))  # kept dims first, then reduced, input strides


def test_launch_layouts_cover_every_kernel():
    assert launch_config.reduction_layout(launch_config.WARP_ROW_LIMIT + 1, 1) == "block"
    assert launch_config.reduction_layout(launch_config.WARP_ROW_LIMIT, 1) == "warp"
    assert launch_config.reduction_layout(5, 2) == "cols"
    assert launch_config.reduction_transposes(1000, 300, 3)
    assert not launch_config.reduction_transposes(1000, 300, 40)
    assert launch_config.reduction_transposes(1, launch_config.SEGMENT_MIN, 40)  # two tiles, long columns
    assert launch_config.reduction_segments(1, 10 * launch_config.SEGMENT_MIN, 1) == 10
    assert launch_config.reduction_segments(1000, 10 * launch_config.SEGMENT_MIN, 1) == 1
    assert launch_config.scan_transposes(2, 700, 3) and not launch_config.scan_transposes(37, 45, 1)
    assert launch_config.scan_transposes(1, 40000, 2)  # then split: 2 rows of 40000


@pytest.mark.parametrize("case", _ids)
@pytest.mark.parametrize("dtype", list(SUM_EPS))
@pytest.mark.parametrize(
    "name, ref",
    [("reduce_sum", np.sum), ("reduce_mean", np.mean), ("reduce_max", np.max), ("reduce_min", np.min)],
)
def test_float_reductions_match_numpy_on_every_layout(device, rng, case, dtype, name, ref):
    shape, axis = LAYOUT_CASES[case]
    x = _data(rng, shape, dtype)
    out = getattr(gt, name)(gt.constant(x), axis=axis).numpy()
    expected = ref(x.astype(np.float64), axis=_np_axis(axis))
    assert out.dtype == np.dtype(dtype)
    if name in ("reduce_max", "reduce_min"):
        np.testing.assert_array_equal(out, expected.astype(dtype))
        return
    n = x.size // max(1, expected.size) if name == "reduce_mean" else 1
    tol = _float_tol(dtype, x, axis, expected * n) / n
    assert np.all(np.abs(out.astype(np.float64) - expected) <= tol)


@pytest.mark.parametrize("case", _ids)
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "int32", "int64", "uint32"])
def test_integer_sum_prod_max_min_are_bit_exact_with_wraparound(device, rng, case, dtype):
    shape, axis = LAYOUT_CASES[case]
    x = _data(rng, shape, dtype)
    t = gt.constant(x)
    ax = _np_axis(axis)
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(gt.reduce_sum(t, axis=axis).numpy(), np.sum(x, axis=ax, dtype=dtype))
        np.testing.assert_array_equal(gt.reduce_prod(t, axis=axis).numpy(), np.prod(x, axis=ax, dtype=dtype))
    np.testing.assert_array_equal(gt.reduce_max(t, axis=axis).numpy(), np.max(x, axis=ax))
    np.testing.assert_array_equal(gt.reduce_min(t, axis=axis).numpy(), np.min(x, axis=ax))


@pytest.mark.parametrize("case", ["block_per_row", "warp_per_row", "column_tiles", "separated_axes_permuted"])
@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint16"])
def test_integer_mean_truncates_the_exact_sum_toward_zero(device, rng, case, dtype):
    shape, axis = LAYOUT_CASES[case]
    lo, hi = (-100, 100) if np.dtype(dtype).kind == "i" else (0, 200)
    x = rng.integers(lo, hi, size=shape).astype(dtype)
    total = np.sum(x.astype(np.int64), axis=_np_axis(axis))
    n = x.size // max(1, total.size)
    expected = (np.sign(total) * (np.abs(total) // n)).astype(dtype)
    np.testing.assert_array_equal(gt.reduce_mean(gt.constant(x), axis=axis).numpy(), expected)


@pytest.mark.parametrize("case", ["block_per_row", "warp_per_row", "column_tiles", "separated_axes_permuted"])
def test_float_product_matches_numpy(device, rng, case):
    shape, axis = LAYOUT_CASES[case]
    x = rng.uniform(0.999, 1.001, size=shape)
    out = gt.reduce_prod(gt.constant(x), axis=axis).numpy()
    np.testing.assert_allclose(out, np.prod(x, axis=_np_axis(axis)), rtol=1e-12)


@pytest.mark.parametrize("case", _ids)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_logsumexp_matches_scipy_for_large_logits(device, rng, case, dtype):
    from scipy import special

    shape, axis = LAYOUT_CASES[case]
    x = (rng.standard_normal(shape) * 30 + 500).astype(dtype)  # exp(500) overflows float32
    out = gt.reduce_logsumexp(gt.constant(x), axis=axis).numpy()
    expected = special.logsumexp(x.astype(np.float64), axis=_np_axis(axis))
    np.testing.assert_allclose(out, expected, rtol=1e-5 if dtype == "float32" else 1e-12)


def test_logsumexp_of_infinite_rows_follows_the_limits(device):
    x = np.array([[-np.inf, -np.inf], [np.inf, 1.0], [np.nan, 1.0], [-np.inf, 0.0]], np.float32)
    out = gt.reduce_logsumexp(gt.constant(x), axis=1).numpy()
    np.testing.assert_array_equal(out, [-np.inf, np.inf, np.nan, 0.0])


@pytest.mark.parametrize("case", ["block_per_row", "warp_per_row", "column_tiles", "separated_axes_permuted"])
@pytest.mark.parametrize("name, ref", [("reduce_max", np.max), ("reduce_min", np.min)])
def test_max_and_min_propagate_nan_from_any_position(device, rng, case, name, ref):
    shape, axis = LAYOUT_CASES[case]
    x = rng.standard_normal(shape).astype(np.float32)
    flat = x.reshape(-1)
    flat[rng.choice(flat.size, size=max(1, flat.size // 50), replace=False)] = np.nan
    out = getattr(gt, name)(gt.constant(x), axis=axis).numpy()
    np.testing.assert_array_equal(out, ref(x, axis=_np_axis(axis)))


@pytest.mark.parametrize("case", ["block_per_row", "warp_per_row", "column_tiles", "partial_column_tile"])
def test_any_and_all_on_sparse_patterns(device, rng, case):
    shape, axis = LAYOUT_CASES[case]
    for density in (0.0, 0.001, 0.5, 0.999, 1.0):
        x = rng.random(shape) < density
        np.testing.assert_array_equal(gt.reduce_any(gt.constant(x), axis=axis).numpy(), np.any(x, axis=axis))
        np.testing.assert_array_equal(gt.reduce_all(gt.constant(x), axis=axis).numpy(), np.all(x, axis=axis))


@pytest.mark.parametrize("dtype", ["float32", "int32", "uint8", "float16"])
def test_empty_reductions_give_identities_and_empty_outputs_stay_empty(device, dtype):
    x = np.zeros((3, 0, 2), dtype)
    t = gt.constant(x)
    kind = np.dtype(dtype).kind
    lowest = -np.inf if kind == "f" else np.iinfo(dtype).min
    highest = np.inf if kind == "f" else np.iinfo(dtype).max
    np.testing.assert_array_equal(gt.reduce_sum(t, axis=1).numpy(), np.zeros((3, 2), dtype))
    np.testing.assert_array_equal(gt.reduce_prod(t, axis=1).numpy(), np.ones((3, 2), dtype))
    np.testing.assert_array_equal(gt.reduce_max(t, axis=1).numpy(), np.full((3, 2), lowest, dtype))
    np.testing.assert_array_equal(gt.reduce_min(t, axis=1).numpy(), np.full((3, 2), highest, dtype))
    mean = gt.reduce_mean(t, axis=1).numpy()
    assert np.all(np.isnan(mean)) if kind == "f" else np.all(mean == 0)
    assert gt.reduce_sum(t, axis=0).shape == (0, 2)
    assert gt.reduce_sum(t, axis=(0, 1), keepdims=True).shape == (1, 1, 2)


@pytest.mark.parametrize("keepdims", [False, True])
def test_keepdims_shapes_follow_numpy(device, rng, keepdims):
    x = rng.standard_normal((4, 3, 5, 2)).astype(np.float32)
    for axis in [(1,), (0, 2), (1, 3), None]:
        out = gt.reduce_sum(gt.constant(x), axis=axis, keepdims=keepdims)
        assert out.shape == np.sum(x, axis=axis, keepdims=keepdims).shape


# ------------------------------------------------------------------ arg-reductions
ARG_CASES = {
    "block_per_row": ((3, 2000), 1),
    "few_long_rows_split": ((2, 50001), 1),
    "warp_per_row": ((40, 17), 1),
    "column_tiles": ((3, 50, 45), 1),
    "short_inner_transposed": ((400, 2), 0),
    "unit_axis": ((6, 1, 4), 1),
}


@pytest.mark.parametrize("case", list(ARG_CASES))
@pytest.mark.parametrize("dtype", ["float32", "int8", "uint16", "float16", "int64"])
@pytest.mark.parametrize("fn, ref", [(gt.argmax, np.argmax), (gt.argmin, np.argmin)])
def test_argmax_argmin_return_the_first_extreme_index_with_many_ties(device, rng, case, dtype, fn, ref):
    shape, axis = ARG_CASES[case]
    x = rng.integers(0, 4, size=shape).astype(dtype)  # four values: ties everywhere
    out = fn(gt.constant(x), axis=axis).numpy()
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, ref(x, axis=axis))


@pytest.mark.parametrize("case", ["block_per_row", "warp_per_row", "column_tiles"])
@pytest.mark.parametrize("fn, ref", [(gt.argmax, np.argmax), (gt.argmin, np.argmin)])
def test_argmax_argmin_pick_the_first_nan(device, rng, case, fn, ref):
    shape, axis = ARG_CASES[case]
    x = rng.standard_normal(shape).astype(np.float32)
    flat = x.reshape(-1)
    flat[rng.choice(flat.size, size=max(2, flat.size // 20), replace=False)] = np.nan
    np.testing.assert_array_equal(fn(gt.constant(x), axis=axis).numpy(), ref(x, axis=axis))


@pytest.mark.parametrize("output_type", [gt.int32, gt.int16, gt.uint8])
def test_argmax_writes_the_requested_output_type(device, rng, output_type):
    x = rng.standard_normal((5, 200)).astype(np.float64)
    out = gt.argmax(gt.constant(x), axis=1, output_type=output_type).numpy()
    assert out.dtype == output_type.as_numpy_dtype
    np.testing.assert_array_equal(out, np.argmax(x, axis=1))


# -------------------------------------------------------------------------- scans
SCAN_CASES = {
    "one_row_several_chunks": ((1000,), 0),
    "rows_not_a_multiple_of_a_warp": ((3, 257), 1),
    "columns": ((37, 45), 0),
    "middle_axis": ((3, 20, 7), 1),
    "length_one": ((4, 1), 1),
    "few_long_columns_transposed": ((2, 700, 3), 1),
    "few_long_rows_split": ((2, 2 * 16384 + 300), 1),
    "long_columns_transposed_then_split": ((40000, 2), 0),
}


@pytest.mark.parametrize("case", list(SCAN_CASES))
@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dtype", ["int32", "int8", "uint64"])
def test_integer_cumsum_and_cumprod_are_bit_exact(device, rng, case, exclusive, reverse, dtype):
    shape, axis = SCAN_CASES[case]
    x = _data(rng, shape, dtype)
    for fn, np_fn, identity in ((gt.math.cumsum, np.cumsum, 0), (gt.math.cumprod, np.cumprod, 1)):
        out = fn(gt.constant(x), axis=axis, exclusive=exclusive, reverse=reverse).numpy()
        np.testing.assert_array_equal(out, _scan_reference(x, axis, exclusive, reverse, np_fn, identity))


# NumPy's float16 cumsum (the CPU backend's) rounds every running sum to float16, which
# cannot add 1 past 2048: float16 runs on the rows short enough for that reference.
FLOAT_SCANS = [
    (case, dtype, rtol)
    for case, (shape, axis) in SCAN_CASES.items()
    for dtype, rtol in (("float32", 1e-4), ("float64", 1e-11), ("float16", 2e-2))
    if dtype != "float16" or shape[axis] <= 1000
]


@pytest.mark.parametrize("case, dtype, rtol", FLOAT_SCANS)
@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_float_cumsum_matches_float64_reference(device, rng, case, exclusive, reverse, dtype, rtol):
    shape, axis = SCAN_CASES[case]
    x = rng.uniform(0.5, 1.5, size=shape).astype(dtype)  # positive: no cancellation
    out = gt.math.cumsum(gt.constant(x), axis=axis, exclusive=exclusive, reverse=reverse).numpy()
    expected = _scan_reference(x.astype(np.float64), axis, exclusive, reverse, np.cumsum, 0)
    np.testing.assert_allclose(out.astype(np.float64), expected, rtol=rtol, atol=rtol)


def _scan_reference(x, axis, exclusive, reverse, np_fn, identity):
    y = np.flip(x, axis) if reverse else x
    with np.errstate(over="ignore"):
        out = np_fn(y, axis=axis, dtype=x.dtype)
    if exclusive:
        pad = np.full_like(np.take(out, [0], axis=axis), identity)
        out = np.concatenate([pad, np.delete(out, -1, axis=axis)], axis=axis)
    return np.flip(out, axis) if reverse else out


def test_cumsum_of_empty_tensors_is_empty(device):
    assert gt.math.cumsum(gt.constant(np.zeros((0, 3), np.float32)), axis=1).shape == (0, 3)
    assert gt.math.cumsum(gt.constant(np.zeros((2, 0), np.float32)), axis=1).shape == (2, 0)


# ------------------------------------------------------------------------ complex
COMPLEX_CASES = ["warp_per_row", "column_tiles", "separated_axes_permuted", "full_reduction_split", "scalar"]


@pytest.mark.parametrize("case", COMPLEX_CASES)
@pytest.mark.parametrize("dtype, eps", [("complex64", 1e-6), ("complex128", 1e-14)])
def test_complex_sum_mean_and_prod_match_numpy(device, rng, case, dtype, eps):
    shape, axis = LAYOUT_CASES[case]
    ax = _np_axis(axis)
    x = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    bound = 8 * eps * np.sum(np.abs(x), axis=ax) + eps
    assert np.all(np.abs(gt.reduce_sum(gt.constant(x), axis=axis).numpy() - np.sum(x, axis=ax)) <= bound)
    n = x.size // max(1, np.size(np.sum(x, axis=ax)))
    assert np.all(
        np.abs(gt.reduce_mean(gt.constant(x), axis=axis).numpy() - np.mean(x, axis=ax)) <= bound / n
    )
    # Unit-modulus factors: the product stays finite however long the axis.
    u = np.exp(1j * rng.uniform(-np.pi, np.pi, size=shape)).astype(dtype)
    out = gt.reduce_prod(gt.constant(u), axis=axis).numpy()
    np.testing.assert_allclose(
        out, np.prod(u.astype(np.complex128), axis=ax), atol=np.sqrt(u.size) * 50 * eps
    )


@pytest.mark.parametrize(
    "case", ["one_row_several_chunks", "columns", "few_long_columns_transposed", "few_long_rows_split"]
)
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_complex_cumsum_and_cumprod_match_numpy(device, rng, case, dtype):
    shape, axis = SCAN_CASES[case]
    x = (rng.uniform(0.5, 1.5, size=shape) + 1j * rng.uniform(0.5, 1.5, size=shape)).astype(dtype)
    tol = 1e-4 if dtype == "complex64" else 1e-11
    out = gt.math.cumsum(gt.constant(x), axis=axis, exclusive=True, reverse=True).numpy()
    ref = _scan_reference(x.astype(np.complex128), axis, True, True, np.cumsum, 0)
    np.testing.assert_allclose(out, ref, rtol=tol)
    u = np.exp(1j * rng.uniform(-np.pi, np.pi, size=shape)).astype(dtype)
    out = gt.math.cumprod(gt.constant(u), axis=axis).numpy()
    np.testing.assert_allclose(out, np.cumprod(u.astype(np.complex128), axis=axis), atol=50 * tol)
