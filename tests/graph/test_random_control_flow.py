"""Stateful random ops inside gt.cond branches and gt.while_loop bodies of a gt.function.

Forward: new numbers at every call and every iteration, `set_seed` repeats a program's
sequence. Gradients (a tape inside or around the function): the backward pass sees exactly
the numbers the forward pass drew; each test returns the draws from the function and
differentiates the same computation eagerly with those draws as constants.
"""

import numpy as np
import pytest

import gputensor as gt


def _eager_grad(fn, x, draws):
    """d fn(x, draws) / dx, eagerly, with the draws as constants."""
    xv = gt.Variable(x)
    with gt.GradientTape() as tape:
        loss = fn(xv, draws)
    return loss.numpy(), tape.gradient(loss, xv).numpy()


def test_cond_branch_draws_new_numbers_at_every_call_from_the_right_distribution():
    @gt.function
    def f(x):
        if gt.reduce_sum(x) > 0:
            y = x + gt.random.normal([20000], mean=1.0, stddev=2.0)
        else:
            y = x + gt.random.uniform([20000], minval=-1.0, maxval=3.0)
        return y

    pos, neg = gt.zeros([20000]) + 1e-3, gt.zeros([20000]) - 1e-3
    a, b = f(pos).numpy(), f(pos).numpy()
    assert not np.array_equal(a, b)
    for draw in (a, b):
        assert abs(draw.mean() - 1.0) < 0.1 and abs(draw.std() - 2.0) < 0.1
    u = f(neg).numpy() + 1e-3
    assert u.min() >= -1.0 and u.max() < 3.0
    assert abs(u.mean() - 1.0) < 0.05 and abs(u.std() - 4.0 / np.sqrt(12.0)) < 0.05


def test_while_loop_draws_new_numbers_at_every_iteration_and_call():
    @gt.function
    def f(n):
        def body(i, rows):
            u = gt.random.uniform([1000])
            return i + 1, rows + gt.one_hot(i, 4)[:, None] * u

        _, rows = gt.while_loop(lambda i, rows: i < n, body, (0, gt.zeros([4, 1000])))
        return rows

    a, b = f(gt.constant(4)).numpy(), f(gt.constant(4)).numpy()
    for rows in (a, b):
        assert rows.min() >= 0.0 and rows.max() < 1.0
        assert abs(rows.mean() - 0.5) < 0.02 and abs(rows.std() - np.sqrt(1 / 12)) < 0.02
        for i in range(4):
            for j in range(i):
                assert not np.allclose(rows[i], rows[j])
    assert not np.allclose(a, b)
    # Stopping early does not change what the first iterations drew? It does: a new call.
    c = f(gt.constant(2)).numpy()
    assert np.all(c[2:] == 0.0) and c[:2].min() >= 0.0


def test_set_seed_makes_the_program_repeat_its_sequence():
    def make():
        @gt.function
        def f(x):
            for _ in gt.range(3):
                x = x + gt.random.normal([5])
            if gt.reduce_sum(x) > -1e9:
                x = x * gt.random.uniform([5])
            return x

        return f

    x = gt.zeros([5])
    gt.random.set_seed(1234)
    f = make()
    first = [f(x).numpy() for _ in range(3)]
    gt.random.set_seed(1234)
    g = make()
    again = [g(x).numpy() for _ in range(3)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(first[0], first[1])
    gt.random.set_seed(99)
    other = make()(x).numpy()
    assert not np.allclose(other, first[0])
    gt.random.set_seed(None)


def _sin_chain(x, draws):
    y = x
    for i in range(draws.shape[0]):
        y = gt.sin(y * gt.constant(draws[i]))
    return gt.reduce_sum(y * y)


def test_for_over_range_gradient_inside_the_function_sees_the_forward_draws(device):
    @gt.function
    def f(x):
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = x
            draws = gt.zeros([3, 2])
            for i in gt.range(3):  # AutoGraph: a While node
                u = gt.random.uniform([2])
                y = gt.sin(y * u)
                draws = draws + gt.one_hot(i, 3)[:, None] * u
            loss = gt.reduce_sum(y * y)
        return loss, tape.gradient(loss, x), draws

    x = gt.constant([0.7, -1.3])
    seen = []
    for _ in range(3):
        loss, grad, draws = f(x)
        d = draws.numpy()
        want_loss, want_grad = _eager_grad(_sin_chain, x, d)
        np.testing.assert_allclose(loss.numpy(), want_loss, rtol=1e-6)
        np.testing.assert_allclose(grad.numpy(), want_grad, rtol=1e-5, atol=1e-7)
        seen.append(d)
    assert not np.allclose(seen[0], seen[1])


def test_while_loop_gradient_of_x_times_uniform_equals_the_recorded_draws_product(device):
    @gt.function
    def f(x):
        with gt.GradientTape() as tape:
            tape.watch(x)

            def body(i, y, prod):
                u = gt.random.uniform([3])
                return i + 1, y * u, prod * u

            _, y, prod = gt.while_loop(lambda i, y, p: i < 5, body, (0, x, gt.ones([3])))
            loss = gt.reduce_sum(y)
        return tape.gradient(loss, x), prod, y

    x = gt.constant([1.0, 2.0, -3.0])
    grad, prod, y = f(x)
    # d sum(x * u0 * ... * u4) / dx = u0 * ... * u4, the product of the draws made.
    np.testing.assert_allclose(grad.numpy(), prod.numpy(), rtol=1e-6)
    np.testing.assert_allclose(y.numpy(), x.numpy() * prod.numpy(), rtol=1e-6)
    grad2, prod2, _ = f(x)
    np.testing.assert_allclose(grad2.numpy(), prod2.numpy(), rtol=1e-6)
    assert not np.allclose(prod.numpy(), prod2.numpy())


def test_cond_gradient_inside_the_function_sees_the_forward_draws(device):
    @gt.function
    def f(x):
        with gt.GradientTape() as tape:
            tape.watch(x)
            y, z = gt.cond(
                gt.reduce_sum(x) > 0,
                lambda: (lambda z: (gt.tanh(x * z), z))(gt.random.normal([4])),
                lambda: (x, gt.zeros([4])),
            )
            loss = gt.reduce_sum(y * y)
        return loss, tape.gradient(loss, x), z

    x = gt.constant([0.3, -0.2, 0.5, 0.1])
    for _ in range(2):
        loss, grad, z = f(x)
        zv = z.numpy()
        t = np.tanh(x.numpy() * zv)
        np.testing.assert_allclose(loss.numpy(), np.sum(t * t), rtol=1e-5)
        np.testing.assert_allclose(grad.numpy(), 2 * t * (1 - t * t) * zv, rtol=1e-4, atol=1e-7)


def test_tape_around_the_call_differentiates_the_draws_made():
    @gt.function
    def f(x):
        draws = gt.zeros([3, 2])
        y = x
        for i in gt.range(3):
            if gt.reduce_sum(y) > -100.0:
                u = gt.random.uniform([2]) + 0.5
            else:
                u = gt.ones([2])
            y = gt.sin(y * u)
            draws = draws + gt.one_hot(i, 3)[:, None] * u
        return gt.reduce_sum(y * y), draws

    x = gt.Variable([0.4, 1.1])
    with gt.GradientTape() as tape:
        loss, draws = f(x)
    grad = tape.gradient(loss, x).numpy()
    want_loss, want_grad = _eager_grad(_sin_chain, x.numpy(), draws.numpy())
    np.testing.assert_allclose(loss.numpy(), want_loss, rtol=1e-6)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-5, atol=1e-7)


def test_nested_loops_and_a_cond_inside_draw_per_iteration_and_differentiate_exactly():
    @gt.function
    def f(x):
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = x
            draws = gt.zeros([3, 2, 2])
            for i in gt.range(3):
                for j in gt.range(2):
                    if gt.reduce_sum(y) < 1e9:
                        u = gt.random.normal([2])
                    else:
                        u = gt.zeros([2])
                    y = gt.sin(y * u)
                    draws = draws + (gt.one_hot(i, 3)[:, None, None] * gt.one_hot(j, 2)[None, :, None]) * u
            loss = gt.reduce_sum(y * y)
        return loss, tape.gradient(loss, x), draws

    x = gt.constant([0.9, -0.4])
    loss, grad, draws = f(x)
    d = draws.numpy().reshape(6, 2)
    assert len({tuple(r) for r in d.tolist()}) == 6  # every (i, j) drew its own numbers
    want_loss, want_grad = _eager_grad(_sin_chain, x, d)
    np.testing.assert_allclose(loss.numpy(), want_loss, rtol=1e-5)
    np.testing.assert_allclose(grad.numpy(), want_grad, rtol=1e-4, atol=1e-6)
    _, _, again = f(x)
    assert not np.allclose(again.numpy(), draws.numpy())


def test_second_order_gradient_through_a_loop_that_draws():
    @gt.function
    def f(x):
        with gt.GradientTape() as outer:
            outer.watch(x)
            with gt.GradientTape() as inner:
                inner.watch(x)
                y = x
                draws = gt.zeros([2, 3])
                for i in gt.range(2):
                    u = gt.random.uniform([3]) + 0.5
                    y = gt.sin(y * u)
                    draws = draws + gt.one_hot(i, 2)[:, None] * u
                loss = gt.reduce_sum(y)
            g = inner.gradient(loss, x)
        return g, outer.gradient(g, x), draws

    x = gt.constant([0.2, -0.7, 1.3])
    g, h, draws = f(x)
    d = draws.numpy()
    xv = gt.Variable(x)
    with gt.GradientTape() as t2:
        with gt.GradientTape() as t1:
            y = xv
            for i in range(2):
                y = gt.sin(y * gt.constant(d[i]))
            loss = gt.reduce_sum(y)
        g_eager = t1.gradient(loss, xv)
    h_eager = t2.gradient(g_eager, xv)
    np.testing.assert_allclose(g.numpy(), g_eager.numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(h.numpy(), h_eager.numpy(), rtol=1e-4, atol=1e-6)


def test_generator_methods_and_runtime_shapes_inside_a_loop():
    gen = gt.random.Generator.from_seed(3)

    @gt.function(input_signature=[gt.TensorSpec([None], gt.float32)])
    def f(x):
        rows = gt.zeros([3, gt.shape(x)[0]])
        for i in gt.range(3):
            u = gen.uniform(gt.shape(x)) + gt.random.uniform(gt.shape(x))
            rows = rows + gt.one_hot(i, 3)[:, None] * u
        return rows

    a, b = f(gt.zeros([50])).numpy(), f(gt.zeros([50])).numpy()
    assert a.shape == (3, 50) and a.min() >= 0.0 and a.max() < 2.0
    assert not np.allclose(a[0], a[1]) and not np.allclose(a, b)
    assert f(gt.zeros([7])).shape == (3, 7)


def test_dropout_in_a_tensor_conditioned_branch():
    from gputensor.keras.layers.core import Dropout

    layer = Dropout(0.5, seed=1)

    @gt.function
    def f(x, training):
        with gt.GradientTape() as tape:
            tape.watch(x)
            if training:
                y = layer(x, training=True)
            else:
                y = x
            loss = gt.reduce_sum(y)
        return y, tape.gradient(loss, x)

    x = gt.ones([4000])
    y, g = f(x, gt.constant(True))
    y, g = y.numpy(), g.numpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and 0.45 < (y == 0).mean() < 0.55
    np.testing.assert_array_equal(g, y)  # d sum(mask * x / (1 - rate)) / dx is the kept pattern
    y2, _ = f(x, gt.constant(True))
    assert not np.array_equal(y2.numpy(), y)
    y3, g3 = f(x, gt.constant(False))
    np.testing.assert_array_equal(y3.numpy(), x.numpy())
    np.testing.assert_array_equal(g3.numpy(), np.ones(4000, np.float32))


def test_saved_model_keeps_drawing_after_load(tmp_path):
    class M(gt.Module):
        @gt.function(input_signature=[gt.TensorSpec([3], gt.float32)])
        def __call__(self, x):
            for _ in gt.range(2):
                x = x + gt.random.uniform([3])
            if gt.reduce_sum(x) > 0:
                x = x + gt.random.normal([3])
            return x

    m = M()
    x = gt.zeros([3])
    m(x)
    gt.saved_model.save(m, str(tmp_path / "m"))
    loaded = gt.saved_model.load(str(tmp_path / "m"))
    a, b = loaded(x).numpy(), loaded(x).numpy()
    assert a.shape == (3,) and not np.allclose(a, b)

    @gt.function
    def grad_fn(x):
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = x
            for _ in gt.range(2):
                y = y * gt.random.uniform([3])
            loss = gt.reduce_sum(y)
        return tape.gradient(loss, x), y

    grad_fn(x)
    gt.saved_model.save(grad_fn, str(tmp_path / "g"))
    loaded_g = gt.saved_model.load(str(tmp_path / "g"))
    ones = gt.ones([3])
    g, y = loaded_g(ones)
    np.testing.assert_allclose(g.numpy(), y.numpy(), rtol=1e-6)  # d sum(x u0 u1)/dx = u0 u1 = y(1)
    g2, _ = loaded_g(ones)
    assert not np.allclose(g.numpy(), g2.numpy())


def test_onnx_export_refuses_random_ops_in_control_flow(tmp_path):
    def branchy(x):
        if gt.reduce_sum(x) > 0:
            x = x + gt.random.normal([2])
        return x

    def loopy(x):
        for _ in gt.range(2):
            x = x * gt.random.uniform([2])
        return x

    for fn, op in ((branchy, "random_normal"), (loopy, "random_uniform")):
        with pytest.raises(gt.errors.UnimplementedError, match=rf"draws random numbers \({op}\)"):
            gt.onnx.export(gt.function(fn), str(tmp_path / "m.onnx"), [gt.TensorSpec([2], gt.float32)])


def test_random_ops_of_every_kind_in_a_loop_condition_and_body():
    @gt.function
    def f(x):
        n = 0
        while gt.random.uniform([]) < 0.9:  # a new draw at every test of the condition
            n += 1
            ints = gt.random.uniform([3], 0, 10, dtype=gt.int32)
            x = x + gt.cast(ints, gt.float32) + gt.random.truncated_normal([3])
            x = x + gt.cast(gt.random.categorical(gt.zeros([1, 4]), 3)[0], gt.float32)
            x = x + gt.cast(gt.random.shuffle(gt.range(3)), gt.float32)
        return n, x

    runs = [f(gt.zeros([3])) for _ in range(300)]
    counts = np.array([int(n) for n, _ in runs])
    # The number of iterations is geometric: mean 0.9 / 0.1 = 9, standard error 9.5 / sqrt(300).
    assert abs(counts.mean() - 9.0) < 2.5 and len(set(counts.tolist())) > 5
    for n, x in runs[:20]:
        # per iteration: ints in [0, 9], |truncated normal| <= 2, a class in [0, 3], shuffle sums to 3
        assert np.all(x.numpy() >= -2.0 * int(n)) and np.all(x.numpy() <= (9 + 2 + 3 + 2) * int(n))


def test_the_python_philox_block_matches_the_array_kernel_and_known_answers():
    from gputensor.backend.cpu.random import philox4x32_10
    from gputensor.backend.cpu.random import philox_block as _philox_block

    # Random123 kat_vectors
    assert _philox_block(0, 0, 0, 0, 0, 0) == (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)
    assert _philox_block(*[0xFFFFFFFF] * 6) == (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)
    words = np.random.default_rng(5).integers(0, 2**32, size=(200, 6), dtype=np.uint64)
    for row in words.tolist():
        want = tuple(int(w) for w in philox4x32_10(tuple(row[:4]), tuple(row[4:])))
        assert _philox_block(*row) == want
