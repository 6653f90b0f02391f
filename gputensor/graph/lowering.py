"""Backend lowering: patterns of traced nodes that the target's backend runs as one call.

After the passes (passes.py) and before elementwise fusion, a top-level function's program
asks its backend for kernels that do the work of several nodes at once. A matched group
becomes one ``Lowered`` node whose ``value`` (`LoweredGroup`) keeps the traced nodes it
replaces: a recording tape runs those one by one through the op table, a saved model stores
them, so the rewrite changes how a call runs (and, where a rule says so, float rounding), never
what it computes or what is saved.

Rules (each asks the backend for its kernel and is skipped when it has none; the CPU
backend has them, backend/cpu/lowered.py):

- `share_conv_columns`: ``conv2d(x, w)`` and ``conv2d_backprop_filter(x, dy)`` with the same
  x and geometry build x's column matrix (im2col) once: the forward keeps it for the
  filter gradient instead of the gradient copying every receptive field again. A bias add
  on the convolution and the bias gradient's sum ride along in the two products (a ones
  column), so float rounding of those values may differ from the eager ops' in the last bit.
- `add_bias_in_products`: ``matmul(a, w) + b`` (b one value per column), and ``relu`` of it,
  is one GEMM with beta = 1 into a buffer that starts as b's rows, the relu in that buffer: a
  dense layer's forward without a pass for the bias or an array for the sum. The bias joins
  the sum where BLAS adds its partial products, so rounding may differ in the last bit.
- `mask_relu_gradients`: ``relu_grad(matmul(a, b), y)`` masks the product in its own buffer.
- `fold_mean_xent`: ``reduce_mean(loss)`` and ``g * backprop`` of one
  ``sparse_softmax_cross_entropy_with_logits`` (a classifier's mean loss and its gradient)
  are one kernel over the logits: no per-row loss vector, no second array for the scaled
  gradient (rounded in another order: the last bit may differ); where nothing reads the
  loss, the kernel makes the scaled gradient alone.
- `accumulate_matmul_updates`: ``v.assign_sub(c * matmul(a, b))`` (or ``assign_add``, with or
  without the scale) is one GEMM with beta = 1 into the variable's buffer: the product is never
  stored and the update costs no pass of its own. ``v.assign_sub(c * reduce_sum(t, axis=0))``
  (a bias's SGD step: the sum over leading axes) is the same GEMM with a row of ones for a.
  The variable's array is updated in place only when nothing else holds it (TF's
  copy-on-write for variables); otherwise into a copy.

``GPUTENSOR_LOWERING=0`` turns lowering off.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from gputensor.framework.op_table import execute
from gputensor.framework.tensor import array_on, host_device, wrap
from gputensor.graph.graph import Operation, Symbol


class LoweredGroup:
    """A ``Lowered`` node's traced nodes (``members``, in execution order) and its outputs.

    The node reads ``inputs`` (what the members read from outside, and any extra value only
    the kernel reads) and makes ``outputs`` (members' outputs read outside, and any extra value
    only other lowered kernels read; run op by op, an extra output is None).
    """

    __slots__ = ("rule", "members", "inputs", "outputs")

    def __init__(self, rule: str, members: list, inputs: tuple, outputs: tuple) -> None:
        self.rule, self.members, self.inputs, self.outputs = rule, members, inputs, outputs

    def describe(self) -> str:
        return f"{self.rule}: " + "; ".join(m.type for m in self.members)

    def run_tensors(self, tensors: list, replaying: bool = False) -> Any:
        """The members through the op table (so that tapes record them); variable reads and
        writes as the executor's recording walk does them, writes left out when ``replaying``."""
        env = {id(s): t for s, t in zip(self.inputs, tensors)}
        for m in self.members:
            args = tuple(env.get(id(s)) for s in m.inputs)
            if m.type == "ReadVariable":
                env[id(m.outputs[0])] = m.value.value()
            elif m.type == "AssignVariable":
                if not replaying:
                    m.value.assign(args[0])
            else:
                result = execute(m.op, args, m.attrs)
                for sym, value in zip(m.outputs, result if len(m.outputs) > 1 else (result,)):
                    env[id(sym)] = value
        values = [env.get(id(s)) for s in self.outputs]
        return values[0] if len(values) == 1 else values


def enabled() -> bool:
    return os.environ.get("GPUTENSOR_LOWERING", "1") != "0"


def lower(operations: list, outputs: list, target: Any) -> tuple[list, list]:
    """Every rule the target's backend has kernels for, in turn."""
    kernels = getattr(target.backend, "lowered_kernels", None)
    if kernels is None or not enabled():
        return operations, outputs
    kernels = kernels()
    operations = share_conv_columns(operations, outputs, kernels)
    operations = add_bias_in_products(operations, outputs, kernels)
    operations = mask_relu_gradients(operations, outputs, kernels)
    operations = fold_mean_xent(operations, outputs, kernels)
    operations = accumulate_matmul_updates(operations, outputs, kernels, target)
    return operations, outputs


def _node(rule: str, members: list, inputs: tuple, outputs: tuple, kernel: Any) -> Operation:
    node = Operation("Lowered", f"{members[-1].name}/{rule}", None, inputs, {})
    node.outputs = outputs
    node.value = LoweredGroup(rule, members, inputs, outputs)
    node.kernel = kernel
    return node


def _rewritten(operations: list, at: dict, dropped: set) -> list:
    """``operations`` with each node whose id is in ``at`` replaced by its lowered node and those
    in ``dropped`` left out (the other members of lowered groups)."""
    if not at:
        return operations
    return [at.get(id(n), n) for n in operations if id(n) not in dropped]


def _producers(operations: list) -> dict[int, Operation]:
    """Per symbol id, the node in ``operations`` making it (a symbol's ``.node`` is the traced
    node; the passes may have put a rewired copy in the list)."""
    return {id(o): n for n in operations for o in n.outputs}


def _transposes(product: Operation) -> tuple[bool, bool]:
    """A matmul node's ``(transpose_a, transpose_b)``."""
    return bool(product.attrs.get("transpose_a", False)), bool(product.attrs.get("transpose_b", False))


def _readers(operations: list, outputs: list) -> dict[int, list]:
    readers: dict[int, list] = {id(s): [None] for s in outputs}  # None: read by the caller
    for node in operations:
        for s in node.inputs:
            readers.setdefault(id(s), []).append(node)
    return readers


# --------------------------------------------------------------- conv columns
_GEOMETRY = ("strides", "padding", "dilations")


def share_conv_columns(operations: list, outputs: list, kernels: Any) -> list:
    """``conv2d(x, w)`` and ``conv2d_backprop_filter(x, dy)`` of the same geometry share x's columns.

    A bias added to the convolution (``conv2d(x, w) + b``, b one value per output channel, the
    sum read by nothing else) joins the product through a ones column of the matrix, and the
    bias gradient (``reduce_sum(dy, axis=(0, 1, 2))``) becomes the filter gradient product's last
    row: neither costs a pass over the activations of its own.
    """
    readers = _readers(operations, outputs)
    convs: dict[tuple, Operation] = {}
    pairs: dict[int, Operation] = {}  # id(filter-gradient node) -> its forward conv
    for node in operations:
        x = node.inputs[0] if node.inputs else None
        if x is None or not kernels.conv_columns_apply(x.dtype):
            continue
        if node.type == "conv2d":
            key = (id(x), tuple(node.inputs[1].shape or ())[:2], *(node.attrs[k] for k in _GEOMETRY))
            convs.setdefault(key, node)
        elif node.type == "conv2d_backprop_filter":
            key = (id(x), tuple(node.attrs["filter_sizes"])[:2], *(node.attrs[k] for k in _GEOMETRY))
            if key in convs and node.attrs["filter_sizes"][2] == (x.shape or (None,))[-1]:
                pairs[id(node)] = convs[key]
    if not pairs:
        return operations
    paired = {id(c): c for c in pairs.values()}
    biases = {k: a for k, c in paired.items() if (a := _bias_add(c, readers)) is not None}
    sums = {}  # id(filter-gradient node) -> the reduce_sum giving its bias gradient
    for node in operations:
        if id(node) in pairs and id(pairs[id(node)]) in biases:
            found = _bias_sum(node.inputs[1], readers)
            if found is not None:
                sums[id(node)] = found
    position = {id(n): i for i, n in enumerate(operations)}
    columns: dict[int, Symbol] = {}  # id(forward conv) -> its columns
    at: dict[int, Operation] = {}  # id(node whose place a lowered node takes) -> it
    dropped: set[int] = set()
    for key, conv in paired.items():
        x, w = conv.inputs
        add = biases.get(key)
        cols = columns[key] = Symbol(None, x.dtype, conv, 1)
        kernel = kernels.conv2d_keeping_columns(conv.attrs, add is not None)
        if add is None:
            low = _node("conv_columns", [conv], (x, w), (conv.outputs[0], cols), kernel)
            at[id(conv)] = low
        else:
            b = add.inputs[1] if add.inputs[0] is conv.outputs[0] else add.inputs[0]
            low = _node("conv_bias_columns", [conv, add], (x, w, b), (add.outputs[0], cols), kernel)
            at[id(add)] = low
            dropped.add(id(conv))
        cols.node = low
    for node in operations:
        if id(node) not in pairs:
            continue
        conv = pairs[id(node)]
        x, dy = node.inputs
        ones = id(conv) in biases
        total = sums.get(id(node))
        kernel = kernels.filter_gradient_from_columns(node.attrs["filter_sizes"], ones, total is not None)
        cols = columns[id(conv)]
        if total is None:
            at[id(node)] = _node("filter_from_columns", [node], (x, dy, cols), node.outputs, kernel)
            continue
        # Where the earlier of the two ran: both read only x, dy and the columns, made before either.
        members = sorted([node, total], key=lambda n: position[id(n)])
        low = _node(
            "filter_bias_from_columns", members, (x, dy, cols), (*node.outputs, *total.outputs), kernel
        )
        at[id(members[0])] = low
        dropped.add(id(members[1]))
    return _rewritten(operations, at, dropped)


def _bias_add(conv: Operation, readers: dict) -> Operation | None:
    """The ``add(conv, b)`` (b: one value per output channel) that alone reads ``conv``'s output."""
    y = conv.outputs[0]
    found = readers.get(id(y), [])
    if len(found) != 1 or found[0] is None or found[0].type != "add":
        return None
    add = found[0]
    if add.inputs[0] is y and add.inputs[1] is y:
        return None
    b = add.inputs[1] if add.inputs[0] is y else add.inputs[0]
    if (
        y.shape is None
        or y.shape[-1] is None
        or b.shape != (y.shape[-1],)
        or b.dtype != y.dtype
        or add.outputs[0].shape != y.shape
    ):
        return None
    return add


def _bias_sum(dy: Symbol, readers: dict) -> Operation | None:
    """A ``reduce_sum(dy, axis=(0, 1, 2))`` (the bias gradient of a conv whose output gradient is dy)."""
    for node in readers.get(id(dy), []):
        if (
            node is not None
            and node.type == "reduce_sum"
            and tuple(node.attrs.get("axis") or ()) == (0, 1, 2)
            and not node.attrs.get("keepdims")
            and node.outputs[0].dtype == dy.dtype
        ):
            return node
    return None


# ------------------------------------------------------------- bias products
_MATMUL_ATTRS = {"transpose_a", "transpose_b"}


def _matrices(*symbols: Symbol) -> bool:
    """Whether every symbol is a matrix of known rank (BLAS takes matrices; batched products stay ops)."""
    return all(s.shape is not None and len(s.shape) == 2 for s in symbols)


def add_bias_in_products(operations: list, outputs: list, kernels: Any) -> list:
    """``matmul(a, w) + b`` (b: one value per column, the product read by nothing else), and a
    ``relu`` that alone reads the sum, become one kernel writing the product onto b's rows."""
    readers = _readers(operations, outputs)
    at: dict[int, Operation] = {}  # id(node whose place a lowered node takes) -> it
    dropped: set[int] = set()
    for node in operations:
        if node.type != "matmul" or set(node.attrs) - _MATMUL_ATTRS or not _matrices(*node.inputs):
            continue
        add = _bias_add(node, readers)
        if add is None:
            continue
        a, w = node.inputs
        b = add.inputs[1] if add.inputs[0] is node.outputs[0] else add.inputs[0]
        if not kernels.accumulate_applies(a.dtype, w.dtype, b.dtype):
            continue
        members = [node, add]
        after = readers.get(id(add.outputs[0]), [])
        if len(after) == 1 and after[0] is not None and after[0].type == "relu":
            members.append(after[0])
        ta, tb = _transposes(node)
        kernel = kernels.product_with_bias(ta, tb, relu=len(members) == 3)
        rule = "bias_product_relu" if len(members) == 3 else "bias_product"
        # In the last member's place: its inputs (a, w, b) are all made by then.
        at[id(members[-1])] = _node(rule, members, (a, w, b), members[-1].outputs, kernel)
        dropped.update(id(m) for m in members[:-1])
    return _rewritten(operations, at, dropped)


def mask_relu_gradients(operations: list, outputs: list, kernels: Any) -> list:
    """``relu_grad(matmul(a, b), y)`` (the product read by nothing else) masks the product in place."""
    readers = _readers(operations, outputs)
    made = _producers(operations)
    at: dict[int, Operation] = {}
    dropped: set[int] = set()
    for node in operations:
        if node.type != "relu_grad":
            continue
        dy, y = node.inputs
        product = made.get(id(dy))
        if (
            product is None
            or product.type != "matmul"
            or set(product.attrs) - _MATMUL_ATTRS
            or not _matrices(*product.inputs, y)
            or readers.get(id(dy)) != [node]
            or not kernels.accumulate_applies(y.dtype, *(s.dtype for s in product.inputs))
        ):
            continue
        ta, tb = _transposes(product)
        kernel = kernels.product_relu_grad(ta, tb)
        at[id(node)] = _node("product_relu_grad", [product, node], (*product.inputs, y), node.outputs, kernel)
        dropped.add(id(product))
    return _rewritten(operations, at, dropped)


def fold_mean_xent(operations: list, outputs: list, kernels: Any) -> list:
    """``sparse_softmax_cross_entropy_with_logits`` whose loss only ``reduce_mean`` reads and whose
    backprop only a multiply by ``g`` (a scalar or one value per row: the mean's gradient) reads
    becomes one kernel making the mean and the scaled backprop."""
    readers = _readers(operations, outputs)
    position = {id(n): i for i, n in enumerate(operations)}
    at: dict[int, Operation] = {}
    dropped: set[int] = set()
    for node in operations:
        if node.type != "sparse_softmax_xent":
            continue
        labels, logits = node.inputs
        loss, backprop = node.outputs
        mean, scaled = readers.get(id(loss), []), readers.get(id(backprop), [])
        if len(mean) > 1 or len(scaled) != 1 or None in mean or scaled[0] is None:
            continue
        mean, scaled = (mean[0] if mean else None), scaled[0]
        if (
            mean is not None
            and (
                mean.type != "reduce_mean"
                or mean.attrs.get("keepdims")
                or mean.attrs.get("axis") not in (None, (0,))
            )
            or scaled.type != "multiply"
            or logits.shape is None
            or len(logits.shape) != 2
            or labels.shape is None
            or len(labels.shape) != 1
            or not kernels.accumulate_applies(logits.dtype)
        ):
            continue
        g = scaled.inputs[0] if scaled.inputs[1] is backprop else scaled.inputs[1]
        if (
            scaled.inputs[0] is scaled.inputs[1]
            or g.dtype != logits.dtype
            or g.shape not in ((), (logits.shape[0], 1))
        ):
            continue
        # The kernel runs where the multiply did (g is made by then); the mean's readers must
        # all come after that.
        here = position[id(scaled)]
        if mean is not None and any(
            r is not None and position[id(r)] < here for r in readers.get(id(mean.outputs[0]), [])
        ):
            continue
        if mean is None:  # only the gradient is used (the loss itself is not returned)
            members, outs, rule = [node, scaled], scaled.outputs, "xent_gradient"
            kernel = kernels.sparse_softmax_xent_gradient
        else:
            members, outs, rule = [node, mean, scaled], (mean.outputs[0], scaled.outputs[0]), "xent_mean"
            kernel = kernels.sparse_softmax_xent_mean
        at[id(scaled)] = _node(rule, members, (labels, logits, g), outs, kernel)
        dropped.update(id(m) for m in members[:-1])
    return _rewritten(operations, at, dropped)


# ------------------------------------------------------------ matmul updates
_exclusive: tuple | None = None


def _references(holder: Any) -> tuple[int, int]:
    """References to ``holder._value`` and to its array (as counted from here)."""
    tensor = holder._value
    return sys.getrefcount(tensor), sys.getrefcount(tensor._data)


def _sole_owner(variable: Any) -> bool:
    """Whether nothing but ``variable`` holds its value's array (no Tensor read from it, no
    view of it, no NumPy array it was made from without a copy): the counts of a fresh
    holder's, measured once through the same code."""
    global _exclusive
    if _exclusive is None:

        class Holder:
            pass

        probe = Holder()
        probe._value = wrap(np.zeros(2, np.float32), host_device())
        _exclusive = _references(probe)
    if _references(variable) != _exclusive:  # counted before any local here holds the array
        return False
    data = variable._value._data
    return type(data) is np.ndarray and data.base is None and data.flags.writeable


def _accumulating_update(
    variable: Any, target: Any, accumulate: Callable, sign: float, scaled: bool
) -> Callable:
    """The ``Lowered`` node's kernel: ``variable += sign * scale * term`` where
    ``accumulate(c, *operands, alpha)`` adds ``alpha * term`` into c (False where it cannot, c
    untouched: then ``term(*operands)`` is computed and added). In place when the variable is
    the sole owner of its array, else into a copy that becomes its value."""

    def update(*operands: Any) -> None:
        if scaled:
            *operands, scale = operands
            alpha = sign * float(scale)
        else:
            alpha = sign
        # No local holds the value before the check: it would count as another owner.
        if variable._value._device is target and _sole_owner(variable):
            if accumulate(variable._value._data, *operands, alpha):
                return
        tensor = variable._value
        current = np.array(array_on(tensor, target), order="C")
        if not accumulate(current, *operands, alpha):
            current = current + alpha * accumulate.term(*operands)
        variable._value = wrap(current, target)

    return update


def _update_term(kernels: Any, made: dict, term: Symbol, only_reader: Callable) -> tuple | None:
    """``(members, operands, scale, accumulate)`` for an update's term ``[c *] matmul(a, b)`` or
    ``[c *] reduce_sum(t, leading axes)``, or None for any other term."""
    scale, product = None, made[id(term)]
    members = []
    if product.type == "multiply":
        first, second = product.inputs
        scale, inner = (first, second) if made[id(second)].type in _TERMS else (second, first)
        if made[id(inner)].type not in _TERMS or scale.shape != () or not only_reader(inner, product):
            return None
        members, product = [made[id(inner)], product], made[id(inner)]
    else:
        members = [product]
    if product.type == "matmul":
        if set(product.attrs) - _MATMUL_ATTRS or not _matrices(*product.inputs, term):
            return None
        ta, tb = _transposes(product)
        accumulate = kernels.product_accumulator(ta, tb)
    elif product.type == "reduce_sum":
        (t,) = product.inputs
        axis = product.attrs.get("axis")
        if t.shape is None or axis is None or product.attrs.get("keepdims"):
            return None
        lead = len(tuple(axis))
        if tuple(axis) != tuple(range(lead)) or not 0 < lead < len(t.shape) or None in t.shape[lead:]:
            return None
        accumulate = kernels.sum_accumulator(lead)
    else:
        return None
    dtypes = [s.dtype for s in product.inputs] + ([scale.dtype] if scale is not None else [])
    if not kernels.accumulate_applies(term.dtype, *dtypes):
        return None
    return members, tuple(product.inputs), scale, accumulate


_TERMS = ("matmul", "reduce_sum")


def accumulate_matmul_updates(operations: list, outputs: list, kernels: Any, target: Any) -> list:
    """``AssignVariable(v, ReadVariable(v) -/+ [c *] matmul(a, b))`` becomes one accumulating GEMM,
    as does the same update with ``reduce_sum(t, axis=(0, ..., k-1))`` for the product."""
    readers = _readers(operations, outputs)
    position = {id(n): i for i, n in enumerate(operations)}
    made = _producers(operations)

    def only_reader(sym: Symbol, node: Operation) -> bool:
        return readers.get(id(sym), []) == [node]

    at: dict[int, Operation] = {}  # id(node whose place a lowered node takes) -> it
    dropped: set[int] = set()
    for assign in operations:
        if assign.type != "AssignVariable":
            continue
        update = made[id(assign.inputs[0])]
        if update.type not in ("subtract", "add") or not only_reader(update.outputs[0], assign):
            continue
        read, term = update.inputs
        if update.type == "add" and made[id(read)].type != "ReadVariable":
            read, term = term, read
        reader = made[id(read)]
        if reader.type != "ReadVariable" or reader.value is not assign.value:
            continue
        if not only_reader(read, update) or not only_reader(term, update):
            continue
        found = _update_term(kernels, made, term, only_reader)
        if found is None or term.shape != read.shape:
            continue
        members, operands, scale, accumulate = found
        # The read moves to the update: no other write of the variable may come between them.
        lo, hi = position[id(reader)], position[id(assign)]
        if any(
            n.type == "AssignVariable" and n.value is assign.value or n.type in ("If", "While")
            for n in operations[lo + 1 : hi]
        ):
            continue
        members = [*members, reader, update, assign]
        if any(id(m) in at or id(m) in dropped for m in members):
            continue
        sign = -1.0 if update.type == "subtract" else 1.0
        kernel = _accumulating_update(assign.value, target, accumulate, sign, scale is not None)
        inputs = operands if scale is None else (*operands, scale)
        dropped.update(id(m) for m in members[:-1])
        rule = "accumulate_product" if members[0].type == "matmul" else "accumulate_sum"
        at[id(assign)] = _node(rule, members, inputs, (), kernel)
    return _rewritten(operations, at, dropped)
