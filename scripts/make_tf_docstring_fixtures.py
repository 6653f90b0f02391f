"""Writes the docstrings of TensorFlow API symbols, whose ``>>>`` examples a test runs with
``tf`` -> ``gt`` (tests/autodiff/test_tf_docstrings.py), to
``tests/<area>/fixtures/tf_docstrings.json``. Run with a Python that has tensorflow-cpu 2.21:

    /work/peers/bin/python scripts/make_tf_docstring_fixtures.py
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]

import tensorflow as tf  # noqa: E402

AREAS = {
    "autodiff": {
        "tf.GradientTape": tf.GradientTape,
        "tf.GradientTape.stop_recording": tf.GradientTape.stop_recording,
        "tf.GradientTape.gradient": tf.GradientTape.gradient,
        "tf.custom_gradient": tf.custom_gradient,
        "tf.recompute_grad": tf.recompute_grad,
        "tf.autodiff.ForwardAccumulator": tf.autodiff.ForwardAccumulator,
        "tf.IndexedSlices": tf.IndexedSlices,
    },
}


def main() -> None:
    for area, symbols in AREAS.items():
        docs = {name: inspect.getdoc(obj) for name, obj in symbols.items()}
        path = ROOT / "tests" / area / "fixtures" / "tf_docstrings.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps({"tensorflow": tf.__version__, "docstrings": docs}, indent=1) + "\n")
        print(f"{path.relative_to(ROOT)}: {sum(d.count('>>>') for d in docs.values())} examples")


if __name__ == "__main__":
    main()
