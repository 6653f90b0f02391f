"""Gradients through a gt.while_loop nested in another loop's body that writes a variable and
reads it again inside (and a gt.random.Generator drawing there, whose state is such a variable).

As TensorFlow's: every read of a variable is a value of its own whose gradient goes to the
variable (dL/dv sums them, over the inner and the outer iterations); an assignment has no
gradient. The inner loop keeps its reads per inner iteration, and the enclosing loop keeps
those stacks per outer iteration, padded to the longest inner trip count (which may differ
from one outer iteration to the next, zero included).

References: numbers TensorFlow 2.21 printed for the same code (tf.function with nested
tf.while_loop, and AutoGraph's for-in-tf.range: both gave these numbers), finite differences
where the inputs do not feed a write, and the same Python run eagerly under a tape.
"""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt

V0 = [0.8, -0.6]
X0 = [0.4, -0.3]


def _case(op: str, autograph: bool):
    """A [2] variable and ``run(x, ns)``: an outer loop over ``ns`` whose iteration j runs an inner
    loop ``ns[j]`` times; the inner body reads v, writes it with ``op``, reads it again."""
    v = gt.Variable(np.array(V0), dtype=gt.float64)

    def write(x):
        if op == "assign_add":
            v.assign_add(x * 0.5)
        elif op == "assign":
            v.assign(v * 0.9 + x)
        else:
            v.assign_sub(x * 0.25)

    def inner_step(x, s):
        before = gt.reduce_sum(s * v.read_value())
        write(x)
        after = v.read_value()
        return gt.sin(s) * before * 0.3 + after * x

    def run(x, ns):
        with gt.GradientTape() as tape:
            tape.watch(x)
            if autograph:
                t = x
                for j in gt.range(gt.size(ns)):
                    s = t
                    for _ in gt.range(gt.gather(ns, j)):
                        s = inner_step(x, s)
                    t = gt.tanh(s) * v.read_value() + 0.1
            else:

                def inner(i, s, k):
                    return i + 1, inner_step(x, s), k

                def outer(j, t):
                    k = gt.gather(ns, j)
                    _, s, _ = gt.while_loop(lambda i, s, k: i < k, inner, (0, t, k))
                    return j + 1, gt.tanh(s) * v.read_value() + 0.1

                _, t = gt.while_loop(lambda j, t: j < gt.size(ns), outer, (0, x))
            y = gt.reduce_sum(t * t)
        return y, tape.gradient(y, [v, x])

    return v, gt.function(run)


# TF 2.21, tf.function (nested tf.while_loop and for-in-tf.range alike): per write and inner trip
# counts, (y, dy/dv, dy/dx, v after the call).
TF_NUMBERS = {
    ("assign_add", (2, 2, 2)): (
        4.004769184988869,
        [6.646068023607806, -1.28579749947248],
        [6.762951101402076, -2.6993081664083807],
        [1.9999999999999998, -1.4999999999999998],
    ),
    ("assign_add", (3, 0, 1, 2)): (
        4.0812174603720095,
        [6.038256279104652, -0.9498689882666945],
        [4.850668684945268, -2.509403474183501],
        [1.9999999999999998, -1.4999999999999998],
    ),
    ("assign_add", (0, 0)): (
        0.16907861197207968,
        [0.5226672096386753, -0.0523627916483017],
        [0.37994038818313497, -0.03720926463108682],
        [0.8, -0.6],
    ),
    ("assign_add", (1, 3, 2)): (
        3.95831154633425,
        [6.675161605423901, -1.2301811986431535],
        [7.2838010932334125, -2.5775593908875742],
        [1.9999999999999998, -1.4999999999999998],
    ),
    ("assign_add", ()): (0.25, [0.0, 0.0], [0.8, -0.6], [0.8, -0.6]),
    ("assign", (2, 2, 2)): (
        5.581742351816681,
        [3.1914522787521644, 0.6175384081697214],
        [-0.8138139247584902, -0.9815734731119721],
        [2.2993888000000005, -1.7245416],
    ),
    ("assign", (3, 0, 1, 2)): (
        5.640506695267831,
        [9.591470261949732, -2.0763319269986544],
        [3.6211283043480047, 1.5643179795748106],
        [2.2993888000000005, -1.7245416],
    ),
    ("assign", (0, 0)): (
        0.16907861197207968,
        [0.5226672096386753, -0.0523627916483017],
        [0.37994038818313497, -0.03720926463108682],
        [0.8, -0.6],
    ),
    ("assign", (1, 3, 2)): (
        5.6730014710108865,
        [2.9900464724597198, 0.2807631097579187],
        [-1.421448400889615, -2.2346598903059425],
        [2.2993888000000005, -1.7245416],
    ),
    ("assign", ()): (0.25, [0.0, 0.0], [0.8, -0.6], [0.8, -0.6]),
    ("assign_sub", (2, 2, 2)): (
        0.0221681757598646,
        [0.0375735201150714, 0.017036485613341954],
        [0.0094200259959924, 0.004280191322882834],
        [0.20000000000000015, -0.14999999999999997],
    ),
    ("assign_sub", (3, 0, 1, 2)): (
        0.022168175970754253,
        [0.03757348997684409, 0.0170364444642886],
        [0.00941986815617076, 0.004280151852131773],
        [0.20000000000000015, -0.14999999999999997],
    ),
    ("assign_sub", (0, 0)): (
        0.16907861197207968,
        [0.5226672096386753, -0.0523627916483017],
        [0.37994038818313497, -0.03720926463108682],
        [0.8, -0.6],
    ),
    ("assign_sub", (1, 3, 2)): (
        0.02216817439190731,
        [0.037573474133611826, 0.017036489572258347],
        [0.009420018994796536, 0.004280199472560727],
        [0.20000000000000015, -0.14999999999999997],
    ),
    ("assign_sub", ()): (0.25, [0.0, 0.0], [0.8, -0.6], [0.8, -0.6]),
}


@pytest.mark.parametrize("autograph", [False, True], ids=["while_loop", "autograph"])
@pytest.mark.parametrize(("op", "counts"), list(TF_NUMBERS), ids=[f"{o}-{list(c)}" for o, c in TF_NUMBERS])
def test_inner_loop_writes_and_reads_match_tensorflow(op, counts, autograph):
    v, f = _case(op, autograph)
    y, (gv, gx) = f(gt.constant(X0, gt.float64), gt.constant(list(counts), gt.int32))
    want_y, want_gv, want_gx, want_v = TF_NUMBERS[op, counts]
    np.testing.assert_allclose(float(y), want_y, rtol=1e-12)
    if not any(want_gv):  # no outer iteration ran: TF gives zeros, an unconnected None is as good
        assert gv is None or not np.any(gv.numpy())
    else:
        np.testing.assert_allclose(gv.numpy(), want_gv, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gx.numpy(), want_gx, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(v.numpy(), want_v, rtol=1e-12)  # written by the loops only, once


def test_the_same_function_with_other_inner_trip_counts_and_calls_writes_once_per_call():
    v, f = _case("assign_add", False)
    for counts in ((3, 0, 1, 2), (2, 2, 2), (3, 0, 1, 2)):
        v.assign(V0)
        y, (gv, gx) = f(gt.constant(X0, gt.float64), gt.constant(list(counts), gt.int32))
        want_y, want_gv, want_gx, want_v = TF_NUMBERS["assign_add", counts]
        np.testing.assert_allclose(
            [float(y), *gv.numpy(), *gx.numpy()], [want_y, *want_gv, *want_gx], rtol=1e-9
        )
        np.testing.assert_allclose(v.numpy(), want_v, rtol=1e-12)


def test_nested_loop_gradients_match_finite_differences():
    # The writes add constants: perturbing v's initial value shifts every read by the same
    # amount, so its finite difference is the sum of the reads' gradients, and x feeds no write.
    rng = np.random.default_rng(3)
    w0 = rng.normal(size=3) * 0.4
    w = gt.Variable(w0)
    counts = [2, 0, 3, 1]

    @gt.function
    def f(x, ns):
        with gt.GradientTape() as tape:
            tape.watch(x)

            def inner(i, s, k):
                a = s * w.read_value()
                w.assign_add(gt.constant(np.full(3, 0.1)))
                return i + 1, gt.tanh(a + w.read_value() * x), k

            def outer(j, t):
                _, s, _ = gt.while_loop(lambda i, s, k: i < k, inner, (0, t, gt.gather(ns, j)))
                w.assign_sub(gt.constant(np.full(3, 0.05)))
                return j + 1, s * gt.cos(w.read_value())

            _, t = gt.while_loop(lambda j, t: j < gt.size(ns), outer, (0, x))
            loss = gt.reduce_sum(t * t)
        return loss, tape.gradient(loss, [w, x])

    def loss_np(x, w_init):
        t, wv = x.copy(), w_init.copy()
        for k in counts:
            s = t
            for _ in range(k):
                a = s * wv
                wv = wv + 0.1
                s = np.tanh(a + wv * x)
            wv = wv - 0.05
            t = s * np.cos(wv)
        return float(np.sum(t * t))

    x0 = rng.normal(size=3)
    loss, (gw, gx) = f(gt.constant(x0), gt.constant(counts))
    np.testing.assert_allclose(float(loss), loss_np(x0, w0), rtol=1e-12)
    np.testing.assert_allclose(w.numpy(), w0 + 0.6 - 0.2, rtol=1e-12)
    eps = 1e-6
    fd_x = [(loss_np(x0 + eps * e, w0) - loss_np(x0 - eps * e, w0)) / (2 * eps) for e in np.eye(3)]
    fd_w = [(loss_np(x0, w0 + eps * e) - loss_np(x0, w0 - eps * e)) / (2 * eps) for e in np.eye(3)]
    np.testing.assert_allclose(gx.numpy(), fd_x, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(gw.numpy(), fd_w, rtol=1e-6, atol=1e-9)


def _second_order_case(kind: str):
    v = gt.Variable(np.array([0.5, 1.0]))

    def forward(x, ns, traced):
        def inner_body(i, s):
            v.assign_add(x * 0.25)
            return i + 1, gt.sin(s * v.read_value()) + x

        def inner(s, k):
            if traced:
                return gt.while_loop(lambda i, s: i < k, inner_body, (0, s))[1]
            for i in range(int(k)):
                s = inner_body(i, s)[1]
            return s

        def outer_body(j, t):
            k = gt.gather(ns, j)
            if kind == "cond_in_loop":  # the inner loop in a cond branch of the outer body
                if traced:
                    s = gt.cond(gt.reduce_sum(t) > 0.0, lambda: inner(t, k), lambda: t * v.read_value())
                else:
                    s = inner(t, k) if float(gt.reduce_sum(t)) > 0.0 else t * v.read_value()
            else:
                s = inner(t, k)
            return j + 1, s * v.read_value()

        def loop():
            if traced:
                return gt.while_loop(lambda j, t: j < gt.size(ns), outer_body, (0, x))[1]
            t = x
            for j in range(int(gt.size(ns))):
                t = outer_body(j, t)[1]
            return t

        if kind == "loops_in_cond":  # the loop pair in a cond branch: the If keeps the stacks
            if traced:
                return gt.reduce_sum(gt.cond(gt.reduce_sum(x) < 0.0, loop, lambda: x * 2.0))
            return gt.reduce_sum(loop() if float(gt.reduce_sum(x)) < 0.0 else x * 2.0)
        return gt.reduce_sum(loop())

    def run(x, ns, traced):
        with gt.GradientTape() as outer:
            outer.watch(x)
            with gt.GradientTape() as tape:
                tape.watch(x)
                y = forward(x, ns, traced)
            g = tape.gradient(y, [x, v], unconnected_gradients="zero")
            total = gt.reduce_sum(g[0] * g[0]) + gt.reduce_sum(g[1] * x)
        return [y, *g, *outer.gradient(total, [x, v], unconnected_gradients="zero")]

    return v, run


@pytest.mark.parametrize("kind", ["loop_in_loop", "cond_in_loop", "loops_in_cond"])
@pytest.mark.parametrize("counts", [[2, 2], [3, 0, 1], [0, 1]])
def test_first_and_second_order_gradients_match_eager(kind, counts):
    v, run = _second_order_case(kind)
    traced = gt.function(lambda x, ns: run(x, ns, True))
    x = gt.constant(np.array([0.3, -0.7]))
    v.assign([0.5, 1.0])
    got = traced(x, gt.constant(counts))
    after = v.numpy()
    v.assign([0.5, 1.0])
    want = run(x, gt.constant(counts), False)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(after, v.numpy(), rtol=1e-12)


def test_a_generator_drawing_in_an_inner_loop_differentiates_the_numbers_drawn():
    g = gt.random.Generator.from_seed(11)

    @gt.function
    def f(x, ns):
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = x
            for j in gt.range(gt.size(ns)):
                for _ in gt.range(gt.gather(ns, j)):
                    y = gt.sin(y * g.normal([2]))
                y = y + 0.5
            loss = gt.reduce_sum(y * y)
        return y, tape.gradient(loss, x)

    x = gt.constant([0.3, -1.1])
    counts = [2, 0, 3]
    reference = gt.random.Generator.from_seed(11)
    for _ in range(2):  # the second call draws the next numbers and differentiates those
        y, grad = f(x, gt.constant(counts))
        xv = gt.Variable(x)
        with gt.GradientTape() as tape:
            ye = xv
            for k in counts:
                for _ in range(k):
                    ye = gt.sin(ye * reference.normal([2]))
                ye = ye + 0.5
            loss = gt.reduce_sum(ye * ye)
        np.testing.assert_allclose(y.numpy(), ye.numpy(), rtol=1e-6)
        np.testing.assert_allclose(grad.numpy(), tape.gradient(loss, xv).numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(g.state.numpy(), reference.state.numpy())


def test_a_saved_function_with_nested_kept_stacks_gives_the_same_gradients(tmp_path):
    v = gt.Variable(np.array([0.5, 1.0]))

    class M(gt.Module):
        @gt.function(input_signature=[gt.TensorSpec([2], gt.float64), gt.TensorSpec([None], gt.int32)])
        def step(self, x, ns):
            with gt.GradientTape() as tape:
                tape.watch(x)

                def inner(i, s, k):
                    v.assign_add(x * 0.25)
                    return i + 1, gt.sin(s * v.read_value()) + x, k

                def outer(j, t):
                    _, s, _ = gt.while_loop(lambda i, s, k: i < k, inner, (0, t, gt.gather(ns, j)))
                    return j + 1, s * v.read_value()

                _, z = gt.while_loop(lambda j, t: j < gt.size(ns), outer, (0, x))
                y = gt.reduce_sum(z)
            return y, tape.gradient(y, [v, x])

    m = M()
    x, ns = gt.constant([0.3, -0.7], gt.float64), gt.constant([2, 0, 3])
    v.assign([0.5, 1.0])
    want = m.step(x, ns)
    gt.saved_model.save(m, str(tmp_path / "m"))
    loaded = gt.saved_model.load(str(tmp_path / "m"))
    loaded.variables[0].assign([0.5, 1.0])
    got = loaded.step(x, ns)
    np.testing.assert_allclose(got[0].numpy(), want[0].numpy(), rtol=1e-12)
    for g, w in zip(got[1], want[1]):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12)
    np.testing.assert_allclose(loaded.variables[0].numpy(), v.numpy(), rtol=1e-12)


def _three_deep():
    """Loops three deep writing one variable at the innermost and the middle level: the outer
    loop runs len(ns) times, the middle ns[j] times, the innermost ms[(j + i) % len(ms)]."""
    v = gt.Variable(np.array([0.5, 1.0]))

    def forward(x, ns, ms):
        def inner_body(a, s):
            v.assign_add(x * 0.1)
            return a + 1, gt.sin(s * v.read_value()) + x

        def middle_body(i, u, j):
            k = gt.gather(ms, (j + i) % gt.size(ms))
            u = gt.while_loop(lambda a, s: a < k, inner_body, (0, u))[1]
            v.assign(v * 0.95)
            return i + 1, u * v.read_value(), j

        def outer(j, t):
            k = gt.gather(ns, j)
            u = gt.while_loop(lambda i, u, j: i < k, middle_body, (0, t, j))[1]
            return j + 1, gt.tanh(u) + gt.reduce_sum(v.read_value())

        return gt.reduce_sum(gt.while_loop(lambda j, t: j < gt.size(ns), outer, (0, x))[1])

    def run(x, ns, ms):
        with gt.GradientTape() as outer:
            outer.watch(x)
            with gt.GradientTape() as tape:
                tape.watch(x)
                y = forward(x, ns, ms)
            g = tape.gradient(y, [x, v], unconnected_gradients="zero")
            total = gt.reduce_sum(g[0] * g[0]) + gt.reduce_sum(g[1] * x)
        return [y, *g, *outer.gradient(total, [x, v], unconnected_gradients="zero")]

    return v, gt.function(run)


# TF 2.21, the same three tf.while_loops in a tf.function: per (ns, ms), [y, dy/dx, dy/dv, then
# the second-order d(|dy/dx|^2 + dy/dv . x)/dx and /dv], and v after the call.
THREE_DEEP = {
    ((2, 2), (1,)): (
        [
            1.9994216411974648,
            [0.6268519132943835, 0.6835029117881875],
            [3.3383535303299694, 1.2410576170358922],
            [3.4141242000187026, 1.3937444267962982],
            [2.3840981246376796, 1.13141675760399],
        ],
        [0.5129845624999999, 0.5677995625000001],
    ),
    ((3, 0, 1), (2, 0, 3)): (
        [
            2.0975122112747187,
            [0.8120909098764956, 0.41960206390515264],
            [3.381912699647116, 1.0173873833027374],
            [1.323724052657886, 0.024517855055962712],
            [-0.8168256314989989, 1.0907006182673216],
        ],
        [0.6228485, 0.31145037500000006],
    ),
    ((1, 2), (0,)): (
        [
            3.4395975031944075,
            [0.08225751171861076, 0.32646957430483065],
            [4.007291890905591, 3.451750845528612],
            [4.149773188765746, 3.4051314199216893],
            [0.3231814022068695, 0.41587604953668245],
        ],
        [0.42868749999999994, 0.8573749999999999],
    ),
}


@pytest.mark.parametrize(("ns", "ms"), list(THREE_DEEP), ids=[f"{list(a)}-{list(b)}" for a, b in THREE_DEEP])
def test_three_deep_first_and_second_order_match_tensorflow(ns, ms):
    v, f = _three_deep()
    got = f(gt.constant([0.3, -0.7], gt.float64), gt.constant(list(ns)), gt.constant(list(ms)))
    want, after = THREE_DEEP[ns, ms]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(v.numpy(), after, rtol=1e-12)


def test_an_inner_loop_with_only_integer_variables_replays_its_reads():
    # The inner loop's result (an index) comes from reads after writes: the enclosing loop's
    # gradient replays it with the kept reads, so it indexes what the forward indexed.
    c = gt.Variable(0)
    v = gt.Variable(np.array([0.5, 1.0, -0.3]))

    def run(x, traced):
        def inner(i):
            c.assign_add(1)
            return i + c.read_value() % 2 + 1

        def outer(j, t):
            if traced:
                i = gt.while_loop(lambda i: i < 3, inner, 0)
            else:
                i = 0
                while i < 3:
                    i = inner(i)
            v.assign_add(x * 0.1)
            return j + 1, t * gt.gather(v.read_value(), i % 3) + x

        with gt.GradientTape() as tape:
            tape.watch(x)
            if traced:
                _, t = gt.while_loop(lambda j, t: j < 3, outer, (0, x))
            else:
                j, t = 0, x
                while j < 3:
                    j, t = outer(j, t)
            y = gt.reduce_sum(t * t)
        return y, tape.gradient(y, [v, x])

    x = gt.constant([0.2, 0.4, 0.6], gt.float64)
    c.assign(0)
    v.assign([0.5, 1.0, -0.3])
    y, (gv, gx) = gt.function(lambda x: run(x, True))(x)
    assert int(c.numpy()) == 6  # 2 inner iterations per outer one, none again by the gradient
    c.assign(0)
    v.assign([0.5, 1.0, -0.3])
    ey, (egv, egx) = run(x, False)
    np.testing.assert_allclose(float(y), float(ey), rtol=1e-12)
    np.testing.assert_allclose(gv.numpy(), egv.numpy(), rtol=1e-10)
    np.testing.assert_allclose(gx.numpy(), egx.numpy(), rtol=1e-10)
    assert int(c.numpy()) == 6


def test_a_saved_three_deep_function_gives_tensorflows_numbers(tmp_path):
    v, f = _three_deep()

    class M(gt.Module):
        def __init__(self):
            super().__init__()
            self.v = v

        @gt.function(
            input_signature=[
                gt.TensorSpec([2], gt.float64),
                gt.TensorSpec([None], gt.int32),
                gt.TensorSpec([None], gt.int32),
            ]
        )
        def step(self, x, ns, ms):
            return f(x, ns, ms)

    gt.saved_model.save(M(), str(tmp_path / "m"))
    loaded = gt.saved_model.load(str(tmp_path / "m"))
    (ns, ms), (want, after) = list(THREE_DEEP.items())[1]
    loaded.variables[0].assign([0.5, 1.0])
    got = loaded.step(gt.constant([0.3, -0.7], gt.float64), gt.constant(list(ns)), gt.constant(list(ms)))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(loaded.variables[0].numpy(), after, rtol=1e-12)


def test_a_tape_around_the_call_differentiates_nested_loops_as_eager():
    v = gt.Variable(np.array([0.5, 1.0]))

    def forward(x, ns):
        def inner(i, s):
            v.assign_add(x * 0.25)
            return i + 1, gt.sin(s * v.read_value()) + x

        def outer(j, t):
            k = gt.gather(ns, j)
            return j + 1, gt.while_loop(lambda i, s: i < k, inner, (0, t))[1] * v.read_value()

        return gt.reduce_sum(gt.while_loop(lambda j, t: j < gt.size(ns), outer, (0, x))[1])

    traced = gt.function(forward)
    x = gt.constant([0.3, -0.7], gt.float64)
    for counts in ([2, 0, 3], [1, 1]):
        results = []
        for fn in (traced, forward):
            v.assign([0.5, 1.0])
            with gt.GradientTape() as tape:
                tape.watch(x)
                y = fn(x, gt.constant(counts))
            results.append([y, *tape.gradient(y, [v, x])])
        for a, b in zip(*results):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
