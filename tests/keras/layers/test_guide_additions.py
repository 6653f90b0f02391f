"""Layers and helpers the Keras guides use beyond API.md's list (UpSampling2D, LeakyReLU,
Average, Multiply, the functional merge forms, keras.utils.to_categorical), against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt
from gputensor import keras
from gputensor.keras import layers


def test_upsampling2d_repeats_rows_and_columns():
    x = np.random.RandomState(0).rand(2, 3, 4, 5).astype("float32")
    out = layers.UpSampling2D((2, 3))(x).numpy()
    np.testing.assert_array_equal(out, x.repeat(2, axis=1).repeat(3, axis=2))
    first = layers.UpSampling2D(2, data_format="channels_first")(x).numpy()
    np.testing.assert_array_equal(first, x.repeat(2, axis=2).repeat(2, axis=3))
    with pytest.raises(ValueError, match="bilinear"):
        layers.UpSampling2D(interpolation="bilinear")


def test_upsampling2d_symbolic_shape_and_rank_check():
    inp = keras.Input((4, 4, 1))
    assert layers.UpSampling2D(3)(inp).shape == (None, 12, 12, 1)
    with pytest.raises(ValueError, match="ndim=4"):
        layers.UpSampling2D()(np.zeros((2, 3), "float32"))


def test_leaky_relu_matches_numpy_and_keras_default_slope():
    x = np.linspace(-2, 2, 9).astype("float32")
    np.testing.assert_allclose(layers.LeakyReLU()(x).numpy(), np.where(x >= 0, x, 0.3 * x), rtol=1e-6)
    np.testing.assert_allclose(layers.LeakyReLU(negative_slope=0.2)(x).numpy(), np.where(x >= 0, x, 0.2 * x))
    with pytest.raises(ValueError, match="negative_slope"):
        layers.LeakyReLU(-1.0)


def test_merge_layers_and_functional_forms():
    rng = np.random.RandomState(1)
    a, b, c = (rng.rand(2, 3).astype("float32") for _ in range(3))
    np.testing.assert_allclose(layers.Average()([a, b, c]).numpy(), (a + b + c) / 3, rtol=1e-6)
    np.testing.assert_allclose(layers.Multiply()([a, b, c]).numpy(), a * b * c, rtol=1e-6)
    ia, ib = keras.Input((3,)), keras.Input((3,))
    for fn, ref in (
        (layers.add, a + b),
        (layers.average, (a + b) / 2),
        (layers.multiply, a * b),
        (layers.concatenate, np.concatenate([a, b], -1)),
    ):
        model = keras.Model([ia, ib], fn([ia, ib]))
        np.testing.assert_allclose(model([a, b]).numpy(), ref, rtol=1e-6)
    with pytest.raises(ValueError, match="same shape"):
        layers.Average()([a, np.zeros((2, 4), "float32")])


def test_to_categorical_matches_numpy_one_hot():
    y = np.array([[0], [2], [1]])
    np.testing.assert_array_equal(keras.utils.to_categorical(y, 3), np.eye(3, dtype="float32")[[0, 2, 1]])
    assert keras.utils.to_categorical([1, 3]).shape == (2, 4)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        keras.utils.to_categorical([0, 2], 2)


def test_keras_tensor_dtype_is_a_string_as_keras3():
    inp = keras.Input((3,), dtype="int32")
    assert inp.dtype == "int32"
    assert layers.Embedding(5, 2)(inp).dtype == "float32"


def test_model_from_config_rebuilds_a_functional_model_with_user_layers():
    class Twice(layers.Layer):
        def call(self, x):
            return 2.0 * x

        def get_config(self):  # leaves out "name": the rebuilt layer gets a fresh one
            return {}

    inp = keras.Input((2,))
    model = keras.Model(inp, Twice()(layers.Dense(2)(inp)))
    new = keras.Model.from_config(model.get_config(), custom_objects={"Twice": Twice})
    new.set_weights(model.get_weights())
    x = gt.constant([[1.0, 2.0]])
    np.testing.assert_allclose(new(x).numpy(), model(x).numpy(), rtol=1e-6)


def test_compile_without_loss_and_without_add_loss_says_so():
    inp = keras.Input((2,))
    model = keras.Model(inp, layers.Dense(1)(inp))
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="No loss to compute"):
        model.fit(np.ones((4, 2), "float32"), np.ones((4, 1), "float32"), verbose=0)


def _two_output_model():
    inp = keras.Input((3,), name="x")
    a = layers.Dense(1, name="a")(inp)
    b = layers.Dense(2, name="b")(inp)
    return keras.Model(inp, [a, b])


def test_multi_output_losses_sum_weighted_per_output_losses():
    model = _two_output_model()
    model.compile(optimizer="sgd", loss={"a": "mse", "b": "mae"}, loss_weights={"a": 2.0, "b": 1.0})
    rng = np.random.RandomState(0)
    x = rng.rand(8, 3).astype("float32")
    ya, yb = rng.rand(8, 1).astype("float32"), rng.rand(8, 2).astype("float32")
    logs = model.evaluate(x, {"a": ya, "b": yb}, batch_size=8, verbose=0, return_dict=True)
    pa, pb = (p.numpy() for p in model(x))
    mse, mae = np.mean((ya - pa) ** 2), np.mean(np.abs(yb - pb))
    np.testing.assert_allclose(logs["a_loss"], mse, rtol=1e-5)
    np.testing.assert_allclose(logs["b_loss"], mae, rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], 2 * mse + mae, rtol=1e-5)


def test_multi_output_bad_targets_and_metrics_are_named():
    model = _two_output_model()
    model.compile(optimizer="sgd", loss=["mse", "mse"])
    x = np.zeros((4, 3), "float32")
    with pytest.raises(ValueError, match=r"no entries for outputs \['b'\]"):
        model.evaluate(x, {"a": np.zeros((4, 1), "float32")}, verbose=0)
    model = _two_output_model()
    model.compile(optimizer="sgd", loss=["mse", "mse"], metrics=[["mae"]])
    with pytest.raises(ValueError, match="1 metric lists for 2 outputs"):
        model.evaluate(x, [np.zeros((4, 1), "float32"), np.zeros((4, 2), "float32")], verbose=0)


def test_mean_absolute_percentage_error_metric():
    m = keras.metrics.MeanAbsolutePercentageError()
    m.update_state(np.array([[1.0, 2.0]]), np.array([[1.5, 1.0]]))
    np.testing.assert_allclose(float(m.result()), 100 * np.mean([0.5, 0.5]), rtol=1e-6)


def test_callbacks_get_logs_positionally_and_on_batch_end_alias():
    seen = []

    class Recorder(keras.callbacks.Callback):
        def on_train_begin(self, logs):  # no default, as in the guide
            seen.append(("begin", logs))

        def on_batch_end(self, batch, logs):
            seen.append(("batch", batch, sorted(logs)))

    model = _two_output_model()
    model.compile(optimizer="sgd", loss=["mse", "mse"])
    x = np.zeros((4, 3), "float32")
    model.fit(
        x,
        [np.zeros((4, 1), "float32"), np.zeros((4, 2), "float32")],
        batch_size=2,
        callbacks=[Recorder()],
        verbose=0,
    )
    assert seen[0] == ("begin", {})  # Keras 3 passes an empty dict, never None
    assert [s[1] for s in seen[1:]] == [0, 1]
    assert seen[1][2] == ["a_loss", "b_loss", "loss"]


def test_metric_add_weight_takes_the_name_first():
    class Count(keras.metrics.Metric):
        def __init__(self):
            super().__init__(name="count")
            self.n = self.add_weight(name="n", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.n.assign_add(gt.cast(gt.shape(y_true)[0], "float32"))

        def result(self):
            return self.n

    m = Count()
    m.update_state(np.zeros(3), np.zeros(3))
    assert float(m.result()) == 3.0 and m.variables[0].shape.as_list() == []


class _Indexed(keras.utils.PyDataset):
    def __init__(self, n_batches, **kwargs):
        super().__init__(**kwargs)
        self.n_batches, self.calls = n_batches, []

    def __len__(self):
        return self.n_batches

    def __getitem__(self, idx):
        self.calls.append(idx)
        x = np.full((2, 1), float(idx), "float32")
        return x, 2.0 * x

    def on_epoch_end(self):
        self.calls.append("end")


def test_py_dataset_reads_every_batch_once_per_epoch_then_on_epoch_end():
    model = keras.Sequential([keras.Input((1,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    data = _Indexed(3)
    model.fit(data, epochs=2, shuffle=False, verbose=0)
    assert data.calls == [0, 1, 2, "end", 0, 1, 2, "end"]
    data.calls.clear()
    np.random.seed(3)
    model.fit(data, epochs=3, verbose=0)  # shuffle=True: a batch order per epoch
    epochs = [data.calls[i * 4 : i * 4 + 3] for i in range(3)]
    assert all(sorted(e) == [0, 1, 2] for e in epochs) and epochs != [[0, 1, 2]] * 3
    data.calls.clear()
    model.evaluate(data, steps=2, verbose=0)
    assert data.calls == [0, 1, "end"]
    assert keras.utils.Sequence is keras.utils.PyDataset and data.num_batches == 3 and data.workers == 1


def test_keras_ops_match_numpy_with_keras_defaults():
    ops = keras.ops
    rng = np.random.RandomState(4)
    x = rng.rand(2, 3).astype("float32")
    np.testing.assert_allclose(ops.sum(x).numpy(), x.sum(), rtol=1e-6)
    np.testing.assert_allclose(ops.mean(x, axis=(0, 1)).numpy(), x.mean(), rtol=1e-6)
    np.testing.assert_allclose(ops.max(x, axis=1, keepdims=True).numpy(), x.max(1, keepdims=True))
    assert ops.concatenate([x, x]).shape == (4, 3)  # axis 0 by default, as NumPy/Keras
    assert int(ops.argmax(x)) == int(np.argmax(x))
    np.testing.assert_allclose(ops.matmul(x, ops.transpose(x)).numpy(), x @ x.T, rtol=1e-6)
    np.testing.assert_allclose(
        ops.softmax(x).numpy(), np.exp(x) / np.exp(x).sum(-1, keepdims=True), rtol=1e-6
    )
    np.testing.assert_array_equal(ops.one_hot(np.array([2, 0]), 3).numpy(), np.eye(3)[[2, 0]])
    assert ops.shape(x) == (2, 3) and ops.mean(np.array([1, 2])).dtype == gt.float32

    @gt.function(input_signature=[gt.TensorSpec([None, 3], gt.float32)])
    def batch_of(t):
        return ops.shape(t)[0] * 1

    assert int(batch_of(x)) == 2  # an unknown batch size is a scalar tensor, as Keras's TF backend


def test_keras_random_draws_are_new_per_call_also_inside_gt_function():
    gen = keras.random.SeedGenerator(7)
    a = keras.random.normal((50000,), seed=gen).numpy()
    assert abs(a.mean()) < 0.02 and abs(a.std() - 1) < 0.02
    u = keras.random.uniform((50000,), minval=-1.0, maxval=3.0, seed=gen).numpy()
    assert u.min() >= -1 and u.max() < 3 and abs(u.mean() - 1) < 0.03
    np.testing.assert_array_equal(
        keras.random.normal((4,), seed=3).numpy(), keras.random.normal((4,), seed=3).numpy()
    )

    @gt.function
    def draw():
        return keras.random.normal((8,), seed=gen)

    assert np.any(draw().numpy() != draw().numpy())
    d = keras.random.dropout(np.ones((10000,), "float32"), 0.25, seed=gen).numpy()
    assert set(np.unique(d)) <= {0.0, np.float32(1 / 0.75)} and abs((d == 0).mean() - 0.25) < 0.02
    with pytest.raises(ValueError, match="seed"):
        keras.random.normal((2,), seed="x")


def test_categorical_crossentropy_from_logits_gradient_is_tensorflows():
    # Keras 3 on TensorFlow differentiates tf.nn.softmax_cross_entropy_with_logits:
    # softmax(z) - y, also for multi-hot y (whose true derivative is softmax(z) * sum(y) - y).
    y = np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]], "float32")
    z = gt.Variable(np.array([[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 2.0, 0.0]], "float32"))
    with gt.GradientTape() as tape:
        loss = keras.losses.CategoricalCrossentropy(from_logits=True)(y, z)
    p = np.exp(z.numpy()) / np.exp(z.numpy()).sum(-1, keepdims=True)
    np.testing.assert_allclose(tape.gradient(loss, z).numpy(), (p - y) / 2, rtol=1e-5)
    np.testing.assert_allclose(float(loss), -(y * np.log(p)).sum(-1).mean(), rtol=1e-5)


def test_functional_layers_follow_keras_depth_order():
    a, b = keras.Input((2,), name="a"), keras.Input((3,), name="b")
    xa = layers.Dense(4, name="da2")(layers.Dense(4, name="da1")(a))
    xb = layers.Dense(4, name="db1")(b)
    out = layers.Dense(1, name="out")(layers.concatenate([xa, xb], name="cat"))
    model = keras.Model([a, b], {"z": out, "y": xb})
    # What Keras 3.15 gives: decreasing depth from the outputs (taken in sorted-key order),
    # ties in the order a depth-first walk first meets them.
    assert [layer.name for layer in model.layers] == ["a", "b", "da1", "db1", "da2", "cat", "out"]
    assert model.output_names == ["db1", "out"]
    model.compile(optimizer="sgd", loss={"y": "mse", "z": "mae"})
    x = [np.zeros((2, 2), "float32"), np.zeros((2, 3), "float32")]
    logs = model.evaluate(x, {"y": np.zeros((2, 4)), "z": np.ones((2, 1))}, verbose=0, return_dict=True)
    assert sorted(logs) == ["loss", "y_loss", "z_loss"]


def test_pad_sequences_pads_and_truncates_as_keras():
    seqs = [[1, 2, 3, 4], [5, 6], []]
    pre = keras.utils.pad_sequences(seqs)
    np.testing.assert_array_equal(pre, [[1, 2, 3, 4], [0, 0, 5, 6], [0, 0, 0, 0]])
    assert pre.dtype == np.int32
    np.testing.assert_array_equal(
        keras.utils.pad_sequences(seqs, maxlen=3, padding="post", truncating="post"),
        [[1, 2, 3], [5, 6, 0], [0, 0, 0]],
    )
    np.testing.assert_array_equal(
        keras.utils.pad_sequences(seqs, maxlen=3), [[2, 3, 4], [0, 5, 6], [0, 0, 0]]
    )
    got = keras.utils.pad_sequences([[1.5], [2.5, 3.5]], dtype="float32", value=-1.0)
    np.testing.assert_array_equal(got, np.array([[-1.0, 1.5], [2.5, 3.5]], "float32"))
    items = keras.utils.pad_sequences([[[1, 2]], [[3, 4], [5, 6]]], padding="post")
    assert items.shape == (2, 2, 2) and items[0, 1].tolist() == [0, 0]
    with pytest.raises(ValueError, match="padding"):
        keras.utils.pad_sequences(seqs, padding="middle")
    with pytest.raises(ValueError, match="shape"):
        keras.utils.pad_sequences([[[1, 2]], [[3]]])
    with pytest.raises(ValueError, match="dtype=object"):
        keras.utils.pad_sequences([["a"]], value="x")


def test_tensor_keras_mask_reads_the_mask_a_layer_attached():
    emb = layers.Embedding(10, 2, mask_zero=True)
    y = emb(np.array([[1, 0, 2]]))
    np.testing.assert_array_equal(y._keras_mask.numpy(), [[True, False, True]])
    z = gt.constant([1.0])
    assert z._keras_mask is None
    z._keras_mask = gt.constant([True])
    assert z._keras_mask.numpy().tolist() == [True]


def test_keras_random_keeps_the_known_dims_of_a_mixed_shape_in_a_trace():
    shapes = []

    @gt.function(input_signature=[gt.TensorSpec([None, 2], gt.float32)])
    def draw(x):
        n = keras.random.normal((gt.shape(x)[0], 3), seed=1)
        shapes.append(tuple(n.shape))
        return n

    assert draw(gt.ones([4, 2])).shape == (4, 3)
    assert shapes == [(None, 3)]  # the traced batch is unknown, the 3 stays known
