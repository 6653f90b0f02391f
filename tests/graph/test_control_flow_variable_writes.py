"""Gradients through gt.cond / gt.while_loop that write a variable and read it again inside.

As TensorFlow's: every read of a variable is a value of its own whose gradient goes to the
variable (dL/dv sums them); an assignment has no gradient. The traced function's forward
If/While keeps the values read after a write, and the gradient replays the branch or body
with them instead of reading the variable again (the variable holds other values by then).

References: the same Python run eagerly under a GradientTape (if / for unrolled), numbers
TensorFlow 2.21 printed for the same code (tf.function and eager agree there), and finite
differences where an input does not feed a write (then perturbing the variable's initial
value shifts every read by the same amount, so its finite difference is the sum of the reads'
gradients).
"""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt


def _floats(values: list) -> list:
    return [None if v is None else np.asarray(v.numpy(), dtype=np.float64) for v in values]


def _assert_same(got: list, want: list, rtol: float = 1e-10) -> None:
    for g, w in zip(got, want):
        if w is None:
            assert g is None or not np.any(g), g
        else:
            np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-12)


# ------------------------------------------------------------------------ cond
def _cond_case(v: gt.Variable):
    def branch(x, y):
        v.assign(v * x)
        return v.read_value() * y

    def run(p, x, y, use_cond):
        with gt.GradientTape(persistent=True) as tape:
            tape.watch([x, y])
            if use_cond:
                out = gt.cond(p, lambda: branch(x, y), lambda: x * y * v)
            else:
                out = branch(x, y) if bool(p) else x * y * v
        return out, tape.gradient(out, [v, x, y])

    return run


def test_cond_that_assigns_then_reads_matches_eager_tensorflow_and_writes_once():
    v = gt.Variable(2.0, dtype=gt.float64)
    run = _cond_case(v)
    traced = gt.function(lambda p, x, y: run(p, x, y, True))
    # TF 2.21 (tf.function and eager): pred True -> 30, dv 5 (the read after the write),
    # dx 0 (x only feeds the assignment), dy 6; pred False -> 30, [15, 10, 6].
    tf_numbers = {True: (30.0, [5.0, None, 6.0], 6.0), False: (30.0, [15.0, 10.0, 6.0], 2.0)}
    for p in (True, False, True):
        v.assign(2.0)
        x, y = gt.constant(3.0, gt.float64), gt.constant(5.0, gt.float64)
        out, grads = traced(gt.constant(p), x, y)
        after = float(v.numpy())
        v.assign(2.0)
        e_out, e_grads = run(gt.constant(p), x, y, False)
        assert float(out) == float(e_out) == tf_numbers[p][0]
        _assert_same(_floats(grads), _floats(e_grads))
        _assert_same(_floats(grads), tf_numbers[p][1])
        assert after == float(v.numpy()) == tf_numbers[p][2]  # written once, not again by the gradient


def test_cond_with_vector_variable_and_several_reads_after_writes():
    rng = np.random.default_rng(0)
    v0 = rng.normal(size=3)
    v = gt.Variable(v0)

    def branch(x):
        a = gt.reduce_sum(v * x)  # read before any write: hoisted before the If
        v.assign_add(x * x)
        b = gt.reduce_sum(gt.sin(v.read_value()) * x)
        v.assign(v * 0.5)
        c = gt.reduce_sum(v.read_value() ** 2)
        return a * b + c

    def run(p, x, use_cond):
        with gt.GradientTape() as tape:
            tape.watch(x)
            if use_cond:
                out = gt.cond(p, lambda: branch(x), lambda: gt.reduce_sum(x * v))
            else:
                out = branch(x) if bool(p) else gt.reduce_sum(x * v)
        return out, tape.gradient(out, [v, x])

    traced = gt.function(lambda p, x: run(p, x, True))
    x = gt.constant(rng.normal(size=3))
    for p in (True, False):
        v.assign(v0)
        out, grads = traced(gt.constant(p), x)
        after = v.numpy()
        v.assign(v0)
        e_out, e_grads = run(gt.constant(p), x, False)
        np.testing.assert_allclose(out.numpy(), e_out.numpy(), rtol=1e-12)
        _assert_same(_floats(grads), _floats(e_grads))
        np.testing.assert_allclose(after, v.numpy(), rtol=1e-12)


def test_cond_in_cond_reading_what_the_outer_branch_wrote():
    v = gt.Variable(np.array([1.5, -0.5]))

    def outer(x, q):
        v.assign(v * x)

        def inner_true():
            v.assign_add(x)
            return gt.reduce_sum(v.read_value() * x)

        return gt.cond(gt.identity(q), inner_true, lambda: gt.reduce_sum(gt.exp(v.read_value()) * x))

    def run(p, q, x, use_cond):
        with gt.GradientTape() as tape:
            tape.watch(x)
            if use_cond:
                out = gt.cond(p, lambda: outer(x, q), lambda: gt.reduce_sum(v * x * x))
            else:
                if bool(p):
                    v.assign(v * x)
                    if bool(q):
                        v.assign_add(x)
                        out = gt.reduce_sum(v.read_value() * x)
                    else:
                        out = gt.reduce_sum(gt.exp(v.read_value()) * x)
                else:
                    out = gt.reduce_sum(v * x * x)
        return out, tape.gradient(out, [v, x])

    traced = gt.function(lambda p, q, x: run(p, q, x, True))
    x = gt.constant(np.array([0.7, 1.3]))
    for p in (True, False):
        for q in (True, False):
            v.assign([1.5, -0.5])
            out, grads = traced(gt.constant(p), gt.constant(q), x)
            after = v.numpy()
            v.assign([1.5, -0.5])
            e_out, e_grads = run(gt.constant(p), gt.constant(q), x, False)
            np.testing.assert_allclose(out.numpy(), e_out.numpy(), rtol=1e-12)
            _assert_same(_floats(grads), _floats(e_grads))
            np.testing.assert_allclose(after, v.numpy(), rtol=1e-12)


# ----------------------------------------------------------------------- while
def test_loop_that_assign_adds_then_reads_matches_eager_and_tensorflow():
    w = gt.Variable(1.0, dtype=gt.float64)

    def run(x, n, use_loop):
        with gt.GradientTape(persistent=True) as tape:
            tape.watch(x)

            def body(i, s):
                w.assign_add(x)
                return i + 1, s * w.read_value() + x

            if use_loop:
                _, s = gt.while_loop(lambda i, s: i < n, body, (0, x))
            else:
                i, s = 0, x
                while i < int(n):
                    i, s = body(i, s)
        return s, tape.gradient(s, [w, x])

    traced = gt.function(lambda x, n: run(x, n, True))
    x = gt.constant(2.0, gt.float64)
    for n in (3, 0, 1, 5):
        w.assign(1.0)
        s, grads = traced(x, gt.constant(n))
        after = float(w.numpy())
        w.assign(1.0)
        e_s, e_grads = run(x, gt.constant(n), False)
        assert float(s) == float(e_s)
        _assert_same(_floats(grads), _floats(e_grads))
        assert after == float(w.numpy()) == 1.0 + 2.0 * n  # n writes, none by the gradient
        if n == 3:  # TF 2.21 printed 296.0, [168.0, 148.0] and w = 7.0 for this loop
            assert float(s) == 296.0
            _assert_same(_floats(grads), [168.0, 148.0])


def test_loop_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    w0 = rng.normal(size=4) * 0.3
    w = gt.Variable(w0)

    @gt.function
    def f(x):
        with gt.GradientTape() as tape:
            tape.watch(x)

            def body(i, s):
                w.assign_add(gt.constant(np.full(4, 0.25)))  # x does not feed the write
                return i + 1, gt.tanh(s * w.read_value() + x)

            _, s = gt.while_loop(lambda i, s: i < 4, body, (0, x))
            loss = gt.reduce_sum(s * s)
        return loss, tape.gradient(loss, [w, x])

    def loss_np(x, w_init):
        s, wv = x.copy(), w_init.copy()
        for _ in range(4):
            wv = wv + 0.25
            s = np.tanh(s * wv + x)
        return float(np.sum(s * s))

    x0 = rng.normal(size=4)
    w.assign(w0)
    loss, (gw, gx) = f(gt.constant(x0))
    np.testing.assert_allclose(float(loss), loss_np(x0, w0), rtol=1e-12)
    np.testing.assert_allclose(w.numpy(), w0 + 1.0, rtol=1e-12)
    eps = 1e-6
    fd_x = [(loss_np(x0 + eps * e, w0) - loss_np(x0 - eps * e, w0)) / (2 * eps) for e in np.eye(4)]
    fd_w = [(loss_np(x0, w0 + eps * e) - loss_np(x0, w0 - eps * e)) / (2 * eps) for e in np.eye(4)]
    np.testing.assert_allclose(gx.numpy(), fd_x, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(gw.numpy(), fd_w, rtol=1e-6, atol=1e-9)


def test_cond_nested_in_a_loop_writes_and_reads_per_iteration():
    v = gt.Variable(np.array([0.5, 1.0]))

    def body(i, s, x):
        def grow():
            v.assign_add(x * 0.5)
            return s * v.read_value() + 1.0

        def shrink():
            v.assign(v * 0.9)
            return gt.sin(s) * v.read_value()

        s = gt.cond(gt.reduce_sum(s) > 2.0, shrink, grow)
        return i + 1, s + gt.reduce_sum(v.read_value()) * x

    def run(x, use_loop):
        with gt.GradientTape() as tape:
            tape.watch(x)
            if use_loop:
                _, s = gt.while_loop(lambda i, s: i < 5, lambda i, s: body(i, s, x), (0, x))
            else:
                s = x
                for i in range(5):
                    if float(gt.reduce_sum(s)) > 2.0:
                        v.assign(v * 0.9)
                        s_new = gt.sin(s) * v.read_value()
                    else:
                        v.assign_add(x * 0.5)
                        s_new = s * v.read_value() + 1.0
                    s = s_new + gt.reduce_sum(v.read_value()) * x
            loss = gt.reduce_sum(s * s)
        return loss, tape.gradient(loss, [v, x])

    traced = gt.function(lambda x: run(x, True))
    for xv in ([0.3, -0.2], [0.9, 0.4]):
        x = gt.constant(np.array(xv))
        v.assign([0.5, 1.0])
        loss, grads = traced(x)
        after = v.numpy()
        v.assign([0.5, 1.0])
        e_loss, e_grads = run(x, False)
        np.testing.assert_allclose(float(loss), float(e_loss), rtol=1e-12)
        _assert_same(_floats(grads), _floats(e_grads), rtol=1e-9)
        np.testing.assert_allclose(after, v.numpy(), rtol=1e-12)


def test_loop_nested_in_a_cond_writes_and_reads_per_iteration():
    v = gt.Variable(np.array([1.0, -0.5]))

    def loop(x):
        def body(i, s):
            v.assign_add(x * 0.25)
            return i + 1, gt.sin(s * v.read_value()) + x

        return gt.while_loop(lambda i, s: i < 3, body, (0, x))[1]

    def run(x, p, traced):
        with gt.GradientTape() as tape:
            tape.watch(x)
            if traced:
                y = gt.cond(p, lambda: gt.reduce_sum(loop(x) * v.read_value()), lambda: gt.reduce_sum(x * v))
            elif bool(p):
                s = x
                for _ in range(3):
                    v.assign_add(x * 0.25)
                    s = gt.sin(s * v.read_value()) + x
                y = gt.reduce_sum(s * v.read_value())
            else:
                y = gt.reduce_sum(x * v)
        return y, tape.gradient(y, [v, x])

    traced = gt.function(lambda x, p: run(x, p, True))
    x = gt.constant(np.array([0.4, 1.1]))
    for p in (True, False):
        v.assign([1.0, -0.5])
        y, grads = traced(x, gt.constant(p))
        after = v.numpy()
        v.assign([1.0, -0.5])
        e_y, e_grads = run(x, gt.constant(p), False)
        np.testing.assert_allclose(float(y), float(e_y), rtol=1e-12)
        _assert_same(_floats(grads), _floats(e_grads), rtol=1e-9)
        np.testing.assert_allclose(after, v.numpy(), rtol=1e-12)


def test_saved_function_with_kept_values_gives_the_same_gradients(tmp_path):
    v = gt.Variable(np.array([1.0, 2.0]))

    class M(gt.Module):
        @gt.function(input_signature=[gt.TensorSpec([2], gt.float64), gt.TensorSpec([], gt.bool)])
        def step(self, x, p):
            with gt.GradientTape() as tape:
                tape.watch(x)

                def branch():
                    v.assign(v * x)

                    def inner(i, s):  # a loop in the branch: the If outputs its kept stacks
                        v.assign_add(x * 0.5)
                        return i + 1, gt.sin(s * v.read_value())

                    s = gt.while_loop(lambda i, s: i < 3, inner, (0, x))[1]
                    return gt.reduce_sum(v.read_value() * x * s)

                y = gt.cond(p, branch, lambda: gt.reduce_sum(x))

                def body(i, s):
                    v.assign_add(x)
                    return i + 1, s * gt.reduce_sum(v.read_value())

                _, z = gt.while_loop(lambda i, s: i < 2, body, (0, y))
            return z, tape.gradient(z, [v, x])

    m = M()
    m.v = v
    x = gt.constant(np.array([0.5, -1.5]))
    v.assign([1.0, 2.0])
    want = m.step(x, gt.constant(True))
    gt.saved_model.save(m, str(tmp_path / "m"))
    loaded = gt.saved_model.load(str(tmp_path / "m"))
    loaded.variables[0].assign([1.0, 2.0])
    got = loaded.step(x, gt.constant(True))
    np.testing.assert_allclose(got[0].numpy(), want[0].numpy(), rtol=1e-12)
    for g, w in zip(got[1], want[1]):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12)
    np.testing.assert_allclose(loaded.variables[0].numpy(), v.numpy(), rtol=1e-12)


@pytest.mark.parametrize("kind", ["cond", "while"])
def test_second_order_gradients_through_kept_reads_match_eager(kind):
    v = gt.Variable(np.array([1.0, 2.0]))

    def forward(x, p, traced):
        if kind == "cond":

            def branch():
                v.assign(v * 2.0)
                return gt.reduce_sum(v.read_value() * x * x * x)

            if traced:
                return gt.cond(p, branch, lambda: gt.reduce_sum(x))
            return branch() if bool(p) else gt.reduce_sum(x)

        def body(i, s):
            v.assign_add(gt.constant([0.5, 1.0], gt.float64))
            return i + 1, s * gt.sin(v.read_value() * x)

        if traced:
            return gt.reduce_sum(gt.while_loop(lambda i, s: i < 3, body, (0, x))[1])
        i, s = 0, x
        for _ in range(3):
            i, s = body(i, s)
        return gt.reduce_sum(s)

    def run(x, p, traced):
        with gt.GradientTape() as outer:
            outer.watch(x)
            with gt.GradientTape() as inner:
                inner.watch(x)
                y = forward(x, p, traced)
            g = inner.gradient(y, [x, v], unconnected_gradients="zero")
            total = gt.reduce_sum(g[0] * g[0]) + gt.reduce_sum(g[1] * x)
        return [y, *g, *outer.gradient(total, [x, v], unconnected_gradients="zero")]

    traced = gt.function(lambda x, p: run(x, p, True))
    x = gt.constant(np.array([0.5, -1.5]))
    for p in (True, False):
        v.assign([1.0, 2.0])
        got = traced(x, gt.constant(p))
        after = v.numpy()
        v.assign([1.0, 2.0])
        want = run(x, gt.constant(p), False)
        _assert_same(_floats(got), _floats(want), rtol=1e-9)
        np.testing.assert_allclose(after, v.numpy(), rtol=1e-12)


def test_integer_counter_read_after_its_write_indexes_the_replay_and_unwatched_variables_get_none():
    v = gt.Variable(2.0, dtype=gt.float64)
    c = gt.Variable(0, dtype=gt.int32)
    table = gt.constant(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))

    def run(x, traced):
        with gt.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(x)

            def body(i, s):
                c.assign_add(1)  # the gradient must gather with the counter each iteration read
                v.assign(v * 1.5)
                return i + 1, s * gt.gather(table, c.read_value()) + v.read_value() * x

            if traced:
                _, s = gt.while_loop(lambda i, s: i < 3, body, (0, x))
            else:
                i, s = 0, x
                for _ in range(3):
                    i, s = body(i, s)
        return s, tape.gradient(s, [x, v])

    traced = gt.function(lambda x: run(x, True))
    x = gt.constant(0.5, gt.float64)
    v.assign(2.0)
    c.assign(0)
    s, (gx, gv) = traced(x)
    assert (float(v.numpy()), int(c.numpy())) == (6.75, 3)
    v.assign(2.0)
    c.assign(0)
    e_s, (e_gx, e_gv) = run(x, False)
    assert float(s) == float(e_s) == 42.375
    assert float(gx) == float(e_gx) == 84.75
    assert gv is None and e_gv is None  # v is not watched


def test_a_tape_around_the_call_sees_the_reads_as_tensorflow_does():
    w = gt.Variable(np.array([1.0, 2.0]))

    @gt.function
    def g(x, p):
        with gt.GradientTape() as t:
            t.watch(x)

            def branch():
                w.assign(w * x)
                return gt.reduce_sum(w.read_value() * x)

            y = gt.cond(p, branch, lambda: gt.reduce_sum(x))
        return y, t.gradient(y, x)

    x = gt.constant(np.array([0.5, 3.0]))
    with gt.GradientTape() as outer:
        outer.watch(x)
        y, gx = g(x, gt.constant(True))
        total = y + gt.reduce_sum(gx)
    dx, dw = outer.gradient(total, [x, w])
    # w becomes [0.5, 6]; y = sum(w_new * x) = 18.25; dy/dx = w_new (the read is independent
    # of x, as in TF); d total/dw = x (through y's read) + 1 (through gx = the read).
    assert float(y) == 18.25
    np.testing.assert_allclose(gx.numpy(), [0.5, 6.0])
    np.testing.assert_allclose(dx.numpy(), [0.5, 6.0])
    np.testing.assert_allclose(dw.numpy(), [1.5, 4.0])
    np.testing.assert_allclose(w.numpy(), [0.5, 6.0])
