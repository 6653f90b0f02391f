"""Writes the golden fixtures of tests/keras/attention/: weight files saved by real Keras 3 for
attention models, the inputs and the outputs Keras computes with them, and a small
Transformer-encoder block saved whole as ``.keras``. Needs tensorflow-cpu (Keras 3); the tests
only read the files.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /work/peers/bin/python \
        scripts/make_keras_attention_fixtures.py   # writes tests/keras/attention/fixtures/*
"""

from __future__ import annotations

import os

import numpy as np

OUT = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "keras", "attention", "fixtures"
)


def models(keras, rng):
    layers = keras.layers
    out = {}

    # Self-attention on a 3-D input.
    x = keras.Input((5, 4))
    out["mha_self"] = (
        keras.Model(x, layers.MultiHeadAttention(num_heads=2, key_dim=3)(x, x)),
        [rng.standard_normal((3, 5, 4))],
    )

    # Cross-attention with a separate key, value_dim and output_shape.
    q, v, k = keras.Input((4, 6)), keras.Input((5, 8)), keras.Input((5, 3))
    mha = layers.MultiHeadAttention(num_heads=3, key_dim=2, value_dim=5, output_shape=7)
    out["mha_cross"] = (
        keras.Model([q, v, k], mha(q, v, key=k)),
        [rng.standard_normal((2, 4, 6)), rng.standard_normal((2, 5, 8)), rng.standard_normal((2, 5, 3))],
    )

    # Attention over two axes of a 4-D input.
    x = keras.Input((3, 4, 5))
    out["mha_axes"] = (
        keras.Model(x, layers.MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=(1, 2))(x, x)),
        [rng.standard_normal((2, 3, 4, 5))],
    )

    # A causal mask with a padding mask from Embedding(mask_zero=True); the padded query rows
    # attend to nothing (Keras's fused kernel: uniform weights there).
    ids = keras.Input((6,), dtype="int32")
    e = layers.Embedding(10, 8, mask_zero=True)(ids)
    out["mha_causal"] = (
        keras.Model(ids, layers.MultiHeadAttention(num_heads=2, key_dim=4)(e, e, use_causal_mask=True)),
        [np.array([[3, 1, 4, 1, 5, 0], [9, 2, 6, 0, 0, 0], [5, 3, 5, 8, 9, 7]], dtype=np.int32)],
    )

    # Scores returned, an explicit attention_mask (one query row fully masked), dropout > 0
    # (Keras's Softmax path: zeros there) in inference.
    q, v, am = keras.Input((4, 6)), keras.Input((5, 6)), keras.Input((4, 5), dtype="bool")
    o, s = layers.MultiHeadAttention(num_heads=2, key_dim=3, dropout=0.25)(
        q, v, attention_mask=am, return_attention_scores=True
    )
    mask = rng.random((2, 4, 5)) > 0.3
    mask[0, 2] = False
    out["mha_scores"] = (
        keras.Model([q, v, am], [o, s]),
        [rng.standard_normal((2, 4, 6)), rng.standard_normal((2, 5, 6)), mask],
    )

    # Attention (dot, scaled), Attention (concat) and AdditiveAttention with padding masks
    # and the causal mask, scores returned.
    qi, vi = keras.Input((5,), dtype="int32"), keras.Input((6,), dtype="int32")
    emb_q, emb_v = layers.Embedding(10, 4, mask_zero=True), layers.Embedding(10, 4, mask_zero=True)
    qe, ve = emb_q(qi), emb_v(vi)
    a1, s1 = layers.Attention(use_scale=True)([qe, ve], return_attention_scores=True)
    a2 = layers.Attention(use_scale=True, score_mode="concat")([qe, ve, ve])
    a3 = layers.AdditiveAttention()([qe, ve], use_causal_mask=True)
    a4 = layers.Attention()([qe, ve], use_causal_mask=True)
    ids_q = np.array([[1, 2, 3, 0, 0], [4, 5, 6, 7, 8]], dtype=np.int32)
    ids_v = np.array([[1, 2, 3, 4, 0, 0], [9, 8, 7, 6, 5, 4]], dtype=np.int32)
    out["luong_bahdanau"] = (keras.Model([qi, vi], [a1, s1, a2, a3, a4]), [ids_q, ids_v])
    return out


def transformer_block(keras, vocab=20, seq=8, dim=16):
    layers = keras.layers
    ids = keras.Input((seq,), dtype="int32")
    x = layers.Embedding(vocab, dim)(ids)
    a = layers.MultiHeadAttention(num_heads=2, key_dim=8, dropout=0.1)(x, x)
    x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, a]))
    f = layers.Dense(32, activation="relu")(x)
    f = layers.Dense(dim)(f)
    x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, f]))
    x = layers.GlobalAveragePooling1D()(x)
    return keras.Model(ids, layers.Dense(3)(x))


def main() -> None:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    import tensorflow as tf

    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(11)
    rng = np.random.default_rng(11)
    for name, (model, xs) in models(keras, rng).items():
        # Random weights everywhere (biases included), so every weight's layout matters.
        model.set_weights(
            [0.5 * rng.standard_normal(w.shape).astype(np.float32) for w in model.get_weights()]
        )
        xs = [x.astype(np.float32) if x.dtype == np.float64 else x for x in xs]
        ys = model(xs if len(xs) > 1 else xs[0], training=False)
        ys = [np.asarray(y) for y in (ys if isinstance(ys, (list, tuple)) else [ys])]
        model.save_weights(os.path.join(OUT, f"{name}.weights.h5"))
        arrays = {f"x{i}": x for i, x in enumerate(xs)}
        arrays.update({f"y{i}": y for i, y in enumerate(ys)})
        if name == "mha_self":  # gradients of sum(y**2) for the weights, as GradientTape gives
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(tf.square(model(xs[0], training=False)))
            grads = tape.gradient(loss, model.trainable_weights)
            arrays.update({f"g{i}": np.asarray(g) for i, g in enumerate(grads)})
        np.savez(os.path.join(OUT, f"{name}_io.npz"), **arrays)
        print(name, [w.path for w in model.weights], [y.shape for y in ys])

    # A Transformer-encoder block, compiled and trained a little, saved whole.
    model = transformer_block(keras)
    x_train = rng.integers(1, 20, size=(64, 8)).astype(np.int32)
    y_train = (x_train[:, 0] % 3).astype(np.int32)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x_train, y_train, epochs=1, batch_size=16, verbose=0)
    model.save(os.path.join(OUT, "encoder.keras"))
    x = rng.integers(0, 20, size=(5, 8)).astype(np.int32)
    np.savez(
        os.path.join(OUT, "encoder_io.npz"),
        x=x,
        y=np.asarray(model(x, training=False)),
        x_train=x_train,
        y_train=y_train,
    )
    print("encoder", [w.path for w in model.weights])

    # A padded, causal block: Keras's config records the masks as NotEqual/LogicalOr op nodes.
    layers = keras.layers
    ids = keras.Input((6,), dtype="int32")
    e = layers.Embedding(10, 8, mask_zero=True)(ids)
    a = layers.MultiHeadAttention(num_heads=2, key_dim=4)(e, e, use_causal_mask=True)
    h = layers.LayerNormalization()(layers.Add()([e, a]))
    model = keras.Model(ids, layers.Dense(2)(layers.GlobalAveragePooling1D()(h)))
    model.set_weights([0.5 * rng.standard_normal(w.shape).astype(np.float32) for w in model.get_weights()])
    model.save(os.path.join(OUT, "encoder_masked.keras"))
    x = np.array([[3, 1, 4, 1, 5, 0], [9, 2, 6, 0, 0, 0], [1, 2, 3, 4, 5, 6]], dtype=np.int32)
    np.savez(os.path.join(OUT, "encoder_masked_io.npz"), x=x, y=np.asarray(model(x, training=False)))


if __name__ == "__main__":
    main()
