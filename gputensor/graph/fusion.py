"""Elementwise fusion: chains of elementwise nodes become one ``Fused`` node.

A group grows along single-reader edges: an elementwise node joins the group of an
input's producer when it is the only reader of that value (so the value never has
to exist as a whole array) and has the group's output shape. Each group of two or
more nodes is replaced by one node whose inputs are the values the group reads from
outside and whose output is its last node's. What "elementwise" means, and how a
group runs, is the target backend's: `FusedChain` describes the group, the backend's
``fusable`` says which nodes may join and its ``fused_kernel`` compiles the chain.

- CPU (backend/cpu/fused.py): the chain's NumPy ufuncs run in place over row blocks
  small enough to stay in cache, one pass over memory for the whole chain.
- CUDA (backend/cuda/families/fused.py): one generated kernel per chain, from the op
  table's CUDA expressions, compiled with NVRTC (or g++ under the CPU harness) and
  cached like every other kernel.

A tape recording around a call (`executor.run_recorded`) runs a fused node's members
one by one through the op table, so gradients see the original ops.
``GPUTENSOR_FUSION=0`` turns the pass off.
"""

from __future__ import annotations

import os
from typing import Any

from gputensor.framework.op_table import execute
from gputensor.graph.graph import Operation, Symbol


class FusedChain:
    """A fused group: external inputs, member nodes in order, and how each reads its operands.

    Attributes:
      inputs: the Symbols the group reads from outside, in first-use order.
      members: the group's nodes (copies of the traced nodes), in execution order.
      operands: per member, one reference per input: ``("x", k)`` for ``inputs[k]``,
        ``("t", j)`` for the output of ``members[j]``.
      shape, dtype: of every member's output (the fused node's output).
    """

    __slots__ = ("inputs", "members", "operands", "shape", "dtype")

    def __init__(self, members: list) -> None:
        self.members = members
        made = {id(m.outputs[0]): j for j, m in enumerate(members)}
        self.inputs: list[Symbol] = []
        where: dict[int, int] = {}
        self.operands = []
        for m in members:
            refs = []
            for s in m.inputs:
                if id(s) in made:
                    refs.append(("t", made[id(s)]))
                else:
                    if id(s) not in where:
                        where[id(s)] = len(self.inputs)
                        self.inputs.append(s)
                    refs.append(("x", where[id(s)]))
            self.operands.append(tuple(refs))
        out = members[-1].outputs[0]
        self.shape, self.dtype = out.shape, out.dtype

    def describe(self) -> str:
        """The members as ``t1 = multiply(t0, x1)`` lines, for the graph dump and errors."""
        lines = []
        for j, (m, refs) in enumerate(zip(self.members, self.operands)):
            args = ", ".join(f"{kind}{i}" for kind, i in refs)
            lines.append(f"t{j} = {m.type}({args})")
        return "; ".join(lines)

    def run_tensors(self, tensors: list, replaying: bool = False) -> Any:
        """The members through the op table, one by one (so that tapes record them; on
        symbolic tensors, into the graph being traced). ``replaying`` (a control-flow
        gradient recomputing a branch) changes nothing: members have no side effects."""
        values: list = []
        for m, refs in zip(self.members, self.operands):
            args = tuple(tensors[i] if kind == "x" else values[i] for kind, i in refs)
            values.append(execute(m.op, args, m.attrs))
        return values[-1]


def enabled() -> bool:
    return os.environ.get("GPUTENSOR_FUSION", "1") != "0"


def fuse_elementwise(operations: list, outputs: list, target: Any) -> tuple[list, list]:
    """Replaces groups of two or more fusable elementwise nodes by ``Fused`` nodes.

    Args:
      operations: the (optimised) node list, in execution order.
      outputs: the symbols the program returns.
      target: the device the program runs on; its backend decides what fuses.

    Returns:
      The new node list and the (unchanged) outputs.
    """
    backend = target.backend
    fusable = getattr(backend, "fusable", None)
    if fusable is None or not enabled():
        return operations, outputs
    readers: dict[int, set] = {}
    for node in operations:
        for s in node.inputs:
            readers.setdefault(id(s), set()).add(id(node))
    escaping = {id(s) for s in outputs}
    position = {id(n): i for i, n in enumerate(operations)}
    group_of: dict[int, list] = {}  # id(node) -> its group (a shared list)
    for node in operations:
        if node.op is None or len(node.outputs) != 1 or not _static(node.outputs[0]):
            continue
        if not fusable(node):
            continue
        group = [node]
        for s in node.inputs:
            producer = group_of.get(id(s.node))
            if (
                producer is not None
                and producer is not group
                and s.node.outputs[0] is s
                and id(s) not in escaping
                and readers[id(s)] == {id(node)}
                and s.shape == node.outputs[0].shape
            ):
                # The producer's group merges into this one; members stay in execution order.
                group = sorted(producer + group, key=lambda n: position[id(n)])
                # Remapped now: another input from the same group must find the merged one.
                for member in group:
                    group_of[id(member)] = group
        group_of[id(node)] = group
    out = []
    for node in operations:
        group = group_of.get(id(node))
        if group is None or len(group) < 2:
            out.append(node)
        elif node is group[-1]:  # the group runs where its last member did
            out.append(_fused_node(FusedChain(group), backend))
    return out, outputs


def _static(symbol: Symbol) -> bool:
    return bool(symbol.shape) and all(d is not None for d in symbol.shape)


def _fused_node(chain: FusedChain, backend: Any) -> Operation:
    last = chain.members[-1]
    node = Operation("Fused", f"{last.name}/fused", None, tuple(chain.inputs), {})
    node.outputs = last.outputs
    node.value = chain
    node.kernel = backend.fused_kernel(chain)
    return node
