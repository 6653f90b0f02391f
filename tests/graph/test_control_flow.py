"""gt.cond and gt.while_loop: eager semantics, and If/While nodes that decide at every call."""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt


def test_eager_cond_and_while_loop_are_python_control_flow():
    assert gt.cond(gt.constant(True), lambda: 1, lambda: 2) == 1
    assert gt.cond(False, lambda: 1, lambda: 2) == 2
    i, s = gt.while_loop(
        lambda i, s: i < 5, lambda i, s: (i + 1, s * 2.0), (gt.constant(0), gt.constant(1.0))
    )
    assert int(i) == 5 and float(s) == 32.0
    assert gt.while_loop(lambda x: x < 100, lambda x: x * 3, 1, maximum_iterations=2) == 9
    nested = gt.while_loop(lambda p: p[0] < 3, lambda p: [(p[0] + 1, p[1] + [p[0]][0])], [(0, 10)])
    assert nested == [(3, 13)]


def test_a_graph_cond_decides_at_every_call_and_runs_only_the_branch_taken(device):
    v = gt.Variable(0.0)

    @gt.function
    def f(x, w):
        def positive():
            v.assign_add(1.0)  # a side effect: only when this branch runs
            return x * w, gt.reduce_sum(x)

        return gt.cond(gt.reduce_sum(x) > 0.0, positive, lambda: (-x, gt.constant(0.0)))

    w = gt.constant(3.0)
    y, s = f(gt.constant([1.0, 2.0]), w)
    np.testing.assert_allclose(y.numpy(), [3.0, 6.0])
    assert float(s) == 3.0
    y, s = f(gt.constant([-1.0, -2.0]), w)
    np.testing.assert_allclose(y.numpy(), [1.0, 2.0])
    assert float(s) == 0.0
    assert float(v) == 1.0 and f.experimental_get_tracing_count() == 1
    types = [op.type for op in f.get_concrete_function(gt.constant([1.0, 2.0]), w).graph.get_operations()]
    assert "If" in types


def test_a_graph_while_loop_runs_to_a_bound_known_only_at_run_time():
    @gt.function
    def collatz_steps(n):
        def body(k, steps):
            even = gt.math.floormod(k, 2) == 0
            return gt.where(even, gt.math.floordiv(k, 2), 3 * k + 1), steps + 1

        _, steps = gt.while_loop(lambda k, steps: k > 1, body, (n, gt.constant(0)))
        return steps

    def reference(n):
        steps = 0
        while n > 1:
            n = n // 2 if n % 2 == 0 else 3 * n + 1
            steps += 1
        return steps

    for n in (1, 6, 7, 27):
        assert int(collatz_steps(gt.constant(n))) == reference(n)
    assert collatz_steps.experimental_get_tracing_count() == 1


def test_loops_and_branches_capture_outer_tensors_through_levels():
    @gt.function
    def f(x, limit):
        scale = x * 0.5

        def body(i, acc):
            step = gt.cond(i % 2 == 0, lambda: acc + scale, lambda: acc - 1.0)
            return i + 1, step

        return gt.while_loop(
            lambda i, acc: i < limit, body, (gt.constant(0), gt.zeros_like(x)), maximum_iterations=10
        )[1]

    x = gt.constant([2.0, 4.0])
    acc = np.zeros(2)
    for i in range(5):
        acc = acc + x.numpy() * 0.5 if i % 2 == 0 else acc - 1.0
    np.testing.assert_allclose(f(x, gt.constant(5)).numpy(), acc)
    np.testing.assert_allclose(f(x, gt.constant(50)).numpy().shape, (2,))  # stopped by maximum_iterations


def test_a_tape_around_a_function_with_control_flow_differentiates_the_branch_taken():
    @gt.function
    def f(x):
        return gt.cond(gt.reduce_sum(x) > 0.0, lambda: gt.reduce_sum(x * x), lambda: gt.reduce_sum(gt.sin(x)))

    for xv, want in (([1.0, 2.0], [2.0, 4.0]), ([-1.0, -2.0], np.cos([-1.0, -2.0]))):
        x = gt.constant(xv)
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = f(x)
        np.testing.assert_allclose(tape.gradient(y, x).numpy(), want, rtol=1e-6)


def test_clear_errors():
    with pytest.raises(ValueError, match="same shapes and dtypes"):
        gt.function(lambda x: gt.cond(x[0] > 0.0, lambda: x, lambda: x[:1]))(gt.constant([1.0, 2.0]))
    with pytest.raises(ValueError, match="same structure"):
        gt.function(lambda x: gt.cond(x[0] > 0.0, lambda: (x, x), lambda: x))(gt.constant([1.0]))
    with pytest.raises(gt.errors.InvalidArgumentError, match="scalar bool"):
        gt.function(lambda x: gt.cond(x > 0.0, lambda: x, lambda: -x))(gt.constant([1.0, 2.0]))
    with pytest.raises(
        ValueError, match="loop variable 0 enters as float32\\[1\\] but the body returns float32\\[2\\]"
    ):
        gt.function(
            lambda x: gt.while_loop(lambda v: gt.reduce_sum(v) < 10.0, lambda v: gt.concat([v, v], 0), [x])
        )(gt.constant([1.0]))
    with pytest.raises(ValueError, match="loop variable 0 enters as int32"):
        gt.function(
            lambda n: gt.while_loop(lambda i: i < n, lambda i: gt.cast(i, gt.float32) + 1.0, [gt.constant(0)])
        )(gt.constant(3))
    with pytest.raises(TypeError, match="maximum_iterations must be a Python int"):
        gt.function(lambda x: gt.while_loop(lambda v: v < 9.0, lambda v: v + 1.0, [x], maximum_iterations=x))(
            gt.constant(1.0)
        )


def test_exports_refuse_control_flow_clearly(tmp_path):
    f = gt.function(lambda x: gt.cond(gt.reduce_sum(x) > 0.0, lambda: x, lambda: -x))
    f(gt.constant([1.0]))
    with pytest.raises(gt.errors.UnimplementedError, match="gt.cond / gt.while_loop"):
        gt.saved_model.save(f, str(tmp_path / "m"))
    with pytest.raises(gt.errors.UnimplementedError, match="'If' has no ONNX form"):
        gt.onnx.export(f, str(tmp_path / "m.onnx"), [gt.TensorSpec([1], gt.float32)])
