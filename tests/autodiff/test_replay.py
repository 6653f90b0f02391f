"""Backward plans (gputensor/autodiff/replay.py): a repeated backward pass is replayed.

The reference is the same pass with plans off (the gradient functions run as
written); the finite-difference suite (test_op_gradients.py) also replays every
replayable gradient, since compute_gradient runs one pass per Jacobian row.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys

import numpy as np
import pytest

import gputensor as gt
from gputensor.autodiff import replay
from gputensor.framework.op_table import OPS


@pytest.fixture
def plans():
    """A clean plan cache; the counters are read as deltas of `replay.stats`."""
    replay.clear()
    yield replay
    replay.clear()


def _counts() -> tuple[int, int, int]:
    return replay.stats["captured"], replay.stats["replayed"], replay.stats["refused"]


def _mlp_step(x, labels, w1, b1, w2):
    with gt.GradientTape() as tape:
        h = gt.nn.relu(gt.matmul(x, w1) + b1)
        logits = gt.matmul(h, w2, transpose_b=True)
        loss = gt.reduce_mean(gt.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
    return tape.gradient(loss, [w1, b1, w2])


def _conv_step(x, k, b):
    with gt.GradientTape() as tape:
        y = gt.nn.conv2d(x, k, 1, "SAME") + b
        y = gt.nn.max_pool2d(gt.math.tanh(y), 2, 2, "VALID")
        loss = gt.reduce_sum(gt.square(y)) * 0.5
    return tape.gradient(loss, [k, b])


def _with_plans_off(fn, *args):
    saved = replay.ENABLED
    replay.ENABLED = False
    try:
        return fn(*args)
    finally:
        replay.ENABLED = saved


def _assert_same(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert (g is None) == (w is None)
        if g is not None:
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_array_equal(g.numpy(), w.numpy())


def test_a_repeated_mlp_step_is_replayed_and_matches_the_normal_pass(device, rng, plans):
    x = gt.constant(rng.standard_normal((8, 5)).astype(np.float32))
    labels = gt.constant(rng.integers(0, 3, 8).astype(np.int32))
    w1 = gt.Variable(rng.standard_normal((5, 6)).astype(np.float32))
    b1 = gt.Variable(rng.standard_normal(6).astype(np.float32))
    w2 = gt.Variable(rng.standard_normal((3, 6)).astype(np.float32))
    want = _with_plans_off(_mlp_step, x, labels, w1, b1, w2)
    before = _counts()
    first = _mlp_step(x, labels, w1, b1, w2)
    assert _counts()[0] == before[0] + 1  # captured
    for _ in range(3):
        _assert_same(_mlp_step(x, labels, w1, b1, w2), want)
    assert _counts()[1] == before[1] + 3  # replayed
    _assert_same(first, want)


def test_a_repeated_conv_step_is_replayed_and_matches_the_normal_pass(device, rng, plans):
    x = gt.constant(rng.standard_normal((2, 6, 6, 3)))
    k = gt.Variable(rng.standard_normal((3, 3, 3, 4)))
    b = gt.Variable(rng.standard_normal(4))
    want = _with_plans_off(_conv_step, x, k, b)
    _conv_step(x, k, b)
    replayed = replay.stats["replayed"]
    _assert_same(_conv_step(x, k, b), want)
    assert replay.stats["replayed"] == replayed + 1


def test_new_values_of_the_same_shapes_replay_with_the_new_values(rng, plans):
    w = gt.Variable(np.ones((4, 3), np.float32))
    for i in range(4):
        xv = rng.standard_normal((2, 4)).astype(np.float32)
        with gt.GradientTape() as tape:
            y = gt.reduce_sum(gt.nn.relu(gt.matmul(gt.constant(xv), w)))
        g = tape.gradient(y, w)
        np.testing.assert_allclose(g.numpy(), xv.T @ ((xv @ np.ones((4, 3))) > 0), rtol=1e-6)
        w.assign_add(np.full((4, 3), 0.1 * i, np.float32))
    assert replay.stats["replayed"] == 3


@pytest.mark.parametrize(
    "variant",
    ["shape", "dtype", "attr", "wiring", "sources", "negative_zero_attr"],
)
def test_anything_the_gradient_functions_read_makes_a_new_plan(variant, rng, plans):
    """Each variant differs from the base pass in one thing a gradient function may read."""
    xv = rng.standard_normal((3, 4))

    def run(v):
        x = gt.constant(xv[:2] if v == "shape" else xv, dtype=gt.float32 if v == "dtype" else gt.float64)
        a = gt.Variable(gt.ones([4, 4], x.dtype))
        b = gt.Variable(gt.ones([4], x.dtype))
        with gt.GradientTape() as tape:
            y = gt.matmul(x, a, transpose_b=v == "attr")
            y = y + (y if v == "wiring" else b)
            alpha = -0.0 if v == "negative_zero_attr" else 0.0
            y = gt.reduce_sum(gt.nn.leaky_relu(y, alpha) * 3.0)
        sources = [a] if v == "sources" else [a, b]
        return tape.gradient(y, sources)

    run("base")
    run("base")
    captured, replayed, _ = _counts()
    got = run(variant)
    assert _counts()[:2] == (captured + 1, replayed), "a differing pass must not replay the base plan"
    want = _with_plans_off(run, variant)
    _assert_same(got, want)
    if variant == "negative_zero_attr":
        assert np.signbit(got[0].numpy()).any() == np.signbit(want[0].numpy()).any()


def test_a_gradient_that_reads_a_value_is_refused_and_stays_on_the_normal_path(monkeypatch, plans):
    op = OPS["square"]
    original = op.grad
    reads = []

    def reading_grad(inputs, attrs, outputs, dy):
        reads.append(float(gt.reduce_sum(dy)))  # a value read to the host
        return original(inputs, attrs, outputs, dy)

    monkeypatch.setattr(op, "grad", reading_grad)
    x = gt.constant([1.0, 2.0, 3.0])

    def step():
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = gt.reduce_sum(gt.square(x))
        return tape.gradient(y, x)

    for _ in range(3):
        np.testing.assert_allclose(step().numpy(), [2.0, 4.0, 6.0])
    assert _counts() == (0, 0, 1)
    assert len(reads) == 3  # the gradient function ran every time


def test_custom_gradients_and_value_dependent_gradients_are_never_replayed(plans):
    @gt.custom_gradient
    def clip(x):
        return x * 1.0, lambda dy: gt.clip_by_value(dy, -1.0, 1.0)

    params = gt.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    for _ in range(2):
        x = gt.constant([3.0])
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = clip(x) * 10.0
        assert float(tape.gradient(y, x)[0]) == 1.0
        with gt.GradientTape() as tape:
            y = gt.reduce_sum(gt.gather(params, [[0, 1]], axis=1, batch_dims=0))
        assert tape.gradient(y, params) is not None
    assert replay.stats["replayed"] == 0


def test_a_pass_recorded_by_an_outer_tape_is_not_replayed(plans):
    v = 0.7
    x = gt.constant(v, gt.float64)
    for _ in range(3):
        with gt.GradientTape() as outer:
            outer.watch(x)
            with gt.GradientTape() as inner:
                inner.watch(x)
                y = gt.sin(x) * x
            dy = inner.gradient(y, x)
        assert float(dy) == pytest.approx(np.sin(v) + v * np.cos(v), rel=1e-12)
        assert float(outer.gradient(dy, x)) == pytest.approx(2 * np.cos(v) - v * np.sin(v), rel=1e-12)
    # The inner passes ran under the outer tape; only the outer ones may be replayed.
    assert replay.stats["captured"] + replay.stats["refused"] <= 1


def test_jacobian_rows_replay_one_plan(rng, plans):
    xv = rng.standard_normal(5)
    x = gt.constant(xv)
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = gt.sin(x) * x
    j = tape.jacobian(y, x)
    np.testing.assert_allclose(j.numpy(), np.diag(np.cos(xv) * xv + np.sin(xv)), rtol=1e-12)
    assert _counts()[:2] == (1, 4)


def test_replayed_steps_do_not_grow_memory_and_count_their_peak(rng, plans):
    with gt.device("/CPU:0"):  # the counters read below are CPU:0's, on a GPU machine too
        _replayed_steps_do_not_grow_memory_and_count_their_peak(rng)


def _replayed_steps_do_not_grow_memory_and_count_their_peak(rng):
    w = gt.Variable(rng.standard_normal((64, 64)).astype(np.float32))
    x = gt.constant(rng.standard_normal((32, 64)).astype(np.float32))

    def step():
        with gt.GradientTape() as tape:
            y = gt.reduce_sum(gt.nn.relu(gt.matmul(x, w)))
        return tape.gradient(y, w)

    _with_plans_off(step)
    gt.config.experimental.reset_memory_stats("CPU:0")
    _with_plans_off(step)
    normal_peak = gt.config.experimental.get_memory_info("CPU:0")["peak"]
    step()  # captures
    gc.collect()
    before = gt.memory()["num_bytes"], gt.memory()["num_tensors"]
    gt.config.experimental.reset_memory_stats("CPU:0")
    for _ in range(20):
        step()
    gc.collect()
    assert (gt.memory()["num_bytes"], gt.memory()["num_tensors"]) == before
    replay_peak = gt.config.experimental.get_memory_info("CPU:0")["peak"]
    # The replayed pass's intermediates (the relu mask's gradient, 8 KiB) count as the normal
    # pass's do; the two passes free them in slightly different orders.
    assert replay_peak >= before[0] + 64 * 64 * 4 + 32 * 64 * 4
    assert replay_peak <= normal_peak + 64 * 64 * 4


def test_the_plan_cache_is_bounded(monkeypatch, plans):
    monkeypatch.setattr(replay, "MAX_PLANS", 4)
    for n in range(1, 10):
        x = gt.constant(np.ones(n))
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = gt.reduce_sum(x * x)
        np.testing.assert_allclose(tape.gradient(y, x).numpy(), 2 * np.ones(n))
    assert len(replay._plans) == 4


def test_a_disposed_input_takes_the_normal_path_and_its_error(plans):
    x = gt.constant([1.0, 2.0])
    for _ in range(2):
        with gt.GradientTape() as tape:
            tape.watch(x)
            h = x * 3.0
            y = gt.reduce_sum(h * h)
        if _ == 1:
            h.dispose()
            with pytest.raises(gt.errors.FailedPreconditionError, match="disposed"):
                tape.gradient(y, x)
        else:
            tape.gradient(y, x)


def test_environment_variable_turns_plans_off():
    code = (
        "import gputensor as gt; from gputensor.autodiff import replay\n"
        "x = gt.constant([1.0])\n"
        "for _ in range(3):\n"
        "    with gt.GradientTape() as t:\n"
        "        t.watch(x); y = x * x\n"
        "    t.gradient(y, x)\n"
        "print(replay.ENABLED, replay.stats['captured'] + replay.stats['replayed'])\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, GPUTENSOR_GRADIENT_REPLAY="0", PYTHONPATH=root)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "0"]


def test_a_constant_that_becomes_an_op_output_is_not_matched(plans):
    """Same ops and shapes; the second input of the multiply is a constant, then the first's twin."""
    x = gt.constant([1.0, 2.0, 3.0])
    c = gt.constant([5.0, 6.0, 7.0])

    def run(square):
        with gt.GradientTape() as tape:
            tape.watch(x)
            h = x * 2.0
            y = gt.reduce_sum(h * (h if square else c))
        return tape.gradient(y, x).numpy()

    for _ in range(2):
        np.testing.assert_allclose(run(False), 2.0 * c.numpy())
    np.testing.assert_allclose(run(True), 8.0 * x.numpy())  # d/dx (2x)^2 = 8x
    np.testing.assert_allclose(run(False), 2.0 * c.numpy())


def test_the_usual_pass_is_compiled_and_a_pass_with_ops_off_the_path_is_replayed_generically(plans):
    x = gt.constant([1.0, 2.0])
    z = gt.constant([3.0, 4.0])

    def run():
        with gt.GradientTape() as tape:
            tape.watch([x, z])
            y = gt.reduce_sum(x * x)
            gt.reduce_sum(gt.exp(z))  # recorded, but not on the path from x to y
        return tape.gradient(y, x).numpy()

    for _ in range(3):
        np.testing.assert_allclose(run(), [2.0, 4.0])
    assert replay.stats["replayed"] == 2 and not replay._matchers  # the generic plan

    w = gt.Variable([1.0, -1.0, 0.5])  # not x's shape: x's generic plan would fit this pass
    for _ in range(3):
        with gt.GradientTape() as tape:
            y = gt.reduce_sum(w * w)
        np.testing.assert_allclose(tape.gradient(y, w).numpy(), [2.0, -2.0, 1.0])
    assert len(replay._matchers) == 1
    (fn,) = next(iter(replay._matchers.values()))
    assert "def matched(R, S, T, src):" in fn.source


def test_plans_beyond_the_constant_budget_are_forgotten_with_their_compiled_form(monkeypatch, plans):
    monkeypatch.setattr(replay, "MAX_TOTAL_CONST_BYTES", 200)
    for n in (10, 11, 12):
        x = gt.constant(np.arange(n, dtype=np.float64))
        for _ in range(2):
            with gt.GradientTape() as tape:
                tape.watch(x)
                y = gt.reduce_sum(x[1::3] * 3.0)  # a strided slice's gradient bakes a position table
            want = np.where(np.arange(n) % 3 == 1, 3.0, 0.0)
            np.testing.assert_allclose(tape.gradient(y, x).numpy(), want)
    kept = [p for p in replay._plans.values() if replay.is_plan(p)]
    assert sum(p.const_bytes for p in kept) <= 200 and replay._const_total <= 200
    assert len(kept) < 3  # the first plans were forgotten
    compiled = [fn for fns in replay._matchers.values() for fn in fns]
    assert len(compiled) == sum(p.matcher is not None for p in kept)


def test_threads_training_at_once_share_plans_safely(monkeypatch, plans):
    import threading

    monkeypatch.setattr(replay, "MAX_PLANS", 3)  # evictions race with lookups too
    errors = []

    def worker(n):
        try:
            w = gt.Variable(np.linspace(-1.0, 1.0, n))
            for _ in range(40):
                with gt.GradientTape() as tape:
                    y = gt.reduce_sum(gt.nn.relu(w) * w)
                g = tape.gradient(y, w).numpy()
                np.testing.assert_allclose(g, np.where(w.numpy() > 0, 2 * w.numpy(), 0.0))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in (5, 6, 7, 8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(replay._plans) <= 3
