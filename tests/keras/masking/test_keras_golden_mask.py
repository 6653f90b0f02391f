"""Masked and bidirectional models against real Keras 3.15 (scripts/make_keras_mask_fixtures.py):
Keras's ``.weights.h5`` files load, outputs match eagerly and traced, GradientTape gradients match
Keras's, Keras's configs rebuild, and a few ``fit`` steps of a masked model end at Keras's weights."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import gputensor as gt
from gputensor.keras import models
from tests.keras.masking._models import FIXTURES, NAMES, build

pytest.importorskip("h5py")


def fixture(name: str) -> dict:
    with np.load(os.path.join(FIXTURES, f"{name}_io.npz")) as data:
        return {k: data[k] for k in data.files}


def loaded(name: str):
    model = build(name)
    model.load_weights(os.path.join(FIXTURES, f"{name}.weights.h5"))
    return model


def as_list(y):
    return list(y) if isinstance(y, (list, tuple)) else [y]


def outputs_of(d: dict) -> list:
    return [d[f"y{i}"] for i in range(sum(k.startswith("y") for k in d))]


# bi_backward_layer's all-padding row pools 0/0 (NaN, as in Keras): NumPy warns.
@pytest.mark.filterwarnings("ignore:invalid value encountered")
@pytest.mark.parametrize("name", NAMES)
def test_outputs_match_keras(name):
    d = fixture(name)
    model = loaded(name)
    ys = as_list(model(d["x"]))
    want = outputs_of(d)
    assert len(ys) == len(want)
    for y, w in zip(ys, want):
        # The all-padding row of GlobalAveragePooling1D is 0/0 in Keras too.
        np.testing.assert_allclose(y.numpy(), w, atol=1e-5, rtol=1e-5, equal_nan=True)


@pytest.mark.parametrize("name", ["emb_lstm", "masking_gru", "bi_concat", "bi_none"])
def test_outputs_match_keras_traced(name):
    d = fixture(name)
    model = loaded(name)
    fn = gt.function(lambda x: model(x, training=False))
    for y, w in zip(as_list(fn(gt.constant(d["x"]))), outputs_of(d)):
        np.testing.assert_allclose(y.numpy(), w, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "bi_backward_layer"])
def test_gradients_match_keras(name):
    # Gradients of sum(y * c) for Keras's fixed c, through the masked time loops.
    d = fixture(name)
    model = loaded(name)
    cs = [gt.constant(d[f"c{i}"]) for i in range(len(outputs_of(d)))]
    with gt.GradientTape() as tape:
        ys = as_list(model(d["x"], training=False))
        loss = gt.add_n([gt.reduce_sum(y * c) for y, c in zip(ys, cs)])
    grads = tape.gradient(loss, model.trainable_weights)
    assert len(grads) == sum(k.startswith("grad") for k in d)
    for i, g in enumerate(grads):
        g = gt.convert_to_tensor(g).numpy() if g is not None else None
        assert g is not None, model.trainable_weights[i].name
        np.testing.assert_allclose(
            g, d[f"grad{i}"], atol=2e-5, rtol=1e-4, err_msg=model.trainable_weights[i].name
        )


@pytest.mark.filterwarnings("ignore:invalid value encountered")
@pytest.mark.parametrize("name", ["emb_stack", "masking_gru", "bi_sum", "bi_backward_layer", "bi_none"])
def test_keras_config_rebuilds(name):
    # Keras's own config (Bidirectional's layer/backward_layer entries, Masking, mask_zero).
    d = fixture(name)
    config = json.loads(d["config"].tobytes().decode())
    model = (
        models.Sequential if "layers" in config and "input_layers" not in config else models.Model
    ).from_config(config)
    model.load_weights(os.path.join(FIXTURES, f"{name}.weights.h5"))
    for y, w in zip(as_list(model(d["x"])), outputs_of(d)):
        np.testing.assert_allclose(y.numpy(), w, atol=1e-5, rtol=1e-5, equal_nan=True)


def test_a_model_loaded_from_kerass_archive_saves_and_loads_again(tmp_path):
    # Keras's functional configs hold its mask ops (NotEqual, Any): a model rebuilt from one
    # must write them back under Keras's names, or its own archive would not load.
    model = models.load_model(os.path.join(FIXTURES, "functional_mask.keras"))
    ops = [layer for layer in model.layers if type(layer).__name__ in ("_NotEqual", "_Any")]
    assert len(ops) >= 2
    assert all(gt.keras.layers.serialize(op)["module"] == "keras.src.ops.numpy" for op in ops)
    path = str(tmp_path / "again.keras")
    model.save(path)
    again = models.load_model(path)
    ids = np.array([[3, 1, 0, 0, 0, 0], [2, 2, 2, 2, 2, 9]], np.int32)
    floats = np.random.default_rng(0).standard_normal((2, 6, 2)).astype(np.float32)
    floats[0, 3:] = 0.0  # masked steps
    np.testing.assert_array_equal(again([ids, floats]).numpy(), model([ids, floats]).numpy())


def test_weight_file_round_trip(tmp_path):
    import h5py

    model = loaded("bi_concat")
    path = str(tmp_path / "bi.weights.h5")
    model.save_weights(path)
    with (
        h5py.File(path, "r") as ours,
        h5py.File(os.path.join(FIXTURES, "bi_concat.weights.h5"), "r") as keras,
    ):
        keys = []
        keras.visititems(lambda n, o: keys.append(n) if isinstance(o, h5py.Dataset) else None)
        assert "layers/bidirectional/forward_layer/cell/vars/0" in keys
        assert "layers/bidirectional_1/backward_layer/cell/vars/2" in keys
        for k in keys:
            np.testing.assert_array_equal(ours[k][()], keras[k][()])
    fresh = build("bi_concat")
    fresh.load_weights(path)
    d = fixture("bi_concat")
    np.testing.assert_allclose(fresh(d["x"]).numpy(), d["y0"], atol=1e-5)


@pytest.mark.parametrize("run_eagerly", [False, True])
def test_fit_matches_keras(run_eagerly):
    # Two epochs of SGD on padded id batches (batch 3, unshuffled): the masked LSTM's updates
    # end at Keras's weights, traced (gt.function, the default) and eagerly.
    with np.load(os.path.join(FIXTURES, "fit_io.npz")) as data:
        x, y, losses = data["x"], data["y"], data["loss"]
    model = build("fit")
    model.load_weights(os.path.join(FIXTURES, "fit_start.weights.h5"))
    model.compile(optimizer=gt.keras.optimizers.SGD(0.1), loss="mse", run_eagerly=run_eagerly)
    history = model.fit(x, y, batch_size=3, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], losses, rtol=1e-5)
    want = build("fit")
    want.load_weights(os.path.join(FIXTURES, "fit_end.weights.h5"))
    for a, b in zip(model.weights, want.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5, err_msg=a.name)


@pytest.mark.parametrize("run_eagerly", [False, True])
def test_fit_on_masked_sequence_output_matches_keras(run_eagerly):
    # The Dense output keeps the LSTM's mask, so Keras 3 averages the loss and the metric over
    # the real steps only (Loss.__call__/MeanMetricWrapper read y_pred's mask).
    with np.load(os.path.join(FIXTURES, "fit_seq_io.npz")) as data:
        x, y, losses, mae = data["x"], data["y"], data["loss"], data["mae"]
    model = build("fit_seq")
    model.load_weights(os.path.join(FIXTURES, "fit_seq_start.weights.h5"))
    model.compile(
        optimizer=gt.keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"], run_eagerly=run_eagerly
    )
    history = model.fit(x, y, batch_size=3, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], losses, rtol=1e-5)
    # gt.keras logs metrics="mae" as mean_absolute_error (Keras 3: mae).
    logged = history.history.get("mae", history.history.get("mean_absolute_error"))
    np.testing.assert_allclose(logged, mae, rtol=1e-5)
    want = build("fit_seq")
    want.load_weights(os.path.join(FIXTURES, "fit_seq_end.weights.h5"))
    for a, b in zip(model.weights, want.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5, err_msg=a.name)


def test_masked_loss_formula():
    # sum_over_batch_size over the kept entries only; "sum" drops the masked ones.
    from gputensor.keras import losses
    from gputensor.keras.masks import set_keras_mask

    y_true = np.arange(6, dtype=np.float32).reshape(2, 3, 1)
    y_pred = gt.constant(np.ones((2, 3, 1), np.float32))
    keep = np.array([[True, True, False], [True, False, False]])
    set_keras_mask(y_pred, gt.constant(keep))
    per_step = (y_true[..., 0] - 1.0) ** 2
    np.testing.assert_allclose(
        losses.MeanSquaredError()(y_true, y_pred).numpy(), per_step[keep].mean(), rtol=1e-6
    )
    np.testing.assert_allclose(
        losses.MeanSquaredError(reduction="sum")(y_true, y_pred).numpy(), per_step[keep].sum(), rtol=1e-6
    )
    sw = np.array([[1.0], [3.0]], np.float32)  # (batch, 1) broadcasts against the (batch, steps) mask
    want = (per_step * sw * keep).sum() / keep.sum()
    np.testing.assert_allclose(
        losses.MeanSquaredError()(y_true, y_pred, sample_weight=sw).numpy(), want, rtol=1e-6
    )
