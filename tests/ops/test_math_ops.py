"""Elementwise math, comparisons, casts and reductions against NumPy/SciPy references.

Tests are data: each row names an op, its NumPy reference, an input domain and the
dtypes it takes; the same rows drive every dtype on every device.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import special

import gputensor as gt

FLOATS = ["float16", "float32", "float64"]
SIGNED = ["int8", "int32", "int64"]
ALL_NUM = FLOATS + SIGNED + ["uint8"]


def _sigmoid(x):
    return special.expit(x)


# name: (gt function, NumPy reference, (low, high) input domain, dtypes)
UNARY = {
    "negative": (gt.negative, np.negative, (-5, 5), FLOATS + SIGNED),
    "abs": (gt.abs, np.abs, (-5, 5), FLOATS + SIGNED),
    "sign": (gt.sign, np.sign, (-5, 5), FLOATS + SIGNED),
    "exp": (gt.exp, np.exp, (-5, 5), FLOATS),
    "expm1": (gt.math.expm1, np.expm1, (-3, 3), FLOATS),
    "log": (gt.math.log, np.log, (0.1, 10), FLOATS),
    "log1p": (gt.math.log1p, np.log1p, (-0.5, 5), FLOATS),
    "sqrt": (gt.sqrt, np.sqrt, (0, 10), FLOATS),
    "rsqrt": (gt.math.rsqrt, lambda x: 1 / np.sqrt(x), (0.1, 10), FLOATS),
    "square": (gt.square, np.square, (-5, 5), FLOATS + SIGNED),
    "reciprocal": (gt.math.reciprocal, np.reciprocal, (0.5, 5), FLOATS),
    "sin": (gt.sin, np.sin, (-4, 4), FLOATS),
    "cos": (gt.cos, np.cos, (-4, 4), FLOATS),
    "tan": (gt.tan, np.tan, (-1.2, 1.2), FLOATS),
    "tanh": (gt.tanh, np.tanh, (-4, 4), FLOATS),
    "erf": (gt.math.erf, special.erf, (-3, 3), FLOATS),
    "sigmoid": (gt.sigmoid, _sigmoid, (-30, 30), FLOATS),
    "floor": (gt.floor, np.floor, (-5, 5), FLOATS),
    "ceil": (gt.ceil, np.ceil, (-5, 5), FLOATS),
    "round": (gt.round, np.rint, (-5, 5), FLOATS),
    "relu": (
        gt.nn.relu if hasattr(gt.nn, "relu") else gt.math.relu if hasattr(gt.math, "relu") else None,
        lambda x: np.maximum(x, 0),
        (-5, 5),
        FLOATS + SIGNED,
    ),  # fmt: skip
    "softplus": (None, lambda x: np.logaddexp(0, x), (-30, 30), FLOATS),
    "elu": (None, lambda x: np.where(x > 0, x, np.expm1(x)), (-5, 5), FLOATS),
    "selu": (
        None,
        lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
        (-5, 5),
        FLOATS,
    ),
    "silu": (None, lambda x: x * _sigmoid(x), (-5, 5), FLOATS),
    "relu6": (None, lambda x: np.clip(x, 0, 6), (-3, 9), FLOATS + SIGNED),
}

_MATH = __import__("gputensor.ops.math_ops", fromlist=["x"])
for _name, _row in list(UNARY.items()):
    if _row[0] is None:
        UNARY[_name] = (getattr(_MATH, _name),) + _row[1:]


def _tol(dtype):
    return {"float16": 2e-3, "bfloat16": 2e-2, "float32": 2e-6, "float64": 1e-12}.get(dtype, 0)


def _inputs(rng, shape, dtype, low, high):
    if np.dtype(dtype).kind in "iu":
        low = max(low, np.iinfo(dtype).min) if np.dtype(dtype).kind == "i" else max(low, 0)
        return rng.integers(int(math.floor(low)), int(math.ceil(high)) + 1, size=shape).astype(dtype)
    return rng.uniform(low, high, size=shape).astype(dtype)


def _check(actual, expected, dtype):
    tol = _tol(dtype)
    if tol:
        np.testing.assert_allclose(actual.astype(np.float64), np.asarray(expected, np.float64),
                                   rtol=tol * 4, atol=tol * 4)  # fmt: skip
    else:
        np.testing.assert_array_equal(actual, expected)


UNARY_CASES = [(n, d) for n, row in UNARY.items() for d in row[3]]


@pytest.mark.parametrize("name, dtype", UNARY_CASES, ids=[f"{n}-{d}" for n, d in UNARY_CASES])
@pytest.mark.parametrize("shape", [(7,), (3, 5), (0, 4), ()])
def test_unary_matches_numpy(device, rng, name, dtype, shape):
    fn, ref, (low, high), _ = UNARY[name]
    x = _inputs(rng, shape, dtype, low, high)
    out = fn(gt.constant(x))
    assert out.dtype == gt.as_dtype(dtype) and out.shape == shape
    expected = ref(x.astype(np.float64) if np.dtype(dtype).kind == "f" else x)
    _check(
        out.numpy(), np.asarray(expected).astype(dtype) if np.dtype(dtype).kind in "iu" else expected, dtype
    )


def test_unary_on_non_contiguous_input(device, rng):
    x = rng.standard_normal((4, 6)).astype(np.float32).T
    np.testing.assert_allclose(gt.exp(gt.constant(x)).numpy(), np.exp(x), rtol=1e-6)


def test_unary_rejects_dtype_it_does_not_take():
    with pytest.raises(gt.errors.InvalidArgumentError, match="exp: x has dtype int32.*allowed"):
        gt.exp(gt.constant([1, 2]))


BINARY = {
    "add": (gt.add, np.add, ALL_NUM),
    "subtract": (gt.subtract, np.subtract, FLOATS + SIGNED),
    "multiply": (gt.multiply, np.multiply, ALL_NUM),
    "maximum": (gt.maximum, np.maximum, ALL_NUM),
    "minimum": (gt.minimum, np.minimum, ALL_NUM),
    "floordiv": (gt.math.floordiv, np.floor_divide, FLOATS + SIGNED),
    "floormod": (gt.math.floormod, np.mod, FLOATS + SIGNED),
    "squared_difference": (gt.math.squared_difference, lambda a, b: (a - b) ** 2, FLOATS + SIGNED),
    "equal": (gt.equal, np.equal, ALL_NUM + ["bool"]),
    "not_equal": (gt.not_equal, np.not_equal, ALL_NUM + ["bool"]),
    "less": (gt.less, np.less, ALL_NUM),
    "less_equal": (gt.less_equal, np.less_equal, ALL_NUM),
    "greater": (gt.greater, np.greater, ALL_NUM),
    "greater_equal": (gt.greater_equal, np.greater_equal, ALL_NUM),
    "logical_and": (gt.logical_and, np.logical_and, ["bool"]),
    "logical_or": (gt.logical_or, np.logical_or, ["bool"]),
    "pow": (gt.pow, np.power, FLOATS),
}
BROADCASTS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((5,), ()), ((0, 3), (1, 3))]
BINARY_CASES = [(n, d) for n, row in BINARY.items() for d in row[2]]


def _binary_inputs(rng, name, dtype, sa, sb):
    if dtype == "bool":
        return rng.random(sa) > 0.5, rng.random(sb) > 0.5
    a = _inputs(rng, sa, dtype, -8, 8)
    b = _inputs(rng, sb, dtype, -8, 8)
    if name in ("floordiv", "floormod"):
        b = np.where(b == 0, 3, b).astype(dtype)
    if name == "pow":
        a = np.abs(a) + 0.5
    if np.dtype(dtype).kind == "u":
        a, b = a.astype(dtype), b.astype(dtype)
    return a, b


@pytest.mark.parametrize("name, dtype", BINARY_CASES, ids=[f"{n}-{d}" for n, d in BINARY_CASES])
@pytest.mark.parametrize("sa, sb", BROADCASTS, ids=[f"{a}x{b}" for a, b in BROADCASTS])
def test_binary_matches_numpy_with_broadcasting(device, rng, name, dtype, sa, sb):
    fn, ref, _ = BINARY[name]
    a, b = _binary_inputs(rng, name, dtype, sa, sb)
    out = fn(gt.constant(a), gt.constant(b))
    expected = ref(a, b)
    assert out.shape == np.broadcast_shapes(sa, sb)
    if expected.dtype == bool:
        assert out.dtype == gt.bool
        np.testing.assert_array_equal(out.numpy(), expected)
    else:
        assert out.dtype == gt.as_dtype(dtype)
        _check(out.numpy(), expected.astype(dtype), dtype)


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "//", "%", "**", "<", ">", "==", "!="])
def test_operators_with_python_scalars_on_both_sides(device, op):
    x = np.array([1.5, -2.0, 3.25], np.float32)
    t = gt.constant(x)
    for left, right, nl, nr in ((t, 2.0, x, np.float32(2.0)), (2.0, t, np.float32(2.0), x)):
        out = eval(f"left {op} right")
        expected = eval(f"nl {op} nr")
        np.testing.assert_allclose(
            np.asarray(out.numpy(), np.float64), np.asarray(expected, np.float64), rtol=1e-6
        )


def test_bitwise_and_logical_operators():
    a, b = gt.constant([True, False, True]), gt.constant([True, True, False])
    np.testing.assert_array_equal((a & b).numpy(), [True, False, False])
    np.testing.assert_array_equal((a | b).numpy(), [True, True, True])
    np.testing.assert_array_equal((a ^ b).numpy(), [False, True, True])
    np.testing.assert_array_equal((~a).numpy(), [False, True, False])
    i, j = gt.constant([12, 10]), gt.constant([10, 6])
    np.testing.assert_array_equal((i & j).numpy(), [8, 2])
    np.testing.assert_array_equal((~i).numpy(), [-13, -11])


def test_integer_truediv_gives_float64_as_tensorflow(device):
    out = gt.constant([1, 2, 3]) / gt.constant([2, 2, 2])
    assert out.dtype == gt.float64
    np.testing.assert_array_equal(out.numpy(), [0.5, 1.0, 1.5])
    assert (gt.constant([1], gt.int8) / gt.constant([2], gt.int8)).dtype == gt.float32


def test_mixing_int32_and_float32_raises_invalid_argument_naming_op_and_fix():
    with pytest.raises(
        gt.errors.InvalidArgumentError, match=r"add: x has dtype float32 and y has dtype int32.*gt.cast"
    ):
        gt.constant([1.0]) + gt.constant([1])
    assert issubclass(gt.errors.InvalidArgumentError, ValueError)


def test_python_scalar_takes_tensor_dtype():
    assert (gt.constant([1, 2], gt.int8) + 1).dtype == gt.int8
    assert (gt.constant([1.0], gt.float16) * 3).dtype == gt.float16
    with pytest.raises(TypeError, match="int32"):
        gt.constant([1, 2]) * 2.5


def test_integer_division_by_zero_raises_on_cpu():
    with gt.device("/CPU:0"):
        with pytest.raises(gt.errors.InvalidArgumentError, match="Integer division by zero"):
            gt.math.floordiv(gt.constant([1]), gt.constant([0]))


CASTS = [("float32", "int32"), ("float32", "bool"), ("int32", "float16"), ("float64", "float32"),
         ("bool", "float32"), ("int64", "int8"), ("float16", "float64"), ("float32", "uint8")]  # fmt: skip


@pytest.mark.parametrize("src, dst", CASTS)
def test_cast_truncates_toward_zero_like_tensorflow(device, src, dst):
    x = np.array([-2.7, -0.5, 0.0, 0.5, 3.9, 100.0], dtype=np.float64)
    if src == "bool":
        x = x > 0
    xs = x.astype(src)
    if dst == "uint8" and np.dtype(src).kind == "f":
        xs = np.abs(xs)
    out = gt.cast(gt.constant(xs), dst)
    assert out.dtype == gt.as_dtype(dst)
    expected = (xs != 0) if dst == "bool" else xs.astype(dst)
    np.testing.assert_array_equal(out.numpy(), expected)


# ------------------------------------------------------------------ reductions
REDUCTIONS = {
    "reduce_sum": (gt.reduce_sum, np.sum, FLOATS + SIGNED),
    "reduce_prod": (gt.reduce_prod, np.prod, ["float32", "float64", "int64"]),
    "reduce_mean": (gt.reduce_mean, np.mean, FLOATS),
    "reduce_max": (gt.reduce_max, np.max, FLOATS + SIGNED),
    "reduce_min": (gt.reduce_min, np.min, FLOATS + SIGNED),
    "reduce_logsumexp": (gt.reduce_logsumexp, special.logsumexp, ["float32", "float64"]),
    "reduce_std": (gt.math.reduce_std, np.std, ["float32", "float64"]),
    "reduce_variance": (gt.math.reduce_variance, np.var, ["float32", "float64"]),
}
AXES = [None, 0, 1, -1, (0, 2), [1, 2], (0, 1, 2)]
RED_CASES = [(n, d) for n, row in REDUCTIONS.items() for d in row[2]]


@pytest.mark.parametrize("name, dtype", RED_CASES, ids=[f"{n}-{d}" for n, d in RED_CASES])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_matches_numpy(device, rng, name, dtype, axis, keepdims):
    fn, ref, _ = REDUCTIONS[name]
    x = _inputs(rng, (3, 4, 5), dtype, -2, 2)
    out = fn(gt.constant(x), axis=axis, keepdims=keepdims)
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    expected = ref(x.astype(np.float64), axis=np_axis, keepdims=keepdims)
    assert out.dtype == gt.as_dtype(dtype)
    if np.dtype(dtype).kind in "iu":
        np.testing.assert_array_equal(out.numpy(), expected.astype(dtype))
    else:
        tol = {"float16": 1e-2, "float32": 1e-5, "float64": 1e-12}[dtype]
        np.testing.assert_allclose(out.numpy().astype(np.float64), expected, rtol=tol, atol=tol)


def test_reduce_mean_of_integers_truncates_like_tensorflow(device):
    assert gt.reduce_mean(gt.constant([1, 2])).numpy() == 1
    assert gt.reduce_mean(gt.constant([-1, -2])).numpy() == -1
    np.testing.assert_array_equal(gt.reduce_mean(gt.constant([[1, 4], [3, 3]]), axis=1).numpy(), [2, 3])


def test_reductions_over_empty_tensors_give_identities(device):
    e = gt.constant(np.zeros((0, 3), np.float32))
    np.testing.assert_array_equal(gt.reduce_sum(e, axis=0).numpy(), [0, 0, 0])
    np.testing.assert_array_equal(gt.reduce_max(e, axis=0).numpy(), [-np.inf] * 3)
    np.testing.assert_array_equal(gt.reduce_min(e, axis=0).numpy(), [np.inf] * 3)
    np.testing.assert_array_equal(gt.reduce_prod(e, axis=0).numpy(), [1, 1, 1])
    assert np.isnan(gt.reduce_mean(e).numpy())


def test_reduce_any_all(device):
    x = gt.constant([[True, False], [True, True]])
    np.testing.assert_array_equal(gt.reduce_any(x, axis=1).numpy(), [True, True])
    np.testing.assert_array_equal(gt.reduce_all(x, axis=1).numpy(), [False, True])
    assert gt.reduce_all(x).numpy() == np.False_


def test_invalid_reduction_axis_raises_with_rank():
    with pytest.raises(
        gt.errors.InvalidArgumentError, match="Invalid reduction dimension 2 for input with 2 dimensions"
    ):
        gt.reduce_sum(gt.constant([[1.0]]), axis=2)


@pytest.mark.parametrize("fn, ref", [(gt.argmax, np.argmax), (gt.argmin, np.argmin)])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_argmax_argmin_return_first_index_as_int64(device, rng, fn, ref, axis):
    x = rng.integers(0, 4, size=(5, 6)).astype(np.float32)  # ties: the first index wins
    out = fn(gt.constant(x), axis=axis)
    assert out.dtype == gt.int64
    np.testing.assert_array_equal(out.numpy(), ref(x, axis=0 if axis is None else axis))
    assert fn(gt.constant(x), axis=1, output_type=gt.int32).dtype == gt.int32


@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cumsum_exclusive_and_reverse(device, rng, exclusive, reverse, axis):
    x = rng.integers(-5, 5, size=(4, 5)).astype(np.float32)
    y = np.flip(x, axis) if reverse else x
    ref = np.cumsum(y, axis=axis)
    if exclusive:
        ref = ref - y
    if reverse:
        ref = np.flip(ref, axis)
    out = gt.math.cumsum(gt.constant(x), axis=axis, exclusive=exclusive, reverse=reverse)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-6)


def test_add_n_and_its_shape_check(device):
    xs = [gt.constant([1.0, 2.0]), gt.constant([3.0, 4.0]), gt.constant([5.0, 6.0])]
    np.testing.assert_array_equal(gt.add_n(xs).numpy(), [9.0, 12.0])
    with pytest.raises(gt.errors.InvalidArgumentError, match="same shape"):
        gt.add_n([gt.constant([1.0]), gt.constant([1.0, 2.0])])


# ------------------------------------------------------------------ properties
shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_broadcasting_agrees_with_numpy(data):
    sa, sb = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=4)).input_shapes
    a = data.draw(hnp.arrays(np.float32, sa, elements=st.floats(-100, 100, width=32)))
    b = data.draw(hnp.arrays(np.float32, sb, elements=st.floats(-100, 100, width=32)))
    np.testing.assert_array_equal((gt.constant(a) * gt.constant(b) + gt.constant(a)).numpy(), a * b + a)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_sum_over_random_axes_agrees_with_numpy(data):
    x = data.draw(hnp.arrays(np.int64, shapes, elements=st.integers(-1000, 1000)))
    axes = (
        data.draw(st.lists(st.integers(0, max(x.ndim - 1, 0)), unique=True, max_size=x.ndim))
        if x.ndim
        else []
    )
    keep = data.draw(st.booleans())
    out = gt.reduce_sum(gt.constant(x), axis=axes or None, keepdims=keep)
    np.testing.assert_array_equal(out.numpy(), np.sum(x, axis=tuple(axes) or None, keepdims=keep))


@pytest.mark.parametrize("dtype,tol", [(np.float32, 1e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("axes", [(0,), (0, 1), (0, 1, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_sum_and_mean_of_leading_axes_of_a_large_float_array_match_float64(
    device, rng, dtype, tol, axes, keepdims
):
    # The size of a conv bias gradient: the CPU sums leading axes as one BLAS product.
    x = rng.standard_normal((16, 13, 13, 8)).astype(dtype)
    x[3, 4, 5, 1], x[0, 0, 0, 2], x[1, 1, 1, 3], x[2, 2, 2, 3] = np.nan, np.inf, np.inf, -np.inf
    with np.errstate(invalid="ignore"):  # inf + -inf in the reference
        want = np.sum(x.astype(np.float64), axis=axes, keepdims=keepdims)
    rows = np.prod([x.shape[a] for a in axes])
    for reduce, scale in ((gt.reduce_sum, 1), (gt.reduce_mean, rows)):
        got = reduce(gt.constant(x), axis=list(axes), keepdims=keepdims).numpy()
        assert got.dtype == dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want / scale, rtol=tol, atol=tol * 100 / scale)
