"""The extra gt.keras layers against real Keras 3.15 (scripts/make_keras_extra_fixtures.py):
models written with gt.keras and models rebuilt from Keras's own configs load Keras's
``.weights.h5`` files and give Keras's outputs to 1e-5; a ``.keras`` archive Keras wrote
(with a Python-lambda Lambda layer) loads with ``safe_mode=False`` and is refused without it;
the preprocessing layers match Keras's encodings, adapted statistics and boundaries."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

import gputensor as gt
from gputensor.keras import layers, models
from gputensor.keras.layers.base import reset_uids
from tests.keras.layers_extra._models import image_model, masked_model, seq_model

FIXTURES = pathlib.Path(__file__).parent.parent / "fixtures"


def io(name):
    return np.load(FIXTURES / f"{name}_io.npz")


def gt_seq_model(norm_data):
    return seq_model(gt.keras, norm_data)


def gt_image_model():
    return image_model(gt.keras)


def gt_masked_model():
    return masked_model(gt.keras)


def outputs(model, x, training=False):
    ys = model(x, training=training)
    return [np.asarray(y) for y in (ys if isinstance(ys, (list, tuple)) else [ys])]


def check(model, name):
    data = io(name)
    model.load_weights(str(FIXTURES / f"{name}.weights.h5"))
    ys = outputs(model, data["x"])
    for i, y in enumerate(ys):
        np.testing.assert_allclose(y, data[f"y{i}"], rtol=1e-5, atol=1e-5)
    return ys


@pytest.mark.parametrize(
    "name,build",
    [
        ("extra_seq", lambda: gt_seq_model(np.load(FIXTURES / "extra_norm_data.npz")["norm_data"])),
        ("extra_img", gt_image_model),
        ("extra_mask", gt_masked_model),
    ],
)
def test_gt_written_models_load_keras_weights_and_match_keras(name, build):
    reset_uids()
    model = build()
    ys = check(model, name)
    # Traced: predict runs the model inside gt.function; the random layers are off in inference.
    for y, p in zip(
        ys,
        model.predict(io(name)["x"], verbose=0) if len(ys) > 1 else [model.predict(io(name)["x"], verbose=0)],
    ):
        np.testing.assert_allclose(np.asarray(p), y, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["extra_seq", "extra_img", "extra_mask"])
def test_models_rebuilt_from_keras_configs_match_keras(name):
    config = json.loads(str(io(name)["config"]))
    model = models.Functional.from_config(config)
    check(model, name)


@pytest.mark.parametrize("build", [gt_image_model, gt_masked_model, lambda: gt_seq_model(np.ones((2, 6, 4)))])
def test_gt_configs_rebuild_the_same_model(build):
    model = build()
    again = models.Functional.from_config(json.loads(json.dumps(model.get_config())))
    again.set_weights(model.get_weights())
    rng = np.random.default_rng(3)
    shape = tuple(model.inputs[0].shape[1:])
    x = (
        rng.integers(0, 7, (2, *shape))
        if shape == (5,)
        else rng.standard_normal((2, *shape)).astype(np.float32)
    )
    for a, b in zip(outputs(again, x), outputs(model, x)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_weight_files_round_trip_to_keras_layout(tmp_path):
    reset_uids()
    model = gt_seq_model(np.load(FIXTURES / "extra_norm_data.npz")["norm_data"])
    model.load_weights(str(FIXTURES / "extra_seq.weights.h5"))
    path = tmp_path / "m.weights.h5"
    model.save_weights(str(path))
    import h5py

    with h5py.File(FIXTURES / "extra_seq.weights.h5") as k, h5py.File(path) as g:

        def keys(f):
            out = []
            f.visititems(lambda n, o: out.append(n) if isinstance(o, h5py.Dataset) else None)
            return sorted(n for n in out if n.startswith("layers/"))

        assert keys(g) == keys(k)
        for n in keys(k):
            np.testing.assert_array_equal(g[n][()], k[n][()])


def test_keras_archive_with_a_lambda_is_refused_in_safe_mode_and_loads_unsafe():
    with pytest.raises(ValueError, match="safe_mode=False"):
        models.load_model(str(FIXTURES / "extra_arch.keras"))
    model = models.load_model(str(FIXTURES / "extra_arch.keras"), safe_mode=False)
    data = io("extra_arch")
    np.testing.assert_allclose(np.asarray(model(data["x"])), data["y"], rtol=1e-5, atol=1e-5)
    assert [type(layer).__name__ for layer in model.layers][:5] == [
        "Normalization", "TimeDistributed", "PReLU", "Lambda", "GroupNormalization",
    ]  # fmt: skip


def test_gt_saved_archive_with_a_lambda_round_trips(tmp_path):
    model = models.load_model(str(FIXTURES / "extra_arch.keras"), safe_mode=False)
    path = tmp_path / "again.keras"
    model.save(str(path))
    with pytest.raises(ValueError, match="Python lambda"):
        models.load_model(str(path))
    again = models.load_model(str(path), safe_mode=False)
    x = io("extra_arch")["x"]
    np.testing.assert_allclose(np.asarray(again(x)), np.asarray(model(x)), rtol=1e-6)


# ------------------------------------------------------------ preprocessing layers
PRE = None


def pre():
    global PRE
    if PRE is None:
        PRE = np.load(FIXTURES / "extra_pre_io.npz")
    return PRE


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_category_encoding_matches_keras(mode):
    ids = pre()["ids"]
    got = layers.CategoryEncoding(num_tokens=4, output_mode=mode)(ids[:, :1] if mode == "one_hot" else ids)
    np.testing.assert_array_equal(np.asarray(got), pre()[f"cat_{mode}"])


def test_category_encoding_count_weights_match_keras():
    got = layers.CategoryEncoding(4, output_mode="count")(pre()["ids"], count_weights=pre()["count_weights"])
    np.testing.assert_allclose(np.asarray(got), pre()["cat_count_weighted"], rtol=1e-6)


def test_discretization_adapt_finds_keras_boundaries_and_buckets():
    layer = layers.Discretization(num_bins=5)
    layer.adapt(pre()["disc_data"])
    np.testing.assert_allclose(layer.bin_boundaries, pre()["disc_boundaries"], rtol=1e-6)
    out = layer(pre()["disc_probe"])
    assert out.dtype == gt.int32
    np.testing.assert_array_equal(np.asarray(out), pre()["disc_int"])


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_discretization_encodings_match_keras(mode):
    layer = layers.Discretization(bin_boundaries=[-0.5, 0.0, 0.5], output_mode=mode)
    np.testing.assert_array_equal(np.asarray(layer(pre()["disc_probe"])), pre()[f"disc_{mode}"])


def test_normalization_adapt_and_invert_match_keras():
    layer = layers.Normalization(axis=(1, 2))
    layer.adapt(pre()["norm_data"])
    np.testing.assert_allclose(layer.adapt_mean.numpy(), pre()["norm_mean"], rtol=1e-5)
    np.testing.assert_allclose(layer.adapt_variance.numpy(), pre()["norm_variance"], rtol=1e-5)
    np.testing.assert_allclose(
        np.asarray(layer(pre()["norm_data"][:2])), pre()["norm_out"], rtol=1e-5, atol=1e-5
    )
    inv = layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 1.0, 0.25], invert=True)
    np.testing.assert_allclose(np.asarray(inv(pre()["disc_probe"])), pre()["inv_out"], rtol=1e-6)
    batched = layers.Normalization()
    batched.adapt([pre()["norm_data"][:3], pre()["norm_data"][3:]])
    np.testing.assert_allclose(batched.adapt_mean.numpy(), pre()["norm_batched_mean"], rtol=1e-5)
    np.testing.assert_allclose(batched.adapt_variance.numpy(), pre()["norm_batched_variance"], rtol=1e-5)
