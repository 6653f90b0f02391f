"""Writes tests/keras/names/fixtures/keras3_names.json: the names and paths real Keras 3 gives
the variables of tests/keras/names/name_cases.py's models.

Run with TensorFlow 2.21 (Keras 3) installed: /work/peers/bin/python scripts/make_keras_names_fixture.py
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "keras", "names"))

from name_cases import cases  # noqa: E402


def main() -> None:
    out = cases(keras, tf.Variable, keras.backend.clear_session)
    folder = os.path.join(ROOT, "tests", "keras", "names", "fixtures")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "keras3_names.json"), "w") as f:
        json.dump({"keras": keras.__version__, "tensorflow": tf.__version__, **out}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
