"""compile/fit with the real pieces: gt.keras layers, optimizers, losses, metrics, gt.data and
gt.train.Checkpoint, on a separable synthetic problem whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt


def _blobs(n=600, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[3.0, 0.0], [-1.5, 2.6], [-1.5, -2.6]], np.float32)
    y = rng.integers(0, 3, n).astype(np.int32)
    x = (centers[y] + 0.6 * rng.standard_normal((n, 2))).astype(np.float32)
    return x, y


def _model():
    gt.random.set_seed(7)  # the initial weights: each test is deterministic
    return gt.keras.Sequential(
        [gt.keras.Input((2,)), gt.keras.layers.Dense(16, activation="relu"), gt.keras.layers.Dense(3)]
    )


@pytest.mark.parametrize("run_eagerly", [False, True], ids=["graph", "eager"])
def test_fit_reaches_the_target_accuracy_and_evaluate_agrees(run_eagerly):
    x, y = _blobs()
    model = _model()
    model.compile(
        optimizer="adam",
        loss=gt.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        run_eagerly=run_eagerly,
    )
    history = model.fit(x, y, batch_size=32, epochs=15, validation_split=0.2, verbose=0)
    assert history.history["accuracy"][-1] > 0.95 and history.history["val_accuracy"][-1] > 0.95
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, accuracy = model.evaluate(x, y, verbose=0)
    predicted = model.predict(x, verbose=0).argmax(-1)
    np.testing.assert_allclose(accuracy, np.mean(predicted == y), atol=1e-6)
    # Keras 3: the compiled metrics are one entry of model.metrics, "compile_metrics".
    assert model.metrics_names == ["loss", "compile_metrics"]
    assert [m.name for m in model.metrics[1].metrics] == ["accuracy"]


def test_fit_takes_a_gt_data_dataset_and_string_losses():
    x, y = _blobs()
    ds = gt.data.Dataset.from_tensor_slices((x, y)).shuffle(600, seed=1).batch(32)
    model = _model()
    model.compile(
        optimizer=gt.keras.optimizers.SGD(0.1, momentum=0.9), loss="sparse_categorical_crossentropy"
    )
    model.layers[-1].activation = gt.keras.activations.get("softmax")
    history = model.fit(ds, epochs=10, verbose=0)
    assert len(history.history["loss"]) == 10 and history.history["loss"][-1] < 0.2


def test_a_checkpoint_restores_weights_optimizer_slots_and_step():
    x, y = _blobs(n=64)
    model = _model()
    model.compile(optimizer="adam", loss=gt.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=2, verbose=0)
    ckpt = gt.train.Checkpoint(model=model, optimizer=model.optimizer)
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = ckpt.save(f"{d}/ckpt")
        saved = [v.numpy() for v in model.optimizer.variables]
        model.fit(x, y, epochs=1, verbose=0)
        ckpt.restore(path).assert_consumed()
    for a, b in zip(saved, [v.numpy() for v in model.optimizer.variables]):
        np.testing.assert_array_equal(a, b)
    assert int(model.optimizer.iterations.numpy()) == 4  # two epochs of 2 batches


def test_a_frozen_model_does_not_train():
    x, y = _blobs(n=64)
    model = _model()
    model.compile(optimizer="sgd", loss=gt.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.build((None, 2))
    model.trainable = False
    before = model.get_weights()
    model.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_model_subclass_called_with_inputs_and_outputs_is_functional_and_keeps_train_step():
    # Keras 3: the usual way to customise fit() on a functional model.
    calls = []

    class Custom(gt.keras.Model):
        def train_step(self, data):
            calls.append(len(data))
            return super().train_step(data)

    inputs = gt.keras.Input(shape=(3,))
    model = Custom(inputs, gt.keras.layers.Dense(1)(inputs))
    assert isinstance(model, Custom) and isinstance(model, gt.keras.models.Functional)
    assert type(model).__name__ == "Custom" and len(model.layers) == 2
    x = np.ones((4, 3), "float32")
    np.testing.assert_allclose(
        model(x).numpy(), x @ model.get_weights()[0] + model.get_weights()[1], rtol=1e-6
    )
    model.compile(optimizer="sgd", loss="mse", run_eagerly=True)
    model.fit(x, np.zeros((4, 1), "float32"), batch_size=2, verbose=0)
    assert calls == [2, 2]

    # One positional argument (a subclass's own config) is not a functional call.
    class Sized(gt.keras.Model):
        def __init__(self, units):
            super().__init__()
            self.dense = gt.keras.layers.Dense(units)

        def call(self, x):
            return self.dense(x)

    assert not isinstance(Sized(2), gt.keras.models.Functional)
