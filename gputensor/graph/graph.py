"""The graph IR and how ops reach it: tracing is running on a device whose kernels add nodes.

A function is traced by calling it with tensors that live on a *tracing device*:
a `Device` (the same class every tensor lives on) whose backend is a `Graph`.
Every op then dispatches through the same op table and public functions as in
eager mode, and the kernel it finds adds an `Operation` to the graph instead of
computing: its outputs are `Symbol`s, arrays that carry a shape and dtype (from
the op's ``infer`` rule) and no values. Tensors from elsewhere that ops read (a
constant made inside the function, a captured tensor) arrive through the
backend's ``transfer`` and become ``Const`` nodes; reading a symbol's value
(``.numpy()``, ``float()``, ``bool()``) raises, as it does in TF.

Each node records the kernel of the real device the graph will run on, so the
executor (executor.py) calls kernels without any dispatch logic.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np

from gputensor.backend.device import Device
from gputensor.errors import InvalidArgumentError
from gputensor.framework import dtypes
from gputensor.framework.context import state
from gputensor.framework.op_table import OPS
from gputensor.framework.shape_inference import Spec


def index_adding(seq: list, item: Any) -> int:
    """The position of ``item`` in ``seq`` by identity (variables and symbols may define
    ``==`` elementwise), appending it when absent."""
    for i, x in enumerate(seq):
        if x is item:
            return i
    seq.append(item)
    return len(seq) - 1


class Symbol:
    """An output of a graph node: the shape and dtype of a value known only when the graph runs."""

    __slots__ = ("shape", "dtype", "node", "index")
    nbytes = 0  # a symbol holds no memory; tensors wrapping it count nothing

    def __init__(self, shape: tuple, dtype: np.dtype, node: Operation, index: int) -> None:
        self.shape = shape
        self.dtype = dtype
        self.node = node
        self.index = index

    @property
    def ndim(self) -> int | None:
        return None if self.shape is None else len(self.shape)

    @property
    def size(self) -> int | None:
        if self.shape is None:
            return None
        n = 1
        for d in self.shape:
            if d is None:
                return None
            n *= d
        return n

    @property
    def name(self) -> str:
        return f"{self.node.name}:{self.index}"

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise _value_error(self)

    def __repr__(self) -> str:
        return f"<Symbol {self.name} shape={self.shape} dtype={self.dtype}>"


def _value_error(symbol: Symbol) -> TypeError:
    return TypeError(
        f"gt.function: the value of symbolic tensor {symbol.name} (shape {symbol.shape}) is not known "
        "while the function is traced, so Python cannot read it (numpy(), float(), bool(), "
        "a Python `if` on it). Compute with gt ops instead (gt.where for a choice), or run the "
        "function eagerly with gt.config.run_functions_eagerly(True)"
    )


class LeakedTensorError(AttributeError, TypeError):
    """A symbolic tensor read after its function's trace ended (kept in a global or a list by
    a Python side effect). An AttributeError as TF's (its graph tensors have no ``numpy``), and a
    TypeError as reading a symbolic tensor during the trace is."""


def _leaked_error(symbol: Symbol, graph_name: str) -> LeakedTensorError:
    return LeakedTensorError(
        f"gt.function: tensor {symbol.name} belongs to the graph {graph_name!r} of a function "
        "whose trace has ended (it leaked out through a Python side effect: a global, a list "
        "append, an attribute), so it has no value to read. Return it from the function instead"
    )


def bool_error(symbol: Symbol) -> TypeError:
    """The error of ``bool()`` of a symbolic tensor: a Python ``if``/``while``/``and``/``or``/
    ``not``/``assert`` on it, named by the user's source line (the first frame outside
    gputensor)."""
    import os
    import sys

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package + os.sep):
        frame = frame.f_back
    where = f'File "{frame.f_code.co_filename}", line {frame.f_lineno}: ' if frame is not None else ""
    return TypeError(
        f"{where}using symbolic tensor {symbol.name} (shape {symbol.shape}) as a Python bool (an `if`, "
        "`while`, `and`/`or`/`not` or `assert` on it) while gt.function traces: its value is known only "
        "when the graph runs. Write the choice with gt.cond, gt.while_loop or gt.where, or let AutoGraph "
        "convert it: it converts `if`/`while`/`for` written directly in a gt.function (autograph=True, "
        "the default) and in the user functions it calls, but not in code it cannot read or that "
        "gt.function(autograph=False) or a library runs"
    )


class Operation:
    """A node of a graph: an op of the op table, or Placeholder, Const, ReadVariable, AssignVariable, Print."""

    __slots__ = ("type", "name", "op", "inputs", "attrs", "outputs", "kernel", "value")

    def __init__(self, type_: str, name: str, op: Any, inputs: tuple, attrs: dict) -> None:
        self.type = type_
        self.name = name
        self.op = op  # the OpDef; None for the graph's own node types
        self.inputs = inputs  # Symbols
        self.attrs = attrs
        self.outputs: tuple = ()
        self.kernel: Any = None  # the real device's kernel
        self.value: Any = None  # a Const's array, a ReadVariable's or AssignVariable's variable

    def __repr__(self) -> str:
        return f"<gt.Operation {self.name!r} type={self.type}>"

    def describe(self) -> str:
        """One line of the text dump: outputs = type(inputs) {attrs}."""
        outs = ", ".join(
            f"{o.name}: {dtypes.from_numpy(o.dtype).name}{'[<unknown rank>]' if o.shape is None else list(o.shape)}"
            for o in self.outputs
        )
        ins = ", ".join(s.name for s in self.inputs)
        attrs = "" if not self.attrs else " " + ", ".join(f"{k}={v!r}" for k, v in self.attrs.items())
        return f"{outs or '()'} = {self.type}({ins}){attrs}"


class Graph:
    """The nodes a traced function ran, in order, plus its inputs and outputs.

    It is also the backend of the tracing device, so ops made while tracing land
    here (see the module docstring).
    """

    xp = np

    def __init__(self, device: Device, name: str = "graph") -> None:
        self.name = name
        self.target = device  # where the graph runs
        self.operations: list[Operation] = []
        self.inputs: list[Symbol] = []
        self.outputs: list[Symbol] = []
        self.variables: list[Any] = []  # read or written, in first-use order
        self.created_variables: list[Any] = []
        self._names = itertools.count()
        self._consts: dict[int, Symbol] = {}
        self.parent: Graph | None = None  # the graph a branch or loop body is traced inside
        self.captures: list[tuple[Symbol, Symbol]] = []  # (outer symbol, its placeholder here)
        self._captured: dict[int, Symbol] = {}
        self._random_context: Symbol | None = None
        self.device = Device(device.device_type, device.index, device.physical_index, self, register=False)
        self.device.name = f"{device.name} (tracing {name})"

    # ------------------------------------------------------------- building
    @contextlib.contextmanager
    def building(self) -> Iterator[None]:
        """Runs Python with this graph active: its ops become nodes here.

        Tapes outside see a function's call, not its tracing, so they are set aside.
        """
        saved = state.graph, state.device, state.tapes
        state.graph, state.device, state.tapes = self, self.device, ()
        try:
            yield
        finally:
            state.graph, state.device, state.tapes = saved

    def _node(self, type_: str, op: Any, inputs: tuple, attrs: dict, specs: list) -> Operation:
        node = Operation(type_, f"{type_}_{next(self._names)}", op, inputs, attrs)
        node.outputs = tuple(Symbol(s.shape, s.dtype.np_dtype, node, i) for i, s in enumerate(specs))
        self.operations.append(node)
        return node

    def placeholder(self, shape: tuple | None, dtype: dtypes.DType, name: str | None = None) -> Symbol:
        """An input of the graph; None dims (or a None shape: unknown rank) take any size at run time.

        ``name`` (a function's argument name) names the node as TF names its placeholders, so a
        traced ``print(x)`` shows ``Tensor("x:0", ...)``; a name taken already gets a suffix.
        """
        node = self._node("Placeholder", None, (), {}, [Spec(None if shape is None else tuple(shape), dtype)])
        if name:
            taken = {op.name for op in self.operations}
            unique, k = name, 0
            while unique in taken:
                k += 1
                unique = f"{name}_{k}"
            node.name = unique
        self.inputs.append(node.outputs[0])
        return node.outputs[0]

    def constant(self, array: Any) -> Symbol:
        """A Const node for an array of the target device (one node per array)."""
        key = id(array)
        sym = self._consts.get(key)
        if sym is None:
            spec = Spec(tuple(np.shape(array)), dtypes.from_numpy(np.dtype(array.dtype)))
            node = self._node("Const", None, (), {}, [spec])
            node.value = array
            sym = self._consts[key] = node.outputs[0]
        return sym

    def static_value(self, sym: Symbol, _depth: int = 0) -> np.ndarray | None:
        """``sym``'s value on the host if it follows from constants alone (TF's
        ``get_static_value``): a Const, or an op of such values (``gt.shape`` of a fully known
        tensor, slices and stacks of it), evaluated now with the CPU kernels; None if it
        depends on an argument, a variable or a random draw, or is large."""
        node = sym.node
        if node.type == "Const":
            value = node.value
            return value if isinstance(value, np.ndarray) else np.asarray(self.target.backend.to_host(value))
        # node.value marks run-time state (a random node's stream): never folded.
        if node.op is None or not node.inputs or node.value is not None or _depth > 32:
            return None
        values = [self.static_value(s, _depth + 1) for s in node.inputs]
        if any(v is None or v.size > 1024 for v in values):
            return None
        from gputensor.backend.cpu import CPU

        out = CPU.kernel_table()[node.op.name](*values, **node.attrs)
        return np.asarray(out[sym.index] if len(node.outputs) > 1 else out)

    def random_context(self) -> Symbol:
        """An int64 scalar symbol with a new value at every run of this graph, made on first use:
        the stateful random ops of the gt.cond branches and gt.while_loop bodies inside draw
        from it (ops/random_ops.py ``_sample``; a branch graph derives its own)."""
        if self._random_context is None:
            from gputensor.ops import random_ops

            with self.building():
                self._random_context = random_ops.run_seed()._data
        return self._random_context

    def read_variable(self, var: Any) -> Symbol:
        node = self._node("ReadVariable", None, (), {}, [Spec(tuple(var.shape), var.dtype)])
        node.value = var
        self._use(var)
        return node.outputs[0]

    def assign_variable(self, var: Any, value: Symbol) -> None:
        node = self._node("AssignVariable", None, (value,), {}, [])
        node.value = var
        self._use(var)

    def print_node(self, values: list, write: Any) -> None:
        """A Print node (gt.print): ``write(values)`` at every run, each tensor by its value then.

        ``node.value`` is ``(parts, write)``: per printed value ``("tensor", i)`` for the
        node's input i, or ``("python", value)``.
        """
        from gputensor.framework.tensor import Tensor, array_on

        inputs, parts = [], []
        for v in values:
            if hasattr(v, "read_value"):  # a variable: its value when the graph runs
                v = v.value()
            if isinstance(v, Tensor):
                data = array_on(v, self.device)
                parts.append(("tensor", len(inputs)))
                inputs.append(data)
            else:
                parts.append(("python", v))
        node = self._node("Print", None, tuple(inputs), {}, [])
        node.value = (parts, write)

    def _use(self, var: Any) -> None:
        index_adding(self.variables, var)

    def apply(self, op: Any, arrays: tuple, attrs: dict) -> Any:
        """The kernel of every op while tracing: adds its node, returns its output symbols."""
        inputs = tuple(a if type(a) is Symbol else self.constant(self._on_target(a)) for a in arrays)
        specs = [Spec(s.shape, dtypes.from_numpy(s.dtype)) for s in inputs]
        try:
            out = op.infer(op, specs, attrs)
        except ValueError as exc:
            raise InvalidArgumentError(
                f"{op.name}: {exc} (inputs: {[s.shape for s in specs]})", op.name
            ) from None
        outs = list(out) if op.num_outputs > 1 else [out]
        node = self._node(op.name, op, inputs, dict(attrs), outs)
        target = self.target
        if any(s.dtype is dtypes.string for s in specs) or any(s.dtype is dtypes.string for s in outs):
            node.kernel = string_kernel(op, target)
        else:
            node.kernel = target.kernels.get(op.name) or target.kernel(op)
        return node.outputs if op.num_outputs > 1 else node.outputs[0]

    def _on_target(self, value: Any) -> Any:
        if isinstance(value, np.ndarray) and value.dtype == object:
            return value  # a string constant stays on the host, where string kernels run
        if isinstance(value, (np.generic, int, float, bool)):
            return value if isinstance(value, np.generic) else np.asarray(value)
        return value

    # ------------------------------------------------ the tracing backend API
    def kernel_table(self) -> _Kernels:
        return _Kernels(self)

    def make_kernel(self, op: Any) -> Any:
        return _Kernels(self).get(op.name)

    def transfer(self, array: Any, source_backend: Any) -> Any:
        """A tensor made outside the graph and read inside it: a constant of the graph, or,
        for a symbol of an enclosing graph, a captured input."""
        if type(array) is Symbol:
            if source_backend is self or not isinstance(source_backend, Graph):
                return array
            return self.capture(array, source_backend)
        if isinstance(array, np.ndarray) and array.dtype == np.dtype(
            object
        ):  # string constants stay on the host, where string kernels run
            return self.constant(source_backend.to_host(array))
        return self.constant(self.target.backend.transfer(array, source_backend))

    def capture(self, symbol: Symbol, owner: Graph) -> Symbol:
        """The placeholder standing here for ``symbol`` of the enclosing graph ``owner``."""
        if self.parent is None:
            raise InvalidArgumentError(
                "gt.function: a tensor of another function's graph was used here; pass it as an argument",
                None,
            )
        if owner is not self.parent:
            symbol = self.parent.capture(symbol, owner)
        inner = self._captured.get(id(symbol))
        if inner is None:
            inner = self.placeholder(symbol.shape, dtypes.from_numpy(symbol.dtype))
            self._captured[id(symbol)] = inner
            self.captures.append((symbol, inner))
        return inner

    def from_host(self, array: np.ndarray) -> Symbol:
        if array.dtype == object:  # string constants stay on the host
            return self.constant(array)
        return self.constant(self.target.backend.from_host(array))

    def to_host(self, array: Any) -> Any:
        if type(array) is Symbol:
            building = state.graph
            while building is not None and building is not self:
                building = building.parent
            raise _value_error(array) if building is self else _leaked_error(array, self.name)
        return self.target.backend.to_host(array)

    def scalar(self, value: Any, np_dtype: np.dtype) -> Any:
        return self.target.backend.scalar(value, np_dtype)

    def __getattr__(self, name: str) -> Any:
        # Backend services a public function may ask for (an empty array, a dtype check)
        # come from the target's backend.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.target.backend, name)

    # -------------------------------------------------------------- inspecting
    def get_operations(self) -> list[Operation]:
        """The nodes, in the order the function made them."""
        return list(self.operations)

    def as_text(self) -> str:
        """A readable dump of the graph, one node a line (TF's as_graph_def, as text)."""
        lines = [f"graph {self.name} on {self.target.name}"]
        lines += [f"  {node.describe()}" for node in self.operations]
        lines.append(f"  return {', '.join(s.name for s in self.outputs)}")
        return "\n".join(lines)

    def as_graph_def(self) -> Any:
        """The graph as TF's GraphDef lays it out (`graph_def.GraphDef`: ``.node``, and
        protobuf text format when printed)."""
        from gputensor.graph.graph_def import graph_def

        return graph_def(self)

    def __repr__(self) -> str:
        return f"<gt.Graph {self.name!r}: {len(self.operations)} operations>"


def string_kernel(op: Any, target: Device) -> Any:
    """The kernel of a node that reads or makes strings: the CPU kernel, as TF places string
    ops on the CPU. On a GPU target its numeric inputs are brought to the host and numeric
    outputs sent back, so the graph's other nodes see arrays of the target; string arrays stay
    on the host. 0-d string results, which NumPy returns as bare ``bytes``, come back as 0-d
    arrays (the next kernel may reshape or index them)."""
    from gputensor.backend.cpu import CPU
    from gputensor.framework.tensor import box, host_device

    host = host_device()
    host_fn = host.kernels.get(op.name) or host.kernel(op)
    backend = target.backend
    on_host = backend is CPU

    def fix(out: Any) -> Any:
        if not hasattr(out, "dtype"):
            return box(out)
        if on_host or out.dtype == object:
            return out
        return backend.from_host(np.asarray(out))

    def run(*arrays: Any, **attrs: Any) -> Any:
        if not on_host:
            arrays = tuple(
                a if isinstance(a, (np.ndarray, np.generic)) else backend.to_host(a) for a in arrays
            )
        out = host_fn(*arrays, **attrs)
        return tuple(fix(o) for o in out) if isinstance(out, tuple) else fix(out)

    return run


class _Kernels(dict):
    """The tracing device's kernel table: every op name gives a node builder."""

    def __init__(self, graph: Graph) -> None:
        super().__init__()
        self._graph = graph

    def get(self, name: str, default: Any = None) -> Any:
        op = OPS.get(name)
        if op is None:
            return default
        graph = self._graph

        def build(*arrays: Any, **attrs: Any) -> Any:
            return graph.apply(op, arrays, attrs)

        return build
