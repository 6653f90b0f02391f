#!/usr/bin/env bash
# The extra gt.keras layers across gputensor and real Keras 3, gt -> Keras: gt writes .keras
# archives of the models of tests/keras/layers_extra/test_keras_extra_golden.py (with Keras's
# weights loaded) and of an adapted Discretization next to a Lambda; Keras loads them and must
# give the fixtures' outputs. (Keras -> gt is in the tests.) Needs a Python with gputensor's
# requirements (GT_PY) and one with tensorflow-cpu / Keras 3 (KERAS_PY).
#   GT_PY=python KERAS_PY=/path/to/tf/python bash scripts/check_keras_extra_interop.sh
set -euo pipefail
gt_py=${GT_PY:-python3}
keras_py=${KERAS_PY:-python3}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export PYTHONPATH=${PYTHONPATH:-.} DIR=$dir
$gt_py - <<'PY'
import os
import sys

import numpy as np

sys.path.insert(0, "tests/keras/layers_extra")
import test_keras_extra_golden as g  # noqa: E402

from gputensor.keras import layers, models  # noqa: E402

d, F = os.environ["DIR"], "tests/keras/fixtures/"
builds = {
    "extra_seq": lambda: g.gt_seq_model(np.load(F + "extra_norm_data.npz")["norm_data"]),
    "extra_img": g.gt_image_model,
    "extra_mask": g.gt_masked_model,
}
for name, build in builds.items():
    m = build()
    m.load_weights(F + name + ".weights.h5")
    m.save(f"{d}/{name}.keras")
models.load_model(F + "extra_arch.keras", safe_mode=False).save(f"{d}/extra_arch.keras")
disc = layers.Discretization(num_bins=3)
disc.adapt(np.linspace(0, 1, 50, dtype="float32"))
np.save(f"{d}/bounds.npy", np.asarray(disc.bin_boundaries))
models.Sequential([models.Input((4,)), disc, layers.Lambda(lambda x: x * 1)]).save(f"{d}/disc.keras")
PY
$keras_py - <<'PY' 2>&1 | grep -v "^WARNING\|oneDNN\|cuda\|TF-TRT\|rebuild TensorFlow\|cpu_feature\|E0000\|W0000\|I0000\|absl" || true
import os

import keras
import numpy as np

d, F = os.environ["DIR"], "tests/keras/fixtures/"
bad = 0
for name in ("extra_seq", "extra_img", "extra_mask", "extra_arch"):
    m = keras.saving.load_model(f"{d}/{name}.keras", safe_mode=False)
    io = np.load(F + name + "_io.npz")
    ys = m(io["x"])
    ys = ys if isinstance(ys, (list, tuple)) else [ys]
    err = max(float(np.abs(np.asarray(y) - io[f"y{i}" if f"y{i}" in io else "y"]).max()) for i, y in enumerate(ys))
    bad += err > 1e-5
    print(f"{name}: Keras loads gt's archive, max |diff| {err:.2e}")
m = keras.saving.load_model(f"{d}/disc.keras", safe_mode=False)
ok = np.allclose(m.layers[0].bin_boundaries, np.load(f"{d}/bounds.npy"))
bad += not ok
print("discretization boundaries kept:", ok)
print("FAILED" if bad else "OK")
PY
