"""gt.train.Checkpoint: dataset iterators, attributes assigned to checkpoints later (delayed
restoration), list/dict attributes, objects reached by two paths, and Keras 3's key names."""

from __future__ import annotations

import os

import numpy as np
import pytest

import gputensor as gt
from gputensor import train as gt_train


def test_iterator_position_is_saved_and_restored(tmp_path):
    ds = gt.data.Dataset.range(10).batch(2).repeat()
    it = iter(ds)
    ckpt = gt_train.Checkpoint(iterator=it)
    for _ in range(3):
        next(it)
    path = ckpt.save(os.path.join(tmp_path, "ckpt"))
    expected = [next(it).numpy().tolist() for _ in range(4)]  # [6, 7], [8, 9], [0, 1], [2, 3]
    assert expected[0] == [6, 7]
    assert ("iterator/.ATTRIBUTES/ITERATOR_STATE", [1]) in gt_train.list_variables(path)
    fresh = iter(ds)
    gt_train.Checkpoint(iterator=fresh).restore(path).assert_consumed()
    assert [next(fresh).numpy().tolist() for _ in range(4)] == expected
    # Restoring rewinds an iterator that has gone further, too.
    ckpt.restore(path)
    assert next(it).numpy().tolist() == [6, 7]


def test_a_checkpoint_attribute_assigned_after_restore_is_restored(tmp_path):
    kernel, bias = gt.Variable([[1.0, 2.0]]), gt.Variable([3.0, 4.0])
    layer = gt_train.Checkpoint(bias=bias)
    layer._kernel = kernel  # private names are dependencies too, as TF's
    path = gt_train.Checkpoint(net=gt_train.Checkpoint(l1=layer)).write(os.path.join(tmp_path, "c"))

    to_restore = gt.Variable(gt.zeros([2]))
    fake_layer = gt_train.Checkpoint(bias=to_restore)
    status = gt_train.Checkpoint(net=gt_train.Checkpoint(l1=fake_layer)).restore(path)
    np.testing.assert_array_equal(to_restore.numpy(), [3.0, 4.0])
    status.assert_existing_objects_matched()
    with pytest.raises(AssertionError, match="_kernel"):
        status.assert_consumed()
    delayed = gt.Variable(gt.zeros([1, 2]))
    fake_layer._kernel = delayed
    np.testing.assert_array_equal(delayed.numpy(), [[1.0, 2.0]])
    status.assert_consumed()


def test_values_restore_through_any_path_and_lists_restore_on_append(tmp_path):
    save = gt_train.Checkpoint()
    save.listed = [gt.Variable(1.0)]
    save.listed.append(gt.Variable(2.0))
    save.mapped = {"one": save.listed[0]}
    save.mapped["two"] = save.listed[1]
    save_path = save.save(os.path.join(tmp_path, "list_example"))
    # Each value is stored once, under its first path.
    keys = [k for k, _ in gt_train.list_variables(save_path)]
    assert "listed/1/.ATTRIBUTES/VARIABLE_VALUE" in keys
    assert "mapped/two/.ATTRIBUTES/VARIABLE_VALUE" not in keys

    restore = gt_train.Checkpoint()
    v2 = gt.Variable(0.0)
    restore.mapped = {"two": v2}
    status = restore.restore(save_path)
    assert float(v2) == 2.0  # saved as listed/1, reached here as mapped/two
    restore.listed = []
    assert repr(restore.listed) == "ListWrapper([])"  # as TF's
    v1 = gt.Variable(0.0)
    restore.listed.append(v1)
    assert float(v1) == 1.0
    assert list(restore.listed) == [v1]
    restore.listed.append(gt.Variable(0.0))
    status.assert_consumed()  # every saved value (and the save counter) found a variable
    assert float(restore.listed[1]) == 2.0


def test_keras_model_and_optimizer_use_keras_3_key_names_and_restore_before_build(tmp_path):
    def make():
        model = gt.keras.Sequential([gt.keras.layers.Dense(3)])
        return model, gt.keras.optimizers.Adam(0.1)

    model, opt = make()
    x = gt.constant(np.arange(8, dtype=np.float32).reshape(4, 2))
    with gt.GradientTape() as tape:
        loss = gt.reduce_sum(model(x))
    opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
    path = gt_train.Checkpoint(model=model, optimizer=opt).write(os.path.join(tmp_path, "k"))
    keys = [k for k, _ in gt_train.list_variables(path)]
    assert "optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE" in keys
    assert "optimizer/_learning_rate/.ATTRIBUTES/VARIABLE_VALUE" in keys
    slots = sorted(k for k in keys if k.startswith("optimizer/_variables/"))
    assert [s.split("/")[2] for s in slots] == ["2", "3", "4", "5"]
    assert any(k.endswith("/_kernel/.ATTRIBUTES/VARIABLE_VALUE") for k in keys)
    assert not any("_layer_weights" in k for k in keys)

    new_model, new_opt = make()
    status = gt_train.Checkpoint(model=new_model, optimizer=new_opt).restore(path)
    out = new_model(x)  # builds the Dense: its kernel and bias are restored on creation
    np.testing.assert_allclose(out.numpy(), model(x).numpy(), rtol=1e-6)
    new_opt.build(new_model.trainable_variables)
    status.assert_consumed()
    for a, b in zip(new_opt.variables, opt.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
