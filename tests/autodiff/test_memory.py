"""The tape frees what it records: no growth over many steps, records dropped after gradient()."""

from __future__ import annotations

import gc
import weakref

import numpy as np

import gputensor as gt


def _step(w, x):
    with gt.GradientTape() as tape:
        y = gt.reduce_sum(gt.nn.relu(gt.matmul(x, w)) * 2.0)
    g = tape.gradient(y, w)
    w.assign_sub(0.001 * g)


def test_long_loop_of_tape_steps_does_not_grow_live_tensors():
    w = gt.Variable(np.random.default_rng(0).standard_normal((8, 8)).astype(np.float32))
    x = gt.constant(np.ones((4, 8), np.float32))
    for _ in range(5):
        _step(w, x)
    gc.collect()
    before = gt.memory()["num_tensors"]
    for _ in range(200):
        _step(w, x)
    gc.collect()
    assert gt.memory()["num_tensors"] == before


def test_non_persistent_tape_frees_intermediates_after_gradient():
    x = gt.constant(np.ones(1000, np.float32))
    with gt.GradientTape() as tape:
        tape.watch(x)
        hidden = gt.exp(x) * 3.0
        y = gt.reduce_sum(hidden)
    ref = weakref.ref(hidden)
    del hidden
    gc.collect()
    assert ref() is not None  # the tape keeps what backprop needs
    tape.gradient(y, x)
    gc.collect()
    assert ref() is None
    assert tape._records == []


def test_persistent_tape_keeps_records_until_deleted():
    x = gt.constant(np.ones(10, np.float32))
    with gt.GradientTape(persistent=True) as tape:
        tape.watch(x)
        hidden = gt.exp(x)
        y = gt.reduce_sum(hidden)
    ref = weakref.ref(hidden)
    del hidden
    tape.gradient(y, x)
    gc.collect()
    assert ref() is not None
    del tape
    gc.collect()
    assert ref() is None
