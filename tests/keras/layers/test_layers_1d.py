"""The gt.keras 1-D layers (gputensor/keras/layers/convolutional1d.py): each against a NumPy
formula computed with the layer's own weights, gradients through fit, configs, shapes and
errors, and a model whose weight file and outputs come from real Keras 3
(scripts/make_keras_1d_fixtures.py)."""

from __future__ import annotations

import doctest
import math
import pathlib

import numpy as np
import pytest

import gputensor as gt
from gputensor.keras import layers, models
from gputensor.keras.layers import convolutional1d
from gputensor.keras.layers.base import reset_uids

FIXTURES = pathlib.Path(__file__).parent.parent / "fixtures"
RNG = np.random.default_rng(1)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def np_conv1d(x, k, stride=1, padding="valid", dilation=1, groups=1):
    """Direct loops: x (N,L,C), k (K,C/groups,F). "same" puts the extra zero on the right
    (TF's rule), "causal" puts dilation*(K-1) zeros on the left."""
    n, steps, c = x.shape
    kk, cg, f = k.shape
    span = (kk - 1) * dilation + 1
    if padding == "same":
        out_len = math.ceil(steps / stride)
        total = max((out_len - 1) * stride + span - steps, 0)
        x = np.pad(x, [(0, 0), (total // 2, total - total // 2), (0, 0)])
    elif padding == "causal":
        x = np.pad(x, [(0, 0), (span - 1, 0), (0, 0)])
        out_len = math.ceil(steps / stride)
    else:
        out_len = (steps - span) // stride + 1
    fg = f // groups
    out = np.zeros((n, out_len, f), np.float64)
    for t in range(out_len):
        for a in range(kk):
            xt = x[:, t * stride + a * dilation, :]
            for g in range(groups):
                out[:, t, g * fg : (g + 1) * fg] += (
                    xt[:, g * cg : (g + 1) * cg] @ k[a, :, g * fg : (g + 1) * fg]
                )
    return out


def np_pool1d(x, size, stride, padding, reduce):
    """Windows over in-bounds steps only (TF's "same" pooling: padding never counts)."""
    steps = x.shape[1]
    if padding == "same":
        out_len = math.ceil(steps / stride)
        before = max((out_len - 1) * stride + size - steps, 0) // 2
    else:
        out_len, before = (steps - size) // stride + 1, 0
    outs = []
    for t in range(out_len):
        lo = t * stride - before
        outs.append(reduce(x[:, max(lo, 0) : min(lo + size, steps), :], axis=1))
    return np.stack(outs, axis=1)


# --------------------------------------------------------------------- Conv1D
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"strides": 2},
        {"padding": "same"},
        {"padding": "same", "strides": 3},
        {"padding": "causal"},
        {"padding": "causal", "dilation_rate": 2},
        {"padding": "causal", "strides": 2},
        {"dilation_rate": 3},
        {"padding": "same", "dilation_rate": 2},
        {"groups": 2, "padding": "same"},
    ],
)
def test_conv1d_matches_loops(kwargs):
    layer = layers.Conv1D(4, 3, bias_initializer="random_normal", **kwargs)
    x = rand(2, 11, 6)
    y = layer(x).numpy()
    k, b = layer.kernel.numpy(), layer.bias.numpy()
    assert k.shape == (3, 6 // kwargs.get("groups", 1), 4)
    ref = np_conv1d(
        x, k, kwargs.get("strides", 1), kwargs.get("padding", "valid"),
        kwargs.get("dilation_rate", 1), kwargs.get("groups", 1),
    ) + b  # fmt: skip
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)
    assert layer.compute_output_shape((None, 11, 6)) == (None, *y.shape[1:])


def test_causal_output_depends_only_on_the_past():
    layer = layers.Conv1D(3, 4, padding="causal", dilation_rate=2)
    x = rand(1, 12, 2)
    changed = x.copy()
    changed[:, 7:, :] += 5.0  # the future of step 6
    a, b = layer(x).numpy(), layer(changed).numpy()
    np.testing.assert_array_equal(a[:, :7], b[:, :7])
    assert np.abs(a[:, 7:] - b[:, 7:]).min() > 0


def test_conv1d_activation_no_bias_and_glorot_fans():
    layer = layers.Conv1D(16, 5, activation="relu", use_bias=False)
    x = rand(3, 9, 8)
    y = layer(x).numpy()
    assert layer.bias is None and len(layer.weights) == 1
    np.testing.assert_allclose(y, np.maximum(np_conv1d(x, layer.kernel.numpy()), 0), rtol=1e-5, atol=1e-5)
    # glorot_uniform with the receptive field in both fans: limit sqrt(6 / (5*8 + 5*16)).
    limit = math.sqrt(6 / (5 * 8 + 5 * 16))
    k = layer.kernel.numpy()
    assert np.abs(k).max() <= limit and np.abs(k).max() > 0.8 * limit


@pytest.mark.parametrize(
    "make",
    [
        lambda fmt: layers.Conv1D(4, 3, strides=2, padding="same", data_format=fmt, bias_initializer="ones"),
        lambda fmt: layers.Conv1D(4, 3, padding="causal", dilation_rate=2, data_format=fmt),
        lambda fmt: layers.Conv1D(6, 2, groups=3, data_format=fmt),
        lambda fmt: layers.MaxPooling1D(3, strides=2, padding="same", data_format=fmt),
        lambda fmt: layers.AveragePooling1D(2, padding="same", data_format=fmt),
        lambda fmt: layers.GlobalAveragePooling1D(data_format=fmt, keepdims=True),
        lambda fmt: layers.GlobalMaxPooling1D(data_format=fmt),
    ],
)
def test_channels_first_matches_channels_last_on_transposed_input(make):
    last, first = make("channels_last"), make("channels_first")
    x = rand(2, 7, 3)
    y_last = last(x)
    first.build((2, 3, 7))
    first.set_weights(last.get_weights())
    y_first = first(np.transpose(x, (0, 2, 1))).numpy()
    if y_first.ndim == 3:
        y_first = np.transpose(y_first, (0, 2, 1))
    np.testing.assert_allclose(y_first, y_last.numpy(), rtol=1e-5, atol=1e-5)
    got = first(np.transpose(x, (0, 2, 1)))
    assert first.compute_output_shape((None, 3, 7)) == (None, *got.shape.as_list()[1:])


# -------------------------------------------------------------------- pooling
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("size,stride", [(2, None), (3, 1), (3, 2), (2, 3)])
@pytest.mark.parametrize("cls,reduce", [(layers.MaxPooling1D, np.max), (layers.AveragePooling1D, np.mean)])
def test_pooling_1d_matches_windows(cls, reduce, size, stride, padding):
    x = rand(2, 10, 3)
    layer = cls(size, strides=stride, padding=padding)
    y = layer(x).numpy()
    np.testing.assert_allclose(y, np_pool1d(x, size, stride or size, padding, reduce), rtol=1e-6, atol=1e-6)
    assert layer.compute_output_shape((None, 10, 3)) == (None, *y.shape[1:])


def test_global_pools_and_upsampling():
    x = rand(3, 5, 4)
    np.testing.assert_allclose(layers.GlobalMaxPooling1D()(x).numpy(), x.max(axis=1))
    np.testing.assert_allclose(layers.GlobalAveragePooling1D()(x).numpy(), x.mean(axis=1), rtol=1e-6)
    kept = layers.GlobalAveragePooling1D(keepdims=True)
    np.testing.assert_allclose(kept(x).numpy(), x.mean(axis=1, keepdims=True), rtol=1e-6)
    assert kept.compute_output_shape((None, 5, 4)) == (None, 1, 4)
    assert layers.GlobalMaxPooling1D().compute_output_shape((None, 5, 4)) == (None, 4)
    up = layers.UpSampling1D(3)
    np.testing.assert_array_equal(up(x).numpy(), np.repeat(x, 3, axis=1))
    assert up.compute_output_shape((None, 5, 4)) == (None, 15, 4)
    assert up.compute_output_shape((None, None, 4)) == (None, None, 4)
    # Unknown steps: a model on variable-length sequences (the dynamic reshape path).
    inp = models.Input((None, 4))
    model = models.Model(inp, layers.UpSampling1D(2)(layers.Conv1D(4, 1, use_bias=False)(inp)))
    k = model.layers[1].kernel.numpy()[0]
    for steps in (3, 6):
        z = rand(2, steps, 4)
        np.testing.assert_allclose(model(z).numpy(), np.repeat(z @ k, 2, axis=1), rtol=1e-5, atol=1e-5)


# -------------------------------------------------------------- training
def test_gradients_through_fit_learn_a_sequence_task():
    # Label: whether the sequence holds a spike (a local pattern anywhere in time), which a
    # Conv1D + GlobalMaxPooling1D model learns and a constant cannot.
    gt.random.set_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 16, 1)).astype(np.float32) * 0.3
    y = rng.integers(0, 2, (128, 1)).astype(np.float32)
    where = rng.integers(2, 14, 128)
    x[np.arange(128)[y[:, 0] == 1], where[y[:, 0] == 1], 0] += 3.0
    model = models.Sequential(
        [
            models.Input((16, 1)),
            layers.Conv1D(8, 3, padding="causal", activation="relu"),
            layers.AveragePooling1D(2, strides=1, padding="same"),
            layers.Conv1D(8, 3, padding="same", dilation_rate=2, activation="relu"),
            layers.MaxPooling1D(2),
            layers.UpSampling1D(2),
            layers.GlobalMaxPooling1D(),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=gt.keras.optimizers.Adam(0.02), loss="binary_crossentropy", metrics=["accuracy"])
    before = [w.numpy().copy() for w in model.trainable_weights]
    history = model.fit(x, y, batch_size=32, epochs=25, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    assert history.history["accuracy"][-1] > 0.9
    assert all(np.abs(a - w.numpy()).max() > 0 for a, w in zip(before, model.trainable_weights))


def test_conv1d_gradient_matches_finite_differences():
    layer = layers.Conv1D(2, 3, strides=2, padding="causal", dilation_rate=1, groups=1)
    x = gt.constant(rand(1, 7, 2).astype(np.float64).astype(np.float32))
    layer(x)
    with gt.GradientTape() as tape:
        loss = gt.reduce_sum(gt.square(layer(x)))
    grad = tape.gradient(loss, layer.kernel).numpy()
    k0 = layer.kernel.numpy().astype(np.float64)
    b = layer.bias.numpy().astype(np.float64)
    xn = x.numpy().astype(np.float64)

    def f(k):
        return np.sum(np.square(np_conv1d(xn, k, 2, "causal") + b))

    num = np.zeros_like(k0)
    eps = 1e-5
    for idx in np.ndindex(*k0.shape):
        kp, km = k0.copy(), k0.copy()
        kp[idx] += eps
        km[idx] -= eps
        num[idx] = (f(kp) - f(km)) / (2 * eps)
    np.testing.assert_allclose(grad, num, rtol=1e-3, atol=1e-3)


# ---------------------------------------------------------- config & errors
def test_names_configs_and_aliases_round_trip():
    reset_uids()
    conv = layers.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu", kernel_regularizer="l2")
    pool = layers.MaxPooling1D(3, strides=1, padding="same")
    assert (conv.name, pool.name) == ("conv1d", "max_pooling1d")
    assert layers.GlobalAveragePooling1D().name == "global_average_pooling1d"
    assert layers.UpSampling1D().name == "up_sampling1d"
    for layer in [
        conv,
        pool,
        layers.AveragePooling1D(3),
        layers.GlobalMaxPooling1D(keepdims=True),
        layers.UpSampling1D(3),
    ]:
        config = layer.get_config()
        again = layers.deserialize(layers.serialize(layer))
        assert type(again) is type(layer)
        assert {k: v for k, v in again.get_config().items() if k != "name"} == {
            k: v for k, v in config.items() if k != "name"
        }
    assert conv.get_config()["padding"] == "causal" and conv.get_config()["filters"] == 4
    assert layers.Conv1D(2, 1).get_config()["strides"] == 1  # Keras 3's defaults
    assert layers.MaxPooling1D().pool_size == (2,) and layers.MaxPooling1D().strides == (2,)
    assert layers.Convolution1D is layers.Conv1D and layers.MaxPool1D is layers.MaxPooling1D
    assert (
        layers.AvgPool1D is layers.AveragePooling1D
        and layers.GlobalAvgPool1D is layers.GlobalAveragePooling1D
    )
    assert layers.GlobalMaxPool1D is layers.GlobalMaxPooling1D


def test_regularizer_losses_and_summary():
    model = models.Sequential(
        [models.Input((10, 3)), layers.Conv1D(4, 3, kernel_regularizer="l2"), layers.GlobalMaxPooling1D()]
    )
    k = model.layers[0].kernel.numpy()
    np.testing.assert_allclose(float(gt.add_n(model.losses)), 0.01 * np.sum(k**2), rtol=1e-5)
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(None, 8, 4)" in text and "(None, 4)" in text and "40" in text


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same' or 'causal'"):
        layers.Conv1D(2, 3, padding="full")
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        layers.MaxPooling1D(padding="causal")
    with pytest.raises(ValueError, match="strides > 1 is not supported together with dilation_rate > 1"):
        layers.Conv1D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="multiple of groups"):
        layers.Conv1D(3, 3, groups=2)
    with pytest.raises(ValueError, match="kernel_size must be an int or a tuple of 1 int"):
        layers.Conv1D(2, (3, 3))
    with pytest.raises(ValueError, match="input channels \\(3\\) must be a multiple of groups \\(2\\)"):
        layers.Conv1D(4, 3, groups=2)(rand(1, 5, 3))
    with pytest.raises(ValueError, match="rank-3 input"):
        layers.Conv1D(2, 3)(rand(1, 5, 5, 3))
    conv = layers.Conv1D(2, 3)
    conv(rand(1, 5, 3))
    with pytest.raises(ValueError, match="conv1d"):
        conv(rand(1, 5, 4))
    with pytest.raises(ValueError):
        layers.GlobalMaxPooling1D()(rand(2, 3))


def test_integer_inputs_are_cast_like_keras():
    conv = layers.Conv1D(2, 2, kernel_initializer="ones")
    y = conv(np.arange(6, dtype=np.int32).reshape(1, 3, 2))
    assert y.dtype == gt.float32
    np.testing.assert_allclose(y.numpy()[0, :, 0], [0 + 1 + 2 + 3, 2 + 3 + 4 + 5])


def test_docstring_examples():
    reset_uids()
    result = doctest.testmod(convolutional1d, extraglobs={"gt": gt}, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


# ------------------------------------------------------------- Keras golden
def seq1d():
    """scripts/make_keras_1d_fixtures.py's architecture, written with gt.keras."""
    inp = models.Input((13, 3))
    x = layers.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu")(inp)
    x = layers.Conv1D(6, 3, strides=2, padding="same", groups=2)(x)
    x = layers.MaxPooling1D(2, padding="same")(x)
    x = layers.UpSampling1D(2)(x)
    x = layers.AveragePooling1D(3, strides=1, padding="same")(x)
    x = layers.Conv1D(5, 2, activation="tanh")(x)
    x = layers.AveragePooling1D(2)(x)
    a = layers.GlobalMaxPooling1D()(x)
    b = layers.GlobalAveragePooling1D()(x)
    return models.Model(inp, layers.Dense(2)(layers.Concatenate()([a, b])))


def test_keras3_weight_file_reproduces_keras_outputs_and_shapes():
    io = np.load(FIXTURES / "seq1d_io.npz")
    model = seq1d()
    model.load_weights(str(FIXTURES / "seq1d.weights.h5"))
    np.testing.assert_allclose(model(gt.constant(io["x"])).numpy(), io["y"], rtol=1e-5, atol=1e-5)
    assert [str(tuple(layer.output.shape)) for layer in model.layers[1:]] == list(io["shapes"])
    # Traced too (fit and predict run the model inside gt.function).
    np.testing.assert_allclose(model.predict(io["x"], verbose=0), io["y"], rtol=1e-5, atol=1e-5)


def test_configs_written_by_keras3_deserialize():
    # Conv1D's config as real Keras 3.15 serializes it (tuples as lists, a DTypePolicy dict).
    config = {
        "module": "keras.layers", "class_name": "Conv1D", "registered_name": None,
        "config": {
            "name": "conv1d", "trainable": True, "filters": 4, "kernel_size": [3], "strides": [1],
            "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None},
            "padding": "causal", "data_format": "channels_last", "dilation_rate": [2], "groups": 1,
            "activation": "relu", "use_bias": True,
            "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
                                   "config": {"seed": None, "input_axes": None, "output_axes": None}, "registered_name": None},
            "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": None},
            "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
            "kernel_constraint": None, "bias_constraint": None,
        },
    }  # fmt: skip
    conv = layers.deserialize(config)
    assert (conv.kernel_size, conv.strides, conv.dilation_rate, conv.padding) == ((3,), (1,), (2,), "causal")
    x = rand(2, 9, 3)
    y = conv(x).numpy()
    np.testing.assert_allclose(
        y, np.maximum(np_conv1d(x, conv.kernel.numpy(), 1, "causal", 2), 0), rtol=1e-5, atol=1e-5
    )
    pool = layers.deserialize(
        {"module": "keras.layers", "class_name": "AveragePooling1D", "registered_name": None,
         "config": {"name": "p", "trainable": True, "dtype": "float32", "pool_size": [3], "strides": [1],
                    "padding": "same", "data_format": "channels_last"}}
    )  # fmt: skip
    np.testing.assert_allclose(pool(x).numpy(), np_pool1d(x, 3, 1, "same", np.mean), rtol=1e-6, atol=1e-6)
    with pytest.raises(TypeError):
        layers.AveragePooling1D()  # Keras 3: pool_size is required
