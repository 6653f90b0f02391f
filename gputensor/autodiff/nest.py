"""The small part of ``tf.nest`` the tape needs: flatten and repack lists, tuples, dicts."""

from __future__ import annotations

from typing import Any

# Types that flatten to tensors of their own (gt.TensorArray: its buffer); each has
# ``_gt_components()``, ``_n_components()`` (their count, without building them) and
# ``_gt_with_components(components)``.
_composites: tuple = ()
# Those and the types that flatten to their tensors only with ``expand_composites=True``
# (gt.IndexedSlices), as tf.nest: gt.function's arguments and results expand them, the
# tape (whose sources, targets and output gradients may be IndexedSlices) keeps them whole.
_expanded: tuple = ()


def register_composite(cls: type, expand_only: bool = False) -> None:
    """Makes `flatten` see instances of ``cls`` as their ``_gt_components()`` (with
    ``expand_only``: only when called with ``expand_composites=True``)."""
    global _composites, _expanded
    if not expand_only and cls not in _composites:
        _composites = (*_composites, cls)
    if cls not in _expanded:
        _expanded = (*_expanded, cls)


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(x, "_fields")


def flatten(structure: Any, expand_composites: bool = False) -> list:
    """Leaves of ``structure`` in TF's order (dict values by sorted key)."""
    leaves: list = []
    _flatten_into(structure, _expanded if expand_composites else _composites, leaves)
    return leaves


def _flatten_into(structure: Any, kinds: tuple, leaves: list) -> None:
    # Appends to one list (rather than joining a list per level): gt.function flattens its
    # arguments at every call.
    if isinstance(structure, dict):
        for k in sorted(structure):
            _flatten_into(structure[k], kinds, leaves)
    elif isinstance(structure, (list, tuple)):
        for item in structure:
            _flatten_into(item, kinds, leaves)
    elif isinstance(structure, kinds):
        leaves.extend(structure._gt_components())
    else:
        leaves.append(structure)


def pack_sequence_as(structure: Any, leaves: list, expand_composites: bool = False) -> Any:
    """Rebuilds ``structure`` with ``leaves`` (as returned by `flatten`) in place of its leaves."""
    it = iter(leaves)
    result = _pack(structure, it, _expanded if expand_composites else _composites)
    return result


def _pack(structure: Any, it: Any, kinds: tuple) -> Any:
    if isinstance(structure, dict):
        packed = {k: _pack(structure[k], it, kinds) for k in sorted(structure)}
        return type(structure)((k, packed[k]) for k in structure)
    if _is_namedtuple(structure):
        return type(structure)(*[_pack(s, it, kinds) for s in structure])
    if isinstance(structure, (list, tuple)):
        return type(structure)(_pack(s, it, kinds) for s in structure)
    if isinstance(structure, kinds):
        # the count alone: building the components could add ops to the wrong graph
        # (a TensorArray of differing shapes makes its flat form from its list)
        return structure._gt_with_components([next(it) for _ in range(structure._n_components())])
    return next(it)


def is_nested(x: Any) -> bool:
    return isinstance(x, (list, tuple, dict))
