"""CPU kernels for the lowering rules of graph/lowering.py (each does the work of several nodes).

- conv columns: `nn.conv2d_keeping_columns` returns the im2col matrix with the convolution,
  `nn.filter_gradient_from_columns` takes it, so the filter gradient copies no receptive field.
- bias products: `product_with_bias` writes ``op(a) @ op(w)`` onto rows of b (GEMM, beta = 1),
  relu in the same buffer; `product_relu_grad` masks a product in its own buffer.
- classifier losses: `sparse_softmax_xent_mean` (nn.py) makes the mean cross-entropy and its
  scaled gradient in one pass.
- accumulating GEMM: ``c += alpha * op(a) @ op(b)`` in c's own buffer (`blas.gemm_accumulate`;
  where NumPy's BLAS is not the OpenBLAS blas.py calls, the rule does not apply), and
  ``c += alpha * sum(t over leading axes)`` as the same GEMM with a row of ones.
"""

from __future__ import annotations

import functools
import math
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


def _op(x: np.ndarray, transpose: bool) -> np.ndarray:
    return x.T if transpose else x


# Below this many multiply-adds NumPy's own calls beat a CBLAS call through ctypes (whose
# argument conversion costs microseconds): the small products go NumPy's way, in place.
_SMALL_PRODUCT = 1 << 20


def _small(a: np.ndarray, b: np.ndarray, transpose_a: bool, transpose_b: bool) -> bool:
    """Whether ``op(a) @ op(b)`` is below `_SMALL_PRODUCT` multiply-adds."""
    return a.size * (b.shape[0] if transpose_b else b.shape[1]) < _SMALL_PRODUCT


def product_with_bias(transpose_a: bool, transpose_b: bool, relu: bool) -> Callable:
    """``(a, w, b) -> op(a) @ op(w) + b`` (then ``relu`` where asked): the product is accumulated
    onto a buffer holding b in every row, so neither the sum nor the relu makes an array."""

    def run(a: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = None
        if not _small(a, w, transpose_a, transpose_b):
            rows = a.shape[1] if transpose_a else a.shape[0]
            columns = w.shape[0] if transpose_b else w.shape[1]
            out = np.empty((rows, columns), b.dtype)
            out[...] = b
            if not blas.gemm_accumulate(out, a, w, transpose_a, transpose_b, 1.0):
                out = None
        if out is None:  # small, or BLAS cannot take it: NumPy's product, the bias added in place
            out = np.matmul(_op(a, transpose_a), _op(w, transpose_b))
            np.add(out, b, out=out)
        if relu:
            np.maximum(out, out.dtype.type(0), out=out)
        return out

    return run


def product_relu_grad(transpose_a: bool, transpose_b: bool) -> Callable:
    """``(a, b, y) -> relu_grad(op(a) @ op(b), y)``: the gradient masked in the product's own buffer."""

    def run(a: np.ndarray, b: np.ndarray, y: np.ndarray) -> np.ndarray:
        out = np.matmul(_op(a, transpose_a), _op(b, transpose_b))
        if out.shape != y.shape:  # y broadcast against the product: not this rule's case
            return np.multiply(out, y > 0, dtype=out.dtype)
        return np.multiply(out, y > 0, out=out)

    return run


sparse_softmax_xent_mean = nn.sparse_softmax_xent_mean


def sparse_softmax_xent_gradient(labels: np.ndarray, logits: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """`sparse_softmax_xent_mean`'s scaled backprop alone (nothing reads the loss)."""
    return nn.sparse_softmax_xent_mean(labels, logits, scale)[1]


def product_accumulator(transpose_a: bool, transpose_b: bool) -> Callable:
    """``(c, a, b, alpha) -> bool``: ``c += alpha * op(a) @ op(b)`` in c's buffer (False, c
    untouched, where BLAS cannot); ``.term(a, b)`` is the product itself."""

    def accumulate(c: np.ndarray, a: np.ndarray, b: np.ndarray, alpha: float) -> bool:
        if _small(a, b, transpose_a, transpose_b) and c.flags.writeable:
            product = np.matmul(_op(a, transpose_a), _op(b, transpose_b))
            np.add(c, np.multiply(product, alpha, out=product), out=c)
            return True
        return blas.gemm_accumulate(c, a, b, transpose_a, transpose_b, alpha)

    accumulate.term = lambda a, b: np.matmul(_op(a, transpose_a), _op(b, transpose_b))
    return accumulate


def sum_accumulator(lead: int) -> Callable:
    """``(c, t, alpha) -> bool``: ``c += alpha * t.sum(axis=(0, ..., lead - 1))`` in c's buffer,
    as ``ones @ t`` with beta = 1 (False, c untouched, where BLAS cannot); ``.term(t)`` the sum."""

    def accumulate(c: np.ndarray, t: np.ndarray, alpha: float) -> bool:
        if t.size < _SMALL_SUM and c.flags.writeable:
            np.add(c, np.multiply(accumulate.term(t), alpha), out=c)
            return True
        if not c.flags.c_contiguous:  # its reshape below would be a copy, not c's buffer
            return False
        rows = math.prod(t.shape[:lead])
        matrix = t.reshape(rows, math.prod(t.shape[lead:]))
        return blas.gemm_accumulate(c.reshape(1, -1), _ones(rows, t.dtype), matrix, False, False, alpha)

    accumulate.term = lambda t: np.add.reduce(t, axis=tuple(range(lead)), dtype=t.dtype)
    return accumulate


_SMALL_SUM = 4096  # as reduction._sum: below it NumPy's add.reduce beats BLAS's ones @ t


@functools.lru_cache(maxsize=32)
def _ones(rows: int, dtype: np.dtype) -> np.ndarray:
    """A (1, rows) row of ones (read-only: shared by every call of one batch size)."""
    ones = np.ones((1, rows), dtype)
    ones.flags.writeable = False
    return ones
