"""Names and configs shared by gt.keras's layers, losses, metrics, initializers and weight files."""

from __future__ import annotations

import re
from typing import Any


def to_snake_case(name: str) -> str:
    """Keras's ``to_snake_case``: ``Conv2DTranspose`` -> ``conv2d_transpose``, ``AUC`` -> ``auc``.

    Keras derives default layer, loss and metric names and the ``.weights.h5`` group keys from it.
    """
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def from_registry(module: str, kind: str, classes: dict, config: dict, custom_objects: dict | None) -> Any:
    """``classes[config["class_name"]].from_config(config["config"])`` (``custom_objects`` adds
    classes), as Keras's ``deserialize`` of ``{"class_name", "config"}`` dicts.

    Raises:
      ValueError: an unknown class name, naming ``module`` and the known names.
    """
    known = dict(classes)
    known.update(custom_objects or {})
    name = config.get("class_name")
    if name not in known:
        raise ValueError(f"{module}.deserialize: unknown {kind} {name!r}; known: {sorted(known)}")
    return known[name].from_config(config.get("config", {}))


def serialize_object(obj: Any, keras_module: str) -> dict:
    """``obj`` (an optimizer, loss, metric or schedule) as Keras 3 serializes objects:
    ``{"module", "class_name", "config", "registered_name"}``. Keras's reader locates a
    built-in class by its public module (``keras.optimizers``), a user class by its own module
    and registered name, so ours give the same entries."""
    cls = type(obj)
    builtin = cls.__module__.startswith("gputensor.keras")
    return {
        "module": keras_module if builtin else cls.__module__,
        "class_name": cls.__name__,
        "config": obj.get_config(),
        "registered_name": None if builtin else cls.__name__,
    }
