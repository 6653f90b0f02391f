"""Property tests of the layout, padding and sorting ops against NumPy on random shapes.

Shapes include zero-size dimensions; every op's result must equal NumPy's function
of the same array, value for value and shape for shape.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gputensor as gt

SETTINGS = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _shape(data, min_dims=1, max_dims=4, min_side=0):
    return data.draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=4))


def _array(shape, dtype=np.float32):
    return (np.arange(int(np.prod(shape))) % 7 - 3).astype(dtype).reshape(shape)


def _check(got, expected):
    got = np.asarray(got.numpy())
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


@SETTINGS
@given(st.data())
def test_transpose_matches_numpy(device, data):
    shape = _shape(data)
    perm = data.draw(st.permutations(range(len(shape))))
    a = _array(shape)
    _check(gt.transpose(a, perm), np.transpose(a, perm))


@SETTINGS
@given(st.data())
def test_concat_matches_numpy(device, data):
    shape = _shape(data)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    sizes = data.draw(st.lists(st.integers(0, 3), min_size=1, max_size=4))
    parts = []
    for i, n in enumerate(sizes):
        s = list(shape)
        s[axis] = n
        parts.append(_array(s) + i)
    _check(gt.concat(parts, axis), np.concatenate(parts, axis))


@SETTINGS
@given(st.data())
def test_split_then_concat_round_trips(device, data):
    shape = _shape(data)
    axis = data.draw(st.integers(0, len(shape) - 1))
    cuts = sorted(data.draw(st.lists(st.integers(0, shape[axis]), max_size=3)))
    sizes = np.diff([0, *cuts, shape[axis]]).tolist()
    a = _array(shape)
    parts = gt.split(a, sizes, axis=axis)
    for got, want in zip(parts, np.split(a, cuts, axis=axis)):
        _check(got, want)
    _check(gt.concat(parts, axis), a)


@SETTINGS
@given(st.data())
def test_pad_matches_numpy_in_every_mode(device, data):
    shape = _shape(data, max_dims=3, min_side=1)
    mode = data.draw(st.sampled_from(["CONSTANT", "REFLECT", "SYMMETRIC"]))
    limit = {"CONSTANT": 3, "REFLECT": None, "SYMMETRIC": None}[mode]
    pads = []
    for d in shape:
        top = limit if limit is not None else (d - 1 if mode == "REFLECT" else d)
        pads.append([data.draw(st.integers(0, top)), data.draw(st.integers(0, top))])
    a = _array(shape)
    expected = np.pad(a, pads, mode=mode.lower(), **({"constant_values": 9} if mode == "CONSTANT" else {}))
    _check(gt.pad(a, pads, mode, constant_values=9), expected)


@SETTINGS
@given(st.data())
def test_tile_matches_numpy(device, data):
    shape = _shape(data, max_dims=3)
    mult = data.draw(st.lists(st.integers(0, 3), min_size=len(shape), max_size=len(shape)))
    a = _array(shape, np.int32)
    _check(gt.tile(a, mult), np.tile(a, mult))


@SETTINGS
@given(st.data())
def test_roll_matches_numpy(device, data):
    shape = _shape(data)
    axes = data.draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=3))
    shifts = data.draw(st.lists(st.integers(-7, 7), min_size=len(axes), max_size=len(axes)))
    a = _array(shape)
    _check(gt.roll(a, shifts, axes), np.roll(a, shifts, axes))


@SETTINGS
@given(st.data())
def test_reshape_and_squeeze_match_numpy(device, data):
    shape = _shape(data)
    a = _array(shape)
    # -1 is inferable only when the other sizes are non-zero (as in TF and NumPy)
    target = [-1, *shape[1:]] if all(shape[1:]) else list(shape)
    _check(gt.reshape(a, target), a.reshape(target))
    _check(gt.squeeze(a), np.squeeze(a))


@SETTINGS
@given(st.data())
def test_sort_and_argsort_match_numpy_stable_sort(device, data):
    shape = _shape(data, max_dims=3)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    a = data.draw(hnp.arrays(np.int32, shape, elements=st.integers(-3, 3)))
    _check(gt.sort(a, axis), np.sort(a, axis))
    _check(gt.argsort(a, axis, stable=True), np.argsort(a, axis, kind="stable").astype(np.int32))


@SETTINGS
@given(st.data())
def test_unique_matches_first_occurrence_order(device, data):
    a = data.draw(hnp.arrays(np.int64, st.integers(0, 12), elements=st.integers(-4, 4)))
    y, idx = gt.unique(a)
    _, first = np.unique(a, return_index=True)
    _check(y, a[np.sort(first)])
    np.testing.assert_array_equal(y.numpy()[idx.numpy()], a)


@SETTINGS
@given(st.data())
def test_boolean_mask_matches_numpy(device, data):
    shape = _shape(data, max_dims=3)
    k = data.draw(st.integers(1, len(shape)))
    axis = data.draw(st.integers(0, len(shape) - k))
    mask = data.draw(hnp.arrays(np.bool_, shape[axis : axis + k]))
    a = _array(shape)
    expected = a[(slice(None),) * axis + (mask,)]
    _check(gt.boolean_mask(a, mask, axis=axis), expected)


@SETTINGS
@given(st.data())
def test_scatter_nd_matches_numpy_add_at(device, data):
    shape = _shape(data, max_dims=3, min_side=1)
    k = data.draw(st.integers(1, len(shape)))
    n = data.draw(st.integers(0, 5))
    idx = np.stack(
        [data.draw(hnp.arrays(np.int32, (n,), elements=st.integers(0, d - 1))) for d in shape[:k]], -1
    )
    updates = _array((n, *shape[k:]), np.float64) + 1
    expected = np.zeros(shape)
    np.add.at(expected, tuple(idx.T), updates)
    _check(gt.scatter_nd(idx.reshape(n, k), updates, shape), expected)
