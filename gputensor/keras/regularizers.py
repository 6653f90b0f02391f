"""``gt.keras.regularizers``: weight penalties added to ``layer.losses``."""

from __future__ import annotations

from typing import Any

import gputensor as gt

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "get", "serialize"]


class Regularizer:
    """Base class: ``reg(weight)`` returns a scalar penalty tensor."""

    def __call__(self, x: Any) -> gt.Tensor:
        raise TypeError(f"{type(self).__name__} must implement __call__(x)")

    def get_config(self) -> dict:
        return {}


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x: Any) -> gt.Tensor:
        total = gt.constant(0.0, dtype=x.dtype)
        if self.l1:
            total = total + self.l1 * gt.reduce_sum(gt.abs(x))
        if self.l2:
            total = total + self.l2 * gt.reduce_sum(gt.square(x))
        return total

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 * sum(|x|)`` (Keras default l1=0.01)."""

    def __init__(self, l1: float = 0.01) -> None:
        super().__init__(l1=l1)

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(x**2)`` (Keras default l2=0.01)."""

    def __init__(self, l2: float = 0.01) -> None:
        super().__init__(l2=l2)

    def get_config(self) -> dict:
        return {"l2": self.l2}


l1 = L1
l2 = L2


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """An ``L1L2`` regularizer with both penalties (Keras defaults 0.01)."""
    return L1L2(l1=l1, l2=l2)


def get(identifier: Any) -> Any:
    """A regularizer from ``"l1"``, ``"l2"``, ``"l1_l2"``, an object or a callable; None stays None.

    Raises:
      ValueError: for an unknown name or a value that is not callable.
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        table = {"l1": L1, "l2": L2, "l1_l2": l1_l2, "L1": L1, "L2": L2, "L1L2": L1L2}
        if identifier not in table:
            raise ValueError(f"Unknown regularizer {identifier!r}; known names: l1, l2, l1_l2")
        return table[identifier]()
    if isinstance(identifier, dict):
        table = {"L1": L1, "L2": L2, "L1L2": L1L2}
        name = identifier.get("class_name")
        if name not in table:
            raise ValueError(f"Unknown regularizer class {name!r}; known: L1, L2, L1L2")
        return table[name](**identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret regularizer identifier {identifier!r}")


def serialize(regularizer: Any) -> Any:
    """``{"class_name": ..., "config": ...}`` for a Regularizer; None stays None."""
    if regularizer is None:
        return None
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}
