"""``gt.onnx.export``: a traced graph as an ONNX model (opset 20), for the ops ONNX has.

The function is traced for the given TensorSpecs (a None dim becomes a named
symbolic dim, ONNX's ``dim_param``, so the model takes any size there), optimised
by the graph passes, and each node
is written as ONNX nodes: most ops map one to one (Add, MatMul, Softmax, ...);
some take a few (rsqrt is Sqrt then Reciprocal, NHWC convolutions transpose to
ONNX's NCHW and back). Variables are frozen into initializers with their values at
export time. An op without an ONNX form raises UnimplementedError naming it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any

import numpy as np

from gputensor.backend.geometry import SAME
from gputensor.errors import UnimplementedError
from gputensor.graph import passes
from gputensor.graph.onnx_forms import FORMS, HWIO_TO_OIHW, NCHW_TO_NHWC, NHWC_TO_NCHW, onnx_dtype
from gputensor.graph.polymorphic_function import PolymorphicFunction, function
from gputensor.graph.tensor_spec import TensorSpec
from gputensor.ops.random_ops import RandomStream

OPSET = 20
IR_VERSION = 10  # what opset 20 needs; newer onnx packages default higher than onnxruntime reads

_UNARY = {
    "negative": "Neg", "abs": "Abs", "exp": "Exp", "log": "Log", "sqrt": "Sqrt", "reciprocal": "Reciprocal",
    "sin": "Sin", "cos": "Cos", "tan": "Tan", "tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu", "erf": "Erf",
    "floor": "Floor", "ceil": "Ceil", "round": "Round", "sign": "Sign", "logical_not": "Not", "is_nan": "IsNaN",
    "is_inf": "IsInf", "softplus": "Softplus", "elu": "Elu", "selu": "Selu", "identity": "Identity",
}  # fmt: skip
_BINARY = {
    "add": "Add", "subtract": "Sub", "multiply": "Mul", "div": "Div", "maximum": "Max", "minimum": "Min",
    "pow": "Pow", "equal": "Equal", "less": "Less", "less_equal": "LessOrEqual", "greater": "Greater",
    "greater_equal": "GreaterOrEqual", "logical_and": "And", "logical_or": "Or", "logical_xor": "Xor",
}  # fmt: skip
_REDUCE = {
    "reduce_sum": "ReduceSum", "reduce_mean": "ReduceMean", "reduce_max": "ReduceMax", "reduce_min": "ReduceMin",
    "reduce_prod": "ReduceProd", "reduce_logsumexp": "ReduceLogSumExp",
}  # fmt: skip


class _Writer:
    """Collects the ONNX nodes and initializers of one graph."""

    def __init__(self, parent: _Writer | None = None) -> None:
        self.nodes: list = []
        # A sub-graph (an If branch, a Loop body) reads the outer graph's names, so its
        # constants go with the outer graph's and every name comes from one counter.
        self.root: _Writer = self if parent is None else parent.root
        self.initializers: list = self.root.initializers if parent is not None else []
        self._serial = 0

    def child(self) -> _Writer:
        return _Writer(self)

    def fresh(self, hint: str) -> str:
        root = self.root
        root._serial += 1
        return f"{hint}_{root._serial}"

    def constant(self, value: Any, hint: str = "const") -> str:
        import onnx

        name = self.fresh(hint)
        self.initializers.append(onnx.numpy_helper.from_array(np.asarray(value), name))
        return name

    def ints(self, values: Any) -> str:
        return self.constant(np.asarray(list(values), np.int64), "ints")

    def node(self, op_type: str, inputs: list, n_out: int = 1, **attrs: Any) -> list[str]:
        import onnx

        outs = [self.fresh(op_type.lower()) for _ in range(n_out)]
        self.nodes.append(onnx.helper.make_node(op_type, inputs, outs, **attrs))
        return outs

    def one(self, op_type: str, inputs: list, **attrs: Any) -> str:
        return self.node(op_type, inputs, **attrs)[0]


def _emit(w: _Writer, node: Any, ins: list[str], in_dtypes: list) -> list[str]:
    """The ONNX names of ``node``'s outputs, after writing the ONNX nodes computing them."""
    t, a = node.type, node.attrs
    if t in _UNARY:
        extra = {"alpha": 1.0} if t == "elu" else {}
        return [w.one(_UNARY[t], ins, **extra)]
    if t in _BINARY:
        return [w.one(_BINARY[t], ins)]
    if t == "not_equal":
        return [w.one("Not", [w.one("Equal", ins)])]
    if t == "square":
        return [w.one("Mul", [ins[0], ins[0]])]
    if t == "rsqrt":
        return [w.one("Reciprocal", [w.one("Sqrt", ins)])]
    if t == "expm1":
        return [w.one("Sub", [w.one("Exp", ins), w.constant(np.ones((), in_dtypes[0]))])]
    if t == "log1p":
        return [w.one("Log", [w.one("Add", [ins[0], w.constant(np.ones((), in_dtypes[0]))])])]
    if t == "relu6":
        zero, six = w.constant(np.zeros((), in_dtypes[0])), w.constant(np.full((), 6, in_dtypes[0]))
        return [w.one("Clip", [ins[0], zero, six])]
    if t == "leaky_relu":
        return [w.one("LeakyRelu", ins, alpha=float(a["alpha"]))]
    if t == "gelu":
        return [w.one("Gelu", ins, approximate="tanh" if a["approximate"] else "none")]
    if t == "silu":
        return [w.one("Mul", [ins[0], w.one("Sigmoid", ins)])]
    if t == "is_finite":
        return [w.one("Not", [w.one("Or", [w.one("IsNaN", ins), w.one("IsInf", ins)])])]
    if t == "squared_difference":
        d = w.one("Sub", ins)
        return [w.one("Mul", [d, d])]
    if t == "relu_grad":
        mask = w.one(
            "Cast",
            [w.one("Greater", [ins[1], w.constant(np.zeros((), in_dtypes[1]))])],
            to=onnx_dtype(in_dtypes[0]),
        )
        return [w.one("Mul", [ins[0], mask])]
    if t == "cast":
        return [w.one("Cast", ins, to=onnx_dtype(a["dtype"]))]
    if t == "select":
        return [w.one("Where", ins)]
    if t in _REDUCE:
        axes = [] if a["axis"] is None else [w.ints(a["axis"])]
        return [w.one(_REDUCE[t], ins + axes, keepdims=int(bool(a["keepdims"])))]
    if t in ("argmax", "argmin"):
        index = w.one("ArgMax" if t == "argmax" else "ArgMin", ins, axis=int(a["axis"]), keepdims=0)
        return [w.one("Cast", [index], to=onnx_dtype(a["output_type"]))]
    if t == "cumsum":
        return [
            w.one(
                "CumSum",
                [ins[0], w.ints([a["axis"]])],
                exclusive=int(a["exclusive"]),
                reverse=int(a["reverse"]),
            )
        ]
    if t in ("softmax", "log_softmax"):
        return [w.one("Softmax" if t == "softmax" else "LogSoftmax", ins, axis=int(a["axis"]))]
    if t == "matmul":
        x, y = ins
        if a["transpose_a"]:
            x = w.one("Transpose", [x], perm=_swap_last(node.inputs[0].ndim))
        if a["transpose_b"]:
            y = w.one("Transpose", [y], perm=_swap_last(node.inputs[1].ndim))
        return [w.one("MatMul", [x, y])]
    if t == "reshape":  # a -1 (a graph traced with None dims) is ONNX's -1 too
        return [w.one("Reshape", [ins[0], w.ints(a["shape"])])]
    # The shape ops of graphs traced with None dims: shapes as int64 tensors, as ONNX takes them.
    if t == "shape":
        return [w.one("Cast", [w.one("Shape", ins)], to=onnx_dtype(a["out_type"]))]
    if t == "dynamic_reshape":
        return [w.one("Reshape", [ins[0], w.one("Cast", [ins[1]], to=onnx_dtype(np.int64))])]
    if t == "dynamic_broadcast_to":
        return [w.one("Expand", [ins[0], w.one("Cast", [ins[1]], to=onnx_dtype(np.int64))])]
    if t == "dynamic_fill":
        import onnx

        value = onnx.numpy_helper.from_array(np.asarray([a["value"]], dtype=a["dtype"]))
        return [w.one("ConstantOfShape", [w.one("Cast", ins, to=onnx_dtype(np.int64))], value=value)]
    if t == "transpose":
        return [w.one("Transpose", ins, perm=list(a["perm"]))]
    if t == "broadcast_to":
        return [w.one("Expand", [ins[0], w.ints(a["shape"])])]
    if t == "concat":
        return [w.one("Concat", ins, axis=int(a["axis"]))]
    if t == "strided_slice":
        begin, size, strides = a["begin"], a["size"], a["strides"]
        ends = [b + n * s if b + n * s >= 0 else -(2**63) for b, n, s in zip(begin, size, strides)]
        sliced = w.one(
            "Slice", [ins[0], w.ints(begin), w.ints(ends), w.ints(range(len(begin))), w.ints(strides)]
        )
        return [w.one("Reshape", [sliced, w.ints(a["shape"])])]
    if t == "dynamic_strided_slice":
        return [_dynamic_slice(w, ins[0], a)]
    if t == "pad" and a["mode"] in ("constant", "reflect"):
        pads = [p[0] for p in a["paddings"]] + [p[1] for p in a["paddings"]]
        extra = (
            [w.constant(np.asarray(a["constant_values"], in_dtypes[0]))] if a["mode"] == "constant" else []
        )
        return [w.one("Pad", [ins[0], w.ints(pads)] + extra, mode=a["mode"])]
    if t == "gather" and a["batch_dims"] == 0:
        return [w.one("Gather", ins, axis=int(a["axis"]))]
    if t == "gather_nd":
        return [
            w.one(
                "GatherND",
                [ins[0], w.one("Cast", [ins[1]], to=onnx_dtype(np.int64))],
                batch_dims=int(a["batch_dims"]),
            )
        ]
    if t in ("conv2d", "max_pool2d", "avg_pool2d"):
        return [_windowed(w, t, ins, a, in_dtypes[0])]
    if t in FORMS:
        if SAME in a.get("padding", ()):
            raise UnimplementedError(
                f"gt.onnx.export: {t} with padding='SAME' and a stride over 1 along a height or width "
                f"that is None in the signature (padding {a['padding']}) has no ONNX form here: its "
                "padding depends on the size; give the height and width in the signature",
                t,
            )
        return FORMS[t](w, node, ins, in_dtypes)
    raise UnimplementedError(
        f"gt.onnx.export: op {t!r} has no ONNX form in this exporter yet; the graph cannot be exported",
        t,
    )


def _dynamic_slice(w: _Writer, x: str, a: dict) -> str:
    """A slice along None dims: ONNX Slice clamps its bounds to each run's shape as Python
    slices do; masked bounds are the int64 extremes; shrunk dims are squeezed, new ones added."""
    big, small = 2**63 - 1, -(2**63)
    starts, ends, steps, shrunk = [], [], [], []
    for d, (b, e, s, bm, em, shrink) in enumerate(a["dense"]):
        if shrink:
            starts.append(b)
            ends.append(big if b == -1 else b + 1)
            steps.append(1)
            shrunk.append(d)
            continue
        starts.append((0 if s > 0 else big) if bm else b)
        ends.append((big if s > 0 else small) if em else e)
        steps.append(s)
    rank = len(a["dense"])
    y = w.one("Slice", [x, w.ints(starts), w.ints(ends), w.ints(range(rank)), w.ints(steps)])
    if shrunk:
        y = w.one("Squeeze", [y, w.ints(shrunk)])
    new = [i for i, f in enumerate(f for f in a["final"] if f != -2) if f == -1]  # array_ops' _NEW, _SHRINK
    if new:
        y = w.one("Unsqueeze", [y, w.ints(new)])
    return y


def _swap_last(rank: int) -> list[int]:
    return list(range(rank - 2)) + [rank - 1, rank - 2]


def _windowed(w: _Writer, t: str, ins: list[str], a: dict, dtype: Any) -> str:
    """NHWC conv/pool as ONNX's NCHW op between transposes. SAME padding resolved at run time
    (a None size with a stride over 1) is ONNX's auto_pad SAME_UPPER, TF's SAME rule: the
    padding only ever comes from padding='SAME', so the other axis's pair is SAME's too."""
    if SAME in a["padding"]:
        pads: dict = {"auto_pad": "SAME_UPPER"}
    else:
        (top, bottom), (left, right) = a["padding"]
        pads = {"pads": [top, left, bottom, right]}
    x = w.one("Transpose", [ins[0]], perm=NHWC_TO_NCHW)
    if t == "conv2d":
        f = w.one("Transpose", [ins[1]], perm=HWIO_TO_OIHW)
        y = w.one("Conv", [x, f], **pads, strides=list(a["strides"]), dilations=list(a["dilations"]))
    elif t == "max_pool2d":
        window = {"kernel_shape": list(a["ksize"]), **pads, "strides": list(a["strides"])}
        y = w.one("MaxPool", [x], **window)
        if np.dtype(dtype).kind == "f":
            # onnxruntime's MaxPool skips NaN; gputensor's (and TF's) maximum of a window holding
            # one is NaN, and the gradient routes by that maximum.
            nan = w.one("Cast", [w.one("IsNaN", [x])], to=onnx_dtype(dtype))
            has_nan = w.one("Greater", [w.one("MaxPool", [nan], **window), w.constant(np.zeros((), dtype))])
            y = w.one("Where", [has_nan, w.constant(np.full((), np.nan, dtype)), y])
    else:  # TF's average ignores the padding: count_include_pad=0
        y = w.one("AveragePool", [x], kernel_shape=list(a["ksize"]), **pads, strides=list(a["strides"]))
    return w.one("Transpose", [y], perm=NCHW_TO_NHWC)


def _emit_nodes(w: _Writer, operations: list, names: dict, target: Any) -> None:
    """Writes ``operations`` (placeholders already named in ``names``), naming their outputs."""
    for node in operations:
        out_syms = node.outputs
        if node.type == "Placeholder":
            continue
        if node.type == "Const":
            names[id(out_syms[0])] = w.constant(target.backend.to_host(node.value))
            continue
        if node.type == "ReadVariable":  # frozen: the value at export time
            names[id(out_syms[0])] = w.constant(node.value.numpy(), "variable")
            continue
        if node.type in ("AssignVariable", "Print"):
            raise UnimplementedError(
                f"gt.onnx.export: the function {'assigns a variable' if node.type == 'AssignVariable' else 'prints'}; "
                "ONNX models are stateless: export a function that only computes",
                node.type,
            )
        if isinstance(node.value, RandomStream):
            raise UnimplementedError(
                f"gt.onnx.export: the function draws random numbers ({node.type}), which an ONNX "
                "model would freeze to one draw; export a function that takes them as an input",
                node.type,
            )
        ins = [names[id(s)] for s in node.inputs]
        if node.type == "CustomGradient":  # the forward results pass through; ONNX has no gradients
            outs = [w.one("Identity", [i]) for i in ins[: node.value.n_out]]
        elif node.type == "If":
            outs = _emit_if(w, node, ins, target)
        elif node.type == "While":
            outs = _emit_while(w, node, ins, target)
        elif not node.inputs:  # a creation op (fill, range): its value now
            outs = [w.constant(target.backend.to_host(node.kernel(**node.attrs)))]
        else:
            outs = _emit(w, node, ins, [s.dtype for s in node.inputs])
        for sym, name in zip(out_syms, outs):
            names[id(sym)] = name


def _value_info(name: str, sym: Any) -> Any:
    import onnx

    return onnx.helper.make_tensor_value_info(name, onnx_dtype(sym.dtype), list(sym.shape))


def _subgraph(w: _Writer, results: list, label: str, inputs: list) -> Any:
    """The ONNX graph of the nodes ``w`` (a child writer) wrote, returning ``results``
    (pairs of an ONNX name and the symbol giving its type); ``inputs`` are its value infos."""
    import onnx

    outputs = []
    for src, sym in results:
        out = w.fresh(f"{label}_out")
        w.nodes.append(onnx.helper.make_node("Identity", [src], [out]))
        outputs.append(_value_info(out, sym))
    return onnx.helper.make_graph(w.nodes, w.fresh(label), inputs, outputs)


def _random_ops(operations: list, found: list) -> list:
    """The random primitives the nodes draw with, nested control flow included: a stateful
    random node's type, or the primitive of a ``random_seeded`` node of a branch or loop body."""
    for node in operations:
        if node.type == "random_seeded":
            found.append(node.attrs["primitive"])
        elif node.type in ("If", "While"):
            for program in node.value.programs():
                _random_ops(_program_nodes(program), found)
        elif isinstance(node.value, RandomStream):
            found.append(node.type)
    return found


def _refuse_random(operations: list) -> None:
    found = _random_ops(operations, [])
    if found:
        # The int64 random_bits node that only seeds control flow is named last: name the user's op.
        name = sorted(found, key=lambda n: n == "random_bits")[0]
        raise UnimplementedError(
            f"gt.onnx.export: the function draws random numbers ({name}), which an ONNX "
            "model would freeze to one draw; export a function that takes them as an input",
            name,
        )


def _program_nodes(program: Any) -> list:
    """A sub-program's nodes, a Fused node as its members (ONNX has no fused op; runtimes fuse)."""
    nodes = []
    for node, *_ in program.steps:
        nodes.extend(node.value.members if node.type == "Fused" else (node,))
    return nodes


def _emit_if(w: _Writer, node: Any, ins: list[str], target: Any) -> list[str]:
    """ONNX If: each branch a sub-graph without inputs that reads the captured tensors by name."""
    value = node.value
    if not node.outputs:
        raise UnimplementedError(
            "gt.onnx.export: a gt.cond whose branches return nothing has no ONNX form (ONNX If needs an "
            "output); return a tensor from both branches",
            "If",
        )
    caps = ins[1:]
    graphs = []
    for program, at, label in ((value.true, value.true_at, "then"), (value.false, value.false_at, "else")):
        sub = w.child()
        names = {id(s): caps[i] for s, i in zip(program.graph.inputs, at)}
        _emit_nodes(sub, _program_nodes(program), names, target)
        results = [(names[id(s)], s) for s in program.output_symbols]
        graphs.append(_subgraph(sub, results, label, []))
    return w.node("If", [ins[0]], len(node.outputs), then_branch=graphs[0], else_branch=graphs[1])


def _emit_while(w: _Writer, node: Any, ins: list[str], target: Any) -> list[str]:
    """ONNX Loop: the condition runs once before the loop, then at the end of every body
    (ONNX's body returns the next iteration's condition); maximum_iterations is its trip count."""
    import onnx

    value = node.value
    if value.ragged:
        raise UnimplementedError(
            "gt.onnx.export: the gradient of a loop that grows a dynamic_size TensorArray stacks the array's "
            "values of different lengths per iteration, which ONNX Loop's scan outputs cannot hold; give "
            "the TensorArray its final size (size=n) to export this gradient",
            "While",
        )
    n = value.n_vars
    loop_vars, caps = ins[:n], ins[n:]

    def run(writer: _Writer, program: Any, at: list, vars_: list[str]) -> list[str]:
        """Writes ``program`` on loop variables ``vars_``; the ONNX names of its outputs."""
        inputs = program.graph.inputs
        names = {id(s): v for s, v in zip(inputs[:n], vars_)}
        names.update({id(s): caps[i] for s, i in zip(inputs[n:], at)})
        _emit_nodes(writer, _program_nodes(program), names, target)
        return [names[id(s)] for s in program.output_symbols]

    (keep_going,) = run(w, value.cond, value.cond_at, loop_vars)
    body_w = w.child()
    iteration, cond_in = body_w.fresh("iteration"), body_w.fresh("cond_in")
    carried = [body_w.fresh("loop_var") for _ in range(n)]
    new_vars = run(body_w, value.body, value.body_at, carried)
    (again,) = run(body_w, value.cond, value.cond_at, new_vars)
    specs = value.body.output_symbols
    graph_inputs = [
        onnx.helper.make_tensor_value_info(iteration, onnx.TensorProto.INT64, []),
        onnx.helper.make_tensor_value_info(cond_in, onnx.TensorProto.BOOL, []),
    ] + [_value_info(v, s) for v, s in zip(carried, specs)]
    results = [(again, value.cond.output_symbols[0])] + list(zip(new_vars, specs))
    if value.stack is not None:  # a gradient's forward loop: entry values as scan outputs (stacked)
        results += [(carried[k], _Scanned(specs[k])) for k in value.stack]
    body = _subgraph(body_w, results, "loop_body", graph_inputs)
    trip = "" if value.maximum is None else w.constant(np.asarray(value.maximum, np.int64), "trip_count")
    return w.node("Loop", [trip, keep_going, *loop_vars], len(node.outputs), body=body)


class _Scanned:
    """The type of one iteration's scan output: a loop variable's shape and dtype."""

    def __init__(self, sym: Any) -> None:
        self.shape, self.dtype = sym.shape, sym.dtype


def export(fn: Callable | PolymorphicFunction, path: str, input_signature: list) -> Any:
    """Writes ``fn``, traced for ``input_signature``, as an ONNX model at ``path``.

    Args:
      fn: a gt.function or a Python function of tensors.
      path: the .onnx file to write (written to a temporary name, then renamed).
      input_signature: one TensorSpec per positional argument; a None dim is a
        symbolic ONNX dim (``dim_param``, named after the input and axis).

    Returns:
      The ``onnx.ModelProto`` written.

    Raises:
      ValueError: for something other than a TensorSpec, or one of unknown rank.
      UnimplementedError: for an op without an ONNX form, a function that
        assigns variables, or one that uses string tensors.
    """
    import onnx

    specs = list(input_signature)
    for spec in specs:
        if not isinstance(spec, TensorSpec) or spec.shape.rank is None:
            raise ValueError(
                f"gt.onnx.export: {spec} must be a TensorSpec of known rank (None dims are fine: they "
                "become symbolic ONNX dims)"
            )
    poly = fn if isinstance(fn, PolymorphicFunction) else function(fn)
    concrete = poly.get_concrete_function(*specs)
    graph = concrete.graph
    operations, outputs = passes.optimize(graph.operations, graph.outputs)
    for node in operations:
        if any(o.dtype == np.dtype(object) for o in node.outputs):
            raise UnimplementedError(
                f"gt.onnx.export: the function uses string tensors ({node.name}: {node.type}); "
                "gputensor exports numeric graphs only. Do the string processing (parsing, "
                "tokenising) outside the exported function and pass it numbers",
                node.type,
            )
    w = _Writer()
    names: dict[int, str] = {}
    inputs = []
    for node in operations:
        if node.type == "Placeholder":
            sym = node.outputs[0]
            name = f"input_{len(inputs)}"
            spec = specs[len(inputs)] if len(inputs) < len(specs) else None
            name = spec.name or name if spec is not None else name
            # A None dim becomes a dim_param, named after the input and axis.
            dims = [f"{name}_dim{i}" if d is None else d for i, d in enumerate(sym.shape)]
            inputs.append(onnx.helper.make_tensor_value_info(name, onnx_dtype(sym.dtype), dims))
            names[id(sym)] = inputs[-1].name
    _refuse_random(operations)
    _emit_nodes(w, operations, names, graph.target)
    graph_outputs = []
    for i, sym in enumerate(outputs):
        name = f"output_{i}"
        w.nodes.append(onnx.helper.make_node("Identity", [names[id(sym)]], [name]))
        graph_outputs.append(onnx.helper.make_tensor_value_info(name, onnx_dtype(sym.dtype), list(sym.shape)))
    model = onnx.helper.make_model(
        onnx.helper.make_graph(w.nodes, graph.name, inputs, graph_outputs, w.initializers),
        opset_imports=[onnx.helper.make_opsetid("", OPSET)],
        producer_name="gputensor",
        ir_version=IR_VERSION,
    )
    onnx.checker.check_model(model)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".onnx-", dir=directory)
    os.close(fd)
    try:
        onnx.save(model, tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return model
