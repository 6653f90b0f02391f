"""``gt.TensorArray``: a list of same-shaped tensors that can live in graph loops.

A TensorArray is a functional value: its state is one stacked tensor ``[size,
*element_shape]`` (the *buffer*), and ``write`` returns a TensorArray whose buffer has
that row replaced (``tensor_scatter_nd_update``), as TF's TensorList-backed TensorArray
returns a new flow. ``gt.nest`` flattening (``autodiff/nest.py``) sees a TensorArray as its
buffer, so ``gt.while_loop``, AutoGraph's graph loops and ``gt.cond`` carry it as one loop
variable and repack it; gradients flow through the scatter/gather/reshape ops it is made
of, eagerly, inside functions and through loops.

The element shape is fixed at the first write (or by ``element_shape=``). Before that the
array has no buffer: a graph loop whose body makes the first write learns the shape by
tracing the body once into a scratch graph (`materialize`), as AutoGraph does for a
`return` inside a loop, and enters the loop with a buffer of zeros. Unwritten elements
read as zeros (TF eager and TensorList do the same once the element shape is known).

With ``infer_shape=False`` (or after ``split`` into unequal lengths) the elements may differ
in shape, as in TF: they are then a list of tensors, or, as a graph loop variable, a flat
values/shapes pair (``tensor_array_ragged.py``); the dense buffer above is untouched.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from gputensor.autodiff import nest
from gputensor.errors import InvalidArgumentError
from gputensor.framework import dtypes
from gputensor.framework.context import state
from gputensor.framework.tensor import Tensor, convert_to_tensor, traced_value
from gputensor.framework.tensor_shape import TensorShape


def _ops() -> Any:
    from gputensor.ops import array_ops

    return array_ops


def _is_symbolic(t: Any) -> bool:
    return isinstance(t, Tensor) and state.graph is not None and hasattr(t._data, "node")


def _static_int(t: Any) -> int | None:
    """A Python int for ``t`` when it is known now (a number, an eager tensor, a traced
    tensor that folds to a constant), else None."""
    if t is None:
        return None
    if isinstance(t, (int, np.integer)):
        return int(t)
    if isinstance(t, Tensor):
        if _is_symbolic(t):
            v = traced_value(t)
            return None if v is None else int(np.asarray(v).reshape(()))
        return int(t)
    return int(t)


class TensorArray:
    """Class wrapping dynamic-sized, per-time-step, write-once Tensor arrays.

    As ``tf.TensorArray``: ``write``, ``scatter`` and ``unstack`` return a TensorArray
    that holds the new values (use it; eagerly the array is also updated in place, as
    TF's eager TensorArray is), ``read``, ``gather``, ``stack`` and ``concat`` read
    them. It works eagerly, inside ``gt.function`` and as a loop variable of
    ``gt.while_loop`` and of AutoGraph loops (``for i in gt.range(n)``).

    >>> ta = gt.TensorArray(gt.float32, size=3)
    >>> ta = ta.write(0, 10.0).write(1, 20.0).write(2, 30.0)
    >>> ta.stack()
    <gt.Tensor: shape=(3,), dtype=float32, numpy=array([10., 20., 30.], dtype=float32)>

    Elements of differing shapes (``infer_shape=False``):

    >>> ta = gt.TensorArray(gt.float32, size=2, infer_shape=False)
    >>> ta.write(0, [1.0, 2.0]).write(1, [3.0]).concat()
    <gt.Tensor: shape=(3,), dtype=float32, numpy=array([1., 2., 3.], dtype=float32)>

    Args:
      dtype: the dtype of the elements.
      size: the number of elements (a Python int or an int scalar tensor); optional
        when ``dynamic_size=True`` (then it starts at 0).
      dynamic_size: whether writes past the end grow the array.
      clear_after_read: as TF's (eagerly, reading an element twice raises when True,
        the default); ignored in graphs, as in TF2.
      element_shape: the shape of every element (None dims may differ between elements
        when ``infer_shape=False``); otherwise the first write fixes it.
      infer_shape: whether the first write fixes the element shape (the default). With
        False, as in TF, elements may differ in shape: ``read``, ``write``, ``concat``
        (elements agreeing in every dim but the first), ``split`` into unequal lengths and
        ``size`` work eagerly, traced and in graph loops (an RNN writing steps of varying
        length in ``for i in gt.range(n)``), gradients included; ``stack`` and ``gather``
        raise ``InvalidArgumentError`` when the elements they join differ in shape. In a
        graph loop the elements share one rank.
      tensor_array_name, handle, flow, colocate_with_first_write_call, name: accepted
        for TF compatibility and ignored (there is no resource handle or flow here).
    """

    __slots__ = (
        "_dtype",
        "_size",
        "_dynamic_size",
        "_clear_after_read",
        "_element_shape",
        "_buffer",
        "_read",
        "_infer_shape",
        "_ragged",
        "_elems",
        "_flat",
        "_static",
    )

    def __init__(
        self,
        dtype: Any,
        size: Any = None,
        dynamic_size: bool | None = None,
        clear_after_read: bool | None = None,
        tensor_array_name: str | None = None,
        handle: Any = None,
        flow: Any = None,
        infer_shape: bool = True,
        element_shape: Any = None,
        colocate_with_first_write_call: bool = True,
        name: str | None = None,
    ) -> None:
        self._dtype = dtypes.as_dtype(dtype)
        self._dynamic_size = bool(dynamic_size)
        if size is None:
            if not self._dynamic_size:
                raise ValueError(
                    "TensorArray: size must be given unless dynamic_size=True "
                    "(e.g. gt.TensorArray(gt.float32, size=0, dynamic_size=True))"
                )
            size = 0
        if isinstance(size, Tensor):
            if size.ndim != 0 or not size.dtype.is_integer:
                raise InvalidArgumentError(
                    f"TensorArray: size must be an int scalar, got {size.dtype.name}{list(size.shape)}",
                    "TensorArray",
                )
            folded = _static_int(size)
            size = folded if folded is not None else size
        else:
            size = int(size)
        if isinstance(size, int) and size < 0:
            raise InvalidArgumentError(f"TensorArray: size must be >= 0, got {size}", "TensorArray")
        self._size = size
        self._clear_after_read = True if clear_after_read is None else bool(clear_after_read)
        self._element_shape = TensorShape(None) if element_shape is None else TensorShape(element_shape)
        self._buffer: Tensor | None = None
        self._read: set = set()
        self._infer_shape = infer_shape
        # Elements of differing shapes (tensor_array_ragged.py): a list, or the flat form.
        self._ragged = not infer_shape
        self._elems: list | None = None
        self._flat: tuple | None = None
        self._static: TensorShape | None = None  # the written shapes' common static shape
        if self._ragged:
            self._start_ragged()
        elif self._element_shape.is_fully_defined() and not self._dynamic_size:
            self._buffer = self._zeros(size, self._element_shape.as_list())

    # ------------------------------------------------------------ nest protocol
    def _gt_components(self) -> list:
        """The tensors nest flattening sees: the buffer, when there is one (elements of
        differing shapes: their flat form, values and shapes)."""
        if self._ragged:
            return [] if self._ragged_rank() is None else list(self._flat_form())
        return [] if self._buffer is None else [self._buffer]

    def _n_components(self) -> int:
        if self._ragged:
            return 0 if self._ragged_rank() is None else 2
        return 0 if self._buffer is None else 1

    def _pending(self) -> bool:
        """Whether the array has no tensors yet (nothing written, element shape unknown)."""
        return self._n_components() == 0

    def _gt_with_components(self, components: list) -> TensorArray:
        """A TensorArray like this one holding ``components`` (from `_gt_components`)."""
        out = self._copy()
        if self._ragged:
            if components and all(isinstance(c, Tensor) for c in components):
                if hasattr(components[0]._data, "node"):  # a graph's tensor (maybe a placeholder)
                    out._flat, out._elems = tuple(components), None
                else:  # a function's result, back to eager: the list of elements
                    out._elems, out._flat = _ragged().to_list(*components), None
            return out
        if components:
            out._buffer = components[0]
            if isinstance(components[0], Tensor):
                out._size = None  # read from the buffer
        return out

    def _copy(self) -> TensorArray:
        out = object.__new__(TensorArray)
        for k in TensorArray.__slots__:
            setattr(out, k, getattr(self, k))
        out._read = set(self._read)
        if self._elems is not None:
            out._elems = list(self._elems)
        return out

    def _new(self, buffer: Tensor) -> TensorArray:
        """The TensorArray holding ``buffer``: this one, updated, eagerly (TF's eager
        TensorArray is updated in place); a new one while tracing."""
        out = self if state.graph is None else self._copy()
        out._buffer = buffer
        out._size = None
        out._element_shape = TensorShape(list(buffer.shape)[1:])
        return out

    # ------------------------------------------------------------ properties
    @property
    def dtype(self) -> dtypes.DType:
        """The dtype of the elements."""
        return self._dtype

    @property
    def element_shape(self) -> TensorShape:
        """The shape of the elements (unknown before the first write)."""
        return self._element_shape

    @property
    def dynamic_size(self) -> bool:
        """Whether writes past the end grow the array."""
        return self._dynamic_size

    def _length(self) -> Any:
        """The size as a Python int when known, else an int32 scalar tensor."""
        if self._ragged:
            if self._elems is not None:
                return len(self._elems)
            if self._flat is not None:
                shapes = self._flat[1]
                n = shapes.shape[0]
                return int(n) if n is not None else _ops().shape(shapes, out_type=dtypes.int32)[0]
            return self._size
        if self._buffer is None:
            return self._size
        n = self._buffer.shape[0]
        if n is not None:
            return int(n)
        return _ops().shape(self._buffer, out_type=dtypes.int32)[0]

    def size(self, name: str | None = None) -> Tensor:
        """The number of elements, an int32 scalar tensor."""
        if self._ragged:
            return self._ragged_size()
        n = self._length()
        if isinstance(n, Tensor):
            return n if n.dtype is dtypes.int32 else _cast(n, dtypes.int32)
        return convert_to_tensor(n, dtype=dtypes.int32)

    def __repr__(self) -> str:
        n = self._length()
        size = n if isinstance(n, int) else "?"
        return f"<gt.TensorArray dtype={self._dtype.name} size={size} element_shape={self._element_shape}>"

    # ------------------------------------------------------------ helpers
    def _zeros(self, n: Any, shape: list) -> Tensor:
        return _ops().zeros([n, *shape], dtype=self._dtype)

    def _rows(self, value: Any, what: str) -> Tensor:
        """``value`` as a tensor of this dtype with a leading dimension: one row per element."""
        value = self._value(value, what)
        if value.ndim == 0:
            one = "index" if what == "scatter" else "element"
            raise ValueError(f"TensorArray.{what}: value must have a leading dimension (one row per {one})")
        return value

    @staticmethod
    def _scatter_indices(indices: Any) -> Tensor:
        """``indices`` of `scatter` as a tensor: a 1-D int one."""
        idx = convert_to_tensor(indices)
        if not idx.dtype.is_integer or idx.ndim != 1:
            raise InvalidArgumentError(
                f"TensorArray.scatter: indices must be a 1-D int tensor, got {idx.dtype.name}{list(idx.shape)}",
                "TensorArrayScatter",
            )
        return idx

    def _value(self, value: Any, what: str) -> Tensor:
        if isinstance(value, Tensor) or hasattr(value, "value") and hasattr(value, "assign"):
            value = convert_to_tensor(value)
            if value.dtype is not self._dtype:
                raise InvalidArgumentError(
                    f"TensorArray.{what}: TensorArray dtype is {self._dtype.name} but Op is trying to "
                    f"write dtype {value.dtype.name}; gt.cast the value to {self._dtype.name}",
                    f"TensorArray{what.capitalize()}",
                )
            return value
        try:
            return convert_to_tensor(value, dtype=self._dtype)
        except (TypeError, ValueError) as e:
            raise InvalidArgumentError(
                f"TensorArray.{what}: cannot write {value!r} to a TensorArray of dtype {self._dtype.name}: {e}",
                f"TensorArray{what.capitalize()}",
            ) from None

    def _check_shape(self, shape: TensorShape, what: str) -> None:
        if not self._element_shape.is_compatible_with(shape):
            raise ValueError(
                f"TensorArray.{what}: Incompatible shape for value ({shape}), expected "
                f"({self._element_shape}); every element of a TensorArray has one shape"
            )

    def _ensure_buffer(self, element_shape: list) -> Tensor:
        if self._buffer is not None:
            return self._buffer
        if self._size is None:
            raise InvalidArgumentError("TensorArray: the array has no size", "TensorArray")
        return self._zeros(self._size, element_shape)

    def _grow(self, buf: Tensor, n: int) -> Tensor:
        """``buf`` padded with zero rows to ``n`` rows (dynamic_size, an index known now)."""
        have = buf.shape[0]
        if have is None:
            raise InvalidArgumentError(
                "TensorArray: a dynamic_size array whose size is known only at run time cannot grow "
                "inside a gt.function; give it a size (e.g. the loop's trip count)",
                "TensorArrayWrite",
            )
        if n <= have:
            return buf
        pad = self._zeros(n - have, list(buf.shape)[1:])
        return _ops().concat([buf, pad], axis=0)

    def _grow_to_index(self, buf: Tensor, index: Any) -> Tensor:
        """``buf`` padded with zero rows up to ``index + 1`` rows, decided at run time (a
        dynamic_size array written at a traced index: its leading dim becomes None)."""
        from gputensor.ops.math_ops import cast, maximum

        ops = _ops()
        have = ops.shape(buf, out_type=dtypes.int32)[0]
        i = (
            cast(index, dtypes.int32)
            if isinstance(index, Tensor)
            else convert_to_tensor(index, dtype=dtypes.int32)
        )
        need = maximum(have, i + 1)
        pad = ops.zeros(
            ops.concat([ops.reshape(need - have, [1]), list(buf.shape)[1:]], 0), dtype=self._dtype
        )
        return ops.concat([buf, pad], axis=0)

    def _index(self, index: Any, what: str) -> Any:
        """``index`` as a Python int when known now (checked against the size), else a tensor."""
        if isinstance(index, Tensor) and _is_symbolic(index):
            i = _static_int(index)  # a traced index that folds to a constant counts as known
        else:
            i = operator.index(index) if not isinstance(index, Tensor) else int(index)
        if i is None:
            t = convert_to_tensor(index)
            if t.ndim != 0 or not t.dtype.is_integer:
                raise InvalidArgumentError(
                    f"TensorArray.{what}: index must be an int scalar, got {t.dtype.name}{list(t.shape)}",
                    f"TensorArray{what.capitalize()}",
                )
            return t
        if i < 0:
            raise InvalidArgumentError(
                f"TensorArray.{what}: index {i} is negative", f"TensorArray{what.capitalize()}"
            )
        n = self._length()
        if isinstance(n, int) and i >= n and not (self._dynamic_size and what == "write"):
            if what == "write":
                msg = f"Tried to write to index {i} but array is not resizeable and size is: {n}"
            else:
                msg = f"Tried to read from index {i} but array size is: {n}"
            raise InvalidArgumentError(f"TensorArray.{what}: {msg}", f"TensorArray{what.capitalize()}")
        return i

    # ------------------------------------------------------------ writing
    def write(self, index: Any, value: Any, name: str | None = None) -> TensorArray:
        """Writes ``value`` at ``index``; returns the TensorArray holding it (use it).

        Raises:
          InvalidArgumentError: a value of another dtype, or an index out of range of a
            fixed-size array.
          ValueError: a value whose shape differs from the element shape.
        """
        if self._ragged:
            return self._ragged_write(index, value)
        value = self._value(value, "write")
        self._check_shape(value.shape, "write")
        i = self._index(index, "write")
        buf = self._ensure_buffer(list(value.shape))
        ops = _ops()
        # A size known only at run time (a loop variable) grows at run time, at any index.
        at_run_time = self._dynamic_size and (not isinstance(i, int) or buf.shape[0] is None)
        if at_run_time:
            buf = self._grow_to_index(buf, i)
        if isinstance(i, int):
            if self._dynamic_size and not at_run_time:
                buf = self._grow(buf, i + 1)
            row = convert_to_tensor([[i]], dtype=dtypes.int32)
        else:
            row = ops.reshape(i, [1, 1])
        out = self._new(ops.tensor_scatter_nd_update(buf, row, ops.expand_dims(value, 0)))
        if isinstance(i, int):
            out._read.discard(i)  # a written element may be read again
        return out

    def scatter(self, indices: Any, value: Any, name: str | None = None) -> TensorArray:
        """Writes ``value[k]`` at ``indices[k]``; returns the TensorArray holding them."""
        if self._ragged:
            return self._ragged_scatter(indices, value)
        value = self._rows(value, "scatter")
        self._check_shape(TensorShape(list(value.shape)[1:]), "scatter")
        ops = _ops()
        idx = self._scatter_indices(indices)
        buf = self._ensure_buffer(list(value.shape)[1:])
        if not _is_symbolic(idx):
            host = np.asarray(idx).reshape(-1)
            if host.size and host.min() < 0:
                raise InvalidArgumentError("TensorArray.scatter: negative index", "TensorArrayScatter")
            n = self._length()
            top = int(host.max()) + 1 if host.size else 0
            if isinstance(n, int) and top > n:
                if not self._dynamic_size:
                    raise InvalidArgumentError(
                        f"TensorArray.scatter: Tried to write to index {top - 1} but array is not resizeable "
                        f"and size is: {n}",
                        "TensorArrayScatter",
                    )
                buf = self._grow(buf, top)
        return self._new(ops.tensor_scatter_nd_update(buf, ops.reshape(idx, [-1, 1]), value))

    def unstack(self, value: Any, name: str | None = None) -> TensorArray:
        """Writes the rows of ``value`` as the elements; returns the TensorArray holding them."""
        if self._ragged:
            return self._ragged_unstack(value)
        value = self._rows(value, "unstack")
        self._check_shape(TensorShape(list(value.shape)[1:]), "unstack")
        n = self._length()
        rows = value.shape[0]
        if not self._dynamic_size and isinstance(n, int) and rows is not None and rows != n:
            raise ValueError(
                f"TensorArray.unstack: Cannot unstack {rows} tensors into a TensorArray of static size {n}"
            )
        if self._dynamic_size and isinstance(n, int) and rows is not None and rows < n:
            base = self._ensure_buffer(list(value.shape)[1:])
            ops = _ops()
            return self._new(ops.concat([value, base[rows:]], axis=0))
        return self._new(value)

    def split(self, value: Any, lengths: Any, name: str | None = None) -> TensorArray:
        """Splits ``value`` along its first axis into pieces of ``lengths`` rows as the
        elements. Unequal lengths (or lengths known only at run time) give elements of
        differing shapes, as in TF, whatever ``infer_shape``."""
        if self._ragged:
            return self._ragged_split(value, lengths)
        value = self._value(value, "split")
        lens_t = convert_to_tensor(lengths)
        lens = None if _is_symbolic(lens_t) else [int(v) for v in np.asarray(lens_t).reshape(-1)]
        if lens is None or not lens or len(set(lens)) > 1:
            out = self if state.graph is None else self._copy()
            out._ragged, out._buffer, out._size = True, None, self._length()
            return out._ragged_split(value, lens_t)
        k = lens[0] if lens else 0
        shape = list(value.shape)
        return self.unstack(_ops().reshape(value, [len(lens), k, *shape[1:]]))

    # ------------------------------------------------------------ reading
    def read(self, index: Any, name: str | None = None) -> Tensor:
        """The element at ``index`` (zeros where never written, once the shape is known)."""
        if self._ragged:
            return self._ragged_read(index)
        i = self._index(index, "read")
        if self._buffer is None:
            if not self._element_shape.is_fully_defined():
                raise InvalidArgumentError(
                    f"TensorArray.read: Could not read from TensorArray index {i}: nothing was written and "
                    f"the element shape is not fully defined ({self._element_shape}); write first or pass "
                    "element_shape=",
                    "TensorArrayRead",
                )
            return _ops().zeros(self._element_shape.as_list(), dtype=self._dtype)
        if isinstance(i, int):
            self._mark_read(i)
            return self._buffer[i]
        return _ops().gather(self._buffer, i)

    def gather(self, indices: Any, element_shape: Any = None, name: str | None = None) -> Tensor:
        """The elements at ``indices``, stacked."""
        if self._ragged:
            return self._ragged_gather(indices)
        idx = convert_to_tensor(indices)
        if self._buffer is None:
            return _ops().gather(self.stack(), idx)
        return _ops().gather(self._buffer, idx)

    def stack(self, name: str | None = None) -> Tensor:
        """All elements stacked along a new first axis: ``[size, *element_shape]``."""
        if self._ragged:
            return self._ragged_stack()
        if self._buffer is not None:
            return _ops().identity(self._buffer)
        if self._element_shape.is_fully_defined():
            return self._zeros(self._size, self._element_shape.as_list())
        if self._size == 0:
            return _ops().zeros([0], dtype=self._dtype)
        raise InvalidArgumentError(
            f"TensorArray.stack: nothing was written to this TensorArray of size {self._size} and its "
            f"element shape is not fully defined ({self._element_shape}); write first or pass element_shape=",
            "TensorArrayStack",
        )

    def concat(self, name: str | None = None) -> Tensor:
        """The elements concatenated along their first axis."""
        if self._ragged:
            return self._ragged_concat()
        if self._element_shape.rank == 0:
            raise InvalidArgumentError(
                "TensorArray.concat: Concat saw a scalar shape at index 0 but requires at least vectors; "
                "use stack() for scalar elements",
                "TensorArrayConcat",
            )
        stacked = self.stack()
        shape = list(stacked.shape)
        return _ops().reshape(stacked, [-1, *shape[2:]])

    # ------------------------------------------------------------ differing shapes
    # infer_shape=False (or split into unequal lengths): a list of elements, or the flat form
    # of tensor_array_ragged.py in graph loops and at indices known only at run time.
    def _start_ragged(self) -> None:
        if isinstance(self._size, int):
            self._elems = [None] * self._size
        elif self._element_shape.rank is not None:
            self._flat = _ragged().unwritten(self._size, self._element_shape.rank, self._fill(), self._dtype)

    def _fill(self) -> list | None:
        """The shape of an element never written, when it is known without a write."""
        es = self._element_shape
        return es.as_list() if es.is_fully_defined() else None

    def _ragged_rank(self) -> int | None:
        if self._flat is not None:
            return self._flat[1].shape[1]
        if self._elems is not None:
            for e in self._elems:
                if e is not None:
                    return e.ndim
        return self._element_shape.rank

    def _flat_form(self) -> tuple:
        """The flat form (values, shapes) of the elements (built from the list when needed)."""
        if self._flat is not None:
            return self._flat
        rank = self._ragged_rank()
        if self._elems is not None:
            return _ragged().to_flat(self._elems, rank, self._fill(), self._dtype)
        return _ragged().unwritten(self._size, rank, self._fill(), self._dtype)

    def _as_flat(self, rank: int | None, what: str) -> tuple:
        """Switches this array to its flat form (for an index known only at run time)."""
        if self._flat is None:
            if self._ragged_rank() is None and rank is None:
                raise InvalidArgumentError(
                    f"TensorArray.{what}: nothing was written to this TensorArray and its element shape is "
                    f"unknown ({self._element_shape}); write first or pass element_shape=",
                    f"TensorArray{what.capitalize()}",
                )
            if self._ragged_rank() is None:
                self._flat = _ragged().unwritten(self._length(), rank, self._fill(), self._dtype)
            else:
                self._flat = self._flat_form()
            self._elems = None
        return self._flat

    def _zeros_for(self, i: int, what: str) -> Tensor:
        """Element ``i``, never written, read as zeros: of the element shape when fully
        defined; else eagerly an error (as TF's eager TensorArray), and in a graph zeros of the
        shape every written element has (as TF's TensorList), when they agree."""
        fill = self._fill()
        if fill is None and state.graph is None:
            raise ValueError(
                f"TensorArray.{what}: Could not read index {i}: it was never written and the element shape "
                f"({self._element_shape}) is not fully defined, so it has no zeros to read as; write it "
                "first or pass a fully defined element_shape="
            )
        if fill is None:
            shapes = {tuple(e.shape) for e in self._elems if e is not None}
            if len(shapes) != 1 or None in next(iter(shapes)):
                raise InvalidArgumentError(
                    f"TensorArray.{what}: Could not read index {i}: it was never written, the element "
                    f"shape ({self._element_shape}) is not fully defined and the written elements do not "
                    f"share one known shape ({sorted(shapes, key=str)}); write it first or pass a fully "
                    "defined element_shape=",
                    f"TensorArray{what.capitalize()}",
                )
            fill = list(next(iter(shapes)))
        return _ops().zeros(fill, dtype=self._dtype)

    def _ragged_target(self) -> TensorArray:
        """The array a write updates: this one eagerly (in place, as TF's eager
        TensorArray), a copy while tracing."""
        return self if state.graph is None else self._copy()

    def _ragged_check(self, shape: TensorShape, what: str) -> None:
        if not self._element_shape.is_compatible_with(shape):
            raise ValueError(
                f"TensorArray.{what}: Incompatible shape for value ({shape}), expected "
                f"({self._element_shape}); pass an element_shape= that every element fits (None dims "
                "differ freely)"
            )

    def _wrote(self, shape: TensorShape) -> None:
        """Records a written shape (merged into the element shape when infer_shape)."""
        if self._infer_shape:
            self._element_shape = self._element_shape.merge_with(shape)
        self._static = shape if self._static is None else _join(self._static, shape)

    def _ragged_write(self, index: Any, value: Any) -> TensorArray:
        value = self._value(value, "write")
        self._ragged_check(value.shape, "write")
        i = self._index(index, "write")
        out = self._ragged_target()
        out._wrote(value.shape)
        if isinstance(i, int) and out._elems is not None:
            if i >= len(out._elems):
                out._elems.extend([None] * (i + 1 - len(out._elems)))
            out._elems[i] = value
            out._read.discard(i)
            return out
        values, shapes = out._as_flat(value.ndim, "write")
        if value.ndim != shapes.shape[1]:
            raise InvalidArgumentError(
                f"TensorArray.write: value has rank {value.ndim} (shape {value.shape}) but the elements have "
                f"rank {shapes.shape[1]}; in a graph loop (or at an index known only at run time) the "
                "elements of a TensorArray of differing shapes share one rank: reshape the value",
                "TensorArrayWrite",
            )
        if self._dynamic_size:
            values, shapes = _ragged().grow(values, shapes, i, out._fill(), self._dtype)
        out._flat = _ragged().write(values, shapes, i, value)
        return out

    def _mark_read(self, i: int) -> None:
        """Eagerly, with ``clear_after_read``, a second read of element i raises (as TF's)."""
        if state.graph is None and self._clear_after_read:
            if i in self._read:
                raise InvalidArgumentError(
                    f"TensorArray.read: Could not read index {i} twice because it was cleared after a "
                    "previous read (perhaps try setting clear_after_read = false?)",
                    "TensorArrayRead",
                )
            self._read.add(i)

    def _ragged_read(self, index: Any) -> Tensor:
        i = self._index(index, "read")
        if isinstance(i, int) and self._elems is not None:
            self._mark_read(i)
            e = self._elems[i]
            return e if e is not None else self._zeros_for(i, "read")
        return _ragged().read(*self._as_flat(None, "read"), i)

    def _ragged_gather(self, indices: Any) -> Tensor:
        idx = convert_to_tensor(indices)
        if self._elems is not None and not _is_symbolic(idx):
            picked = []
            for i in np.asarray(idx).reshape(-1):
                j = self._index(int(i), "gather")
                e = self._elems[j]
                picked.append(e if e is not None else self._zeros_for(j, "gather"))
            return self._stacked(picked, "gather")
        return _ragged().gather(*self._as_flat(None, "gather"), idx)

    def _stacked(self, elems: list, what: str) -> Tensor:
        """``elems`` stacked; elements whose shapes differ raise TF's error."""
        if not elems:
            es = self._element_shape
            return _ops().zeros([0, *es.as_list()] if es.is_fully_defined() else [0], dtype=self._dtype)
        first = elems[0].shape
        for k, e in enumerate(elems[1:], 1):
            if not first.is_compatible_with(e.shape):
                raise InvalidArgumentError(
                    f"TensorArray.{what}: Shapes of all inputs must match: values[0].shape = {first} != "
                    f"values[{k}].shape = {e.shape}; the elements of this TensorArray differ in shape, so "
                    "they cannot be stacked: use concat() to join them along their first axis, or read() "
                    "them one by one",
                    f"TensorArray{what.capitalize()}",
                )
        return _ops().stack(elems)

    def _ragged_stack(self) -> Tensor:
        if self._elems is not None:
            return self._stacked(
                [e if e is not None else self._zeros_for(k, "stack") for k, e in enumerate(self._elems)],
                "stack",
            )
        if self._flat is None:
            raise InvalidArgumentError(
                f"TensorArray.stack: nothing was written to this TensorArray and its element shape is not "
                f"fully defined ({self._element_shape}); write first or pass element_shape=",
                "TensorArrayStack",
            )
        return _ragged().stack(*self._flat)

    def _ragged_concat(self) -> Tensor:
        if self._flat is not None or self._elems is None:
            return _ragged().concat(*self._as_flat(None, "concat"))
        elems = [e if e is not None else self._zeros_for(k, "concat") for k, e in enumerate(self._elems)]
        if not elems:
            es = self._element_shape
            known = es.rank is not None and es.rank > 0 and TensorShape(es.as_list()[1:]).is_fully_defined()
            return _ops().zeros([0, *es.as_list()[1:]] if known else [0], dtype=self._dtype)
        for k, e in enumerate(elems):
            if e.ndim == 0:
                raise InvalidArgumentError(
                    f"TensorArray.concat: Concat saw a scalar shape at index {k} but requires at least "
                    "vectors; use stack() for scalar elements",
                    "TensorArrayConcat",
                )
        first = elems[0].shape
        for k, e in enumerate(elems[1:], 1):
            if e.ndim != first.rank or not TensorShape(first.as_list()[1:]).is_compatible_with(
                TensorShape(e.shape.as_list()[1:])
            ):
                raise InvalidArgumentError(
                    f"TensorArray.concat: all elements must agree in rank and in every dim but the first to "
                    f"be concatenated: shape[0] = {first} vs. shape[{k}] = {e.shape}; read() the elements "
                    "one by one, or write elements whose trailing dims agree",
                    "TensorArrayConcat",
                )
        return _ops().concat(elems, axis=0)

    def _ragged_size(self) -> Tensor:
        n = self._length()
        return n if isinstance(n, Tensor) else convert_to_tensor(n, dtype=dtypes.int32)

    def _ragged_unstack(self, value: Any) -> TensorArray:
        value = self._rows(value, "unstack")
        row = TensorShape(value.shape.as_list()[1:])
        self._ragged_check(row, "unstack")
        n, rows = self._length(), value.shape[0]
        if not self._dynamic_size and isinstance(n, int) and rows is not None and rows > n:
            raise ValueError(
                f"TensorArray.unstack: Cannot unstack {rows} tensors into a TensorArray of static size {n}"
            )
        out = self._ragged_target()
        out._wrote(row)
        if rows is not None:
            out._elems, out._flat = list(_ops().unstack(value)), None
        else:
            out._elems, out._flat = None, _ragged().from_rows(value, None)
        out._read = set()
        return out

    def _ragged_scatter(self, indices: Any, value: Any) -> TensorArray:
        value = self._rows(value, "scatter")
        self._ragged_check(TensorShape(value.shape.as_list()[1:]), "scatter")
        idx = self._scatter_indices(indices)
        if idx.shape[0] is None:
            raise InvalidArgumentError(
                "TensorArray.scatter: a TensorArray of differing shapes scatters a number of indices known "
                "when tracing; write the rows one by one in a loop (ta.write(i, value[k]))",
                "TensorArrayScatter",
            )
        out = self
        points = (
            np.asarray(idx).reshape(-1).tolist()
            if not _is_symbolic(idx)
            else [idx[k] for k in range(idx.shape[0])]
        )
        for k, i in enumerate(points):
            out = out._ragged_write(i, value[k])
        return out

    def _ragged_split(self, value: Any, lengths: Any) -> TensorArray:
        value = self._value(value, "split")
        lens = convert_to_tensor(lengths)
        if lens.ndim != 1:
            raise InvalidArgumentError(
                f"TensorArray.split: Expected lengths to be a vector, received shape: {lens.shape.as_list()}",
                "TensorArraySplit",
            )
        if value.ndim == 0:
            raise InvalidArgumentError(
                "TensorArray.split: Expected value to be at least a vector, but received shape: []",
                "TensorArraySplit",
            )
        host = None if _is_symbolic(lens) else [int(v) for v in np.asarray(lens).reshape(-1)]
        rows = value.shape[0]
        if host is not None and rows is not None and sum(host) != rows:
            raise InvalidArgumentError(
                f"TensorArray.split: Expected sum of lengths to be equal to values.shape[0], but sum of "
                f"lengths is {sum(host)} and value's shape is: {value.shape.as_list()}",
                "TensorArraySplit",
            )
        n, k = self._length(), lens.shape[0]
        if not self._dynamic_size and isinstance(n, int) and k is not None and k != n:
            raise InvalidArgumentError(
                f"TensorArray.split: TensorArray's size is not equal to the size of lengths ({n} vs. {k}), "
                "and the TensorArray is not marked as dynamically resizeable.",
                "TensorArraySplit",
            )
        out = self._ragged_target()
        trailing = value.shape.as_list()[1:]
        if host is not None and rows is not None:
            pieces = _ops().split(value, host, axis=0) if host else []
            out._elems, out._flat = list(pieces), None
            for h in set(host):
                out._static = (
                    TensorShape([h, *trailing])
                    if out._static is None
                    else _join(out._static, TensorShape([h, *trailing]))
                )
        else:
            out._elems, out._flat = None, _ragged().from_rows(value, lens)
            out._static = TensorShape([None, *trailing])
        out._read = set()
        return out

    def identity(self) -> TensorArray:
        """A TensorArray with the same elements."""
        return self._copy()

    def close(self, name: str | None = None) -> None:
        """Does nothing (as TF2's)."""
        return None


def _ragged() -> Any:
    from gputensor.graph import tensor_array_ragged

    return tensor_array_ragged


def _join(a: TensorShape, b: TensorShape) -> TensorShape:
    """The most specific shape both ``a`` and ``b`` have (dims that differ become None)."""
    if a.rank is None or b.rank is None or a.rank != b.rank:
        return TensorShape(None)
    return TensorShape([x if x == y else None for x, y in zip(a.as_list(), b.as_list())])


def _cast(t: Tensor, dtype: Any) -> Tensor:
    from gputensor.ops.math_ops import cast

    return cast(t, dtype)


nest.register_composite(TensorArray)


# ---------------------------------------------------------------- graph loops
def relax_specs(structure: Any, specs: list) -> list:
    """``specs`` ((shape, dtype) per leaf of ``structure`` as nest flattens it) with the
    leading dim None for the tensors of dynamic_size TensorArrays: they may grow in a loop."""
    flags = growing(structure)
    if not any(flags):
        return specs
    return [((None, *shape[1:]), dt) if f else (shape, dt) for f, (shape, dt) in zip(flags, specs)]


def growing(structure: Any) -> list:
    """Per leaf of ``structure`` as nest flattens it, whether it may grow along its leading
    dim in a loop (the buffer of a dynamic_size TensorArray)."""
    if isinstance(structure, TensorArray):
        if structure._ragged:  # the values always change length; the shapes when it grows
            return [True, structure._dynamic_size][: structure._n_components()]
        return [structure._dynamic_size] * structure._n_components()
    if isinstance(structure, dict):
        return [f for k in sorted(structure) for f in growing(structure[k])]
    if isinstance(structure, (list, tuple)):
        return [f for item in structure for f in growing(item)]
    return [False]


def _walk(structure: Any) -> list:
    """The TensorArrays in ``structure`` (lists, tuples, dicts), in nest order."""
    if isinstance(structure, TensorArray):
        return [structure]
    if isinstance(structure, dict):
        return [t for k in sorted(structure) for t in _walk(structure[k])]
    if isinstance(structure, (list, tuple)):
        return [t for item in structure for t in _walk(item)]
    return []


def materialize(fn: Callable, args: list, positions: Any = None) -> list:
    """``args`` with each TensorArray that has no buffer yet, but gets one from ``fn`` (a
    loop body: the first write is inside the loop), given a buffer of zeros of the element
    shape ``fn`` writes, so the loop variable keeps one structure across iterations.

    ``fn(*args)`` returns the new values of all ``args`` (only those at ``positions`` are
    loop variables); it is traced once into a scratch graph to learn the shapes (only when such an array
    is present).
    """
    positions = list(range(len(args))) if positions is None else list(positions)
    pending = [p for p in positions if any(t._pending() for t in _walk(args[p]))]
    if not pending or state.graph is None:
        return list(args)
    from gputensor.framework.tensor import wrap
    from gputensor.graph.autograph import operators
    from gputensor.graph.graph import Graph

    outer = state.graph
    probe = Graph(outer.target, name="tensor_array_probe")
    probe.parent = outer
    operators._probing[0] += 1
    try:
        with probe.building():
            probe_args = []
            for a in args:
                leaves = nest.flatten(a)
                if leaves and all(isinstance(x, Tensor) for x in leaves):
                    a = nest.pack_sequence_as(
                        a,
                        [
                            wrap(probe.placeholder(tuple(t._data.shape), t.dtype), probe.device)
                            for t in leaves
                        ],
                    )
                probe_args.append(a)
            got = fn(*probe_args)
    finally:
        operators._probing[0] -= 1
    got = [got] if not isinstance(got, (list, tuple)) else list(got)
    result = list(args)
    for p in pending:
        if p >= len(got):
            continue
        before, after = _walk(args[p]), _walk(got[p])
        if len(before) != len(after):
            continue
        fixed = {}
        for b, a in zip(before, after):
            if b._ragged and b._pending() and not a._pending():
                fixed[id(b)] = a  # the rank the body writes
            elif not b._ragged and b._buffer is None and a._buffer is not None:
                fixed[id(b)] = list(a._buffer.shape)[1:]
        if fixed:
            result[p] = _replace(args[p], fixed)
    return result


def _replace(structure: Any, fixed: dict) -> Any:
    if isinstance(structure, TensorArray):
        shape = fixed.get(id(structure))
        if shape is None:
            return structure
        if structure._ragged:  # enters the loop as unwritten elements of the rank written
            out = structure._copy()
            out._flat = _ragged().unwritten(structure._length(), shape._ragged_rank(), None, structure._dtype)
            out._elems, out._static = None, shape._static
            return out
        if None in shape:
            raise InvalidArgumentError(
                f"TensorArray: a graph loop writes elements of shape {shape} to a TensorArray whose element "
                "shape is unknown before the loop; pass element_shape= with known dims",
                "TensorArray",
            )
        out = structure._copy()
        out._buffer = structure._zeros(structure._size, shape)
        out._size = None
        out._element_shape = TensorShape(shape)
        return out
    if isinstance(structure, dict):
        return type(structure)((k, _replace(v, fixed)) for k, v in structure.items())
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):
        return type(structure)(*[_replace(v, fixed) for v in structure])
    if isinstance(structure, (list, tuple)):
        return type(structure)(_replace(v, fixed) for v in structure)
    return structure
