"""Weight files (gputensor/keras/saving.py): files written by real Keras 3 load into the same
architectures and reproduce Keras's outputs; our files round-trip in every format; wrong
architectures, truncated files and failed writes are handled cleanly."""

from __future__ import annotations

import os

import numpy as np
import pytest

import gputensor as gt
from gputensor.errors import DataLossError
from gputensor.keras import saving
from gputensor.keras.serialization import to_snake_case

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures")
layers = gt.keras.layers


# The architectures of scripts/make_keras_fixtures.py, written with gt.keras.
MODELS = {
    "mlp": lambda: gt.keras.Sequential([gt.keras.Input((6,)), layers.Dense(5, activation="relu"), layers.Dense(3)]),
    "cnn": lambda: gt.keras.Sequential([
        gt.keras.Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu"), layers.BatchNormalization(),
        layers.MaxPooling2D(), layers.Flatten(), layers.Dense(5, activation="relu"), layers.Dense(3),
    ]),
    "convs": lambda: gt.keras.Sequential([
        gt.keras.Input((9, 9, 3)), layers.DepthwiseConv2D(3), layers.SeparableConv2D(4, 3, padding="same"),
        layers.Conv2DTranspose(2, 3, strides=2), layers.AveragePooling2D(2), layers.ZeroPadding2D(1),
        layers.GlobalAveragePooling2D(), layers.Dense(2),
    ]),
    "embed": lambda: gt.keras.Sequential([
        gt.keras.Input((5,), dtype="int32"), layers.Embedding(10, 4), layers.LayerNormalization(),
        layers.Flatten(), layers.Dense(2, activation="tanh"),
    ]),
}  # fmt: skip


@pytest.mark.parametrize("name", list(MODELS))
def test_keras3_weight_files_reproduce_keras_outputs(name):
    io = np.load(os.path.join(FIXTURES, f"{name}_io.npz"))
    model = MODELS[name]()
    model.load_weights(os.path.join(FIXTURES, f"{name}.weights.h5"))
    got = model(gt.constant(io["x"]), training=False).numpy()
    np.testing.assert_allclose(got, io["y"], rtol=1e-5, atol=1e-5)


def test_a_legacy_whole_model_h5_loads_its_weights():
    io = np.load(os.path.join(FIXTURES, "mlp_io.npz"))
    model = MODELS["mlp"]()
    model.load_weights(os.path.join(FIXTURES, "mlp_legacy.h5"))
    np.testing.assert_allclose(model(gt.constant(io["x"])).numpy(), io["y"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("suffix", [".weights.h5", ".h5", ".npz"])
def test_our_files_round_trip(tmp_path, suffix):
    io = np.load(os.path.join(FIXTURES, "cnn_io.npz"))
    source = MODELS["cnn"]()
    source.load_weights(os.path.join(FIXTURES, "cnn.weights.h5"))
    path = str(tmp_path / f"w{suffix}")
    source.save_weights(path)
    target = MODELS["cnn"]()
    target.load_weights(path)
    for a, b in zip(source.get_weights(), target.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(target(gt.constant(io["x"])).numpy(), io["y"], rtol=1e-5, atol=1e-5)
    assert os.listdir(tmp_path) == [os.path.basename(path)]  # no temporary file left


def test_keras3_keys_follow_class_names_with_counters():
    model = gt.keras.Sequential([gt.keras.Input((3,)), layers.Dense(2, name="a"), layers.Dense(2, name="b")])
    keys = [group for group, _, _ in saving.keras3_entries(model)]
    assert keys == ["vars", "layers/dense/vars", "layers/dense_1/vars"]
    assert to_snake_case("Conv2DTranspose") == "conv2d_transpose"
    assert to_snake_case("BatchNormalization") == "batch_normalization"


def test_another_architecture_is_named_and_changes_nothing(tmp_path):
    model = MODELS["mlp"]()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"layers/dense/vars/0 .*shape \(6, 5\).*\(6, 7\)"):
        wide = gt.keras.Sequential(
            [gt.keras.Input((6,)), layers.Dense(7, activation="relu"), layers.Dense(3)]
        )
        wide.load_weights(os.path.join(FIXTURES, "mlp.weights.h5"))
    with pytest.raises(ValueError, match="no place for"):
        model.load_weights(os.path.join(FIXTURES, "cnn.weights.h5"))
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_truncated_files_and_bad_names_fail_cleanly(tmp_path):
    data = open(os.path.join(FIXTURES, "mlp.weights.h5"), "rb").read()
    broken = tmp_path / "broken.weights.h5"
    broken.write_bytes(data[: len(data) // 3])
    with pytest.raises(DataLossError, match="not a readable weight file"):
        MODELS["mlp"]().load_weights(str(broken))
    with pytest.raises(ValueError, match=r"must end in \.weights\.h5"):
        MODELS["mlp"]().save_weights(str(tmp_path / "w.txt"))


def test_a_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    model = MODELS["mlp"]()
    path = str(tmp_path / "w.weights.h5")
    model.save_weights(path)
    good = open(path, "rb").read()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(saving, "_commit", fail)
    with pytest.raises(OSError, match="disk full"):
        model.save_weights(path)
    assert open(path, "rb").read() == good and os.listdir(tmp_path) == ["w.weights.h5"]


def test_a_whole_model_round_trips_with_its_compile_arguments(tmp_path):
    io = np.load(os.path.join(FIXTURES, "cnn_io.npz"))
    model = MODELS["cnn"]()
    model.load_weights(os.path.join(FIXTURES, "cnn.weights.h5"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = gt.keras.models.load_model(path)
    assert type(loaded) is type(model) and [type(a) for a in loaded.layers] == [type(a) for a in model.layers]
    np.testing.assert_allclose(loaded(gt.constant(io["x"])).numpy(), io["y"], rtol=1e-5, atol=1e-5)
    assert loaded.compiled and type(loaded.optimizer).__name__ == "Adam"
    x = np.random.default_rng(0).standard_normal((8, 8, 8, 1)).astype(np.float32)
    loaded.fit(x, np.arange(8) % 3, epochs=1, verbose=0)  # trains as compiled
    with pytest.raises(DataLossError, match="not a readable .keras archive"):
        (tmp_path / "bad.keras").write_bytes(b"not a zip")
        gt.keras.models.load_model(str(tmp_path / "bad.keras"))
