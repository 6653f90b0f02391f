"""gt.keras under mixed_float16 against real Keras 3.15 (fixtures written by
scripts/make_keras_mixed_fixtures.py): the same CNN's outputs from Keras's weight file, three
train_on_batch steps through compile's LossScaleOptimizer, Keras's .keras archive (its
DTypePolicy dicts and loss-scale optimizer state), and gputensor's own save/load round trip.
float16 math in two libraries rounds differently, so the tolerances are float16's."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import gputensor as gt
from gputensor.keras import mixed_precision, models, optimizers
from tests.keras.mixed_precision._models import mixed_cnn

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


@pytest.fixture
def io():
    return np.load(os.path.join(FIXTURES, "mixed_cnn_io.npz"))


def test_outputs_match_keras_from_its_weight_file(io):
    mixed_precision.set_global_policy("mixed_float16")
    model = mixed_cnn(gt.keras)
    model.load_weights(os.path.join(FIXTURES, "mixed_cnn.weights.h5"))
    assert [layer.compute_dtype for layer in model.layers] == json.loads(str(io["compute_dtypes"]))
    assert all(w.dtype == gt.float32 for w in model.weights)
    y = model.predict(io["x"], verbose=0)
    assert str(y.dtype) == str(io["y_dtype"]) == "float32"
    np.testing.assert_allclose(y, io["y"], rtol=0, atol=1e-4)  # measured: 6e-8
    # Not a float32 model by accident: float32 math misses Keras's outputs by more (4e-4).
    mixed_precision.set_global_policy("float32")
    ref = mixed_cnn(gt.keras)
    ref.set_weights(model.get_weights())
    assert np.abs(ref.predict(io["x"], verbose=0) - io["y"]).max() > 1e-4


def test_training_steps_match_keras(io):
    mixed_precision.set_global_policy("mixed_float16")
    model = mixed_cnn(gt.keras)
    model.load_weights(os.path.join(FIXTURES, "mixed_cnn.weights.h5"))
    model.compile(optimizer=optimizers.SGD(0.05), loss="sparse_categorical_crossentropy")
    assert type(model.optimizer).__name__ == str(io["optimizer_class"]) == "LossScaleOptimizer"
    losses = [float(model.train_on_batch(io["xt"][i], io["yt"][i])) for i in range(3)]
    np.testing.assert_allclose(losses, io["losses"], rtol=1e-3)  # measured: 1.2e-4
    for i, w in enumerate(model.get_weights()):  # measured: up to 5e-5
        np.testing.assert_allclose(w, io[f"trained_{i}"], rtol=0, atol=5e-4, err_msg=model.weights[i].name)
    opt = model.optimizer
    assert float(opt.dynamic_scale.numpy()) == float(io["dynamic_scale"])
    assert int(opt.step_counter.numpy()) == int(io["step_counter"])
    assert int(opt.iterations.numpy()) == int(io["iterations"])


def test_reads_the_keras_archive_with_its_policies_and_loss_scale_state(io):
    mixed_precision.set_global_policy("mixed_float16")  # Keras's model policy comes from the global one
    model = models.load_model(os.path.join(FIXTURES, "mixed_cnn.keras"))
    expected = [json.dumps(d) for d in json.loads(str(io["layer_dtypes"]))[1:]]
    assert len(expected) == len(model.layers)
    assert [layer.dtype_policy.name for layer in model.layers] == [
        "mixed_float16", "mixed_float16", "mixed_float16", "mixed_float16", "mixed_float16", "float32",
    ]  # fmt: skip
    assert isinstance(model.optimizer, optimizers.LossScaleOptimizer)
    assert int(model.optimizer.iterations.numpy()) == int(io["iterations"])
    assert float(model.optimizer.dynamic_scale.numpy()) == float(io["dynamic_scale"])
    assert int(model.optimizer.step_counter.numpy()) == int(io["step_counter"])
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_array_equal(w, io[f"trained_{i}"])


def test_save_and_load_round_trip(tmp_path):
    mixed_precision.set_global_policy("mixed_float16")
    rng = np.random.default_rng(0)
    model = mixed_cnn(gt.keras)
    model.compile(optimizer=optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    x = rng.standard_normal((16, 6, 6, 2)).astype(np.float32)
    y = rng.integers(0, 3, 16)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    model.optimizer.dynamic_scale.assign(1024.0)  # a state worth restoring
    path = str(tmp_path / "m.keras")
    model.save(path)
    expected = model.predict(x, verbose=0)
    loaded = models.load_model(path)
    assert [layer.dtype_policy for layer in loaded.layers] == [layer.dtype_policy for layer in model.layers]
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    assert isinstance(loaded.optimizer, optimizers.LossScaleOptimizer)
    for a, b in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())

    # The optimizer's groups as Keras 3 lays them out (its own archive has the same keys).
    def optimizer_keys(archive):
        import io as _io
        import zipfile

        import h5py

        with zipfile.ZipFile(archive) as z, h5py.File(_io.BytesIO(z.read("model.weights.h5"))) as f:
            return {
                k: len(f["optimizer"][k]["vars"] if k != "vars" else f["optimizer/vars"])
                for k in f["optimizer"]
            }

    assert optimizer_keys(path) == {"vars": 4 + 18, "inner_optimizer": 18}  # Adam: 2 + 2 slots x 8 weights
    assert optimizer_keys(os.path.join(FIXTURES, "mixed_cnn.keras")) == {"vars": 4 + 2, "inner_optimizer": 2}
    # Weight files alone: stored in float32 (the variable dtype), read back exactly.
    model.save_weights(str(tmp_path / "w.weights.h5"))
    again = mixed_cnn(gt.keras)
    again.load_weights(str(tmp_path / "w.weights.h5"))
    for a, b in zip(again.get_weights(), model.get_weights()):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, b)
