"""gt.train.load_checkpoint / list_variables: keys, shapes, dtypes and values read back from a file."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import gputensor as gt
from gputensor import errors
from gputensor import train as gt_train


class Dense(gt.Module):
    def __init__(self, w, name=None):
        super().__init__(name=name)
        self.w = gt.Variable(w, name="w")
        self.b = gt.Variable(np.zeros(w.shape[1], np.float32), name="b")


def _saved(tmp_path):
    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    model = Dense(w)
    step = gt.Variable(np.int64(7))
    ckpt = gt_train.Checkpoint(model=model, step=step)
    path = ckpt.save(os.path.join(tmp_path, "ckpt"))
    return path, w


def test_list_variables_lists_sorted_keys_and_shapes_with_the_object_graph_entry(tmp_path):
    path, _ = _saved(tmp_path)
    assert gt_train.list_variables(path) == [
        ("_CHECKPOINTABLE_OBJECT_GRAPH", []),
        ("model/b/.ATTRIBUTES/VARIABLE_VALUE", [3]),
        ("model/w/.ATTRIBUTES/VARIABLE_VALUE", [2, 3]),
        ("save_counter/.ATTRIBUTES/VARIABLE_VALUE", []),
        ("step/.ATTRIBUTES/VARIABLE_VALUE", []),
    ]
    # A directory reads its newest checkpoint (the state file written by save).
    assert gt_train.list_variables(str(tmp_path)) == gt_train.list_variables(path)


def test_reader_gives_values_dtypes_and_the_index(tmp_path):
    path, w = _saved(tmp_path)
    reader = gt_train.load_checkpoint(str(tmp_path))
    np.testing.assert_array_equal(reader.get_tensor("model/w/.ATTRIBUTES/VARIABLE_VALUE"), w)
    assert reader.get_tensor("step/.ATTRIBUTES/VARIABLE_VALUE") == 7
    dtypes = reader.get_variable_to_dtype_map()
    assert dtypes["model/w/.ATTRIBUTES/VARIABLE_VALUE"] == gt.float32
    assert dtypes["step/.ATTRIBUTES/VARIABLE_VALUE"] == gt.int64
    assert "_CHECKPOINTABLE_OBJECT_GRAPH" not in dtypes  # no string dtype in gputensor
    shapes = reader.get_variable_to_shape_map()
    assert set(shapes) == set(dtypes) | {"_CHECKPOINTABLE_OBJECT_GRAPH"}
    index = json.loads(reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
    assert set(index["variables"]) == set(dtypes)
    assert reader.has_tensor("model/b/.ATTRIBUTES/VARIABLE_VALUE")
    assert not reader.has_tensor("model/c/.ATTRIBUTES/VARIABLE_VALUE")
    # The returned array is a copy: changing it does not change what the reader holds.
    reader.get_tensor("model/w/.ATTRIBUTES/VARIABLE_VALUE")[0, 0] = 99.0
    assert reader.get_tensor("model/w/.ATTRIBUTES/VARIABLE_VALUE")[0, 0] == 0.0


def test_missing_checkpoints_and_keys_raise_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="load_checkpoint.*state file"):
        gt_train.load_checkpoint(str(tmp_path))
    with pytest.raises(errors.NotFoundError, match="list_variables.*nothing-here"):
        gt_train.list_variables(os.path.join(tmp_path, "nothing-here"))
    path, _ = _saved(tmp_path)
    with pytest.raises(errors.NotFoundError, match="model/x.*get_variable_to_shape_map"):
        gt_train.load_checkpoint(path).get_tensor("model/x/.ATTRIBUTES/VARIABLE_VALUE")
