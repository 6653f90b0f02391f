"""Tensor, TensorShape, dtypes and conversion, as API.md "Tensors and dtypes" specifies."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import gputensor as gt


@pytest.mark.parametrize(
    "value, dtype",
    [
        (1.5, gt.float32),
        (2, gt.int32),
        (True, gt.bool),
        ([1.0, 2.0], gt.float32),
        ([[1, 2], [3, 4]], gt.int32),
        (np.array([1.0, 2.0]), gt.float64),  # NumPy arrays keep their dtype, as TF
        (np.float16(1.0), gt.float16),
        (np.array([1, 2], dtype=np.uint8), gt.uint8),
        (2**40, gt.int64),  # Python ints that do not fit int32
        (1 + 2j, gt.complex128),
    ],
)
def test_constant_infers_dtype_like_tensorflow(value, dtype):
    t = gt.constant(value)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.numpy(), np.asarray(value))


def test_constant_with_dtype_and_shape_broadcasts_scalar_and_reshapes():
    np.testing.assert_array_equal(
        gt.constant(7, dtype=gt.float32, shape=[2, 3]).numpy(), np.full((2, 3), 7.0)
    )
    np.testing.assert_array_equal(gt.constant([1, 2, 3, 4], shape=(2, 2)).numpy(), [[1, 2], [3, 4]])
    with pytest.raises(TypeError, match="4 elements"):
        gt.constant([1, 2, 3], shape=(2, 2))


def test_constant_rejects_fractional_value_for_integer_dtype():
    with pytest.raises(TypeError, match="int32"):
        gt.constant(1.5, dtype=gt.int32)


def test_constant_rejects_ragged_list_and_points_to_ragged_constant():
    with pytest.raises(ValueError, match="ragged"):
        gt.constant([[1, 2], [3]])


def test_tensor_shape_is_tuple_like():
    t = gt.zeros([2, 3]) if hasattr(gt, "zeros") else gt.constant(np.zeros((2, 3), np.float32))
    s = t.shape
    assert isinstance(s, gt.TensorShape)
    assert s == (2, 3) and s == [2, 3] and s.rank == 2 and len(s) == 2
    assert s.as_list() == [2, 3] and s[0] == 2 and s[-1] == 3 and s[1:] == (3,)
    assert list(s) == [2, 3] and t.ndim == 2
    assert str(s) == "(2, 3)" and repr(s) == "TensorShape([2, 3])"
    unknown = gt.TensorShape([None, 4])
    assert unknown.as_list() == [None, 4] and not unknown.is_fully_defined()
    assert unknown.is_compatible_with([7, 4]) and not unknown.is_compatible_with([7, 5])
    assert gt.TensorShape(None).rank is None


def test_repr_and_str_match_tensorflow_format():
    t = gt.constant([1, 2, 3])
    assert repr(t) == "<gt.Tensor: shape=(3,), dtype=int32, numpy=array([1, 2, 3], dtype=int32)>"
    assert repr(gt.constant(4.0)) == "<gt.Tensor: shape=(), dtype=float32, numpy=4.0>"
    assert str(t) == "gt.Tensor([1 2 3], shape=(3,), dtype=int32)"


def test_multiline_values_start_on_their_own_line_as_in_tensorflow():
    m = gt.constant([[1.0, 2.0], [3.0, 4.0]])
    assert repr(m) == (
        "<gt.Tensor: shape=(2, 2), dtype=float32, numpy=\narray([[1., 2.],\n       [3., 4.]], dtype=float32)>"
    )
    assert str(m) == "gt.Tensor(\n[[1. 2.]\n [3. 4.]], shape=(2, 2), dtype=float32)"
    assert repr(gt.Variable(m, name="w")) == (
        "<gt.Variable 'w:0' shape=(2, 2) dtype=float32, numpy=\narray([[1., 2.],\n       [3., 4.]], dtype=float32)>"
    )
    assert f"{gt.constant(2.0):1.2f}" == "2.00"  # format specs apply to the NumPy value, as TF's


def test_numpy_returns_a_copy_and_array_view_is_read_only():
    src = np.array([1.0, 2.0], dtype=np.float32)
    t = gt.constant(src)
    src[0] = 99.0  # the tensor copied the caller's writable array
    assert t.numpy()[0] == 1.0
    out = t.numpy()
    out[1] = 5.0
    assert t.numpy()[1] == 2.0
    view = np.asarray(t)
    assert not view.flags.writeable
    np.testing.assert_array_equal(view, [1.0, 2.0])


def test_read_only_numpy_array_is_shared_without_copy():
    src = np.arange(6, dtype=np.float32)
    src.flags.writeable = False
    t = gt.constant(src)
    if t._device.device_type == "CPU":
        assert np.shares_memory(np.asarray(t), src)


def test_tensor_is_immutable_and_error_points_to_variable_or_scatter():
    t = gt.constant([1, 2, 3])
    with pytest.raises(TypeError, match="Variable.*tensor_scatter_nd_update"):
        t[0] = 4


def test_python_protocols():
    assert float(gt.constant(2.5)) == 2.5
    assert int(gt.constant(7)) == 7
    assert bool(gt.constant(True)) is True
    assert [1, 2, 3][gt.constant(1)] == 2  # __index__
    assert len(gt.constant([[1, 2], [3, 4], [5, 6]])) == 3
    with pytest.raises(TypeError, match="rank-0"):
        len(gt.constant(1))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(gt.constant([1, 2]))
    with pytest.raises(TypeError, match="unhashable.*ref"):
        hash(gt.constant(1))
    t = gt.constant([1.0])
    assert {t.ref(): 1}[t.ref()] == 1 and t.ref().deref() is t


def test_numpy_interop_operators_defer_to_tensor():
    t = gt.constant([1.0, 2.0])
    r = np.array([1.0, 1.0], dtype=np.float32) + t
    assert isinstance(r, gt.Tensor)
    np.testing.assert_array_equal(r.numpy(), [2.0, 3.0])
    np.testing.assert_allclose(np.sin(t), np.sin([1.0, 2.0]), rtol=1e-6)


def test_pickle_and_copy_roundtrip():
    t = gt.constant([[1.0, 2.0]])
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(t)).numpy(), t.numpy())
    assert copy.copy(t) is t and copy.deepcopy(t) is t


def test_tensor_cannot_be_constructed_directly():
    with pytest.raises(TypeError, match="gt.constant"):
        gt.Tensor([1, 2])


def test_is_tensor_and_convert_to_tensor():
    v = gt.Variable(1.0)
    assert gt.is_tensor(gt.constant(1)) and gt.is_tensor(v) and not gt.is_tensor(np.ones(2))
    assert gt.convert_to_tensor(v).dtype == gt.float32
    with pytest.raises(ValueError, match="requested dtype int32"):
        gt.convert_to_tensor(gt.constant(1.0), dtype=gt.int32)
    assert gt.convert_to_tensor([1, 2], dtype_hint=gt.float32).dtype == gt.float32


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32",
                                  "int64", "uint8", "bool", "complex64"])  # fmt: skip
def test_every_dtype_roundtrips(name):
    dt = gt.as_dtype(name)
    assert gt.as_dtype(dt.as_numpy_dtype) is dt and getattr(gt, name) is dt
    t = gt.constant([0, 1], dtype=dt)
    assert t.dtype is dt
    np.testing.assert_array_equal(np.real(t.numpy()).astype(np.float64), [0.0, 1.0])


def test_dtype_properties():
    assert gt.float32.is_floating and not gt.float32.is_integer
    assert gt.int8.is_integer and gt.uint8.is_unsigned and gt.bool.is_bool
    assert gt.complex64.is_complex and gt.complex64.real_dtype is gt.float32
    assert gt.int8.min == -128 and gt.uint8.max == 255 and gt.float16.max == 65504.0
    assert gt.float32 == "float32" and gt.float32 == np.float32 and gt.float32 != gt.float64
    assert repr(gt.float32) == "gt.float32" and str(gt.float32) == "<dtype: 'float32'>"
    with pytest.raises(TypeError):
        gt.as_dtype("float7")
