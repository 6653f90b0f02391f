"""``gt.keras.optimizers``: SGD, Adam, AdamW, RMSprop, Adagrad and learning-rate schedules.

``get("adam")`` resolves a name (or a config dict, or an optimizer) to an optimizer instance,
as ``keras.optimizers.get``.
"""

from __future__ import annotations

from typing import Any

from gputensor.keras.optimizers import schedules
from gputensor.keras.optimizers.adagrad import Adagrad
from gputensor.keras.optimizers.adam import Adam, AdamW
from gputensor.keras.optimizers.base_optimizer import Optimizer
from gputensor.keras.optimizers.loss_scale_optimizer import LossScaleOptimizer
from gputensor.keras.optimizers.rmsprop import RMSprop
from gputensor.keras.optimizers.sgd import SGD

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "LossScaleOptimizer",
    "schedules",
    "get",
    "serialize",
    "deserialize",
]

_OPTIMIZERS = {cls.__name__.lower(): cls for cls in (SGD, Adam, AdamW, RMSprop, Adagrad)}


def serialize(optimizer: Optimizer) -> dict:
    """``{"class_name": ..., "config": ...}`` for an optimizer, as Keras."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizers.serialize: expected an Optimizer, got {type(optimizer).__name__}")
    from gputensor.keras.serialization import serialize_object

    return serialize_object(optimizer, "keras.optimizers")


def deserialize(config: dict, custom_objects: dict | None = None) -> Optimizer:
    """Creates an optimizer from ``serialize``'s dict (class names match case-insensitively)."""
    known = dict(_OPTIMIZERS)
    known["lossscaleoptimizer"] = LossScaleOptimizer  # needs its inner optimizer: not in get()
    known.update({k.lower(): v for k, v in (custom_objects or {}).items()})
    name = str(config.get("class_name", "")).lower()
    if name not in known:
        raise ValueError(
            f"optimizers.deserialize: unknown optimizer {config.get('class_name')!r}; known: {sorted(known)}"
        )
    return known[name].from_config(config.get("config", {}), custom_objects)


def get(identifier: Any) -> Optimizer:
    """An optimizer from a name (``"adam"``, ``"SGD"``), a config dict or an optimizer.

    A name gives a new optimizer with the default arguments.

    Raises:
      ValueError: the name or config is unknown or the identifier has another type.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _OPTIMIZERS.get(identifier.lower())
        if cls is None:
            raise ValueError(
                f"optimizers.get: unknown optimizer {identifier!r}; known: {sorted(_OPTIMIZERS)}"
            )
        return cls()
    raise ValueError(
        f"optimizers.get: could not interpret optimizer identifier {identifier!r} "
        "(pass a name such as 'adam', a config dict or an Optimizer)"
    )
