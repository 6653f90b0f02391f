"""Eager memory release as TF.js offers it: ``gt.tidy`` and ``gt.memory``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gputensor.backend import registry
from gputensor.backend.device import all_devices
from gputensor.framework.context import state
from gputensor.framework.tensor import Tensor


def _tensors_in(value: Any, found: set) -> None:
    if isinstance(value, Tensor):
        found.add(id(value))
    elif isinstance(value, dict):
        for v in value.values():
            _tensors_in(v, found)
    elif isinstance(value, (list, tuple, set)):
        for v in value:
            _tensors_in(v, found)
    elif hasattr(value, "_gt_tensor_like"):
        for attr in ("_value", "values", "indices", "dense_shape", "flat_values", "row_splits"):
            inner = getattr(value, attr, None)
            if inner is not None and not callable(inner):
                _tensors_in(inner, found)


def tidy(fn: Callable[[], Any] | str, fn_or_none: Callable[[], Any] | None = None) -> Any:
    """Runs ``fn`` and frees every tensor it made except those it returns, as ``tf.tidy`` in TF.js.

    Args:
      fn: a function of no arguments (``gt.tidy(name, fn)`` is accepted too).

    Returns:
      What ``fn`` returns; the tensors in it (also inside lists, tuples, dicts) stay alive.

    >>> y = gt.tidy(lambda: gt.square(gt.constant([1.0, 2.0])) + 1.0)
    >>> y.numpy()
    array([2., 5.], dtype=float32)
    """
    if isinstance(fn, str):
        fn = fn_or_none
    if not callable(fn):
        raise TypeError("tidy: expected a function of no arguments")
    outer = state.tidy
    made: list[Tensor] = []
    state.tidy = made
    try:
        result = fn()
    finally:
        state.tidy = outer
    if hasattr(result, "__await__"):
        raise TypeError("tidy: fn must not be a coroutine")
    keep: set = set()
    _tensors_in(result, keep)
    for t in made:
        if id(t) in keep:
            if outer is not None:
                outer.append(t)  # the enclosing tidy owns what this one returned
        else:
            t.dispose()
    return result


def memory() -> dict[str, Any]:
    """Counts of live tensors and their bytes, in total and per device (as TF.js ``tf.memory()``).

    Returns:
      ``{"num_tensors", "num_bytes", "devices": {device name: {"num_tensors", "num_bytes",
      "peak_bytes", ...backend pool figures}}}``.
    """
    registered = registry.devices()
    per_device = {}
    total_t = total_b = 0
    for d in all_devices():
        if d.num_tensors == 0 and d not in registered:
            continue
        info = {"num_tensors": d.num_tensors, "num_bytes": d.current_bytes, "peak_bytes": d.peak_bytes}
        info.update(d.backend.memory_info(d.physical_index))
        per_device[d.name if d.name not in per_device else d.short_name] = info
        total_t += d.num_tensors
        total_b += d.current_bytes
    return {"num_tensors": total_t, "num_bytes": total_b, "devices": per_device}
