"""Array ops against NumPy references, on every device, dtype and memory layout.

Tests are data: each row of a table names a case, the gputensor call, an independent
NumPy reference, the input shape and the dtypes it takes; the same rows run on
contiguous and non-contiguous (transposed) inputs and on empty shapes.
"""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt
from gputensor.errors import InvalidArgumentError

FLOATS = ["float16", "float32", "float64"]
INTS = ["int32", "int64"]
REAL = FLOATS + INTS
ALL = REAL + ["bool"]


def _data(shape, dtype, rng):
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype.startswith("int"):
        return rng.integers(-9, 10, size=shape).astype(dtype)
    return rng.normal(size=shape).astype(dtype)


def _noncontiguous(a):
    """The same values as ``a`` in a transposed NumPy array (non C-contiguous unless dims are 1)."""
    return np.ascontiguousarray(a.T).T


def _take_batched(a, idx, axis, batch_dims):
    """Independent reference of gather with batch_dims: a loop over the batch dimension."""
    if batch_dims == 0:
        return np.take(a, idx, axis=axis)
    return np.stack([_take_batched(a[b], idx[b], axis - 1, batch_dims - 1) for b in range(a.shape[0])])


_IDX = np.array([[2, 0], [1, 1]])
_BIDX = np.array([[3, 0, 1], [2, 2, 0]])

# name: (gt function of x, NumPy reference of a, input shape, dtypes)
UNARY_CASES = {
    "identity": (gt.identity, lambda a: a, (2, 3), ALL),
    "reshape_infers_minus_one": (
        lambda x: gt.reshape(x, [4, -1]),
        lambda a: a.reshape(4, -1),
        (2, 3, 4),
        ALL,
    ),
    "reshape_to_scalar": (lambda x: gt.reshape(x, []), lambda a: a.reshape(()), (1, 1), ALL),
    "transpose_default_reverses": (gt.transpose, lambda a: a.T, (2, 3, 4), ALL),
    "transpose_perm": (lambda x: gt.transpose(x, [1, 2, 0]), lambda a: a.transpose(1, 2, 0), (2, 3, 4), ALL),
    "expand_dims_negative": (lambda x: gt.expand_dims(x, -1), lambda a: a[..., None], (2, 3), ALL),
    "expand_dims_front": (lambda x: gt.expand_dims(x, 0), lambda a: a[None], (2, 3), ALL),
    "squeeze_all": (gt.squeeze, np.squeeze, (1, 3, 1, 2), ALL),
    "squeeze_axis_negative": (lambda x: gt.squeeze(x, [-2]), lambda a: np.squeeze(a, -2), (1, 3, 1, 2), ALL),
    "tile": (lambda x: gt.tile(x, [2, 1, 3]), lambda a: np.tile(a, (2, 1, 3)), (2, 3, 2), ALL),
    "tile_zero_multiple": (lambda x: gt.tile(x, [0, 2]), lambda a: np.tile(a, (0, 2)), (2, 3), ALL),
    "broadcast_to": (
        lambda x: gt.broadcast_to(x, [4, 2, 3]),
        lambda a: np.broadcast_to(a, (4, 2, 3)),
        (2, 1),
        ALL,
    ),
    "reverse_axes": (lambda x: gt.reverse(x, [0, -1]), lambda a: a[::-1, :, ::-1], (2, 3, 4), ALL),
    "pad_constant": (
        lambda x: gt.pad(x, [[1, 2], [0, 1]], constant_values=3),
        lambda a: np.pad(a, ((1, 2), (0, 1)), constant_values=3),
        (2, 3),
        REAL,
    ),
    "pad_reflect": (
        lambda x: gt.pad(x, [[1, 1], [2, 2]], "REFLECT"),
        lambda a: np.pad(a, ((1, 1), (2, 2)), mode="reflect"),
        (3, 4),
        ALL,
    ),
    "pad_symmetric": (
        lambda x: gt.pad(x, [[2, 0], [3, 1]], "symmetric"),
        lambda a: np.pad(a, ((2, 0), (3, 1)), mode="symmetric"),
        (3, 4),
        ALL,
    ),
    "slice_minus_one_size": (lambda x: gt.slice(x, [1, 0], [-1, 2]), lambda a: a[1:, 0:2], (3, 4), ALL),
    "strided_slice_negative_stride": (
        lambda x: gt.strided_slice(x, [-1, 0], [0, 4], [-1, 2]),
        lambda a: a[-1:0:-1, 0:4:2],
        (3, 4),
        ALL,
    ),
    "roll_two_axes": (
        lambda x: gt.roll(x, [1, -2], [0, 1]),
        lambda a: np.roll(a, (1, -2), (0, 1)),
        (3, 4),
        ALL,
    ),
    "roll_same_axis_accumulates": (
        lambda x: gt.roll(x, [2, 3], [1, 1]),
        lambda a: np.roll(a, 5, 1),
        (3, 4),
        ALL,
    ),
    "repeat_flat": (lambda x: gt.repeat(x, 2), lambda a: np.repeat(a, 2), (2, 3), ALL),
    "repeat_per_row": (
        lambda x: gt.repeat(x, [1, 0, 2], axis=-2),
        lambda a: np.repeat(a, [1, 0, 2], -2),
        (3, 2),
        ALL,
    ),
    "gather_axis0": (lambda x: gt.gather(x, _IDX), lambda a: a[_IDX], (3, 4), ALL),
    "gather_negative_axis": (
        lambda x: gt.gather(x, [3, 0, 3], axis=-1),
        lambda a: a[:, [3, 0, 3]],
        (3, 4),
        ALL,
    ),
    "gather_batch_dims": (
        lambda x: gt.gather(x, _BIDX, axis=2, batch_dims=1),
        lambda a: _take_batched(a, _BIDX, 2, 1),
        (2, 3, 4),
        ALL,
    ),
    "gather_nd_full_index": (
        lambda x: gt.gather_nd(x, [[1, 2], [0, 0]]),
        lambda a: np.stack([a[1, 2], a[0, 0]]),
        (2, 3),
        ALL,
    ),
    "gather_nd_slices": (lambda x: gt.gather_nd(x, [[1], [0]]), lambda a: a[[1, 0]], (2, 3, 2), ALL),
    "gather_nd_batch_dims": (
        lambda x: gt.gather_nd(x, [[[1]], [[0]]], batch_dims=1),
        lambda a: np.stack([a[0, [1]], a[1, [0]]]),
        (2, 3, 2),
        ALL,
    ),
    "boolean_mask_2d": (
        lambda x: gt.boolean_mask(x, [[True, False, True], [False, False, True]]),
        lambda a: a[np.array([[True, False, True], [False, False, True]])],
        (2, 3, 2),
        ALL,
    ),
    "boolean_mask_axis": (
        lambda x: gt.boolean_mask(x, [False, True, True], axis=1),
        lambda a: a[:, [1, 2]],
        (2, 3),
        ALL,
    ),
    "sort_last_axis": (gt.sort, lambda a: np.sort(a, -1), (3, 5), REAL),
    "sort_descending_axis0": (
        lambda x: gt.sort(x, axis=0, direction="DESCENDING"),
        lambda a: np.flip(np.sort(a, 0), 0),
        (4, 3),
        REAL,
    ),
    "argsort_stable_ties": (
        lambda x: gt.argsort(x, stable=True),
        lambda a: np.argsort(a, -1, kind="stable").astype(np.int32),
        (3, 6),
        REAL,
    ),
    "argsort_descending_ties_by_index": (
        lambda x: gt.argsort(x, axis=0, direction="DESCENDING"),
        lambda a: np.argsort(-a.astype(np.float64), 0, kind="stable").astype(np.int32),
        (6, 2),
        REAL,
    ),
    "top_k_values": (
        lambda x: gt.math.top_k(x, 2).values,
        lambda a: np.flip(np.sort(a, -1), -1)[:, :2],
        (3, 5),
        REAL,
    ),
    "top_k_indices": (
        lambda x: gt.math.top_k(x, 3).indices,
        lambda a: np.argsort(-a.astype(np.float64), -1, kind="stable")[:, :3].astype(np.int32),
        (3, 5),
        REAL,
    ),
    "clip_by_value": (lambda x: gt.clip_by_value(x, -1, 2), lambda a: np.clip(a, -1, 2), (3, 4), REAL),
    "where_indices": (gt.where, lambda a: np.argwhere(a).astype(np.int64), (3, 4), ["bool"]),
    "shape": (gt.shape, lambda a: np.array(a.shape, np.int32), (3, 4), ALL),
    "size_int64": (lambda x: gt.size(x, out_type=gt.int64), lambda a: np.int64(a.size), (3, 4), ALL),
    "rank": (gt.rank, lambda a: np.int32(a.ndim), (3, 4, 1), ALL),
    "zeros_like": (gt.zeros_like, np.zeros_like, (2, 3), ALL),
    "ones_like_dtype": (lambda x: gt.ones_like(x, dtype=gt.float64), lambda a: np.ones(a.shape), (2, 3), ALL),
    "getitem_basic": (lambda x: x[1:, ::-2], lambda a: a[1:, ::-2], (3, 4), ALL),
    "getitem_int_list": (lambda x: x[:, [2, -1, 0]], lambda a: a[:, [2, -1, 0]], (3, 4), ALL),
    "getitem_two_arrays_adjacent": (
        lambda x: x[:, [0, 2], [1, 3]],
        lambda a: a[:, [0, 2], [1, 3]],
        (2, 3, 4),
        ALL,
    ),
    "getitem_int_and_array_split": (lambda x: x[1, :, [0, 3]], lambda a: a[1, :, [0, 3]], (2, 3, 4), ALL),
    "getitem_bool_mask_and_newaxis": (
        lambda x: x[None, np.array([True, False, True])],
        lambda a: a[None, np.array([True, False, True])],
        (3, 2),
        ALL,
    ),
}

LAYOUTS = ["contiguous", "transposed"]


UNARY_PARAMS = [(c, d) for c in sorted(UNARY_CASES) for d in UNARY_CASES[c][3]]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case,dtype", UNARY_PARAMS)
def test_op_matches_numpy_reference(device, rng, case, dtype, layout):
    fn, ref, shape, _ = UNARY_CASES[case]
    a = _data(shape, dtype, rng)
    if layout == "transposed":
        a = _noncontiguous(a)
    out = fn(gt.constant(a))
    expected = np.asarray(ref(a))
    got = np.asarray(out.numpy())
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
    assert out.device == device.name


# name: (gt function of x, NumPy reference of a, zero-size input shape)
EMPTY_CASES = {
    "reshape": (lambda x: gt.reshape(x, [0, 5]), lambda a: a.reshape(0, 5), (2, 0, 3)),
    "transpose": (gt.transpose, lambda a: a.T, (2, 0)),
    "concat_with_empty": (lambda x: gt.concat([x, x], 0), lambda a: np.concatenate([a, a]), (0, 3)),
    "stack": (lambda x: gt.stack([x, x], 1), lambda a: np.stack([a, a], 1), (0, 3)),
    "tile": (lambda x: gt.tile(x, [2, 3]), lambda a: np.tile(a, (2, 3)), (0, 2)),
    "gather_empty_indices": (lambda x: gt.gather(x, np.zeros((0,), np.int32)), lambda a: a[:0], (3, 2)),
    "gather_from_empty_rows": (lambda x: gt.gather(x, [1], axis=0), lambda a: a[[1]], (2, 0)),
    "pad_empty": (lambda x: gt.pad(x, [[1, 1], [0, 0]]), lambda a: np.pad(a, ((1, 1), (0, 0))), (0, 3)),
    "boolean_mask_all_false": (lambda x: gt.boolean_mask(x, [False, False]), lambda a: a[:0], (2, 3)),
    "where_empty": (lambda x: gt.where(gt.cast(x, gt.bool)), lambda a: np.argwhere(a), (0, 4)),
    "sort_empty": (gt.sort, np.sort, (3, 0)),
    "reverse_empty": (lambda x: gt.reverse(x, [0]), lambda a: a[::-1], (0, 2)),
    "split_zero_part": (lambda x: gt.split(x, [0, 3], 1)[0], lambda a: a[:, :0], (2, 3)),
    "getitem_empty_slice": (lambda x: x[2:1], lambda a: a[2:1], (4, 2)),
    "getitem_negative_step_empty": (lambda x: x[::-1], lambda a: a[::-1], (0,)),
    "unique_empty": (lambda x: gt.unique(gt.reshape(x, [-1])).y, lambda a: a.reshape(-1), (0, 2)),
    "scatter_nd_empty_updates": (
        lambda x: gt.scatter_nd(np.zeros((0, 1), np.int32), gt.reshape(x, [0, 2]), [3, 2]),
        lambda a: np.zeros((3, 2), a.dtype),
        (0, 2),
    ),
}


@pytest.mark.parametrize("dtype", ["float32", "int64"])
@pytest.mark.parametrize("case", sorted(EMPTY_CASES))
def test_op_on_zero_size_input_matches_numpy(device, rng, case, dtype):
    fn, ref, shape = EMPTY_CASES[case]
    a = _data(shape, dtype, rng)
    got = np.asarray(fn(gt.constant(a)).numpy())
    expected = np.asarray(ref(a))
    assert got.shape == expected.shape
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


# ---------------------------------------------------------------------- creation
# name: (thunk making a tensor, NumPy expected value)
CREATION_CASES = {
    "zeros_default_float32": (lambda: gt.zeros([2, 3]), np.zeros((2, 3), np.float32)),
    "zeros_bool": (lambda: gt.zeros([2], gt.bool), np.zeros(2, bool)),
    "ones_int64_from_tensorshape": (lambda: gt.ones(gt.TensorShape([3]), gt.int64), np.ones(3, np.int64)),
    "ones_float16_from_tensor_shape": (
        lambda: gt.ones(gt.constant([2, 1]), "float16"),
        np.ones((2, 1), np.float16),
    ),
    "zeros_scalar": (lambda: gt.zeros([]), np.float32(0)),
    "fill_float_infers_float32": (lambda: gt.fill([2, 2], 1.5), np.full((2, 2), 1.5, np.float32)),
    "fill_int_infers_int32": (lambda: gt.fill([3], 7), np.full(3, 7, np.int32)),
    "fill_bool": (lambda: gt.fill([2], True), np.full(2, True)),
    "fill_zero_size": (lambda: gt.fill([0, 4], 2.0), np.zeros((0, 4), np.float32)),
    "range_limit_only": (lambda: gt.range(5), np.arange(5, dtype=np.int32)),
    "range_start_limit_delta": (lambda: gt.range(3, 18, 5), np.arange(3, 18, 5, dtype=np.int32)),
    "range_negative_delta": (lambda: gt.range(5, -4, -3), np.arange(5, -4, -3, dtype=np.int32)),
    "range_float_infers_float32": (lambda: gt.range(0, 1.0, 0.25), np.arange(0, 1, 0.25, dtype=np.float32)),
    "range_int64_tensor_widens": (lambda: gt.range(gt.constant(4, gt.int64)), np.arange(4, dtype=np.int64)),
    "range_dtype_float64": (lambda: gt.range(1, 4, dtype=gt.float64), np.arange(1, 4, dtype=np.float64)),
    "range_empty": (lambda: gt.range(3, 3), np.arange(0, dtype=np.int32)),
    "linspace": (lambda: gt.linspace(1.0, 2.0, 5), np.linspace(1, 2, 5, dtype=np.float32)),
    "linspace_ints_give_float64": (lambda: gt.linspace(0, 10, 6), np.linspace(0, 10, 6)),
    "linspace_one": (lambda: gt.linspace(3.0, 5.0, 1), np.array([3.0], np.float32)),
    "linspace_zero": (lambda: gt.linspace(3.0, 5.0, 0), np.zeros(0, np.float32)),
    "linspace_batched_axis": (
        lambda: gt.linspace([0.0, 10.0], [1.0, 20.0], 3, axis=-1),
        np.linspace([0.0, 10.0], [1.0, 20.0], 3, axis=-1).astype(np.float32),
    ),
    "eye_square": (lambda: gt.eye(3), np.eye(3, dtype=np.float32)),
    "eye_rect_batched_int": (
        lambda: gt.eye(2, 3, batch_shape=[2], dtype=gt.int32),
        np.broadcast_to(np.eye(2, 3, dtype=np.int32), (2, 2, 3)),
    ),
    "one_hot_default": (
        lambda: gt.one_hot([0, 2, -1, 3], 3),
        np.array([[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]], np.float32),
    ),
    "one_hot_axis0_values": (
        lambda: gt.one_hot([1, 0], 3, on_value=5, off_value=-1, axis=0),
        np.array([[-1, 5], [5, -1], [-1, -1]], np.int32),
    ),
    "one_hot_dtype_bool": (lambda: gt.one_hot([1], 2, dtype=gt.bool), np.array([[False, True]])),
    "sequence_mask": (
        lambda: gt.sequence_mask([1, 3, 0]),
        np.arange(3)[None, :] < np.array([1, 3, 0])[:, None],
    ),
    "sequence_mask_maxlen_dtype": (
        lambda: gt.sequence_mask([[2], [0]], 4, dtype=gt.float32),
        (np.arange(4) < np.array([[2], [0]])[..., None]).astype(np.float32),
    ),
    "meshgrid_xy": (
        lambda: gt.stack(gt.meshgrid([1, 2, 3], [4, 5])),
        np.stack(np.meshgrid([1, 2, 3], [4, 5])).astype(np.int32),
    ),
    "meshgrid_ij_3d": (
        lambda: gt.stack(gt.meshgrid([1, 2], [3, 4, 5], [6], indexing="ij")),
        np.stack(np.meshgrid([1, 2], [3, 4, 5], [6], indexing="ij")).astype(np.int32),
    ),
    "scatter_nd_adds_duplicates": (
        lambda: gt.scatter_nd([[1], [3], [1]], [1.0, 2.0, 4.0], [5]),
        np.array([0, 5, 0, 2, 0], np.float32),
    ),
    "scatter_nd_rows": (
        lambda: gt.scatter_nd([[0], [2]], [[1, 2], [3, 4]], [3, 2]),
        np.array([[1, 2], [0, 0], [3, 4]], np.int32),
    ),
    "tensor_scatter_nd_update": (
        lambda: gt.tensor_scatter_nd_update([[1, 2], [3, 4]], [[0, 1], [1, 0]], [9, 8]),
        np.array([[1, 9], [8, 4]], np.int32),
    ),
    "tensor_scatter_nd_add": (
        lambda: gt.tensor_scatter_nd_add([1.0, 2.0, 3.0], [[0], [0]], [1.0, 1.0]),
        np.array([3.0, 2.0, 3.0], np.float32),
    ),
    "tensor_scatter_nd_sub": (
        lambda: gt.tensor_scatter_nd_sub([5, 5], [[1]], [2]),
        np.array([5, 3], np.int32),
    ),
    "tensor_scatter_nd_max": (
        lambda: gt.tensor_scatter_nd_max([1, 5, 3], [[0], [1], [0]], [4, 2, 0]),
        np.array([4, 5, 3], np.int32),
    ),
    "tensor_scatter_nd_min": (
        lambda: gt.tensor_scatter_nd_min([[1.0, 5.0]], [[0, 1], [0, 0]], [2.0, -1.0]),
        np.array([[-1.0, 2.0]], np.float32),
    ),
    "concat_python_lists": (lambda: gt.concat([[1, 2], [3]], 0), np.array([1, 2, 3], np.int32)),
    "concat_negative_axis": (
        lambda: gt.concat([np.ones((2, 1)), np.zeros((2, 2))], -1),
        np.concatenate([np.ones((2, 1)), np.zeros((2, 2))], -1),
    ),
    "concat_single_value": (lambda: gt.concat([[1, 2]], 0), np.array([1, 2], np.int32)),
    "stack_axis_last": (
        lambda: gt.stack([[1, 2], [3, 4]], axis=-1),
        np.stack([[1, 2], [3, 4]], -1).astype(np.int32),
    ),
    "stack_scalars": (lambda: gt.stack([1.0, 2.0]), np.array([1.0, 2.0], np.float32)),
    "unique_y": (lambda: gt.unique([4, 1, 4, 2, 1]).y, np.array([4, 1, 2], np.int32)),
    "unique_idx_int64": (
        lambda: gt.unique([4.0, 1.0, 4.0], out_idx=gt.int64).idx,
        np.array([0, 1, 0], np.int64),
    ),
    "where_select_broadcasts": (
        lambda: gt.where([[True], [False]], [1, 2, 3], 0),
        np.where([[True], [False]], [1, 2, 3], 0).astype(np.int32),
    ),
    "clip_by_norm_scales_down": (
        lambda: gt.clip_by_norm([3.0, 4.0], 1.0),
        np.array([0.6, 0.8], np.float32),
    ),
    "clip_by_norm_keeps_small": (lambda: gt.clip_by_norm([0.3, 0.4], 1.0), np.array([0.3, 0.4], np.float32)),
    "clip_by_norm_zero_tensor": (lambda: gt.clip_by_norm([0.0, 0.0], 1.0), np.zeros(2, np.float32)),
    "clip_by_norm_per_row": (
        lambda: gt.clip_by_norm([[3.0, 4.0], [0.1, 0.0]], 2.0, axes=[1]),
        np.array([[1.2, 1.6], [0.1, 0.0]], np.float32),
    ),
    "range_iteration_of_tensor": (
        lambda: gt.stack(list(gt.constant([[1, 2], [3, 4]]))),
        np.array([[1, 2], [3, 4]], np.int32),
    ),
}


@pytest.mark.parametrize("case", sorted(CREATION_CASES))
def test_creation_and_composed_ops_match_numpy(device, case):
    thunk, expected = CREATION_CASES[case]
    out = thunk()
    got = np.asarray(out.numpy())
    expected = np.asarray(expected)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    assert out.device == device.name


def test_split_into_equal_parts_and_sizes(device, rng):
    a = rng.normal(size=(6, 4)).astype(np.float32)
    parts = gt.split(a, 3)
    for got, want in zip(parts, np.split(a, 3)):
        np.testing.assert_array_equal(got.numpy(), want)
    sizes = gt.split(a, [1, -1, 2], axis=-1)
    for got, want in zip(sizes, np.split(a, [1, 2], axis=-1)):
        np.testing.assert_array_equal(got.numpy(), want)


def test_unstack_returns_rows_along_axis(device, rng):
    a = _noncontiguous(rng.normal(size=(3, 4)).astype(np.float64))
    got = gt.unstack(a, axis=1)
    assert len(got) == 4
    for i, t in enumerate(got):
        np.testing.assert_array_equal(t.numpy(), a[:, i])


def test_shape_n_gives_one_int32_shape_per_input(device):
    out = gt.shape_n([gt.zeros([2, 3]), gt.zeros([4])])
    assert [o.numpy().tolist() for o in out] == [[2, 3], [4]]
    assert all(o.dtype == gt.int32 for o in out)


def test_unique_reconstructs_input(device, rng):
    a = rng.integers(0, 5, size=20).astype(np.int64)
    y, idx = gt.unique(a)
    np.testing.assert_array_equal(y.numpy()[idx.numpy()], a)
    _, first = np.unique(a, return_index=True)
    np.testing.assert_array_equal(y.numpy(), a[np.sort(first)])


def test_clip_by_global_norm_scales_all_tensors_jointly(device):
    a, b = np.array([3.0, 0.0], np.float32), np.array([[4.0]], np.float32)
    (ca, none, cb), norm = gt.clip_by_global_norm([a, None, b], 2.0)
    assert none is None
    np.testing.assert_allclose(norm.numpy(), 5.0)
    np.testing.assert_allclose(ca.numpy(), a * 2 / 5, rtol=1e-6)
    np.testing.assert_allclose(cb.numpy(), b * 2 / 5, rtol=1e-6)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_clip_by_global_norm_with_infinite_norm_gives_nan(device):
    (c,), norm = gt.clip_by_global_norm([np.array([np.inf, 1.0], np.float32)], 1.0)
    assert np.isinf(norm.numpy())
    assert np.isnan(c.numpy()).all()


def test_zeros_like_follows_input_device_without_scope():
    dev = gt.constant([1.0]).device
    assert gt.zeros_like(gt.constant([[1, 2]])).device == dev


def test_tensor_item_assignment_raises_type_error(device):
    t = gt.constant([1, 2])
    with pytest.raises(TypeError, match="tensor_scatter_nd_update"):
        t[0] = 3


def test_variable_supports_indexing(device):
    v = gt.Variable([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(v[1, ::-1].numpy(), [4.0, 3.0])
    np.testing.assert_array_equal(v[:, [1]].numpy(), [[2.0], [4.0]])


def test_results_do_not_change_when_the_source_numpy_array_changes(device):
    a = np.arange(6.0).reshape(2, 3)
    t = gt.constant(a)
    views = [gt.reshape(t, [-1]), gt.transpose(t), t[:, 1:], gt.broadcast_to(t[0], [2, 3])]
    before = [v.numpy().copy() for v in views]
    a[:] = -1
    for v, b in zip(views, before):
        np.testing.assert_array_equal(v.numpy(), b)


# ------------------------------------------------------------------------ errors
_X = np.arange(12, dtype=np.float32).reshape(3, 4)

# name: (thunk, exception class, message fragment)
ERROR_CASES = {
    "gather_index_out_of_range": (
        lambda: gt.gather([1, 2, 3, 4, 5], [0, 1, 2, 7]),
        InvalidArgumentError,
        r"indices\[3\] = 7 is not in \[0, 5\)",
    ),
    "gather_negative_index": (
        lambda: gt.gather(_X, [[0], [-1]]),
        InvalidArgumentError,
        r"indices\[1,0\] = -1 is not in \[0, 3\)",
    ),
    "gather_float_indices": (lambda: gt.gather(_X, [0.0]), TypeError, "int32 or int64"),
    "gather_axis_out_of_range": (
        lambda: gt.gather(_X, [0], axis=2),
        InvalidArgumentError,
        "axis 2 is out of range",
    ),
    "gather_scalar_params": (lambda: gt.gather(1.0, [0]), InvalidArgumentError, "at least 1-dimensional"),
    "gather_nd_out_of_range": (
        lambda: gt.gather_nd(_X, [[1, 5]]),
        InvalidArgumentError,
        r"\[1, 5\] does not index into param shape \[3,4\]",
    ),
    "gather_nd_index_too_long": (
        lambda: gt.gather_nd(_X, [[1, 1, 1]]),
        InvalidArgumentError,
        "do not fit params shape",
    ),
    "reshape_size_mismatch": (lambda: gt.reshape(_X, [5, 2]), InvalidArgumentError, "tensor with 12 values"),
    "reshape_two_unknown": (
        lambda: gt.reshape(_X, [-1, -1]),
        InvalidArgumentError,
        "only one input size may be -1",
    ),
    "reshape_not_divisible": (lambda: gt.reshape(_X, [5, -1]), InvalidArgumentError, "tensor with 12 values"),
    "reshape_infer_on_empty": (
        lambda: gt.reshape(np.zeros((0, 3)), [0, -1]),
        InvalidArgumentError,
        "cannot infer",
    ),
    "concat_rank_mismatch": (
        lambda: gt.concat([_X, _X[0]], 0),
        InvalidArgumentError,
        "Ranks of all input tensors should match",
    ),
    "concat_shape_mismatch": (
        lambda: gt.concat([_X, _X[:, :2]], 0),
        InvalidArgumentError,
        "Dimension 1 in both shapes must be equal",
    ),
    "concat_dtype_mismatch": (
        lambda: gt.concat([gt.constant([1]), gt.constant([1.0])], 0),
        InvalidArgumentError,
        "same dtype",
    ),
    "concat_scalars": (lambda: gt.concat([1, 2], 0), InvalidArgumentError, "use gt.stack"),
    "concat_empty_list": (lambda: gt.concat([], 0), ValueError, "non-empty list"),
    "stack_shape_mismatch": (
        lambda: gt.stack([[1, 2], [3]]),
        InvalidArgumentError,
        "Shapes of all inputs must match",
    ),
    "split_not_even": (lambda: gt.split(_X, 3, axis=1), InvalidArgumentError, "evenly divide"),
    "split_sizes_not_summing": (
        lambda: gt.split(_X, [1, 2], axis=1),
        InvalidArgumentError,
        "add up to dimension 1 of size 4",
    ),
    "unstack_wrong_num": (lambda: gt.unstack(_X, num=4), InvalidArgumentError, "num is 4"),
    "unstack_scalar": (lambda: gt.unstack(1.0), InvalidArgumentError, "scalar"),
    "squeeze_non_one": (lambda: gt.squeeze(_X, 0), InvalidArgumentError, "Can not squeeze dim\\[0\\]"),
    "expand_dims_out_of_range": (lambda: gt.expand_dims(_X, 3), InvalidArgumentError, "out of range"),
    "transpose_bad_perm": (lambda: gt.transpose(_X, [0, 0]), InvalidArgumentError, "not a permutation"),
    "transpose_perm_length": (
        lambda: gt.transpose(_X, [0, 1, 2]),
        InvalidArgumentError,
        "one entry per dimension",
    ),
    "tile_wrong_length": (lambda: gt.tile(_X, [2]), InvalidArgumentError, "vector of length 2"),
    "tile_negative": (lambda: gt.tile(_X, [1, -1]), InvalidArgumentError, "multiples\\[1\\] >= 0"),
    "broadcast_to_incompatible": (
        lambda: gt.broadcast_to(_X, [4, 4]),
        InvalidArgumentError,
        "Unable to broadcast",
    ),
    "broadcast_to_lower_rank": (
        lambda: gt.broadcast_to(_X, [4]),
        InvalidArgumentError,
        "Unable to broadcast",
    ),
    "zeros_negative_dim": (lambda: gt.zeros([2, -1]), InvalidArgumentError, "must be >= 0"),
    "zeros_float_shape": (lambda: gt.zeros([2.5]), TypeError, "list of ints"),
    "fill_non_scalar_value": (lambda: gt.fill([2], [1, 2]), InvalidArgumentError, "value must be a scalar"),
    "range_zero_delta": (lambda: gt.range(0, 5, 0), InvalidArgumentError, "delta != 0"),
    "range_wrong_direction": (lambda: gt.range(5, 1), InvalidArgumentError, "start <= limit"),
    "range_negative_delta_wrong_direction": (
        lambda: gt.range(1, 5, -1),
        InvalidArgumentError,
        "start >= limit",
    ),
    "linspace_negative_num": (lambda: gt.linspace(0.0, 1.0, -1), InvalidArgumentError, "num >= 0"),
    "pad_reflect_too_large": (
        lambda: gt.pad(_X, [[3, 0], [0, 0]], "REFLECT"),
        InvalidArgumentError,
        "less than the dimension size",
    ),
    "pad_symmetric_too_large": (
        lambda: gt.pad(_X, [[0, 0], [5, 0]], "SYMMETRIC"),
        InvalidArgumentError,
        "no greater than",
    ),
    "pad_negative": (lambda: gt.pad(_X, [[-1, 0], [0, 0]]), InvalidArgumentError, "non-negative"),
    "pad_wrong_shape": (lambda: gt.pad(_X, [[1, 1]]), InvalidArgumentError, r"shape \[2, 2\]"),
    "pad_unknown_mode": (
        lambda: gt.pad(_X, [[1, 1], [1, 1]], "WRAP"),
        ValueError,
        "CONSTANT, REFLECT, SYMMETRIC",
    ),
    "slice_begin_out_of_range": (
        lambda: gt.slice(_X, [4, 0], [1, 1]),
        InvalidArgumentError,
        r"begin\[0\] in \[0, 3\]",
    ),
    "slice_size_too_large": (
        lambda: gt.slice(_X, [1, 0], [3, 1]),
        InvalidArgumentError,
        r"size\[0\] in \[0, 2\]",
    ),
    "strided_slice_zero_stride": (
        lambda: gt.strided_slice(_X, [0], [2], [0]),
        InvalidArgumentError,
        "non-zero",
    ),
    "strided_slice_two_ellipses": (
        lambda: gt.strided_slice(_X, [0, 0], [0, 0], ellipsis_mask=3),
        InvalidArgumentError,
        "Multiple ellipses",
    ),
    "strided_slice_lengths_differ": (
        lambda: gt.strided_slice(_X, [0, 0], [1]),
        InvalidArgumentError,
        "same length",
    ),
    "getitem_int_out_of_range": (
        lambda: gt.constant(_X)[3],
        InvalidArgumentError,
        "slice index 3 of dimension 0 out of bounds",
    ),
    "getitem_too_many_indices": (lambda: gt.constant(_X)[0, 0, 0], InvalidArgumentError, "too many indices"),
    "getitem_float_index": (lambda: gt.constant(_X)[1.5], TypeError, "valid indices"),
    "getitem_list_out_of_range": (lambda: gt.constant(_X)[[0, 5]], InvalidArgumentError, "out of bounds"),
    "getitem_arrays_not_broadcastable": (
        lambda: gt.constant(_X)[[0, 1], [0, 1, 2]],
        InvalidArgumentError,
        "could not be broadcast",
    ),
    "reverse_duplicate_axis": (lambda: gt.reverse(_X, [0, -2]), InvalidArgumentError, "more than once"),
    "sort_bad_direction": (lambda: gt.sort(_X, direction="UP"), ValueError, "ASCENDING, DESCENDING"),
    "sort_bool": (lambda: gt.sort([True, False]), InvalidArgumentError, "values has dtype bool"),
    "top_k_too_large": (
        lambda: gt.math.top_k(_X, 5),
        InvalidArgumentError,
        "at least k columns. Had 4, needed 5",
    ),
    "top_k_negative": (lambda: gt.math.top_k(_X, -1), InvalidArgumentError, "k >= 0"),
    "unique_not_vector": (lambda: gt.unique(_X), InvalidArgumentError, "1D vector"),
    "boolean_mask_shape_mismatch": (
        lambda: gt.boolean_mask(_X, [True, False]),
        InvalidArgumentError,
        "must match",
    ),
    "boolean_mask_scalar_mask": (lambda: gt.boolean_mask(_X, True), ValueError, "cannot be scalar"),
    "where_only_x": (lambda: gt.where([True], [1]), ValueError, "both be non-None"),
    "scatter_out_of_range": (
        lambda: gt.tensor_scatter_nd_update(_X, [[3, 0]], [1.0]),
        InvalidArgumentError,
        r"\[3, 0\] does not index into shape \[3,4\]",
    ),
    "scatter_updates_shape": (
        lambda: gt.tensor_scatter_nd_update(_X, [[0]], [1.0]),
        InvalidArgumentError,
        "updates shape",
    ),
    "scatter_updates_dtype": (
        lambda: gt.tensor_scatter_nd_add(_X, [[0, 0]], gt.constant([1])),
        InvalidArgumentError,
        "must match",
    ),
    "scatter_add_on_bool": (
        lambda: gt.tensor_scatter_nd_add([True], [[0]], [True]),
        InvalidArgumentError,
        "tensor_scatter_nd_add: tensor has dtype bool",
    ),
    "scatter_nd_negative_shape": (lambda: gt.scatter_nd([[0]], [1.0], [-2]), InvalidArgumentError, ">= 0"),
    "repeat_wrong_length": (lambda: gt.repeat(_X, [1, 2], axis=0), InvalidArgumentError, "one per element"),
    "roll_lengths_differ": (lambda: gt.roll(_X, [1, 2], [0]), InvalidArgumentError, "same size"),
    "clip_by_value_bounds_enlarge": (
        lambda: gt.clip_by_value([1.0], [0.0, 0.0], 1.0),
        InvalidArgumentError,
        "not enlarge",
    ),
    "clip_by_global_norm_not_list": (
        lambda: gt.clip_by_global_norm(gt.constant([1.0]), 1.0),
        TypeError,
        "sequence",
    ),
    "meshgrid_bad_indexing": (lambda: gt.meshgrid([1], [2], indexing="xx"), ValueError, "'xy' or 'ij'"),
    "shape_bad_out_type": (lambda: gt.shape(_X, out_type=gt.float32), TypeError, "int32 or int64"),
    "one_hot_float_indices": (lambda: gt.one_hot([1.0], 3), TypeError, "integer"),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_bad_input_raises_tf_error_class(device, case):
    thunk, exc, match = ERROR_CASES[case]
    with pytest.raises(exc, match=match):
        thunk()


def test_error_messages_name_the_op():
    with pytest.raises(InvalidArgumentError) as info:
        gt.reshape(_X, [5])
    assert str(info.value).startswith("reshape:")
    assert info.value.op == "reshape"
