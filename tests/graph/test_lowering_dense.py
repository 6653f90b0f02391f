"""The CPU backend's lowering rules for dense layers and classifier losses (graph/lowering.py),
each alone: bias products, relu gradients masked in the product, the mean cross-entropy with
its gradient, and bias updates as accumulating GEMMs. Each is compared with NumPy and with the
same function traced with lowering off; where it must not fire, that it does not."""

from __future__ import annotations

import weakref

import numpy as np
import pytest

import gputensor as gt
from gputensor.backend.cpu import lowered
from gputensor.errors import InvalidArgumentError
from tests.graph.test_lowering import _on_the_cpu, rules  # noqa: F401 - the autouse fixture, by import


def relu(x):
    return np.maximum(x, 0)


# Sizes on both sides of lowered._SMALL_PRODUCT (NumPy's calls below it, CBLAS above).
SIZES = {"small": (4, 6, 5), "blas": (96, 128, 100)}


# -------------------------------------------------------------- bias products
@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
@pytest.mark.parametrize("transpose", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("activation", [None, "relu"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_bias_add_and_relu_ride_in_the_product(monkeypatch, rng, size, transpose, activation, dtype):
    m, k, n = SIZES[size]
    a = rng.standard_normal((k, m) if transpose[0] else (m, k)).astype(dtype)
    w = rng.standard_normal((n, k) if transpose[1] else (k, n)).astype(dtype)
    b = rng.standard_normal(n).astype(dtype)

    def make():
        @gt.function
        def dense(a, w, b):
            y = gt.matmul(a, w, transpose_a=transpose[0], transpose_b=transpose[1]) + b
            return gt.nn.relu(y) if activation else y

        return dense

    dense = make()
    args = [gt.constant(v) for v in (a, w, b)]
    assert rules(dense, *args) == ["bias_product_relu" if activation else "bias_product"]
    expect = (a.T if transpose[0] else a) @ (w.T if transpose[1] else w) + b
    expect = relu(expect) if activation else expect
    tol = 1e-5 if dtype == np.float32 else 1e-12
    got = dense(*args).numpy()
    np.testing.assert_allclose(got, expect, rtol=tol, atol=tol * k)
    monkeypatch.setenv("GPUTENSOR_LOWERING", "0")
    np.testing.assert_allclose(got, make()(*args).numpy(), rtol=tol, atol=tol * k)


def test_the_bias_may_come_first_and_the_batch_be_unknown(rng):
    @gt.function(input_signature=[gt.TensorSpec([None, 64], gt.float32)] * 1)
    def dense(x):
        return gt.nn.relu(b + gt.matmul(x, w))

    w = gt.constant(rng.standard_normal((64, 300)).astype(np.float32))
    b = gt.constant(rng.standard_normal(300).astype(np.float32))
    assert rules(dense) == ["bias_product_relu"]
    for rows in (1, 50, 0):
        x = rng.standard_normal((rows, 64)).astype(np.float32)
        np.testing.assert_allclose(
            dense(gt.constant(x)).numpy(), relu(x @ w.numpy() + b.numpy()), rtol=1e-5, atol=1e-5
        )


def test_relu_keeps_nan_and_zeroes_negatives_as_the_op(rng):
    x = np.array([[np.nan, 1.0], [-2.0, 0.5]], np.float32)  # NaN * 0 is NaN: the whole first row

    @gt.function
    def dense(x, w, b):
        return gt.nn.relu(gt.matmul(x, w) + b)

    w, b = np.eye(2, dtype=np.float32), np.array([0.0, -1.0], np.float32)
    args = [gt.constant(v) for v in (x, w, b)]
    assert rules(dense, *args) == ["bias_product_relu"]
    np.testing.assert_array_equal(dense(*args).numpy(), [[np.nan, np.nan], [0.0, 0.0]])
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(dense(*args).numpy(), relu(x @ w + b))


@pytest.mark.parametrize(
    "case",
    ["product_read_elsewhere", "sum_read_elsewhere", "bias_per_row", "batched", "half", "int"],
)
def test_bias_products_only_where_the_rule_holds(rng, case):
    f32 = np.float32
    shapes = {"batched": ((2, 3, 4), (2, 4, 5), (5,))}.get(case, ((3, 4), (4, 5), (5,)))
    dtype = {"half": np.float16, "int": np.int32}.get(case, f32)
    if case == "bias_per_row":
        shapes = ((3, 4), (4, 5), (3, 1))
    a, w, b = ((rng.standard_normal(s) * 4).astype(dtype) for s in shapes)

    @gt.function
    def fn(a, w, b):
        p = gt.matmul(a, w)
        y = p + b
        r = gt.nn.relu(y) if dtype != np.int32 else y
        if case == "product_read_elsewhere":
            return r, p
        if case == "sum_read_elsewhere":
            return r, y
        return r

    args = [gt.constant(v) for v in (a, w, b)]
    found = rules(fn, *args)
    # The product's sum is read by the caller too: the bias joins the product, the relu stays an op.
    assert found == (["bias_product"] if case == "sum_read_elsewhere" else [])
    p = a.astype(np.float64) @ w.astype(np.float64)
    y = p + b
    out = fn(*args)
    first = out[0] if isinstance(out, tuple) else out
    expect = y if dtype == np.int32 else relu(y)
    np.testing.assert_allclose(first.numpy().astype(np.float64), expect, rtol=2e-3, atol=2e-2)


# ------------------------------------------------------- relu gradient masks
def relu_backward(also_return_product=False):
    """d/dz of sum(g * (relu(z) @ w)): relu_grad(dh, relu(z)) with dh = g @ w.T made by the tape;
    ``also_return_product``: dh is returned too (read outside the relu gradient)."""

    @gt.function
    def back(z, w, g):
        with gt.GradientTape(persistent=True) as tape:
            tape.watch(z)
            h = gt.nn.relu(z)
            loss = gt.reduce_sum(gt.matmul(h, w) * g)
        if also_return_product:
            return tape.gradient(loss, [z, h])
        return tape.gradient(loss, z)

    return back


@pytest.mark.parametrize("rows", [8, 200])
def test_a_relu_gradient_masks_the_product_in_place(rng, rows):
    z = rng.standard_normal((rows, 5)).astype(np.float32)
    w = rng.standard_normal((5, 3)).astype(np.float32)
    g = rng.standard_normal((rows, 3)).astype(np.float32)
    back = relu_backward()
    args = [gt.constant(v) for v in (z, w, g)]
    assert rules(back, *args) == ["product_relu_grad"]
    np.testing.assert_allclose(back(*args).numpy(), (g @ w.T) * (z > 0), rtol=1e-6, atol=1e-6)


def test_a_nan_gradient_stays_nan_where_relu_was_zero(rng):
    z = np.array([[-1.0, 2.0]], np.float32)
    w = np.ones((2, 1), np.float32)
    back = relu_backward()
    args = [gt.constant(v) for v in (z, w, np.array([[np.nan]], np.float32))]
    assert rules(back, *args) == ["product_relu_grad"]
    np.testing.assert_array_equal(back(*args).numpy(), [[np.nan, np.nan]])  # NaN * 0 as TF's ReluGrad


def test_a_product_read_elsewhere_is_not_masked_in_place(rng):
    z, w, g = (rng.standard_normal(s).astype(np.float32) for s in ((4, 5), (5, 3), (4, 3)))
    back = relu_backward(also_return_product=True)
    args = [gt.constant(v) for v in (z, w, g)]
    assert rules(back, *args) == []
    masked, product = back(*args)
    np.testing.assert_allclose(product.numpy(), g @ w.T, rtol=1e-6)  # the product kept its values
    np.testing.assert_allclose(masked.numpy(), (g @ w.T) * (z > 0), rtol=1e-6)


# ---------------------------------------------------- mean cross-entropy folds
def xent_reference(labels, logits):
    z = logits.astype(np.float64)
    z = z - z.max(1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(1, keepdims=True))
    loss = -log_p[np.arange(len(labels)), labels]
    grad = np.exp(log_p)
    grad[np.arange(len(labels)), labels] -= 1
    return loss.mean(), grad / len(labels)


@pytest.mark.parametrize("rows,classes", [(128, 10), (7, 3), (1, 1000)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_mean_cross_entropy_and_its_gradient_are_one_kernel(monkeypatch, rng, rows, classes, dtype):
    logits = (rng.standard_normal((rows, classes)) * 3).astype(dtype)
    labels = rng.integers(0, classes, rows).astype(np.int32)

    def make():
        @gt.function
        def loss_and_grad(labels, logits):
            with gt.GradientTape() as tape:
                tape.watch(logits)
                loss = gt.reduce_mean(gt.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
            return loss, tape.gradient(loss, logits)

        return loss_and_grad

    fn = make()
    args = (gt.constant(labels), gt.constant(logits))
    assert rules(fn, *args) == ["xent_mean"]
    loss, grad = fn(*args)
    ref_loss, ref_grad = xent_reference(labels, logits)
    tol = 1e-6 if dtype == np.float32 else 1e-13
    assert loss.dtype == gt.as_dtype(dtype) and loss.shape == ()
    np.testing.assert_allclose(loss.numpy(), ref_loss, rtol=tol * 10)
    np.testing.assert_allclose(grad.numpy(), ref_grad, rtol=tol * 10, atol=tol)
    monkeypatch.setenv("GPUTENSOR_LOWERING", "0")
    plain_loss, plain_grad = make()(*args)
    np.testing.assert_allclose(loss.numpy(), plain_loss.numpy(), rtol=tol * 10)
    np.testing.assert_allclose(grad.numpy(), plain_grad.numpy(), rtol=tol * 10, atol=tol)


def test_an_upstream_gradient_scales_the_folded_backprop(rng):
    logits = rng.standard_normal((6, 4)).astype(np.float32)
    labels = rng.integers(0, 4, 6).astype(np.int64)

    @gt.function
    def fn(labels, logits):
        with gt.GradientTape() as tape:
            tape.watch(logits)
            loss = 3.0 * gt.reduce_mean(gt.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
        return tape.gradient(loss, logits)

    args = (gt.constant(labels), gt.constant(logits))
    assert rules(fn, *args) == ["xent_gradient"]  # the loss is not returned: the gradient alone
    np.testing.assert_allclose(
        fn(*args).numpy(), 3.0 * xent_reference(labels, logits)[1], rtol=1e-5, atol=1e-7
    )


def test_a_bad_label_in_the_folded_kernel_raises_as_the_op(rng):
    @gt.function
    def fn(labels, logits):
        with gt.GradientTape() as tape:
            tape.watch(logits)
            loss = gt.reduce_mean(gt.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
        return loss, tape.gradient(loss, logits)

    logits = gt.constant(rng.standard_normal((3, 4)).astype(np.float32))
    assert rules(fn, gt.constant([0, 1, 2]), logits) == ["xent_mean"]
    with pytest.raises(InvalidArgumentError, match=r"label value of 4 .* \[0, 4\)"):
        fn(gt.constant([0, 4, 2]), logits)
    with pytest.raises(InvalidArgumentError, match=r"label value of -1"):
        fn(gt.constant([0, -1, 2]), logits)


def mean_xent_and_gradient(signature=None):
    @gt.function(input_signature=signature)
    def fn(labels, logits):
        with gt.GradientTape() as tape:
            tape.watch(logits)
            loss = gt.reduce_mean(gt.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
        return loss, tape.gradient(loss, logits)

    return fn


def test_an_empty_batch_gives_nan_as_reduce_mean():
    fn = mean_xent_and_gradient()
    args = (gt.zeros([0], gt.int32), gt.zeros([0, 3]))
    assert rules(fn, *args) == ["xent_mean"]
    loss, grad = fn(*args)
    assert np.isnan(loss.numpy()) and grad.shape == (0, 3)


def test_an_unknown_batch_size_keeps_the_ops(rng):
    # The mean's gradient reads the loss vector's run-time length: the vector must exist.
    fn = mean_xent_and_gradient([gt.TensorSpec([None], gt.int32), gt.TensorSpec([None, 3], gt.float32)])
    assert rules(fn) == []
    for rows in (5, 1):
        logits = rng.standard_normal((rows, 3)).astype(np.float32)
        labels = rng.integers(0, 3, rows).astype(np.int32)
        loss, grad = fn(gt.constant(labels), gt.constant(logits))
        ref_loss, ref_grad = xent_reference(labels, logits)
        np.testing.assert_allclose(loss.numpy(), ref_loss, rtol=1e-5)
        np.testing.assert_allclose(grad.numpy(), ref_grad, rtol=1e-5, atol=1e-7)


def test_the_loss_vector_read_elsewhere_keeps_the_ops(rng):
    logits = rng.standard_normal((5, 4)).astype(np.float32)
    labels = rng.integers(0, 4, 5).astype(np.int32)

    @gt.function
    def fn(labels, logits):
        with gt.GradientTape() as tape:
            tape.watch(logits)
            per_row = gt.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
            loss = gt.reduce_mean(per_row)
        return per_row, tape.gradient(loss, logits)

    args = (gt.constant(labels), gt.constant(logits))
    assert rules(fn, *args) == []
    per_row, grad = fn(*args)
    np.testing.assert_allclose(grad.numpy(), xent_reference(labels, logits)[1], rtol=1e-5, atol=1e-7)


# ------------------------------------------------------------ bias updates
@pytest.mark.parametrize("shape,lead", [((128, 256), 1), ((8, 10), 1), ((4, 6, 200), 2), ((3, 5, 7), 1)])
@pytest.mark.parametrize("kind", ["sub", "add"])
def test_a_bias_update_by_a_leading_sum_is_accumulated_in_place(monkeypatch, rng, shape, lead, kind):
    start = rng.standard_normal(shape[lead:]).astype(np.float32)
    t = rng.standard_normal(shape).astype(np.float32)

    def make(v):
        @gt.function
        def step(t):
            total = gt.reduce_sum(t, axis=list(range(lead)))
            if kind == "sub":
                v.assign_sub(0.1 * total)
            else:
                v.assign_add(total * 0.1)
            return gt.constant(0.0)

        return step

    v = gt.Variable(start)
    step = make(v)
    assert rules(step, gt.constant(t)) == ["accumulate_sum"]
    buffer = weakref.ref(v._value._data)
    step(gt.constant(t))
    step(gt.constant(t))
    assert buffer() is v._value._data
    sign = -1 if kind == "sub" else 1
    expect = start + 2 * sign * 0.1 * t.sum(axis=tuple(range(lead)), dtype=np.float64)
    np.testing.assert_allclose(v.numpy(), expect, rtol=1e-5, atol=1e-5)
    monkeypatch.setenv("GPUTENSOR_LOWERING", "0")
    plain = gt.Variable(start)
    for _ in range(2):
        make(plain)(gt.constant(t))
    # BLAS's ones @ t and NumPy's add.reduce add the rows in different orders.
    np.testing.assert_allclose(v.numpy(), plain.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", ["inner_axis", "keepdims", "sum_read_elsewhere", "all_axes"])
def test_sums_not_over_leading_axes_stay_ops(rng, case):
    t = rng.standard_normal((6, 5)).astype(np.float32)
    v = gt.Variable(np.zeros(6 if case == "inner_axis" else (1, 5) if case == "keepdims" else 5, np.float32))
    s = gt.Variable(0.0)

    @gt.function
    def step(t):
        if case == "inner_axis":
            total = gt.reduce_sum(t, axis=1)
        elif case == "keepdims":
            total = gt.reduce_sum(t, axis=0, keepdims=True)
        else:
            total = gt.reduce_sum(t, axis=0)
        if case == "all_axes":
            s.assign_sub(0.5 * gt.reduce_sum(t))
            return gt.constant(0.0)
        v.assign_sub(0.5 * total)
        return total if case == "sum_read_elsewhere" else gt.constant(0.0)

    assert rules(step, gt.constant(t)) == []
    step(gt.constant(t))
    if case == "all_axes":
        np.testing.assert_allclose(s.numpy(), -0.5 * t.sum(), rtol=1e-5)
    else:
        axis = 1 if case == "inner_axis" else 0
        expect = -0.5 * t.sum(axis=axis, keepdims=case == "keepdims")
        np.testing.assert_allclose(v.numpy(), expect, rtol=1e-5, atol=1e-6)


def test_a_held_bias_value_is_never_overwritten(rng):
    start = rng.standard_normal(300).astype(np.float32)
    v = gt.Variable(start)
    held = v.value()
    t = rng.standard_normal((64, 300)).astype(np.float32)

    @gt.function
    def step(t):
        v.assign_sub(0.1 * gt.reduce_sum(t, axis=0))
        return gt.constant(0.0)

    step(gt.constant(t))
    np.testing.assert_array_equal(held.numpy(), start)
    np.testing.assert_allclose(v.numpy(), start - 0.1 * t.sum(0), rtol=1e-5, atol=1e-5)


def test_sum_accumulator_refuses_a_strided_buffer_it_cannot_write_through(rng):
    accumulate = lowered.sum_accumulator(1)
    t = rng.standard_normal((128, 64)).astype(np.float32)  # above the small-sum size: BLAS's way
    strided = np.ones(128, np.float32)[::2]
    assert not accumulate(strided, t, 1.0)
    np.testing.assert_array_equal(strided, 1.0)
    c = np.ones(64, np.float32)
    if lowered.accumulate_applies(np.float32):
        assert accumulate(c, t, -0.5)
        np.testing.assert_allclose(c, 1.0 - 0.5 * t.sum(0), rtol=1e-5)


# ---------------------------------------------------------------- a whole step
def test_an_mlp_step_lowers_every_node_group_and_matches_the_op_by_op_step(monkeypatch, rng):
    x = rng.standard_normal((32, 20)).astype(np.float32)
    y = rng.integers(0, 10, 32).astype(np.int32)
    weights = [
        (rng.standard_normal((20, 64)) * 0.2).astype(np.float32),
        np.zeros(64, np.float32),
        (rng.standard_normal((64, 10)) * 0.2).astype(np.float32),
        np.zeros(10, np.float32),
    ]

    def make():
        params = [gt.Variable(w) for w in weights]

        @gt.function
        def step(x, y):
            a, b, c, d = params
            with gt.GradientTape() as tape:
                h = gt.nn.relu(gt.matmul(x, a) + b)
                loss = gt.reduce_mean(gt.nn.sparse_softmax_cross_entropy_with_logits(y, gt.matmul(h, c) + d))
            for v, g in zip(params, tape.gradient(loss, params)):
                v.assign_sub(0.1 * g)
            return loss

        return step, params

    step, params = make()
    args = (gt.constant(x), gt.constant(y))
    assert rules(step, *args) == [
        "accumulate_product",
        "accumulate_product",
        "accumulate_sum",
        "accumulate_sum",
        "bias_product",
        "bias_product_relu",
        "product_relu_grad",
        "xent_mean",
    ]
    before = [p.numpy().copy() for p in params]
    with pytest.raises(InvalidArgumentError, match="label value of 10"):
        step(args[0], gt.constant(np.where(y == 0, 10, y).astype(np.int32)))
    for p, b in zip(params, before):  # a step that raised wrote no variable
        np.testing.assert_array_equal(p.numpy(), b)
    losses = [float(step(*args).numpy()) for _ in range(5)]
    monkeypatch.setenv("GPUTENSOR_LOWERING", "0")
    plain, plain_params = make()
    assert rules(plain, *args) == []
    plain_losses = [float(plain(*args).numpy()) for _ in range(5)]
    np.testing.assert_allclose(losses, plain_losses, rtol=1e-5)
    assert losses[-1] < losses[0]
    for p, q in zip(params, plain_params):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-4, atol=1e-6)
