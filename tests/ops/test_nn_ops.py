"""gt.nn activations, softmax, losses, normalisation, dropout and embeddings.

References are SciPy functions or the textbook formulas written out in NumPy
(float64); convolution and pooling live in test_nn_conv.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

import gputensor as gt
from gputensor.framework.op_table import OPS, execute

SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


# name, call, reference, dtypes beyond float32/float64 it takes
ACTIVATIONS = [
    ("relu", gt.nn.relu, lambda x: np.maximum(x, 0), ("float16", "int32")),
    ("relu6", gt.nn.relu6, lambda x: np.clip(x, 0, 6), ("float16", "int32")),
    ("leaky_relu", gt.nn.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x), ("float16",)),
    (
        "leaky_relu_alpha",
        lambda x: gt.nn.leaky_relu(x, alpha=0.01),
        lambda x: np.where(x > 0, x, 0.01 * x),
        (),
    ),
    ("elu", gt.nn.elu, lambda x: np.where(x > 0, x, np.expm1(x)), ("float16",)),
    ("selu", gt.nn.selu, lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)), ()),
    ("gelu", gt.nn.gelu, lambda x: 0.5 * x * (1 + special.erf(x / np.sqrt(2))), ()),
    ("gelu_approximate", lambda x: gt.nn.gelu(x, approximate=True), _gelu_tanh, ()),
    ("silu", gt.nn.silu, lambda x: x * special.expit(x), ("float16",)),
    ("swish_beta", lambda x: gt.nn.swish(x, beta=1.5), lambda x: x * special.expit(1.5 * x), ()),
    ("sigmoid", gt.nn.sigmoid, special.expit, ("float16",)),
    ("tanh", gt.nn.tanh, np.tanh, ("float16",)),
    ("softplus", gt.nn.softplus, lambda x: np.logaddexp(0, x), ()),
    ("softsign", gt.nn.softsign, lambda x: x / (1 + np.abs(x)), ("float16",)),
]
TOLERANCE = {"float16": 2e-3, "float32": 2e-6, "float64": 1e-13, "int32": 0}


def _activation_cases():
    for name, fn, ref, extra in ACTIVATIONS:
        for dtype in ("float32", "float64", *extra):
            yield pytest.param(fn, ref, dtype, id=f"{name}-{dtype}")


@pytest.mark.parametrize("fn,ref,dtype", list(_activation_cases()))
def test_activation_matches_formula_including_large_inputs(device, rng, fn, ref, dtype):
    x = np.concatenate([rng.standard_normal(20) * 3, [-60.0, -7.0, 0.0, 5.5, 7.0, 60.0]])
    x = np.round(x).astype(dtype) if dtype == "int32" else x.astype(dtype)
    got = fn(gt.constant(x))
    assert got.dtype == gt.as_dtype(dtype)
    expected = ref(x.astype(np.float64))
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(got.numpy().astype(np.float64), expected, rtol=tol, atol=tol)


def test_swish_is_silu_and_accepts_a_tensor_beta(device):
    x = gt.constant([-2.0, 0.5, 3.0])
    assert gt.nn.swish is gt.nn.silu
    got = gt.nn.swish(x, beta=gt.constant(0.5))
    np.testing.assert_allclose(got.numpy(), x.numpy() * special.expit(0.5 * x.numpy()), rtol=1e-6)


@pytest.mark.parametrize(
    "fn", [gt.nn.elu, gt.nn.selu, gt.nn.softplus, gt.nn.softsign, gt.nn.silu, gt.nn.gelu]
)
def test_float_only_activations_reject_integers(device, fn):
    with pytest.raises(gt.errors.InvalidArgumentError, match="int32"):
        fn(gt.constant([1, 2]))


# ---------------------------------------------------------------------- softmax
SOFTMAX_CASES = [
    ("vector", (7,), None),
    ("matrix_last", (3, 5), -1),
    ("matrix_first", (3, 5), 0),
    ("rank3_middle", (2, 4, 3), 1),
    ("rank3_last_positive", (2, 3, 4), 2),
]


@pytest.mark.parametrize("shape,axis", [c[1:] for c in SOFTMAX_CASES], ids=[c[0] for c in SOFTMAX_CASES])
@pytest.mark.parametrize("dtype,tol", [("float16", 2e-3), ("float32", 1e-6), ("float64", 1e-14)])
@pytest.mark.parametrize("scale", [1.0, 1000.0], ids=["unit", "logits_1000"])
def test_softmax_and_log_softmax_match_scipy_and_stay_finite(device, rng, shape, axis, dtype, tol, scale):
    if dtype == "float16" and scale > 1:
        scale = 100.0  # 1000 * normal overflows float16 itself
    x = (rng.standard_normal(shape) * scale).astype(dtype)
    ref_axis = -1 if axis is None else axis
    sm = gt.nn.softmax(gt.constant(x), axis=axis)
    lsm = gt.nn.log_softmax(gt.constant(x), axis=axis)
    assert sm.dtype == lsm.dtype == gt.as_dtype(dtype)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(sm.numpy(), special.softmax(x64, axis=ref_axis), rtol=tol, atol=tol)
    expected_log = special.log_softmax(x64, axis=ref_axis)
    np.testing.assert_allclose(lsm.numpy(), expected_log, rtol=tol, atol=tol * max(1.0, scale))
    assert np.all(np.isfinite(lsm.numpy()))


def test_softmax_and_log_softmax_of_bfloat16_are_close_to_float64(device, rng):
    x = gt.cast(gt.constant(rng.standard_normal((3, 6)) * 4), gt.bfloat16)
    x64 = gt.cast(x, gt.float64).numpy()
    sm, lsm = gt.nn.softmax(x), gt.nn.log_softmax(x)
    assert sm.dtype == lsm.dtype == gt.bfloat16
    np.testing.assert_allclose(
        gt.cast(sm, gt.float64).numpy(), special.softmax(x64, -1), rtol=1e-2, atol=1e-2
    )
    np.testing.assert_allclose(
        gt.cast(lsm, gt.float64).numpy(), special.log_softmax(x64, -1), rtol=1e-2, atol=3e-2
    )


def test_softmax_of_equal_huge_logits_is_uniform(device):
    got = gt.nn.softmax(gt.constant([[1000.0, 1000.0, 1000.0, 1000.0]]))
    np.testing.assert_allclose(got.numpy(), np.full((1, 4), 0.25), rtol=1e-7)


# ----------------------------------------------------------------------- losses
def _probabilities(rng, shape, axis=-1):
    return special.softmax(rng.standard_normal(shape), axis=axis)


@pytest.mark.parametrize(
    "shape,axis", [((4, 5), -1), ((6,), 0), ((2, 3, 4), -1), ((3, 4, 2), 1), ((3, 4), 0)]
)
@pytest.mark.parametrize("dtype,tol", [("float32", 1e-5), ("float64", 1e-12)])
def test_softmax_cross_entropy_matches_formula(device, rng, shape, axis, dtype, tol):
    logits = rng.standard_normal(shape) * 3
    labels = _probabilities(rng, shape, axis)
    got = gt.nn.softmax_cross_entropy_with_logits(
        gt.constant(labels.astype(dtype)), gt.constant(logits.astype(dtype)), axis=axis
    )
    expected = -np.sum(labels * special.log_softmax(logits, axis=axis), axis=axis)
    assert got.dtype == gt.as_dtype(dtype)
    np.testing.assert_allclose(got.numpy(), expected, rtol=tol, atol=tol)


def test_softmax_cross_entropy_is_stable_for_logits_1000(device):
    logits = np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 0.0]], np.float32)
    labels = np.array([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]], np.float32)
    got = gt.nn.softmax_cross_entropy_with_logits(labels, logits)
    np.testing.assert_allclose(got.numpy(), [1000.0, np.log(2.0)], rtol=1e-6)


def test_softmax_cross_entropy_casts_integer_labels_to_the_logits_dtype(device):
    got = gt.nn.softmax_cross_entropy_with_logits(gt.constant([[0, 1]]), gt.constant([[1.0, 2.0]]))
    np.testing.assert_allclose(got.numpy(), [np.log1p(np.exp(-1.0))], rtol=1e-6)


@pytest.mark.parametrize("label_dtype", ["int32", "int64"])
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 6), (1, 1)])
def test_sparse_softmax_cross_entropy_matches_formula(device, rng, shape, label_dtype):
    logits = rng.standard_normal(shape) * 3
    labels = rng.integers(0, shape[-1], shape[:-1]).astype(label_dtype)
    got = gt.nn.sparse_softmax_cross_entropy_with_logits(gt.constant(labels), gt.constant(logits))
    expected = -np.take_along_axis(special.log_softmax(logits, -1), labels[..., None].astype(int), -1)[..., 0]
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_sparse_softmax_cross_entropy_is_stable_for_logits_1000(device):
    got = gt.nn.sparse_softmax_cross_entropy_with_logits(
        [0, 2], [[1000.0, 0.0, -1000.0], [1000.0, 0.0, -1000.0]]
    )
    np.testing.assert_allclose(got.numpy(), [0.0, 2000.0], rtol=1e-6)


def _central_difference_gradient(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = eps
        grad[i] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


def test_xent_primitives_return_backprop_equal_to_the_loss_gradient(device, rng):
    logits = rng.standard_normal((3, 4))
    labels = _probabilities(rng, (3, 4))
    sparse = np.array([0, 3, 1], np.int64)
    onehot = np.eye(4)[sparse]
    _, backprop = execute(OPS["softmax_xent"], (gt.constant(labels), gt.constant(logits)))
    _, sparse_backprop = execute(OPS["sparse_softmax_xent"], (gt.constant(sparse), gt.constant(logits)))

    def loss(lab):
        return lambda z: -np.sum(lab * special.log_softmax(z, -1))

    np.testing.assert_allclose(
        backprop.numpy(), _central_difference_gradient(loss(labels), logits), atol=1e-8
    )
    np.testing.assert_allclose(
        sparse_backprop.numpy(), _central_difference_gradient(loss(onehot), logits), atol=1e-8
    )


@pytest.mark.parametrize("dtype,tol", [("float16", 2e-3), ("float32", 1e-6), ("float64", 1e-13)])
def test_sigmoid_cross_entropy_matches_formula_and_is_stable(device, rng, dtype, tol):
    logits = np.concatenate([rng.standard_normal(10) * 4, [-1000.0, 1000.0, 0.0]])
    if dtype == "float16":
        logits = np.clip(logits, -60000, 60000)
    labels = np.concatenate([rng.uniform(size=10), [0.0, 1.0, 0.5]])
    got = gt.nn.sigmoid_cross_entropy_with_logits(
        labels=gt.constant(labels.astype(dtype)), logits=gt.constant(logits.astype(dtype))
    )
    z, x = labels.astype(dtype).astype(np.float64), logits.astype(dtype).astype(np.float64)
    expected = z * np.logaddexp(0, -x) + (1 - z) * np.logaddexp(0, x)  # -z log s(x) - (1-z) log(1-s(x))
    np.testing.assert_allclose(got.numpy(), expected, rtol=tol, atol=tol)


LOSS_ERRORS = [
    (
        "xent_shape_mismatch",
        lambda: gt.nn.softmax_cross_entropy_with_logits(np.zeros((2, 3)), np.zeros((2, 4))),
        "labels and logits must have the same shape",
    ),  # fmt: skip
    ("xent_scalar_logits", lambda: gt.nn.softmax_cross_entropy_with_logits(1.0, 2.0), "at least 1 dimension"),
    (
        "xent_axis_out_of_range",
        lambda: gt.nn.softmax_cross_entropy_with_logits(np.zeros(3), np.zeros(3), axis=1),
        "axis 1 is out of range",
    ),  # fmt: skip
    (
        "sparse_rank_mismatch",
        lambda: gt.nn.sparse_softmax_cross_entropy_with_logits([[0]], [[1.0, 2.0]]),
        "Rank mismatch",
    ),  # fmt: skip
    (
        "sparse_shape_mismatch",
        lambda: gt.nn.sparse_softmax_cross_entropy_with_logits([0, 1, 1], [[1.0, 2.0]] * 2),
        "Shape mismatch",
    ),  # fmt: skip
    (
        "sparse_float_labels",
        lambda: gt.nn.sparse_softmax_cross_entropy_with_logits([0.0], [[1.0, 2.0]]),
        "int32 or int64",
    ),  # fmt: skip
    (
        "sigmoid_shape_mismatch",
        lambda: gt.nn.sigmoid_cross_entropy_with_logits(np.zeros(2), np.zeros(3)),
        "same shape",
    ),  # fmt: skip
    (
        "sigmoid_dtype_mismatch",
        lambda: gt.nn.sigmoid_cross_entropy_with_logits(gt.constant([1.0]), gt.constant([1.0], gt.float64)),
        "labels has dtype float32",
    ),  # fmt: skip
    ("softmax_integer_logits", lambda: gt.nn.softmax(gt.constant([1, 2])), "must be half"),
    ("softmax_scalar", lambda: gt.nn.softmax(1.0), "at least 1 dimension"),
    ("log_softmax_axis", lambda: gt.nn.log_softmax(np.zeros((2, 2)), axis=2), "out of range"),
]


@pytest.mark.parametrize("make,match", [c[1:] for c in LOSS_ERRORS], ids=[c[0] for c in LOSS_ERRORS])
def test_bad_softmax_and_loss_arguments_raise_invalid_argument(device, make, match):
    with pytest.raises(gt.errors.InvalidArgumentError, match=match):
        make()


@pytest.mark.parametrize("label", [3, -1])
def test_sparse_label_out_of_range_raises_on_cpu_as_tf(label):
    with gt.device("/CPU:0"):
        with pytest.raises(
            gt.errors.InvalidArgumentError, match=rf"label value of {label} .*range of \[0, 3\)"
        ):
            gt.nn.sparse_softmax_cross_entropy_with_logits([0, label], np.zeros((2, 3), np.float32))


# ---------------------------------------------------------------- normalisation
@pytest.mark.parametrize("shape,axes", [((4, 5), [0]), ((2, 3, 4, 5), [0, 1, 2]), ((6,), 0), ((3, 4), [-1])])
@pytest.mark.parametrize("keepdims", [False, True])
def test_moments_are_mean_and_population_variance(device, rng, shape, axes, keepdims):
    x = rng.standard_normal(shape) * 2 + 1
    mean, variance = gt.nn.moments(gt.constant(x), axes, keepdims=keepdims)
    ax = tuple(np.atleast_1d(axes))
    np.testing.assert_allclose(mean.numpy(), x.mean(axis=ax, keepdims=keepdims), rtol=1e-12)
    np.testing.assert_allclose(variance.numpy(), x.var(axis=ax, keepdims=keepdims), rtol=1e-12)


def test_moments_of_float16_are_computed_in_float32(device, rng):
    x = (rng.standard_normal((64, 3)) + 100).astype(np.float16)
    mean, variance = gt.nn.moments(gt.constant(x), [0])
    assert mean.dtype == variance.dtype == gt.float16
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(mean.numpy(), x64.mean(0), rtol=1e-3)
    np.testing.assert_allclose(variance.numpy(), x64.var(0), rtol=2e-2)


@pytest.mark.parametrize(
    "with_offset,with_scale", [(True, True), (False, True), (True, False), (False, False)]
)
def test_batch_normalization_matches_formula(device, rng, with_offset, with_scale):
    x = rng.standard_normal((4, 3, 5))
    mean, var = rng.standard_normal(5), rng.uniform(0.5, 2.0, 5)
    offset, scale = rng.standard_normal(5), rng.standard_normal(5)
    got = gt.nn.batch_normalization(
        gt.constant(x), gt.constant(mean), gt.constant(var),
        gt.constant(offset) if with_offset else None, gt.constant(scale) if with_scale else None, 1e-3,
    )  # fmt: skip
    expected = (x - mean) / np.sqrt(var + 1e-3) * (scale if with_scale else 1) + (
        offset if with_offset else 0
    )
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("axis", [None, 0, 1, [0, 1], -1])
def test_l2_normalize_divides_by_the_norm(device, rng, axis):
    x = rng.standard_normal((3, 4))
    got = gt.nn.l2_normalize(gt.constant(x), axis=axis)
    ax = None if axis is None else tuple(np.atleast_1d(axis))
    np.testing.assert_allclose(got.numpy(), x / np.sqrt(np.sum(x * x, axis=ax, keepdims=True)), rtol=1e-12)


def test_l2_normalize_keeps_zero_vectors_zero(device):
    got = gt.nn.l2_normalize(gt.constant([[0.0, 0.0], [3.0, 4.0]]), axis=1)
    np.testing.assert_allclose(got.numpy(), [[0.0, 0.0], [0.6, 0.8]], rtol=1e-6)


@pytest.mark.parametrize("shape", [(2, 3), (2, 4, 4, 3), (5, 3, 7)])
def test_bias_add_adds_along_the_last_dimension(device, rng, shape):
    x, b = rng.standard_normal(shape), rng.standard_normal(shape[-1])
    np.testing.assert_allclose(gt.nn.bias_add(gt.constant(x), gt.constant(b)).numpy(), x + b, rtol=1e-15)


def test_bias_add_nchw_adds_along_dimension_1(device, rng):
    x, b = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal(3)
    got = gt.nn.bias_add(gt.constant(x), gt.constant(b), data_format="NCHW")
    np.testing.assert_allclose(got.numpy(), x + b[:, None, None], rtol=1e-15)


def test_bias_add_ncw_adds_along_dimension_1_for_rank_3(device, rng):
    x, b = rng.standard_normal((2, 3, 5)), rng.standard_normal(3)
    got = gt.nn.bias_add(gt.constant(x), gt.constant(b), data_format="NCW")
    np.testing.assert_allclose(got.numpy(), x + b[:, None], rtol=1e-15)


def test_softmax_accepts_an_integer_tensor_axis(device, rng):
    x = rng.standard_normal((3, 4))
    got = gt.nn.softmax(gt.constant(x), axis=gt.constant(0))
    np.testing.assert_allclose(got.numpy(), special.softmax(x, axis=0), rtol=1e-12)


NORM_ERRORS = [
    ("bias_wrong_length", lambda: gt.nn.bias_add(np.zeros((2, 3)), np.zeros(4)), "bias has 4 entries"),
    ("bias_rank_2", lambda: gt.nn.bias_add(np.zeros((2, 3)), np.zeros((1, 3))), "bias rank 1"),
    ("bias_value_rank_1", lambda: gt.nn.bias_add(np.zeros(3), np.zeros(3)), "rank >= 2"),
    (
        "bias_dtype",
        lambda: gt.nn.bias_add(np.zeros((2, 3), np.float32), np.zeros(3)),
        "bias has dtype float64",
    ),
    ("moments_integer", lambda: gt.nn.moments(gt.constant([1, 2]), [0]), "int32"),
    ("l2_normalize_integer", lambda: gt.nn.l2_normalize(gt.constant([1, 2])), "int32"),
]


@pytest.mark.parametrize("make,match", [c[1:] for c in NORM_ERRORS], ids=[c[0] for c in NORM_ERRORS])
def test_bad_normalisation_arguments_raise_invalid_argument(device, make, match):
    with pytest.raises(gt.errors.InvalidArgumentError, match=match):
        make()


# -------------------------------------------------------------------- embedding
@pytest.mark.parametrize("ids_shape", [(4,), (2, 3), ()])
def test_embedding_lookup_gathers_rows(device, rng, ids_shape):
    params = rng.standard_normal((10, 3))
    ids = rng.integers(0, 10, ids_shape).astype(np.int32)
    got = gt.nn.embedding_lookup(gt.constant(params), gt.constant(ids))
    np.testing.assert_array_equal(got.numpy(), params[ids])


def test_embedding_lookup_over_div_sharded_params_matches_the_whole_table(device, rng):
    params = rng.standard_normal((7, 2))
    shards = [gt.constant(params[:3]), gt.constant(params[3:5]), gt.constant(params[5:])]
    ids = np.array([0, 6, 3, 4, 2])
    np.testing.assert_array_equal(gt.nn.embedding_lookup(shards, gt.constant(ids)).numpy(), params[ids])


def test_embedding_lookup_max_norm_clips_long_rows_only(device):
    params = np.array([[3.0, 4.0], [0.3, 0.4]])
    got = gt.nn.embedding_lookup(gt.constant(params), gt.constant([0, 1]), max_norm=1.0)
    np.testing.assert_allclose(got.numpy(), [[0.6, 0.8], [0.3, 0.4]], rtol=1e-12)


def test_embedding_lookup_with_an_id_out_of_range_raises_on_cpu():
    with gt.device("/CPU:0"):
        with pytest.raises(gt.errors.InvalidArgumentError, match="10"):
            gt.nn.embedding_lookup(gt.constant(np.zeros((5, 2))), gt.constant([1, 10]))


# ---------------------------------------------------------------------- dropout
@pytest.mark.parametrize("rate", [0.2, 0.5, 0.9])
def test_dropout_zeroes_about_rate_and_scales_the_rest(device, rate):
    x = np.full((200, 100), 2.0, np.float32)
    got = gt.nn.dropout(gt.constant(x), rate, seed=7).numpy()
    kept = got != 0
    np.testing.assert_allclose(got[kept], 2.0 / (1 - rate), rtol=1e-6)
    n = x.size
    assert abs(kept.mean() - (1 - rate)) < 5 * np.sqrt(rate * (1 - rate) / n)


def test_dropout_with_noise_shape_drops_whole_columns(device):
    x = np.ones((50, 40), np.float32)
    got = gt.nn.dropout(gt.constant(x), 0.5, noise_shape=[1, 40], seed=3).numpy()
    assert np.all(got == got[:1])  # every row shares the column mask
    assert set(np.unique(got)) <= {0.0, 2.0}


def test_dropout_with_rate_zero_returns_the_input(device):
    x = gt.constant([1.0, 2.0])
    assert gt.nn.dropout(x, 0.0) is x


DROPOUT_ERRORS = [
    ("rate_one", lambda: gt.nn.dropout(gt.constant([1.0]), 1.0), "range \\[0, 1\\)"),
    ("rate_negative", lambda: gt.nn.dropout(gt.constant([1.0]), -0.1), "range \\[0, 1\\)"),
    ("integer_x", lambda: gt.nn.dropout(gt.constant([1, 2]), 0.5), "floating point"),
    ("noise_shape_rank", lambda: gt.nn.dropout(gt.constant([[1.0]]), 0.5, noise_shape=[1]), "rank"),
    (
        "noise_shape_size",
        lambda: gt.nn.dropout(gt.constant([[1.0, 2.0]]), 0.5, noise_shape=[1, 3]),
        "broadcast",
    ),
]


@pytest.mark.parametrize("make,match", [c[1:] for c in DROPOUT_ERRORS], ids=[c[0] for c in DROPOUT_ERRORS])
def test_bad_dropout_arguments_raise_value_error(device, make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_every_declared_nn_primitive_has_a_cpu_kernel():
    from gputensor.backend.cpu import nn

    primitives = {"softmax", "log_softmax", "softmax_xent", "sparse_softmax_xent", "conv2d",
                  "conv2d_backprop_input", "conv2d_backprop_filter", "depthwise_conv2d",
                  "depthwise_conv2d_backprop_input", "depthwise_conv2d_backprop_filter",
                  "max_pool2d", "max_pool2d_grad", "avg_pool2d", "avg_pool2d_grad"}  # fmt: skip
    assert primitives <= OPS.keys()
    assert set(nn.KERNELS) == primitives


def test_gt_nn_exports_the_tf_names():
    for name in ["relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "sigmoid", "tanh",
                 "softplus", "softsign", "softmax", "log_softmax", "dropout", "conv2d", "depthwise_conv2d",
                 "separable_conv2d", "conv2d_transpose", "max_pool2d", "avg_pool2d", "max_pool", "avg_pool",
                 "bias_add", "moments", "batch_normalization", "l2_normalize", "embedding_lookup",
                 "softmax_cross_entropy_with_logits", "sparse_softmax_cross_entropy_with_logits",
                 "sigmoid_cross_entropy_with_logits"]:  # fmt: skip
        assert callable(getattr(gt.nn, name)), name


def test_docstring_examples_run():
    import doctest

    from gputensor.ops import nn_ops

    with gt.device("/CPU:0"):
        result = doctest.testmod(nn_ops, extraglobs={"gt": gt}, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_sigmoid_cross_entropy_accepts_labels_of_an_unknown_traced_batch():
    # TF checks shape compatibility: zeros((tf.shape(x)[0], 1)) is (None, 1) in a trace.
    logits = np.array([[0.5], [-1.0]], "float32")

    @gt.function(input_signature=[gt.TensorSpec([None, 1], gt.float32)])
    def loss(x):
        labels = gt.zeros((gt.shape(x)[0], 1)) + 1.0
        return gt.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=gt.constant(logits))

    want = np.log1p(np.exp(-logits))  # labels 1: log(1 + exp(-x))
    np.testing.assert_allclose(loss(gt.ones([2, 1])).numpy(), want, rtol=1e-5)
    with pytest.raises(gt.errors.InvalidArgumentError, match="same shape"):
        gt.nn.sigmoid_cross_entropy_with_logits(labels=gt.zeros([2, 2]), logits=gt.constant(logits))
