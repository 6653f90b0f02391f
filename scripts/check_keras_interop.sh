#!/usr/bin/env bash
# Whole-model .keras archives across gputensor and real Keras 3, both ways: gt writes models
# that Keras loads (Sequential, functional, every layer kind, text, recurrent, a masked
# Bidirectional stack, a mixed_float16 CNN; predictions compared), Keras writes models that gt
# loads (predictions and optimizer state compared). Needs a Python
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
L = k.layers  # every layer kind, in a Sequential and a functional model
z = k.Sequential([
    k.Input((12, 12, 3)), L.Rescaling(0.5, offset=0.1), L.ZeroPadding2D(1),
    L.Conv2D(4, 3, strides=2, padding="same", activation="relu"), L.BatchNormalization(),
    L.DepthwiseConv2D(3, padding="same"), L.SeparableConv2D(4, 3), L.Conv2DTranspose(3, 2, strides=2),
    L.MaxPooling2D(2), L.AveragePooling2D(1), L.Dropout(0.2), L.LayerNormalization(), L.Activation("tanh"),
    L.ReLU(max_value=6.0), L.UpSampling2D(2), L.GlobalAveragePooling2D(), L.Reshape((3, 1, 1)),
    L.GlobalMaxPooling2D(), L.Flatten(), L.Dense(3), L.LeakyReLU(0.1),
])  # fmt: skip
z.compile(optimizer="rmsprop", loss="mse")
xz = np.random.default_rng(1).standard_normal((4, 12, 12, 3)).astype("float32")
z.fit(xz, np.ones((4, 3), "float32"), epochs=1, verbose=0)
z.save(f"{d}/zoo.keras")
np.save(f"{d}/xz.npy", xz)
np.save(f"{d}/zoo.npy", z.predict(xz, verbose=0))
i = k.Input((6,), dtype="int32", name="ids")
e = L.Embedding(10, 4)(i)
a = L.GlobalAveragePooling1D()(L.Conv1D(3, 2, padding="causal")(e))
b = L.GlobalMaxPooling1D()(L.MaxPooling1D()(e))
t = k.Model(i, L.Dense(2)(L.Concatenate()([a, L.Add()([b, b])])))
ids = np.random.default_rng(2).integers(0, 10, (5, 6)).astype("int32")
t.save(f"{d}/text.keras")
np.save(f"{d}/ids.npy", ids)
np.save(f"{d}/text.npy", t.predict(ids, verbose=0))
r = k.Sequential([k.Input((5, 3)), L.LSTM(4, return_sequences=True), L.GRU(3), L.Dense(2)])
r.compile(optimizer=k.optimizers.Adam(0.01), loss=k.losses.MeanSquaredError(), metrics=[k.metrics.MeanAbsoluteError()])
xs = np.random.default_rng(3).standard_normal((4, 5, 3)).astype("float32")
r.fit(xs, np.ones((4, 2), "float32"), epochs=1, verbose=0)
r.save(f"{d}/rnn.keras")
np.save(f"{d}/xs.npy", xs)
np.save(f"{d}/rnn.npy", r.predict(xs, verbose=0))
pad = np.array([[3, 5, 2, 0, 0, 0], [1, 0, 0, 0, 0, 0], [4, 4, 4, 4, 9, 2]], "int32")  # 0: padding
b = k.Sequential([k.Input((6,), dtype="int32"), L.Embedding(10, 4, mask_zero=True),
                  L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode="sum"), L.GRU(2)])
b.save(f"{d}/mask.keras")
np.save(f"{d}/pad.npy", pad)
np.save(f"{d}/mask.npy", b.predict(pad, verbose=0))
k.mixed_precision.set_global_policy("mixed_float16")
mp = k.Sequential([k.Input((8, 8, 1)), L.Conv2D(4, 3, activation="relu"), L.Flatten(), L.Dense(5),
                   L.Activation("softmax", dtype="float32")])
mp.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
mp.fit(x, np.arange(16) % 5, epochs=1, verbose=0)
mp.save(f"{d}/mixed.keras")
np.save(f"{d}/mixed.npy", mp.predict(x, verbose=0))
k.mixed_precision.set_global_policy("float32")
PY
$keras_py - <<'PY' 2>&1 | quiet
import os
import numpy as np
import keras
d = os.environ["DIR"]
x = np.load(f"{d}/x.npy")
models = (("seq", x), ("fun", x), ("zoo", np.load(f"{d}/xz.npy")), ("text", np.load(f"{d}/ids.npy")),
          ("rnn", np.load(f"{d}/xs.npy")), ("mask", np.load(f"{d}/pad.npy")), ("mixed", x))
for n, inputs in models:
    # A mixed model's layers take the global policy when loaded (Keras's rule): set it first.
    keras.mixed_precision.set_global_policy("mixed_float16" if n == "mixed" else "float32")
    m = keras.models.load_model(f"{d}/{n}.keras")
    gap = np.abs(m.predict(inputs, verbose=0) - np.load(f"{d}/{n}.npy")).max()
    print(f"Keras loads gt's {n}.keras: max |keras - gt| = {gap:.2e}")
keras.mixed_precision.set_global_policy("float32")
m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.MaxPooling2D(),
                      keras.layers.Flatten(), keras.layers.Dense(10)])
m.compile(optimizer=keras.optimizers.Adam(0.01), metrics=["accuracy"],
          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
m.fit(x, np.arange(16) % 10, epochs=2, verbose=0)
m.save(f"{d}/kseq.keras")
np.save(f"{d}/kseq.npy", m.predict(x, verbose=0))
np.savez(f"{d}/kseq_opt.npz", *[v.numpy() for v in m.optimizer.variables])
L = keras.layers  # the same every-layer Sequential, written by Keras
z = keras.Sequential([
    keras.Input((12, 12, 3)), L.Rescaling(0.5, offset=0.1), L.ZeroPadding2D(1),
    L.Conv2D(4, 3, strides=2, padding="same", activation="relu"), L.BatchNormalization(),
    L.DepthwiseConv2D(3, padding="same"), L.SeparableConv2D(4, 3), L.Conv2DTranspose(3, 2, strides=2),
    L.MaxPooling2D(2), L.AveragePooling2D(1), L.Dropout(0.2), L.LayerNormalization(), L.Activation("tanh"),
    L.ReLU(max_value=6.0), L.UpSampling2D(2), L.GlobalAveragePooling2D(), L.Reshape((3, 1, 1)),
    L.GlobalMaxPooling2D(), L.Flatten(), L.Dense(3), L.LeakyReLU(0.1),
])  # fmt: skip
z.compile(optimizer="rmsprop", loss="mse")
xz = np.load(f"{d}/xz.npy")
z.fit(xz, np.ones((4, 3), "float32"), epochs=1, verbose=0)
z.save(f"{d}/kzoo.keras")
np.save(f"{d}/kzoo.npy", z.predict(xz, verbose=0))
pad = np.load(f"{d}/pad.npy")
b = keras.Sequential([keras.Input((6,), dtype="int32"), L.Embedding(10, 4, mask_zero=True),
                      L.Bidirectional(L.GRU(3, return_sequences=True)), L.LSTM(2)])
b.save(f"{d}/kmask.keras")
np.save(f"{d}/kmask.npy", b.predict(pad, verbose=0))
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
z = gt.keras.models.load_model(f"{d}/kzoo.keras")
gap = np.abs(z.predict(np.load(f"{d}/xz.npy"), verbose=0) - np.load(f"{d}/kzoo.npy")).max()
print(f"gt loads Keras's kzoo.keras: max |gt - keras| = {gap:.2e}")
b = gt.keras.models.load_model(f"{d}/kmask.keras")
gap = np.abs(b.predict(np.load(f"{d}/pad.npy"), verbose=0) - np.load(f"{d}/kmask.npy")).max()
print(f"gt loads Keras's kmask.keras: max |gt - keras| = {gap:.2e}")
PY
