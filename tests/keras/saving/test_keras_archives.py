"""Whole-model ``.keras`` archives against real Keras 3: an archive Keras wrote after training
(tests/keras/fixtures/cnn.keras, scripts/make_keras_fixtures.py) loads with its weights,
compile arguments and optimizer state, and the archives gputensor writes use the entries
Keras's reader requires (checked by loading them in Keras 3.15 when the fixtures were made)."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np

import gputensor as gt

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures")


def _config(path: str) -> dict:
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read("config.json"))


def test_an_archive_keras_wrote_loads_with_weights_compile_config_and_optimizer_state():
    io = np.load(os.path.join(FIXTURES, "cnn_keras_io.npz"))
    model = gt.keras.models.load_model(os.path.join(FIXTURES, "cnn.keras"))
    np.testing.assert_allclose(model.predict(io["x"], verbose=0), io["y"], rtol=1e-5, atol=1e-5)
    assert type(model.optimizer).__name__ == "Adam"
    np.testing.assert_allclose(float(model.optimizer.learning_rate), 0.01, rtol=1e-6)
    saved = [io[f"opt{i}"] for i in range(len([k for k in io.files if k.startswith("opt")]))]
    assert len(model.optimizer.variables) == len(saved) == 18  # iterations, rate, 2 slots x 8 weights
    for v, want in zip(model.optimizer.variables, saved):
        np.testing.assert_allclose(np.asarray(v.numpy()), want, rtol=1e-6, atol=1e-7)
    assert int(model.optimizer.iterations.numpy()) == 4  # 2 epochs of 2 steps: training resumes here
    model.fit(io["x"], np.zeros(16, np.int32), epochs=1, batch_size=8, verbose=0)
    assert int(model.optimizer.iterations.numpy()) == 6


def test_archives_written_here_use_keras_readers_entries_and_round_trip(tmp_path):
    io = np.load(os.path.join(FIXTURES, "cnn_keras_io.npz"))
    model = gt.keras.models.load_model(os.path.join(FIXTURES, "cnn.keras"))
    path = str(tmp_path / "again.keras")
    model.save(path)
    ours, theirs = _config(path), _config(os.path.join(FIXTURES, "cnn.keras"))
    # Keras refuses an InputLayer config with both shape and batch_shape: ours is Keras's.
    assert ours["config"]["layers"][0] == theirs["config"]["layers"][0]
    assert [(e["module"], e["class_name"]) for e in ours["config"]["layers"]] == [
        (e["module"], e["class_name"]) for e in theirs["config"]["layers"]
    ]
    # Keras's reader locates compiled objects by module and registered name.
    for key in ("optimizer", "loss"):
        mine, keras = ours["compile_config"][key], theirs["compile_config"][key]
        assert (mine["module"], mine["class_name"], mine["registered_name"]) == (
            keras["module"],
            keras["class_name"],
            keras["registered_name"],
        )
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
    again = gt.keras.models.load_model(path)
    np.testing.assert_allclose(again.predict(io["x"], verbose=0), io["y"], rtol=1e-5, atol=1e-5)
    for a, b in zip(again.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a.numpy()), np.asarray(b.numpy()))


def test_a_functional_archive_is_registered_as_keras_registers_functional(tmp_path):
    inputs = gt.keras.Input((4,), name="x")
    model = gt.keras.Model(inputs, gt.keras.layers.Dense(2)(inputs))
    model.save(str(tmp_path / "f.keras"))
    config = _config(str(tmp_path / "f.keras"))
    assert (config["module"], config["class_name"], config["registered_name"]) == (
        "keras.src.models.functional",
        "Functional",
        "Functional",
    )


def test_an_uncompiled_model_predicts_as_keras_allows():
    inputs = gt.keras.Input((3,))
    model = gt.keras.Model(inputs, gt.keras.layers.Dense(2, use_bias=False)(inputs))
    x = np.ones((4, 3), np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), x @ model.layers[1].kernel.numpy(), rtol=1e-6)


def test_a_compile_config_without_metrics_loads(tmp_path):
    # Keras writes "metrics": null for a model compiled without metrics.
    model = gt.keras.Sequential([gt.keras.Input((3,)), gt.keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    path = str(tmp_path / "m.keras")
    model.save(path)
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    config = json.loads(files["config.json"])
    config["compile_config"]["metrics"] = None
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as z:
        for n, data in files.items():
            z.writestr(n, data)
    loaded = gt.keras.models.load_model(path)
    assert type(loaded.optimizer).__name__ == "SGD"
