"""Gradient registry: ``@register_gradient("op")`` attaches a gradient function to an op.

A gradient function is called as ``grad(op_inputs, attrs, outputs, *output_grads)``
and returns one gradient (or None) per input. It is written with public ops, so a
tape recording the backward pass differentiates it again (higher-order gradients).

During backprop the tape tells a gradient which inputs nobody needs through
`skip_input`, so expensive gradients (matmul, conv) compute only what is used,
as TF's ``op.skip_input_indices``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from gputensor.framework.op_table import OPS

GRADIENTS: dict[str, Callable] = {}
REPLAYABLE: set[str] = set()  # ops whose gradient depends only on shapes, dtypes, devices, attrs


class _Skip(threading.local):
    indices: frozenset = frozenset()


skipping = _Skip()


def register_gradient(op_name: str, replayable: bool = False) -> Callable[[Callable], Callable]:
    """Decorator registering ``fn`` as the gradient of op ``op_name``.

    Args:
      op_name: the name the op was declared under with ``define``.
      replayable: declare that ``fn`` computes only with ops, and that its Python
        logic depends only on the shapes, dtypes, devices and attrs of its
        arguments, never on tensor values read to the host. Backward passes
        through such gradients are cached as plans and replayed
        (gputensor.autodiff.replay); leave it False when in doubt.

    Returns:
      A decorator that stores the function and returns it unchanged.

    Raises:
      KeyError: when the op is registered twice.
    """

    def decorator(fn: Callable) -> Callable:
        if op_name in GRADIENTS:
            raise KeyError(f"register_gradient: {op_name!r} already has a gradient")
        GRADIENTS[op_name] = fn
        if replayable:
            REPLAYABLE.add(op_name)
        op = OPS.get(op_name)
        if op is not None:
            op.grad = fn
            op.replayable = replayable
        return fn

    return decorator


def attach() -> None:
    """Sets ``OpDef.grad`` for ops declared after their gradient was registered."""
    for name, fn in GRADIENTS.items():
        op = OPS.get(name)
        if op is not None and op.grad is None:
            op.grad = fn
            op.replayable = name in REPLAYABLE


def skip_input(i: int) -> bool:
    """True when the running backward pass does not need the gradient of input ``i``."""
    return i in skipping.indices


def run_gradient(fn: Callable, skip: frozenset, inputs: tuple, attrs: dict, outputs: tuple, grads: tuple):
    """Calls gradient ``fn`` with ``skip`` as the unneeded input indices."""
    saved = skipping.indices
    if not saved and not skip:
        return fn(inputs, attrs, outputs, *grads)
    skipping.indices = skip
    try:
        return fn(inputs, attrs, outputs, *grads)
    finally:
        skipping.indices = saved
