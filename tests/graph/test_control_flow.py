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


def test_onnx_export_refuses_control_flow_it_cannot_express(tmp_path):
    v = gt.Variable(0.0)

    def writes(x):
        return gt.cond(gt.reduce_sum(x) > 0.0, lambda: x + v.assign_add(1.0), lambda: -x)

    with pytest.raises(gt.errors.UnimplementedError, match="assigns a variable"):
        gt.onnx.export(writes, str(tmp_path / "m.onnx"), [gt.TensorSpec([1], gt.float32)])

    def empty(x):
        gt.cond(gt.reduce_sum(x) > 0.0, lambda: (), lambda: ())
        return x

    with pytest.raises(gt.errors.UnimplementedError, match="branches return nothing has no ONNX form"):
        gt.onnx.export(empty, str(tmp_path / "m.onnx"), [gt.TensorSpec([1], gt.float32)])
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------ gradients
def _numeric(fn, args, i, delta=1e-6):
    """Central differences of the scalar ``fn(*args)`` with respect to ``args[i]``."""
    x = np.array(args[i].numpy(), dtype=np.float64)
    grad = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        values = []
        for sign in (1.0, -1.0):
            moved = x.copy()
            moved[k] += sign * delta
            shifted = list(args)
            shifted[i] = gt.constant(moved)
            values.append(float(fn(*shifted)))
        grad[k] = (values[0] - values[1]) / (2 * delta)
    return grad


def _inside_and_eager(loss, sources_of):
    """``loss``'s gradients from a tape inside a gt.function, and from the same Python eagerly."""

    def grads(*args):
        with gt.GradientTape() as tape:
            tape.watch(list(args))
            y = loss(*args)
        return tape.gradient(y, list(args) + sources_of())

    return gt.function(grads), grads


W = gt.Variable(np.array([0.5, -1.5]))


def _cond_loss(x, y):
    z = gt.cond(
        gt.reduce_sum(x) > 0.0,
        lambda: x * y * W,  # captures x, y and reads the variable W
        lambda: gt.sin(x) + y * 3.0,
    )
    return gt.reduce_sum(z * z)


@pytest.mark.parametrize("xv", [[1.0, 2.0], [-1.0, -2.0]])
def test_a_tape_inside_a_function_differentiates_cond_by_its_branches_gradients(xv, device):
    graph_fn, eager_fn = _inside_and_eager(_cond_loss, lambda: [W])
    x, y = gt.constant(np.array(xv)), gt.constant(np.array([0.3, 0.7]))
    got = graph_fn(x, y)
    want = eager_fn(x, y)
    for g, e in zip(got, want):
        if e is None:  # W is not read in the false branch
            np.testing.assert_allclose(g.numpy(), 0.0)
        else:
            np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-12)
    np.testing.assert_allclose(got[0].numpy(), _numeric(_cond_loss, [x, y], 0), rtol=1e-6)
    np.testing.assert_allclose(got[1].numpy(), _numeric(_cond_loss, [x, y], 1), rtol=1e-6)
    ops = graph_fn.get_concrete_function(x, y).graph.get_operations()
    assert [op.type for op in ops].count("If") == 2  # the forward node and its gradient


def _loop_loss(x, n):
    def body(i, s):
        return i + 1, s * x + W

    _, s = gt.while_loop(lambda i, s: i < n, body, (gt.constant(0), x), maximum_iterations=6)
    return gt.reduce_sum(s * s)


@pytest.mark.parametrize("n", [0, 1, 3, 10])  # 10 stops at maximum_iterations=6
def test_a_tape_inside_a_function_differentiates_while_loop(n, device):
    def loss(x):
        return _loop_loss(x, gt.constant(n))

    graph_fn, eager_fn = _inside_and_eager(loss, lambda: [W])
    x = gt.constant(np.array([0.7, 1.1]))
    got, want = graph_fn(x), eager_fn(x)
    np.testing.assert_allclose(got[0].numpy(), want[0].numpy(), rtol=1e-12)
    if n == 0:
        np.testing.assert_allclose(got[1].numpy(), 0.0)
    else:
        np.testing.assert_allclose(got[1].numpy(), want[1].numpy(), rtol=1e-12)
    np.testing.assert_allclose(got[0].numpy(), _numeric(loss, [x], 0), rtol=1e-6)


def test_gradients_through_nested_cond_and_while_inside_a_function():
    def loss(x, limit):
        def body(i, acc):
            # a cond inside a loop body; the false branch holds a loop of its own
            step = gt.cond(
                i % 2 == 0,
                lambda: acc * x + W,
                lambda: gt.while_loop(lambda v: gt.reduce_sum(v) < 50.0, lambda v: [v * 1.5], [acc + 1.0])[0],
            )
            return i + 1, step

        _, acc = gt.while_loop(lambda i, acc: i < limit, body, (gt.constant(0), gt.ones_like(x)))
        return gt.reduce_sum(gt.sin(acc))

    graph_fn, eager_fn = _inside_and_eager(lambda x: loss(x, gt.constant(4)), lambda: [W])
    x = gt.constant(np.array([0.9, 0.4]))
    got, want = graph_fn(x), eager_fn(x)
    for g, e in zip(got, want):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-10)
    np.testing.assert_allclose(got[0].numpy(), _numeric(lambda x: loss(x, gt.constant(4)), [x], 0), rtol=1e-5)


def test_second_order_gradients_through_control_flow_inside_a_function():
    @gt.function
    def second(x):
        with gt.GradientTape() as outer:
            outer.watch(x)
            with gt.GradientTape() as inner:
                inner.watch(x)
                y = gt.cond(gt.reduce_sum(x) > 0.0, lambda: x * x * x, lambda: gt.sin(x))
                _, z = gt.while_loop(lambda i, z: i < 2, lambda i, z: (i + 1, z * x), (0, y))
                total = gt.reduce_sum(z)
            g = inner.gradient(total, x)
        return outer.gradient(g, x)

    for xv in ([0.5, 1.5], [-0.5, -1.5]):
        x = np.array(xv)
        # total = sum(x^5) (true branch) or sum(sin(x) x^2): their second derivatives
        want = 20 * x**3 if x.sum() > 0 else (-np.sin(x) * x**2 + 4 * np.cos(x) * x + 2 * np.sin(x))
        np.testing.assert_allclose(second(gt.constant(x)).numpy(), want, rtol=1e-10)


def test_cond_gradients_with_integer_outputs_and_unused_captures():
    @gt.function
    def f(x, k):
        with gt.GradientTape() as tape:
            tape.watch(x)
            y, j = gt.cond(k > 2, lambda: (x * 2.0, k + 1), lambda: (x * x, k - 1))
            loss = gt.reduce_sum(y) * gt.cast(j, gt.float64)
        return tape.gradient(loss, x)

    x = gt.constant(np.array([1.0, 3.0]))
    np.testing.assert_allclose(f(x, gt.constant(5)).numpy(), [12.0, 12.0])
    np.testing.assert_allclose(f(x, gt.constant(1)).numpy(), [0.0, 0.0])  # j = 0
    np.testing.assert_allclose(f(x, gt.constant(2)).numpy(), [2.0, 6.0])  # j = 1, d(x^2) = 2x


def test_a_loop_that_writes_a_variable_it_reads_runs_under_a_tape_and_differentiates():
    v = gt.Variable(1.0)

    @gt.function
    def f(x, differentiate):
        v.assign(1.0)
        with gt.GradientTape() as tape:
            tape.watch(x)

            def body(i, s):
                v.assign_add(1.0)  # the read below must see this write at every iteration
                return i + 1, s * v

            _, s = gt.while_loop(lambda i, s: i < 3, body, (0, x))
        return s, (tape.gradient(s, x) if differentiate else None)

    s, _ = f(gt.constant(2.0), False)
    assert float(s) == 2.0 * 2.0 * 3.0 * 4.0
    # The loop kept the values it read (2, 3, 4): ds/dx = 24, and v was written 3 times per call
    # (tests/graph/test_control_flow_variable_writes.py has the rest).
    s, g = f(gt.constant(2.0), True)
    assert (float(s), float(g), float(v.numpy())) == (48.0, 24.0, 4.0)


def test_a_tape_around_a_function_with_loops_and_branches_matches_eager_and_finite_differences():
    def loss(x):
        def body(i, acc):
            step = gt.cond(gt.reduce_sum(acc) > 1.0, lambda: acc * 0.5 + x, lambda: acc * x * W)
            return i + 1, step

        _, acc = gt.while_loop(lambda i, acc: i < 5, body, (0, x), maximum_iterations=4)
        return gt.reduce_sum(acc * acc)

    f = gt.function(loss)
    x = gt.constant(np.array([0.8, -0.6]))

    def tape_grads():
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = f(x)
        return tape.gradient(y, [x, W])

    got = tape_grads()
    gt.config.run_functions_eagerly(True)
    try:
        want = tape_grads()
    finally:
        gt.config.run_functions_eagerly(False)
    for g, e in zip(got, want):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-12)
    np.testing.assert_allclose(got[0].numpy(), _numeric(loss, [x], 0), rtol=1e-6)


def test_a_while_loop_gradient_runs_the_body_a_linear_number_of_times(monkeypatch):
    """The gradient stacks each iteration's entry values: the loop, the stacking loop and the
    backward loop run the body n times each (recomputing from the start would be O(n^2))."""
    from gputensor.graph import executor

    runs = {"while_body": 0}
    real = executor.run_arrays

    def counting(program, args):
        if program.graph.name == "while_body":
            runs["while_body"] += 1
        return real(program, args)

    monkeypatch.setattr(executor, "run_arrays", counting)

    @gt.function
    def grad(x, n):
        with gt.GradientTape() as tape:
            tape.watch(x)
            _, s = gt.while_loop(lambda i, s: i < n, lambda i, s: (i + 1, gt.sin(s) * x), (0, x))
            y = gt.reduce_sum(s)
        return tape.gradient(y, x)

    xv = np.array([0.5, 0.7])
    for n in (0, 1, 5, 20):
        runs["while_body"] = 0
        got = grad(gt.constant(xv), gt.constant(n)).numpy()
        assert runs["while_body"] == 3 * n, n
        # forward-mode reference: s_{k+1} = sin(s_k) x, ds/dx carried along
        s, ds = xv.copy(), np.ones_like(xv)
        for _ in range(n):
            s, ds = np.sin(s) * xv, np.cos(s) * ds * xv + np.sin(s)
        np.testing.assert_allclose(got, ds, rtol=1e-12)


@pytest.mark.parametrize("n", [0, 1, 4, 7])
def test_second_order_gradients_of_a_loop_run_a_count_known_at_run_time(n):
    def inner_grad(x, count):
        with gt.GradientTape() as inner:
            inner.watch(x)
            _, z = gt.while_loop(lambda i, z: i < count, lambda i, z: (i + 1, z * x), (0, x))
            total = gt.reduce_sum(z)  # sum(x^(count+1))
        return inner.gradient(total, x)

    @gt.function
    def second_inside(x, count):
        with gt.GradientTape() as outer:
            outer.watch(x)
            g = inner_grad(x, count)
        return outer.gradient(g, x)

    first = gt.function(inner_grad)
    x = np.array([0.9, 1.2])
    want = (n + 1) * n * x ** max(n - 1, 0) if n else np.zeros(2)
    np.testing.assert_allclose(second_inside(gt.constant(x), gt.constant(n)).numpy(), want, rtol=1e-10)
    # A tape around the function: the stacking loop of the inner gradient runs op by op.
    xt = gt.constant(x)
    with gt.GradientTape() as outer:
        outer.watch(xt)
        g = first(xt, gt.constant(n))
    np.testing.assert_allclose(g.numpy(), (n + 1) * x**n, rtol=1e-12)
    # (zero iterations leave g unconnected to x at run time: zeros, not None, asked for)
    second = outer.gradient(g, xt, unconnected_gradients="zero")
    np.testing.assert_allclose(second.numpy(), want, rtol=1e-10)


def test_a_loop_variable_the_gradient_does_not_read_may_change_size():
    # ids grows along its None dim each iteration: it cannot be stacked, and needs not be (the
    # floating output does not depend on it), so the gradient stacks only i and s.
    @gt.function(input_signature=[gt.TensorSpec([2], gt.float64), gt.TensorSpec([None], gt.int32)])
    def f(x, ids):
        with gt.GradientTape() as tape:
            tape.watch(x)
            _, s, ids = gt.while_loop(
                lambda i, s, ids: i < 3,
                lambda i, s, ids: (
                    i + 1,
                    s * x + gt.cast(i, gt.float64),
                    gt.concat([ids, gt.reshape(i, [1])], 0),
                ),
                (0, x, ids),
            )
            y = gt.reduce_sum(s)
        return tape.gradient(y, x), ids

    x = np.array([0.5, 2.0])
    g, ids = f(gt.constant(x), gt.constant([7]))
    np.testing.assert_array_equal(ids.numpy(), [7, 0, 1, 2])
    # s = ((x*x + 0)*x + 1)*x + 2 = x^4 + x: ds/dx = 4x^3 + 1
    np.testing.assert_allclose(g.numpy(), 4 * x**3 + 1, rtol=1e-12)
    ops = f.get_concrete_function().graph.get_operations()
    stacking = [op for op in ops if op.type == "While" and len(op.outputs) > 3]
    assert [len(op.outputs) for op in stacking] == [5]  # 3 loop variables, then 2 stacks (i, s)
