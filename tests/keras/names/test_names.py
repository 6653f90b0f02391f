"""Keras 3's variable names and paths (gputensor/keras/variables.py), against real Keras's.

The fixture is what Keras 3.15 on TensorFlow 2.21 gives for tests/keras/names/name_cases.py
(scripts/make_keras_names_fixture.py); plain ``gt.Variable`` keeps TensorFlow's naming.
"""

import json
import os

import numpy as np
import pytest

import gputensor as gt
from gputensor.keras.layers.base import reset_uids
from gputensor.keras.variables import KerasVariable, current_path, name_scope
from tests.keras.names.name_cases import cases

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "keras3_names.json")

with open(FIXTURE) as f:
    KERAS = json.load(f)

_OURS: dict = {}


def ours() -> dict:
    if not _OURS:
        _OURS.update(cases(gt.keras, gt.Variable, reset_uids))
    return _OURS


@pytest.mark.parametrize("case", sorted(k for k in KERAS if k not in ("keras", "tensorflow")))
def test_names_and_paths_match_keras3(case):
    assert ours()[case] == KERAS[case]


def test_plain_variables_and_modules_keep_tensorflow_names():
    assert gt.Variable(1.0, name="x").name == "x:0"
    with gt.name_scope("outer"):
        assert gt.Variable(1.0, name="y").name == "outer/y:0"

    class Dense(gt.Module):
        def __init__(self, name=None):
            super().__init__(name=name)
            self.w = gt.Variable(gt.ones([2, 2]), name="w")

    assert [v.name for v in Dense(name="d").variables] == ["w:0"]  # TF: __init__ is outside the scope
    with Dense(name="e").name_scope:
        assert gt.Variable(1.0, name="z").name == "e/z:0"
    assert not hasattr(gt.Variable(1.0), "path")


def test_keras_variable_is_a_variable_named_by_path_in_messages():
    model = gt.keras.Sequential([gt.keras.Input((3,)), gt.keras.layers.Dense(2)])
    kernel = model.weights[0]
    assert isinstance(kernel, gt.Variable) and isinstance(kernel, KerasVariable)
    assert repr(kernel).startswith(f"<KerasVariable path={kernel.path}, shape=(3, 2), dtype=float32")
    with pytest.raises(ValueError, match=f"variable '{kernel.path}'"):
        kernel.assign(np.zeros((2, 2), "float32"))
    with pytest.raises(ValueError, match="cannot contain character `/`"):
        gt.keras.layers.Dense(2).add_weight(shape=(1,), name="a/b")
    # Values and gradients are a gt.Variable's: the matmul fast path reads it.
    x = np.ones((1, 3), "float32")
    with gt.GradientTape() as tape:
        y = gt.reduce_sum(model(x))
    grads = tape.gradient(y, model.trainable_variables)
    np.testing.assert_allclose(grads[0].numpy(), np.ones((3, 2)))
    np.testing.assert_allclose(model(x).numpy(), x @ kernel.numpy() + model.weights[1].numpy(), rtol=1e-6)


def test_path_scopes_nest_and_a_layer_keeps_its_parent_path():
    with name_scope("outer"):
        with name_scope("inner"):
            assert current_path() == "outer/inner"
            v = KerasVariable(1.0, name="v")
    assert (v.name, v.path, current_path()) == ("v", "outer/inner/v", "")
    dense = gt.keras.layers.Dense(2, name="d")
    with name_scope("first"):
        dense(np.ones((1, 3), "float32"))
    with name_scope("elsewhere"):
        dense(np.ones((1, 3), "float32"))  # already built: nothing new, path recorded once
        assert current_path() == "elsewhere"
    assert [w.path for w in dense.weights] == ["first/d/kernel", "first/d/bias"]


def test_two_layers_kernels_get_distinct_optimizer_slots():
    model = gt.keras.Sequential([gt.keras.Input((3,)), gt.keras.layers.Dense(2), gt.keras.layers.Dense(2)])
    opt = gt.keras.optimizers.Adam()
    opt.build(model.trainable_variables)
    slots = opt.variables[2:]
    assert len({v.name for v in slots}) == len(slots) == 8
    x, y = np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")
    before = [v.numpy() for v in model.trainable_variables]
    with gt.GradientTape() as tape:
        loss = gt.reduce_mean((model(x) - y) ** 2)
    grads = [g.numpy() for g in tape.gradient(loss, model.trainable_variables)]
    opt.apply_gradients(zip(grads, model.trainable_variables))
    # Adam's first step is -lr * g / (|g| + eps'): each slot followed its own variable.
    for v, b, g in zip(model.trainable_variables, before, grads):
        step = -0.001 * g / (np.abs(g) + 1e-7 / np.sqrt(1 - 0.999))
        np.testing.assert_allclose(v.numpy() - b, step, rtol=1e-3, atol=1e-7)


def test_deepcopy_keeps_name_and_path():
    import copy

    layer = gt.keras.layers.Dense(2, name="dc")
    layer.build((None, 3))
    k2 = copy.deepcopy(layer.weights[0])
    assert (k2.name, k2.path) == ("kernel", "dc/kernel")
    np.testing.assert_array_equal(k2.numpy(), layer.weights[0].numpy())
