#!/usr/bin/env bash
# Whole-model .keras archives across gputensor and real Keras 3, both ways: gt writes a
# Sequential and a functional model that Keras loads (predictions compared), Keras writes a
# trained model that gt loads (predictions and optimizer state compared). Needs a Python
# with gputensor's requirements (GT_PY) and one with tensorflow-cpu / Keras 3 (KERAS_PY).
#   GT_PY=python KERAS_PY=/path/to/tf/python bash scripts/check_keras_interop.sh
set -uo pipefail
gt_py=${GT_PY:-python3}
keras_py=${KERAS_PY:-python3}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export PYTHONPATH=${PYTHONPATH:-.} DIR=$dir
quiet() { grep -v "^WARNING\|oneDNN\|cuda\|TF-TRT\|rebuild TensorFlow\|cpu_feature\|E0000\|W0000\|absl" || true; }
$gt_py - <<'PY'
import os
import numpy as np
import gputensor as gt
d, k = os.environ["DIR"], gt.keras
x = np.random.default_rng(0).standard_normal((16, 8, 8, 1)).astype("float32")
np.save(f"{d}/x.npy", x)
m = k.Sequential([k.Input((8, 8, 1)), k.layers.Conv2D(4, 3, activation="relu"), k.layers.MaxPooling2D(),
                  k.layers.Flatten(), k.layers.Dense(10, activation="softmax")])
m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
m.fit(x, np.arange(16) % 10, epochs=1, verbose=0)
m.save(f"{d}/seq.keras")
np.save(f"{d}/seq.npy", m.predict(x, verbose=0))
i = k.Input((8, 8, 1), name="img")
h = k.layers.Flatten()(k.layers.Conv2D(3, 3, padding="same")(i))
f = k.Model(i, k.layers.Dense(2)(k.layers.Concatenate()([h, k.layers.Flatten()(i)])))
f.save(f"{d}/fun.keras")
np.save(f"{d}/fun.npy", f.predict(x, verbose=0))
PY
$keras_py - <<'PY' 2>&1 | quiet
import os
import numpy as np
import keras
d = os.environ["DIR"]
x = np.load(f"{d}/x.npy")
for n in ("seq", "fun"):
    m = keras.models.load_model(f"{d}/{n}.keras")
    print(f"Keras loads gt's {n}.keras: max |keras - gt| = {np.abs(m.predict(x, verbose=0) - np.load(f'{d}/{n}.npy')).max():.2e}")
m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.MaxPooling2D(),
                      keras.layers.Flatten(), keras.layers.Dense(10)])
m.compile(optimizer=keras.optimizers.Adam(0.01), metrics=["accuracy"],
          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
m.fit(x, np.arange(16) % 10, epochs=2, verbose=0)
m.save(f"{d}/kseq.keras")
np.save(f"{d}/kseq.npy", m.predict(x, verbose=0))
np.savez(f"{d}/kseq_opt.npz", *[v.numpy() for v in m.optimizer.variables])
PY
$gt_py - <<'PY'
import os
import numpy as np
import gputensor as gt
d = os.environ["DIR"]
x = np.load(f"{d}/x.npy")
m = gt.keras.models.load_model(f"{d}/kseq.keras")
print(f"gt loads Keras's kseq.keras: max |gt - keras| = {np.abs(m.predict(x, verbose=0) - np.load(f'{d}/kseq.npy')).max():.2e}")
want = np.load(f"{d}/kseq_opt.npz")
gap = max(float(np.abs(np.asarray(v.numpy()) - want[f"arr_{i}"]).max()) for i, v in enumerate(m.optimizer.variables))
print(f"  optimizer variables: {len(m.optimizer.variables)} of {len(want.files)}, max difference {gap:.2e}")
PY
