"""Data types (``gt.float32``, ``gt.as_dtype``), mapped one to one onto NumPy dtypes.

bfloat16 comes from the ``ml_dtypes`` package, loaded the first time a bfloat16
value is made, so ``import gputensor`` stays light.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class DType:
    """A tensor element type, as ``tf.DType``.

    Attributes:
      name: TensorFlow's name for the type (``"float32"``).
      as_numpy_dtype: the NumPy scalar type that holds it.
    """

    __slots__ = ("name", "_np", "kind", "size", "__weakref__")

    def __init__(self, name: str, np_name: str | None, kind: str, size: int) -> None:
        self.name = name
        self._np = np.dtype(np_name) if np_name else None
        # one of: f (float), i (signed), u (unsigned), b (bool), c (complex), s (string)
        self.kind = kind
        self.size = size

    @property
    def as_numpy_dtype(self) -> type:
        return self.np_dtype.type

    @property
    def np_dtype(self) -> np.dtype:
        if self._np is None:  # bfloat16: ml_dtypes is imported on first use only
            try:
                import ml_dtypes
            except ImportError as exc:  # pragma: no cover - depends on the environment
                raise ImportError(
                    "bfloat16 needs the ml_dtypes package: pip install ml_dtypes "
                    "(it comes with gputensor's 'test' and 'cuda' extras)"
                ) from exc
            self._np = np.dtype(ml_dtypes.bfloat16)
            _FROM_NUMPY[self._np] = self
        return self._np

    @property
    def base_dtype(self) -> DType:
        return self

    @property
    def is_floating(self) -> bool:
        return self.kind == "f"

    @property
    def is_integer(self) -> bool:
        return self.kind in "iu"

    @property
    def is_unsigned(self) -> bool:
        return self.kind == "u"

    @property
    def is_complex(self) -> bool:
        return self.kind == "c"

    @property
    def is_bool(self) -> bool:
        return self.kind == "b"

    @property
    def is_string(self) -> bool:
        return self.kind == "s"

    @property
    def is_numeric(self) -> bool:
        return self.kind in "fiuc"

    @property
    def real_dtype(self) -> DType:
        return float32 if self is complex64 else (float64 if self is complex128 else self)

    @property
    def min(self) -> Any:
        if self.kind == "f":
            return float(self._finfo().min)
        if self.kind in "iu":
            return int(np.iinfo(self.np_dtype).min)
        raise TypeError(f"Cannot find minimum value of {self.name}.")

    @property
    def max(self) -> Any:
        if self.kind == "f":
            return float(self._finfo().max)
        if self.kind in "iu":
            return int(np.iinfo(self.np_dtype).max)
        raise TypeError(f"Cannot find maximum value of {self.name}.")

    def _finfo(self):
        if self.name == "bfloat16":
            import ml_dtypes

            return ml_dtypes.finfo(self.np_dtype)
        return np.finfo(self.np_dtype)

    def is_compatible_with(self, other: Any) -> bool:
        return self is as_dtype(other)

    def __repr__(self) -> str:
        return f"gt.{self.name}"

    def __str__(self) -> str:
        return f"<dtype: '{self.name}'>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DType):
            return self is other
        try:
            return self is as_dtype(other)
        except TypeError:
            return False

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(self.name)

    def __reduce__(self):
        return as_dtype, (self.name,)


float16 = DType("float16", "float16", "f", 2)
bfloat16 = DType("bfloat16", None, "f", 2)
float32 = DType("float32", "float32", "f", 4)
float64 = DType("float64", "float64", "f", 8)
int8 = DType("int8", "int8", "i", 1)
int16 = DType("int16", "int16", "i", 2)
int32 = DType("int32", "int32", "i", 4)
int64 = DType("int64", "int64", "i", 8)
uint8 = DType("uint8", "uint8", "u", 1)
uint16 = DType("uint16", "uint16", "u", 2)
uint32 = DType("uint32", "uint32", "u", 4)
uint64 = DType("uint64", "uint64", "u", 8)
bool_ = DType("bool", "bool", "b", 1)
complex64 = DType("complex64", "complex64", "c", 8)
complex128 = DType("complex128", "complex128", "c", 16)
# TF's variable-length byte strings, held as NumPy object arrays of Python ``bytes`` (what TF's
# numpy() returns); string tensors live on the CPU only (docs/strings.md).
string = DType("string", "object", "s", 8)
half = float16
double = float64

ALL = (
    float16, bfloat16, float32, float64, int8, int16, int32, int64,
    uint8, uint16, uint32, uint64, bool_, complex64, complex128, string,
)  # fmt: skip
FLOATS = frozenset((float16, bfloat16, float32, float64))
INTEGERS = frozenset((int8, int16, int32, int64, uint8, uint16, uint32, uint64))
COMPLEX = frozenset((complex64, complex128))
NUMERIC = FLOATS | INTEGERS | COMPLEX
STRING = frozenset((string,))
REAL = FLOATS | INTEGERS

_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update(half=float16, double=float64, float=float32, int=int32)
_FROM_NUMPY: dict[np.dtype, DType] = {d._np: d for d in ALL if d._np is not None}


def from_numpy(np_dtype: np.dtype) -> DType:
    """Returns the DType of a NumPy dtype (the hot path: one dict lookup)."""
    try:
        return _FROM_NUMPY[np_dtype]
    except KeyError:
        if np_dtype.name == "bfloat16":
            _ = bfloat16.np_dtype  # registers it
            return bfloat16
        if np_dtype.kind in "SU":  # NumPy's fixed-width strings are TF strings (as tf.as_dtype)
            return string
        raise TypeError(
            f"NumPy dtype {np_dtype} has no gputensor equivalent; supported: {', '.join(d.name for d in ALL)}"
        ) from None


def as_dtype(type_value: Any) -> DType:
    """Converts a DType, a NumPy dtype or type, or a name to a ``DType``.

    Args:
      type_value: for example ``gt.float32``, ``np.float32``, ``"float32"``.

    Returns:
      The matching ``DType``.

    Raises:
      TypeError: if the value names no supported type.
    """
    if isinstance(type_value, DType):
        return type_value
    if isinstance(type_value, str):
        try:
            return _BY_NAME[type_value]
        except KeyError:
            raise TypeError(f"Cannot convert {type_value!r} to a gputensor DType.") from None
    if type_value is bool:
        return bool_
    if type_value is float:
        return float32
    if type_value is int:
        return int32
    if type_value is complex:
        return complex64
    if type_value is str or type_value is bytes or type_value is object:
        return string
    try:
        return from_numpy(np.dtype(type_value))
    except TypeError:
        raise TypeError(f"Cannot convert {type_value!r} to a gputensor DType.") from None
