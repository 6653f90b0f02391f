"""Graph optimisation passes, run once per concrete function before its program is built.

Each pass takes the node list and the output symbols and returns new ones; the traced
`Graph` itself stays as the function made it (``graph.get_operations()`` shows the
user's ops, as TF shows its graphs before Grappler). `optimize` runs them in order:

- `fold_constants`: a node whose inputs are all constants runs now, once, and becomes
  constants (results up to `FOLD_MAX_BYTES`).
- `eliminate_common_subexpressions`: a node of the same type, inputs and attrs as an
  earlier one (or a small constant with the same bytes) is dropped and its outputs
  read the earlier node's.
- `mask_pooled_relu_gradients`: the ReLU mask of a max pool's input gradient moves before
  the pool's routing, onto the kh*kw times smaller pooled gradient (Conv-ReLU-MaxPool nets).
- `pool_before_relu`: ``max_pool(relu(z))`` becomes ``relu(max_pool(z))`` (the ReLU then runs
  on the pooled array), its masked gradient routing by z's maxima instead of relu(z)'s.
- `eliminate_dead_code`: nodes nothing needs (not an output, no side effect) go.

Graphs hold only pure ops besides the variable nodes and stateful random nodes, which carry
their run-time stream in ``node.value`` and are never folded or merged, so the passes never
change what a call computes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gputensor.framework.op_table import attrs_key
from gputensor.graph.graph import Operation, Symbol
from gputensor.ops.random_ops import RandomStream

FOLD_MAX_BYTES = 1 << 20
# Control flow may assign variables or print in its branches: kept, never merged or folded.
_STATEFUL = ("Placeholder", "ReadVariable", "AssignVariable", "Print", "If", "While", "CustomGradient")
_SIDE_EFFECTS = ("Placeholder", "AssignVariable", "Print", "If", "While")


def optimize(operations: list, outputs: list) -> tuple[list, list]:
    """All the passes, in order."""
    operations, outputs = fold_constants(operations, outputs)
    operations, outputs = eliminate_common_subexpressions(operations, outputs)
    operations, outputs = mask_pooled_relu_gradients(operations, outputs)
    operations, outputs = eliminate_dead_code(operations, outputs)
    operations, outputs = pool_before_relu(operations, outputs)
    return eliminate_dead_code(operations, outputs)


def _rewired(node: Operation, inputs: tuple) -> Operation:
    """``node`` reading ``inputs`` instead (a copy: the traced graph keeps the original)."""
    if all(a is b for a, b in zip(inputs, node.inputs)):
        return node
    copy = Operation(node.type, node.name, node.op, inputs, node.attrs)
    copy.outputs, copy.kernel, copy.value = node.outputs, node.kernel, node.value
    return copy


def _const(symbol: Symbol, value: Any) -> Operation:
    node = Operation("Const", f"{symbol.node.name}/folded_{symbol.index}", None, (), {})
    node.outputs = (symbol,)
    node.value = value
    return node


def fold_constants(operations: list, outputs: list) -> tuple[list, list]:
    """Runs the nodes whose inputs are all constants, keeping their results as constants."""
    known: dict[int, Any] = {}  # id(symbol) -> value
    out = []
    for node in operations:
        if node.type == "Const":
            known[id(node.outputs[0])] = node.value
        elif (
            node.op is not None
            and node.inputs
            and not isinstance(node.value, RandomStream)
            and all(id(s) in known for s in node.inputs)
        ):
            result = node.kernel(*[known[id(s)] for s in node.inputs], **node.attrs)
            values = tuple(result) if len(node.outputs) > 1 else (result,)
            if sum(getattr(v, "nbytes", 0) for v in values) <= FOLD_MAX_BYTES:
                for sym, value in zip(node.outputs, values):
                    known[id(sym)] = value
                    out.append(_const(sym, value))
                continue
        out.append(node)
    return out, outputs


def _const_key(value: Any) -> tuple | None:
    """Small host constants (the scalars of ``x * 2.0``) are equal when their bytes are."""
    if isinstance(value, (np.ndarray, np.generic)) and value.nbytes <= 1024:
        return ("Const", value.dtype.str, np.shape(value), np.asarray(value).tobytes())
    return None


def eliminate_common_subexpressions(operations: list, outputs: list) -> tuple[list, list]:
    """Drops nodes that repeat an earlier node; their readers read the earlier one."""
    seen: dict[tuple, Operation] = {}
    same: dict[int, Symbol] = {}  # id(dropped output) -> the output it repeats
    out = []
    for node in operations:
        node = _rewired(node, tuple(same.get(id(s), s) for s in node.inputs))
        if node.type in _STATEFUL or isinstance(node.value, RandomStream):
            out.append(node)
            continue
        if node.type == "Const":
            key = _const_key(node.value)
            if key is None:  # a large or device-resident constant: compared by identity only
                out.append(node)
                continue
        else:
            key = (node.type, tuple(id(s) for s in node.inputs), attrs_key(node.attrs))
        try:
            first = seen.get(key)
        except TypeError:  # an unhashable attr: keep the node
            out.append(node)
            continue
        if first is None:
            seen[key] = node
            out.append(node)
        else:
            for mine, theirs in zip(node.outputs, first.outputs):
                same[id(mine)] = theirs
    return out, [same.get(id(s), s) for s in outputs]


def mask_pooled_relu_gradients(operations: list, outputs: list) -> tuple[list, list]:
    """``relu_grad(max_pool2d_grad(y, p, dp), y)`` becomes ``max_pool2d_grad(y, p, relu_grad(dp, p))``.

    The backward pass of ``max_pool(relu(z))`` masks the pool's full-size input gradient with
    ``y > 0``. A max pool routes each window's gradient to an input equal to the window's
    maximum p, so the mask there is ``p > 0`` (NaN: false either way): applying it to dp before
    the routing gives the same values from kh*kw times fewer elements. Only when the pool's
    gradient has no other reader (it is then dropped as dead code).
    """
    readers: dict[int, int] = {id(s): 1 for s in outputs}
    for node in operations:
        for s in node.inputs:
            readers[id(s)] = readers.get(id(s), 0) + 1
    out = []
    for node in operations:
        routed = node.inputs[0].node if node.type == "relu_grad" else None
        if (
            routed is not None
            and routed.type == "max_pool2d_grad"
            and node.inputs[1] is routed.inputs[0]
            and readers[id(node.inputs[0])] == 1
        ):
            y, p, dp = routed.inputs
            mask = Operation(node.type, f"{node.name}/pooled", node.op, (dp, p), node.attrs)
            mask.kernel = node.kernel
            mask.outputs = (Symbol(dp.shape, dp.dtype, mask, 0),)
            pool_grad = Operation(
                routed.type, f"{routed.name}/masked", routed.op, (y, p, mask.outputs[0]), routed.attrs
            )
            pool_grad.kernel, pool_grad.outputs = routed.kernel, node.outputs
            out += [mask, pool_grad]
        else:
            out.append(node)
    return out, outputs


def pool_before_relu(operations: list, outputs: list) -> tuple[list, list]:
    """``p = max_pool2d(relu(z))`` becomes ``p = relu(max_pool2d(z))``: the same values (a max
    commutes with the monotone ReLU, NaN included), the ReLU on kh*kw times fewer elements.

    Its gradients, ``max_pool2d_grad(relu(z), p, relu_grad(dp, p))`` (after
    `mask_pooled_relu_gradients`), become ``max_pool2d_grad(z, max_pool2d(z), relu_grad(dp, p))``:
    a window whose maximum is positive has its first maximum at the same place in z and relu(z);
    one whose maximum is not positive routes a gradient the mask has zeroed. Only when relu(z) is
    read by nothing else (so it need not exist at all).
    """
    readers: dict[int, list] = {}
    for node in operations:
        for s in node.inputs:
            readers.setdefault(id(s), []).append(node)
    escaping = {id(s) for s in outputs}
    replaced: dict[int, Operation] = {}  # id(old node) -> its replacement
    inserted: dict[int, list] = {}  # id(old pool) -> nodes to run in its place
    for pool in operations:
        relu = pool.inputs[0].node if pool.type == "max_pool2d" else None
        if relu is None or relu.type != "relu" or id(pool.inputs[0]) in escaping:
            continue
        y, p = pool.inputs[0], pool.outputs[0]
        others = [n for n in readers[id(y)] if n is not pool]
        if not all(_masked_pool_grad(n, y, p) for n in others):
            continue
        z = relu.inputs[0]
        pooled = Operation(pool.type, f"{pool.name}/before_relu", pool.op, (z,), pool.attrs)
        pooled.kernel = pool.kernel
        pooled.outputs = (Symbol(p.shape, p.dtype, pooled, 0),)
        after = Operation(relu.type, f"{relu.name}/after_pool", relu.op, (pooled.outputs[0],), relu.attrs)
        after.kernel, after.outputs = relu.kernel, pool.outputs
        inserted[id(pool)] = [pooled, after]
        for grad in others:
            copy = Operation(
                grad.type, grad.name, grad.op, (z, pooled.outputs[0], grad.inputs[2]), grad.attrs
            )
            copy.kernel, copy.outputs = grad.kernel, grad.outputs
            replaced[id(grad)] = copy
    if not inserted:
        return operations, outputs
    out = []
    for node in operations:
        out += inserted.get(id(node), [replaced.get(id(node), node)])
    return out, outputs


def _masked_pool_grad(node: Operation, y: Symbol, p: Symbol) -> bool:
    """Whether ``node`` is ``max_pool2d_grad(y, p, relu_grad(dp, p))``."""
    if node.type != "max_pool2d_grad" or node.inputs[0] is not y or node.inputs[1] is not p:
        return False
    mask = node.inputs[2].node
    return mask.type == "relu_grad" and mask.inputs[1] is p


def eliminate_dead_code(operations: list, outputs: list) -> tuple[list, list]:
    """Drops nodes whose outputs nothing reads; placeholders, variable writes and prints stay."""
    needed = {id(s) for s in outputs}
    kept = []
    for node in reversed(operations):
        if node.type in _SIDE_EFFECTS or any(id(o) in needed for o in node.outputs):
            kept.append(node)
            needed.update(id(s) for s in node.inputs)
    kept.reverse()
    return kept, outputs
