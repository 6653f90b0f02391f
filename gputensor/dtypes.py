"""``gt.dtypes``: the dtype objects and conversions, as ``tf.dtypes``."""

from __future__ import annotations

from gputensor.framework.dtypes import (
    DType,
    as_dtype,
    bfloat16,
    complex64,
    complex128,
    double,
    float16,
    float32,
    float64,
    half,
    int8,
    int16,
    int32,
    int64,
    string,
    uint8,
    uint16,
    uint32,
    uint64,
)
from gputensor.framework.dtypes import bool_ as bool  # noqa: A004
from gputensor.ops.math_ops import cast

__all__ = [
    "DType", "as_dtype", "bfloat16", "bool", "cast", "complex64", "complex128", "double", "float16",
    "float32", "float64", "half", "int8", "int16", "int32", "int64", "string", "uint8", "uint16", "uint32", "uint64",
]  # fmt: skip
