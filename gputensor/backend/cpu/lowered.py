"""CPU kernels for the lowering rules of graph/lowering.py (each does the work of several nodes).

- conv columns: `nn.conv2d_keeping_columns` returns the im2col matrix with the convolution,
  `nn.filter_gradient_from_columns` takes it, so the filter gradient copies no receptive field.
- accumulating GEMM: ``c += alpha * op(a) @ op(b)`` in c's own buffer (`blas.gemm_accumulate`;
  where NumPy's BLAS is not the OpenBLAS blas.py calls, the rule does not apply).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gputensor.backend.cpu import blas, nn

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def conv_columns_apply(dtype: Any) -> bool:
    """Whether convolutions of ``dtype`` share columns (the kernels compute in their own dtype)."""
    return np.dtype(dtype) in _FLOATS


def conv2d_keeping_columns(attrs: dict, bias: bool) -> Callable:
    """``(x, filters[, bias]) -> (y, columns)`` for a conv2d node's attrs."""
    strides, padding, dilations = attrs["strides"], attrs["padding"], attrs["dilations"]
    if bias:
        return lambda x, filters, b: nn.conv2d_keeping_columns(x, filters, strides, padding, dilations, b)
    return lambda x, filters: nn.conv2d_keeping_columns(x, filters, strides, padding, dilations)


def filter_gradient_from_columns(filter_sizes: tuple, ones: bool, bias_gradient: bool) -> Callable:
    """``(x, dy, columns) -> filter gradient`` (and the bias gradient with ``bias_gradient``);
    ``ones``: the columns carry a ones column. x is the traced node's input; the columns hold it."""
    sizes = tuple(filter_sizes)
    if ones and not bias_gradient:
        return lambda x, dy, cols: nn.filter_gradient_from_columns(cols, dy, sizes)[0]
    return lambda x, dy, cols: nn.filter_gradient_from_columns(cols, dy, sizes)


def accumulate_applies(*dtypes: Any) -> bool:
    """Whether BLAS accumulates products of these (variable, a, b[, scale]) dtypes: one float dtype."""
    known = [np.dtype(d) for d in dtypes if d is not None]
    return blas.gemm_function(known[0]) is not None and all(d == known[0] for d in known)


gemm_accumulate = blas.gemm_accumulate
