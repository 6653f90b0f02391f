"""Keras 3 masks: the mask a tensor carries, and the layer-call hooks that propagate it.

Keras 3 keeps a tensor's mask in its ``_keras_mask`` attribute. ``gt.Tensor`` has
``__slots__`` (no attribute can be set), so gputensor keeps the masks in a side table
keyed by the tensor's id and dropped with the tensor (a weak reference's callback);
`get_keras_mask`/`set_keras_mask` read and write it, for eager and traced (symbolic)
tensors alike. Symbolic ``KerasTensor``s hold theirs in ``_keras_mask``, as Keras.

`before_call`/`after_call` are the two hooks ``Layer.__call__`` runs (Keras 3's rules):
a layer whose ``call`` takes ``mask`` gets the mask of its (first) input when none is
passed; afterwards a layer that ``supports_masking`` attaches ``compute_mask(inputs,
previous_mask)`` to its outputs, and one that does not drops the mask with a warning.
"""

from __future__ import annotations

import inspect
import warnings
import weakref
from typing import Any

__all__ = ["get_keras_mask", "set_keras_mask", "before_call", "after_call"]

# id(tensor) -> (weak reference to the tensor, its mask)
_TABLE: dict = {}
# type(layer) -> whether its ``call`` names a ``mask`` argument (Keras's _call_has_mask_arg)
_HAS_MASK_ARG: dict = {}


def _is_keras_tensor(x: Any) -> bool:
    return type(x).__name__ == "KerasTensor" and hasattr(x, "_keras_history")


def get_keras_mask(x: Any) -> Any:
    """The mask attached to ``x`` (a boolean tensor), or None."""
    if _is_keras_tensor(x):
        return getattr(x, "_keras_mask", None)
    if not _TABLE:
        return None
    entry = _TABLE.get(id(x))
    if entry is None or entry[0]() is not x:
        return None
    return entry[1]


def set_keras_mask(x: Any, mask: Any) -> None:
    """Attaches ``mask`` to ``x`` (None removes it), as Keras's ``backend.set_keras_mask``."""
    if _is_keras_tensor(x):
        x._keras_mask = mask
        return
    key = id(x)
    if mask is None:
        _TABLE.pop(key, None)
        return
    try:
        ref = weakref.ref(x, lambda _, key=key: _TABLE.pop(key, None))
    except TypeError:  # a Python number or array: nothing to attach to
        return
    _TABLE[key] = (ref, mask)


def _flatten(x: Any) -> list:
    if isinstance(x, dict):
        return [leaf for k in x for leaf in _flatten(x[k])]
    if isinstance(x, (list, tuple)):
        return [leaf for v in x for leaf in _flatten(v)]
    return [x]


def _map(fn: Any, x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _map(fn, v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_map(fn, v) for v in x)
    return fn(x)


def call_has_mask_arg(layer: Any) -> bool:
    """Whether ``layer.call`` names a ``mask`` parameter (``**kwargs`` does not count, as Keras)."""
    cls = type(layer)
    has = _HAS_MASK_ARG.get(cls)
    if has is None:
        try:
            has = "mask" in inspect.signature(layer.call).parameters
        except (TypeError, ValueError):
            has = False
        _HAS_MASK_ARG[cls] = has
    return has


_MAKES_MASKS: dict = {}


def _makes_masks(layer: Any) -> bool:
    # A layer whose class overrides compute_mask (Embedding(mask_zero), Masking) may start a
    # mask where there was none.
    cls = type(layer)
    makes = _MAKES_MASKS.get(cls)
    if makes is None:
        from gputensor.keras.layers.base import Layer

        makes = _MAKES_MASKS[cls] = cls.compute_mask is not Layer.compute_mask
    return makes


def before_call(layer: Any, inputs: Any, kwargs: dict) -> Any:
    """Fills ``kwargs["mask"]`` from ``inputs``' masks when ``layer.call`` takes one and none
    was passed; returns the previous mask (the one passed, else the inputs'), or None."""
    if not _TABLE and kwargs.get("mask") is None:
        return None
    passed = kwargs.get("mask")
    if passed is not None:
        return passed
    previous = _map(get_keras_mask, inputs)
    if all(m is None for m in _flatten(previous)):
        return None
    if call_has_mask_arg(layer):
        kwargs["mask"] = previous
    return previous


def after_call(layer: Any, inputs: Any, outputs: Any, previous: Any) -> None:
    """Attaches ``layer.compute_mask(inputs, previous)`` to outputs without a mask of their
    own when the layer supports masking; warns that a layer that does not drops the mask."""
    if previous is None and not (_makes_masks(layer) and layer.supports_masking):
        return  # no mask came in and the layer makes none (a Lambda without `mask=`): nothing to drop
    if getattr(layer, "_propagates_masks_itself", False):
        return  # a model: its inner layers set its outputs' masks
    if not layer.supports_masking:
        warnings.warn(
            f"Layer '{layer.name}' (of type {type(layer).__name__}) was passed an input with a mask "
            "attached to it. However, this layer does not support masking and will therefore "
            "destroy the mask information. Downstream layers will not see the mask.",
            stacklevel=4,
        )
        return
    flat_out = _flatten(outputs)
    if all(get_keras_mask(t) is not None for t in flat_out):
        return
    masks = layer.compute_mask(inputs, previous)
    if masks is None:
        return
    flat_masks = _flatten(masks) if isinstance(masks, (list, tuple, dict)) else [masks]
    for t, m in zip(flat_out, flat_masks):
        if m is not None and get_keras_mask(t) is None:
            set_keras_mask(t, m)
