"""Writes the golden fixtures of gt.keras mixed precision (tests/keras/mixed_precision/):
a small CNN built under ``keras.mixed_precision.set_global_policy("mixed_float16")`` (Conv2D,
BatchNormalization, Dense layers computing in float16 with float32 variables, a float32
softmax output), its ``.weights.h5`` and ``.keras`` archive as real Keras 3 saves them, the
outputs Keras computes, and three ``train_on_batch`` steps with SGD through the
LossScaleOptimizer ``compile`` adds (losses, weights and the loss-scale variables after).
Needs tensorflow-cpu (Keras 3); the tests only read the files.

    /work/peers/bin/python scripts/make_keras_mixed_fixtures.py
"""

from __future__ import annotations

import json
import os
import sys
import zipfile

import numpy as np

OUT = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    "tests",
    "keras",
    "mixed_precision",
    "fixtures",
)


sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tests.keras.mixed_precision._models import mixed_cnn  # noqa: E402


def main() -> None:
    import keras

    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = mixed_cnn(keras)
        weights = []
        for w in model.weights:
            value = rng.standard_normal(tuple(w.shape)).astype(np.float32) * 0.5
            if "variance" in w.path:
                value = np.abs(value) + 0.5
            weights.append(value)
        model.set_weights(weights)
        x = rng.standard_normal((5, 6, 6, 2)).astype(np.float32)
        y = np.asarray(model(x, training=False))
        model.save_weights(os.path.join(OUT, "mixed_cnn.weights.h5"))
        # Training: three SGD steps on fixed batches through compile's LossScaleOptimizer.
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy")
        xt = rng.standard_normal((3, 8, 6, 6, 2)).astype(np.float32)
        yt = rng.integers(0, 3, size=(3, 8)).astype(np.int32)
        losses = [float(model.train_on_batch(xt[i], yt[i])) for i in range(3)]
        opt = model.optimizer
        trained = [np.asarray(w) for w in model.weights]
        model.save(os.path.join(OUT, "mixed_cnn.keras"))
        with zipfile.ZipFile(os.path.join(OUT, "mixed_cnn.keras")) as z:
            config = json.loads(z.read("config.json"))
        dtypes = [layer["config"]["dtype"] for layer in config["config"]["layers"]]
        np.savez(
            os.path.join(OUT, "mixed_cnn_io.npz"),
            x=x,
            y=y,
            y_dtype=str(np.asarray(model(x)).dtype),
            xt=xt,
            yt=yt,
            losses=np.array(losses),
            **{f"trained_{i}": w for i, w in enumerate(trained)},
            dynamic_scale=float(opt.dynamic_scale),
            step_counter=int(opt.step_counter),
            iterations=int(opt.iterations),
            optimizer_class=type(opt).__name__,
            layer_dtypes=json.dumps(dtypes),
            compute_dtypes=json.dumps([layer.compute_dtype for layer in model.layers]),
            keras_version=keras.__version__,
        )
        print("mixed_cnn", x.shape, "->", y.shape, y.dtype, "losses", losses, type(opt).__name__)
    finally:
        keras.mixed_precision.set_global_policy("float32")


if __name__ == "__main__":
    main()
