"""Automatic differentiation: ``gt.GradientTape`` and the gradients of every op.

Importing this package installs the tape's hooks into the op dispatcher
(`context.recorder`, `variable.variable_reader`) and registers the gradient of
each op family (``grads/<family>.py``).
"""

from __future__ import annotations

from gputensor.autodiff import registry
from gputensor.autodiff.custom_gradient import custom_gradient, recompute_grad, stop_gradient
from gputensor.autodiff.explain import Explanation, SourceReport, reason_for_variable
from gputensor.autodiff.grads import array, linalg, math, nn  # noqa: F401 - registers gradients
from gputensor.autodiff.indexed_slices import IndexedSlices
from gputensor.autodiff.registry import register_gradient
from gputensor.autodiff.tape import GradientTape, UnconnectedGradients, install

registry.attach()
install()

__all__ = [
    "GradientTape",
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
