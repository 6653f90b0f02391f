"""gt.Variable: assign semantics, names, errors and tensor interop."""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt


def test_assign_returns_the_variable_as_tf_unread_variable_and_updates_value(device):
    v = gt.Variable([1.0, 2.0])
    u = v.assign([3.0, 4.0])
    np.testing.assert_array_equal(v.numpy(), [3.0, 4.0])
    # TF's _UnreadVariable: named so in its repr, reading the variable's current value
    assert (
        repr(u)
        == "<gt.Variable 'UnreadVariable' shape=(2,) dtype=float32, numpy=array([3., 4.], dtype=float32)>"
    )
    v.assign_add([1.0, 1.0]).assign_sub([0.5, 0.5])  # chained: each changes v
    np.testing.assert_array_equal(v.numpy(), [3.5, 4.5])
    np.testing.assert_array_equal(u.numpy(), [3.5, 4.5])
    np.testing.assert_array_equal((u * 2.0).numpy(), [7.0, 9.0])
    u.assign([0.0, 1.0])
    np.testing.assert_array_equal(v.numpy(), [0.0, 1.0])
    assert u.shape == v.shape and u.dtype == v.dtype and u.trainable == v.trainable
    assert v.assign([1.0, 1.0], read_value=False) is None


def test_gradient_through_assign_result_reaches_the_variable():
    v = gt.Variable(3.0)
    with gt.GradientTape() as tape:
        y = v.assign(2.0) * v
    assert tape.gradient(y, v).numpy() == pytest.approx(4.0)


def test_read_value_is_a_snapshot_not_changed_by_later_assign(device):
    v = gt.Variable([1.0, 2.0])
    snap = v.read_value()
    v.assign_add([10.0, 10.0])
    np.testing.assert_array_equal(snap.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(v.value().numpy(), [11.0, 12.0])


def test_assign_with_wrong_shape_raises_and_keeps_value():
    v = gt.Variable([1.0, 2.0])
    with pytest.raises(ValueError, match=r"shape \(3,\).*\(2,\)"):
        v.assign([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])


def test_assign_with_wrong_dtype_raises_and_keeps_value():
    v = gt.Variable([1, 2])
    with pytest.raises(TypeError, match="int32"):
        v.assign(gt.constant([1.0, 2.0]))
    np.testing.assert_array_equal(v.numpy(), [1, 2])


def test_variable_is_accepted_wherever_a_tensor_is():
    v = gt.Variable([[1.0, 2.0]])
    np.testing.assert_array_equal((v + 1.0).numpy(), [[2.0, 3.0]])
    np.testing.assert_array_equal((2.0 * v).numpy(), [[2.0, 4.0]])
    np.testing.assert_array_equal(gt.reduce_sum(v).numpy(), 3.0)
    np.testing.assert_array_equal(np.asarray(v), [[1.0, 2.0]])


def test_names_get_suffix_and_name_scopes():
    assert gt.Variable(1.0).name == "Variable:0"
    assert gt.Variable(1.0, name="w").name == "w:0"
    with gt.name_scope("outer"):
        with gt.name_scope("inner"):
            assert gt.Variable(1.0, name="b").name == "outer/inner/b:0"


def test_properties_and_callable_initial_value():
    v = gt.Variable(lambda: gt.constant([1, 2, 3]), trainable=False, dtype=gt.float32)
    assert v.dtype == gt.float32 and v.shape == (3,) and not v.trainable
    assert v.device.endswith(":0") and v.ndim == 1
    assert "shape=(3,)" in repr(v) and "float32" in repr(v)
    with pytest.raises(TypeError, match="unhashable"):
        hash(v)
