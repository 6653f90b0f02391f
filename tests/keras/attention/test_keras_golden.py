"""Attention models against outputs real Keras 3.15 computed with the same weights
(``scripts/make_keras_attention_fixtures.py``, ``tests/keras/attention/fixtures``)."""

from __future__ import annotations

import os

import numpy as np
import pytest

import gputensor as gt
from gputensor.keras import layers, models

pytest.importorskip("h5py")

FIX = os.path.join(os.path.dirname(__file__), "fixtures")


def _mha_self():
    x = models.Input((5, 4))
    return models.Model(x, layers.MultiHeadAttention(num_heads=2, key_dim=3)(x, x))


def _mha_cross():
    q, v, k = models.Input((4, 6)), models.Input((5, 8)), models.Input((5, 3))
    mha = layers.MultiHeadAttention(num_heads=3, key_dim=2, value_dim=5, output_shape=7)
    return models.Model([q, v, k], mha(q, v, key=k))


def _mha_axes():
    x = models.Input((3, 4, 5))
    return models.Model(x, layers.MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=(1, 2))(x, x))


def _mha_causal():
    ids = models.Input((6,), dtype="int32")
    e = layers.Embedding(10, 8, mask_zero=True)(ids)
    return models.Model(ids, layers.MultiHeadAttention(num_heads=2, key_dim=4)(e, e, use_causal_mask=True))


def _mha_scores():
    q, v, am = models.Input((4, 6)), models.Input((5, 6)), models.Input((4, 5), dtype="bool")
    o, s = layers.MultiHeadAttention(num_heads=2, key_dim=3, dropout=0.25)(
        q, v, attention_mask=am, return_attention_scores=True
    )
    return models.Model([q, v, am], [o, s])


def _luong_bahdanau():
    qi, vi = models.Input((5,), dtype="int32"), models.Input((6,), dtype="int32")
    qe = layers.Embedding(10, 4, mask_zero=True)(qi)
    ve = layers.Embedding(10, 4, mask_zero=True)(vi)
    a1, s1 = layers.Attention(use_scale=True)([qe, ve], return_attention_scores=True)
    a2 = layers.Attention(use_scale=True, score_mode="concat")([qe, ve, ve])
    a3 = layers.AdditiveAttention()([qe, ve], use_causal_mask=True)
    a4 = layers.Attention()([qe, ve], use_causal_mask=True)
    return models.Model([qi, vi], [a1, s1, a2, a3, a4])


BUILDERS = {
    "mha_self": _mha_self,
    "mha_cross": _mha_cross,
    "mha_axes": _mha_axes,
    "mha_causal": _mha_causal,
    "mha_scores": _mha_scores,
    "luong_bahdanau": _luong_bahdanau,
}


def _io(name):
    with np.load(os.path.join(FIX, f"{name}_io.npz")) as data:
        xs = [data[f"x{i}"] for i in range(sum(k.startswith("x") for k in data.files))]
        ys = [data[f"y{i}"] for i in range(sum(k.startswith("y") for k in data.files))]
        gs = [data[f"g{i}"] for i in range(sum(k.startswith("g") for k in data.files))]
    return xs, ys, gs


def _outputs(model, xs, **kwargs):
    out = model(xs if len(xs) > 1 else xs[0], **kwargs)
    return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_keras_weights_and_outputs(name):
    model = BUILDERS[name]()
    model.load_weights(os.path.join(FIX, f"{name}.weights.h5"))
    xs, ys, _ = _io(name)
    got = _outputs(model, xs, training=False)
    assert len(got) == len(ys)
    for g, y in zip(got, ys):
        np.testing.assert_allclose(g, y, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_traced_matches_keras(name):
    model = BUILDERS[name]()
    model.load_weights(os.path.join(FIX, f"{name}.weights.h5"))
    xs, ys, _ = _io(name)
    fn = gt.function(lambda *a: model(list(a) if len(a) > 1 else a[0], training=False))
    out = fn(*[gt.constant(x) for x in xs])
    got = [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]
    for g, y in zip(got, ys):
        np.testing.assert_allclose(g, y, rtol=1e-5, atol=1e-5)


def test_gradients_match_keras():
    model = _mha_self()
    model.load_weights(os.path.join(FIX, "mha_self.weights.h5"))
    xs, _, gs = _io("mha_self")
    x = gt.constant(xs[0])
    with gt.GradientTape() as tape:
        loss = gt.reduce_sum(gt.square(model(x, training=False)))
    grads = tape.gradient(loss, model.trainable_weights)
    assert len(grads) == len(gs) == 8
    for g, ref in zip(grads, gs):
        np.testing.assert_allclose(np.asarray(g), ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_weight_files_round_trip_in_keras_layout(name, tmp_path):
    """gputensor writes the keys, shapes and values of Keras's own file (so Keras reads it)."""
    import h5py

    model = BUILDERS[name]()
    src = os.path.join(FIX, f"{name}.weights.h5")
    model.load_weights(src)
    out = str(tmp_path / "m.weights.h5")
    model.save_weights(out)

    def datasets(path):
        flat = {}
        with h5py.File(path, "r") as f:
            f.visititems(lambda k, o: flat.__setitem__(k, o[()]) if isinstance(o, h5py.Dataset) else None)
        return flat

    theirs, ours = datasets(src), datasets(out)
    theirs = {k: v for k, v in theirs.items() if "seed_generator" not in k}
    assert sorted(ours) == sorted(theirs)
    for k in theirs:
        np.testing.assert_array_equal(ours[k], theirs[k])
    again = BUILDERS[name]()
    again.load_weights(out)
    xs, ys, _ = _io(name)
    for g, y in zip(_outputs(again, xs, training=False), ys):
        np.testing.assert_allclose(g, y, rtol=1e-5, atol=1e-5)


def test_mha_weight_names_and_order():
    model = _mha_cross()
    mha = model.layers[-1]
    # Keras 3: each weight's name is what it is, its path places it under the layer.
    assert [w.name for w in mha.weights] == ["kernel", "bias"] * 4
    assert all(w.path.startswith(f"{mha.name}/") for w in mha.weights)
    assert ["/".join(w.path.split("/")[-2:]) for w in mha.weights] == [
        "query/kernel", "query/bias", "key/kernel", "key/bias",
        "value/kernel", "value/bias", "attention_output/kernel", "attention_output/bias",
    ]  # fmt: skip
    assert [tuple(w.shape) for w in mha.weights] == [
        (6, 3, 2), (3, 2), (3, 3, 2), (3, 2), (8, 3, 5), (3, 5), (3, 5, 7), (7,),
    ]  # fmt: skip


def _encoder_io():
    with np.load(os.path.join(FIX, "encoder_io.npz")) as data:
        return {k: data[k] for k in data.files}


def test_encoder_keras_archive_predicts_as_keras():
    model = models.load_model(os.path.join(FIX, "encoder.keras"))
    io = _encoder_io()
    np.testing.assert_allclose(np.asarray(model.predict(io["x"], verbose=0)), io["y"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(model(io["x"], training=False)), io["y"], rtol=1e-5, atol=1e-5)
    mha = [layer for layer in model.layers if isinstance(layer, layers.MultiHeadAttention)][0]
    assert mha.get_config()["dropout"] == 0.1 and mha.num_heads == 2 and mha.key_dim == 8


def test_encoder_fits_and_saves_back(tmp_path):
    model = models.load_model(os.path.join(FIX, "encoder.keras"))
    io = _encoder_io()
    x, y = io["x_train"], io["y_train"]
    before = model.evaluate(x, y, verbose=0, batch_size=64)
    model.fit(x, y, epochs=8, batch_size=16, verbose=0, shuffle=False)
    after = model.evaluate(x, y, verbose=0, batch_size=64)
    assert after < before - 0.05, (before, after)
    path = str(tmp_path / "enc.keras")
    model.save(path)
    again = models.load_model(path)
    np.testing.assert_allclose(
        np.asarray(again(io["x"], training=False)),
        np.asarray(model(io["x"], training=False)),
        rtol=1e-6,
        atol=1e-6,
    )


def test_masked_causal_block_from_keras_archive():
    """Keras records the padding masks as NotEqual/LogicalOr op nodes; the padded, causal block
    loads and predicts as Keras, traced too."""
    model = models.load_model(os.path.join(FIX, "encoder_masked.keras"))
    with np.load(os.path.join(FIX, "encoder_masked_io.npz")) as data:
        x, y = data["x"], data["y"]
    np.testing.assert_allclose(np.asarray(model(x, training=False)), y, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(model.predict(x, verbose=0)), y, rtol=1e-5, atol=1e-5)


def test_restored_optimizer_state_survives_fit(tmp_path):
    """load_model restores Keras's Adam slots; fit keeps using them (no second set of slots)."""
    import warnings

    model = models.load_model(os.path.join(FIX, "encoder.keras"))
    opt = model.optimizer
    assert len(opt.variables) == 2 + 2 * len(model.trainable_variables)
    restored = [v.numpy().copy() for v in opt.variables[2:4]]
    assert any(np.abs(r).max() > 0 for r in restored)  # Keras trained it a little
    io = _encoder_io()
    model.fit(io["x_train"][:16], io["y_train"][:16], epochs=1, batch_size=16, verbose=0)
    assert len(opt.variables) == 2 + 2 * len(model.trainable_variables)
    path = str(tmp_path / "again.keras")
    model.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = models.load_model(path)
    for a, b in zip(again.optimizer.variables, opt.variables):
        np.testing.assert_allclose(np.asarray(a.numpy()), np.asarray(b.numpy()))
