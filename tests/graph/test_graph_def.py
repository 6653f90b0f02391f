"""Graph.as_graph_def() (TF's GraphDef layout), gt.autograph and gt.dtypes."""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt


def relu_or_zero(x):
    if gt.reduce_sum(x) > 0:
        return x * 2.0
    return gt.zeros_like(x)


def test_as_graph_def_lists_the_nodes_with_inputs_and_attrs():
    @gt.function
    def f(x, k):
        return gt.matmul(x, x, transpose_b=True) + 1.5, gt.reshape(x, [-1]) * k

    graph = f.get_concrete_function(gt.TensorSpec([None, 3], gt.float32), gt.TensorSpec([], gt.float32)).graph
    gd = graph.as_graph_def()
    assert [n.name for n in gd.node] == [op.name for op in graph.get_operations()]
    by_op = {n.op: n for n in gd.node}
    matmul = by_op["matmul"]
    assert matmul.input == ["x", "x"] and matmul.attr["transpose_b"] is True
    text = str(gd)
    assert text.count("node {") == len(gd.node)
    # the placeholder's None dim as TF's -1, its dtype as DT_FLOAT
    assert 'name: "x"\n  op: "Placeholder"' in text
    assert (
        "      shape {\n        dim {\n          size: -1\n        }\n        dim {\n          size: 3\n"
        in text
    )
    assert "type: DT_FLOAT" in text and 'key: "transpose_b"\n    value {\n      b: true' in text
    assert "float_val: 1.5" in text  # a small constant's value


def test_as_graph_def_names_second_outputs_with_their_index():
    @gt.function
    def f(x):
        values, indices = gt.math.top_k(x, k=2)  # a sort node's two outputs, each sliced
        return values + 1.0, indices * 2

    gd = f.get_concrete_function(gt.TensorSpec([4], gt.float32)).graph.as_graph_def()
    top = next(n for n in gd.node if n.op == "sort")
    consumers = [i for n in gd.node for i in n.input if i.startswith(top.name)]
    assert sorted(consumers) == [top.name, f"{top.name}:1"]


def test_autograph_to_code_shows_the_converted_control_flow():
    code = gt.autograph.to_code(relu_or_zero)
    assert code.startswith("def relu_or_zero(x):") and "ag__.if_stmt(" in code
    compile(code, "<to_code>", "exec")  # it is Python
    with pytest.raises(ValueError, match="cannot convert"):
        gt.autograph.to_code(lambda x: x)


def test_autograph_to_graph_and_do_not_convert():
    converted = gt.autograph.to_graph(relu_or_zero)
    traced = gt.function(converted, autograph=False)
    np.testing.assert_allclose(traced(gt.constant([1.0, 2.0])).numpy(), [2.0, 4.0])
    np.testing.assert_allclose(traced(gt.constant([-1.0, -2.0])).numpy(), [0.0, 0.0])

    def python_if(x):
        if gt.reduce_sum(x) > 0:
            return x
        return -x

    kept = gt.autograph.experimental.do_not_convert(python_if)
    with pytest.raises(TypeError, match="python_if|Python `if`|bool"):
        gt.function(kept)(gt.constant([1.0]))


def test_dtypes_namespace_is_tfs():
    assert gt.dtypes.int32 is gt.int32 and gt.dtypes.float32 is gt.float32 and gt.dtypes.bool is gt.bool
    assert gt.dtypes.as_dtype("float64") is gt.float64
    assert gt.dtypes.cast(gt.constant([1.7]), gt.dtypes.int32).numpy().tolist() == [1]
    assert gt.random.uniform([3], minval=-1, maxval=2, dtype=gt.dtypes.int32).dtype is gt.int32
