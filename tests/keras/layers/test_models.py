"""Sequential, functional and subclassed models: building, weights, freezing, summary, training."""

from __future__ import annotations

import re

import numpy as np
import pytest

import gputensor as gt
from gputensor.keras import layers, models
from gputensor.keras.layers.base import reset_uids

RNG = np.random.default_rng(1)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def mlp_sequential():
    return models.Sequential(
        [layers.Dense(8, activation="relu"), layers.BatchNormalization(), layers.Dense(3)]
    )


class SubclassedMLP(models.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = layers.Dense(8, activation="relu")
        self.norm = layers.BatchNormalization()
        self.out = layers.Dense(3)

    def call(self, x, training=None):
        return self.out(self.norm(self.hidden(x), training=training))


def functional_mlp():
    inp = models.Input((4,))
    h = layers.Dense(8, activation="relu")(inp)
    h = layers.BatchNormalization()(h)
    return models.Model(inp, layers.Dense(3)(h))


def test_names_are_keras_like_and_unique():
    reset_uids()
    a, b, c = layers.Dense(2), layers.Dense(2), layers.Conv2DTranspose(2, 3)
    assert (a.name, b.name, c.name) == ("dense", "dense_1", "conv2d_transpose")
    assert layers.MaxPooling2D().name == "max_pooling2d"
    assert models.Sequential().name == "sequential"
    assert models.Input((3,)).name == "input_layer"


def test_lazy_build_from_first_call_and_weight_order():
    model = mlp_sequential()
    assert not model.built and model.weights == []
    with pytest.raises(ValueError, match="isn't built"):
        model.count_params()
    model(rand(5, 4))
    shapes = [tuple(w.shape.as_list()) for w in model.weights]
    assert shapes == [(4, 8), (8,), (8,), (8,), (8,), (8,), (8, 3), (3,)]
    kinds = [w.name for w in model.weights]
    assert kinds == ["kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance", "kernel", "bias"]
    # Keras 3: built by its first call, a Sequential's weights live under its name.
    layer_names = [layer.name for layer in model.layers if layer.weights for _ in layer.weights]
    assert [w.path for w in model.weights] == [
        f"{model.name}/{lname}/{kind}" for lname, kind in zip(layer_names, kinds)
    ]
    assert [w.name for w in model.non_trainable_weights] == ["moving_mean", "moving_variance"]
    assert len(model.trainable_variables) == 6
    assert model.count_params() == 4 * 8 + 8 + 4 * 8 + 8 * 3 + 3
    assert model.layers[0].output_shape == (None, 8)


def test_three_model_styles_give_the_same_outputs_for_the_same_weights():
    x = rand(6, 4)
    seq, sub, fun = mlp_sequential(), SubclassedMLP(), functional_mlp()
    seq(x), sub(x)
    weights = seq.get_weights()
    sub.set_weights(weights)
    fun.set_weights(weights)
    for training in (False, True):
        ref = seq(x, training=training).numpy()
        np.testing.assert_allclose(sub(x, training=training).numpy(), ref, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(fun(x, training=training).numpy(), ref, rtol=1e-5, atol=1e-6)
    # And against NumPy with the shared weights (inference: moving statistics).
    w1, b1, g, be, mm, mv, w2, b2 = seq.get_weights()
    h = np.maximum(x @ w1 + b1, 0)
    h = (h - mm) / np.sqrt(mv + 1e-3) * g + be
    np.testing.assert_allclose(seq(x).numpy(), h @ w2 + b2, rtol=1e-4, atol=1e-5)
    assert [type(layer).__name__ for layer in fun.layers] == [
        "InputLayer",
        "Dense",
        "BatchNormalization",
        "Dense",
    ]
    assert [type(layer).__name__ for layer in sub.layers] == ["Dense", "BatchNormalization", "Dense"]


def test_training_flag_reaches_nested_layers():
    inner = models.Sequential([layers.Dropout(0.5, seed=3)])
    outer = models.Sequential([layers.Dense(4, kernel_initializer="ones"), inner])
    x = np.ones((10, 3), np.float32)
    assert (outer(x).numpy() != 0).all()
    assert (outer(x, training=True).numpy() == 0).any()  # the outer flag reaches the nested Dropout


def test_set_weights_errors_name_the_weight():
    model = mlp_sequential()
    model(rand(2, 4))
    with pytest.raises(ValueError, match="expected 8 weights, but received 1"):
        model.set_weights([np.zeros((4, 8))])
    bad = model.get_weights()
    bad[0] = np.zeros((5, 8))
    first = model.weights[0].path  # Keras 3: a message names the weight by its path
    assert first == f"{model.name}/{model.layers[0].name}/kernel"
    with pytest.raises(ValueError, match=rf"weight {first} has shape \(4, 8\).*\(5, 8\)"):
        model.set_weights(bad)


def test_freezing_is_recursive_and_reversible():
    inner = models.Sequential([layers.Dense(3), layers.BatchNormalization()])
    model = models.Sequential([layers.Dense(4), inner])
    model(rand(2, 5))
    assert len(model.trainable_weights) == 6
    model.trainable = False
    assert model.trainable_weights == [] and inner.layers[0].trainable is False
    assert len(model.non_trainable_weights) == 8
    model.trainable = True
    inner.layers[1].trainable = False
    assert len(model.trainable_weights) == 4
    names = [w.name for w in model.non_trainable_weights]
    assert names == ["gamma", "beta", "moving_mean", "moving_variance"]


def test_frozen_model_keeps_batchnorm_statistics_during_training_calls():
    model = mlp_sequential()
    x = rand(8, 4)
    model(x)
    model.trainable = False
    before = [w.copy() for w in model.get_weights()]
    with gt.GradientTape() as tape:
        loss = gt.reduce_sum(model(x, training=True))
    assert model.trainable_variables == ()
    assert len(tape.gradient(loss, model.trainable_variables)) == 0
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_functional_multi_input_multi_output_and_shared_layers():
    a, b = models.Input((4,), name="a"), models.Input((4,), name="b")
    shared = layers.Dense(5, name="shared")
    ha, hb = shared(a), shared(b)
    merged = layers.Concatenate()([ha, hb])
    total = layers.Add()([ha, hb])
    out = layers.Dense(2, name="head")(merged)
    model = models.Model([a, b], [out, total])
    assert [layer.name for layer in model.layers] == ["a", "b", "shared", "concatenate", "head", "add"]
    assert len(model.weights) == 4  # the shared layer counts once
    xa, xb = rand(3, 4), rand(3, 4)
    y_out, y_total = model([xa, xb])
    w, bias, hw, hbias = model.get_weights()
    pa, pb = xa @ w + bias, xb @ w + bias
    np.testing.assert_allclose(y_total.numpy(), pa + pb, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y_out.numpy(), np.concatenate([pa, pb], -1) @ hw + hbias, rtol=1e-5, atol=1e-5)
    y_dict = model({"a": xa, "b": xb})
    np.testing.assert_allclose(y_dict[0].numpy(), y_out.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match=r'"functional.*" expects 2 input\(s\), but it received 1'):
        model(xa)
    with pytest.raises(ValueError, match=r"Input 'a'.*expected shape=\(None, 4\), found shape=\(3, 5\)"):
        model([rand(3, 5), xb])


def test_functional_dict_outputs_nested_models_and_operators():
    inp = models.Input((6,))
    block = models.Sequential([layers.Dense(4), layers.ReLU()])
    h = block(inp)
    model = models.Model(inputs=inp, outputs={"h": h, "twice": h * 2.0 + 1.0})
    x = rand(2, 6)
    out = model(x)
    ref = block(x).numpy()
    np.testing.assert_allclose(out["h"].numpy(), ref, rtol=1e-6)
    np.testing.assert_allclose(out["twice"].numpy(), 2 * ref + 1, rtol=1e-6)
    assert model.count_params() == 6 * 4 + 4


def test_functional_unknown_spatial_dims_and_disconnected_graph():
    inp = models.Input((None, None, 3))
    y = layers.Conv2D(2, 3, strides=2, padding="same")(inp)
    assert y.shape == (None, None, None, 2)
    pooled = layers.GlobalAveragePooling2D()(y)
    assert pooled.shape == (None, 2)
    model = models.Model(inp, pooled)
    assert model(rand(1, 7, 9, 3)).shape == (1, 2)
    other = models.Input((3,))
    z = layers.Concatenate()([pooled, layers.Dense(2)(other)])
    with pytest.raises(ValueError, match="Graph disconnected"):
        models.Model(inp, z)


def test_sequential_with_input_builds_at_once_and_rejects_duplicates():
    model = models.Sequential([models.Input((3,)), layers.Dense(2, name="d")])
    assert model.built and model.layers[0].kernel.shape == (3, 2)
    with pytest.raises(ValueError, match="unique names.*'d'"):
        model.add(layers.Dense(2, name="d"))
    with pytest.raises(TypeError, match="only instances of `keras.Layer`"):
        model.add("dense")
    model.add(layers.Dense(4))
    assert model.output_shape == (None, 4)
    model2 = models.Sequential([layers.Dense(2, input_shape=(5,))])
    assert model2.built and model2.count_params() == 12


def test_subclassed_model_build_and_raw_variables():
    class Scaled(models.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)
            self.scale = gt.Variable(3.0, name="scale")

        def call(self, x):
            return self.dense(x) * self.scale

    model = Scaled()
    model.build((None, 4))
    assert model.built and [tuple(w.shape.as_list()) for w in model.weights] == [(), (4, 2), (2,)]
    x = rand(2, 4)
    w, b = model.dense.get_weights()
    np.testing.assert_allclose(model(x).numpy(), 3 * (x @ w + b), rtol=1e-5)


def _param_counts(text):
    rows = [
        line for line in text.splitlines() if re.match(r"^ \w+ \(\w+", line) and "Layer (type)" not in line
    ]
    return [int(line.split()[-1].replace(",", "")) for line in rows]


def test_summary_lists_layers_shapes_and_totals():
    reset_uids()
    model = models.Sequential(
        [
            models.Input((8, 8, 1)),
            layers.Conv2D(4, 3),
            layers.BatchNormalization(),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(10),
        ],
        name="cnn",
    )
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert text.startswith('Model: "cnn"')
    # Hand count: conv 3*3*1*4 + 4 = 40, BN 4*4 = 16, dense 3*3*4*10 + 10 = 370.
    assert _param_counts(text) == [40, 16, 0, 0, 370]
    assert re.search(r"conv2d \(Conv2D\)\s+\(None, 6, 6, 4\)\s+40", text)
    assert re.search(r"flatten \(Flatten\)\s+\(None, 36\)\s+0", text)
    assert "Total params: 426 (1.66 KB)" in text
    assert "Trainable params: 418 (1.63 KB)" in text
    assert "Non-trainable params: 8 (32.00 B)" in text


def test_functional_summary_shows_connections():
    a = models.Input((2,), name="x")
    out = layers.Dense(1, name="d")(a)
    lines = []
    models.Model(a, out, name="f").summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert re.search(r"d \(Dense\)\s+\(None, 1\)\s+3\s+x\[0\]\[0\]", text)
    assert re.search(r"x \(InputLayer\)\s+\(None, 2\)\s+0", text)


def _separable_problem(n=128):
    labels = RNG.integers(0, 2, n)
    centres = np.array([[-1.0, -1.0, 0.5, 0.0], [1.0, 1.0, -0.5, 0.0]])
    x = (centres[labels] + 0.4 * RNG.standard_normal((n, 4))).astype(np.float32)
    return gt.constant(x), gt.constant(np.eye(2, dtype=np.float32)[labels]), labels


def _loss(model, x, y, training):
    p = gt.nn.softmax(model(x, training=training))
    return -gt.reduce_mean(gt.reduce_sum(y * gt.math.log(p + 1e-7), axis=1))


def test_keras_dense_model_trains_with_a_hand_written_gradient_tape_loop():
    gt.random.set_seed(11)
    x, y, labels = _separable_problem()
    model = models.Sequential([layers.Dense(8, activation="relu"), layers.Dense(2)])
    first = float(_loss(model, x, y, False))
    for _ in range(50):
        with gt.GradientTape() as tape:
            loss = _loss(model, x, y, True)
        grads = tape.gradient(loss, model.trainable_variables)
        for v, g in zip(model.trainable_variables, grads):
            v.assign_sub(0.5 * g)
    last = float(_loss(model, x, y, False))
    assert last < 0.5 * first
    accuracy = (np.argmax(model(x).numpy(), 1) == labels).mean()
    assert accuracy > 0.95


def test_model_under_gt_function_with_a_tape_matches_eager():
    x, y, _ = _separable_problem(32)
    model = models.Sequential(
        [
            layers.Dense(6, activation="tanh"),
            layers.BatchNormalization(),
            layers.Dropout(0.2),
            layers.Dense(2),
        ]
    )
    twin = models.Sequential(
        [
            layers.Dense(6, activation="tanh"),
            layers.BatchNormalization(),
            layers.Dropout(0.2),
            layers.Dense(2),
        ]
    )
    model(x), twin(x)
    twin.set_weights(model.get_weights())

    def step(m, x, y):
        with gt.GradientTape() as tape:
            loss = _loss(m, x, y, False)
        grads = tape.gradient(loss, m.trainable_variables)
        for v, g in zip(m.trainable_variables, grads):
            v.assign_sub(0.1 * g)
        return loss

    graph_step = gt.function(step)
    for _ in range(3):
        eager_loss = step(twin, x, y)
        graph_loss = graph_step(model, x, y)
        np.testing.assert_allclose(float(graph_loss), float(eager_loss), rtol=1e-5)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_layers_build_inside_gt_function_and_dropout_draws_new_masks():
    model = models.Sequential([layers.Dense(50, kernel_initializer="ones"), layers.Dropout(0.5, seed=2)])

    @gt.function
    def train_call(x):
        with gt.GradientTape() as tape:
            out = model(x, training=True)
            loss = gt.reduce_sum(out)
        return out, tape.gradient(loss, model.trainable_variables)

    x = gt.constant(np.ones((4, 3), np.float32))
    out1, grads = train_call(x)
    out2, _ = train_call(x)
    assert len(model.weights) == 2 and grads[0].shape == (3, 50)
    a, b = out1.numpy() == 0, out2.numpy() == 0
    assert a.any() and (a != b).any()  # the counter variable gives a new mask per call
    np.testing.assert_allclose(out1.numpy()[~a], 3.0 / 0.5)


CONFIG_CASES = [
    (lambda: layers.Dense(3, activation="gelu", kernel_regularizer="l2", use_bias=False), (2, 4)),
    (
        lambda: layers.Conv2D(4, (3, 2), strides=2, padding="same", kernel_initializer="he_normal"),
        (1, 6, 6, 2),
    ),
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=2), (1, 5, 5, 2)),
    (lambda: layers.SeparableConv2D(3, 3, padding="same"), (1, 5, 5, 2)),
    (lambda: layers.Conv2DTranspose(2, 3, strides=2), (1, 3, 3, 2)),
    (lambda: layers.BatchNormalization(momentum=0.9, epsilon=1e-2), (4, 3)),
    (lambda: layers.LayerNormalization(axis=[1, 2]), (2, 3, 4)),
    (lambda: layers.MaxPooling2D(3, strides=1, padding="same"), (1, 4, 4, 2)),
    (lambda: layers.AveragePooling2D(), (1, 4, 4, 2)),
    (lambda: layers.GlobalMaxPooling2D(keepdims=True), (1, 4, 4, 2)),
    (lambda: layers.Embedding(7, 3, embeddings_initializer=gt_initializer()), None),
    (lambda: layers.ReLU(max_value=1.0), (2, 3)),
    (lambda: layers.Rescaling(0.5, offset=2.0), (2, 3)),
    (lambda: layers.Reshape((3, -1)), (2, 6)),
    (lambda: layers.ZeroPadding2D(((1, 0), (2, 1))), (1, 2, 2, 1)),
]


def gt_initializer():
    from gputensor.keras import initializers

    return initializers.RandomNormal(0.0, 0.3, seed=1)


@pytest.mark.parametrize("make,shape", CONFIG_CASES)
def test_layer_config_round_trip(make, shape):
    import json

    layer = make()
    x = np.array([[1, 6, 0]]) if shape is None else rand(*shape)
    y = layer(x).numpy()
    blob = json.loads(json.dumps(layers.serialize(layer)))
    clone = layers.deserialize(blob)
    assert type(clone) is type(layer) and clone.get_config() == layer.get_config()
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(x).numpy(), y, rtol=1e-6)


def test_model_config_round_trips_sequential_functional_and_custom_layers():
    import json

    class Scale(layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

    a, b = models.Input((4,), name="a"), models.Input((4,), name="b")
    shared = layers.Dense(5, name="shared")
    ha, hb = shared(a), shared(b)
    out = layers.Dense(2, name="head")(layers.Concatenate()([ha, Scale(3.0)(hb)]))
    fun = models.Model([a, b], {"out": out, "sum": layers.Add()([ha, hb])})
    blob = json.loads(json.dumps(fun.get_config()))
    with pytest.raises(ValueError, match="Unknown layer class 'Scale'.*custom_objects"):
        models.Functional.from_config(blob)
    clone = models.Functional.from_config(blob, custom_objects={"Scale": Scale})
    assert [layer.name for layer in clone.layers] == [layer.name for layer in fun.layers]
    clone.set_weights(fun.get_weights())
    x = [rand(3, 4), rand(3, 4)]
    for key in ("out", "sum"):
        np.testing.assert_allclose(clone(x)[key].numpy(), fun(x)[key].numpy(), rtol=1e-6)

    seq = models.Sequential(
        [models.Input((3,)), layers.Dense(4, activation="relu"), layers.BatchNormalization()]
    )
    seq_clone = models.Sequential.from_config(json.loads(json.dumps(seq.get_config())))
    assert seq_clone.built and len(seq_clone.weights) == 6
    seq_clone.set_weights(seq.get_weights())
    xs = rand(2, 3)
    np.testing.assert_allclose(seq_clone(xs).numpy(), seq(xs).numpy(), rtol=1e-6)


def test_gt_module_holding_keras_dense_layers_trains_like_the_seed_example():
    class SequentialModel(gt.Module):
        def __init__(self, name=None):
            super().__init__(name=name)
            self.dense_1 = layers.Dense(3)
            self.dense_2 = layers.Dense(2)

        def __call__(self, x, training=None):
            return self.dense_2(gt.nn.relu(self.dense_1(x)))

    x, y, labels = _separable_problem()
    model = SequentialModel()
    model(x)
    assert len(model.trainable_variables) == 4
    first = float(_loss(model, x, y, False))
    for _ in range(50):
        with gt.GradientTape() as tape:
            loss = _loss(model, x, y, True)
        for v, g in zip(model.trainable_variables, tape.gradient(loss, model.trainable_variables)):
            v.assign_sub(0.5 * g)
    assert float(_loss(model, x, y, False)) < 0.5 * first


def test_feature_extractor_from_layer_outputs():
    seq = models.Sequential([models.Input((5,)), layers.Dense(4, name="f1"), layers.Dense(2, name="f2")])
    features = models.Model(seq.input, seq.get_layer("f1").output)
    x = rand(3, 5)
    w, b = seq.layers[0].get_weights()
    np.testing.assert_allclose(features(x).numpy(), x @ w + b, rtol=1e-5, atol=1e-6)
    assert features.layers[1] is seq.layers[0]  # the same layer objects, the same weights
    inp = models.Input((5,))
    shared = layers.Dense(2)
    shared(inp), shared(inp)
    with pytest.raises(AttributeError, match="called 2 times"):
        shared.output
    with pytest.raises(AttributeError, match="never called on a KerasTensor"):
        layers.Dense(2).output
    fun = models.Model(inp, layers.Dense(3)(inp))
    assert fun.input is inp and fun.output.shape == (None, 3)


def test_subclassed_model_with_its_own_build_builds_on_first_call():
    class Affine(models.Model):
        def build(self, input_shape):
            self.w = self.add_weight("w", (input_shape[-1], 2), initializer="ones")

        def call(self, x):
            return gt.matmul(x, self.w)

    model = Affine()
    x = rand(3, 4)
    np.testing.assert_allclose(model(x).numpy(), x @ np.ones((4, 2)), rtol=1e-5)
    assert [(w.name, w.path) for w in model.weights] == [("w", f"{model.name}/w")]


def test_functional_converts_inputs_to_the_input_dtype_and_accepts_inputs_keyword():
    inp = models.Input((3,))
    model = models.Model(inp, layers.Dense(2, kernel_initializer="ones")(inp))
    ints = np.array([[1, 2, 3]])
    np.testing.assert_allclose(model(ints).numpy(), [[6.0, 6.0]])
    np.testing.assert_allclose(model(inputs=ints.astype(np.float64)).numpy(), [[6.0, 6.0]])


def test_functional_cnn_train_step_under_gt_function_matches_eager():
    def make():
        inp = models.Input((8, 8, 1))
        x = layers.Conv2D(4, 3, padding="same", activation="relu")(inp)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D()(x)
        x = layers.SeparableConv2D(4, 3, padding="same")(x)
        x = layers.GlobalAveragePooling2D()(x)
        return models.Model(inp, layers.Dense(3)(x))

    eager, graph = make(), make()
    graph.set_weights(eager.get_weights())
    x = gt.constant(rand(4, 8, 8, 1))

    def step(m, x):
        with gt.GradientTape() as tape:
            loss = gt.reduce_mean(gt.square(m(x, training=True)))
        for v, g in zip(m.trainable_variables, tape.gradient(loss, m.trainable_variables)):
            v.assign_sub(0.1 * g)
        return loss

    graph_step = gt.function(step)
    for _ in range(3):
        np.testing.assert_allclose(float(graph_step(graph, x)), float(step(eager, x)), rtol=1e-5)
    for a, b in zip(eager.get_weights(), graph.get_weights()):  # moving statistics included
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    assert not np.allclose(graph.layers[2].moving_mean.numpy(), 0)
