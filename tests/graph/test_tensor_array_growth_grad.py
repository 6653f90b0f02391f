"""A tape inside a gt.function differentiates a dynamic_size TensorArray that grows in a loop.

Each gradient is compared with the same Python run eagerly (a Python loop with a TensorArray,
taped) and with central finite differences of a NumPy reference of the loss.
"""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt

T, B, D, H = 5, 2, 4, 3  # steps, batch, input and state sizes
RNG = np.random.default_rng(7)
XS = RNG.standard_normal((T, B, D)) * 0.7
W = RNG.standard_normal((D, H)) * 0.5
U = RNG.standard_normal((H, H)) * 0.5


def _fd(loss, arrays: list, eps: float = 1e-6) -> list:
    """Central finite differences of ``loss(*arrays)`` (NumPy float64) per entry of each array."""
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            hi, lo = [x.copy() for x in arrays], [x.copy() for x in arrays]
            k = next(j for j, x in enumerate(arrays) if x is a)
            hi[k][idx] += eps
            lo[k][idx] -= eps
            g[idx] = (loss(*hi) - loss(*lo)) / (2 * eps)
        grads.append(g)
    return grads


def _taped(fn, args: list, sources: list) -> list:
    """Gradients of ``fn(*args)`` w.r.t. ``args[i]`` for i in ``sources``, eagerly."""
    args = [gt.constant(a) if isinstance(a, np.ndarray) else a for a in args]
    with gt.GradientTape() as tape:
        for i in sources:
            tape.watch(args[i])
        loss = fn(*args)
    grads = tape.gradient(loss, [args[i] for i in sources], unconnected_gradients="zero")
    return [g.numpy() for g in grads]


def _inside(fn, sources: list):
    """A gt.function returning the loss and its gradients w.r.t. ``args[i]``, i in ``sources``,
    from a tape inside it."""

    @gt.function
    def grads(*args):
        with gt.GradientTape() as tape:
            for i in sources:
                tape.watch(args[i])
            loss = fn(*args)
        return loss, tape.gradient(loss, [args[i] for i in sources])

    return grads


# ------------------------------------------------------------------ an RNN
def _rnn(xs, w, u, n):
    # element_shape: with n == 0 nothing is written, and stack() still has the element dims.
    ta = gt.TensorArray(gt.float64, size=0, dynamic_size=True, element_shape=[B, H])
    h = gt.zeros([B, H], gt.float64)
    for i in gt.range(n):
        h = gt.tanh(gt.matmul(xs[i], w) + gt.matmul(h, u))
        ta = ta.write(i, h)
    out = ta.stack()
    return gt.reduce_sum(gt.square(out - 0.3)) + gt.reduce_sum(out[..., 0])


def _rnn_np(xs, w, u, n):
    h, total = np.zeros((B, H)), 0.0
    for i in range(n):
        h = np.tanh(xs[i] @ w + h @ u)
        total += np.sum((h - 0.3) ** 2) + np.sum(h[..., 0])
    return total


def test_an_rnn_writing_a_growing_array_matches_eager_and_finite_differences(device):
    f = _inside(_rnn, [0, 1, 2])
    for n in (0, 1, 2, 5):  # one trace: the loop's bound is a tensor argument
        args = [XS, W, U, gt.constant(n)]
        loss, got = f(*[gt.constant(a) if isinstance(a, np.ndarray) else a for a in args])
        np.testing.assert_allclose(float(loss), _rnn_np(XS, W, U, n), rtol=1e-10, atol=1e-12)
        eager = _taped(_rnn, args, [0, 1, 2])
        fd = _fd(lambda xs, w, u: _rnn_np(xs, w, u, n), [XS, W, U])
        for g, e, d in zip(got, eager, fd):
            np.testing.assert_allclose(g.numpy(), e, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(g.numpy(), d, rtol=1e-5, atol=1e-7)
        if n == 0:  # no iteration: nothing reaches the weights
            assert not any(np.any(g.numpy()) for g in got)
    assert f.experimental_get_tracing_count() == 1


def test_float32_rnn_on_the_device_matches_eager(device):
    xs, w, u = (gt.constant(a.astype(np.float32)) for a in (XS, W, U))

    def rnn32(xs, w, u, n):
        ta = gt.TensorArray(gt.float32, size=0, dynamic_size=True)
        h = gt.zeros([B, H])
        for i in gt.range(n):
            h = gt.tanh(gt.matmul(xs[i], w) + gt.matmul(h, u))
            ta = ta.write(i, h)
        return gt.reduce_sum(gt.square(ta.stack() - 0.3))

    f = _inside(rnn32, [1, 2])
    for n in (1, 4):
        _, got = f(xs, w, u, gt.constant(n))
        for g, e in zip(got, _taped(rnn32, [xs, w, u, gt.constant(n)], [1, 2])):
            np.testing.assert_allclose(g.numpy(), e, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ reading earlier rows back
def _readback(xs, w, n):
    ta = gt.TensorArray(gt.float64, size=0, dynamic_size=True, clear_after_read=False)
    ta = ta.write(0, gt.tanh(gt.matmul(xs[0], w)))
    for i in gt.range(1, n):
        prev = ta.read(i - 1)
        early = ta.read(i // 2)
        ta = ta.write(i, gt.tanh(gt.matmul(xs[i], w) + prev * early))
    return gt.reduce_sum(ta.stack() * gt.cast(gt.range(1, H + 1), gt.float64))


def _readback_np(xs, w, n):
    rows = [np.tanh(xs[0] @ w)]
    for i in range(1, n):
        rows.append(np.tanh(xs[i] @ w + rows[i - 1] * rows[i // 2]))
    return float(np.sum(np.stack(rows) * np.arange(1, H + 1)))


def test_reading_earlier_rows_inside_the_loop_matches_eager_and_finite_differences(device):
    f = _inside(_readback, [0, 1])
    for n in (1, 2, 5):
        args = [XS, W, gt.constant(n)]
        loss, got = f(gt.constant(XS), gt.constant(W), gt.constant(n))
        np.testing.assert_allclose(float(loss), _readback_np(XS, W, n), rtol=1e-10)
        eager = _taped(_readback, args, [0, 1])
        fd = _fd(lambda xs, w: _readback_np(xs, w, n), [XS, W])
        for g, e, d in zip(got, eager, fd):
            np.testing.assert_allclose(g.numpy(), e, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(g.numpy(), d, rtol=1e-5, atol=1e-7)
    assert f.experimental_get_tracing_count() == 1


# ------------------------------------------------------------------ a second loop after the first
def _two_loops(xs, w, n):
    ta = gt.TensorArray(gt.float64, size=0, dynamic_size=True)
    for i in gt.range(n):
        ta = ta.write(i, gt.tanh(gt.matmul(xs[i], w)))
    tb = gt.TensorArray(gt.float64, size=0, dynamic_size=True)
    acc = gt.zeros([B, H], gt.float64)
    for j in gt.range(ta.size()):  # the first array's run-time length bounds the second loop
        acc = gt.sin(acc + ta.read(j))
        tb = tb.write(j, acc * acc)
    return gt.reduce_sum(tb.stack()) + gt.reduce_sum(ta.stack())


def _two_loops_np(xs, w, n):
    rows = [np.tanh(xs[i] @ w) for i in range(n)]
    acc, total = np.zeros((B, H)), float(np.sum(rows))
    for r in rows:
        acc = np.sin(acc + r)
        total += np.sum(acc * acc)
    return total


def test_a_second_loop_reading_the_first_loops_growing_array(device):
    f = _inside(_two_loops, [0, 1])
    for n in (0, 1, 4):
        args = [XS, W, gt.constant(n)]
        loss, got = f(gt.constant(XS), gt.constant(W), gt.constant(n))
        np.testing.assert_allclose(float(loss), _two_loops_np(XS, W, n), rtol=1e-10, atol=1e-12)
        eager = _taped(_two_loops, args, [0, 1])
        fd = _fd(lambda xs, w: _two_loops_np(xs, w, n), [XS, W])
        for g, e, d in zip(got, eager, fd):
            np.testing.assert_allclose(g.numpy(), e, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(g.numpy(), d, rtol=1e-5, atol=1e-7)
    assert f.experimental_get_tracing_count() == 1


# ------------------------------------------------------------------ gt.while_loop, saved models
def _while_form(x, n):
    ta = gt.TensorArray(gt.float64, size=0, dynamic_size=True)

    def body(i, s, t):
        s = gt.sin(s) * x + gt.cast(i, gt.float64)
        return i + 1, s, t.write(i, s)

    _, s, ta = gt.while_loop(lambda i, s, t: i < n, body, (gt.constant(0), x, ta))
    return gt.reduce_sum(ta.stack() * ta.stack()) + gt.reduce_sum(s)


def _while_form_np(x, n):
    s, total = x.copy(), 0.0
    for i in range(n):
        s = np.sin(s) * x + i
        total += np.sum(s * s)
    return total + np.sum(s)


def test_gt_while_loop_carrying_the_array_and_a_saved_model_of_the_gradient(tmp_path):
    x0 = np.array([0.3, -0.8, 1.1])
    f = _inside(_while_form, [0])
    for n in (0, 1, 3):
        _, (got,) = f(gt.constant(x0), gt.constant(n))
        np.testing.assert_allclose(got.numpy(), _taped(_while_form, [x0, gt.constant(n)], [0])[0], rtol=1e-9)
        (fd,) = _fd(lambda x: _while_form_np(x, n), [x0])
        np.testing.assert_allclose(got.numpy(), fd, rtol=1e-5, atol=1e-7)
    path = str(tmp_path / "grown")
    gt.saved_model.save(f, path)
    loaded = gt.saved_model.load(path)
    for n in (0, 2, 4):
        _, (want,) = f(gt.constant(x0), gt.constant(n))
        _, (got,) = loaded(gt.constant(x0), gt.constant(n))
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    # An array read back in the loop: the saved loop stacks its padded rows and lengths.
    f = _inside(_readback, [1])
    xs, w = gt.constant(XS), gt.constant(W)
    f(xs, w, gt.constant(2))
    gt.saved_model.save(f, str(tmp_path / "read_back"))
    loaded = gt.saved_model.load(str(tmp_path / "read_back"))
    for n in (1, 3, 5):
        _, (want,) = f(xs, w, gt.constant(n))
        _, (got,) = loaded(xs, w, gt.constant(n))
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def test_a_tape_around_the_call_of_the_inner_gradient_gives_eagers_numbers():
    # The stacking loop run op by op under an outer tape (first order here: the inner tape's
    # gradient is only read, the outer tape differentiates the loss itself).
    x0 = np.array([0.3, -0.8, 1.1])
    f = _inside(_while_form, [0])
    x = gt.constant(x0)
    with gt.GradientTape() as tape:
        tape.watch(x)
        loss, _ = f(x, gt.constant(3))
    np.testing.assert_allclose(
        tape.gradient(loss, x).numpy(), _taped(_while_form, [x0, gt.constant(3)], [0])[0], rtol=1e-9
    )
    # An array read back inside the loop: its padded stacks are made op by op too.
    w = gt.constant(W)
    with gt.GradientTape() as tape:
        tape.watch(w)
        loss, (gw,) = _inside(_readback, [1])(gt.constant(XS), w, gt.constant(4))
        total = loss + gt.reduce_sum(gw)
    (want,) = _fd(
        lambda w: _readback_np(XS, w, 4) + float(np.sum(_fd(lambda v: _readback_np(XS, v, 4), [w], 1e-5)[0])),
        [W],
        1e-4,
    )
    np.testing.assert_allclose(tape.gradient(total, w).numpy(), want, rtol=1e-3, atol=1e-4)


def _stacking_loops(fn, sources, args):
    f = _inside(fn, sources)
    concrete = f.get_concrete_function(*[gt.constant(a) for a in args], gt.constant(3))
    return [
        op.value
        for op in concrete.graph.get_operations()
        if op.type == "While" and op.value.stack is not None
    ]


def test_an_array_only_written_stacks_its_lengths_one_read_back_its_padded_rows():
    # Written only (the RNN): the gradient needs the array's shape per iteration, not its values,
    # so the gradient's forward loop stacks one int32 length per iteration (O(n) memory).
    (loop,) = _stacking_loops(_rnn, [1, 2], [XS, W, U])
    (array,) = loop.growing
    assert loop.measured == (array,) and array not in loop.stack and loop.ragged == (array,)
    assert loop.specs[-1].dtype == gt.int32 and loop.specs[-1].shape == (None,)
    # Read back inside the loop: its values are stacked, padded to the longest, with the lengths.
    (loop,) = _stacking_loops(_readback, [1], [XS, W])
    (array,) = loop.growing
    assert loop.measured == () and array in loop.stack and loop.ragged == (array,)
    stacked = loop.specs[loop.n_vars + loop.stack.index(array)]  # [iterations, rows, ...]
    assert stacked.shape[:2] == (None, None)


def test_second_order_through_the_growing_array_matches_eager_nested_tapes():
    x0 = np.array([0.3, -0.8, 1.1])

    def second(x, n):
        with gt.GradientTape() as outer:
            outer.watch(x)
            with gt.GradientTape() as inner:
                inner.watch(x)
                loss = _while_form(x, n)
            g = inner.gradient(loss, x)
            z = gt.reduce_sum(g * g)
        return outer.gradient(z, x, unconnected_gradients="zero")

    f = gt.function(second)
    for n in (0, 1, 3):
        want = second(gt.constant(x0), gt.constant(n)).numpy()
        np.testing.assert_allclose(f(gt.constant(x0), gt.constant(n)).numpy(), want, rtol=1e-9, atol=1e-12)
        # and finite differences of the first-order gradient's squared norm
        grad_np = lambda x: _fd(lambda y: _while_form_np(y, n), [x], eps=1e-5)[0]  # noqa: E731
        (fd,) = _fd(lambda x: float(np.sum(grad_np(x) ** 2)), [x0], eps=1e-4)
        np.testing.assert_allclose(want, fd, rtol=1e-3, atol=1e-4)
    assert f.experimental_get_tracing_count() == 1


def test_onnx_export_of_the_gradient_refuses_the_growing_stacks_by_name(tmp_path):
    pytest.importorskip("onnx")

    def grow(x, n):
        ta = gt.TensorArray(gt.float64, size=0, dynamic_size=True)
        _, _, ta = gt.while_loop(
            lambda i, s, t: i < n, lambda i, s, t: (i + 1, gt.sin(s) * x, t.write(i, s)), (0, x, ta)
        )
        return gt.reduce_sum(ta.stack())

    f = _inside(grow, [0])
    spec = [gt.TensorSpec([3], gt.float64), gt.TensorSpec([], gt.int32)]
    with pytest.raises(gt.errors.UnimplementedError, match="dynamic_size TensorArray.*size=n"):
        gt.onnx.export(f, str(tmp_path / "m.onnx"), spec)


def test_a_loop_that_writes_and_rereads_a_variable_while_growing_the_array():
    # The forward loop stacks itself (it keeps the variable's reads): the growing array's stack
    # is padded there too, and the gradient reaches the variable through each iteration's read.
    v = gt.Variable(np.array([0.5, -0.2, 0.1]))
    x0 = np.array([0.3, 1.0, -2.0])

    def f(x, n):
        ta = gt.TensorArray(gt.float64, size=0, dynamic_size=True)
        for i in gt.range(n):
            v.assign(v * 0.9 + 0.1)
            ta = ta.write(i, gt.sin(x * v.read_value()))
        return gt.reduce_sum(gt.square(ta.stack()))

    def f_np(x, v0, n):
        v, total = v0.copy(), 0.0
        for _ in range(n):
            v = v * 0.9 + 0.1
            total += np.sum(np.sin(x * v) ** 2)
        return total

    @gt.function
    def g(x, n):
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = f(x, n)
        return tape.gradient(y, [x, v], unconnected_gradients="zero")

    v0 = v.numpy().copy()
    for n in (0, 1, 3):
        v.assign(v0)
        got = [t.numpy() for t in g(gt.constant(x0), gt.constant(n))]
        v.assign(v0)
        with gt.GradientTape() as tape:
            x = gt.constant(x0)
            tape.watch(x)
            y = f(x, gt.constant(n))
        eager = [t.numpy() for t in tape.gradient(y, [x, v], unconnected_gradients="zero")]
        np.testing.assert_allclose(got[0], eager[0], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(got[1], eager[1], rtol=1e-9, atol=1e-12)
        (fd,) = _fd(lambda x: f_np(x, v0, n), [x0])
        np.testing.assert_allclose(got[0], fd, rtol=1e-5, atol=1e-7)


def test_a_growing_array_written_at_a_python_index_inside_the_loop():
    x0 = np.array([0.3, 1.0, -2.0])

    def f(x, n):
        ta = gt.TensorArray(gt.float64, size=0, dynamic_size=True)
        for i in gt.range(n):
            ta = ta.write(0, gt.sin(x * gt.cast(i + 1, gt.float64)))  # overwrites row 0
            ta = ta.write(i, gt.cos(x) * ta.read(0))
        return gt.reduce_sum(ta.stack() * gt.cast(gt.range(1, 4), gt.float64))

    grads = _inside(f, [0])
    for n in (1, 2, 4):
        loss, (got,) = grads(gt.constant(x0), gt.constant(n))
        np.testing.assert_allclose(float(loss), float(f(gt.constant(x0), gt.constant(n))), rtol=1e-12)
        np.testing.assert_allclose(
            got.numpy(), _taped(f, [x0, gt.constant(n)], [0])[0], rtol=1e-9, atol=1e-12
        )
    assert grads.experimental_get_tracing_count() == 1


def test_nested_loops_growing_one_array_read_back_inside():
    x0 = np.array([0.3, 1.0, -2.0])

    def f(x, n):
        ta = gt.TensorArray(gt.float64, size=0, dynamic_size=True, clear_after_read=False)
        ta = ta.write(0, x)
        k = gt.constant(1)
        for j in gt.range(n):  # the array is a loop variable of both loops
            for i in gt.range(j + 1):
                ta = ta.write(k, gt.sin(x * gt.cast(i + j + 1, gt.float64)) * ta.read(k - 1) + x)
                k += 1
        return gt.reduce_sum(gt.square(ta.stack()))

    def f_np(x, n):
        rows = [x]
        for j in range(n):
            for i in range(j + 1):
                rows.append(np.sin(x * (i + j + 1)) * rows[-1] + x)
        return float(np.sum(np.square(rows)))

    grads = _inside(f, [0])
    for n in (0, 1, 3):
        loss, (got,) = grads(gt.constant(x0), gt.constant(n))
        np.testing.assert_allclose(float(loss), f_np(x0, n), rtol=1e-12)
        np.testing.assert_allclose(
            got.numpy(), _taped(f, [x0, gt.constant(n)], [0])[0], rtol=1e-9, atol=1e-12
        )
        np.testing.assert_allclose(got.numpy(), _fd(lambda x: f_np(x, n), [x0])[0], rtol=1e-5, atol=1e-7)
    assert grads.experimental_get_tracing_count() == 1
