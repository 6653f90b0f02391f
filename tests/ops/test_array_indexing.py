"""Property tests: ``Tensor.__getitem__`` and ``gt.strided_slice`` against NumPy indexing.

Random shapes (zero-size dimensions included) and random index expressions; NumPy's
own indexing of the same array is the reference. strided_slice's bit masks are
translated into the Python index they stand for (TF's documented meaning), which
NumPy then evaluates.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gputensor as gt

SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5)


def _array(shape):
    return np.arange(int(np.prod(shape)), dtype=np.int32).reshape(shape)


def _bound(draw, d):
    return draw(st.one_of(st.none(), st.integers(-d - 2, d + 2)))


def _slice(draw, d):
    step = draw(st.one_of(st.none(), st.integers(-3, 3).filter(bool)))
    return slice(_bound(draw, d), _bound(draw, d), step)


@st.composite
def basic_keys(draw, shape):
    """A tuple of ints, slices, at most one Ellipsis and None that NumPy accepts for ``shape``."""
    key, dim = [], 0
    ellipsis = False
    for _ in range(draw(st.integers(0, len(shape) + 2))):
        kinds = ["newaxis"] + ([] if ellipsis else ["ellipsis"])
        if dim < len(shape):
            kinds += ["slice", "slice"] + (["int"] if shape[dim] > 0 else [])
        kind = draw(st.sampled_from(kinds))
        if kind == "newaxis":
            key.append(None)
        elif kind == "ellipsis":
            key.append(Ellipsis)
            ellipsis = True
            # the ellipsis stands for some dimensions; what follows indexes the trailing ones
            dim = len(shape) - draw(st.integers(0, len(shape) - dim))
        elif kind == "int":
            key.append(draw(st.integers(-shape[dim], shape[dim] - 1)))
            dim += 1
        else:
            key.append(_slice(draw, shape[dim]))
            dim += 1
    if ellipsis:  # trailing entries after "..." must fit the dimensions that remain
        after = sum(1 for k in key[key.index(Ellipsis) + 1 :] if k is not None)
        if after > len(shape):
            key = key[: key.index(Ellipsis) + 1]
    return tuple(key)


@SETTINGS
@given(st.data())
def test_basic_indexing_matches_numpy(device, data):
    shape = data.draw(shapes)
    a = _array(shape)
    key = data.draw(basic_keys(shape))
    try:
        expected = a[key]
    except IndexError:
        return  # the drawn key is not valid NumPy (e.g. an int after "..." in a spent dimension)
    got = gt.constant(a)[key]
    np.testing.assert_array_equal(np.asarray(got.numpy()), expected)
    assert got.shape == expected.shape


@st.composite
def strided_specs(draw, shape):
    """begin/end/strides and the five masks of a valid strided_slice for ``shape``."""
    begin, end, strides = [], [], []
    masks = dict(begin_mask=0, end_mask=0, ellipsis_mask=0, new_axis_mask=0, shrink_axis_mask=0)
    dim, ellipsis = 0, False
    for i in range(draw(st.integers(0, len(shape) + 2))):
        kinds = ["new"] + ([] if ellipsis else ["ellipsis"])
        if dim < len(shape):
            kinds += ["range", "range"] + (["shrink"] if shape[dim] > 0 else [])
        kind = draw(st.sampled_from(kinds))
        d = shape[dim] if dim < len(shape) else 1
        b, e = draw(st.integers(-d - 2, d + 2)), draw(st.integers(-d - 2, d + 2))
        s = draw(st.integers(-3, 3).filter(bool))
        if kind == "new":
            masks["new_axis_mask"] |= 1 << i
        elif kind == "ellipsis":
            masks["ellipsis_mask"] |= 1 << i
            ellipsis = True
            dim = len(shape)  # entries after the ellipsis are new axes only, to stay valid
        elif kind == "shrink":
            b, s = draw(st.integers(-shape[dim], shape[dim] - 1)), 1
            masks["shrink_axis_mask"] |= 1 << i
            dim += 1
        else:
            masks["begin_mask"] |= draw(st.booleans()) << i
            masks["end_mask"] |= draw(st.booleans()) << i
            dim += 1
        begin.append(b)
        end.append(e)
        strides.append(s)
    return begin, end, strides, masks


def _python_key(begin, end, strides, masks):
    """The index expression a strided_slice stands for (TF's documented meaning of the masks)."""
    key = []
    for i, (b, e, s) in enumerate(zip(begin, end, strides)):
        if masks["ellipsis_mask"] >> i & 1:
            key.append(Ellipsis)
        elif masks["new_axis_mask"] >> i & 1:
            key.append(None)
        elif masks["shrink_axis_mask"] >> i & 1:
            key.append(b)
        else:
            key.append(
                slice(
                    None if masks["begin_mask"] >> i & 1 else b,
                    None if masks["end_mask"] >> i & 1 else e,
                    s,
                )
            )
    return tuple(key)


@SETTINGS
@given(st.data())
def test_strided_slice_masks_match_numpy_indexing(device, data):
    shape = data.draw(shapes)
    a = _array(shape)
    begin, end, strides, masks = data.draw(strided_specs(shape))
    got = gt.strided_slice(gt.constant(a), begin, end, strides, **masks)
    expected = a[_python_key(begin, end, strides, masks)]
    np.testing.assert_array_equal(np.asarray(got.numpy()), expected)
    assert got.shape == expected.shape


@st.composite
def advanced_keys(draw, shape):
    """Keys mixing slices and ints with integer lists / bool masks (NumPy advanced indexing)."""
    key, dim = [], 0
    while dim < len(shape) and draw(st.booleans()):
        d = shape[dim]
        kind = draw(st.sampled_from(["slice", "int_list", "int_tensor", "mask", "int"]))
        if kind == "slice" or (d == 0 and kind in ("int", "int_list", "int_tensor")):
            key.append(_slice(draw, d))
        elif kind == "int":
            key.append(draw(st.integers(-d, d - 1)))
        elif kind == "mask":
            key.append(np.array(draw(st.lists(st.booleans(), min_size=d, max_size=d)), dtype=bool))
        else:
            values = draw(st.lists(st.integers(-d, d - 1), min_size=0, max_size=3))
            key.append(
                np.array(values, dtype=np.int64) if kind == "int_list" else gt.constant(values, gt.int32)
            )
        dim += 1
    return tuple(key)


def _numpy_key(key):
    return tuple(np.asarray(k.numpy()) if isinstance(k, gt.Tensor) else k for k in key)


@SETTINGS
@given(st.data())
def test_advanced_indexing_matches_numpy(device, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4))
    a = _array(shape)
    key = data.draw(advanced_keys(shape))
    try:
        expected = a[_numpy_key(key)]
    except IndexError:
        return  # index arrays of different lengths that NumPy cannot broadcast
    got = gt.constant(a)[key]
    np.testing.assert_array_equal(np.asarray(got.numpy()), expected)
    assert got.shape == expected.shape


@SETTINGS
@given(st.data())
def test_gather_matches_numpy_take(device, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    a = _array(shape)
    ishape = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))
    idx = data.draw(hnp.arrays(np.int64, ishape, elements=st.integers(0, shape[axis] - 1)))
    got = gt.gather(a, idx, axis=axis)
    np.testing.assert_array_equal(got.numpy(), np.take(a, idx, axis=axis))


@pytest.mark.parametrize(
    "key",
    [(), Ellipsis, (Ellipsis, None), (None, None), (slice(None),), (gt.constant(1),), (np.int64(-1),)],
    ids=[
        "empty_tuple",
        "ellipsis",
        "ellipsis_newaxis",
        "two_newaxes",
        "full_slice",
        "scalar_tensor",
        "numpy_int",
    ],
)
def test_special_keys_match_numpy(device, key):
    a = _array((3, 2))
    np_key = tuple(int(k) if isinstance(k, gt.Tensor) else k for k in key) if isinstance(key, tuple) else key
    np.testing.assert_array_equal(np.asarray(gt.constant(a)[key].numpy()), a[np_key])


def test_scalar_tensor_indexing_with_empty_tuple_returns_scalar(device):
    t = gt.constant(5.0)
    assert t[()].shape == ()
    assert float(t[...]) == 5.0


_M2 = np.arange(12).reshape(3, 4) % 3 == 0

# name: index into a (3, 4, 5) tensor; NumPy's result of the same key is the reference
MIXED_KEYS = {
    "ellipsis_then_list": (Ellipsis, [0, 1]),
    "newaxis_list_ellipsis_int_not_adjacent": (None, [0, 1], Ellipsis, 0),
    "lists_around_ellipsis": ([0, 1], Ellipsis, [1, 0]),
    "mask_2d_then_int": (_M2, 0),
    "mask_2d_then_list": (_M2, [1, 2, 3, 4]),
    "int_then_mask": (1, _M2[0]),
    "broadcast_column_and_row_lists": (slice(None), [[0], [2]], [1, 2, 3, 4, 0]),
    "list_slice_list_not_adjacent": ([[0], [2]], slice(1, 3), [1, 2]),
    "int_list_then_newaxis": (0, [1, 2], None),
    "negative_list": ([-1],),
    "reversed_slice_with_list": (slice(None, None, -1), [2, 0], slice(None, None, 2)),
}


@pytest.mark.parametrize("case", sorted(MIXED_KEYS))
def test_mixed_basic_and_advanced_keys_match_numpy(device, case):
    a = _array((3, 4, 5))
    key = MIXED_KEYS[case]
    got = gt.constant(a)[key]
    expected = a[key]
    assert got.shape == expected.shape
    np.testing.assert_array_equal(np.asarray(got.numpy()), expected)


def test_tensor_keys_match_numpy(device):
    a = _array((3, 4, 5))
    t = gt.constant(a)
    np.testing.assert_array_equal(t[gt.constant([True, False, True])].numpy(), a[[True, False, True]])
    np.testing.assert_array_equal(t[..., gt.constant([4, -5])].numpy(), a[..., [4, -5]])
    np.testing.assert_array_equal(t[gt.constant(a > 30)].numpy(), a[a > 30])
