"""Elementwise fusion (graph/fusion.py): which nodes fuse, and that fused programs compute
what the unfused ones do, on the CPU (in-place NumPy blocks, backend/cpu/fused.py) and on
the CUDA backend (one generated kernel, backend/cuda/families/fused.py; on CPU-only
machines through the emulated device of tests/cuda_harness)."""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt
from gputensor.backend.cpu import fused as cpu_fused
from gputensor.backend.cuda.families import fused as cuda_fused


def _steps(fn, *args):
    concrete = fn.get_concrete_function(*args)
    return [node for node, *_ in concrete._program.steps]


def _types(fn, *args):
    return [n.type for n in _steps(fn, *args)]


def _fused(fn, *args):
    return [n for n in _steps(fn, *args) if n.type == "Fused"]


def _member_types(node):
    return [m.type for m in node.value.members]


# ------------------------------------------------------------------ the pass
def test_a_chain_becomes_one_node_with_its_members_in_order():
    def fn(v):
        t = v * 1.5 + 0.5
        return gt.exp(-(t * t)) + v

    x = gt.constant(np.ones(5, np.float32))
    (node,) = _fused(gt.function(fn), x)
    assert _member_types(node) == ["multiply", "add", "multiply", "negative", "exp", "add"]
    # The placeholder and the two scalar constants, each once although v is read twice.
    assert [s.node.type for s in node.value.inputs] == ["Placeholder", "Const", "Const"]
    assert node.value.operands[-1] == (("t", 4), ("x", 0))
    assert _types(gt.function(fn), x) == ["Placeholder", "Const", "Const", "Fused"]


def test_a_value_read_twice_or_returned_ends_its_group():
    def fn(v):
        t = v * 2.0 + 1.0  # read by two nodes below: materialised
        return gt.exp(t) - 1.0, gt.sin(t) * 3.0

    groups = _fused(gt.function(fn), gt.constant(np.ones(4, np.float32)))
    assert [_member_types(g) for g in groups] == [
        ["multiply", "add"],
        ["exp", "subtract"],
        ["sin", "multiply"],
    ]

    def returned(v):
        t = v * 2.0
        return t, t + 1.0  # t is an output: it must exist, so it cannot be fused away

    assert _fused(gt.function(returned), gt.constant(np.ones(4, np.float32))) == []


def test_other_ops_and_shape_changes_break_chains():
    def fn(x, y):
        a = gt.exp(x) * 2.0  # (3,)
        b = a + y  # broadcasts to (2, 3): a different shape, a new group
        c = gt.matmul(b * b, gt.ones([3, 3]))  # matmul is not elementwise
        return gt.tanh(c) + 1.0

    x, y = gt.constant(np.ones(3, np.float32)), gt.constant(np.ones((2, 3), np.float32))
    groups = [_member_types(g) for g in _fused(gt.function(fn), x, y)]
    assert groups == [["exp", "multiply"], ["add", "multiply"], ["tanh", "add"]]


def test_the_environment_variable_turns_fusion_off(monkeypatch):
    monkeypatch.setenv("GPUTENSOR_FUSION", "0")
    f = gt.function(lambda v: gt.exp(v * 2.0) + 1.0)
    assert "Fused" not in _types(f, gt.constant(np.ones(3, np.float32)))


def test_the_traced_graph_keeps_the_original_ops():
    f = gt.function(lambda v: gt.exp(v * 2.0) + 1.0)
    concrete = f.get_concrete_function(gt.constant(np.ones(3, np.float32)))
    assert [op.type for op in concrete.graph.get_operations()].count("exp") == 1
    assert "Fused" not in [op.type for op in concrete.graph.get_operations()]


@pytest.mark.parametrize(
    "shape, out_shape, kind",
    [
        ((2, 3), (2, 3), "full"),
        ((), (2, 3), "one"),
        ((1, 1), (2, 3), "one"),
        ((3,), (2, 3), "mod"),
        ((1, 3), (2, 3), "mod"),
        ((2, 1), (2, 3), None),  # a column broadcast is not a trailing block
        ((4, 1, 3), (4, 2, 3), None),
    ],
)
def test_cuda_inputs_are_indexed_by_how_they_broadcast(shape, out_shape, kind):
    assert cuda_fused._broadcast_kind(shape, out_shape) == kind


# --------------------------------------------------------------- the results
def _chain(v, b):
    t = v * 1.5 + b
    t = t * v - 0.25
    return gt.exp(-(t * t)) + v


def _bias_relu(v, b):
    return gt.nn.relu(v * 2.0 + b)


def _unary(v, b):
    return gt.exp(gt.sin(v)) * gt.cos(v + b)


def _leaky(v, b):
    return gt.nn.leaky_relu(v - b, alpha=0.3) * 2.0


def _ints(v, b):
    return (v * 3 + b) * v - 7


# (function, x shape, b shape, dtype)
CASES = {
    "chain_full_bias": (_chain, (7, 33), (7, 33), "float32"),
    "chain_row_bias": (_chain, (40, 33), (33,), "float32"),
    "chain_scalar_tensor": (_chain, (1100,), (), "float32"),
    "bias_relu_vec4": (_bias_relu, (64, 32), (32,), "float32"),
    "unary": (_unary, (9, 5), (1, 5), "float64"),
    "leaky_relu_attr": (_leaky, (6, 4), (4,), "float32"),
    "half": (_chain, (300,), (300,), "float16"),
    "ints": (_ints, (5, 6), (6,), "int32"),
    "empty": (_chain, (0, 3), (3,), "float32"),
}


def _inputs(rng, xs, bs, dtype):
    if dtype == "int32":
        return rng.integers(-20, 20, xs).astype(np.int32), rng.integers(-20, 20, bs).astype(np.int32)
    return rng.standard_normal(xs).astype(dtype), rng.standard_normal(bs).astype(dtype)


@pytest.mark.parametrize("case", list(CASES))
def test_fused_programs_compute_what_the_unfused_ones_do(device, rng, monkeypatch, case):
    fn, xs, bs, dtype = CASES[case]
    xv, bv = _inputs(rng, xs, bs, dtype)
    x, b = gt.constant(xv), gt.constant(bv)
    fused = gt.function(fn)
    got = fused(x, b).numpy()
    monkeypatch.setenv("GPUTENSOR_FUSION", "0")
    want = gt.function(fn)(x, b).numpy()
    eager = fn(x, b).numpy()
    assert got.dtype == want.dtype and got.shape == want.shape
    if dtype == "float16":  # fused chains keep float intermediates and round once
        np.testing.assert_allclose(got.astype(np.float32), want.astype(np.float32), rtol=4e-3, atol=4e-3)
    else:
        # Bit for bit: the CPU runs the same ufuncs in the same order; g++ (the emulated
        # GPU) does not contract a*b+c into an FMA; a GPU may (ulps).
        tol = 1e-6 if device.device_type == "GPU" and dtype != "int32" else 0
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
        np.testing.assert_array_equal(want, eager)
    monkeypatch.delenv("GPUTENSOR_FUSION")
    if xv.size:
        assert _fused(gt.function(fn), x, b) or device.device_type == "CPU" and case == "leaky_relu_attr"


def test_cpu_blocks_and_threads_cover_every_row(rng, monkeypatch):
    # Tiny blocks and a forced split: ragged last blocks and uneven thread ranges.
    monkeypatch.setattr(cpu_fused, "BLOCK_BYTES", 1000)
    monkeypatch.setattr(cpu_fused, "PARALLEL_BYTES", 1)
    monkeypatch.setenv("GPUTENSOR_CPU_THREADS", "3")
    xv = rng.standard_normal((1001, 37)).astype(np.float32)
    bv = rng.standard_normal(37).astype(np.float32)
    with gt.device("/CPU:0"):
        f = gt.function(_chain)
        (node,) = _fused(f, gt.constant(xv), gt.constant(bv))
        assert "split(part" in node.kernel.source
        np.testing.assert_array_equal(f(gt.constant(xv), gt.constant(bv)).numpy(), _chain(xv, bv))


def test_cpu_fused_source_writes_in_place():
    with gt.device("/CPU:0"):
        f = gt.function(lambda v: gt.exp(v * 2.0 + 1.0))
        (node,) = _fused(f, gt.constant(np.ones(10, np.float32)))
        source = node.kernel.source
        # One scratch block for the first op; the others write into it; the last into the output.
        assert source.count("empty(BLOCK") == 1 and "out=t0" in source and "out=o" in source


def test_gradients_through_a_fused_function_match_eager(device, rng):
    xv = rng.standard_normal((5, 3)).astype(np.float32)
    bv = rng.standard_normal(3).astype(np.float32)
    x, b = gt.constant(xv), gt.constant(bv)
    f = gt.function(_chain)
    assert _fused(f, x, b)
    with gt.GradientTape() as tape:
        tape.watch([x, b])
        y = gt.reduce_sum(f(x, b))
    got = tape.gradient(y, [x, b])
    with gt.GradientTape() as tape:
        tape.watch([x, b])
        y = gt.reduce_sum(_chain(x, b))
    want = tape.gradient(y, [x, b])
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-5, atol=1e-6)


def test_emulated_gpu_uses_the_vector_kernel_for_long_aligned_outputs(rng):
    from tests.devices import test_devices

    emulated = [d for d in test_devices() if hasattr(getattr(d.backend, "launcher", None), "launch_counts")]
    if not emulated:  # CUDA_EMU=0 (the GPU machine's run) or no g++
        pytest.skip("no emulated CUDA device in this run")
    (dev,) = emulated
    counts = dev.backend.launcher.launch_counts
    with gt.device(dev):
        f = gt.function(lambda v: gt.exp(v * 2.0) + 1.0)
        for n, suffix in ((4096, "_v"), (100, "")):
            x = gt.constant(rng.standard_normal(n).astype(np.float32))
            (node,) = _fused(f, x)
            name = node.kernel.source.names[0] + suffix
            before = counts[name]
            np.testing.assert_allclose(f(x).numpy(), np.exp(x.numpy() * 2.0) + 1.0, rtol=1e-6)
            assert counts[name] == before + 1
