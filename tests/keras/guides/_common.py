"""Shared helpers of the guide tests and of scripts/make_keras_guide_fixtures.py.

Each ``guide_*.py`` module holds a guide's code blocks as functions ``block_*(tf, keras, np)``
that return a dict of the deterministic values the guide prints (shapes, names, parameter
counts, outputs of weights set from fixed arrays). The fixture script runs them with real
TensorFlow/Keras and writes ``fixtures/<guide>.json``; the tests run them with ``gt`` and compare.
These modules import neither TensorFlow nor gputensor: the caller passes the modules in.
"""

from __future__ import annotations

import json
import math
import os
import re

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")

_ROW = re.compile(r"^[\s│]*(\S+) \((\w+)\)\s*[│\s]\s*(\(.*?\)|\[.*?\]|\?)\s*[│\s]\s*([\d,]+)( \(unbuilt\))?")
_TOTAL = re.compile(r"^\s*(Total|Trainable|Non-trainable|Optimizer) params: ([\d,]+)")


def summary_table(model) -> dict:
    """``{"rows": [[name, class, output shape, params(, "unbuilt")], ...], "totals": [total, trainable,
    non-trainable(, optimizer)]}`` parsed from ``model.summary(print_fn=...)`` (Keras 3's box table or
    gputensor's plain one)."""
    lines: list = []
    model.summary(print_fn=lambda line, *a, **k: lines.extend(str(line).split("\n")))
    rows, totals, cells = [], [], None
    for line in lines:
        if line.startswith("│"):  # Keras 3's box table: a row may wrap over several lines
            parts = [p.strip() for p in line.strip().strip("│").split("│")]
            cells = parts if cells is None else [f"{a} {b}".strip() for a, b in zip(cells, parts)]
            continue
        if cells is not None:
            if "…" in cells[0] or "…" in cells[1]:
                # Keras's table cut a long name or shape: take them from the layer itself.
                layer = _all_layers(model)[len(rows)]
                cells[0] = f"{layer.name} ({type(layer).__name__})"
                cells[1] = str(tuple(layer.output.shape))
            m = _ROW.match(f"{cells[0]} │ {cells[1]} │ {cells[2]}")
            if m:
                rows.append(_row(m))
            cells = None
        m = _ROW.match(line)
        if m:
            rows.append(_row(m))
        t = _TOTAL.match(line)
        if t:
            totals.append(int(t.group(2).replace(",", "")))
    return {"rows": rows, "totals": totals}


def _row(m) -> list:
    row = [m.group(1), m.group(2), m.group(3), int(m.group(4).replace(",", ""))]
    return row + ["unbuilt"] if m.group(5) else row


def _all_layers(model) -> list:
    """The layers a summary lists: an InputLayer first for functional models (Keras 3)."""
    layers = list(model.layers)
    inputs = getattr(model, "_input_layers", None)
    if inputs and not any(type(x).__name__ == "InputLayer" for x in layers):
        layers = list(inputs) + layers
    return layers


def to_json(value):
    """Nested lists/dicts/tuples of numbers, strings and arrays as JSON-friendly values."""
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if hasattr(value, "numpy") and not isinstance(value, type):
        value = value.numpy()
    if hasattr(value, "tolist"):
        return to_json(value.tolist())
    if isinstance(value, float):
        return float(value)
    return value


def load(guide: str) -> dict:
    with open(os.path.join(FIXTURES, f"{guide}.json")) as f:
        return json.load(f)


def assert_matches(actual, expected, path: str = "", rtol: float = 1e-4, atol: float = 1e-5) -> None:
    """Recursive equality; floats to ``rtol``/``atol`` (float32 sums of hundreds of terms differ
    between TensorFlow's kernels and gputensor's in the last digits). The message names the path."""
    actual = to_json(actual)
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected a dict, got {actual!r}"
        assert sorted(actual) == sorted(expected), f"{path}: keys {sorted(actual)} != {sorted(expected)}"
        for k in expected:
            assert_matches(actual[k], expected[k], f"{path}.{k}", rtol, atol)
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: expected a list, got {actual!r}"
        assert len(actual) == len(expected), f"{path}: length {len(actual)} != {len(expected)}: {actual!r}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_matches(a, e, f"{path}[{i}]", rtol, atol)
    elif isinstance(expected, float) or isinstance(actual, float):
        assert isinstance(actual, (int, float)), f"{path}: expected a number, got {actual!r}"
        assert math.isclose(actual, expected, rel_tol=rtol, abs_tol=atol), f"{path}: {actual} != {expected}"
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def fixed_weights(np, model_or_layer, seed: int = 0) -> None:
    """Sets every weight to a fixed NumPy pattern (the same in Keras and gputensor)."""
    rng = np.random.RandomState(seed)
    model_or_layer.set_weights(
        [rng.uniform(-0.5, 0.5, size=tuple(w.shape)).astype("float32") for w in model_or_layer.get_weights()]
    )


def mnist_like(np, n: int = 1024):
    """``(x_train, y_train), (x_test, y_test)`` shaped like MNIST (uint8 28x28 images, int labels)
    but small and made of ten noisy fixed class patterns, so a few steps separate them."""
    rng = np.random.RandomState(0)
    y = rng.randint(0, 10, size=n)
    centers = rng.uniform(0, 255, size=(10, 784))
    x = np.clip(centers[y] + rng.normal(0, 30, size=(n, 784)), 0, 255).astype("uint8")
    cut = n * 3 // 4
    return (x[:cut].reshape(-1, 28, 28), y[:cut]), (x[cut:].reshape(-1, 28, 28), y[cut:])
