"""Writes the golden fixtures of tests/keras/masking/: small masked and bidirectional models
built with real Keras 3 (tensorflow-cpu), their ``.weights.h5`` files, inputs with padded rows
(some mostly padding, padding at either end and in the middle), the outputs Keras computes,
gradients from a GradientTape, and the weights after a few ``fit`` steps. Needs tensorflow-cpu
(Keras 3); the tests only read the files.

    /work/peers/bin/python scripts/make_keras_mask_fixtures.py   # writes tests/keras/masking/fixtures/
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

OUT = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "keras", "masking", "fixtures"
)

# Padded id batches: post-padding, pre-padding, a hole in the middle, one real step, all padding.
IDS = np.array(
    [
        [3, 5, 7, 2, 9, 4],
        [6, 1, 0, 0, 0, 0],
        [0, 0, 0, 8, 2, 11],
        [4, 0, 5, 0, 0, 3],
        [10, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
    ],
    dtype=np.int32,
)


def padded_floats(rng: np.random.Generator) -> np.ndarray:
    """(5, 7, 3) floats whose padded steps are all zeros (Masking's default value)."""
    x = rng.standard_normal((5, 7, 3)).astype(np.float32)
    keep = np.array(
        [
            [1, 1, 1, 1, 1, 1, 1],
            [1, 1, 1, 0, 0, 0, 0],
            [0, 0, 0, 0, 1, 1, 1],
            [1, 0, 1, 0, 1, 0, 1],
            [0, 0, 0, 1, 0, 0, 0],
        ],
        dtype=np.float32,
    )
    return x * keep[:, :, None]


def models(keras):
    layers = keras.layers
    out = {}
    # Embedding(mask_zero) -> LSTM (last output), and a return_sequences stack ending backwards.
    out["emb_lstm"] = keras.Sequential([
        keras.Input((6,), dtype="int32"), layers.Embedding(12, 4, mask_zero=True), layers.LSTM(5), layers.Dense(2),
    ])  # fmt: skip
    out["emb_stack"] = keras.Sequential([
        keras.Input((6,), dtype="int32"), layers.Embedding(12, 4, mask_zero=True),
        layers.LSTM(4, return_sequences=True), layers.SimpleRNN(3, return_sequences=True),
        layers.GRU(3, go_backwards=True), layers.Dense(2),
    ])  # fmt: skip
    # Masking -> GRU(return_sequences) -> Dense (passes the mask) -> masked average pooling.
    out["masking_gru"] = keras.Sequential([
        keras.Input((7, 3)), layers.Masking(0.0), layers.GRU(4, return_sequences=True),
        layers.Dense(3), layers.GlobalAveragePooling1D(), layers.Dense(2),
    ])  # fmt: skip
    # Bidirectional with every merge mode, on masked ids.
    for mode in ("concat", "sum", "mul", "ave"):
        out[f"bi_{mode}"] = keras.Sequential([
            keras.Input((6,), dtype="int32"), layers.Embedding(12, 4, mask_zero=True),
            layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode=mode),
            layers.Bidirectional(layers.GRU(2), merge_mode=mode), layers.Dense(2),
        ])  # fmt: skip
    # merge_mode=None: two outputs, and an explicit backward layer.
    ids = keras.Input((6,), dtype="int32")
    h = layers.Embedding(12, 4, mask_zero=True)(ids)
    fwd, bwd = layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode=None)(h)
    out["bi_none"] = keras.Model(ids, [fwd, bwd])
    out["bi_backward_layer"] = keras.Sequential([
        keras.Input((6,), dtype="int32"), layers.Embedding(12, 4, mask_zero=True),
        layers.Bidirectional(
            layers.LSTM(3, return_sequences=True),
            backward_layer=layers.GRU(3, return_sequences=True, go_backwards=True),
        ),
        layers.GlobalAveragePooling1D(),
    ])  # fmt: skip
    # No mask: SimpleRNN and LSTM wrapped, float input.
    out["bi_nomask"] = keras.Sequential([
        keras.Input((5, 3)), layers.Bidirectional(layers.SimpleRNN(3, return_sequences=True), merge_mode="sum"),
        layers.Bidirectional(layers.LSTM(2), merge_mode="ave"),
    ])  # fmt: skip
    return out


def main() -> None:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    import tensorflow as tf

    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(11)
    rng = np.random.default_rng(11)
    floats = padded_floats(rng)
    nomask_x = rng.standard_normal((4, 5, 3)).astype(np.float32)
    for name, model in models(keras).items():
        # Random weights everywhere (biases included), so every weight's layout matters.
        model.set_weights(
            [0.5 * rng.standard_normal(w.shape).astype(np.float32) for w in model.get_weights()]
        )
        x = floats if name == "masking_gru" else nomask_x if name == "bi_nomask" else IDS
        ys = model(x, training=False)
        ys = [np.asarray(y) for y in (ys if isinstance(ys, (list, tuple)) else [ys])]
        # Gradients of sum(y * c) for fixed c, through the masked time loops.
        cs = [rng.standard_normal(y.shape).astype(np.float32) for y in ys]
        with tf.GradientTape() as tape:
            out = model(x, training=False)
            out = out if isinstance(out, (list, tuple)) else [out]
            loss = tf.add_n([tf.reduce_sum(o * c) for o, c in zip(out, cs)])
        grads = [np.asarray(tf.convert_to_tensor(g)) for g in tape.gradient(loss, model.trainable_weights)]
        model.save_weights(os.path.join(OUT, f"{name}.weights.h5"))
        arrays = {"x": x, "config": np.frombuffer(json.dumps(model.get_config()).encode(), np.uint8)}
        arrays.update({f"y{i}": y for i, y in enumerate(ys)})
        arrays.update({f"c{i}": c for i, c in enumerate(cs)})
        arrays.update({f"grad{i}": g for i, g in enumerate(grads)})
        np.savez_compressed(os.path.join(OUT, f"{name}_io.npz"), **arrays)
        print(name, [w.path for w in model.weights], [y.shape for y in ys])
    # fit: a few SGD steps of a masked model from fixed weights, unshuffled, one batch per step.
    model = keras.Sequential([
        keras.Input((6,), dtype="int32"), layers_emb := keras.layers.Embedding(12, 4, mask_zero=True),
        keras.layers.LSTM(3), keras.layers.Dense(1),
    ])  # fmt: skip
    del layers_emb
    model.set_weights([0.5 * rng.standard_normal(w.shape).astype(np.float32) for w in model.get_weights()])
    model.save_weights(os.path.join(OUT, "fit_start.weights.h5"))
    y = rng.standard_normal((6, 1)).astype(np.float32)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    history = model.fit(IDS, y, batch_size=3, epochs=2, shuffle=False, verbose=0)
    model.save_weights(os.path.join(OUT, "fit_end.weights.h5"))
    np.savez(os.path.join(OUT, "fit_io.npz"), x=IDS, y=y, loss=np.array(history.history["loss"], np.float32))
    print("fit", history.history["loss"])
    # fit on a masked sequence output: Keras 3 masks the loss and the metric by y_pred's mask.
    model = keras.Sequential([
        keras.Input((6,), dtype="int32"), keras.layers.Embedding(12, 4, mask_zero=True),
        keras.layers.LSTM(3, return_sequences=True), keras.layers.Dense(1),
    ])  # fmt: skip
    model.set_weights([0.5 * rng.standard_normal(w.shape).astype(np.float32) for w in model.get_weights()])
    model.save_weights(os.path.join(OUT, "fit_seq_start.weights.h5"))
    y = rng.standard_normal((6, 6, 1)).astype(np.float32)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    history = model.fit(IDS[:5], y[:5], batch_size=3, epochs=2, shuffle=False, verbose=0)
    model.save_weights(os.path.join(OUT, "fit_seq_end.weights.h5"))
    np.savez(
        os.path.join(OUT, "fit_seq_io.npz"), x=IDS[:5], y=y[:5],
        loss=np.array(history.history["loss"], np.float32), mae=np.array(history.history["mae"], np.float32),
    )  # fmt: skip
    print("fit_seq", history.history)
    # stateful=True: each call starts from the last call's states until reset_states().
    model = keras.Sequential([
        keras.Input((4, 3), batch_size=2), keras.layers.LSTM(3, stateful=True, return_sequences=True),
        keras.layers.GRU(2, stateful=True), keras.layers.Dense(2),
    ])  # fmt: skip
    model.set_weights([0.5 * rng.standard_normal(w.shape).astype(np.float32) for w in model.get_weights()])
    model.save_weights(os.path.join(OUT, "stateful.weights.h5"))
    xs = rng.standard_normal((3, 2, 4, 3)).astype(np.float32)
    ys = [np.asarray(model(x)) for x in xs]
    model.layers[0].reset_states()
    model.layers[1].reset_states()
    ys.append(np.asarray(model(xs[0])))
    np.savez(os.path.join(OUT, "stateful_io.npz"), x=xs, y=np.stack(ys))
    functional_archive(keras)


def functional_archive(keras) -> None:
    """A functional masked model saved whole by Keras: its config records the mask ops
    (NotEqual, Any) that a model rebuilt from it must write back under Keras's names."""
    keras.utils.set_random_seed(5)
    ids = keras.Input((6,), dtype="int32")
    floats = keras.Input((6, 2))
    a = keras.layers.LSTM(3)(keras.layers.Embedding(10, 4, mask_zero=True)(ids))
    b = keras.layers.GRU(2)(keras.layers.Masking()(floats))
    model = keras.Model([ids, floats], keras.layers.Dense(2)(keras.layers.Concatenate()([a, b])))
    model.save(os.path.join(OUT, "functional_mask.keras"))


if __name__ == "__main__":
    if sys.argv[1:] == ["functional_archive"]:  # that file alone
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        import keras

        functional_archive(keras)
    else:
        main()
