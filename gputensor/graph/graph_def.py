"""``Graph.as_graph_def()``: the graph as TF's GraphDef message lays it out.

A `GraphDef` holds one `NodeDef` per node (``name``, ``op``, ``input``, ``device``, ``attr``);
``str()`` prints protobuf text format as TF's ``print(graph.as_graph_def())`` does, with op
types and attribute names as gputensor's op table has them. It is for reading: gputensor
saves graphs in its own format (docs/graphs.md, "Saved models").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gputensor.framework import dtypes


@dataclass
class NodeDef:
    """One node: TF's NodeDef fields."""

    name: str
    op: str
    input: list[str] = field(default_factory=list)
    device: str = ""
    attr: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [f'name: "{self.name}"', f'op: "{self.op}"']
        lines += [f'input: "{i}"' for i in self.input]
        if self.device:
            lines.append(f'device: "{self.device}"')
        for key in sorted(self.attr):
            lines += [
                "attr {",
                f'  key: "{key}"',
                "  value {",
                *_indent(_value_text(self.attr[key]), 4),
                "  }",
                "}",
            ]
        return "\n".join(lines)


@dataclass
class GraphDef:
    """The nodes of a graph in the order they run."""

    node: list[NodeDef] = field(default_factory=list)

    def __str__(self) -> str:
        out = []
        for n in self.node:
            out += ["node {", *_indent(str(n), 2), "}"]
        return "\n".join(out) + ("\n" if out else "")


def _indent(text: str | list[str], by: int) -> list[str]:
    lines = text.split("\n") if isinstance(text, str) else text
    return [" " * by + line for line in lines]


def _type_name(dtype: Any) -> str:
    return "DT_" + {"float32": "FLOAT", "float64": "DOUBLE", "bfloat16": "BFLOAT16", "float16": "HALF"}.get(
        dtype.name, dtype.name.upper()
    )


def _shape_lines(shape: Any) -> list[str]:
    if shape is None:
        return ["shape {", "  unknown_rank: true", "}"]
    lines = ["shape {"]
    for d in shape:
        lines += ["  dim {", f"    size: {-1 if d is None else d}", "  }"]
    return [*lines, "}"]


@dataclass
class _ShapeAttr:
    shape: Any


@dataclass
class _TensorAttr:
    shape: Any
    dtype: dtypes.DType
    values: Any = None  # the elements of a small constant, flat


_MAX_CONST_VALUES = 16  # TF prints a big constant's bytes; this dump is for reading


def _value_text(value: Any) -> list[str]:
    """An attribute's AttrValue: type, shape, tensor, b, i, f, s, or a list of them."""
    if isinstance(value, _ShapeAttr):
        return _shape_lines(value.shape)
    if isinstance(value, _TensorAttr):
        kind = {"b": "bool", "f": "float", "i": "int", "u": "int", "c": "scomplex"}[value.dtype.kind]
        kind = {"float64": "double", "int64": "int64", "complex128": "dcomplex"}.get(value.dtype.name, kind)
        vals = [] if value.values is None else [f"  {kind}_val: {_scalar_text(v)}" for v in value.values]
        shape = _indent(_shape_lines(value.shape), 2)
        return ["tensor {", f"  dtype: {_type_name(value.dtype)}", *shape, *vals, "}"]
    if isinstance(value, dtypes.DType):
        return [f"type: {_type_name(value)}"]
    if isinstance(value, (np.dtype, type)) and value is not bool and np.dtype(value).kind in "biufc":
        return [f"type: {_type_name(dtypes.as_dtype(value))}"]
    if isinstance(value, (bool, np.bool_)):
        return [f"b: {str(bool(value)).lower()}"]
    if isinstance(value, (int, np.integer)):
        return [f"i: {int(value)}"]
    if isinstance(value, (float, np.floating)):
        return [f"f: {float(value)!r}"]
    if isinstance(value, str):
        return [f's: "{value}"']
    if isinstance(value, (list, tuple)):
        inner = []
        for v in value:
            inner += [line for line in _value_text(v) if line]
        return ["list {", *_indent(inner, 2), "}"]
    if value is None:
        return ["list {", "}"]
    return [f's: "{value!r}"']


def _scalar_text(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v)).lower()
    return repr(v.item() if hasattr(v, "item") else v)


def graph_def(graph: Any) -> GraphDef:
    """``graph``'s nodes as a `GraphDef`."""
    out = GraphDef()
    for node in graph.operations:
        inputs = [s.node.name if s.index == 0 else f"{s.node.name}:{s.index}" for s in node.inputs]
        attr: dict[str, Any] = dict(node.attrs)
        if node.inputs:  # TF's T: the type the op computes in
            attr.setdefault("T", dtypes.from_numpy(node.inputs[0].dtype))
        elif node.outputs:
            first = node.outputs[0]
            attr.setdefault("dtype", dtypes.from_numpy(first.dtype))
            if node.type == "Placeholder":
                attr["shape"] = _ShapeAttr(first.shape)
            if node.type == "Const":
                host = np.asarray(graph.target.backend.to_host(node.value))
                values = host.ravel() if host.size <= _MAX_CONST_VALUES else None
                attr["value"] = _TensorAttr(first.shape, dtypes.from_numpy(first.dtype), values)
        out.node.append(NodeDef(node.name, node.type, inputs, graph.target.name, attr))
    return out
