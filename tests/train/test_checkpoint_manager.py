"""gt.train.CheckpointManager: numbering, rotation, the TF state file and latest_checkpoint."""

from __future__ import annotations

import os

import numpy as np
import pytest

import gputensor as gt
from gputensor import train as gt_train
from gputensor.train.checkpoint import FILE_SUFFIX


def files(directory):
    return sorted(f for f in os.listdir(directory) if f.endswith(FILE_SUFFIX))


def test_rotation_keeps_the_newest_and_deletes_the_rest(tmp_path):
    v = gt.Variable(0.0)
    manager = gt_train.CheckpointManager(gt_train.Checkpoint(v=v), str(tmp_path), max_to_keep=2)
    assert manager.latest_checkpoint is None
    for i in range(5):
        v.assign(float(i))
        manager.save()
    assert [os.path.basename(p) for p in manager.checkpoints] == ["ckpt-4", "ckpt-5"]
    assert files(tmp_path) == ["ckpt-4" + FILE_SUFFIX, "ckpt-5" + FILE_SUFFIX]
    assert manager.latest_checkpoint == str(tmp_path / "ckpt-5")
    assert gt_train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "ckpt-5")
    state = (tmp_path / "checkpoint").read_text().splitlines()
    assert state[:3] == [
        'model_checkpoint_path: "ckpt-5"',
        'all_model_checkpoint_paths: "ckpt-4"',
        'all_model_checkpoint_paths: "ckpt-5"',
    ]
    restored = gt.Variable(-1.0)
    gt_train.Checkpoint(v=restored).restore(manager.latest_checkpoint).assert_consumed()
    assert float(restored.numpy()) == 4.0


def test_explicit_checkpoint_number_and_name(tmp_path):
    manager = gt_train.CheckpointManager(
        gt_train.Checkpoint(v=gt.Variable(1.0)), str(tmp_path), max_to_keep=None, checkpoint_name="model"
    )
    assert manager.save(checkpoint_number=100) == str(tmp_path / "model-100")
    assert manager.save() == str(tmp_path / "model-2")
    assert len(manager.checkpoints) == 2


def test_a_new_manager_picks_up_existing_checkpoints(tmp_path):
    ckpt = gt_train.Checkpoint(v=gt.Variable(1.0))
    first = gt_train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=3)
    for _ in range(3):
        first.save()
    second = gt_train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=3)
    assert second.checkpoints == first.checkpoints and second.latest_checkpoint == first.latest_checkpoint
    second.save()
    assert files(tmp_path) == [f"ckpt-{i}{FILE_SUFFIX}" for i in (2, 3, 4)]


def test_keep_checkpoint_every_n_hours_preserves_old_ones(tmp_path, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("gputensor.train.checkpoint_manager.time.time", lambda: clock[0])
    manager = gt_train.CheckpointManager(
        gt_train.Checkpoint(v=gt.Variable(1.0)), str(tmp_path), max_to_keep=1, keep_checkpoint_every_n_hours=1
    )
    for _ in range(4):
        clock[0] += 1800.0  # half an hour per save
        manager.save()
    # ckpt-2 (an hour after the manager started) is preserved; ckpt-1 and ckpt-3 rotate out and are deleted.
    assert files(tmp_path) == ["ckpt-2" + FILE_SUFFIX, "ckpt-4" + FILE_SUFFIX]
    assert manager.checkpoints == [str(tmp_path / "ckpt-4")]


def test_restore_or_initialize(tmp_path):
    calls = []
    v = gt.Variable(3.0)
    manager = gt_train.CheckpointManager(
        gt_train.Checkpoint(v=v), str(tmp_path), max_to_keep=1, init_fn=lambda: calls.append(1)
    )
    assert manager.restore_or_initialize() is None and calls == [1]
    path = manager.save()
    v.assign(0.0)
    assert manager.restore_or_initialize() == path and float(v.numpy()) == 3.0


def test_checkpoint_interval_skips_saves_until_the_step_advances(tmp_path):
    step = gt.Variable(np.int64(0))
    manager = gt_train.CheckpointManager(
        gt_train.Checkpoint(step=step),
        str(tmp_path),
        max_to_keep=None,
        step_counter=step,
        checkpoint_interval=5,
    )
    saved = []
    for i in range(12):
        step.assign(np.int64(i))
        saved.append(manager.save())
    assert [os.path.basename(p) for p in saved if p] == ["ckpt-0", "ckpt-5", "ckpt-10"]


def test_bad_arguments_and_missing_directory():
    with pytest.raises(ValueError, match="max_to_keep"):
        gt_train.CheckpointManager(gt_train.Checkpoint(v=gt.Variable(1.0)), "/tmp/x", max_to_keep=0)
    with pytest.raises(ValueError, match="step_counter"):
        gt_train.CheckpointManager(gt_train.Checkpoint(), "/tmp/x", 1, checkpoint_interval=3)
    with pytest.raises(TypeError, match="Checkpoint"):
        gt_train.CheckpointManager(object(), "/tmp/x", 1)
    assert gt_train.latest_checkpoint("/nonexistent/dir") is None
