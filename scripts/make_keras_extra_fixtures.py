"""Writes the golden fixtures of the extra gt.keras layers (tests/keras/layers_extra/): small
models using them, their weight files as real Keras 3 saves them, Keras's configs, inputs and
the outputs Keras computes, and one ``.keras`` archive (with a Python-lambda Lambda layer) that
gt must load. Needs tensorflow-cpu (Keras 3); the tests only read the files.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /work/peers/bin/python scripts/make_keras_extra_fixtures.py
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "keras", "fixtures")


sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tests.keras.layers_extra._models import image_model, masked_model, seq_model  # noqa: E402


def preprocessing_outputs(keras, rng):
    layers = keras.layers
    ids = np.array([[0, 1, 1, 3], [2, 2, 2, 0], [3, 0, 1, 2]], np.int32)
    out = {"ids": ids}
    for mode in ("one_hot", "multi_hot", "count"):
        layer = layers.CategoryEncoding(num_tokens=4, output_mode=mode)
        out[f"cat_{mode}"] = np.asarray(layer(ids[:, :1] if mode == "one_hot" else ids))
    cw = rng.random(ids.shape).astype(np.float32)
    out["count_weights"] = cw
    out["cat_count_weighted"] = np.asarray(
        layers.CategoryEncoding(4, output_mode="count")(ids, count_weights=cw)
    )
    vals = rng.standard_normal((200, 3)).astype(np.float32)
    out["disc_data"] = vals
    disc = layers.Discretization(num_bins=5)
    disc.adapt(vals)
    out["disc_boundaries"] = np.asarray(disc.bin_boundaries, np.float64)
    probe = rng.standard_normal((4, 3)).astype(np.float32) * 1.5
    out["disc_probe"] = probe
    out["disc_int"] = np.asarray(disc(probe))
    for mode in ("one_hot", "multi_hot", "count"):
        d = layers.Discretization(bin_boundaries=[-0.5, 0.0, 0.5], output_mode=mode)
        out[f"disc_{mode}"] = np.asarray(d(probe))
    norm = layers.Normalization(axis=(1, 2))
    data3 = rng.standard_normal((10, 2, 3)).astype(np.float32) * 3 + 1
    norm.adapt(data3)
    out["norm_data"] = data3
    out["norm_mean"] = np.asarray(norm.adapt_mean)
    out["norm_variance"] = np.asarray(norm.adapt_variance)
    out["norm_out"] = np.asarray(norm(data3[:2]))
    inv = layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 1.0, 0.25], invert=True)
    out["inv_out"] = np.asarray(inv(probe))
    batches = [data3[:3], data3[3:]]
    nb = layers.Normalization(axis=-1)
    nb.adapt(batches)
    out["norm_batched_mean"] = np.asarray(nb.adapt_mean)
    out["norm_batched_variance"] = np.asarray(nb.adapt_variance)
    return out


def main() -> None:
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    norm_data = rng.standard_normal((20, 6, 4)).astype(np.float32) * 2 + 0.5
    models = {
        "extra_seq": seq_model(keras, norm_data),
        "extra_img": image_model(keras),
        "extra_mask": masked_model(keras),
    }
    inputs = {
        "extra_seq": rng.standard_normal((3, 6, 4)).astype(np.float32),
        "extra_img": rng.standard_normal((2, 7, 6, 4)).astype(np.float32),
        "extra_mask": np.array([[1, 2, 3, 0, 0], [4, 5, 0, 0, 0], [6, 1, 2, 3, 4]], np.int32),
    }
    for name, model in models.items():
        # Random trainable weights, so a weight landing in the wrong place changes the output.
        for w in model.trainable_weights:
            w.assign(rng.standard_normal(tuple(w.shape)).astype(np.float32) * 0.5)
        x = inputs[name]
        ys = model(x, training=False)
        ys = ys if isinstance(ys, (list, tuple)) else [ys]
        model.save_weights(os.path.join(OUT, f"{name}.weights.h5"))
        np.savez(
            os.path.join(OUT, f"{name}_io.npz"), x=x, **{f"y{i}": np.asarray(y) for i, y in enumerate(ys)},
            config=json.dumps(model.get_config()), keras_version=keras.__version__,
        )  # fmt: skip
        print(name, x.shape, "->", [tuple(y.shape) for y in ys])
    np.savez(os.path.join(OUT, "extra_norm_data.npz"), norm_data=norm_data)
    np.savez(os.path.join(OUT, "extra_pre_io.npz"), **preprocessing_outputs(keras, rng))

    # A .keras archive: Sequential with an adapted Normalization, TimeDistributed, PReLU and a lambda.
    layers = keras.layers
    arch = keras.Sequential(
        [
            keras.Input((4, 3)),
            layers.Normalization(),
            layers.TimeDistributed(layers.Dense(5)),
            layers.PReLU(alpha_initializer="ones"),
            layers.Lambda(lambda x: x * 2.0 + 1.0),
            layers.GroupNormalization(groups=5),
            layers.Flatten(),
            layers.Dense(2),
        ]
    )
    arch.layers[0].adapt(rng.standard_normal((16, 4, 3)).astype(np.float32) * 2 - 1)
    for w in arch.trainable_weights:
        w.assign(rng.standard_normal(tuple(w.shape)).astype(np.float32) * 0.5)
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    arch.save(os.path.join(OUT, "extra_arch.keras"))
    np.savez(os.path.join(OUT, "extra_arch_io.npz"), x=x, y=np.asarray(arch(x)))
    print("extra_arch", x.shape)


if __name__ == "__main__":
    main()
