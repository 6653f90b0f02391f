"""The CPU backend's lowering rules (graph/lowering.py), each alone: where each fires, where it
must not, and that the lowered program computes what the op-by-op program and NumPy compute."""

from __future__ import annotations

import weakref

import numpy as np
import pytest

import gputensor as gt
from gputensor.backend.cpu import blas, lowered


@pytest.fixture(autouse=True)
def _on_the_cpu():
    with gt.device("/CPU:0"):
        yield


def rules(fn, *args):
    concrete = fn.get_concrete_function(*args)
    return sorted(node.value.rule for node, *_ in concrete._program.steps if node.type == "Lowered")


def unlowered(monkeypatch, make):
    """``make()``'s function, traced with lowering off (the reference program)."""
    monkeypatch.setenv("GPUTENSOR_LOWERING", "0")
    return make()


# ------------------------------------------------------------------ conv columns
def conv_step(strides, padding, dilations, bias, also_return_conv=False):
    def make():
        @gt.function
        def step(x, w, b):
            with gt.GradientTape() as tape:
                tape.watch([x, w, b])
                y = gt.nn.conv2d(x, w, strides, padding, dilations=dilations)
                z = y + b if bias else y
                loss = gt.reduce_sum(z * z)
            out = [loss, *tape.gradient(loss, [x, w, b] if bias else [x, w])]
            return [*out, y] if also_return_conv else out

        return step

    return make


GEOMETRIES = [(1, "VALID", 1), (2, "SAME", 1), (1, "SAME", 2), ((2, 1), [[0, 0], [1, 2], [0, 1], [0, 0]], 1)]


@pytest.mark.parametrize("channels", [1, 5], ids=["tap_major", "pixel_major"])
@pytest.mark.parametrize("geometry", GEOMETRIES, ids=["valid", "same_stride2", "dilated", "explicit"])
@pytest.mark.parametrize("bias", [False, True], ids=["no_bias", "bias"])
def test_conv_and_its_filter_gradient_share_the_columns(monkeypatch, rng, channels, geometry, bias):
    x = gt.constant(rng.standard_normal((2, 7, 6, channels)).astype(np.float32))
    w = gt.constant(rng.standard_normal((3, 2, channels, 4)).astype(np.float32))
    b = gt.constant(rng.standard_normal(4).astype(np.float32))
    step = conv_step(*geometry, bias)()
    expected = (
        ["conv_bias_columns", "filter_bias_from_columns"] if bias else ["conv_columns", "filter_from_columns"]
    )
    assert rules(step, x, w, b) == expected
    got = [t.numpy() for t in step(x, w, b)]
    reference = [t.numpy() for t in unlowered(monkeypatch, conv_step(*geometry, bias))(x, w, b)]
    assert len(got) == len(reference) == (4 if bias else 3)
    for g, r in zip(got, reference):
        np.testing.assert_allclose(g, r, rtol=2e-5, atol=1e-4)


def test_bias_gradient_is_the_filter_products_last_row(rng):
    # Against NumPy: dL/db = sum over pixels of dL/dz, with L = sum(z^2), z = conv(x, w) + b.
    x = rng.standard_normal((3, 5, 5, 2)).astype(np.float32)
    w = rng.standard_normal((3, 3, 2, 4)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    step = conv_step(1, "VALID", 1, True)()
    loss, _, _, db = step(gt.constant(x), gt.constant(w), gt.constant(b))
    win = np.lib.stride_tricks.sliding_window_view(x.astype(np.float64), (3, 3), axis=(1, 2))  # N 3 3 C kh kw
    z = np.einsum("nijcab,abco->nijo", win, w) + b
    np.testing.assert_allclose(loss.numpy(), np.sum(z * z), rtol=1e-5)
    np.testing.assert_allclose(db.numpy(), (2 * z).sum(axis=(0, 1, 2)), rtol=1e-5)


def test_a_conv_output_read_elsewhere_keeps_its_bias_add(monkeypatch, rng):
    x = gt.constant(rng.standard_normal((2, 6, 6, 3)).astype(np.float32))
    w = gt.constant(rng.standard_normal((3, 3, 3, 4)).astype(np.float32))
    b = gt.constant(rng.standard_normal(4).astype(np.float32))
    make = conv_step(1, "VALID", 1, True, also_return_conv=True)
    step = make()
    assert rules(step, x, w, b) == ["conv_columns", "filter_from_columns"]
    for g, r in zip(step(x, w, b), unlowered(monkeypatch, make)(x, w, b)):
        np.testing.assert_allclose(g.numpy(), r.numpy(), rtol=1e-5, atol=1e-4)


def test_half_precision_convolutions_are_not_lowered(rng):
    x = gt.constant(rng.standard_normal((1, 5, 5, 2)).astype(np.float16))
    w = gt.constant(rng.standard_normal((3, 3, 2, 2)).astype(np.float16))
    b = gt.constant(np.zeros(2, np.float16))
    assert rules(conv_step(1, "VALID", 1, True)(), x, w, b) == []


def test_a_forward_conv_alone_is_not_lowered(rng):
    @gt.function
    def f(x, w):
        return gt.nn.conv2d(x, w, 1, "VALID")

    x = gt.constant(rng.standard_normal((1, 5, 5, 2)).astype(np.float32))
    assert rules(f, x, gt.constant(np.ones((3, 3, 2, 2), np.float32))) == []


def test_lowering_off_by_environment(monkeypatch, rng):
    monkeypatch.setenv("GPUTENSOR_LOWERING", "0")
    x = gt.constant(rng.standard_normal((1, 5, 5, 2)).astype(np.float32))
    w = gt.constant(rng.standard_normal((3, 3, 2, 2)).astype(np.float32))
    assert rules(conv_step(1, "VALID", 1, True)(), x, w, gt.constant(np.zeros(2, np.float32))) == []


def test_a_tape_around_a_lowered_call_differentiates_the_original_ops(monkeypatch, rng):
    x = gt.constant(rng.standard_normal((2, 6, 6, 3)).astype(np.float32))
    w = gt.Variable(rng.standard_normal((3, 3, 3, 4)).astype(np.float32))
    b = gt.constant(rng.standard_normal(4).astype(np.float32))
    step = conv_step(1, "VALID", 1, True)()
    assert rules(step, x, w, b)
    with gt.GradientTape() as tape:
        loss = step(x, w, b)[0]
    outer = tape.gradient(loss, w).numpy()
    with gt.GradientTape() as tape:
        z = gt.nn.conv2d(x, w, 1, "VALID") + b
        loss = gt.reduce_sum(z * z)
    np.testing.assert_allclose(outer, tape.gradient(loss, w).numpy(), rtol=1e-5)


# ------------------------------------------------------------- matmul updates
def update_fn(variable, kind="sub", transpose=(True, False), scale="const", scale_first=True):
    def step(a, b, lr):
        product = gt.matmul(a, b, transpose_a=transpose[0], transpose_b=transpose[1])
        factor = {
            "const": gt.constant(0.1, variable.dtype),
            "variable": lr.read_value() if lr is not None else None,
        }
        if scale is None:
            term = product
        else:
            term = factor[scale] * product if scale_first else product * factor[scale]
        if kind == "sub":
            variable.assign_sub(term)
        elif kind == "add":
            variable.assign_add(term)
        else:  # the read second: v = term + v
            variable.assign(term + variable)
        return gt.constant(0.0)

    return gt.function(step)


def operands(rng, transpose, dtype=np.float32):
    a = rng.standard_normal((6, 4) if transpose[0] else (4, 6)).astype(dtype)
    b = rng.standard_normal((5, 6) if transpose[1] else (6, 5)).astype(dtype)
    product = (a.T if transpose[0] else a) @ (b.T if transpose[1] else b)
    return a, b, product


@pytest.mark.parametrize("transpose", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize(
    "kind,scale,scale_first,sign,factor",
    [
        ("sub", "const", True, -1, 0.1),
        ("sub", "const", False, -1, 0.1),
        ("add", "const", True, 1, 0.1),
        ("sub", None, True, -1, 1.0),
        ("read_second", None, True, 1, 1.0),
        ("sub", "variable", False, -1, 0.25),
    ],
    ids=["sub", "scale_second", "add", "unscaled", "read_second", "scale_from_variable"],
)
def test_a_variable_update_by_a_product_is_one_gemm_in_place(
    rng, transpose, kind, scale, scale_first, sign, factor
):
    start = rng.standard_normal((4, 5)).astype(np.float32)
    v, lr = gt.Variable(start), gt.Variable(0.25)
    a, b, product = operands(rng, transpose)
    step = update_fn(v, kind, transpose, scale, scale_first)
    ta, tb, tlr = gt.constant(a), gt.constant(b), lr
    assert rules(step, ta, tb, tlr) == ["accumulate_product"]
    buffer = weakref.ref(v._value._data)  # a weak reference: a strong one would be another holder
    step(ta, tb, tlr)
    step(ta, tb, tlr)
    assert buffer() is v._value._data  # nothing else held it: updated in place
    np.testing.assert_allclose(v.numpy(), start + 2 * sign * factor * product, rtol=1e-5, atol=1e-6)


def test_float64_updates_use_dgemm(rng):
    start = rng.standard_normal((4, 5))
    v = gt.Variable(start)
    a, b, product = operands(rng, (True, False), np.float64)
    step = update_fn(v)
    assert rules(step, gt.constant(a), gt.constant(b), None) == ["accumulate_product"]
    step(gt.constant(a), gt.constant(b), None)
    np.testing.assert_allclose(v.numpy(), start - 0.1 * product, rtol=1e-12)


@pytest.mark.parametrize("holder", ["value", "read_value", "numpy_view", "tensor_it_was_made_from"])
def test_a_value_held_elsewhere_is_never_overwritten(rng, holder):
    start = rng.standard_normal((4, 5)).astype(np.float32)
    if holder == "tensor_it_was_made_from":
        source = gt.constant(start.copy())
        v = gt.Variable(source)
    else:
        v = gt.Variable(start)
    held = {
        "value": lambda: v.value(),
        "read_value": lambda: v.read_value(),
        "numpy_view": lambda: np.asarray(v._value),
        "tensor_it_was_made_from": lambda: source,
    }[holder]()
    a, b, product = operands(rng, (True, False))
    step = update_fn(v)
    step(gt.constant(a), gt.constant(b), None)
    np.testing.assert_array_equal(np.asarray(held), start)  # the held value did not change
    np.testing.assert_allclose(v.numpy(), start - 0.1 * product, rtol=1e-5, atol=1e-6)
    del held  # now the variable alone holds its (new) array: the next update may write it in place
    buffer = weakref.ref(v._value._data)
    step(gt.constant(a), gt.constant(b), None)
    assert buffer() is v._value._data
    np.testing.assert_allclose(v.numpy(), start - 0.2 * product, rtol=1e-5, atol=1e-6)


def test_not_lowered_when_the_product_is_read_elsewhere(rng):
    v = gt.Variable(np.zeros((4, 5), np.float32))

    @gt.function
    def step(a, b):
        product = gt.matmul(a, b, transpose_a=True)
        v.assign_sub(0.1 * product)
        return product

    a, b, product = operands(rng, (True, False))
    assert rules(step, gt.constant(a), gt.constant(b)) == []
    np.testing.assert_allclose(step(gt.constant(a), gt.constant(b)).numpy(), product, rtol=1e-6)
    np.testing.assert_allclose(v.numpy(), -0.1 * product, rtol=1e-6)


def test_not_lowered_when_the_variable_is_written_between_its_read_and_the_update(rng):
    start = rng.standard_normal((4, 5)).astype(np.float32)
    v = gt.Variable(start)

    @gt.function
    def step(a, b):
        before = v.read_value()
        v.assign(gt.zeros([4, 5]))
        v.assign(before - 0.1 * gt.matmul(a, b, transpose_a=True))
        return gt.constant(0.0)

    a, b, product = operands(rng, (True, False))
    assert rules(step, gt.constant(a), gt.constant(b)) == []
    step(gt.constant(a), gt.constant(b))
    np.testing.assert_allclose(v.numpy(), start - 0.1 * product, rtol=1e-5, atol=1e-6)


def test_not_lowered_for_batched_products_or_half_precision(rng):
    v3 = gt.Variable(np.zeros((2, 4, 5), np.float32))
    vh = gt.Variable(np.zeros((4, 5), np.float16))

    @gt.function
    def batched(a, b):
        v3.assign_sub(0.1 * gt.matmul(a, b))
        return gt.constant(0.0)

    @gt.function
    def half(a, b):
        vh.assign_sub(gt.matmul(a, b))
        return gt.constant(0.0)

    a3, b3 = (gt.constant(rng.standard_normal(s).astype(np.float32)) for s in ((2, 4, 6), (2, 6, 5)))
    assert rules(batched, a3, b3) == []
    batched(a3, b3)
    np.testing.assert_allclose(v3.numpy(), -0.1 * (a3.numpy() @ b3.numpy()), rtol=1e-5, atol=1e-6)
    ah, bh = (gt.constant(rng.standard_normal(s).astype(np.float16)) for s in ((4, 6), (6, 5)))
    assert rules(half, ah, bh) == []


def test_without_numpys_blas_the_update_rule_does_not_apply(monkeypatch, rng):
    monkeypatch.setattr(blas, "_gemm", {})
    v = gt.Variable(np.zeros((4, 5), np.float32))
    a, b, product = operands(rng, (True, False))
    step = update_fn(v)
    assert rules(step, gt.constant(a), gt.constant(b), None) == []
    step(gt.constant(a), gt.constant(b), None)
    np.testing.assert_allclose(v.numpy(), -0.1 * product, rtol=1e-6)


def test_a_tape_around_a_lowered_update_records_the_assignment(rng):
    start = rng.standard_normal((4, 5)).astype(np.float32)
    v = gt.Variable(start)
    a, b, product = operands(rng, (True, False))
    step = update_fn(v)
    assert rules(step, gt.constant(a), gt.constant(b), None) == ["accumulate_product"]
    with gt.GradientTape():  # a recording call runs the members op by op
        step(gt.constant(a), gt.constant(b), None)
    np.testing.assert_allclose(v.numpy(), start - 0.1 * product, rtol=1e-5, atol=1e-6)


def test_gemm_accumulate_refuses_what_blas_cannot_take(rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal((4, 2)).astype(np.float32)
    c = np.ones((3, 2), np.float32)
    strided = np.ones((3, 4), np.float32)[:, ::2]
    assert not blas.gemm_accumulate(strided, a, b, False, False, 1.0)
    np.testing.assert_array_equal(strided, 1.0)
    assert not blas.gemm_accumulate(c, a, b, True, False, 1.0)  # (4, 3) @ (4, 2): inner sizes differ
    assert not blas.gemm_accumulate(c, a.astype(np.float64), b, False, False, 1.0)
    assert not blas.gemm_accumulate(
        np.ones((3, 2), np.float32),
        np.ones((3, 0), np.float32),
        np.ones((0, 2), np.float32),
        False,
        False,
        1.0,
    )
    if lowered.accumulate_applies(np.float32):
        assert blas.gemm_accumulate(
            c, a, b[:, ::-1], False, False, -0.5
        )  # a non-contiguous operand is copied
        np.testing.assert_allclose(c, 1.0 - 0.5 * a @ b[:, ::-1], rtol=1e-6)


# ----------------------------------------------------------------- saved models
def test_a_saved_model_holds_the_ops_before_lowering(tmp_path, rng):
    class Net(gt.Module):
        def __init__(self):
            super().__init__()
            self.w = gt.Variable(rng.standard_normal((3, 3, 2, 4)).astype(np.float32))
            self.b = gt.Variable(np.zeros(4, np.float32))
            self.dense = gt.Variable(rng.standard_normal((36, 3)).astype(np.float32))

        @gt.function(input_signature=[gt.TensorSpec([2, 5, 5, 2], gt.float32)])
        def train(self, x):
            with gt.GradientTape() as tape:
                h = gt.reshape(gt.nn.conv2d(x, self.w, 1, "VALID") + self.b, [-1, 36])
                loss = gt.reduce_sum(gt.matmul(h, self.dense) ** 2)
            gw, gb, gd = tape.gradient(loss, [self.w, self.b, self.dense])
            self.w.assign_sub(0.01 * gw)
            self.b.assign_sub(0.01 * gb)
            self.dense.assign_sub(0.001 * gd)
            return loss

    net = Net()
    x = gt.constant(rng.standard_normal((2, 5, 5, 2)).astype(np.float32))
    concrete = net.train.get_concrete_function()
    kinds = {node.value.rule for node, *_ in concrete._program.steps if node.type == "Lowered"}
    assert kinds == {"conv_bias_columns", "filter_bias_from_columns", "accumulate_product"}
    gt.saved_model.save(net, str(tmp_path / "net"))
    loaded = gt.saved_model.load(str(tmp_path / "net"))
    for _ in range(2):
        np.testing.assert_allclose(loaded.train(x).numpy(), net.train(x).numpy(), rtol=1e-5)
    weights = {tuple(v.shape): v.numpy() for v in loaded.variables}
    np.testing.assert_allclose(weights[(3, 3, 2, 4)], net.w.numpy(), rtol=1e-5)
    np.testing.assert_allclose(weights[(36, 3)], net.dense.numpy(), rtol=1e-5)


def test_lowered_nodes_name_their_rule_and_members(rng):
    x = gt.constant(rng.standard_normal((1, 5, 5, 2)).astype(np.float32))
    w = gt.constant(rng.standard_normal((3, 3, 2, 2)).astype(np.float32))
    concrete = conv_step(1, "VALID", 1, True)().get_concrete_function(
        x, w, gt.constant(np.zeros(2, np.float32))
    )
    described = [node.value.describe() for node, *_ in concrete._program.steps if node.type == "Lowered"]
    assert described == [
        "conv_bias_columns: conv2d; add",
        "filter_bias_from_columns: reduce_sum; conv2d_backprop_filter",
    ]
