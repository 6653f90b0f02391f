"""Runs a traced graph: each node's kernel on arrays, with no per-op dispatch logic.

`run` is the fast path: array slots, the kernels the nodes recorded at trace time,
intermediates dropped after their last use, compiled to straight-line Python. `run_recorded` runs the same nodes
through the op table's `execute` instead, on Tensors, so that active tapes record
them (a tape around a function call differentiates through it, op by op).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from gputensor.framework.op_table import execute
from gputensor.framework.tensor import Tensor, array_on, wrap
from gputensor.graph import fusion, lowering
from gputensor.graph.graph import Graph
from gputensor.ops.random_ops import RandomStream, run_attrs

CONTROL_FLOW = ("If", "While")  # nodes whose kernel runs sub-programs (graph/control_flow.py)
# Nodes without an op whose ``value`` runs them on Tensors (``run_tensors``) for a recording tape.
# Lowered: graph/lowering.py.
SUBPROGRAMS = (
    *CONTROL_FLOW,
    "Fused",
    "CustomGradient",
    "Lowered",
)  # CustomGradient: graph/custom_gradient.py


class Program:
    """A graph lowered for running: a slot per symbol, the steps in order, last uses."""

    __slots__ = ("graph", "slot", "steps", "n_slots", "outputs", "output_symbols", "compiled", "reuse")

    def __init__(
        self,
        graph: Graph,
        operations: list | None = None,
        outputs: list | None = None,
        fuse: bool = True,
        lower: bool = False,
    ) -> None:
        """Lowers ``operations`` (the graph's, or an optimised list) computing ``outputs``;
        ``fuse``: with chains of elementwise nodes fused for the graph's target (fusion.py);
        ``lower``: with the target backend's multi-node kernels (lowering.py; a function's
        top-level program, whose steps no gradient of control flow walks)."""
        operations = graph.operations if operations is None else operations
        outputs = graph.outputs if outputs is None else outputs
        if lower:
            operations, outputs = lowering.lower(operations, outputs, graph.target)
        if fuse:
            operations, outputs = fusion.fuse_elementwise(operations, outputs, graph.target)
        self.graph = graph
        self.compiled: Callable[[list], list] | None = None
        self.slot: dict[int, int] = {}
        for node in operations:
            for sym in node.outputs:
                self.slot[id(sym)] = len(self.slot)
        self.n_slots = len(self.slot)
        last: dict[int, int] = {}
        for i, node in enumerate(operations):
            for sym in node.inputs:
                last[self.slot[id(sym)]] = i
        keep = {self.slot[id(s)] for s in outputs}
        frees: list[list[int]] = [[] for _ in operations]
        for s, i in last.items():
            if s not in keep:
                frees[i].append(s)
        self.steps = []
        inputs = {id(s): k for k, s in enumerate(graph.inputs)}
        for node, free in zip(operations, frees):
            ins = tuple(self.slot[id(s)] for s in node.inputs)
            outs = tuple(self.slot[id(s)] for s in node.outputs)
            extra = inputs.get(id(node.outputs[0])) if node.type == "Placeholder" else None
            self.steps.append((node, ins, outs, tuple(free), extra))
        self.outputs = tuple(self.slot[id(s)] for s in outputs)
        self.output_symbols = list(outputs)  # the graph's outputs after the passes
        self.reuse = _buffer_reuse(self.steps)


def _buffer_reuse(steps: list) -> list:
    """Per step, ``(input position, slots to compare shapes with at run time)`` for the input whose
    buffer a NumPy ufunc may write its result into, or None.

    A ufunc node may compute in place (``out=``) into an input that dies at this node, was
    made by an earlier ufunc node (so the program owns it: no view of a variable, constant
    or argument), and has the output's shape and dtype. Chains of elementwise ops on the CPU
    then run in one buffer instead of allocating one per op.
    """
    owned: set[int] = set()
    reuse: list = []
    for node, ins, outs, free, _ in steps:
        choice = None
        # Rank 0 stays out: ufuncs return NumPy scalars there, which have no buffer to write.
        if (
            isinstance(node.kernel, np.ufunc)
            and node.kernel.nout == 1
            and not node.attrs
            and node.outputs[0].shape
        ):
            out_sym = node.outputs[0]
            for j, (s, sym) in enumerate(zip(ins, node.inputs)):
                if s in owned and s in free and sym.shape == out_sym.shape and sym.dtype == out_sym.dtype:
                    choice = (j, _same_shape_at_run_time(j, ins, node.inputs))
                    break
            owned.add(outs[0])
        else:
            # Any other node may keep a view of its inputs (reshape, identity, a variable's
            # new value): their buffers are not the program's to overwrite any more.
            owned.difference_update(ins)
        reuse.append(choice)
    return reuse


def _same_shape_at_run_time(j: int, ins: tuple, symbols: tuple) -> tuple:
    """The slots whose run-time shape input ``j`` must equal for its buffer to take the result.

    Input j's static shape equals the output's, but with None dims (a graph traced for any batch
    size) that does not make them equal at run time: another input with None dims may be the
    larger one, j being broadcast (a (1, 3) against a (5, 3)). Inputs that cannot outgrow j
    (those of smaller rank whose dims are known and 1 or equal to j's) need no check.
    """
    mine = symbols[j].shape
    if None not in mine:
        return ()
    checks = []
    for k, (s, sym) in enumerate(zip(ins, symbols)):
        if k == j:
            continue
        theirs = sym.shape
        lead = len(mine) - len(theirs)
        safe = lead >= 0 and all(
            d == 1 or (d is not None and d == mine[lead + i]) for i, d in enumerate(theirs)
        )
        if not safe:
            checks.append(s)
    return tuple(checks)


def run(program: Program, args: list) -> list:
    """Runs ``program`` on the arrays ``args`` (one per placeholder); returns the output Tensors.

    The first run compiles the program to straight-line Python (`compile_program`).
    """
    target = program.graph.target
    if target.device_type != "CPU":
        return [_wrap_on(a, target) for a in run_arrays(program, args)]
    return [wrap(a, target) for a in run_arrays(program, args)]


def _wrap_on(array: Any, target: Any) -> Tensor:
    """An output of a graph on a GPU: a Tensor there, except strings, which live on the CPU."""
    if not hasattr(array, "dtype") or array.dtype == np.dtype(object):
        from gputensor.framework.tensor import host_device

        return wrap(array, host_device())
    return wrap(array, target)


def run_arrays(program: Program, args: list) -> list:
    """`run`, returning the output arrays (a control-flow node runs its branches this way)."""
    fn = program.compiled
    if fn is None:
        fn = program.compiled = compile_program(program)
    return fn(args)


def compile_program(program: Program) -> Callable[[list], list]:
    """The program as one Python function (arrays in, output arrays out): a local per slot,
    one line per node.

    Python runs such code faster than the interpreting loop of `interpret`: no
    per-node branching, list indexing or argument packing (the same idea as the
    compiled backward plans of autodiff/matcher.py).
    """
    env: dict[str, Any] = {"wrap": wrap, "array_on": array_on, "_print": _print}

    def name(prefix: str, value: Any) -> str:
        key = f"{prefix}{len(env)}"
        env[key] = value
        return key

    target = name("T", program.graph.target)
    lines = ["def run(args):"]
    for (node, ins, outs, free, arg), reuse in zip(program.steps, program.reuse):
        kind = node.type
        if node.kernel is not None:
            attrs = node.attrs
            if isinstance(node.value, RandomStream):  # a new offset at every run
                attrs = {k: v for k, v in attrs.items() if k != "offset"}
                ins_extra = f"offset={name('S', node.value.next_offset)}()"
            else:
                ins_extra = ""
            call = functools.partial(node.kernel, **attrs) if attrs else node.kernel
            lhs = ", ".join(f"v{s}" for s in outs) + ("," if len(outs) > 1 else "")
            if reuse is None:
                out = ""
            elif not reuse[1]:
                out = f", out=v{ins[reuse[0]]}"
            else:  # None dims: reuse the buffer only when this call's shapes match
                j = ins[reuse[0]]
                same = " and ".join(f"v{j}.shape == v{k}.shape" for k in reuse[1])
                out = f", out=(v{j} if {same} else None)"
            args = ", ".join([*(f"v{i}" for i in ins), *([ins_extra] if ins_extra else [])])
            expr = f"{name('K', call)}({args}{out})"
            lines.append(f"    {lhs} = {expr}" if outs else f"    {expr}")
        elif kind == "Placeholder":
            lines.append(f"    v{outs[0]} = args[{arg}]")
        elif kind == "Const":
            lines.append(f"    v{outs[0]} = {name('C', node.value)}")
        elif kind == "ReadVariable":
            lines.append(f"    v{outs[0]} = array_on({name('V', node.value)}._value, {target})")
        elif kind == "Print":
            lines.append(
                f"    _print({name('P', node.value)}, [{''.join(f'v{i}, ' for i in ins)}], {target})"
            )
        else:  # AssignVariable
            lines.append(f"    {name('V', node.value)}._value = wrap(v{ins[0]}, {target})")
        lines += [f"    v{i} = None" for i in free]
    lines.append(f"    return [{', '.join(f'v{s}' for s in program.outputs)}]")
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<gputensor graph {program.graph.name}>", "exec"), env)  # noqa: S102 - generated here
    fn = env["run"]
    fn.source = source
    return fn


def _walk(
    program: Program,
    args: list,
    call: Callable,
    const: Callable,
    read: Callable,
    assign: Callable,
    show: Callable,
) -> list:
    """Runs the program's nodes in order; how values are made is the caller's (arrays or Tensors)."""
    vals: list[Any] = [None] * program.n_slots
    for node, ins, outs, free, arg in program.steps:
        kind = node.type
        if node.op is not None or kind in SUBPROGRAMS:
            out = call(node, [vals[i] for i in ins])
            if len(outs) == 1:
                vals[outs[0]] = out
            elif outs:
                for s, o in zip(outs, out):
                    vals[s] = o
        elif kind == "Placeholder":
            vals[outs[0]] = args[arg]
        elif kind == "Const":
            vals[outs[0]] = const(node.value)
        elif kind == "ReadVariable":
            vals[outs[0]] = read(node.value)
        elif kind == "Print":
            show(node.value, [vals[i] for i in ins])
        else:  # AssignVariable
            assign(node.value, vals[ins[0]])
        for i in free:
            vals[i] = None
    return [vals[s] for s in program.outputs]


def interpret(program: Program, args: list) -> list:
    """`run` without compiling: the reference the compiled form is tested against."""
    target = program.graph.target

    def assign(var: Any, array: Any) -> None:
        var._value = wrap(array, target)

    out = _walk(
        program,
        args,
        call=lambda node, arrays: node.kernel(*arrays, **run_attrs(node)),
        const=lambda value: value,
        read=lambda var: array_on(var._value, target),
        assign=assign,
        show=lambda spec, arrays: _print(spec, arrays, target),
    )
    return [_wrap_on(a, target) for a in out]


def _print(spec: tuple, arrays: list, target: Any) -> None:
    """Runs a Print node: its writer gets the printed values, tensors as Tensors."""
    parts, write = spec
    write([_wrap_on(arrays[i], target) if kind == "tensor" else i for kind, i in parts])


def run_recorded(program: Program, args: list[Tensor]) -> list[Tensor]:
    """Runs ``program`` op by op through `execute`, so that active tapes record every op."""
    target = program.graph.target
    return _walk(
        program,
        args,
        call=lambda node, tensors: (
            execute(node.op, tuple(tensors), run_attrs(node))
            if node.op is not None
            else node.value.run_tensors(tensors)
        ),
        const=lambda value: _wrap_on(value, target),
        read=lambda var: var.value(),  # a tape watches the read
        assign=lambda var, tensor: var.assign(tensor),
        show=lambda spec, tensors: spec[1]([tensors[i] if k == "tensor" else i for k, i in spec[0]]),
    )
