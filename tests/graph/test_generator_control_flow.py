"""A gt.random.Generator drawing inside gt.cond branches and gt.while_loop bodies of a gt.function.

As TF 2.21 (checked against tensorflow-cpu 2.21): the generator's state variable is read and
advanced at run time there too, so each call and each iteration draws new numbers, a loop of n
draws gives what n eager draws from the same state give, a branch not taken draws nothing, and
a tape inside the function sees the numbers the forward pass drew.
"""

import numpy as np

import gputensor as gt


def _eager(seed, shapes, method="normal"):
    """The draws ``Generator.from_seed(seed)`` gives eagerly for ``shapes``, and its state after."""
    g = gt.random.Generator.from_seed(seed)
    draws = [getattr(g, method)(s).numpy() for s in shapes]
    return draws, g.state.numpy()


def _loop_of_draws(g, n):
    @gt.function
    def f():
        def body(i, acc):
            return i + 1, acc.write(i, g.normal([2]))

        _, acc = gt.while_loop(lambda i, a: i < n, body, (0, gt.TensorArray(gt.float32, n)))
        return acc.stack()

    return f


def test_each_iteration_and_each_call_draw_the_generators_next_numbers():
    g = gt.random.Generator.from_seed(1)
    f = _loop_of_draws(g, 3)
    first, second = f().numpy(), f().numpy()
    draws, state = _eager(1, [[2]] * 6)
    # TF: a loop of 3 g.normal([2]) equals 3 eager calls from the same state, and the next call
    # continues the stream.
    np.testing.assert_array_equal(first, np.stack(draws[:3]))
    np.testing.assert_array_equal(second, np.stack(draws[3:]))
    assert not np.allclose(first, second)
    np.testing.assert_array_equal(g.state.numpy(), state)  # 6 draws: the counter moved by 6


def test_eager_draws_after_the_call_continue_the_stream_and_reset_reaches_the_graph():
    g = gt.random.Generator.from_seed(2)
    f = _loop_of_draws(g, 2)
    before = g.normal([2]).numpy()
    inside = f().numpy()
    after = g.normal([2]).numpy()
    draws, state = _eager(2, [[2]] * 4)
    np.testing.assert_array_equal(before, draws[0])
    np.testing.assert_array_equal(inside, np.stack(draws[1:3]))
    np.testing.assert_array_equal(after, draws[3])
    np.testing.assert_array_equal(g.state.numpy(), state)
    g.reset_from_seed(2)  # the loop reads the state when it runs
    np.testing.assert_array_equal(f().numpy(), np.stack(draws[:2]))


def test_a_branch_not_taken_draws_nothing():
    g = gt.random.Generator.from_seed(3)

    @gt.function
    def f(p):
        return gt.cond(p, lambda: g.uniform([3]), lambda: gt.zeros([3]))

    start = g.state.numpy().copy()
    np.testing.assert_array_equal(f(gt.constant(False)).numpy(), np.zeros(3, np.float32))
    np.testing.assert_array_equal(g.state.numpy(), start)  # TF: the counter did not move
    draws, _ = _eager(3, [[3], [3]], "uniform")
    np.testing.assert_array_equal(f(gt.constant(True)).numpy(), draws[0])
    np.testing.assert_array_equal(f(gt.constant(True)).numpy(), draws[1])
    assert g.state.numpy()[0] == start[0] + 2


def test_autograph_if_and_for_over_tensors_draw_at_every_run():
    g = gt.random.Generator.from_seed(4)

    @gt.function
    def f(x, n):
        if gt.reduce_sum(x) > 0:
            x = x + g.uniform([2])
        for _ in gt.range(n):
            x = x + g.normal([2], dtype=gt.float32)
        return x

    ones = gt.ones([2])
    out = f(ones, gt.constant(3)).numpy()
    g2 = gt.random.Generator.from_seed(4)
    expected = 1.0 + g2.uniform([2]).numpy()
    for _ in range(3):
        expected = expected + g2.normal([2]).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    neg = f(-ones, gt.constant(2)).numpy()  # the if is not taken: only the loop's two draws
    expected = -1.0 + g2.normal([2]).numpy()
    np.testing.assert_allclose(neg, expected + g2.normal([2]).numpy(), rtol=1e-6)
    np.testing.assert_array_equal(g.state.numpy(), g2.state.numpy())


def test_nested_loops_and_a_cond_in_a_loop_advance_by_what_ran():
    g = gt.random.Generator.from_seed(5)

    @gt.function
    def f():
        def outer(i, acc):
            def inner(j, acc):
                drawn = gt.cond(j > 0, lambda: g.normal([]), lambda: gt.constant(0.0))
                return j + 1, acc + drawn * gt.one_hot(i * 3 + j, 6)

            return i + 1, gt.while_loop(lambda j, a: j < 3, inner, (0, acc))[1]

        return gt.while_loop(lambda i, a: i < 2, outer, (0, gt.zeros([6])))[1]

    out = f().numpy()
    draws, state = _eager(5, [[]] * 4)
    np.testing.assert_array_equal(out, [0.0, draws[0], draws[1], 0.0, draws[2], draws[3]])
    np.testing.assert_array_equal(g.state.numpy(), state)


def test_a_tape_inside_the_function_sees_the_numbers_the_loop_drew():
    g = gt.random.Generator.from_seed(6)

    @gt.function
    def f(x):
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = x
            for i in gt.range(3):
                y = gt.sin(y * g.normal([2]))
            loss = gt.reduce_sum(y)
        return y, tape.gradient(loss, x)

    x = gt.constant([0.3, -1.1])
    for call in range(2):  # the second call draws the next three numbers and differentiates those
        y, grad = f(x)
        draws = _eager(6, [[2]] * 6)[0][3 * call : 3 * call + 3]
        xv = gt.Variable(x)
        with gt.GradientTape() as tape:
            ye = xv
            for d in draws:
                ye = gt.sin(ye * gt.constant(d))
            loss = gt.reduce_sum(ye)
        np.testing.assert_allclose(y.numpy(), ye.numpy(), rtol=1e-6)
        np.testing.assert_allclose(grad.numpy(), tape.gradient(loss, xv).numpy(), rtol=1e-5, atol=1e-7)
    assert g.state.numpy()[0] == _eager(6, [[2]] * 6)[1][0]


def test_a_tape_inside_the_function_through_a_drawing_branch():
    g = gt.random.Generator.from_seed(7)

    @gt.function
    def f(x, p):
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = gt.cond(p, lambda: x * g.normal([2]) * g.normal([2]), lambda: x * 2.0)
            loss = gt.reduce_sum(y)
        return y, tape.gradient(loss, x)

    x = gt.constant([1.0, 3.0])
    y, grad = f(x, gt.constant(False))
    np.testing.assert_array_equal(grad.numpy(), [2.0, 2.0])
    y, grad = f(x, gt.constant(True))
    a, b = _eager(7, [[2], [2]])[0]
    np.testing.assert_allclose(y.numpy(), x.numpy() * a * b, rtol=1e-6)
    np.testing.assert_allclose(grad.numpy(), a * b, rtol=1e-6)


def test_a_tape_inside_the_function_through_a_drawing_loop_in_a_branch():
    g = gt.random.Generator.from_seed(12)

    @gt.function
    def f(x, p):
        with gt.GradientTape() as tape:
            tape.watch(x)

            def drawn():
                return gt.while_loop(lambda i, y: i < 2, lambda i, y: (i + 1, y * g.normal([2])), (0, x))[1]

            y = gt.cond(p, drawn, lambda: x)
            loss = gt.reduce_sum(y)
        return y, tape.gradient(loss, x)

    x = gt.constant([1.0, -2.0])
    a, b = _eager(12, [[2], [2]])[0]
    y, grad = f(x, gt.constant(True))
    np.testing.assert_allclose(y.numpy(), x.numpy() * a * b, rtol=1e-6)
    np.testing.assert_allclose(grad.numpy(), a * b, rtol=1e-6)
    y, grad = f(x, gt.constant(False))
    np.testing.assert_array_equal(grad.numpy(), [1.0, 1.0])
    assert g.state.numpy()[0] == _eager(12, [[2], [2]])[1][0]  # the second call drew nothing


def test_draws_before_inside_and_after_control_flow_keep_their_order_under_nested_tapes():
    g = gt.random.Generator.from_seed(13)

    @gt.function
    def f(x, p):
        with gt.GradientTape() as outer:
            outer.watch(x)
            with gt.GradientTape() as inner:
                inner.watch(x)
                before = g.normal([2])
                y = gt.cond(p, lambda: gt.sin(x * g.normal([2])), lambda: x)
                for _ in gt.range(2):
                    y = gt.sin(y * g.normal([2]))
                after = g.normal([2])
                loss = gt.reduce_sum(y)
            grad = inner.gradient(loss, x)
        return before, y, after, grad, outer.gradient(grad, x)

    x = gt.constant([0.5, -0.4])
    before, y, after, grad, hess = f(x, gt.constant(True))
    draws, state = _eager(13, [[2]] * 5)
    np.testing.assert_array_equal(before.numpy(), draws[0])
    np.testing.assert_array_equal(after.numpy(), draws[4])
    np.testing.assert_array_equal(g.state.numpy(), state)
    xv = gt.Variable(x)
    with gt.GradientTape() as outer:
        with gt.GradientTape() as inner:
            ye = gt.sin(xv * gt.constant(draws[1]))
            for d in draws[2:4]:
                ye = gt.sin(ye * gt.constant(d))
            loss = gt.reduce_sum(ye)
        grad_e = inner.gradient(loss, xv)
    np.testing.assert_allclose(y.numpy(), ye.numpy(), rtol=1e-6)
    np.testing.assert_allclose(grad.numpy(), grad_e.numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(hess.numpy(), outer.gradient(grad_e, xv).numpy(), rtol=1e-4, atol=1e-6)


def test_a_tape_around_the_call_differentiates_the_drawn_loop():
    g = gt.random.Generator.from_seed(8)

    @gt.function
    def f(x):
        for _ in gt.range(3):
            x = x * g.normal([2])
        return x

    xv = gt.Variable([1.0, 2.0])
    with gt.GradientTape() as tape:
        y = f(xv)
    draws = _eager(8, [[2]] * 3)[0]
    product = draws[0] * draws[1] * draws[2]
    np.testing.assert_allclose(y.numpy(), [1.0, 2.0] * product, rtol=1e-6)
    np.testing.assert_allclose(tape.gradient(y, xv).numpy(), product, rtol=1e-6)


def test_a_tape_through_a_drawing_loop_nested_three_deep_sees_the_numbers_drawn():
    # Each loop keeps the state reads of the loops inside it per iteration (two deep, with
    # trip counts varying per iteration: tests/graph/test_nested_loop_variable_writes.py).
    g = gt.random.Generator.from_seed(9)

    @gt.function
    def f(x0):
        with gt.GradientTape() as tape:
            tape.watch(x0)
            x = x0
            for _ in gt.range(2):
                for _ in gt.range(2):
                    for _ in gt.range(2):
                        x = gt.sin(x * g.normal([2]))
            loss = gt.reduce_sum(x)
        return loss, tape.gradient(loss, x0)

    x0 = gt.constant([0.7, -0.4])
    loss, grad = f(x0)
    xv = gt.Variable(x0)
    with gt.GradientTape() as tape:
        x = xv
        for d in _eager(9, [[2]] * 8)[0]:
            x = gt.sin(x * gt.constant(d))
        want = gt.reduce_sum(x)
    np.testing.assert_allclose(float(loss), float(want), rtol=1e-6)
    np.testing.assert_allclose(grad.numpy(), tape.gradient(want, xv).numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(g.state.numpy(), _eager(9, [[2]] * 8)[1])


def test_a_saved_model_keeps_drawing_in_its_loop_from_the_restored_state(tmp_path):
    class Noise(gt.Module):
        def __init__(self):
            self.g = gt.random.Generator.from_seed(10)

        @gt.function(input_signature=[gt.TensorSpec([], gt.int32)])
        def __call__(self, n):
            total = gt.zeros([2])
            for _ in gt.range(n):
                total = total + self.g.normal([2])
            return total

    mod = Noise()
    mod(gt.constant(1))
    gt.saved_model.save(mod, str(tmp_path / "m"))
    expected = [mod(gt.constant(2)).numpy(), mod(gt.constant(3)).numpy()]
    draws = _eager(10, [[2]] * 6)[0]
    np.testing.assert_allclose(expected[0], draws[1] + draws[2], rtol=1e-6)
    loaded = gt.saved_model.load(str(tmp_path / "m"))
    np.testing.assert_array_equal(loaded(gt.constant(2)).numpy(), expected[0])
    np.testing.assert_array_equal(loaded(gt.constant(3)).numpy(), expected[1])


def test_a_checkpoint_restores_the_stream_a_loop_draws_from(tmp_path):
    g = gt.random.Generator.from_seed(11)
    f = _loop_of_draws(g, 2)
    cp = gt.train.Checkpoint(generator=g)
    f()
    cp.write(str(tmp_path / "ckpt"))
    saved = f().numpy()
    cp.restore(str(tmp_path / "ckpt"))
    np.testing.assert_array_equal(f().numpy(), saved)
