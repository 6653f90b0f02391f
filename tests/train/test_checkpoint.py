"""gt.train.Checkpoint: round trips, object paths, statuses, mismatches, corruption and atomic writes."""

from __future__ import annotations

import os

import numpy as np
import pytest

import gputensor as gt
from gputensor import errors
from gputensor import train as gt_train
from gputensor.train import checkpoint as ckpt_module


class Dense(gt.Module):
    def __init__(self, n_in, n_out, name=None):
        super().__init__(name=name)
        self.w = gt.Variable(gt.random.normal([n_in, n_out]), name="w")
        self.b = gt.Variable(gt.zeros([n_out]), name="b")

    def __call__(self, x):
        return gt.matmul(x, self.w) + self.b


class Model(gt.Module):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.layers = [Dense(3, 4), Dense(4, 2)]
        self.extra = {"scale": gt.Variable(2.0, name="scale")}

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x * self.extra["scale"]


class SlotOptimizer:
    """Duck-typed trackable via the documented hook (as the Keras optimizer plugs in)."""

    def __init__(self):
        self.iterations = gt.Variable(np.int64(0), trainable=False)
        self.slots = {}

    def _checkpoint_dependencies(self):
        return {"iter": self.iterations, "slots": self.slots}


class VariablesOnly:
    def __init__(self, *vs):
        self.variables = list(vs)


def values(module):
    return [v.numpy().copy() for v in module.variables]


def test_module_round_trip_into_fresh_objects(tmp_path):
    model = Model()
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    expected = model(x).numpy()
    path = gt_train.Checkpoint(model=model).save(str(tmp_path / "ckpt"))
    assert path == str(tmp_path / "ckpt-1")
    fresh = Model()
    assert not np.allclose(fresh(x).numpy(), expected)
    gt_train.Checkpoint(model=fresh).restore(path).assert_consumed()
    np.testing.assert_array_equal(fresh(x).numpy(), expected)


def test_keys_are_tf_object_paths():
    ckpt = gt_train.Checkpoint(model=Model(), step=gt.Variable(np.int64(3)))
    ckpt.save_counter  # noqa: B018
    keys = set(ckpt_module._walk(ckpt)[0])
    suffix = "/.ATTRIBUTES/VARIABLE_VALUE"
    assert keys == {
        k + suffix
        for k in [
            "model/layers/0/w",
            "model/layers/0/b",
            "model/layers/1/w",
            "model/layers/1/b",
            "model/extra/scale",
            "step",
            "save_counter",
        ]
    }


def test_shared_variable_is_saved_once_under_its_shortest_path():
    v = gt.Variable(1.0)
    holder = VariablesOnly(v)
    keys = list(ckpt_module._walk(gt_train.Checkpoint(a=holder, v=v))[0])
    assert keys == ["v/.ATTRIBUTES/VARIABLE_VALUE"]


def test_save_counter_numbers_saves_and_is_restored(tmp_path):
    v = gt.Variable(1.0)
    ckpt = gt_train.Checkpoint(v=v)
    paths = [ckpt.save(str(tmp_path / "c")) for _ in range(3)]
    assert [os.path.basename(p) for p in paths] == ["c-1", "c-2", "c-3"]
    assert int(ckpt.save_counter.numpy()) == 3
    other = gt_train.Checkpoint(v=gt.Variable(0.0))
    other.restore(paths[1]).assert_consumed()
    assert int(other.save_counter.numpy()) == 2
    assert os.path.basename(other.save(str(tmp_path / "c"))) == "c-3"
    assert gt_train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "c-3")


def test_write_and_read_use_no_counter(tmp_path):
    v = gt.Variable([1.0, 2.0])
    ckpt = gt_train.Checkpoint(v=v)
    path = ckpt.write(str(tmp_path / "plain"))
    assert path == str(tmp_path / "plain")
    assert not (tmp_path / "checkpoint").exists()
    v.assign([5.0, 6.0])
    ckpt.read(path).assert_consumed()
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])


def test_nested_checkpoints_and_duck_typed_objects(tmp_path):
    opt = SlotOptimizer()
    opt.slots["m"] = gt.Variable(gt.ones([2]) * 3)
    opt.iterations.assign(np.int64(7))
    extra = VariablesOnly(gt.Variable(4.0), gt.Variable(np.int32(9)))
    inner = gt_train.Checkpoint(opt=opt)
    path = gt_train.Checkpoint(inner=inner, extra=extra).save(str(tmp_path / "n"))
    opt2 = SlotOptimizer()
    opt2.slots["m"] = gt.Variable(gt.zeros([2]))
    extra2 = VariablesOnly(gt.Variable(0.0), gt.Variable(np.int32(0)))
    gt_train.Checkpoint(inner=gt_train.Checkpoint(opt=opt2), extra=extra2).restore(path).assert_consumed()
    assert int(opt2.iterations.numpy()) == 7
    np.testing.assert_array_equal(opt2.slots["m"].numpy(), [3.0, 3.0])
    assert float(extra2.variables[0].numpy()) == 4.0 and int(extra2.variables[1].numpy()) == 9


def test_partial_restore_statuses(tmp_path):
    small = gt_train.Checkpoint(a=gt.Variable(1.0))
    path = small.write(str(tmp_path / "small"))
    a, b = gt.Variable(0.0), gt.Variable(0.0)
    status = gt_train.Checkpoint(a=a, b=b).restore(path)
    assert float(a.numpy()) == 1.0
    with pytest.raises(AssertionError, match="b/.ATTRIBUTES"):
        status.assert_consumed()
    with pytest.raises(AssertionError, match="b/.ATTRIBUTES"):
        status.assert_existing_objects_matched()
    status.assert_nontrivial_match()
    assert status.expect_partial() is status

    big = gt_train.Checkpoint(a=gt.Variable(1.0), unused=gt.Variable(2.0)).write(str(tmp_path / "big"))
    status = gt_train.Checkpoint(a=gt.Variable(0.0)).restore(big)
    status.assert_existing_objects_matched()
    with pytest.raises(AssertionError, match="unused/.ATTRIBUTES"):
        status.assert_consumed()


def test_restore_none_is_an_initialization_only_status():
    status = gt_train.Checkpoint(a=gt.Variable(1.0)).restore(None)
    with pytest.raises(AssertionError, match="No checkpoint specified"):
        status.assert_consumed()
    status.expect_partial()


def test_deferred_restore_when_a_module_builds_later(tmp_path):
    class Lazy(gt.Module):
        def build(self, n):
            self.kernel = gt.Variable(gt.zeros([n, 2]), name="kernel")

    class Net(gt.Module):
        def __init__(self):
            super().__init__()
            self.head = Lazy()

    src = Net()
    src.head.build(3)
    src.head.kernel.assign(np.arange(6, dtype=np.float32).reshape(3, 2))
    path = gt_train.Checkpoint(net=src).write(str(tmp_path / "lazy"))
    dst = Net()
    status = gt_train.Checkpoint(net=dst).restore(path)
    with pytest.raises(AssertionError, match="net/head/kernel"):
        status.assert_consumed()
    dst.head.build(3)  # creating the variable restores it, as TF does
    np.testing.assert_array_equal(dst.head.kernel.numpy(), np.arange(6).reshape(3, 2))
    status.assert_consumed()
    assert type(dst.head) is Lazy  # the watch is removed once nothing is pending


def test_deferred_variable_with_wrong_shape_is_reported_by_name(tmp_path):
    class Lazy(gt.Module):
        pass

    src = Lazy()
    src.k = gt.Variable(gt.ones([2]))
    path = gt_train.Checkpoint(m=src).write(str(tmp_path / "x"))
    dst = Lazy()
    gt_train.Checkpoint(m=dst).restore(path)
    with pytest.raises(errors.InvalidArgumentError, match=r"shape \(2,\).*'m/k/.*shape \(3,\)"):
        dst.k = gt.Variable(gt.ones([3]))


def test_shape_or_dtype_mismatch_names_the_variable_and_restores_nothing(tmp_path):
    path = gt_train.Checkpoint(a=gt.Variable(1.0), w=gt.Variable(gt.ones([2, 3]))).write(str(tmp_path / "m"))
    a, w = gt.Variable(0.0), gt.Variable(gt.zeros([3, 2]))
    with pytest.raises(
        errors.InvalidArgumentError, match=r"\(2, 3\) for variable 'w/.ATTRIBUTES/VARIABLE_VALUE'.*\(3, 2\)"
    ):
        gt_train.Checkpoint(a=a, w=w).restore(path)
    assert float(a.numpy()) == 0.0  # all-or-nothing
    with pytest.raises(errors.InvalidArgumentError, match="dtype float32.*dtype int32"):
        gt_train.Checkpoint(a=gt.Variable(np.int32(0))).restore(path)


def test_missing_checkpoint_is_not_found(tmp_path):
    with pytest.raises(errors.NotFoundError, match="nope"):
        gt_train.Checkpoint(a=gt.Variable(1.0)).restore(str(tmp_path / "nope"))
    with pytest.raises(errors.NotFoundError, match="latest_checkpoint"):
        gt_train.Checkpoint(a=gt.Variable(1.0)).restore(str(tmp_path))


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty"])
def test_corrupted_file_raises_data_loss(tmp_path, damage):
    ckpt = gt_train.Checkpoint(w=gt.Variable(gt.random.normal([64, 64])))
    path = ckpt.write(str(tmp_path / "d"))
    file = path + ckpt_module.FILE_SUFFIX
    raw = bytearray(open(file, "rb").read())
    if damage == "truncate":
        raw = raw[: len(raw) // 2]
    elif damage == "flip":
        raw[len(raw) // 3] ^= 0xFF  # inside the stored values: the zip CRC catches it
    else:
        raw = bytearray()
    open(file, "wb").write(bytes(raw))
    with pytest.raises(errors.DataLossError, match="truncated or corrupted"):
        ckpt.restore(path)


def test_failed_save_keeps_the_previous_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    v = gt.Variable([1.0, 2.0])
    ckpt = gt_train.Checkpoint(v=v)
    path = ckpt.write(str(tmp_path / "atomic"))
    v.assign([7.0, 8.0])
    real_savez = np.savez

    def failing_savez(f, **arrays):
        f.write(b"partial bytes")  # something reached the disk before the failure
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(OSError, match="disk full"):
        ckpt.write(path)
    monkeypatch.setattr(np, "savez", real_savez)
    assert sorted(os.listdir(tmp_path)) == ["atomic" + ckpt_module.FILE_SUFFIX]
    ckpt.restore(path).assert_consumed()
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])


def test_untrackable_argument_is_rejected_with_a_hint():
    with pytest.raises(ValueError, match="model to be a trackable object.*gt.Variable"):
        gt_train.Checkpoint(model=3.0)


def test_training_resumes_from_a_checkpoint_as_if_uninterrupted(tmp_path):
    x = np.random.default_rng(2).normal(size=(16, 3)).astype(np.float32)

    def step(model):
        with gt.GradientTape() as tape:
            loss = gt.reduce_mean(model(x) ** 2)
        grads = tape.gradient(loss, model.trainable_variables)
        for v, g in zip(model.trainable_variables, grads, strict=True):
            v.assign_sub(0.01 * g)

    a = Model()
    init = gt_train.Checkpoint(model=a).write(str(tmp_path / "init"))
    for _ in range(4):
        step(a)
    b = Model()
    gt_train.Checkpoint(model=b).read(init).assert_consumed()
    for _ in range(2):
        step(b)
    mid = gt_train.Checkpoint(model=b).write(str(tmp_path / "mid"))
    c = Model()
    gt_train.Checkpoint(model=c).read(mid).assert_consumed()
    for _ in range(2):
        step(c)
    for va, vc in zip(values(a), values(c), strict=True):
        np.testing.assert_allclose(va, vc, rtol=1e-6)


def test_module_attributes_without_variables_are_ignored(tmp_path):
    m = Dense(2, 2)
    m.layer_class = Dense  # a class has a `variables` property object, not variables
    m.config = {"units": 2, "names": ["a", "b"]}
    m.cached = gt.ones([2])
    keys = sorted(ckpt_module._walk(gt_train.Checkpoint(m=m))[0])
    assert keys == ["m/b/.ATTRIBUTES/VARIABLE_VALUE", "m/w/.ATTRIBUTES/VARIABLE_VALUE"]
