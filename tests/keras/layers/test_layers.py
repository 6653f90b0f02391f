"""Each Keras layer against a NumPy formula computed with the layer's own weights."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gputensor as gt
from gputensor.keras import activations, initializers, layers, regularizers

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def np_conv2d(x, k, stride=(1, 1), padding="valid", dilation=(1, 1)):
    """Direct loops: x (N,H,W,C), k (kh,kw,C,F); TF's SAME padding (extra on the bottom/right)."""
    n, h, w, c = x.shape
    kh, kw, _, f = k.shape
    ekh, ekw = (kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1
    if padding == "same":
        oh, ow = math.ceil(h / stride[0]), math.ceil(w / stride[1])
        ph = max((oh - 1) * stride[0] + ekh - h, 0)
        pw = max((ow - 1) * stride[1] + ekw - w, 0)
        x = np.pad(x, [(0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)])
    else:
        oh, ow = (h - ekh) // stride[0] + 1, (w - ekw) // stride[1] + 1
    out = np.zeros((n, oh, ow, f), np.float64)
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    xi, xj = i * stride[0] + a * dilation[0], j * stride[1] + b * dilation[1]
                    out[:, i, j, :] += x[:, xi, xj, :] @ k[a, b]
    return out


def np_depthwise(x, k, stride=(1, 1), padding="valid"):
    c, m = k.shape[2], k.shape[3]
    outs = [np_conv2d(x[..., ci : ci + 1], k[:, :, ci : ci + 1, :], stride, padding) for ci in range(c)]
    return np.concatenate(outs, axis=-1).reshape(*outs[0].shape[:3], c * m)


# ---------------------------------------------------------------------- Dense
@pytest.mark.parametrize(
    "activation,fn", [(None, lambda z: z), ("relu", lambda z: np.maximum(z, 0)), ("tanh", np.tanh)]
)
def test_dense_matches_numpy(activation, fn):
    layer = layers.Dense(5, activation=activation)
    x = rand(4, 3)
    y = layer(x).numpy()
    w, b = layer.get_weights()
    assert w.shape == (3, 5) and b.shape == (5,)
    np.testing.assert_allclose(y, fn(x @ w + b), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(b, 0)  # Keras default: zeros bias


def test_dense_on_rank3_applies_to_last_axis_and_glorot_limits():
    layer = layers.Dense(7, use_bias=False)
    x = rand(2, 3, 4)
    assert layer.get_weights() == [] and not layer.built  # built lazily on the first call
    y = layer(x).numpy()
    (w,) = layer.get_weights()
    np.testing.assert_allclose(y, np.einsum("abi,ij->abj", x, w), rtol=1e-5, atol=1e-5)
    limit = math.sqrt(6 / (4 + 7))
    assert np.abs(w).max() <= limit


# ------------------------------------------------------------------ convolutions
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(kernel_size=3),
        dict(kernel_size=3, padding="same"),
        dict(kernel_size=(2, 3), strides=2),
        dict(kernel_size=3, strides=2, padding="same"),
        dict(kernel_size=3, dilation_rate=2),
    ],
)
def test_conv2d_matches_loops(kwargs):
    layer = layers.Conv2D(4, activation="relu", **kwargs)
    x = rand(2, 9, 8, 3)
    y = layer(x).numpy()
    k, b = layer.get_weights()
    ks = layer.kernel_size
    assert k.shape == (*ks, 3, 4)
    ref = np_conv2d(x, k, layer.strides, layer.padding, layer.dilation_rate) + b
    np.testing.assert_allclose(y, np.maximum(ref, 0), rtol=1e-4, atol=1e-4)


def test_conv2d_groups_is_a_conv_per_channel_group():
    layer = layers.Conv2D(4, 3, groups=2, bias_initializer="ones")
    x = rand(1, 6, 6, 4)
    y = layer(x).numpy()
    k, b = layer.get_weights()
    assert k.shape == (3, 3, 2, 4)
    ref = np.concatenate([np_conv2d(x[..., :2], k[..., :2]), np_conv2d(x[..., 2:], k[..., 2:])], axis=-1) + b
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("padding,strides", [("valid", 1), ("same", 2)])
def test_depthwise_conv2d_matches_loops(padding, strides):
    layer = layers.DepthwiseConv2D(
        3, strides=strides, padding=padding, depth_multiplier=2, bias_initializer="ones"
    )
    x = rand(2, 7, 7, 3)
    y = layer(x).numpy()
    k, b = layer.get_weights()
    assert layer.weights[0].name == "kernel" and k.shape == (3, 3, 3, 2)
    assert layer.weights[0].path == f"{layer.name}/kernel"  # built by a top-level call
    np.testing.assert_allclose(y, np_depthwise(x, k, (strides, strides), padding) + b, rtol=1e-4, atol=1e-4)


def test_separable_conv2d_is_depthwise_then_pointwise():
    layer = layers.SeparableConv2D(5, 3, padding="same", depth_multiplier=2)
    x = rand(2, 6, 6, 3)
    y = layer(x).numpy()
    dk, pk, b = layer.get_weights()
    assert (dk.shape, pk.shape, b.shape) == ((3, 3, 3, 2), (1, 1, 6, 5), (5,))
    ref = np_depthwise(x, dk, padding="same") @ pk[0, 0] + b
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4)


def np_conv_transpose(x, k, s):
    """Scatter form: every input pixel adds its kernel-weighted patch; k is (kh, kw, F, C)."""
    n, h, w, c = x.shape
    kh, kw, f, _ = k.shape
    out = np.zeros((n, (h - 1) * s + kh, (w - 1) * s + kw, f))
    for i in range(h):
        for j in range(w):
            out[:, i * s : i * s + kh, j * s : j * s + kw, :] += np.einsum("nc,abfc->nabf", x[:, i, j, :], k)
    return out


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv2d_transpose_matches_scatter(padding):
    layer = layers.Conv2DTranspose(2, 3, strides=2, padding=padding)
    x = rand(2, 4, 5, 3)
    y = layer(x).numpy()
    k, b = layer.get_weights()
    assert k.shape == (3, 3, 2, 3)
    full = np_conv_transpose(x, k, 2) + b
    if padding == "valid":
        assert y.shape == (2, 9, 11, 2)
        np.testing.assert_allclose(y, full, rtol=1e-4, atol=1e-4)
    else:
        assert y.shape == (2, 8, 10, 2)  # in * stride; TF pads (k - s) // 2 = 0 at the top/left
        np.testing.assert_allclose(y, full[:, :8, :10], rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------------- pooling
def test_max_and_average_pooling_2x2():
    x = rand(2, 6, 4, 3)
    blocks = x.reshape(2, 3, 2, 2, 2, 3)
    np.testing.assert_allclose(layers.MaxPooling2D()(x).numpy(), blocks.max(axis=(2, 4)), rtol=1e-6)
    np.testing.assert_allclose(layers.AveragePooling2D()(x).numpy(), blocks.mean(axis=(2, 4)), rtol=1e-5)


def test_average_pooling_same_counts_only_inside_values():
    x = rand(1, 4, 4, 2)
    y = layers.AveragePooling2D(3, strides=1, padding="same")(x).numpy()
    ref = np.zeros_like(x)
    for i in range(4):
        for j in range(4):
            ref[0, i, j] = x[0, max(i - 1, 0) : i + 2, max(j - 1, 0) : j + 2].mean(axis=(0, 1))
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)


def test_max_pooling_strides_and_global_pools():
    x = rand(2, 5, 5, 3)
    y = layers.MaxPooling2D(pool_size=3, strides=2)(x).numpy()
    ref = np.stack(
        [
            np.stack([x[:, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3].max(axis=(1, 2)) for j in range(2)], 1)
            for i in range(2)
        ],
        1,
    )
    np.testing.assert_allclose(y, ref)
    np.testing.assert_allclose(layers.GlobalAveragePooling2D()(x).numpy(), x.mean(axis=(1, 2)), rtol=1e-5)
    np.testing.assert_allclose(layers.GlobalMaxPooling2D()(x).numpy(), x.max(axis=(1, 2)))
    assert layers.GlobalAveragePooling2D(keepdims=True)(x).shape == (2, 1, 1, 3)


# ---------------------------------------------------------------- normalization
def test_batch_normalization_training_inference_and_moving_averages():
    layer = layers.BatchNormalization(gamma_initializer=initializers.Constant(2.0), beta_initializer="ones")
    x = rand(8, 3, 4) * 3 + 1
    y = layer(x, training=True).numpy()
    mean, var = x.mean(axis=(0, 1)), x.var(axis=(0, 1))
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3) * 2 + 1, rtol=1e-4, atol=1e-4)
    gamma, beta, mm, mv = layer.get_weights()
    np.testing.assert_allclose(mm, 0.01 * mean, rtol=1e-5, atol=1e-6)  # momentum 0.99 from zeros
    np.testing.assert_allclose(mv, 0.99 + 0.01 * var, rtol=1e-5)
    # Inference uses the moving statistics and leaves them alone.
    y_inf = layer(x, training=False).numpy()
    np.testing.assert_allclose(y_inf, (x - mm) / np.sqrt(mv + 1e-3) * 2 + 1, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.moving_mean.numpy(), mm)
    assert [w.name for w in layer.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.path for w in layer.weights] == [f"{layer.name}/{w.name}" for w in layer.weights]
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 2


def test_frozen_batch_normalization_runs_in_inference_mode_even_when_training():
    layer = layers.BatchNormalization()
    x = rand(6, 4) + 5
    layer(x, training=True)
    mm = layer.moving_mean.numpy().copy()
    layer.trainable = False
    y = layer(x, training=True).numpy()
    np.testing.assert_allclose(layer.moving_mean.numpy(), mm)  # no update
    mv = layer.moving_variance.numpy()
    np.testing.assert_allclose(y, (x - mm) / np.sqrt(mv + 1e-3), rtol=1e-4, atol=1e-4)
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 4


def test_batch_normalization_channels_first_axis():
    layer = layers.BatchNormalization(axis=1)
    x = rand(4, 3, 2, 2)
    y = layer(x, training=True).numpy()
    mean, var = x.mean(axis=(0, 2, 3), keepdims=True), x.var(axis=(0, 2, 3), keepdims=True)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-4)
    assert layer.gamma.shape == (3,)


def test_layer_normalization_matches_numpy():
    layer = layers.LayerNormalization(gamma_initializer=initializers.RandomNormal(1.0, 0.2, seed=3))
    x = rand(3, 4, 5)
    y = layer(x).numpy()
    gamma, beta = layer.get_weights()
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3) * gamma + beta, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------- dropout
def test_dropout_inference_is_identity_and_training_drops_about_rate():
    layer = layers.Dropout(0.3, seed=5)
    x = np.ones((100, 100), np.float32)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    y1 = layer(x, training=True).numpy()
    y2 = layer(x, training=True).numpy()
    assert set(np.unique(y1)) <= {0.0, np.float32(1 / 0.7)}
    assert abs((y1 == 0).mean() - 0.3) < 0.03
    assert (y1 != y2).any()  # a new mask each call
    again = layers.Dropout(0.3, seed=5)
    np.testing.assert_array_equal(again(x, training=True).numpy(), y1)  # same seed, same masks
    assert layer.weights == [] and layer.count_params() == 0


def test_dropout_noise_shape_drops_whole_columns():
    layer = layers.Dropout(0.5, noise_shape=(1, None), seed=1)
    y = layer(np.ones((20, 50), np.float32), training=True).numpy()
    assert (y == y[0]).all()


# ----------------------------------------------------------------- embedding
def test_embedding_gathers_rows_and_default_uniform_init():
    layer = layers.Embedding(10, 4)
    ids = np.array([[1, 2, 9], [0, 0, 3]])
    y = layer(ids).numpy()
    (table,) = layer.get_weights()
    np.testing.assert_allclose(y, table[ids])
    assert np.abs(table).max() <= 0.05


# -------------------------------------------------- reshaping, merging, simple
def test_reshaping_layers():
    x = rand(2, 3, 4)
    assert layers.Flatten()(x).shape == (2, 12)
    np.testing.assert_allclose(layers.Reshape((4, -1))(x).numpy(), x.reshape(2, 4, 3))
    img = rand(2, 3, 3, 1)
    y = layers.ZeroPadding2D(((1, 2), (0, 1)))(img).numpy()
    np.testing.assert_allclose(y, np.pad(img, [(0, 0), (1, 2), (0, 1), (0, 0)]))
    assert layers.ZeroPadding2D(2)(img).shape == (2, 7, 7, 1)


def test_merge_and_elementwise_layers():
    a, b, c = rand(2, 3), rand(2, 3), rand(2, 5)
    np.testing.assert_allclose(layers.Add()([a, b, a]).numpy(), a + b + a, rtol=1e-6)
    np.testing.assert_allclose(layers.Concatenate()([a, c]).numpy(), np.concatenate([a, c], -1))
    np.testing.assert_allclose(layers.Concatenate(axis=0)([a, b]).numpy(), np.concatenate([a, b], 0))
    np.testing.assert_allclose(layers.Rescaling(1 / 255.0, offset=-1)(a).numpy(), a / 255 - 1, rtol=1e-6)
    np.testing.assert_allclose(layers.ReLU(max_value=0.5)(a).numpy(), np.clip(a, 0, 0.5))
    np.testing.assert_allclose(
        layers.ReLU(negative_slope=0.1)(a).numpy(), np.where(a > 0, a, 0.1 * a), rtol=1e-6
    )
    np.testing.assert_allclose(layers.Activation("sigmoid")(a).numpy(), 1 / (1 + np.exp(-a)), rtol=1e-5)


# ---------------------------------------------------------------- activations
def _erf(v):
    return np.vectorize(math.erf)(v)


ACTIVATIONS = [
    ("relu", lambda x: np.maximum(x, 0)),
    ("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
    ("tanh", np.tanh),
    ("softmax", lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
    ("gelu", lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2)))),
    ("elu", lambda x: np.where(x > 0, x, np.exp(x) - 1)),
    ("selu", lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * (np.exp(x) - 1))),
    ("softplus", lambda x: np.log1p(np.exp(x))),
    ("swish", lambda x: x / (1 + np.exp(-x))),
    ("silu", lambda x: x / (1 + np.exp(-x))),
    ("linear", lambda x: x),
    ("leaky_relu", lambda x: np.where(x > 0, x, 0.2 * x)),
]


@pytest.mark.parametrize("name,fn", ACTIVATIONS)
def test_activation_by_name(name, fn):
    x = rand(3, 4)
    np.testing.assert_allclose(np.asarray(activations.get(name)(gt.constant(x))), fn(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        layers.Dense(2, activation=name).activation(gt.constant(x)), fn(x), rtol=1e-5, atol=1e-6
    )


def test_unknown_activation_names_the_choices():
    with pytest.raises(ValueError, match="Unknown activation function 'relux'.*relu"):
        activations.get("relux")


# --------------------------------------------------------------- initializers
@pytest.mark.parametrize(
    "name,check",
    [
        ("zeros", lambda w, fi, fo: np.all(w == 0)),
        ("ones", lambda w, fi, fo: np.all(w == 1)),
        (
            "glorot_uniform",
            lambda w, fi, fo: (
                np.abs(w).max() <= math.sqrt(6 / (fi + fo))
                and abs(w.std() - math.sqrt(2 / (fi + fo))) < 0.1 * math.sqrt(2 / (fi + fo))
            ),
        ),
        ("he_uniform", lambda w, fi, fo: np.abs(w).max() <= math.sqrt(6 / fi)),
        (
            "glorot_normal",
            lambda w, fi, fo: abs(w.std() - math.sqrt(2 / (fi + fo))) < 0.1 * math.sqrt(2 / (fi + fo)),
        ),
        (
            "he_normal",
            lambda w, fi, fo: (
                abs(w.std() - math.sqrt(2 / fi)) < 0.1 * math.sqrt(2 / fi)
                and np.abs(w).max() <= 2 * math.sqrt(2 / fi) / 0.8796 + 1e-6
            ),
        ),
        ("lecun_normal", lambda w, fi, fo: abs(w.std() - math.sqrt(1 / fi)) < 0.1 * math.sqrt(1 / fi)),
        ("random_normal", lambda w, fi, fo: abs(w.std() - 0.05) < 0.005),
        ("random_uniform", lambda w, fi, fo: np.abs(w).max() <= 0.05),
        ("truncated_normal", lambda w, fi, fo: np.abs(w).max() <= 0.1 + 1e-6),
    ],
)
def test_initializers_statistics(name, check):  # noqa: E501
    fi, fo = 200, 300
    w = initializers.get(name)((fi, fo)).numpy()
    assert w.shape == (fi, fo) and w.dtype == np.float32
    assert check(w, fi, fo)


def test_conv_fans_include_the_receptive_field_and_seeds_repeat():
    w = initializers.HeUniform()((3, 3, 16, 8)).numpy()
    assert np.abs(w).max() <= math.sqrt(6 / (9 * 16))
    a = initializers.GlorotUniform(seed=4)((5, 5)).numpy()
    np.testing.assert_array_equal(a, initializers.GlorotUniform(seed=4)((5, 5)).numpy())
    q = initializers.Orthogonal(seed=1)((6, 4)).numpy()
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)
    np.testing.assert_allclose(initializers.Constant(0.7)((2, 2)).numpy(), np.full((2, 2), 0.7, np.float32))
    with pytest.raises(ValueError, match="Unknown initializer 'he_nomral'"):
        initializers.get("he_nomral")


# ---------------------------------------------------------------- regularizers
def test_regularization_losses_follow_the_weights():
    layer = layers.Dense(
        3, kernel_regularizer="l2", bias_regularizer=regularizers.l1(0.5), bias_initializer="ones"
    )
    layer(rand(2, 4))
    w, b = layer.get_weights()
    losses = [float(v) for v in layer.losses]
    np.testing.assert_allclose(losses, [0.01 * (w**2).sum(), 0.5 * np.abs(b).sum()], rtol=1e-5)
    reg = regularizers.l1_l2(l1=0.1, l2=0.2)
    np.testing.assert_allclose(
        float(reg(gt.constant(w))), 0.1 * np.abs(w).sum() + 0.2 * (w**2).sum(), rtol=1e-5
    )
    with gt.GradientTape() as tape:
        total = gt.add_n(layer.losses)
    g = tape.gradient(total, layer.kernel)
    np.testing.assert_allclose(g.numpy(), 0.02 * w, rtol=1e-5)
    layer.trainable = False
    assert layer.losses == []  # Keras 3 regularizes trainable weights only


def test_activity_regularizer_adds_a_per_call_loss():
    layer = layers.Dense(2, activity_regularizer=regularizers.L2(0.1), kernel_initializer="ones")
    x = np.ones((4, 3), np.float32)
    y = layer(x).numpy()
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), 0.1 * (y**2).sum() / 4, rtol=1e-5)
    layer(x)
    assert len(layer.losses) == 1  # cleared at each outermost call


# ------------------------------------------------------------------ bad input
def test_built_dense_rejects_other_feature_size():
    layer = layers.Dense(3, name="probe")
    layer(rand(2, 4))
    with pytest.raises(ValueError, match=r'layer "probe".*axis -1.*value 4.*\(2, 5\)'):
        layer(rand(2, 5))
    with pytest.raises(ValueError, match=r'"probe".*min_ndim=2'):
        layer(rand(4))


def test_conv_rejects_wrong_rank_and_channels():
    layer = layers.Conv2D(2, 3, name="c")
    with pytest.raises(ValueError, match=r"layer 'c' expects a rank-4 input.*\(5, 5, 3\)"):
        layer(rand(5, 5, 3))
    layer(rand(1, 5, 5, 3))
    with pytest.raises(ValueError, match=r'layer "c".*axis -1.*value 3.*\(1, 5, 5, 4\)'):
        layer(rand(1, 5, 5, 4))


def test_merge_layers_reject_mismatched_shapes():
    with pytest.raises(ValueError, match=r"Concatenate.*\(2, 3\).*\(4, 5\)"):
        layers.Concatenate()([rand(2, 3), rand(4, 5)])
    with pytest.raises(ValueError, match=r"Add layer.*same shape"):
        layers.Add()([rand(2, 3), rand(2, 4)])
    with pytest.raises(ValueError, match="list of inputs"):
        layers.Add()(rand(2, 3))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="units must be a positive integer"):
        layers.Dense(0)
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        layers.Conv2D(2, 3, padding="full")
    with pytest.raises(ValueError, match=r"rate must be a float in the range \[0, 1\)"):
        layers.Dropout(1.0)
    with pytest.raises(TypeError, match="unrecognized keyword argument 'unit'"):
        layers.Dense(3, unit=4)
    with pytest.raises(ValueError, match="Reshape layer.*cannot reshape"):
        layers.Reshape((5, -1))(rand(2, 3, 4))


@pytest.mark.parametrize(
    "make",
    [
        lambda fmt: layers.Conv2D(4, 3, strides=2, padding="same", data_format=fmt, bias_initializer="ones"),
        lambda fmt: layers.DepthwiseConv2D(3, data_format=fmt, bias_initializer="ones"),
        lambda fmt: layers.SeparableConv2D(2, 3, data_format=fmt, bias_initializer="ones"),
        lambda fmt: layers.Conv2DTranspose(2, 3, strides=2, data_format=fmt, bias_initializer="ones"),
        lambda fmt: layers.MaxPooling2D(data_format=fmt),
        lambda fmt: layers.AveragePooling2D(data_format=fmt),
        lambda fmt: layers.GlobalAveragePooling2D(data_format=fmt, keepdims=True),
        lambda fmt: layers.ZeroPadding2D((1, 2), data_format=fmt),
    ],
)
def test_channels_first_matches_channels_last_on_transposed_input(make):
    last, first = make("channels_last"), make("channels_first")
    x = rand(2, 6, 6, 3)
    y_last = last(x).numpy()
    to_first = np.transpose(x, (0, 3, 1, 2))
    first(to_first)
    first.set_weights(last.get_weights())
    y_first = first(to_first).numpy()
    np.testing.assert_allclose(np.transpose(y_first, (0, 2, 3, 1)), y_last, rtol=1e-4, atol=1e-5)


def test_add_weight_takes_keras3_shape_first_order_and_custom_layers_build_lazily():
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight((input_shape[-1],), "ones", name="w")
            self.c = self.add_weight(name="c", shape=(), initializer="zeros", trainable=False)

        def call(self, x):
            return x * self.w + self.c

    layer = Scale()
    x = rand(2, 3)
    np.testing.assert_allclose(layer(x).numpy(), x)
    assert [(w.name, w.path) for w in layer.weights] == [("w", f"{layer.name}/w"), ("c", f"{layer.name}/c")]
    assert layer.w.shape == (3,) and [w.path for w in layer.trainable_weights] == [f"{layer.name}/w"]


def test_float_math_layers_take_integer_inputs_as_keras_does():
    # Keras's ops promote int inputs of Dense/convolutions/normalizations to the layer's float dtype.
    x = np.array([[1, 2, 3]], dtype=np.int32)
    dense = gt.keras.layers.Dense(2, kernel_initializer="ones")
    out = dense(gt.constant(x))
    assert out.dtype == gt.float32
    np.testing.assert_allclose(out.numpy(), [[6.0, 6.0]])
    conv = gt.keras.layers.Conv2D(1, 2, kernel_initializer="ones", use_bias=False)
    image = np.arange(9, dtype=np.int64).reshape(1, 3, 3, 1)
    np.testing.assert_allclose(conv(image).numpy()[0, :, :, 0], [[8.0, 12.0], [20.0, 24.0]])
    model = gt.keras.Sequential([gt.keras.Input((3,), dtype="int32"), gt.keras.layers.LayerNormalization()])
    assert model(x).dtype == gt.float32
    # Layers that only move values keep the integer dtype.
    assert gt.keras.layers.Flatten()(gt.constant(x)).dtype == gt.int32


def test_compute_output_shape_takes_one_shape_or_a_list_of_shapes_as_keras():
    assert gt.keras.layers.Dense(4).compute_output_shape((None, 10)) == (None, 4)
    assert gt.keras.layers.Conv2D(3, 3).compute_output_shape([None, 8, 8, 1]) == (None, 6, 6, 3)
    assert gt.keras.layers.Concatenate().compute_output_shape([(None, 2), (None, 3)]) == (None, 5)
