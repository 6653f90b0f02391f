"""The CUDA copy, index and sort kernels, run on the emulated GPU, against NumPy.

The glue functions of gputensor/backend/cuda/families/{copy,index,sort}.py are called
directly with NumPy arrays (the emulated device's arrays), so these tests check the
kernels and their launch arithmetic independently of the public array ops, which
tests/ops runs on the same device.
"""

from __future__ import annotations

import numpy as np
import pytest
from ml_dtypes import bfloat16

from gputensor.backend.cuda.families import copy, index, sort
from gputensor.errors import UnimplementedError
from tests.cuda_harness import emulated_device

DEVICE = emulated_device()
pytestmark = pytest.mark.skipif(DEVICE is None, reason="no emulated GPU (g++ missing)")
BACKEND = DEVICE.backend if DEVICE is not None else None

# One dtype per element width (the movement kernels are instantiated per width) and more.
DTYPES = [np.bool_, np.int8, np.float16, bfloat16, np.int32, np.float32, np.int64, np.float64, np.uint16]


def sample(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.random(shape) > 0.5
    if dtype.kind in "iu":
        return rng.integers(0, 100, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def ids(d):
    return np.dtype(d).name


def reversed_view(x, axes):
    """strided_slice's description of x[..., ::-1, ...] on ``axes``, as array_ops.reverse builds it."""
    begin = [n - 1 if d in axes else 0 for d, n in enumerate(x.shape)]
    steps = [-1 if d in axes else 1 for d in range(x.ndim)]
    return copy.strided_view(BACKEND, x, begin, steps, x.shape)


# (name, input shape, glue call, NumPy reference)
VIEWS = [
    ("transpose", (3, 4, 5), lambda x: copy.transpose(BACKEND, x, (2, 0, 1)), lambda x: x.transpose(2, 0, 1)),
    (
        "transpose_4d",
        (2, 3, 1, 4),
        lambda x: copy.transpose(BACKEND, x, (3, 1, 0, 2)),
        lambda x: x.transpose(3, 1, 0, 2),
    ),
    ("reverse", (4, 5, 3), lambda x: reversed_view(x, (0, 2)), lambda x: x[::-1, :, ::-1]),
    (
        "strided_slice",
        (9, 8),
        lambda x: copy.strided_view(BACKEND, x, (8, 1), (-3, 2), (3, 4)),
        lambda x: x[8::-3, 1::2],
    ),
    (
        "broadcast_to",
        (3, 1),
        lambda x: copy.broadcast_to(BACKEND, x, (2, 3, 4)),
        lambda x: np.broadcast_to(x, (2, 3, 4)),
    ),
    ("empty", (0, 3), lambda x: copy.transpose(BACKEND, x, (1, 0)), lambda x: x.T),
    ("scalar", (), lambda x: copy.broadcast_to(BACKEND, x, (2, 2)), lambda x: np.broadcast_to(x, (2, 2))),
    # Ten dimensions, most of size 1 or mergeable: still one launch of at most 8.
    (
        "ten_dims",
        (1, 2, 1, 3, 1, 2, 1, 2, 1, 2),
        lambda x: reversed_view(x, (1, 3, 5, 7, 9)),
        lambda x: x[:, ::-1, :, ::-1, :, ::-1, :, ::-1, :, ::-1],
    ),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=ids)
@pytest.mark.parametrize("case", VIEWS, ids=[v[0] for v in VIEWS])
def test_layout_views_match_numpy(rng, case, dtype):
    _, shape, glue, reference = case
    x = sample(rng, shape, dtype)
    got = glue(x)
    assert got.dtype == x.dtype
    np.testing.assert_array_equal(got, reference(x))


def test_nine_unmergeable_dimensions_raise_unimplemented_naming_the_limit(rng):
    x = sample(rng, (2,) * 9, np.float32)
    with pytest.raises(UnimplementedError, match="at most 8"):
        copy.transpose(BACKEND, x, tuple(range(8, -1, -1)))


@pytest.mark.parametrize("dtype", DTYPES, ids=ids)
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_concat_writes_each_input_into_its_slab_including_empty_ones(rng, dtype, axis):
    parts = []
    for n in (2, 0, 5):
        shape = [3, 4, 2]
        shape[axis] = n
        parts.append(sample(rng, tuple(shape), dtype))
    np.testing.assert_array_equal(copy.concat(BACKEND, parts, axis), np.concatenate(parts, axis))


@pytest.mark.parametrize("dtype", DTYPES, ids=ids)
@pytest.mark.parametrize("mode", ["CONSTANT", "REFLECT", "SYMMETRIC"])
def test_pad_matches_numpy_pad(rng, dtype, mode):
    x = sample(rng, (4, 3, 5), dtype)
    pads = ((1, 3), (0, 2), (2, 2))
    got = copy.pad(BACKEND, x, pads, mode.lower(), 7)
    if mode == "CONSTANT":
        want = np.pad(x, pads, constant_values=np.asarray(7).astype(x.dtype))
    else:
        want = np.pad(x, pads, mode=mode.lower())
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", DTYPES, ids=ids)
def test_fill_matches_numpy_full(dtype):
    np.testing.assert_array_equal(copy.fill(BACKEND, (3, 5), 1, dtype), np.full((3, 5), 1, dtype))


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float32, np.float64, np.float16, np.uint8], ids=ids)
def test_range_matches_arange(dtype):
    np.testing.assert_allclose(copy.arange(BACKEND, 3, 2, 7, dtype), np.arange(3, 17, 2).astype(dtype))


# ---------------------------------------------------------------- index family
@pytest.mark.parametrize("dtype", DTYPES, ids=ids)
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64], ids=ids)
@pytest.mark.parametrize("axis, batch_dims", [(0, 0), (1, 0), (2, 0), (1, 1), (2, 1)])
def test_gather_matches_take_along_batches(rng, dtype, index_dtype, axis, batch_dims):
    params = sample(rng, (3, 4, 5), dtype)
    idx_shape = (3, 6) if batch_dims else (2, 3)
    indices = rng.integers(0, params.shape[axis], idx_shape).astype(index_dtype)
    got = index.gather(BACKEND, params, indices, axis, batch_dims)
    if batch_dims:
        want = np.stack([np.take(params[b], indices[b], axis=axis - 1) for b in range(3)])
    else:
        want = np.take(params, indices, axis=axis)
    np.testing.assert_array_equal(got, want)


def test_gather_out_of_range_index_reads_zero_as_tf_gpu():
    params = np.arange(1, 7, dtype=np.float32).reshape(3, 2)
    got = index.gather(BACKEND, params, np.array([2, 3, -1, 0], np.int32), 0)
    np.testing.assert_array_equal(got, [[5, 6], [0, 0], [0, 0], [1, 2]])


@pytest.mark.parametrize("dtype", DTYPES, ids=ids)
@pytest.mark.parametrize("depth, batch_dims", [(1, 0), (2, 0), (3, 0), (1, 1), (2, 1)])
def test_gather_nd_matches_fancy_indexing(rng, dtype, depth, batch_dims):
    params = sample(rng, (3, 4, 5), dtype)
    extent = params.shape[batch_dims : batch_dims + depth]
    lead = (3,) if batch_dims else ()
    indices = np.stack([rng.integers(0, e, lead + (2, 6)) for e in extent], -1).astype(np.int64)
    got = index.gather_nd(BACKEND, params, indices, batch_dims)
    if batch_dims:
        want = np.stack([params[b][tuple(np.moveaxis(indices[b], -1, 0))] for b in range(3)])
    else:
        want = params[tuple(np.moveaxis(indices, -1, 0))]
    np.testing.assert_array_equal(got, want)


SCATTER_DTYPES = [
    np.float32,
    np.float64,
    np.float16,
    bfloat16,
    np.int32,
    np.int64,
    np.int8,
    np.uint8,
    np.int16,
]
REFERENCE_OPS = {"add": np.add, "min": np.minimum, "max": np.maximum}


@pytest.mark.parametrize("dtype", SCATTER_DTYPES, ids=ids)
@pytest.mark.parametrize("op", ["add", "min", "max", "update"])
def test_tensor_scatter_combines_duplicate_indices_like_numpy_ufunc_at(rng, dtype, op):
    target = sample(rng, (7, 3), dtype)
    # Many duplicates among 40 updates of 7 rows; one index out of range is skipped.
    indices = rng.integers(0, 7, (40, 1)).astype(np.int32)
    indices[5, 0] = 9
    updates = sample(rng, (40, 3), dtype)
    if dtype in (np.int8, np.uint8, np.int16):
        updates = (updates % 3).astype(dtype)
    got = index.scatter_nd(BACKEND, indices, updates, target, op)
    keep = indices[:, 0] < 7
    want = target.astype(np.float64) if op == "add" else target.copy()
    if op == "update":
        want[indices[keep, 0]] = updates[keep]  # every duplicate row here holds the last write
    else:
        upd = updates[keep].astype(want.dtype)
        REFERENCE_OPS[op].at(want, indices[keep, 0], upd)
    want = want.astype(dtype)
    if op == "update":
        # Which duplicate wins is unspecified on a GPU, element by element: each element must
        # hold one of the updates aimed at it (or keep its value when none is).
        for row in range(7):
            cand = np.array([updates[i] for i in range(40) if keep[i] and indices[i, 0] == row])
            for col in range(3):
                options = cand[:, col] if len(cand) else target[row, col : col + 1]
                assert np.any(options == got[row, col])
        return
    tol = {np.float16: 5e-2, bfloat16: 2e-1}.get(dtype, 1e-5)
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=tol, atol=tol)


def test_scatter_add_sums_duplicates_as_tf_scatter_nd():
    indices = np.array([[0, 1], [2, 2], [0, 1], [1, 0]], np.int64)
    updates = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    got = index.scatter_nd(BACKEND, indices, updates, np.zeros((3, 3), np.float32), "add")
    want = np.zeros((3, 3), np.float32)
    np.add.at(want, tuple(indices.T), updates)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("n", [0, 1, 255, 256, 257, 5000])
@pytest.mark.parametrize("dtype", [np.bool_, np.float32, np.int64, np.float16], ids=ids)
def test_where_coordinates_match_argwhere_across_tile_boundaries(rng, n, dtype):
    x = sample(rng, (n,), dtype)
    if dtype != np.bool_:
        x = np.where(rng.random(n) > 0.6, x, 0).astype(dtype)
        x[: min(n, 3)] = -0.0 if dtype != np.int64 else 0  # negative zero counts as zero
    got = index.where_coordinates(BACKEND, x.reshape(n // 5, 5) if n % 5 == 0 and n else x)
    want = np.argwhere(x.reshape(n // 5, 5) if n % 5 == 0 and n else x)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)


# ----------------------------------------------------------------- sort family
SORT_DTYPES = [np.float32, np.float64, np.float16, bfloat16, np.int32, np.int64, np.uint8, np.int8]


@pytest.mark.parametrize("dtype", SORT_DTYPES, ids=ids)
@pytest.mark.parametrize("length", [1, 2, 7, 64, 1000, 5000])
@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
def test_sort_is_stable_and_matches_numpy_in_shared_and_global_memory(rng, dtype, length, descending):
    rows = 3 if length < 5000 else 2
    x = sample(rng, (rows, length), dtype)
    if np.dtype(dtype).kind in "iu":
        x = (x % 5).astype(dtype)  # many ties: stability matters
    values, indices = sort.sort_last_axis(BACKEND, x, length, descending, "sort")
    key = -x.astype(np.float64) if descending else x.astype(np.float64)
    want_idx = np.argsort(key, axis=-1, kind="stable")
    np.testing.assert_array_equal(indices, want_idx)
    np.testing.assert_array_equal(values, np.take_along_axis(x, want_idx, -1))
    assert indices.dtype == np.int32


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
def test_sort_puts_nan_last_ascending_and_first_descending(descending):
    x = np.array([[3.0, np.nan, -1.0, np.nan, 2.0]], np.float32)
    values, indices = sort.sort_last_axis(BACKEND, x, 5, descending, "sort")
    want = [1, 3, 0, 4, 2] if descending else [2, 4, 0, 1, 3]
    np.testing.assert_array_equal(indices[0], want)


@pytest.mark.parametrize("k", [0, 1, 3, 8])
def test_top_k_returns_the_k_largest_with_lower_index_first_on_ties(rng, k):
    x = rng.integers(0, 4, (4, 8)).astype(np.int32)
    values, indices = sort.sort_last_axis(BACKEND, x, k, True, "top_k")
    want_idx = np.argsort(-x, axis=-1, kind="stable")[:, :k]
    np.testing.assert_array_equal(indices, want_idx)
    np.testing.assert_array_equal(values, np.take_along_axis(x, want_idx, -1))


def reference_unique(x):
    first = {}
    idx = [first.setdefault(v, len(first)) for v in x.tolist()]
    return np.array(list(first), x.dtype), np.array(idx, np.int32)


@pytest.mark.parametrize("dtype", [np.int32, np.float32, np.int64, np.float16], ids=ids)
@pytest.mark.parametrize("n", [0, 1, 9, 300, 2048, 2049, 7000])
def test_unique_keeps_first_occurrence_order_in_shared_and_global_memory(rng, dtype, n):
    x = rng.integers(0, max(1, n // 3), n).astype(dtype)
    y, idx = sort.unique_1d(BACKEND, x)
    want_y, want_idx = reference_unique(x)
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(idx, want_idx)


def test_kernels_stride_past_the_grid_limit(rng):
    # More elements (and compaction tiles) than MAX_GRID blocks of 256 threads cover in one sweep.
    from gputensor.backend.cuda import launch_config

    n = launch_config.MAX_GRID * launch_config.ELEMENTWISE_BLOCK + 4099
    x = rng.random(n) > 0.7
    np.testing.assert_array_equal(copy.transpose(BACKEND, x.reshape(-1, 1), (1, 0)), x.reshape(1, -1))
    np.testing.assert_array_equal(index.where_coordinates(BACKEND, x), np.argwhere(x))


# (op, CUDA kernel inputs, attrs): an index out of range must raise the NumPy backend's error.
BAD_INDEX_CASES = [
    ("gather", (np.zeros((3, 4), np.float32), np.array([[0, 4]], np.int32)), {"axis": 1, "batch_dims": 0}),
    ("gather", (np.zeros((3, 4), np.float32), np.array([-1], np.int64)), {"axis": 0, "batch_dims": 0}),
    (
        "gather_nd",
        (np.zeros((2, 3, 4), np.int32), np.array([[[0, 1], [3, 0]]] * 2, np.int32)),
        {"batch_dims": 1},
    ),
    (
        "tensor_scatter_nd",
        (np.zeros((3, 4), np.float64), np.array([[1, 0], [3, 0]], np.int64), np.ones(2)),
        {"reduction": "add"},
    ),
]


@pytest.mark.parametrize("case", BAD_INDEX_CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(BAD_INDEX_CASES)])
def test_out_of_range_index_raises_the_numpy_backends_error(case):
    from gputensor.backend.cpu.array import KERNELS as CPU
    from gputensor.errors import InvalidArgumentError

    name, args, attrs = case
    with pytest.raises(InvalidArgumentError) as want:
        CPU[name](*args, **attrs)
    with pytest.raises(InvalidArgumentError) as got:
        index.KERNELS[name](BACKEND)(*args, **attrs)
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize("mode", ["constant", "reflect", "symmetric"])
def test_pad_of_zero_size_outputs_and_empty_inputs(mode):
    empty_out = copy.pad(BACKEND, np.zeros((0, 3), np.float32), ((0, 0), (1, 1)), mode, 2.0)
    assert empty_out.shape == (0, 5)
    if mode == "constant":  # only a constant pad can grow an empty axis
        grown = copy.pad(BACKEND, np.zeros((0, 3), np.float32), ((2, 1), (0, 0)), mode, 2.0)
        np.testing.assert_array_equal(grown, np.full((3, 3), 2.0, np.float32))


@pytest.mark.parametrize("start, delta, size", [(10, -3, 4), (0.5, -0.25, 9), (-7, 2, 0)])
def test_range_counts_down_and_handles_empty(start, delta, size):
    dtype = np.float64 if isinstance(start, float) else np.int64
    np.testing.assert_array_equal(
        copy.arange(BACKEND, start, delta, size, dtype), start + delta * np.arange(size)
    )
