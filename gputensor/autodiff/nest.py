"""The small part of ``tf.nest`` the tape needs: flatten and repack lists, tuples, dicts."""

from __future__ import annotations

from typing import Any

# Types that flatten to tensors of their own (gt.TensorArray: its buffer); each has
# ``_gt_components()`` and ``_gt_with_components(components)``.
_composites: tuple = ()


def register_composite(cls: type) -> None:
    """Makes `flatten` see instances of ``cls`` as their ``_gt_components()``."""
    global _composites
    if cls not in _composites:
        _composites = (*_composites, cls)


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(x, "_fields")


def flatten(structure: Any) -> list:
    """Leaves of ``structure`` in TF's order (dict values by sorted key)."""
    if isinstance(structure, dict):
        return [leaf for k in sorted(structure) for leaf in flatten(structure[k])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    if _composites and isinstance(structure, _composites):
        return list(structure._gt_components())
    return [structure]


def pack_sequence_as(structure: Any, leaves: list) -> Any:
    """Rebuilds ``structure`` with ``leaves`` (as returned by `flatten`) in place of its leaves."""
    it = iter(leaves)
    result = _pack(structure, it)
    return result


def _pack(structure: Any, it: Any) -> Any:
    if isinstance(structure, dict):
        packed = {k: _pack(structure[k], it) for k in sorted(structure)}
        return type(structure)((k, packed[k]) for k in structure)
    if _is_namedtuple(structure):
        return type(structure)(*[_pack(s, it) for s in structure])
    if isinstance(structure, (list, tuple)):
        return type(structure)(_pack(s, it) for s in structure)
    if _composites and isinstance(structure, _composites):
        # the count alone: building the components could add ops to the wrong graph
        # (a TensorArray of differing shapes makes its flat form from its list)
        n = (
            structure._n_components()
            if hasattr(structure, "_n_components")
            else len(structure._gt_components())
        )
        return structure._gt_with_components([next(it) for _ in range(n)])
    return next(it)


def is_nested(x: Any) -> bool:
    return isinstance(x, (list, tuple, dict))
