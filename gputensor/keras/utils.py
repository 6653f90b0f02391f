"""``gt.keras.utils``: the NumPy helpers of ``keras.utils`` that guides use."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["to_categorical"]


def to_categorical(x: Any, num_classes: int | None = None) -> np.ndarray:
    """One-hot encodes integer class labels, as ``keras.utils.to_categorical``.

    A trailing axis of size 1 is dropped first (labels of shape ``(n, 1)`` give ``(n,
    num_classes)``).

    Args:
      x: integer labels (array-like), from 0 to ``num_classes - 1``.
      num_classes: the number of classes; default ``max(x) + 1``.

    Returns:
      A float32 NumPy array of shape ``x.shape + (num_classes,)``.

    Raises:
      ValueError: for non-integer labels or labels outside ``[0, num_classes)``.

    >>> to_categorical([0, 2], 3)
    array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
    """
    x = np.asarray(x)
    if x.dtype.kind == "f" and np.any(x != np.round(x)):
        raise ValueError(f"to_categorical: labels must be integers, got values such as {x.ravel()[:3]}")
    x = x.astype("int64")
    if x.ndim > 1 and x.shape[-1] == 1:
        x = x.reshape(x.shape[:-1])
    if num_classes is None:
        num_classes = int(x.max()) + 1 if x.size else 0
    if x.size and (x.min() < 0 or x.max() >= num_classes):
        raise ValueError(
            f"to_categorical: labels must lie in [0, {num_classes}), got min {x.min()} and max {x.max()}"
        )
    out = np.zeros((x.size, num_classes), dtype="float32")
    out[np.arange(x.size), x.ravel()] = 1.0
    return out.reshape(*x.shape, num_classes)
