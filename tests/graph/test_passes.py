"""The graph passes, each alone and all together: what they remove, and that results do not change."""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt
from gputensor.graph import passes


@pytest.fixture(autouse=True)
def _without_fusion(monkeypatch):
    # Each pass alone: fusion (tests/graph/test_fusion.py) would merge the nodes these count.
    monkeypatch.setenv("GPUTENSOR_FUSION", "0")


def _program_types(fn, *args):
    concrete = fn.get_concrete_function(*args)
    return [node.type for node, *_ in concrete._program.steps], concrete


def test_constant_subexpressions_are_folded():
    @gt.function
    def f(x):
        return x + gt.exp(gt.constant(1.0)) * 3.0

    x = gt.constant([1.0, 2.0])
    types, concrete = _program_types(f, x)
    assert "exp" not in types and "multiply" not in types and types.count("add") == 1
    assert [op.type for op in concrete.graph.get_operations()].count("exp") == 1  # the traced graph keeps it
    np.testing.assert_allclose(f(x).numpy(), x.numpy() + np.exp(1.0) * 3.0, rtol=1e-6)


def test_folding_leaves_large_results_to_run_time(monkeypatch):
    monkeypatch.setattr(passes, "FOLD_MAX_BYTES", 16)

    @gt.function
    def f(x):
        return x + gt.ones([8]) * 2.0  # 32 bytes: not folded

    types, _ = _program_types(f, gt.constant(np.zeros(8, np.float32)))
    assert "multiply" in types
    np.testing.assert_allclose(f(gt.constant(np.zeros(8, np.float32))).numpy(), np.full(8, 2.0))


def test_repeated_subexpressions_run_once():
    @gt.function
    def f(x):
        return gt.exp(x) + gt.exp(x) * gt.reduce_sum(gt.exp(x), axis=0)

    x = gt.constant([[0.5, 1.0], [2.0, 0.0]])
    types, _ = _program_types(f, x)
    assert types.count("exp") == 1
    e = np.exp(x.numpy())
    np.testing.assert_allclose(f(x).numpy(), e + e * e.sum(0), rtol=1e-6)


def test_attrs_that_differ_only_in_the_sign_of_zero_are_not_merged():
    @gt.function
    def f(x):
        return gt.nn.leaky_relu(x, alpha=0.0), gt.nn.leaky_relu(x, alpha=-0.0)

    a, b = f(gt.constant([-1.0, 2.0]))
    assert np.signbit(a.numpy()[0]) and not np.signbit(b.numpy()[0])


def test_unused_nodes_go_but_variable_writes_stay():
    v = gt.Variable(0.0)

    @gt.function
    def f(x):
        gt.sin(x)  # unused
        v.assign_add(gt.reduce_sum(x))  # unused result, but a side effect
        return x * 2.0

    x = gt.constant([1.0, 2.0])
    types, _ = _program_types(f, x)
    assert "sin" not in types and "AssignVariable" in types
    f(x)
    f(x)
    assert float(v) == 6.0  # the trace itself assigns nothing


def test_the_passes_alone_on_a_hand_checked_graph():
    @gt.function
    def f(x):
        unused = gt.cos(x)
        a = x * 2.0
        b = x * 2.0
        return a + b + gt.constant(1.0) * 2.0, unused * 0.0

    x = gt.constant([1.0])
    graph = f.get_concrete_function(x).graph
    ops, outs = list(graph.operations), list(graph.outputs)
    folded, _ = passes.fold_constants(ops, outs)
    assert len(folded) == len(ops)  # the Const * 2.0 became one Const: same count, no multiply of consts
    assert sum(1 for n in folded if n.type == "multiply") == 3
    merged, merged_outs = passes.eliminate_common_subexpressions(folded, outs)
    assert sum(1 for n in merged if n.type == "multiply") == 2
    only_first, _ = passes.eliminate_dead_code(merged, merged_outs[:1])
    assert "cos" not in [n.type for n in only_first]
    both, _ = passes.eliminate_dead_code(merged, merged_outs)
    assert "cos" in [n.type for n in both]


@pytest.mark.parametrize("ksize,strides,padding", [(2, 2, "VALID"), (3, 1, "SAME"), (3, 2, "SAME")])
def test_relu_mask_of_a_max_pool_gradient_moves_onto_the_pooled_gradient(rng, ksize, strides, padding):
    # Integer-valued inputs: the ReLU's zeros and repeated values tie inside and across windows.
    x = gt.constant(rng.integers(-2, 3, (2, 7, 7, 3)).astype(np.float32))
    w = gt.constant(rng.standard_normal((7, 7, 3)).astype(np.float32))

    def grad(x):
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = gt.nn.max_pool2d(gt.nn.relu(x), ksize, strides, padding)
            loss = gt.reduce_sum(y * w[: y.shape[1], : y.shape[2]])
        return tape.gradient(loss, x)

    types, concrete = _program_types(gt.function(grad), x)
    steps = [n for n, *_ in concrete._program.steps]
    (mask,) = [n for n in steps if n.type == "relu_grad"]
    (route,) = [n for n in steps if n.type == "max_pool2d_grad"]
    # The mask reads the pool's output and feeds the routing: it runs on the pooled gradient.
    assert mask.inputs[1].node.type == "max_pool2d" and route.inputs[2] is mask.outputs[0]
    # pool_before_relu: the ReLU runs on the pooled values; the routing reads relu's input.
    (relu,) = [n for n in steps if n.type == "relu"]
    (pool,) = [n for n in steps if n.type == "max_pool2d"]
    assert relu.inputs[0] is pool.outputs[0] and route.inputs[0] is pool.inputs[0]
    np.testing.assert_array_equal(gt.function(grad)(x).numpy(), grad(x).numpy())


def test_a_max_pool_gradient_read_elsewhere_keeps_its_relu_mask_in_place(rng):
    x = gt.constant(rng.standard_normal((1, 4, 4, 2)).astype(np.float32))

    def grads(x):
        with gt.GradientTape(persistent=True) as tape:
            tape.watch(x)
            r = gt.nn.relu(x)
            loss = gt.reduce_sum(gt.nn.max_pool2d(r, 2, 2, "VALID") ** 2)
        return tape.gradient(loss, x), tape.gradient(loss, r)

    _, concrete = _program_types(gt.function(grads), x)
    (mask,) = [n for n, *_ in concrete._program.steps if n.type == "relu_grad"]
    assert mask.inputs[0].node.type == "max_pool2d_grad"
    for got, want in zip(gt.function(grads)(x), grads(x)):
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_a_max_pool_of_a_relu_pools_first_with_the_same_values(rng):
    x = rng.integers(-3, 3, (2, 6, 6, 2)).astype(np.float32)
    x[0, 0, 0, 0], x[1, 2, 3, 1] = np.nan, -np.inf
    f = gt.function(lambda v: gt.nn.max_pool2d(gt.nn.relu(v), 3, 2, "SAME"))
    types, concrete = _program_types(f, gt.constant(x))
    assert types.index("max_pool2d") < types.index("relu")
    np.testing.assert_array_equal(
        f(gt.constant(x)).numpy(), gt.nn.max_pool2d(gt.nn.relu(gt.constant(x)), 3, 2, "SAME").numpy()
    )
    # relu(x) read elsewhere: it must exist, so the order stays.
    g = gt.function(lambda v: (gt.nn.max_pool2d(gt.nn.relu(v), 2, 2, "VALID"), gt.nn.relu(v) * 2.0))
    types, _ = _program_types(g, gt.constant(x))
    assert types.index("relu") < types.index("max_pool2d")
