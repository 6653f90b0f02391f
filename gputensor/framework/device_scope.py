"""``gt.device``: places the ops run inside it on one logical device."""

from __future__ import annotations

from typing import Any

from gputensor.backend import registry
from gputensor.errors import NotFoundError
from gputensor.framework.context import state


class device:  # noqa: N801 - TF's public name
    """Context manager placing ops on a device, as ``tf.device``.

    Args:
      device_name: e.g. ``"/GPU:0"``, ``"/CPU:1"``, ``"/device:GPU:0"``, or None
        (no placement: ops follow their inputs, else the default device).

    A device that does not exist is handled as TF's soft device placement does (on by
    default, ``gt.config.set_soft_device_placement``): ops go to device 0 of the same type
    if there is one, else where they would go without the scope (their inputs' device, else
    the default one), so ``with gt.device("GPU:0")`` runs on a CPU-only machine.

    Raises:
      NotFoundError: when the device does not exist and soft placement is off (on
        entering the scope).
      ValueError: when the name cannot be parsed.

    >>> with gt.device("/CPU:0"):
    ...     x = gt.constant(1.0)
    >>> x.device
    '/job:localhost/replica:0/task:0/device:CPU:0'
    """

    def __init__(self, device_name: Any) -> None:
        self._name = device_name
        self._saved: list = []

    def __enter__(self) -> device:
        self._saved.append(state.device)
        state.device = None if self._name is None else _place(self._name)
        return self

    def __exit__(self, *exc: Any) -> None:
        state.device = self._saved.pop()


def _place(name: Any) -> Any:
    """The device a scope named ``name`` places ops on (None: no constraint)."""
    try:
        return registry.lookup(name)
    except NotFoundError:
        if not registry.soft_device_placement:
            raise
    kind = registry.device_type_of(getattr(name, "name", name))
    return next((d for d in registry.devices() if d.device_type == kind), None)
