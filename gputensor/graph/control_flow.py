"""``gt.cond`` and ``gt.while_loop``: Python control flow eagerly, If and While nodes in graphs.

Eagerly (and inside a gt.function when the condition is a Python value or a
concrete tensor) they are plain Python: the branch taken runs, the loop loops.
While a gt.function is traced with a symbolic condition, each branch (or the loop's
condition and body) is traced into a graph of its own whose tensors from the
enclosing graph become captured inputs (`Graph.capture`); the If or While node runs
the chosen branch, or the loop, at every call. Branches must return the same
structure, shapes and dtypes; a loop body must return its variables with their
shapes and dtypes unchanged.

Gradients. A tape around a function call differentiates through the branch taken
and the iterations run: the recorded executor runs the branch programs op by op
(`run_tensors`). A tape *inside* a function records the If or While node itself as
one op (`IF_OP`, `WHILE_OP`), and its gradient is built of the same control flow:

- If: an If node on the same condition whose branches are the gradients of the
  branches. Each gradient branch recomputes its branch's forward ops (replayed from
  the branch's program, variable writes and prints left out) under a tape, then
  differentiates them. Every captured tensor (and every variable read in a branch,
  which is read before the node and captured while a tape records) gets a gradient.
- While: a forward While that also outputs, per loop variable the gradient reads, its
  values entering each iteration stacked along a new leading axis of run-time size
  (`_While.stacking`), then a backward While over k = n-1 .. 0 that reads iteration
  k's entry values from the stacks and applies the body's gradient there (the body's
  ops recomputed once under a tape). That is 3n body evaluations in all (the loop, the stacking loop, the
  backward loop) and O(n) memory for the stacks, as TF's while_v2 keeps every
  iteration's values on TensorList stacks.

Both are built of gt.cond, gt.while_loop and GradientTape, so they differentiate
again (higher-order gradients) and save and export like any other control flow.

Variables written and read again inside. A gradient cannot recompute a read of a variable
the node wrote before it (the variable holds other values when the gradient runs). Traced
while a tape records, the forward node keeps those reads (`_Branch.keeping`, `_kept`): an If
outputs them after its own outputs, a top-level While stacks them per iteration (and so
stacks its loop variables itself; in a cond branch the If outputs its stacks in turn). The
gradient replays the branch or body with them as inputs (`freeze`; a loop in a branch is
replayed once per stacked row, `_While.sliced_from`), and `_emit` records the node on the
tapes as reading, per kept value, its variable, so each one's gradient reaches the variable,
as each ReadVariableOp's does in TF. A While nested in a loop body keeps its reads the same
way (its node outputs them as an If does, `n_hidden`), and the enclosing loop stacks those
stacks per its own iterations, padded to the longest inner trip count with the counts output
too (`_While.kept_ragged`); its gradient cuts row k to its count and replays the inner loop
once per row. Deeper, the same recursion: a loop holding a keeping loop passes the kept
stacks on with their row counts (its `n_hidden`), stacks of stacks are padded in every dim,
and a replayed loop cuts each sliced row to its count (`_While.sliced_lengths`).

Random numbers. A stateful random op in a branch or body draws from its graph's random
context (`_BranchGraph.random_context`): the enclosing graph's, captured, and in a loop's
condition and body folded with the iteration number, a hidden int64 loop variable after the
user's. Recomputing the body in a gradient computes the same context, so it draws the same
numbers (docs/graphs.md, "Random numbers in control flow").
"""

from __future__ import annotations

import copy as copy_module
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from gputensor.autodiff import nest
from gputensor.errors import InvalidArgumentError, UnimplementedError
from gputensor.framework import context, dtypes
from gputensor.framework.context import state
from gputensor.framework.op_table import OpDef, execute
from gputensor.framework.shape_inference import Spec
from gputensor.framework.tensor import Tensor, array_on, convert_to_tensor, wrap
from gputensor.graph import executor, passes
from gputensor.graph.graph import Graph, Operation, Symbol, index_adding


def _symbolic(value: Any, graph: Graph | None) -> bool:
    return graph is not None and isinstance(value, Tensor) and value._device is graph.device


def _is_symbol(t: Any) -> bool:
    return isinstance(t, Tensor) and type(t._data) is Symbol


def _floating(t: Any) -> bool:
    return t._dtype.kind in "fc"


def _no_infer(op: Any, specs: list, attrs: dict) -> Any:
    raise TypeError(f"{op.name} nodes are made by gt.cond / gt.while_loop, not through execute")


# The tape's view of an If or While node: one op with a gradient (set at the end of this
# module). They are not in the op table: only gt.cond and gt.while_loop make these nodes.
IF_OP = OpDef("If", "other", None, None, None, 1, True, (), _no_infer)
WHILE_OP = OpDef("While", "other", None, None, None, 1, True, (), _no_infer)


class _BranchGraph(Graph):
    """The graph of a branch, loop condition or body.

    While a tape records around the gt.cond / gt.while_loop call, a variable read in
    the branch is read in the enclosing graph before the node instead, and captured:
    the tape then sees the read, and the node's gradient reaches the variable. A read
    after the branch itself assigned the variable stays inside (it must see the write).
    """

    def __init__(self, outer: Graph, name: str, hoist: bool, tapes: tuple, no_hoist: frozenset) -> None:
        super().__init__(outer.target, name=name)
        self.parent = outer
        self.hoist = hoist
        self.outer_tapes = tapes  # active where the node is made: they watch hoisted reads
        self.no_hoist = no_hoist  # variables (by uid) read inside even so
        self.hoisted: dict[int, Symbol] = {}
        self.assigned: set[int] = set()
        self.loop = name.startswith("while")  # a loop's condition or body: runs once per iteration
        self.iteration: Symbol | None = None  # the hidden iteration-number input, made on first use

    def iteration_number(self) -> Symbol:
        """The int64 iteration number of a loop's condition or body (0, 1, ...): a placeholder that
        `while_loop` turns into a hidden loop variable after the user's (it is not in ``inputs``
        until then)."""
        if self.iteration is None:
            node = self._node("Placeholder", None, (), {}, [Spec((), dtypes.int64)])
            self.iteration = node.outputs[0]
        return self.iteration

    def random_context(self) -> Symbol:
        """The random context of a branch: the enclosing graph's (captured), folded with the
        iteration number in a loop's condition and body, so every iteration draws anew while
        recomputing an iteration (a gradient) draws what it drew."""
        if self._random_context is None:
            from gputensor.ops.random_ops import RANDOM_FOLD_SEED

            context = self.capture(self.parent.random_context(), self.parent)
            if self.loop:
                with self.building():
                    args = (wrap(context, self.device), wrap(self.iteration_number(), self.device))
                    context = execute(RANDOM_FOLD_SEED, args, {})._data
            self._random_context = context
        return self._random_context

    def read_variable(self, var: Any) -> Symbol:
        uid = var._unique_id
        if not self.hoist or uid in self.no_hoist or uid in self.assigned:
            return super().read_variable(var)
        sym = self.hoisted.get(uid)
        if sym is None:
            saved = state.graph, state.device, state.tapes
            state.graph, state.device, state.tapes = self.parent, self.parent.device, self.outer_tapes
            try:
                outer = var.value()
            finally:
                state.graph, state.device, state.tapes = saved
            sym = self.hoisted[uid] = self.capture(outer._data, self.parent)
        return sym

    def assign_variable(self, var: Any, value: Symbol) -> None:
        g: Graph | None = self
        while isinstance(g, _BranchGraph):  # later reads, here and in enclosing branches, stay inside
            g.assigned.add(var._unique_id)
            g = g.parent
        super().assign_variable(var, value)


class _Branch:
    """A traced branch, loop condition or body: its graph and program."""

    def __init__(
        self, outer: Graph, fn: Callable, specs: list, name: str, no_hoist: frozenset = frozenset()
    ) -> None:
        hoist = bool(state.tapes) or (isinstance(outer, _BranchGraph) and outer.hoist)
        sub = _BranchGraph(outer, name, hoist, state.tapes, no_hoist)
        args = [wrap(sub.placeholder(shape, dtype), sub.device) for shape, dtype in specs]
        with sub.building():
            result = fn(*args)
            flat = [self._as_symbol(sub, x, name) for x in nest.flatten(result)]
        sub.outputs = flat
        self.structure = result
        self.outputs = flat
        self.graph = sub
        self._program: executor.Program | None = None
        self.kept: list[Symbol] = []  # the values `keeping` added as outputs after the user's

    @property
    def program(self) -> executor.Program:
        """The branch lowered for running (made on first use: `while_loop` may add its hidden
        iteration number to the graph first)."""
        if self._program is None:
            sub = self.graph
            self._program = executor.Program(sub, *passes.optimize(sub.operations, sub.outputs))
        return self._program

    def keeping(self) -> executor.Program:
        """The branch lowered for running, outputting after its own outputs every value a gradient
        cannot recompute (`_kept`): the variable reads that stayed inside (a read after this
        branch or an enclosing one wrote the variable) and such values of the control flow
        nested inside. A gradient replays the branch with these values (`freeze`) instead of
        reading the variables again, as TF's cond_v2/while_v2 output the forward's intermediates."""
        if self._program is None:
            sub = self.graph
            ops, outs = passes.optimize(sub.operations, sub.outputs)
            self.kept = _kept(ops)
            self._program = executor.Program(sub, ops, [*outs, *self.kept])
        return self._program

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


def _positions(program: executor.Program, captures: list, skip: int = 0) -> list[int]:
    """Per input of ``program`` after the first ``skip``, its position in ``captures``."""
    where = {id(inner): outer for outer, inner in program.graph.captures}
    return [_index(captures, where[id(s)]) for s in program.graph.inputs[skip:]]


def _index(seq: list, item: Any) -> int:
    for i, x in enumerate(seq):
        if x is item:
            return i
    raise ValueError("capture not found")


def _result(out: list, n: int) -> Any:
    if n == 0:
        return None
    return out[0] if n == 1 else tuple(out)


# ------------------------------------------------------------------- replaying
def _kept(operations: list) -> list[Symbol]:
    """The values of ``operations`` (a branch or body traced while a tape records) that a gradient
    must take from the forward run: the outputs of its ReadVariable nodes (in such a graph a
    read stays inside only when the variable was written before it, in this graph or one
    enclosing it, or when the loop writes it) and the kept values of the nodes nested inside."""
    kept = []
    for node in operations:
        if node.type == "ReadVariable":
            kept.append(node.outputs[0])
        elif node.type in executor.CONTROL_FLOW and node.value.n_hidden:
            kept.extend(node.outputs[len(node.outputs) - node.value.n_hidden :])
    return kept


def _kept_variable(sym: Symbol) -> Any:
    """The variable a kept value (see `_kept`) was read from (None for a nested loop's row counts)."""
    node = sym.node
    if node.type == "ReadVariable":
        return node.value
    return node.value.hidden_variables()[sym.index - (len(node.outputs) - node.value.n_hidden)]


def _refuse_nested(what: str, value: Any) -> None:
    """A loop nested in a branch or loop body that kept nothing (traced while no tape recorded):
    one that writes a variable and reads it again inside is refused."""
    _refuse_written_reads(
        what,
        value.programs(),
        " (a while_loop nested in a cond branch or loop body keeps its reads for the enclosing "
        "node's gradient only when a GradientTape records while it is traced; carry the value as a "
        "loop variable, or trace the loops under the tape)",
    )


def _refuse_nested_loops(programs: list) -> None:
    """`_refuse_nested` for every loop nested in ``programs`` that keeps nothing (named first:
    the enclosing node's own refusal would not say why)."""
    for program in programs:
        for node, *_ in program.steps:
            if node.type in executor.CONTROL_FLOW:
                if node.type == "While" and not node.value.n_hidden:
                    _refuse_nested("while_loop", node.value)
                _refuse_nested_loops(node.value.programs())


def freeze(program: executor.Program, n_out: int) -> executor.Program:
    """``program`` (a `_Branch.keeping` program: ``n_out`` outputs, then its kept values) as a
    gradient replays it: without variable writes and prints, each kept value an input after
    the program's own (a kept read becomes a Placeholder; a nested node with kept values takes
    them as inputs, frozen too), outputting its first ``n_out`` outputs."""
    kept = program.output_symbols[n_out:]
    kept_ids = {id(s) for s in kept}
    written = _variables(program, "AssignVariable", {})
    ops = []
    for node, *_ in program.steps:
        kind = node.type
        if kind in ("AssignVariable", "Print"):
            continue
        if kind == "ReadVariable":
            if id(node.outputs[0]) in kept_ids:
                ph = Operation("Placeholder", node.name, None, (), {})
                ph.outputs = node.outputs
                ops.append(ph)
                continue
            if node.value._unique_id in written:  # traced without a tape: nothing was kept
                _refuse_written_reads("cond", [program])
        if kind in executor.CONTROL_FLOW:
            value = node.value
            nh = value.n_hidden
            if kind == "If" or nh:
                # Kept values come in as placeholders; only the node's own outputs go out (a
                # keeping loop in a cond: its loop variables, not its kept stacks).
                hidden = node.outputs[len(node.outputs) - nh :] if nh else ()
                for sym in hidden:
                    ph = Operation("Placeholder", f"{node.name}/kept_{sym.index}", None, (), {})
                    ph.outputs = (sym,)
                    ops.append(ph)
                inner = value.frozen(len(node.inputs) - value.n_leading)
                copy = Operation(kind, node.name, None, (*node.inputs, *hidden), node.attrs)
                copy.outputs = (
                    node.outputs[: len(node.outputs) - nh] if kind == "If" else node.outputs[: value.n_vars]
                )
            else:
                _refuse_nested("while_loop", value)
                inner = value.pure()
                copy = Operation(kind, node.name, None, node.inputs, node.attrs)
                copy.outputs = node.outputs
            copy.value, copy.kernel = inner, inner.run_arrays
            node = copy
        ops.append(node)
    graph = copy_module.copy(program.graph)
    graph.inputs = [*program.graph.inputs, *kept]
    return executor.Program(graph, ops, program.output_symbols[:n_out])


def pure(program: executor.Program) -> executor.Program:
    """``program`` without its variable writes and prints (nested control flow too): what a
    gradient recomputes must not write or print a second time."""
    ops = []
    changed = False
    for node, *_ in program.steps:
        if node.type in ("AssignVariable", "Print"):
            changed = True
            continue
        if node.type in executor.CONTROL_FLOW:
            inner = node.value.pure()
            if inner is not node.value:
                copy = Operation(node.type, node.name, None, node.inputs, node.attrs)
                copy.outputs, copy.value, copy.kernel = node.outputs, inner, inner.run_arrays
                node, changed = copy, True
        ops.append(node)
    return executor.Program(program.graph, ops, program.output_symbols) if changed else program


def replay(program: executor.Program, args: list) -> list:
    """Runs ``program``'s nodes again through `execute` on tensors (symbolic ones while tracing
    add the nodes to the graph being built; active tapes record them), without writing
    variables or printing. A nested If or While on a symbolic condition becomes a node."""
    target = program.graph.target
    return executor._walk(
        program,
        args,
        call=lambda node, tensors: (
            execute(node.op, tuple(tensors), node.attrs)
            if node.op is not None
            else node.value.run_tensors(tensors, replaying=True)
        ),
        const=lambda value: wrap(value, target),
        read=lambda var: var.value(),
        assign=lambda var, tensor: None,
        show=lambda spec, tensors: None,
    )


def _emit(kind: str, value: Any, tensors: list, specs: list, recorded: list | None = None) -> list:
    """Adds an If or While node running ``value`` on ``tensors`` to the graph being built and
    records it on the active tapes; returns its output tensors.

    ``recorded`` maps each input to the tensor the tapes know (gt.cond and gt.while_loop
    see captured symbols only), per tape; by default ``tensors`` themselves.
    """
    graph = state.graph
    node = graph._node(kind, None, tuple(array_on(t, graph.device) for t in tensors), {}, specs)
    node.value = value
    node.kernel = value.run_arrays
    outs = tuple(wrap(s, graph.device) for s in node.outputs)
    nh = value.n_hidden if kind == "If" else value.n_kept
    if nh and state.tapes and context.recorder is not None:
        # The kept values are variable reads: the tapes record the node as reading, per kept
        # value, the variable it came from (a read here standing for it, watched as any read;
        # its value is unused), so the gradient of each kept value reaches its variable.
        sources = [
            var._read() if var is not None and var._dtype.kind in "fc" else outs[len(outs) - nh + j]
            for j, var in enumerate(value.kept_variables())
        ]
        recorded = [[*r, *sources] for r in (recorded or [list(tensors)] * len(state.tapes))]
    _record(IF_OP if kind == "If" else WHILE_OP, tensors, {"cf": value}, outs, recorded)
    return list(outs)


def _record(op: OpDef, tensors: list, attrs: dict, outs: tuple, recorded: list | None) -> None:
    if not state.tapes or not outs or context.recorder is None:
        return
    from gputensor.autodiff.tape import pause

    if pause.depth:
        context.recorder(op, tuple(tensors), attrs, outs)  # notes the stop_recording break
        return
    for k, tape in enumerate(state.tapes):
        ins = tuple(tensors) if recorded is None else recorded[k]
        in_ids = tuple(map(id, ins))
        if not tape._ids.isdisjoint(in_ids):
            tape._add(op, ins, in_ids, attrs, outs)


def _known_tensors(captures: list, fallback: list) -> list:
    """Per active tape, the tensors it knows for ``captures`` (symbols of the graph being
    built), else the ``fallback`` tensor: the tape records the node on those."""
    per_tape = []
    wanted = {id(s) for s in captures}
    for tape in state.tapes:
        found: dict[int, Tensor] = {}
        for t in tape._watched:
            if id(t._data) in wanted:
                found.setdefault(id(t._data), t)
        for rec in tape._records:
            for t in rec[4]:
                if id(t._data) in wanted:
                    found.setdefault(id(t._data), t)
        per_tape.append([found.get(id(s), f) for s, f in zip(captures, fallback)])
    return per_tape


# ----------------------------------------------------------------------- cond
class _If:
    """What an If node runs: per branch its program and where its inputs are in the node's
    captured inputs (the node's inputs are ``(pred, *captures)``).

    ``kept`` = (kt, kf): the true branch's program outputs kt kept values after the node's
    own outputs, the false one's kf (`_Branch.keeping`); the node outputs both groups after
    its own (zeros for the branch not taken), which the gradient replays instead of
    recomputing them (`freeze`)."""

    n_leading = 1  # the node's inputs before its captures: pred

    def __init__(
        self,
        true: executor.Program,
        false: executor.Program,
        true_at: list,
        false_at: list,
        kept: tuple = (0, 0),
    ) -> None:
        self.true, self.false = true, false
        self.true_at, self.false_at = list(true_at), list(false_at)
        self.kept = tuple(kept)
        self.n_hidden = self.kept[0] + self.kept[1]
        self.n_out = len(true.output_symbols) - self.kept[0]
        spec = lambda s: Spec(s.shape, dtypes.from_numpy(s.dtype))  # noqa: E731
        self.specs = [spec(s) for s in true.output_symbols[: self.n_out]]
        self.hidden_specs = [spec(s) for s in true.output_symbols[self.n_out :]]
        self.hidden_specs += [spec(s) for s in false.output_symbols[self.n_out :]]
        self.specs += self.hidden_specs
        self._pure: _If | None = None
        self._frozen: dict[int, _If] = {}
        self._zero_arrays: dict[bool, list] = {}

    def kept_variables(self) -> list:
        """Per kept output, the variable it was read from (None for a loop's row counts)."""
        return [_kept_variable(s) for p in (self.true, self.false) for s in p.output_symbols[self.n_out :]]

    hidden_variables = kept_variables

    def pure(self) -> _If:
        if self._pure is None:
            t, f = pure(self.true), pure(self.false)
            self._pure = (
                self
                if t is self.true and f is self.false
                else _If(t, f, self.true_at, self.false_at, self.kept)
            )
            self._pure._pure = self._pure
        return self._pure

    def frozen(self, n_caps: int) -> _If:
        """The If a gradient replays (`freeze`): inputs ``(pred, *captures, *kept values)``, the
        kept values in the order this node outputs them; no writes, prints or kept outputs."""
        if n_caps not in self._frozen:
            kt, kf = self.kept
            self._frozen[n_caps] = _If(
                freeze(self.true, self.n_out),
                freeze(self.false, self.n_out),
                [*self.true_at, *range(n_caps, n_caps + kt)],
                [*self.false_at, *range(n_caps + kt, n_caps + kt + kf)],
            )
        return self._frozen[n_caps]

    def programs(self) -> list:
        return [self.true, self.false]

    def _zeros(self, taken: bool) -> list:
        """Arrays for the kept outputs of the branch not taken (made once: nothing writes into
        an If's outputs, which no program owns)."""
        zeros = self._zero_arrays.get(taken)
        if zeros is None:
            kt = self.kept[0]
            specs = self.hidden_specs[kt:] if taken else self.hidden_specs[:kt]
            backend = self.true.graph.target.backend
            zeros = self._zero_arrays[taken] = [
                backend.from_host(np.zeros([0 if d is None else d for d in s.shape], s.dtype.np_dtype))
                for s in specs
            ]
        return zeros

    def _with_hidden(self, out: list, taken: bool, as_tensor: Callable) -> list:
        if not self.n_hidden:
            return out
        zeros = [as_tensor(z) for z in self._zeros(taken)]
        own, mine = list(out[: self.n_out]), list(out[self.n_out :])
        return own + (mine + zeros if taken else zeros + mine)

    def run_arrays(self, pred: Any, *caps: Any) -> Any:
        taken = bool(pred)
        branch, at = (self.true, self.true_at) if taken else (self.false, self.false_at)
        out = executor.run_arrays(branch, [caps[i] for i in at])
        return _result(self._with_hidden(out, taken, lambda a: a), len(self.specs))

    def run_tensors(self, tensors: list, replaying: bool = False) -> Any:
        pred, caps = tensors[0], tensors[1:]
        if _is_symbol(pred):  # a gradient recomputing a branch that holds this node
            node_value = self.pure() if replaying else self
            return _result(_emit("If", node_value, tensors, node_value.specs), len(node_value.specs))
        taken = bool(pred)
        branch, at = (self.true, self.true_at) if taken else (self.false, self.false_at)
        run = replay if replaying else executor.run_recorded
        target = self.true.graph.target
        out = self._with_hidden(run(branch, [caps[i] for i in at]), taken, lambda a: wrap(a, target))
        return _result(out, len(self.specs))


def cond(
    pred: Any, true_fn: Callable | None = None, false_fn: Callable | None = None, name: str | None = None
) -> Any:
    """Runs ``true_fn()`` if ``pred`` is true, else ``false_fn()``, as ``tf.cond``.

    Inside a gt.function with a symbolic ``pred`` both branches are traced and the
    graph runs the one ``pred`` picks at each call; they must return the same
    structure, shapes and dtypes. A GradientTape inside the function differentiates
    through it (the gradient is an If over the branches' gradients).

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
    if true.graph.hoist:  # a gradient may come: values it cannot recompute are outputs too
        t_prog, f_prog = true.keeping(), false.keeping()
    else:
        t_prog, f_prog = true.program, false.program
    value = _If(
        t_prog,
        f_prog,
        _positions(t_prog, captures),
        _positions(f_prog, captures),
        (len(true.kept), len(false.kept)),
    )
    cap_tensors = [wrap(s, graph.device) for s in captures]
    recorded = [[pred, *caps] for caps in _known_tensors(captures, cap_tensors)]
    outs = _emit("If", value, [pred, *cap_tensors], value.specs, recorded)
    return nest.pack_sequence_as(true.structure, outs[: value.n_out])


# ----------------------------------------------------------------- while_loop
class _While:
    """What a While node runs: the condition's and body's programs, where their captured
    inputs are among the node's (the node's inputs are ``(*loop_vars, *captures)``), and
    the bound on iterations.

    With ``stack`` (a gradient's forward loop, see `_while_grad`: the positions of the loop
    variables to stack) the node outputs the loop variables after the loop, then per
    position in ``stack`` the values that variable had entering each iteration, stacked
    along a new leading axis of unknown size (one row per iteration run; zero rows when the
    loop does not run). That keeps O(n) values, as TF's while_v2 keeps them on TensorList
    stacks.

    A loop variable at a ``growing`` position (the buffer of a dynamic_size TensorArray, or the
    gradient a backward loop carries for one) may change its leading dim per iteration: its
    stack is padded with zero rows to the longest entry, and after all the stacks the node
    outputs, per such stacked variable (``ragged``), an int32 vector of its row counts.

    With ``n_kept`` (a loop that writes variables and reads them again, traced while a tape
    records: the forward loop itself stacks, since a second run could not recompute what it
    read) the body's program outputs that many kept values after the loop variables
    (`_Branch.keeping`), and the node outputs each one's values per iteration, stacked, after
    the loop variables' stacks.
    """

    n_hidden = 0  # kept values an enclosing If outputs for its gradient (a keeping loop in a cond)

    def __init__(
        self,
        cond_p: executor.Program,
        body_p: executor.Program,
        cond_at: list,
        body_at: list,
        n_vars: int,
        maximum: int | None,
        stack: tuple | None = None,
        n_kept: int = 0,
        sliced_from: int | None = None,
        growing: tuple = (),
        measured: tuple = (),
        sliced_lengths: dict | None = None,
    ) -> None:
        self.cond, self.body = cond_p, body_p
        # Of a replayed loop's sliced captures, those whose rows are padded (a nested loop's kept
        # stacks): capture position -> the position of their row counts (iteration i cuts row
        # i of the one to row i of the other).
        self.sliced_lengths = dict(sliced_lengths or {})
        # Loop variables whose leading dim may change from one iteration to the next (the
        # buffers of dynamic_size TensorArrays written at run-time indices): their stacks are
        # padded with zero rows to the longest, and their lengths stacked too (`ragged`).
        self.growing = tuple(growing)
        # A replayed keeping loop (`frozen`): its captures from this position on are the kept
        # values stacked per iteration; iteration i takes their row i, and the loop runs once
        # per row (the condition read variables the replay does not write).
        self.sliced_from = sliced_from
        self.cond_at, self.body_at = list(cond_at), list(body_at)
        self.n_vars = n_vars
        self.n_leading = n_vars
        self.maximum = maximum
        self.stack = None if stack is None else tuple(stack)
        # Growing variables whose row counts the node outputs: the stacked ones, and those a
        # gradient needs only the shape of (``measured``: not stacked, see `_values_needed`).
        self.measured = tuple(measured)
        self.ragged = (
            ()
            if stack is None
            else tuple(sorted({k for k in self.stack if k in self.growing} | set(self.measured)))
        )
        self.n_kept = n_kept
        spec = lambda s: Spec(s.shape, dtypes.from_numpy(s.dtype))  # noqa: E731
        self.specs = [spec(s) for s in body_p.output_symbols[:n_vars]]
        self.kept_specs = [spec(s) for s in body_p.output_symbols[n_vars:]]
        # Kept values that are themselves stacks of a loop nested in the body (its kept stacks, of
        # one row per inner iteration): their stacks are padded with zero rows to the longest, and
        # the node outputs each one's row counts before the kept stacks.
        self.kept_ragged = tuple(j for j, k in enumerate(self.kept_specs) if k.shape and k.shape[0] is None)
        if self.stack is not None:
            self.specs += [Spec((None, *self.specs[k].shape), self.specs[k].dtype) for k in self.stack]
            self.specs += [Spec((None,), dtypes.int32) for _ in self.ragged]
        self.specs += [Spec((None,), dtypes.int32) for _ in self.kept_ragged]
        self.specs += [Spec((None, *k.shape), k.dtype) for k in self.kept_specs]
        self._pure: _While | None = None
        self._stacking: dict[tuple, _While] = {}

    def kept_variables(self) -> list:
        """Per kept value (stacked after the loop variables' stacks), the variable it was read from
        (None for the row counts of a loop nested in the body)."""
        return [_kept_variable(s) for s in self.body.output_symbols[self.n_vars :]]

    def hidden_variables(self) -> list:
        """Per output an enclosing node keeps (`n_hidden`: the kept stacks' row counts, then the
        kept stacks), the variable it was read from (None for the counts)."""
        return [None] * len(self.kept_ragged) + self.kept_variables()

    def frozen(self, n_caps: int) -> _While:
        """The loop a gradient replays (`freeze`): inputs ``(*loop_vars, *captures, *row counts,
        *kept stacks)``, iteration i reading row i of each kept stack (cut to its count where
        padded) in place of the variable; no writes, prints or stacks out."""
        if not self.n_kept:
            return self.pure()
        nk, nr = self.n_kept, len(self.kept_ragged)
        # Its inputs after the captures: the kept stacks' row counts, then the kept stacks (the
        # order this node outputs them, `n_hidden`).
        return _While(
            self.cond,
            freeze(self.body, self.n_vars),
            self.cond_at,
            [*self.body_at, *range(n_caps + nr, n_caps + nr + nk)],
            self.n_vars,
            self.maximum,
            None,
            0,
            n_caps,
            self.growing,
            sliced_lengths={n_caps + nr + j: n_caps + r for r, j in enumerate(self.kept_ragged)},
        )

    def pure(self) -> _While:
        if self._pure is None:
            c, b = pure(self.cond), pure(self.body)
            same = c is self.cond and b is self.body
            self._pure = (
                self
                if same
                else _While(
                    c,
                    b,
                    self.cond_at,
                    self.body_at,
                    self.n_vars,
                    self.maximum,
                    self.stack,
                    self.n_kept,
                    self.sliced_from,
                    self.growing,
                    self.measured,
                    self.sliced_lengths,
                )
            )
            self._pure._pure = self._pure
        return self._pure

    def stacking(self, which: tuple, measured: tuple = ()) -> _While:
        """This loop as a node that also outputs the stacked entry values of variables ``which``
        (and the row counts of the growing ones, and of those in ``measured``)."""
        if self.stack == which and self.measured == measured:
            return self
        if (which, measured) not in self._stacking:
            self._stacking[which, measured] = _While(
                self.cond,
                self.body,
                self.cond_at,
                self.body_at,
                self.n_vars,
                self.maximum,
                which,
                sliced_from=self.sliced_from,
                growing=self.growing,
                measured=measured,
                sliced_lengths=self.sliced_lengths,
            )
        return self._stacking[which, measured]

    def programs(self) -> list:
        return [self.cond, self.body]

    def _loop(
        self,
        values: list,
        caps: list,
        run: Callable,
        stacked: Callable | None = None,
        row: Callable | None = None,
        lengths: Callable | None = None,
    ) -> Any:
        cond_caps = [caps[i] for i in self.cond_at]
        body_caps = [caps[i] for i in self.body_at]
        n = self.n_vars
        entries: list = []
        kept: list = []
        i = 0
        cut = self.sliced_from
        rows = None if cut is None else int(caps[cut].shape[0])

        def more() -> bool:
            if rows is not None:
                return i < rows
            return (self.maximum is None or i < self.maximum) and bool(run(self.cond, values + cond_caps)[0])

        while more():
            if stacked is not None:
                entries.append(values)
            if cut is not None:
                body_caps = [self._sliced(caps, j, i, row) if j >= cut else caps[j] for j in self.body_at]
            out = list(run(self.body, values + body_caps))
            values = out[:n]
            if self.n_kept:
                kept.append(out[n:])
            i += 1
        if stacked is None:
            return _result(values, n)
        result = [stacked(k, [e[k] for e in entries], tuple(values[k].shape)) for k in self.stack]
        result += [lengths([int(e[k].shape[0]) for e in entries]) for k in self.ragged]
        result += [lengths([int(r[j].shape[0]) for r in kept]) for j in self.kept_ragged]
        for j, spec in enumerate(self.kept_specs):
            result.append(
                stacked(n + j, [r[j] for r in kept], tuple(0 if d is None else d for d in spec.shape))
            )
        return tuple(values) + tuple(result)

    def _sliced(self, caps: list, j: int, i: Any, row: Callable) -> Any:
        """Row ``i`` of sliced capture ``j`` of a replayed loop, cut to its row count where padded."""
        got = row(caps[j], i)
        if j not in self.sliced_lengths:
            return got
        length = row(caps[self.sliced_lengths[j]], i)
        if isinstance(got, Tensor):
            return _leading(got, length)
        target = self.body.graph.target
        return _leading(wrap(got, target), wrap(length, target))._data

    def _padded(self, k: int) -> bool:
        """Whether the stack of loop variable ``k`` (kept value ``k - n_vars``) has rows of
        different lengths, padded to the longest."""
        return k in self.ragged if k < self.n_vars else k - self.n_vars in self.kept_ragged

    def _stack_arrays(self, k: int, rows: list, shape: tuple) -> Any:
        """Loop variable ``k``'s entry values (kept value ``k - n_vars``'s values) as one array
        with a leading axis of ``len(rows)``; ``shape`` is a row's when there are none."""
        from gputensor.ops import array_ops

        device = self.body.graph.target
        dtype = (self.specs[k] if k < self.n_vars else self.kept_specs[k - self.n_vars]).dtype
        if not rows:
            return device.backend.from_host(np.zeros((0, *shape), dtype.np_dtype))
        if k >= self.n_vars and self._padded(k):
            rows = [x._data for x in _padded_to_largest([wrap(r, device) for r in rows])]
        elif self._padded(k):  # rows of different lengths: padded with zero rows to the longest
            longest = max(int(r.shape[0]) for r in rows)
            concat = device.kernel(array_ops._CONCAT)
            rows = [
                r
                if r.shape[0] == longest
                else concat(
                    r,
                    device.backend.from_host(np.zeros((longest - r.shape[0], *r.shape[1:]), dtype.np_dtype)),
                    axis=0,
                )
                for r in rows
            ]
        first = tuple(rows[0].shape)
        for i, r in enumerate(rows):
            if tuple(r.shape) != first:
                raise InvalidArgumentError(
                    f"while_loop gradient: loop variable {k} enters iteration 0 with shape {first} but "
                    f"iteration {i} with shape {tuple(r.shape)} (a None dim that changes size); the "
                    "gradient stacks each iteration's values, so they must keep one shape: keep the "
                    "variable's size fixed (pad it to a maximum) inside the loop",
                    "While",
                )
        reshape = device.kernel(array_ops._RESHAPE)
        parts = [reshape(r, shape=(1, *r.shape)) for r in rows]
        return parts[0] if len(parts) == 1 else device.kernel(array_ops._CONCAT)(*parts, axis=0)

    def _stack_tensors(self, k: int, rows: list, shape: tuple) -> Tensor:
        from gputensor.ops import array_ops

        if not rows:
            dtype = (self.specs[k] if k < self.n_vars else self.kept_specs[k - self.n_vars]).dtype
            return array_ops.zeros((0, *shape), dtype)
        if k >= self.n_vars and self._padded(k):
            rows = _padded_to_largest(rows)
        elif self._padded(k):  # rows of different lengths: padded with zero rows to the longest
            longest = max(int(r.shape[0]) for r in rows)
            rows = [
                array_ops.pad(r, [[0, longest - int(r.shape[0])]] + [[0, 0]] * (r.ndim - 1)) for r in rows
            ]
        return array_ops.stack(rows)

    def _lengths_arrays(self, lengths: list) -> Any:
        return self.body.graph.target.backend.from_host(np.asarray(lengths, np.int32))

    @staticmethod
    def _lengths_tensors(lengths: list) -> Tensor:
        return convert_to_tensor(np.asarray(lengths, np.int32))

    def _row_array(self, array: Any, i: int) -> Any:
        from gputensor.ops import array_ops

        target = self.body.graph.target
        return array_ops.gather(wrap(array, target), i)._data

    def run_arrays(self, *arrays: Any) -> Any:
        n = self.n_vars
        return self._loop(
            list(arrays[:n]),
            list(arrays[n:]),
            executor.run_arrays,
            None if self.stack is None else self._stack_arrays,
            self._row_array,
            self._lengths_arrays,
        )

    def run_tensors(self, tensors: list, replaying: bool = False) -> Any:
        n_out = len(self.specs)
        if any(_is_symbol(t) for t in tensors):  # a gradient recomputing a graph holding this node
            node_value = self.pure() if replaying else self
            return _result(_emit("While", node_value, tensors, self.specs), n_out)
        from gputensor.ops import array_ops

        n = self.n_vars
        run = replay if replaying else executor.run_recorded
        return self._loop(
            list(tensors[:n]),
            list(tensors[n:]),
            run,
            None if self.stack is None else self._stack_tensors,
            array_ops.gather,
            self._lengths_tensors,
        )


def _assigned(graph: Graph) -> set[int]:
    return graph.assigned if isinstance(graph, _BranchGraph) else set()


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
    A GradientTape inside the function differentiates through it (the loop variables
    entering each iteration are stacked: O(n) body evaluations and memory for n
    iterations; see the module docstring).

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
    return _while_loop(cond, body, loop_vars, maximum_iterations)


def _while_loop(
    cond: Callable, body: Callable, loop_vars: Any, maximum_iterations: int | None, growing: tuple = ()
) -> Any:
    """`while_loop`, where the flat loop variables at ``growing`` (besides the buffers of
    dynamic_size TensorArrays) may change their leading dim from one iteration to the next (a
    gradient's backward loop carrying such a buffer's gradient): their stacks, if a gradient
    stacks them, are padded."""
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
    if maximum_iterations is not None:
        if isinstance(maximum_iterations, Tensor) and not _is_symbol(maximum_iterations):
            maximum_iterations = int(maximum_iterations)
        try:
            maximum_iterations = operator.index(maximum_iterations)
        except TypeError:
            raise TypeError(
                f"while_loop: maximum_iterations must be a Python int inside gt.function, got "
                f"{type(maximum_iterations).__name__}; bound the loop in cond with a tensor instead"
            ) from None
    from gputensor.graph import tensor_array

    # A TensorArray first written in the body enters with a buffer of the shape written.
    structure = tensor_array.materialize(lambda *a: body(*a), values)
    flat = [convert_to_tensor(v) for v in nest.flatten(structure)]
    flat = [t if t._device is graph.device else wrap(array_on(t, graph.device), graph.device) for t in flat]
    specs = [(tuple(t._data.shape), t.dtype) for t in flat]
    specs = tensor_array.relax_specs(structure, specs)  # a dynamic_size TensorArray may grow

    def unflat(fn: Callable) -> Callable:
        return lambda *args: fn(*nest.pack_sequence_as(structure, list(args)))

    no_hoist: frozenset = frozenset()
    while True:
        cond_b = _Branch(graph, unflat(cond), specs, "while_cond", no_hoist)
        if (
            len(cond_b.outputs) != 1
            or cond_b.outputs[0].shape != ()
            or cond_b.outputs[0].dtype != dtypes.bool_.np_dtype
        ):
            raise InvalidArgumentError("while_loop: cond must return one scalar bool tensor", "while_loop")
        body_b = _Branch(graph, unflat(body), specs, "while_body", no_hoist)
        # A variable the loop writes must be read inside at every iteration, not once before
        # the node: trace again reading those inside (their reads then get no gradient).
        written = _assigned(cond_b.graph) | _assigned(body_b.graph)
        stale = written & (set(cond_b.graph.hoisted) | set(body_b.graph.hoisted))
        if not stale:
            break
        no_hoist = no_hoist | stale
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
    n_user = len(specs)
    if cond_b.graph.iteration is not None or body_b.graph.iteration is not None:
        # A stateful random op inside draws from the iteration number: it becomes a hidden
        # int64 loop variable after the user's, counting from 0 (a gradient stacks it like
        # any loop variable its values depend on, and so recomputes each iteration's draws).
        for b in (cond_b, body_b):
            b.graph.inputs.insert(n_user, b.graph.iteration_number())
        body_g = body_b.graph
        with body_g.building():
            step = wrap(body_g.iteration_number(), body_g.device) + np.int64(1)
        body_b.outputs.append(step._data)
        zero = convert_to_tensor(np.int64(0))
        flat.append(wrap(array_on(zero, graph.device), graph.device))
        specs.append(((), dtypes.int64))
    captures = _outer_captures(cond_b, body_b)
    n = len(specs)
    body_p, which, n_kept = body_b.program if not (written and body_b.graph.hoist) else None, None, 0
    if body_p is None:
        # A gradient may come and the body reads variables the loop writes: the loop itself
        # stacks those reads and the loop variables the gradient reads, per iteration (a
        # second run could not recompute them), as TF's while_v2 accumulates intermediates.
        body_p = body_b.keeping()
        fv = [i for i in range(n) if specs[i][1].kind in "fc"]
        # Nested in a branch or body, it keeps its reads even with no floating loop variables:
        # the enclosing node's gradient replays it, and its (integer) outputs must come out as
        # they did.
        n_kept = len(body_b.kept) if fv or isinstance(graph, _BranchGraph) else 0
        if n_kept:
            which = tuple(sorted(set(fv) | set(_slice_for(body_p, n, fv)[1])))
        else:
            body_b._program = None
            body_p = body_b.program
    value = _While(
        cond_b.program,
        body_p,
        _positions(cond_b.program, captures, n),
        _positions(body_p, captures, n),
        n,
        maximum_iterations,
        which,
        n_kept,
        growing=tuple(sorted({i for i, f in enumerate(tensor_array.growing(structure)) if f} | set(growing))),
    )
    if n_kept and isinstance(graph, _BranchGraph):
        # In a cond or a loop body: the enclosing If outputs its kept stacks (and their row
        # counts, where this loop holds a keeping loop) in turn, the enclosing loop stacks them
        # per its own iterations (padded: the inner trip count may differ from one iteration to
        # the next), and so on outwards.
        value.n_hidden = n_kept + len(value.kept_ragged)
    cap_tensors = [wrap(s, graph.device) for s in captures]
    recorded = [[*flat, *caps] for caps in _known_tensors(captures, cap_tensors)]
    outs = _emit("While", value, [*flat, *cap_tensors], value.specs, recorded)
    outs = nest.pack_sequence_as(structure, outs[:n_user])
    return outs[0] if single else type(loop_vars)(outs)


# ------------------------------------------------------------------- gradients
def _zeros(t: Tensor) -> Tensor:
    from gputensor.ops import array_ops

    return array_ops.zeros_like(t)


def _vjp(fn: Callable, args: list, watch: list, outs_at: list, seeds: list, sources: list) -> list:
    """Gradients of ``fn(*args)``'s outputs ``outs_at`` (seeded with ``seeds``) with respect to
    ``sources``, recomputing ``fn`` under a tape; zeros where unconnected."""
    from gputensor.autodiff.indexed_slices import densify
    from gputensor.autodiff.tape import GradientTape

    with GradientTape(watch_accessed_variables=False) as tape:
        for t in watch:
            tape.watch(t)
        outs = fn(*args)
    grads = tape.gradient(
        [outs[k] for k in outs_at], sources, output_gradients=seeds, unconnected_gradients="zero"
    )
    return [densify(g) for g in grads]


def _variables(program: executor.Program, kind: str, found: dict) -> dict:
    """The variables ``program`` (and the control flow inside it) reads or writes, by uid."""
    for node, *_ in program.steps:
        if node.type == kind:
            found[node.value._unique_id] = node.value
        elif node.type in executor.CONTROL_FLOW:
            for inner in node.value.programs():
                _variables(inner, kind, found)
    return found


def _refuse_written_reads(what: str, programs: list, why: str = "") -> None:
    """A gradient recomputes the node's ops without its variable writes, so a value read from a
    variable the node itself writes cannot be recomputed unless the forward kept it (`_kept`):
    refused rather than wrong where it did not."""
    read: dict = {}
    written: dict = {}
    for p in programs:
        _variables(p, "ReadVariable", read)
        _variables(p, "AssignVariable", written)
    both = [read[k].name for k in read if k in written]
    why = why or " (it was traced without a GradientTape recording, so it kept no values for a gradient)"
    if any(getattr(read[k], "_generator_state", False) for k in read if k in written):
        # A Generator's draw reads and advances its state: say so, the name alone ("StateVar") would not.
        why += (
            "; a gt.random.Generator's state is such a variable: draw in the enclosing loop's body "
            "instead, or pass seeds from generator.make_seeds() drawn outside to gt.random.stateless_* ops"
        )
    if both:
        raise UnimplementedError(
            f"{what}: cannot differentiate through a {what} that writes variable(s) {both} and reads them "
            f"again inside{why}; "
            f"carry the value as a loop variable or branch output instead, or move the write out of the {what}",
            what,
        )


def _if_grad(inputs: tuple, attrs: dict, outputs: tuple, *grads: Any) -> list:
    """The gradient of an If node: an If on the same ``pred`` whose branches differentiate the
    branches, replayed from their programs (`freeze`: no writes or prints, the values the
    forward kept given back in place of re-reading variables). A kept value's gradient goes
    to the node's input recorded for it (`_emit`: a read of its variable)."""
    from gputensor.autodiff.registry import skip_input

    value: _If = attrs["cf"]
    nh = value.n_hidden
    pred = inputs[0]
    n_caps = len(inputs) - 1 - nh
    frozen = value.frozen(n_caps)  # refuses values it cannot recompute that were not kept
    # The frozen node's inputs after pred: the captures, then the kept values (the node's outputs).
    ext = [*inputs[1 : 1 + n_caps], *outputs[len(outputs) - nh :]]
    recorded = list(inputs[1:])  # a kept value's gradient goes to its variable's stand-in read
    want = [i for i, c in enumerate(ext) if _floating(c) and _floating(recorded[i]) and not skip_input(i + 1)]
    outs_at = [k for k in range(value.n_out) if _floating(outputs[k])]
    result: list = [None] * len(inputs)
    for j in range(nh):  # a gradient reaching a kept output (a higher order) goes to its variable
        g = grads[value.n_out + j]
        if g is not None and _floating(recorded[n_caps + j]):
            result[1 + n_caps + j] = g
    if not want or not outs_at:
        return _summed_to_variables(result, 1 + n_caps, value)
    seeds = [grads[k] if grads[k] is not None else _zeros(outputs[k]) for k in outs_at]

    def branch_grad(program: executor.Program, at: list) -> Callable:
        def gradient_branch() -> list:
            args = [ext[i] for i in at]
            mine = [i for i in want if i in at]
            got = _vjp(
                lambda *a: replay(program, list(a)),
                args,
                [ext[i] for i in mine],
                outs_at,
                seeds,
                [ext[i] for i in mine],
            )
            by_input = dict(zip(mine, got))
            return [by_input[i] if i in by_input else _zeros(ext[i]) for i in want]

        return gradient_branch

    got = cond(pred, branch_grad(frozen.true, frozen.true_at), branch_grad(frozen.false, frozen.false_at))
    for i, g in zip(want, got):
        old = result[i + 1]
        result[i + 1] = g if old is None else old + g
    return _summed_to_variables(result, 1 + n_caps, value)


def _summed_to_variables(result: list, at: int, value: _If) -> list:
    """A kept value stacked per iteration (a keeping loop's in a branch) has its gradient summed
    over the iterations for its variable's input (``result[at:]``)."""
    from gputensor.ops import math_ops

    for j, var in enumerate(value.kept_variables()):
        g = result[at + j]
        if g is None or var is None:  # no gradient, or a nested loop's row counts
            continue
        lead = len(value.hidden_specs[j].shape) - len(var.shape)
        if lead > 0:
            result[at + j] = math_ops.reduce_sum(g, axis=tuple(range(lead)))
    return result


def _while_grad(inputs: tuple, attrs: dict, outputs: tuple, *grads: Any) -> list:
    """The gradient of a While node: a forward While that stacks the loop variables entering
    each iteration (`_While.stacking`), then a backward While over k = n-1 .. 0 that reads
    iteration k's entry values from the stacks and applies the body's gradient there (the
    body's ops recomputed once, under a tape). O(n) body evaluations and O(n) stacked values
    for n iterations, as TF's while_v2.

    The gradient of a stacking While (second order) is the same backward loop, its own
    stacks as the entry values and the stacks' gradients added to iteration k's.

    A loop that keeps values (``n_kept``: it writes variables and reads them again) stacked
    them itself; iteration k's replay takes row k of each instead of reading the variable,
    and each one's gradients, summed over the iterations, go to the node's input recorded
    for it (`_emit`: a read of its variable)."""
    from gputensor.autodiff.registry import skip_input
    from gputensor.ops import array_ops, math_ops

    value: _While = attrs["cf"]
    n, nk = value.n_vars, value.n_kept
    n_caps = len(inputs) - n - nk
    if nk:
        frozen_body = freeze(value.body, n)  # inputs: loop variables, captures, kept values
    else:
        _refuse_nested_loops(value.programs())
        _refuse_written_reads("while_loop", value.programs())
        value = value.pure()
        frozen_body = value.body
    init, caps, sources_in = list(inputs[:n]), list(inputs[n : n + n_caps]), list(inputs[n + n_caps :])
    fv = [i for i in range(n) if _floating(init[i])]
    want = [j for j, c in enumerate(caps) if _floating(c) and not skip_input(n + j)]
    result: list = [None] * len(inputs)
    kept_stacks = list(outputs[len(outputs) - nk :]) if nk else []
    # A kept value stacked by a loop nested in the body has one row per inner iteration: its
    # stack here is padded to the longest, with its row counts per iteration before the stacks.
    n_kr = len(value.kept_ragged) if nk else 0
    kept_lengths = dict(zip(value.kept_ragged, outputs[len(outputs) - nk - n_kr : len(outputs) - nk]))
    # Per kept value, the axes its values have before its variable's (a nested loop's rows):
    # its gradient is summed over them (each inner iteration's read) for the variable.
    kept_lead = [
        0 if var is None else len(value.kept_specs[j].shape) - len(var.shape)
        for j, var in enumerate(value.kept_variables())
    ]
    wk = [
        j
        for j in range(nk)
        if _floating(kept_stacks[j]) and _floating(sources_in[j]) and not skip_input(n + n_caps + j)
    ]
    for j in wk:  # a gradient reaching a kept stack (a higher order) goes to its variable
        g = grads[len(outputs) - nk + j]
        if g is not None:
            result[n + n_caps + j] = math_ops.reduce_sum(g, axis=tuple(range(1 + kept_lead[j])))
    if not fv:
        return result
    seeds = [grads[i] if grads[i] is not None else _zeros(outputs[i]) for i in fv]
    # The body's ops the floating outputs need, and the loop variables they read: only those
    # (and the floating ones, whose gradients are carried) are stacked. A counter or a list of
    # indices growing along a None dim that the gradient does not read is left out.
    body, read = _slice_for(frozen_body, n, fv)
    if value.stack is None:
        which = tuple(sorted(set(fv) | set(read)))
        # A growing array the gradient needs only the shape of (written, not read back): its
        # row counts are stacked, not its values (O(n), not O(n * L)).
        measured = tuple(i for i in which if i in value.growing and not _values_needed(body, i))
        which = tuple(i for i in which if i not in measured)
        stacker = value.stacking(which, measured)
        stacked = run_stacking(stacker, [*init, *caps])[n:]
        ragged = stacker.ragged
        stack_grads: list = [None] * len(fv)
    else:  # the loop stacked itself (kept values, or a gradient's stacking loop: second order)
        which, ragged, measured = value.stack, value.ragged, value.measured
        stacked = outputs[n : n + len(which) + len(ragged)]
        stack_grads = [grads[n + which.index(i)] if i in which else None for i in fv]
    stacks = dict(zip(which, stacked))
    # A growing variable's stack is padded to its longest entry; its lengths say how many
    # rows iteration k's value had.
    lengths = dict(zip(ragged, stacked[len(which) :]))
    count = array_ops.shape(stacked[0])[0]

    def entry(stack: Tensor, i: int, k: Tensor) -> Tensor:
        """Row k of a stack of variable ``i``'s values (cut to its length where it grows)."""
        got = array_ops.gather(stack, k)
        return got if i not in lengths else _leading(got, array_ops.gather(lengths[i], k))

    def zeros_at(i: int, k: Tensor) -> Tensor:
        """Zeros of the shape variable ``i`` (a measured growing array) entered iteration k with."""
        dims = [array_ops.gather(lengths[i], k)] + [
            array_ops.shape(init[i], out_type=dtypes.int32)[j] if d is None else d
            for j, d in enumerate(init[i].shape)
            if j > 0
        ]
        return array_ops.zeros(dims, dtype=init[i].dtype)

    nf, nw = len(fv), len(want)

    cut = value.sliced_from

    def backward(k: Tensor, *rest: Tensor) -> tuple:
        def step(*vals: Tensor) -> list:
            # A replayed keeping loop's kept stacks (captures from ``cut`` on) give row k: gathered
            # under the tape, so their gradients are the rows' (dense: O(n) per iteration).
            body_caps = [
                value._sliced(caps, i, k, array_ops.gather) if cut is not None and i >= cut else caps[i]
                for i in value.body_at
            ]
            return replay(body, [*vals[:n], *body_caps, *vals[n:]])

        g, acc = list(rest[:nf]), list(rest[nf:])
        # The loop variables entering iteration k (None for those the gradient does not read),
        # and the values the loop kept in iteration k.
        at_k = [
            entry(stacks[i], i, k) if i in stacks else zeros_at(i, k) if i in measured else None
            for i in range(n)
        ]
        kept_k = [kept_row(r, j, k) for j, r in enumerate(kept_stacks)]
        sources = [at_k[i] for i in fv] + [caps[j] for j in want] + [kept_k[j] for j in wk]
        got = _vjp(step, at_k + kept_k, sources, list(range(nf)), g, sources)
        g = [d if sg is None else d + entry(sg, i, k) for d, sg, i in zip(got[:nf], stack_grads, fv)]
        got[nf + nw :] = [
            d if not kept_lead[j] else math_ops.reduce_sum(d, axis=tuple(range(kept_lead[j])))
            for j, d in zip(wk, got[nf + nw :])
        ]
        return (k - 1, *g, *[a + b for a, b in zip(acc, got[nf:])])

    def kept_row(stack: Tensor, j: int, k: Tensor) -> Tensor:
        """Iteration k's kept value ``j`` (cut to its inner loop's iteration count where padded)."""
        got = array_ops.gather(stack, k)
        return got if j not in kept_lengths else _leading(got, array_ops.gather(kept_lengths[j], k))

    if cut is not None:  # the loop ran once per row of its kept stacks
        count = array_ops.shape(caps[cut])[0]
    start = (count - 1, *seeds, *[_zeros(caps[j]) for j in want], *[_zeros(sources_in[j]) for j in wk])
    # The gradient of a growing variable shrinks with k: it may change its leading dim too.
    shrinking = tuple(1 + j for j, i in enumerate(fv) if i in value.growing)
    out = _while_loop(lambda k, *rest: k >= 0, backward, start, None, shrinking)
    for i, g in zip(fv, out[1 : 1 + nf]):
        result[i] = g
    for j, g in zip(want, out[1 + nf : 1 + nf + nw]):
        result[n + j] = g
    for j, g in zip(wk, out[1 + nf + nw :]):
        old = result[n + n_caps + j]
        result[n + n_caps + j] = g if old is None else old + g
    return result


# Ops whose gradient reads no values of an input, only shapes (and indices), and whose output
# holds that input's elements unchanged (`_values_needed`); "shape" reads only the shape.
_PASSING = frozenset(
    (
        "identity",
        "reshape",
        "dynamic_reshape",
        "concat",
        "strided_slice",
        "dynamic_strided_slice",
        "transpose",
    )
)


def _values_needed(program: executor.Program, i: int) -> bool:
    """Whether differentiating ``program`` (a body cut by `_slice_for`) reads the values of its
    loop variable ``i``, not only its shape: False when every op that reads them (or elements
    of them passed on unchanged) is one whose gradient needs shapes only (a TensorArray's
    writes: concat, scatter, and reads that only reach the outputs), so the gradient may run
    on zeros of the shape the variable had."""
    tainted = {id(program.graph.inputs[i])}
    for node, *_ in program.steps:
        hit = [id(s) in tainted for s in node.inputs]
        if not any(hit) or node.type == "shape":
            continue
        if (
            node.type in _PASSING
            or (node.type == "gather" and not any(hit[1:]))
            or (
                node.type == "tensor_scatter_nd"
                and node.attrs.get("reduction") in ("update", "add")
                and not hit[1]
            )
        ):
            tainted.update(id(o) for o in node.outputs)
            continue
        return True
    return False


def _padded_to_largest(rows: list) -> list:
    """``rows`` (tensors of one rank) padded with zeros at the end of every dim to the largest
    size each dim has among them: a nested loop's kept stacks, whose leading dim is its trip
    count and whose later dims may be those of loops nested deeper (their counts are kept too)."""
    from gputensor.ops import array_ops

    dims = [max(int(r.shape[d]) for r in rows) for d in range(len(rows[0].shape))]
    return [
        r
        if tuple(int(d) for d in r.shape) == tuple(dims)
        else array_ops.pad(r, [[0, t - int(d)] for d, t in zip(r.shape, dims)])
        for r in rows
    ]


def _leading(t: Tensor, length: Tensor) -> Tensor:
    """The first ``length`` (an int scalar tensor) rows of ``t``: a gather of 0 .. length-1 (the
    slicing ops take their bounds as attrs, known when traced)."""
    from gputensor.ops import array_ops, math_ops

    rows = math_ops.cumsum(array_ops.ones([length], dtype=dtypes.int32), exclusive=True)
    return array_ops.gather(t, rows)


def _slice_for(program: executor.Program, n: int, keep: list) -> tuple:
    """``program`` cut down to the nodes its outputs ``keep`` depend on (its placeholders all
    kept), and which of its first ``n`` inputs (the loop variables) those nodes read."""
    needed = {id(program.output_symbols[i]) for i in keep}
    kept = []
    for node, *_ in reversed(program.steps):
        if node.type == "Placeholder":
            kept.append(node)
        elif any(id(o) in needed for o in node.outputs):
            kept.append(node)
            needed.update(id(s) for s in node.inputs)
    kept.reverse()
    outputs = [program.output_symbols[i] for i in keep]
    read = [i for i, sym in enumerate(program.graph.inputs[:n]) if id(sym) in needed]
    return executor.Program(program.graph, kept, outputs, fuse=False), read


def run_stacking(value: _While, tensors: list) -> list:
    """Adds a stacking While node (``value``) on ``tensors`` to the graph being built, recorded
    on the active tapes (a higher-order gradient differentiates it); its output tensors."""
    return _emit("While", value, tensors, value.specs)


IF_OP.grad = _if_grad
WHILE_OP.grad = _while_grad
