"""Writes tests/keras/guides/fixtures/<guide>.json: what real Keras 3 computes for each block of
the guide modules in tests/keras/guides/ (deterministic values only: shapes, names, parameter
counts, outputs on weights set from fixed arrays).

Run with a Python that has tensorflow-cpu and Keras 3 (here /work/peers/bin/python), from the
repository root: ``python scripts/make_keras_guide_fixtures.py [guide ...]``.
"""

from __future__ import annotations

import importlib
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

keras = tf.keras

from tests.keras.guides._common import FIXTURES, to_json  # noqa: E402

GUIDES = [
    "sequential",
    "functional",
    "subclassing",
    "training",
    "loop",
    "custom_fit",
    "callbacks",
    "masking",
    "rnn",
]


def main(argv: list[str]) -> None:
    os.makedirs(FIXTURES, exist_ok=True)
    for guide in argv or GUIDES:
        mod = importlib.import_module(f"tests.keras.guides.guide_{guide}")
        out = {}
        for name in sorted(n for n in dir(mod) if n.startswith("block_")):
            keras.utils.clear_session()
            tf.random.set_seed(0)
            got = getattr(mod, name)(tf, keras, np)
            # Keys starting with "_" depend on random training: the tests check them qualitatively.
            out[name] = to_json({k: v for k, v in got.items() if not k.startswith("_")})
            print(guide, name, "ok")
        with open(os.path.join(FIXTURES, f"{guide}.json"), "w") as f:
            json.dump(out, f, indent=1, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
