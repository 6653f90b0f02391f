"""Per-thread execution state: device scope, name scope, tidy scopes, active tapes.

Eager dispatch reads this state on every op, so it is a handful of plain
attributes on one thread-local object.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any


class _State(threading.local):
    """Thread-local state. ``fast`` is True while no device scope, tape or tidy is
    active, so the eager hot path reads one attribute instead of three; under a device
    scope alone, ``fast_device`` names the scope's device."""

    def __init__(self) -> None:
        self._device = None  # Device forced by `with gt.device(...)`, else None
        self._tapes: tuple = ()  # active GradientTapes, innermost last
        self._tidy = None  # list of tensors made inside the innermost gt.tidy, else None
        self.fast = True
        self.fast_device = None  # the `gt.device` scope's device while no tape or tidy is active
        self.name_scope = ""  # "outer/inner/" or ""
        self.graph = None  # the FuncGraph being traced, else None

    def _refresh(self) -> None:
        plain = not self._tapes and self._tidy is None
        self.fast = plain and self._device is None
        # Ops on tensors already on the scope's device may take the hot path too.
        self.fast_device = self._device if plain else None

    @property
    def device(self):
        return self._device

    @device.setter
    def device(self, value) -> None:
        self._device = value
        self._refresh()

    @property
    def tapes(self) -> tuple:
        return self._tapes

    @tapes.setter
    def tapes(self, value: tuple) -> None:
        self._tapes = tuple(value)
        self._refresh()

    @property
    def tidy(self):
        return self._tidy

    @tidy.setter
    def tidy(self, value) -> None:
        self._tidy = value
        self._refresh()


state = _State()

# Installed by gputensor.autodiff: called as recorder(op, inputs, attrs, outputs)
# after each op that ran while a tape was active.
recorder: Callable[..., None] | None = None


@contextlib.contextmanager
def name_scope(name: str | None) -> Iterator[str]:
    """Opens a name scope; names of variables made inside get ``name/`` prefixed.

    Args:
      name: the scope name. A name ending in "/" replaces the current scope.

    Yields:
      The full scope string, ending in "/".
    """
    old = state.name_scope
    if name is None or name == "":
        new = old
    elif name.endswith("/"):
        new = name
    else:
        new = f"{old}{name}/"
    state.name_scope = new
    try:
        yield new
    finally:
        state.name_scope = old


class NameScope:
    """``gt.name_scope(name)``: a context manager that prefixes names made inside."""

    def __init__(self, name: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"name_scope: name must be a string, got {type(name).__name__}")
        self._name = name
        self._cm: Any = None

    @property
    def name(self) -> str:
        return self._name

    def __enter__(self) -> str:
        self._cm = name_scope(self._name)
        return self._cm.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._cm.__exit__(*exc)


def current_name_scope() -> str:
    return state.name_scope
