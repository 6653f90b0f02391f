"""``gt.TensorSpec``: the shape, dtype and name a tensor argument of a gt.function must have."""

from __future__ import annotations

from typing import Any

from gputensor.framework import dtypes
from gputensor.framework.tensor_shape import TensorShape


class TensorSpec:
    """Describes a tensor, as ``tf.TensorSpec``: a shape (dims may be None), a dtype, a name.

    Args:
      shape: a TensorShape, list or tuple (None for an unknown dim), or None for an
        unknown rank.
      dtype: the dtype; float32 by default.
      name: an optional name for the argument.

    >>> spec = gt.TensorSpec([None, 3], gt.float32)
    >>> spec.is_compatible_with(gt.zeros([2, 3]))
    True
    """

    __slots__ = ("_shape", "_dtype", "_name")

    def __init__(self, shape: Any, dtype: Any = dtypes.float32, name: str | None = None) -> None:
        self._shape = shape if isinstance(shape, TensorShape) else TensorShape(shape)
        self._dtype = dtypes.as_dtype(dtype)
        self._name = name

    @classmethod
    def from_tensor(cls, tensor: Any, name: str | None = None) -> TensorSpec:
        """The spec of a tensor (or variable): its shape and dtype."""
        return cls(tensor.shape, tensor.dtype, name)

    @property
    def shape(self) -> TensorShape:
        return self._shape

    @property
    def dtype(self) -> dtypes.DType:
        return self._dtype

    @property
    def name(self) -> str | None:
        return self._name

    def is_compatible_with(self, other: Any) -> bool:
        """True when ``other`` (a spec, tensor or variable) has a compatible shape and this dtype."""
        return self._dtype == other.dtype and self._shape.is_compatible_with(other.shape)

    def most_specific_common_supertype(self, others: list) -> TensorSpec | None:
        """The narrowest spec every one of ``self`` and ``others`` is compatible with (same dtype), else None."""
        shapes = [self._shape] + [o.shape for o in others]
        if any(o.dtype != self._dtype for o in others):
            return None
        ranks = {s.rank for s in shapes}
        if len(ranks) != 1 or None in ranks:
            return TensorSpec(None, self._dtype)
        dims = [d if all(s[i] == d for s in shapes) else None for i, d in enumerate(self._shape)]
        return TensorSpec(dims, self._dtype)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TensorSpec)
            and self._dtype == other._dtype
            and self._shape.dims == other._shape.dims
            and self._name == other._name
        )

    def __hash__(self) -> int:
        return hash((self._shape, self._dtype, self._name))

    def __repr__(self) -> str:
        return f"TensorSpec(shape={self._shape}, dtype=gt.{self._dtype.name}, name={self._name!r})"
