"""``gt.IndexedSlices``: a sparse gradient (rows ``indices`` of a dense tensor), as TF's."""

from __future__ import annotations

from typing import Any

import numpy as np

from gputensor.autodiff import nest
from gputensor.framework import dtypes
from gputensor.framework.tensor import (
    Tensor,
    TensorShape,
    convert_to_tensor,
    register_tensor_conversion_function,
)


class IndexedSlices:
    """A sparse representation of a tensor: the rows ``indices`` hold ``values``, the rest is zero.

    Gradients of ``gt.gather`` and ``gt.nn.embedding_lookup`` with respect to the params
    are IndexedSlices, as in TensorFlow. Rows may repeat; their values add up.
    ``gt.convert_to_tensor`` (and any op taking it) turns it into the dense tensor.

    Args:
      values: a Tensor of shape ``[len(indices)] + dense_shape[1:]``.
      indices: a 1-D integer Tensor of row indices.
      dense_shape: the shape of the dense tensor (list, tuple or 1-D int tensor), or None.

    >>> s = gt.IndexedSlices(gt.constant([[1.0, 2.0]]), gt.constant([1]), [3, 2])
    >>> gt.convert_to_tensor(s).numpy()
    array([[0., 0.],
           [1., 2.],
           [0., 0.]], dtype=float32)
    """

    _gt_tensor_like = True
    __array_priority__ = 100

    def __init__(self, values: Any, indices: Any, dense_shape: Any = None) -> None:
        self._values = convert_to_tensor(values)
        self._indices = convert_to_tensor(indices)
        if not self._indices.dtype.is_integer:
            raise TypeError(f"IndexedSlices: indices must be integers, got {self._indices.dtype.name}")
        if dense_shape is None:
            self._shape = None
        else:
            self._shape = tuple(int(d) for d in np.asarray(dense_shape).reshape(-1))

    @property
    def values(self) -> Tensor:
        return self._values

    @property
    def indices(self) -> Tensor:
        return self._indices

    @property
    def dense_shape(self) -> Tensor | None:
        """The dense shape as an int32 tensor (None when unknown)."""
        if self._shape is None:
            return None
        return convert_to_tensor(np.array(self._shape, dtype=np.int32))

    @property
    def dtype(self) -> dtypes.DType:
        return self._values.dtype

    @property
    def shape(self) -> TensorShape:
        if self._shape is None:
            return TensorShape([None] + list(self._values.shape)[1:])
        return TensorShape(self._shape)

    @property
    def device(self) -> str:
        return self._values.device

    def to_dense(self) -> Tensor:
        """The dense tensor: values scattered into zeros at ``indices``, duplicates summed."""
        from gputensor.ops import array_ops

        if self._shape is None:
            raise ValueError(
                "IndexedSlices: cannot convert to a dense tensor without dense_shape; "
                "pass dense_shape when constructing it"
            )
        rows = array_ops.expand_dims(self._indices, -1)
        return array_ops.scatter_nd(rows, self._values, self._shape)

    def numpy(self) -> np.ndarray:
        return self.to_dense().numpy()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self.to_dense().numpy(), dtype=dtype)

    def __neg__(self) -> IndexedSlices:
        return IndexedSlices(-self._values, self._indices, self._shape)

    # ------------------------------------------------------------ composite
    # gt.function's arguments and results travel as their values and indices (nest.flatten
    # with expand_composites=True, as TF's); the dense shape, a Python tuple here, stays in the
    # structure, so a call with another dense shape traces again.
    def _gt_components(self) -> list:
        return [self._values, self._indices]

    def _n_components(self) -> int:
        return 2

    def _gt_with_components(self, components: list) -> IndexedSlices:
        """An IndexedSlices like this one holding ``components`` (from `_gt_components`): a
        graph's results when a call comes back, or None leaves or TensorSpecs in an outline."""
        out = object.__new__(IndexedSlices)
        out._values, out._indices = components
        out._shape = self._shape
        return out

    def __repr__(self) -> str:
        if not isinstance(self._values, Tensor):
            # An outline (nest.pack_sequence_as with None leaves or TensorSpecs), which
            # gt.function compares by repr to tell signatures apart.
            return f"IndexedSlices(values={self._values!r}, indices={self._indices!r}, dense_shape={self._shape})"
        return object.__repr__(self)  # as TF's

    def __str__(self) -> str:
        # As TF's: the parts as their str(), the dense shape as a tensor (left out when unknown).
        shape = "" if self._shape is None else f", dense_shape={self.dense_shape!s}"
        return (
            f"IndexedSlices(indices={self._indices!s}, values={self._values!s}{shape})"  # str(), not format()
        )


def _dense_operator(name: str) -> Any:
    def method(self: IndexedSlices, *args: Any) -> Any:
        return getattr(self.to_dense(), name)(*args)

    method.__name__ = name
    return method


# Arithmetic on a sparse gradient works on its dense value, as TF converts IndexedSlices
# when they meet an op (e.g. ``v.assign_sub(learning_rate * grad)`` in a hand-written SGD).
for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
              "__rtruediv__", "__pow__"):  # fmt: skip
    setattr(IndexedSlices, _name, _dense_operator(_name))


def _to_tensor(value: IndexedSlices, dtype: Any) -> Tensor:
    dense = value.to_dense()
    if dtype is not None and dense.dtype is not dtypes.as_dtype(dtype):
        raise ValueError(
            f"Tensor conversion requested dtype {dtypes.as_dtype(dtype).name} for IndexedSlices "
            f"of dtype {dense.dtype.name}"
        )
    return dense


register_tensor_conversion_function(IndexedSlices, _to_tensor)
nest.register_composite(IndexedSlices, expand_only=True)


def aggregate(a: Any, b: Any) -> Any:
    """Sums two gradients of one tensor; two IndexedSlices stay sparse (rows concatenated)."""
    if isinstance(a, IndexedSlices) and isinstance(b, IndexedSlices):
        from gputensor.ops import array_ops

        return IndexedSlices(
            array_ops.concat([a.values, b.values], 0),
            array_ops.concat([a.indices, b.indices], 0),
            a._shape,
        )
    if isinstance(a, IndexedSlices):
        a = a.to_dense()
    if isinstance(b, IndexedSlices):
        b = b.to_dense()
    return a + b


def densify(g: Any) -> Any:
    return g.to_dense() if isinstance(g, IndexedSlices) else g
