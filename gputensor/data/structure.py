"""Nested element structures of ``gt.data``: tuples, namedtuples and dicts of leaves, as ``tf.nest``.

A list is a leaf (TF converts a list to one tensor in ``from_tensor_slices``);
tuples, namedtuples and dicts are structure, flattened with dicts in sorted key
order as ``tf.nest.flatten`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def flatten(structure: Any) -> list:
    """The leaves of ``structure`` in ``tf.nest.flatten`` order."""
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    if isinstance(structure, tuple):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def pack_as(structure: Any, leaves: list) -> Any:
    """Rebuilds ``structure`` with ``leaves`` (in ``flatten`` order) in place of its leaves."""
    return _pack(structure, iter(leaves))


def _pack(structure: Any, it: Any) -> Any:
    if isinstance(structure, dict):
        # Leaves are consumed in sorted-key order; the result keeps the caller's key order.
        packed = {key: _pack(structure[key], it) for key in sorted(structure)}
        return {key: packed[key] for key in structure}
    if _is_namedtuple(structure):
        return type(structure)(*(_pack(item, it) for item in structure))
    if isinstance(structure, tuple):
        return tuple(_pack(item, it) for item in structure)
    return next(it)


def map_structure(fn: Callable, *structures: Any) -> Any:
    """Applies ``fn`` to the matching leaves of ``structures`` (which must share one structure)."""
    first = structures[0]
    leaves = [flatten(s) for s in structures]
    return pack_as(first, [fn(*items) for items in zip(*leaves, strict=True)])


def same_structure(a: Any, b: Any) -> bool:
    """True when ``a`` and ``b`` nest tuples and dicts (with the same keys) the same way."""
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict)
            and isinstance(b, dict)
            and sorted(a) == sorted(b)
            and all(same_structure(a[k], b[k]) for k in a)
        )
    if isinstance(a, tuple) or isinstance(b, tuple):
        return (
            isinstance(a, tuple)
            and isinstance(b, tuple)
            and len(a) == len(b)
            and all(same_structure(x, y) for x, y in zip(a, b, strict=True))
        )
    return True


def describe(structure: Any) -> str:
    """A short text naming the components of ``structure`` (for error messages)."""
    return repr(pack_as(structure, [f"<{i}>" for i in range(len(flatten(structure)))]))


def component_names(structure: Any) -> list[str]:
    """One readable name per leaf: ``"x"``/``"[0]"``/``"['a']"`` paths in flatten order."""
    names: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key in sorted(value):
                walk(value[key], f"{path}[{key!r}]")
        elif isinstance(value, tuple):
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]")
        else:
            names.append(path or "the tensor")

    walk(structure, "")
    return names
