"""``gt.cond`` and ``gt.while_loop``: Python control flow eagerly, If and While nodes in graphs.

Eagerly (and inside a gt.function when the condition is a Python value or a
concrete tensor) they are plain Python: the branch taken runs, the loop loops.
While a gt.function is traced with a symbolic condition, each branch (or the loop's
condition and body) is traced into a graph of its own whose tensors from the
enclosing graph become captured inputs (`Graph.capture`); the If or While node runs
the chosen branch, or the loop, at every call. Branches must return the same
structure, shapes and dtypes; a loop body must return its variables with their
shapes and dtypes unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gputensor.autodiff import nest
from gputensor.errors import InvalidArgumentError, UnimplementedError
from gputensor.framework import dtypes
from gputensor.framework.context import state
from gputensor.framework.shape_inference import Spec
from gputensor.framework.tensor import Tensor, array_on, convert_to_tensor, wrap
from gputensor.graph import executor, passes
from gputensor.graph.graph import Graph, Symbol, index_adding


def _symbolic(value: Any, graph: Graph | None) -> bool:
    return graph is not None and isinstance(value, Tensor) and value._device is graph.device


def _refuse_tapes(what: str) -> None:
    if state.tapes:
        raise UnimplementedError(
            f"{what}: gradients through a {what} with a tensor condition inside gt.function are not "
            "supported yet; compute the gradient outside the function, or use gt.where",
            what,
        )


class _Branch:
    """A traced branch, loop condition or body: its program and where its captures come from."""

    def __init__(self, outer: Graph, fn: Callable, specs: list, name: str) -> None:
        sub = Graph(outer.target, name=name)
        sub.parent = outer
        args = [wrap(sub.placeholder(shape, dtype), sub.device) for shape, dtype in specs]
        with sub.building():
            result = fn(*args)
            flat = [self._as_symbol(sub, x, name) for x in nest.flatten(result)]
        sub.outputs = flat
        self.structure = result
        self.outputs = flat
        self.graph = sub
        self.program = executor.Program(sub, *passes.optimize(sub.operations, sub.outputs))
        self.n_args = len(specs)

    @staticmethod
    def _as_symbol(sub: Graph, value: Any, name: str) -> Symbol:
        if value is None:
            raise ValueError(f"{name}: returned None; return tensors (the same structure in every branch)")
        return array_on(value if isinstance(value, Tensor) else convert_to_tensor(value), sub.device)


def _outer_captures(*branches: _Branch) -> list:
    seen: list[Symbol] = []
    for b in branches:
        for outer, _ in b.graph.captures:
            index_adding(seen, outer)
    return seen


def _index(seq: list, item: Any) -> int:
    for i, x in enumerate(seq):
        if x is item:
            return i
    raise ValueError("capture not found")


# ----------------------------------------------------------------------- cond
class _If:
    def __init__(self, true: _Branch, false: _Branch, captures: list) -> None:
        self.true, self.false = true, false
        self.true_at = [_index(captures, o) for o, _ in true.graph.captures]
        self.false_at = [_index(captures, o) for o, _ in false.graph.captures]
        self.n_out = len(true.outputs)

    def run_arrays(self, pred: Any, *caps: Any) -> Any:
        branch, at = (self.true, self.true_at) if bool(pred) else (self.false, self.false_at)
        out = executor.run_arrays(branch.program, [caps[i] for i in at])
        return _result(out, self.n_out)

    def run_tensors(self, tensors: list) -> Any:
        pred, caps = tensors[0], tensors[1:]
        branch, at = (self.true, self.true_at) if bool(pred) else (self.false, self.false_at)
        return _result(executor.run_recorded(branch.program, [caps[i] for i in at]), self.n_out)


def _result(out: list, n: int) -> Any:
    if n == 0:
        return None
    return out[0] if n == 1 else tuple(out)


def cond(
    pred: Any, true_fn: Callable | None = None, false_fn: Callable | None = None, name: str | None = None
) -> Any:
    """Runs ``true_fn()`` if ``pred`` is true, else ``false_fn()``, as ``tf.cond``.

    Inside a gt.function with a symbolic ``pred`` both branches are traced and the
    graph runs the one ``pred`` picks at each call; they must return the same
    structure, shapes and dtypes.

    Args:
      pred: a scalar bool tensor or Python bool.
      true_fn, false_fn: functions of no arguments.
      name: ignored.

    Returns:
      What the branch taken returns.

    >>> gt.cond(gt.constant(2.0) > 1.0, lambda: "big", lambda: "small")
    'big'
    """
    if true_fn is None or false_fn is None:
        raise TypeError("cond: give both true_fn and false_fn")
    graph = state.graph
    if not _symbolic(pred, graph):
        return true_fn() if bool(pred) else false_fn()
    if pred.dtype is not dtypes.bool_ or tuple(pred._data.shape) != ():
        raise InvalidArgumentError(
            f"cond: pred must be a scalar bool tensor, got {pred.dtype.name} of shape {tuple(pred._data.shape)}",
            "cond",
        )
    _refuse_tapes("cond")
    true = _Branch(graph, lambda: true_fn(), [], "cond_true")
    false = _Branch(graph, lambda: false_fn(), [], "cond_false")
    if repr(nest.pack_sequence_as(true.structure, [None] * len(true.outputs))) != repr(
        nest.pack_sequence_as(false.structure, [None] * len(false.outputs))
    ):
        raise ValueError("cond: true_fn and false_fn must return the same structure of tensors")
    for i, (a, b) in enumerate(zip(true.outputs, false.outputs)):
        if a.shape != b.shape or a.dtype != b.dtype:
            raise ValueError(
                f"cond: output {i} is {a.dtype}{list(a.shape)} in true_fn but {b.dtype}{list(b.shape)} in "
                "false_fn; both branches must return the same shapes and dtypes"
            )
    captures = _outer_captures(true, false)
    specs = [Spec(s.shape, dtypes.from_numpy(s.dtype)) for s in true.outputs]
    node = graph._node("If", None, (pred._data, *captures), {}, specs)
    node.value = _If(true, false, captures)
    node.kernel = node.value.run_arrays
    outs = [wrap(s, graph.device) for s in node.outputs]
    return nest.pack_sequence_as(true.structure, outs)


# ----------------------------------------------------------------- while_loop
class _While:
    def __init__(
        self, cond_b: _Branch, body_b: _Branch, captures: list, n_vars: int, maximum: int | None
    ) -> None:
        self.cond, self.body = cond_b, body_b
        self.cond_at = [_index(captures, o) for o, _ in cond_b.graph.captures]
        self.body_at = [_index(captures, o) for o, _ in body_b.graph.captures]
        self.n_vars = n_vars
        self.maximum = maximum

    def _loop(self, values: list, caps: list, run: Callable, truth: Callable) -> Any:
        cond_caps = [caps[i] for i in self.cond_at]
        body_caps = [caps[i] for i in self.body_at]
        i = 0
        while (self.maximum is None or i < self.maximum) and truth(
            run(self.cond.program, values + cond_caps)[0]
        ):
            values = list(run(self.body.program, values + body_caps))
            i += 1
        return _result(values, self.n_vars)

    def run_arrays(self, *arrays: Any) -> Any:
        n = self.n_vars
        return self._loop(list(arrays[:n]), list(arrays[n:]), executor.run_arrays, bool)

    def run_tensors(self, tensors: list) -> Any:
        n = self.n_vars
        return self._loop(list(tensors[:n]), list(tensors[n:]), executor.run_recorded, bool)


def while_loop(
    cond: Callable,
    body: Callable,
    loop_vars: Any,
    shape_invariants: Any = None,
    parallel_iterations: int = 10,
    back_prop: bool = True,
    swap_memory: bool = False,
    maximum_iterations: int | None = None,
    name: str | None = None,
) -> Any:
    """Repeats ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)``, as ``tf.while_loop``.

    Inside a gt.function the loop is a While node (its condition and body traced
    once); the body must return the loop variables with unchanged shapes and dtypes.

    Args:
      cond: a function of the loop variables returning a scalar bool.
      body: a function of the loop variables returning new ones (same structure).
      loop_vars: a tensor, or a list/tuple (possibly nested) of them.
      shape_invariants, parallel_iterations, back_prop, swap_memory: accepted for TF
        compatibility (shapes must stay as they are).
      maximum_iterations: an optional Python int bound.
      name: ignored.

    Returns:
      The loop variables after the last iteration, in ``loop_vars``' structure.

    >>> gt.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s + i), (0, 0))
    (4, 6)
    """
    single = not isinstance(loop_vars, (list, tuple))
    values = [loop_vars] if single else list(loop_vars)
    graph = state.graph
    if graph is None:
        i = 0
        while (maximum_iterations is None or i < maximum_iterations) and bool(cond(*values)):
            out = body(*values)
            values = [out] if single else list(out)
            i += 1
        return values[0] if single else type(loop_vars)(values)
    _refuse_tapes("while_loop")
    structure = values
    flat = [convert_to_tensor(v) for v in nest.flatten(structure)]
    flat = [t if t._device is graph.device else wrap(array_on(t, graph.device), graph.device) for t in flat]
    specs = [(tuple(t._data.shape), t.dtype) for t in flat]

    def unflat(fn: Callable) -> Callable:
        return lambda *args: fn(*nest.pack_sequence_as(structure, list(args)))

    cond_b = _Branch(graph, unflat(cond), specs, "while_cond")
    if (
        len(cond_b.outputs) != 1
        or cond_b.outputs[0].shape != ()
        or cond_b.outputs[0].dtype != dtypes.bool_.np_dtype
    ):
        raise InvalidArgumentError("while_loop: cond must return one scalar bool tensor", "while_loop")
    body_b = _Branch(graph, unflat(body), specs, "while_body")
    if len(body_b.outputs) != len(specs):
        raise ValueError(
            f"while_loop: body returned {len(body_b.outputs)} tensors for {len(specs)} loop variables; "
            "return the loop variables in the structure they came in"
        )
    for i, (sym, (shape, dtype)) in enumerate(zip(body_b.outputs, specs)):
        if sym.shape != shape or sym.dtype != dtype.np_dtype:
            raise ValueError(
                f"while_loop: loop variable {i} enters as {dtype.name}{list(shape)} but the body returns "
                f"{dtypes.from_numpy(sym.dtype).name}{list(sym.shape)}; a loop variable must keep its shape "
                "and dtype (reshape or cast it in the body)"
            )
    captures = _outer_captures(cond_b, body_b)
    node = graph._node(
        "While", None, (*[t._data for t in flat], *captures), {}, [Spec(s, d) for s, d in specs]
    )
    node.value = _While(cond_b, body_b, captures, len(specs), maximum_iterations)
    node.kernel = node.value.run_arrays
    outs = nest.pack_sequence_as(structure, [wrap(s, graph.device) for s in node.outputs])
    return outs[0] if single else type(loop_vars)(outs)
