"""``gt.device``: places the ops run inside it on one logical device."""

from __future__ import annotations

from typing import Any

from gputensor.backend import registry
from gputensor.framework.context import state


class device:  # noqa: N801 - TF's public name
    """Context manager placing ops on a device, as ``tf.device``.

    Args:
      device_name: e.g. ``"/GPU:0"``, ``"/CPU:1"``, ``"/device:GPU:0"``, or None
        (no placement: ops follow their inputs, else the default device).

    Raises:
      NotFoundError: when the device does not exist (on entering the scope).

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
        state.device = None if self._name is None else registry.lookup(self._name)
        return self

    def __exit__(self, *exc: Any) -> None:
        state.device = self._saved.pop()
