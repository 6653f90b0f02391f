"""The extra gt.keras layers (reshaping, merging, activations, normalization, Lambda,
Identity, TimeDistributed): each against a NumPy formula, finite-difference gradients of the
parametric ones, shapes, configs, masks, traced-vs-eager equality and Keras's errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gputensor as gt
from gputensor.keras import layers, masks, models

RNG = np.random.default_rng(7)


def rand(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def roundtrip(layer):
    """A fresh layer from ``serialize``/``deserialize`` through JSON, as a weight-less clone."""
    return layers.deserialize(json.loads(json.dumps(layers.serialize(layer))))


def fd_check(fn, params, eps=1e-6, tol=1e-6):
    """Compares ``tape.gradient(sum(fn() * w))`` with central differences, for float64 variables."""
    out0 = np.asarray(fn())
    w = RNG.standard_normal(out0.shape)
    with gt.GradientTape() as tape:
        loss = gt.reduce_sum(fn() * w)
    grads = tape.gradient(loss, params)
    for p, g in zip(params, grads):
        base = p.numpy().copy()
        num = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            for sign in (1, -1):
                v = base.copy()
                v[idx] += sign * eps
                p.assign(v)
                num[idx] += sign * np.sum(np.asarray(fn()) * w) / (2 * eps)
        p.assign(base)
        np.testing.assert_allclose(np.asarray(g), num, rtol=tol, atol=tol)


# ------------------------------------------------------------------- reshaping
def test_repeat_vector_permute_crop_pad_match_numpy():
    x2 = rand(2, 3)
    np.testing.assert_array_equal(np.asarray(layers.RepeatVector(4)(x2)), np.repeat(x2[:, None], 4, axis=1))
    x4 = rand(2, 3, 4, 5)
    np.testing.assert_array_equal(np.asarray(layers.Permute((3, 1, 2))(x4)), x4.transpose(0, 3, 1, 2))
    x3 = rand(2, 7, 3)
    np.testing.assert_array_equal(np.asarray(layers.Cropping1D((2, 1))(x3)), x3[:, 2:-1])
    np.testing.assert_array_equal(np.asarray(layers.Cropping1D(0)(x3)), x3)
    np.testing.assert_array_equal(
        np.asarray(layers.ZeroPadding1D((1, 3))(x3)), np.pad(x3, [(0, 0), (1, 3), (0, 0)])
    )
    np.testing.assert_array_equal(
        np.asarray(layers.ZeroPadding1D(2, data_format="channels_first")(x3)),
        np.pad(x3, [(0, 0), (0, 0), (2, 2)]),
    )
    np.testing.assert_array_equal(np.asarray(layers.Cropping2D(((1, 0), (2, 1)))(x4)), x4[:, 1:, 2:-1, :])
    np.testing.assert_array_equal(
        np.asarray(layers.Cropping2D((1, 2), data_format="channels_first")(x4)), x4[:, :, 1:-1, 2:-2]
    )


@pytest.mark.parametrize(
    "layer,shape,expected",
    [
        (lambda: layers.RepeatVector(3), (None, 4), (None, 3, 4)),
        (lambda: layers.Permute((2, 1)), (None, 5, 3), (None, 3, 5)),
        (lambda: layers.Cropping1D((1, 2)), (None, 6, 3), (None, 3, 3)),
        (lambda: layers.Cropping1D(), (None, None, 3), (None, None, 3)),
        (lambda: layers.Cropping2D(1), (None, 5, 6, 2), (None, 3, 4, 2)),
        (lambda: layers.ZeroPadding1D(2), (None, 5, 2), (None, 9, 2)),
        (lambda: layers.Dot(axes=(2, 1)), [(None, 3, 4), (None, 4, 5)], (None, 3, 5)),
        (lambda: layers.Dot(axes=1), [(None, 4), (None, 4)], (None, 1)),
    ],
)
def test_compute_output_shape_is_keras_arithmetic(layer, shape, expected):
    assert tuple(layer().compute_output_shape(shape)) == expected


def test_reshaping_errors_are_keras_classes_with_clear_messages():
    with pytest.raises(TypeError, match="expected an integer value for `n`"):
        layers.RepeatVector(2.5)
    with pytest.raises(ValueError, match="expected ndim=2"):
        layers.RepeatVector(2)(rand(2, 3, 4))
    with pytest.raises(ValueError, match="consecutive and start from 1"):
        layers.Permute((0, 1))
    with pytest.raises(ValueError, match="expected ndim=3"):
        layers.Permute((2, 1))(rand(2, 3))
    with pytest.raises(ValueError, match="too high"):
        layers.Cropping1D((2, 2))(rand(1, 4, 2))
    with pytest.raises(ValueError, match="cannot be negative"):
        layers.Cropping1D(-1)
    with pytest.raises(ValueError, match="smaller than the corresponding spatial dimension"):
        layers.Cropping2D(((2, 2), (0, 0)))(rand(1, 4, 4, 1))
    with pytest.raises(ValueError, match="two elements"):
        layers.Cropping2D((1, 1, 1))
    with pytest.raises(ValueError, match="expected ndim=3"):
        layers.ZeroPadding1D(1)(rand(2, 3, 4, 5))
    with pytest.raises(ValueError, match="data_format"):
        layers.ZeroPadding1D(1, data_format="nhwc")


# --------------------------------------------------------------------- merging
def np_batch_dot(x, y, a0, a1):
    xs = np.moveaxis(x, a0, -1)
    ys = np.moveaxis(y, a1, 1)
    out = np.matmul(xs.reshape(len(x), -1, xs.shape[-1]), ys.reshape(len(y), ys.shape[1], -1))
    shape = (*xs.shape[1:-1], *ys.shape[2:])
    return out.reshape((len(x), *shape) if shape else (len(x), 1))


def np_l2n(x, axis):
    return x / np.maximum(np.sqrt(np.sum(x * x, axis=axis, keepdims=True)), 1e-7)


def test_subtract_maximum_minimum_and_functional_forms():
    a, b, c = rand(3, 4), rand(3, 4), rand(3, 4)
    np.testing.assert_allclose(np.asarray(layers.Subtract()([a, b])), a - b)
    np.testing.assert_allclose(np.asarray(layers.subtract([a, b])), a - b)
    np.testing.assert_allclose(np.asarray(layers.Maximum()([a, b, c])), np.maximum(np.maximum(a, b), c))
    np.testing.assert_allclose(np.asarray(layers.maximum([a, b])), np.maximum(a, b))
    np.testing.assert_allclose(np.asarray(layers.Minimum()([a, b, c])), np.minimum(np.minimum(a, b), c))
    np.testing.assert_allclose(np.asarray(layers.minimum([a, b])), np.minimum(a, b))


@pytest.mark.parametrize(
    "xs,ys,axes,normalize",
    [
        ((3, 4), (3, 4), 1, False),
        ((3, 4), (3, 4), -1, True),
        ((3, 5, 4), (3, 6, 4), 2, False),
        ((3, 5, 4), (3, 4, 6), (2, 1), True),
        ((3, 4), (3, 6, 4), (1, 2), False),
        ((3, 2, 5, 4), (3, 5, 3), (2, 1), False),
    ],
)
def test_dot_matches_keras_batch_dot(xs, ys, axes, normalize):
    x, y = rand(*xs), rand(*ys)
    layer = layers.Dot(axes=axes, normalize=normalize)
    got = np.asarray(layer([x, y]))
    a0, a1 = (axes, axes) if isinstance(axes, int) else axes
    a0, a1 = a0 % len(xs), a1 % len(ys)
    if normalize:
        x, y = np_l2n(x, a0), np_l2n(y, a1)
    want = np_batch_dot(x.astype(np.float64), y.astype(np.float64), a0, a1)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert got.shape == tuple(layer.compute_output_shape([(3, *xs[1:]), (3, *ys[1:])]))
    np.testing.assert_allclose(np.asarray(layers.dot([rand(2, 3), rand(2, 3)], axes=1)).shape, (2, 1))


def test_dot_gradients_match_finite_differences():
    x = gt.Variable(RNG.standard_normal((2, 3, 4)))
    y = gt.Variable(RNG.standard_normal((2, 4, 3)))
    layer = layers.Dot(axes=(2, 1), normalize=True, dtype="float64")
    fd_check(lambda: layer([x, y]), [x, y])


def test_merge_errors():
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.Subtract()([rand(2, 3)] * 3)
    with pytest.raises(ValueError, match="list of inputs"):
        layers.Maximum()(rand(2, 3))
    with pytest.raises(ValueError, match="same shape"):
        layers.Minimum()([rand(2, 3), rand(2, 4)])
    with pytest.raises(TypeError, match="list or an int"):
        layers.Dot(axes="1")
    with pytest.raises(ValueError, match="two elements"):
        layers.Dot(axes=(1, 1, 1))
    with pytest.raises(ValueError, match="Incompatible input shapes"):
        layers.Dot(axes=1)([rand(2, 3), rand(2, 4)])
    with pytest.raises(ValueError, match="batch axis"):
        layers.Dot(axes=0)([rand(2, 3), rand(2, 3)])
    with pytest.raises(ValueError, match="list of 2 inputs"):
        layers.Dot(axes=1)([rand(2, 3)] * 3)


# ------------------------------------------------------------------ activations
def np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_softmax_axes_and_mask():
    x = rand(2, 3, 4)
    np.testing.assert_allclose(np.asarray(layers.Softmax()(x)), np_softmax(x, -1), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(layers.Softmax(axis=1)(x)), np_softmax(x, 1), rtol=1e-6)
    got = np.asarray(layers.Softmax(axis=[1, 2])(x))
    flat = np_softmax(x.reshape(2, -1), -1).reshape(x.shape)
    np.testing.assert_allclose(got, flat, rtol=1e-5)
    mask = RNG.random((2, 1, 4)) > 0.4
    mask[:, :, 0] = True
    got = np.asarray(layers.Softmax()(x, mask=mask))
    want = np_softmax(np.where(mask, x, -1e9), -1) * mask
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="broadcastable"):
        layers.Softmax()(x, mask=np.ones((2, 3, 5), bool))
    with pytest.raises(ValueError, match="out of (bounds|range)"):
        layers.Softmax(axis=3)(x)


def test_elu_and_prelu_formulas():
    x = rand(2, 3, 4)
    np.testing.assert_allclose(
        np.asarray(layers.ELU(0.7)(x)), np.where(x > 0, x, 0.7 * np.expm1(x)), rtol=1e-5
    )
    layer = layers.PReLU(shared_axes=[1])
    layer(x)
    assert tuple(layer.alpha.shape) == (1, 4)
    np.testing.assert_array_equal(layer.alpha.numpy(), 0)  # Keras's "Zeros" default
    alpha = rand(1, 4)
    layer.alpha.assign(alpha)
    np.testing.assert_allclose(np.asarray(layer(x)), np.where(x > 0, x, alpha * x), rtol=1e-6)
    with pytest.raises(ValueError, match="expected axis 2"):
        layer(rand(2, 3, 5))
    with pytest.raises(ValueError, match="shared axis 3"):
        layers.PReLU(shared_axes=3)(x)


def test_prelu_gradients_match_finite_differences():
    x = gt.Variable(RNG.standard_normal((3, 2, 4)))
    layer = layers.PReLU(shared_axes=[1], alpha_initializer="random_normal", dtype="float64")
    layer(x)
    fd_check(lambda: layer(x), [x, layer.alpha])


# --------------------------------------------------------------- normalizations
def np_group_norm(x, groups, gamma, beta, eps):
    n, c = x.shape[0], x.shape[-1]
    g = np.moveaxis(x, -1, 1).reshape(n, groups, c // groups, -1).astype(np.float64)
    mean = g.mean(axis=(2, 3), keepdims=True)
    var = g.var(axis=(2, 3), keepdims=True)
    y = ((g - mean) / np.sqrt(var + eps)).reshape(np.moveaxis(x, -1, 1).shape)
    return np.moveaxis(y, 1, -1) * gamma + beta


@pytest.mark.parametrize("groups,shape", [(2, (2, 5, 4)), (1, (2, 3, 3, 6)), (-1, (2, 4, 3)), (3, (2, 6))])
def test_group_normalization_matches_numpy(groups, shape):
    x = rand(*shape) * 3 + 1
    layer = layers.GroupNormalization(groups=groups, epsilon=1e-3)
    layer(x)
    gamma, beta = rand(shape[-1]), rand(shape[-1])
    layer.set_weights([gamma, beta])
    want = np_group_norm(x, shape[-1] if groups == -1 else groups, gamma, beta, 1e-3)
    np.testing.assert_allclose(np.asarray(layer(x)), want, rtol=1e-4, atol=1e-5)


def test_group_normalization_gradients_match_finite_differences():
    x = gt.Variable(RNG.standard_normal((2, 3, 4)))
    layer = layers.GroupNormalization(groups=2, dtype="float64", gamma_initializer="random_normal")
    layer(x)
    fd_check(lambda: layer(x), [x, *layer.trainable_weights], tol=2e-6)


def test_group_normalization_errors():
    with pytest.raises(ValueError, match="invalid value for argument `groups`"):
        layers.GroupNormalization(groups=0)
    with pytest.raises(ValueError, match="cannot be more than the number of channels"):
        layers.GroupNormalization(groups=8)(rand(2, 4))
    with pytest.raises(ValueError, match="must be a multiple"):
        layers.GroupNormalization(groups=3)(rand(2, 4))
    with pytest.raises(ValueError, match="out of (bounds|range)"):
        layers.GroupNormalization(groups=1, axis=3)(rand(2, 4))
    layer = layers.GroupNormalization(groups=2)
    layer(rand(2, 4))
    with pytest.raises(ValueError, match="expected axis -1"):
        layer(rand(2, 6))


def test_unit_normalization():
    x = rand(2, 3, 4)
    got = np.asarray(layers.UnitNormalization()(x))
    np.testing.assert_allclose(got, x / np.linalg.norm(x, axis=-1, keepdims=True), rtol=1e-5)
    got = np.asarray(layers.UnitNormalization(axis=[1, 2])(x))
    np.testing.assert_allclose(got, x / np.sqrt((x**2).sum(axis=(1, 2), keepdims=True)), rtol=1e-5)
    np.testing.assert_array_equal(np.asarray(layers.UnitNormalization()(np.zeros((1, 3), np.float32))), 0)
    with pytest.raises(TypeError, match="axis"):
        layers.UnitNormalization(axis="x")
    with pytest.raises(ValueError, match="out of (bounds|range)"):
        layers.UnitNormalization(axis=2)(rand(2, 3))
    v = gt.Variable(RNG.standard_normal((2, 4)))
    layer = layers.UnitNormalization(dtype="float64")
    fd_check(lambda: layer(v), [v])


def test_activity_regularization_adds_keras_penalty():
    x = rand(4, 3)
    layer = layers.ActivityRegularization(l1=0.1, l2=0.01)
    np.testing.assert_array_equal(np.asarray(layer(x)), x)
    (loss,) = layer.losses
    want = (0.1 * np.abs(x).sum() + 0.01 * (x**2).sum()) / 4  # Keras 3 divides by the batch size
    np.testing.assert_allclose(float(loss), want, rtol=1e-5)
    config = layer.get_config()
    assert config["l1"] == 0.1 and config["l2"] == 0.01 and "activity_regularizer" not in config


# --------------------------------------------------------- Lambda and wrappers
def scale_fn(x, factor=3.0):
    return x * factor


def test_lambda_arguments_mask_training_and_output_shape():
    x = rand(2, 3)
    np.testing.assert_allclose(np.asarray(layers.Lambda(scale_fn, arguments={"factor": 2.0})(x)), 2 * x)
    seen = {}

    def fn(inputs, mask=None, training=None):
        seen.update(mask=mask, training=training)
        return inputs + 1.0

    layer = layers.Lambda(fn, mask=lambda inputs, mask: gt.reduce_any(inputs > 0, axis=-1))
    y = layer(x, training=True)
    assert seen["training"] is True and seen["mask"] is None
    np.testing.assert_array_equal(np.asarray(masks.get_keras_mask(y)), (x > 0).any(-1))
    assert layers.Lambda(lambda t: t[:, :2], output_shape=(2,)).compute_output_shape((None, 5)) == (None, 2)
    assert layers.Lambda(lambda t: t, output_shape=lambda s: (s[0], 7)).compute_output_shape((4, 5)) == (4, 7)
    assert tuple(layers.Lambda(lambda t: gt.concat([t, t], -1)).compute_output_shape((3, 5))) == (3, 10)
    with pytest.raises(TypeError, match="callable"):
        layers.Lambda(3)


def test_lambda_without_mask_drops_an_incoming_mask_with_keras_warning():
    x = gt.constant(rand(2, 3, 4))
    masks.set_keras_mask(x, gt.constant([[True, False, True]] * 2))
    with pytest.warns(UserWarning, match="does not support masking"):
        y = layers.Lambda(lambda t: t * 2.0)(x)
    assert masks.get_keras_mask(y) is None


def test_lambda_config_named_function_and_lambda_safe_mode():
    layer = layers.Lambda(scale_fn, output_shape=(3,), arguments={"factor": 5.0})
    config = json.loads(json.dumps(layer.get_config()))
    assert config["function"] == {
        "module": __name__, "class_name": "function", "config": "scale_fn", "registered_name": "function",
    }  # fmt: skip
    clone = layers.Lambda.from_config(config)
    x = rand(2, 3)
    np.testing.assert_allclose(np.asarray(clone(x)), 5 * x)
    lam = layers.Lambda(lambda t, k=2.0: t * k + 1.0)
    config = json.loads(json.dumps(lam.get_config()))
    assert config["function"]["class_name"] == "__lambda__"
    with pytest.raises(ValueError, match="safe_mode=False"):
        layers.Lambda.from_config(config)
    with pytest.raises(ValueError, match="safe_mode=False"):
        layers.deserialize(json.loads(json.dumps(layers.serialize(lam))))
    loaded = layers.Lambda.from_config(config, safe_mode=False)
    np.testing.assert_allclose(np.asarray(loaded(x)), 2 * x + 1)
    from gputensor.keras.layers.core_extra import safe_mode_scope

    with safe_mode_scope(False):
        np.testing.assert_allclose(np.asarray(layers.deserialize(layers.serialize(lam))(x)), 2 * x + 1)


def test_identity_passes_values_and_masks():
    x = gt.constant(rand(2, 3, 4))
    mask = gt.constant([[True, False, True]] * 2)
    masks.set_keras_mask(x, mask)
    y = layers.Identity()(x)
    np.testing.assert_array_equal(np.asarray(y), np.asarray(x))
    np.testing.assert_array_equal(np.asarray(masks.get_keras_mask(y)), np.asarray(mask))


class MaskedSum(layers.Layer):
    """A per-step layer whose call takes ``mask`` (for TimeDistributed's mask slicing)."""

    def call(self, inputs, mask=None):
        if mask is None:
            return gt.reduce_sum(inputs, axis=-1)
        return gt.reduce_sum(inputs * gt.expand_dims(gt.cast(mask, inputs.dtype), -1), axis=-1)


def test_time_distributed_matches_per_step_and_passes_masks():
    x = rand(2, 5, 3)
    dense = layers.Dense(4)
    td = layers.TimeDistributed(dense)
    y = np.asarray(td(x))
    k, b = (w.numpy() for w in dense.weights)
    np.testing.assert_allclose(y, x @ k + b, rtol=1e-5, atol=1e-6)
    assert [w.path for w in td.weights] == [w.path for w in dense.weights]
    # Keras 3: the wrapped layer builds inside the wrapper's scope.
    assert [w.path for w in td.weights] == [f"{td.name}/{dense.name}/kernel", f"{td.name}/{dense.name}/bias"]
    assert td.compute_output_shape((None, 5, 3)) == (None, 5, 4)
    # The input's (batch, time) mask reaches the inner layer per step and stays on the output.
    x4 = gt.constant(rand(2, 3, 4, 2))
    m = np.array([[[1, 0, 1, 1]] * 3, [[0, 1, 1, 0]] * 3], bool)
    out = layers.TimeDistributed(MaskedSum())(x4, mask=gt.constant(m))
    np.testing.assert_allclose(np.asarray(out), (np.asarray(x4) * m[..., None]).sum(-1), rtol=1e-6)
    assert out.shape == (2, 3, 4)
    seq = gt.constant(x)
    masks.set_keras_mask(seq, gt.constant([[True] * 5, [True, True, False, False, False]]))
    out = layers.TimeDistributed(layers.Dense(2))(seq)
    np.testing.assert_array_equal(
        np.asarray(masks.get_keras_mask(out)), np.asarray(masks.get_keras_mask(seq))
    )
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        layers.TimeDistributed(layers.Dense(2))(rand(2, 3))
    with pytest.raises(ValueError, match="incompatible with the input shape"):
        layers.TimeDistributed(layers.Dense(2))(x, mask=gt.constant(np.ones((2, 4), bool)))
    with pytest.raises(ValueError, match="Layer` instance"):
        layers.TimeDistributed(lambda t: t)


def test_time_distributed_unknown_length_traced_equals_eager():
    td = layers.TimeDistributed(layers.Dense(3))
    model = models.Model(*(lambda i: (i, td(i)))(models.Input((None, 2))))
    x = rand(4, 6, 2)
    eager = np.asarray(model(x))
    traced = np.asarray(gt.function(lambda t: model(t))(gt.constant(x)))
    np.testing.assert_allclose(traced, eager, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(model.predict(x, verbose=0)), eager, rtol=1e-6)
    k, b = (w.numpy() for w in td.weights)
    np.testing.assert_allclose(eager, x @ k + b, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------- configs
@pytest.mark.parametrize(
    "make,shape",
    [
        (lambda: layers.RepeatVector(3), (2, 4)),
        (lambda: layers.Permute((2, 1)), (2, 3, 4)),
        (lambda: layers.Cropping1D((1, 0)), (2, 3, 4)),
        (lambda: layers.Cropping2D(((1, 0), (0, 1)), data_format="channels_first"), (2, 3, 4, 5)),
        (lambda: layers.ZeroPadding1D((0, 2)), (2, 3, 4)),
        (lambda: layers.Softmax(axis=[1, 2]), (2, 3, 4)),
        (lambda: layers.ELU(0.3), (2, 3)),
        (lambda: layers.PReLU(alpha_initializer="ones", shared_axes=[1]), (2, 3, 4)),
        (lambda: layers.UnitNormalization(axis=[1]), (2, 3, 4)),
        (lambda: layers.GroupNormalization(groups=2, epsilon=0.1, center=False), (2, 3, 4)),
        (lambda: layers.Normalization(mean=[1.0, 2.0], variance=[1.0, 4.0]), (2, 2)),
        (lambda: layers.Normalization(axis=None, mean=1.0, variance=4.0, invert=True), (2, 2)),
        (lambda: layers.TimeDistributed(layers.Dense(2, use_bias=False)), (2, 3, 4)),
        (lambda: layers.Identity(), (2, 3)),
        (lambda: layers.ActivityRegularization(0.1), (2, 3)),
        (lambda: layers.Discretization(bin_boundaries=[0.0, 1.0], output_mode="one_hot"), (2, 3)),
    ],
)
def test_configs_round_trip_and_rebuild_the_same_function(make, shape):
    layer = make()
    x = rand(*shape)
    y = np.asarray(layer(x))
    clone = roundtrip(layer)
    assert type(clone) is type(layer)
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(np.asarray(clone(x)), y, rtol=1e-6)
    config = layer.get_config()
    assert {"name", "dtype"} <= set(config)


@pytest.mark.parametrize(
    "make,keras_config",
    [
        (layers.Softmax, {"axis": -1}),
        (layers.ELU, {"alpha": 1.0}),
        (layers.Dot, {"axes": 1, "normalize": False}),
        (lambda: layers.GaussianNoise(0.1), {"stddev": 0.1, "seed": None}),
        (lambda: layers.SpatialDropout2D(0.2), {"rate": 0.2, "seed": None, "data_format": "channels_last"}),
        (lambda: layers.CategoryEncoding(3), {"num_tokens": 3, "output_mode": "multi_hot", "sparse": False}),
        (lambda: layers.Discretization(num_bins=4), {"bin_boundaries": None, "num_bins": 4, "epsilon": 0.01}),
    ],
)
def test_configs_hold_keras_defaults(make, keras_config):
    layer = make() if make is not layers.Dot else layers.Dot(axes=1)
    config = layer.get_config()
    for key, value in keras_config.items():
        assert config[key] == value, key


def test_fit_traced_equals_fit_eager_for_the_parametric_layers():
    """The same fit steps in gt.function (the default) and eagerly give the same weights."""
    xs = rand(16, 5, 4)
    ys = rand(16, 1)

    def build():
        inp = models.Input((5, 4))
        norm = layers.Normalization()
        norm.adapt(xs)
        x = layers.TimeDistributed(layers.Dense(6))(norm(inp))
        x = layers.PReLU(shared_axes=[1], alpha_initializer="constant")(x)
        x = layers.GroupNormalization(groups=3)(x)
        x = layers.Softmax()(layers.Dot(axes=2, normalize=True)([x, x]))
        x = layers.UnitNormalization()(layers.Flatten()(layers.Cropping1D((1, 1))(x)))
        return models.Model(inp, layers.Dense(1)(x))

    runs = []
    for eager in (False, True):
        model = build()
        if runs:
            model.set_weights(runs[0][0])
        start = model.get_weights()
        model.compile(optimizer="adam", loss="mse", run_eagerly=eager)
        model.fit(xs, ys, batch_size=4, epochs=2, shuffle=False, verbose=0)
        runs.append((start, model.get_weights()))
    for a, b, s in zip(runs[0][1], runs[1][1], runs[0][0]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert any(not np.allclose(a, s) for a, s in zip(runs[0][1], runs[0][0]))  # it trained


@pytest.mark.parametrize("axis", [1, -3])
def test_group_normalization_channels_first_axis_equals_channels_last(axis):
    x = rand(2, 6, 3, 4) * 2 + 1
    first = layers.GroupNormalization(groups=3, axis=axis)
    last = layers.GroupNormalization(groups=3)
    first(x)
    last(x.transpose(0, 2, 3, 1))
    gamma, beta = rand(6), rand(6)
    first.set_weights([gamma, beta])
    last.set_weights([gamma, beta])
    got = np.asarray(first(x))
    want = np.asarray(last(x.transpose(0, 2, 3, 1))).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
