"""Automatic differentiation: ``gt.GradientTape``, ``gt.autodiff.ForwardAccumulator``
(forward mode) and the gradients of every op.

Importing this package installs the tape's hooks into the op dispatcher
(`context.recorder`, `variable.variable_reader`) and registers the gradient of
each op family (``grads/<family>.py``, one ``@register_gradient(op name)`` per
differentiable op, written with ops so that nested tapes differentiate them).

Beyond TensorFlow, ``tape.explain(target, sources)`` says why a gradient is None
or zero (an unwatched constant, an integer dtype, ``trainable=False``, a path cut
by ``stop_recording``/``stop_gradient``/a non-differentiable op/``.numpy()``,
naming the op), and `reason_for_variable` gives the reason of the last None
gradient of a variable, for optimizer warnings::

    with gt.GradientTape(persistent=True) as tape:
        y = gt.cast(gt.argmax(x), gt.float32)
    print(tape.explain(y, [x]))
"""

from __future__ import annotations

from gputensor.autodiff import registry
from gputensor.autodiff.custom_gradient import custom_gradient, recompute_grad, stop_gradient
from gputensor.autodiff.explain import Explanation, SourceReport, reason_for_variable
from gputensor.autodiff.forwardprop import ForwardAccumulator
from gputensor.autodiff.grads import array, linalg, math, nn  # noqa: F401 - registers gradients
from gputensor.autodiff.indexed_slices import IndexedSlices
from gputensor.autodiff.registry import register_gradient
from gputensor.autodiff.tape import GradientTape, UnconnectedGradients, install

registry.attach()
install()

__all__ = [
    "GradientTape",
    "ForwardAccumulator",
    "UnconnectedGradients",
    "IndexedSlices",
    "custom_gradient",
    "recompute_grad",
    "stop_gradient",
    "register_gradient",
    "Explanation",
    "SourceReport",
    "reason_for_variable",
]
