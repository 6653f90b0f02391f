"""Dtype policies (gputensor/keras/dtype_policies.py) and layers under them: the policy's
dtypes, the global policy, layer attributes, float16 computation with float32 variables
against NumPy float16 references, gradients, the float32 normalizations, configs."""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt
from gputensor.keras import config, dtype_policies, layers, mixed_precision, models

F16 = np.float16


def _f16_ref(a, *arrays):
    """What a float16 op gives ideally: float16-rounded operands, exact math in float64,
    the result rounded to float16."""
    return a(*(np.asarray(x).astype(F16).astype(np.float64) for x in arrays)).astype(F16)


@pytest.mark.parametrize(
    "name, compute, variable",
    [
        ("float32", "float32", "float32"),
        ("float16", "float16", "float16"),
        ("bfloat16", "bfloat16", "bfloat16"),
        ("float64", "float64", "float64"),
        ("mixed_float16", "float16", "float32"),
        ("mixed_bfloat16", "bfloat16", "float32"),
    ],
)
def test_policy_dtypes(name, compute, variable):
    p = mixed_precision.Policy(name)
    assert (p.name, p.compute_dtype, p.variable_dtype) == (name, compute, variable)
    assert p == dtype_policies.DTypePolicy(name)
    assert repr(p) == f'<DTypePolicy "{name}">'
    assert dtype_policies.deserialize(dtype_policies.serialize(p)) == p
    assert dtype_policies.serialize(p) == {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": name},
        "registered_name": None,
    }


def test_bad_policy_names():
    with pytest.raises(ValueError, match="mixed_float16"):
        dtype_policies.DTypePolicy("mixed_float8")
    with pytest.raises(TypeError, match="must be a string"):
        dtype_policies.DTypePolicy(16)
    with pytest.raises(ValueError, match="invalid `policy`"):
        mixed_precision.set_global_policy(3.5)
    with pytest.raises(ValueError, match="quantized"):
        dtype_policies.deserialize({"class_name": "QuantizedDTypePolicy", "config": {"mode": "int8"}})
    with pytest.raises(ValueError, match="quantized"):
        layers.Dense(
            2,
            dtype={
                "class_name": "QuantizedDTypePolicy",
                "config": {"mode": "int8", "source_name": "float32"},
            },
        )


def test_global_policy_names_and_layers_created_after():
    assert mixed_precision.global_policy().name == "float32"
    mixed_precision.set_global_policy("mixed_float16")
    assert config.dtype_policy() == mixed_precision.DTypePolicy("mixed_float16")
    assert dtype_policies.DTypePolicy().name == "mixed_float16"  # no name: the global one
    d = layers.Dense(3)
    assert d.dtype_policy.name == "mixed_float16"
    assert (d.compute_dtype, d.variable_dtype, d.dtype) == ("float16", "float32", gt.float32)
    assert layers.Dense(3, dtype="float32").compute_dtype == "float32"  # an explicit dtype wins
    config.set_dtype_policy(dtype_policies.DTypePolicy("float32"))
    assert layers.Dense(3).dtype_policy.name == "float32"
    assert d.dtype_policy.name == "mixed_float16"  # a layer keeps the policy it was made with


@pytest.mark.parametrize(
    "dtype",
    [
        "mixed_float16",
        mixed_precision.Policy("mixed_float16"),
        {"class_name": "DTypePolicy", "config": {"name": "mixed_float16"}},
    ],
)
def test_layer_dtype_argument_forms(dtype):
    d = layers.Dense(2, dtype=dtype)
    assert d.dtype_policy == mixed_precision.Policy("mixed_float16")
    assert layers.Dense(2, dtype=gt.float16).dtype_policy.name == "float16"
    assert layers.Dense(2, dtype=np.float64).compute_dtype == "float64"


def test_dense_mixed_float16_against_numpy():
    mixed_precision.set_global_policy("mixed_float16")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6)).astype(np.float32)
    d = layers.Dense(5, activation="relu", bias_initializer="random_normal")
    y = d(x)
    assert d.kernel.dtype == gt.float32 and d.bias.dtype == gt.float32  # variables in float32
    assert y.dtype == gt.float16  # computed and returned in float16
    k, b = d.kernel.numpy(), d.bias.numpy()
    ref = np.maximum(_f16_ref(lambda x, k: x @ k, x, k).astype(np.float64) + b.astype(F16), 0).astype(F16)
    np.testing.assert_allclose(y.numpy().astype(np.float32), ref.astype(np.float32), rtol=2e-3, atol=2e-3)
    # The float32 result differs by more than float16 rounding allows to be a coincidence.
    exact = np.maximum(x @ k + b, 0)
    assert np.abs(y.numpy().astype(np.float64) - exact).max() > 1e-5


def test_conv2d_mixed_float16_against_numpy():
    mixed_precision.set_global_policy("mixed_float16")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 5, 5, 3)).astype(np.float32)
    c = layers.Conv2D(4, 3, bias_initializer="random_normal")
    y = c(x)
    assert y.dtype == gt.float16 and c.kernel.dtype == gt.float32
    k = c.kernel.numpy().astype(F16).astype(np.float64)
    x16 = x.astype(F16).astype(np.float64)
    ref = np.zeros((2, 3, 3, 4))
    for i in range(3):
        for j in range(3):
            ref[:, i, j, :] = np.einsum("nhwc,hwcf->nf", x16[:, i : i + 3, j : j + 3, :], k)
    ref = ref.astype(F16).astype(np.float64) + c.bias.numpy().astype(F16)
    np.testing.assert_allclose(y.numpy().astype(np.float64), ref, rtol=3e-3, atol=3e-3)


def test_gradients_reach_float32_variables_through_the_cast():
    mixed_precision.set_global_policy("mixed_float16")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 4)).astype(np.float32)
    d = layers.Dense(3)
    d(x)
    with gt.GradientTape() as tape:
        loss = gt.reduce_sum(gt.cast(d(x), gt.float32) ** 2)
    gk, gb = tape.gradient(loss, [d.kernel, d.bias])
    assert gk.dtype == gt.float32 and gb.dtype == gt.float32
    y = _f16_ref(lambda x, k: x @ k, x, d.kernel.numpy()).astype(np.float64)
    np.testing.assert_allclose(gk.numpy(), x.astype(F16).astype(np.float64).T @ (2 * y), rtol=1e-2, atol=1e-2)
    np.testing.assert_allclose(gb.numpy(), (2 * y).sum(0), rtol=1e-2, atol=1e-2)


def test_a_user_layer_reads_its_variables_in_the_compute_dtype():
    """Keras 3 autocasts float variables inside call: tf.matmul(inputs, self.w) works with
    float16 inputs and a float32 weight."""

    class Linear(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 2), initializer="ones")
            self.frozen = self.add_weight(shape=(2,), initializer="ones", autocast=False)

        def call(self, inputs):
            assert self.frozen.value().dtype == gt.float32  # autocast=False opts out
            return gt.matmul(inputs, self.w)

    layer = Linear(dtype="mixed_float16")
    out = layer(np.ones((1, 3), np.float32))
    assert out.dtype == gt.float16 and layer.w.dtype == gt.float32
    np.testing.assert_array_equal(out.numpy(), [[3.0, 3.0]])
    assert layer.w.value().dtype == gt.float32  # outside call: the variable's own dtype


def test_normalizations_compute_in_float32_and_return_the_compute_dtype():
    mixed_precision.set_global_policy("mixed_float16")
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((6, 4)) * 3 + 100).astype(np.float32)
    bn = layers.BatchNormalization()
    y = bn(x, training=True)
    assert y.dtype == gt.float16 and bn.moving_mean.dtype == gt.float32
    x16 = x.astype(F16).astype(np.float64)  # the input arrives in the compute dtype
    ref = (x16 - x16.mean(0)) / np.sqrt(x16.var(0) + 1e-3)
    np.testing.assert_allclose(y.numpy(), ref, rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.01 * x16.mean(0), rtol=1e-5)
    ln = layers.LayerNormalization()
    z = ln(x)
    assert z.dtype == gt.float16
    # Keras 3's LayerNormalization does not autocast: the float32 input is used as given.
    x64 = x.astype(np.float64)
    ref = (x64 - x64.mean(-1, keepdims=True)) / np.sqrt(x64.var(-1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(z.numpy(), ref, rtol=2e-3, atol=2e-3)


def test_model_inputs_stay_float32_and_a_float32_output_layer():
    mixed_precision.set_global_policy("mixed_float16")
    inp = models.Input((4,))
    assert inp.dtype == "float32"
    h = layers.Dense(3)(inp)
    assert h.dtype == "float16"
    out = layers.Activation("softmax", dtype="float32")(h)
    assert out.dtype == "float32"
    model = models.Model(inp, out)
    x = np.random.default_rng(4).standard_normal((2, 4)).astype(np.float32)
    y = model(x)
    assert y.dtype == gt.float32
    np.testing.assert_allclose(y.numpy().sum(-1), 1.0, rtol=1e-6)
    seq = models.Sequential([models.Input((4,)), layers.Dense(3)])
    assert seq(x).dtype == gt.float16
    assert seq.layers[0].kernel.dtype == gt.float32


def test_traced_call_matches_eager():
    mixed_precision.set_global_policy("mixed_float16")
    model = models.Sequential(
        [models.Input((5,)), layers.Dense(6, activation="relu"), layers.BatchNormalization(), layers.Dense(2)]
    )
    x = gt.constant(np.random.default_rng(5).standard_normal((3, 5)).astype(np.float32))
    eager = model(x, training=False).numpy()
    traced = gt.function(lambda t: model(t, training=False))(x).numpy()
    assert traced.dtype == np.float16
    np.testing.assert_array_equal(traced, eager)


def test_loss_on_float16_predictions_computes_in_float32():
    from gputensor.keras import losses

    y_pred = gt.constant(np.array([[0.2, 0.8], [0.6, 0.4]], np.float16))
    loss = losses.SparseCategoricalCrossentropy()(np.array([1, 0]), y_pred)
    assert loss.dtype == gt.float32
    p = np.array([[0.2, 0.8], [0.6, 0.4]], np.float16).astype(np.float64)
    p = p / p.sum(-1, keepdims=True)  # Keras normalizes probabilities that do not sum to 1
    np.testing.assert_allclose(loss.numpy(), -(np.log(p[0, 1]) + np.log(p[1, 0])) / 2, rtol=1e-6)


def test_configs_write_and_read_keras_policy_dicts():
    mixed_precision.set_global_policy("mixed_float16")
    model = models.Sequential(
        [models.Input((3,)), layers.Dense(2), layers.Activation("linear", dtype="float32")]
    )
    cfg = model.get_config()
    policy_dict = {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": "mixed_float16"},
        "registered_name": None,
    }
    assert cfg["dtype"] == policy_dict
    assert cfg["layers"][1]["config"]["dtype"] == policy_dict
    assert cfg["layers"][2]["config"]["dtype"] == "float32"
    mixed_precision.set_global_policy("float32")
    rebuilt = models.Sequential.from_config(cfg)
    assert [layer.dtype_policy.name for layer in rebuilt.layers] == ["mixed_float16", "float32"]
    assert rebuilt.layers[0].kernel.dtype == gt.float32


@pytest.mark.parametrize(
    "name", ["gputensor.keras.dtype_policies", "gputensor.keras.optimizers.loss_scale_optimizer"]
)
def test_docstring_examples(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), extraglobs={"gt": gt})
    assert result.failed == 0 and result.attempted > 0


def test_dropout_masks_in_float16():
    """Dropout's hashed uniforms are scaled in float32 (a 32-bit hash overflows float16)."""
    mixed_precision.set_global_policy("mixed_float16")
    x = np.ones((400, 60), np.float32)
    y = layers.Dropout(0.3)(x, training=True).numpy()
    assert y.dtype == np.float16
    assert set(np.unique(y).tolist()) == {0.0, float(F16(1 / 0.7))}
    assert abs((y == 0).mean() - 0.3) < 0.02


def test_recurrent_and_convolutional_layers_run_in_float16():
    mixed_precision.set_global_policy("mixed_float16")
    rng = np.random.default_rng(6)
    seq = rng.standard_normal((2, 5, 4)).astype(np.float32)
    img = rng.standard_normal((2, 6, 6, 3)).astype(np.float32)
    for layer, x in [
        (layers.LSTM(3), seq),
        (layers.GRU(3), seq),
        (layers.Conv1D(3, 2), seq),
        (layers.DepthwiseConv2D(3), img),
        (layers.SeparableConv2D(4, 3), img),
        (layers.Conv2DTranspose(4, 3), img),
        (layers.Embedding(10, 4), rng.integers(0, 10, (2, 5))),
    ]:
        out = layer(x)
        assert out.dtype == gt.float16, type(layer).__name__
        assert all(w.dtype == gt.float32 for w in layer.weights)
        # The same layer in float32 with the same weights agrees to float16 accuracy.
        ref = type(layer).from_config({**layer.get_config(), "dtype": "float32"})
        ref(x)
        ref.set_weights(layer.get_weights())
        np.testing.assert_allclose(
            out.numpy(), ref(x).numpy(), rtol=1e-2, atol=1e-2, err_msg=type(layer).__name__
        )


def test_dense_mixed_bfloat16():
    import ml_dtypes

    mixed_precision.set_global_policy("mixed_bfloat16")
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 6)).astype(np.float32)
    d = layers.Dense(3)
    y = d(x)
    assert y.dtype == gt.bfloat16 and d.kernel.dtype == gt.float32
    bf16 = ml_dtypes.bfloat16
    ref = (x.astype(bf16).astype(np.float64) @ d.kernel.numpy().astype(bf16).astype(np.float64)).astype(bf16)
    # bfloat16 keeps 8 bits of mantissa: one rounding is within 2**-8 relative.
    np.testing.assert_allclose(y.numpy().astype(np.float64), ref.astype(np.float64), rtol=2**-7, atol=2**-7)
