"""``gt.Tensor``: an immutable array on one device, and conversion of Python values to it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from gputensor.backend import registry
from gputensor.errors import FailedPreconditionError, InvalidArgumentError
from gputensor.framework import dtypes
from gputensor.framework.context import state
from gputensor.framework.tensor_shape import TensorShape

_from_np = dtypes._FROM_NUMPY
_new = object.__new__


class Tensor:
    """An immutable multidimensional array on one device, as ``tf.Tensor``.

    Tensors are made by ops (``gt.constant``, ``gt.add``, ...), never by calling
    this class. They support NumPy-style indexing and the Python operators with
    broadcasting; ``numpy()`` copies the value to a NumPy array.

    >>> gt.constant([1, 2, 3])
    <gt.Tensor: shape=(3,), dtype=int32, numpy=array([1, 2, 3], dtype=int32)>
    """

    __slots__ = ("_data", "_device", "_dtype", "__weakref__")
    # Makes NumPy defer `ndarray + tensor` to Tensor.__radd__, as TF does.
    __array_priority__ = 100

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(
            "Tensor objects are made by ops; use gt.constant(value) or gt.convert_to_tensor(value)"
        )

    # ----------------------------------------------------------------- properties
    @property
    def dtype(self) -> dtypes.DType:
        return self._dtype

    @property
    def shape(self) -> TensorShape:
        return TensorShape(self._live().shape)

    def get_shape(self) -> TensorShape:
        return self.shape

    @property
    def _keras_mask(self) -> Any:
        """The Keras mask attached to this tensor (a boolean tensor) or None, as TF-backed
        Keras 3's ``tensor._keras_mask``; kept in gt.keras's side table (``__slots__``)."""
        from gputensor.keras.masks import get_keras_mask

        return get_keras_mask(self)

    @_keras_mask.setter
    def _keras_mask(self, mask: Any) -> None:
        from gputensor.keras.masks import set_keras_mask

        set_keras_mask(self, mask)

    @property
    def ndim(self) -> int:
        return self._live().ndim

    @property
    def device(self) -> str:
        return self._device.name

    @property
    def backing_device(self) -> str:
        return self._device.name

    @property
    def is_disposed(self) -> bool:
        return self._data is None

    def _live(self) -> Any:
        data = self._data
        if data is None:
            raise FailedPreconditionError(
                "Tensor is disposed: its buffer was freed by dispose() or gt.tidy(); "
                "keep a reference by returning it from the tidy function, or do not dispose it"
            )
        return data

    # ------------------------------------------------------------- host transfer
    def numpy(self) -> Any:
        """Copies the value to a NumPy array (a NumPy scalar for rank 0), as TF does."""
        host = self._device.backend.to_host(self._live())
        if isinstance(host, np.ndarray):
            return host.copy() if host.ndim else host[()]
        return host

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        host = np.asarray(self._device.backend.to_host(self._live()))
        if copy:
            host = host.copy()
        elif host.flags.writeable:
            host = host.view()
            host.flags.writeable = False  # the tensor is immutable; so is this view of it
        return host if dtype is None else host.astype(dtype, copy=False)

    def __dlpack__(self, *args: Any, **kwargs: Any) -> Any:
        return self._live().__dlpack__(*args, **kwargs)

    def __dlpack_device__(self) -> Any:
        return self._live().__dlpack_device__()

    # ------------------------------------------------------------- Python protocol
    def __len__(self) -> int:
        data = self._live()
        if data.ndim == 0:
            raise TypeError("len is not well defined for a rank-0 tensor")
        return data.shape[0]

    def __bool__(self) -> bool:
        data = self._live()
        graph = sys.modules.get("gputensor.graph.graph")  # loaded once any graph exists
        if graph is not None and type(data) is graph.Symbol:
            raise graph.bool_error(data)
        if data.size != 1 or data.ndim != 0:
            raise ValueError(
                f"The truth value of a tensor of shape {self.shape} is ambiguous; "
                "use gt.reduce_any or gt.reduce_all"
            )
        return bool(self.numpy())

    def __float__(self) -> float:
        return float(self._scalar("float"))

    def __int__(self) -> int:
        return int(self._scalar("int"))

    def __complex__(self) -> complex:
        return complex(self._scalar("complex"))

    def __index__(self) -> int:
        if not self._dtype.is_integer:
            raise TypeError(f"Only integer tensors can be used as an index, got {self._dtype.name}")
        return int(self._scalar("index"))

    def _scalar(self, what: str) -> Any:
        data = self._live()
        if data.ndim != 0:
            raise TypeError(f"{what}() of a tensor needs a scalar (rank 0), got shape {self.shape}")
        return self.numpy()

    def __iter__(self):
        data = self._live()
        if data.ndim == 0:
            raise TypeError("Cannot iterate over a scalar tensor.")
        from gputensor.ops.array_ops import unstack

        return iter(unstack(self))

    def __hash__(self) -> int:
        raise TypeError("Tensor is unhashable. Instead, use tensor.ref() as the key.")

    def ref(self) -> _Reference:
        """Returns a hashable reference to this tensor (``.deref()`` gives it back)."""
        return _Reference(self)

    def experimental_ref(self) -> _Reference:
        return _Reference(self)

    def __setitem__(self, key: Any, value: Any) -> None:
        raise TypeError(
            "'Tensor' object does not support item assignment: tensors are immutable. "
            "Use a gt.Variable and its .assign / [...].assign, or gt.tensor_scatter_nd_update"
        )

    def __copy__(self) -> Tensor:
        return self

    def __deepcopy__(self, memo: dict) -> Tensor:
        return self

    def __reduce__(self):
        return _rebuild, (self.numpy(),)

    # ------------------------------------------------------------------- printing
    def __format__(self, format_spec: str) -> str:
        # As TF's EagerTensor: f"{t:1.2f}" formats the NumPy value (so ``format`` of a whole
        # array with a spec raises NumPy's TypeError, as in TF).
        if self._data is None or hasattr(self._data, "node"):
            return object.__format__(self, format_spec)
        return self.numpy().__format__(format_spec)

    def __repr__(self) -> str:
        if self._data is None:
            return f"<gt.Tensor: disposed, dtype={self._dtype.name}>"
        if hasattr(self._data, "node"):  # symbolic, while tracing: TF's graph-tensor form
            return f"<gt.Tensor '{self._data.name}' shape={_shape_text(self)} dtype={self._dtype.name}>"
        return f"<gt.Tensor: shape={self.shape}, dtype={self._dtype.name}, numpy={_numpy_text(self, True)}>"

    def __str__(self) -> str:
        if self._data is None:
            return f"gt.Tensor(<disposed>, dtype={self._dtype.name})"
        if hasattr(self._data, "node"):  # a traced print(x) shows what TF's does
            return f'Tensor("{self._data.name}", shape={_shape_text(self)}, dtype={self._dtype.name})'
        return f"gt.Tensor({_numpy_text(self, False)}, shape={self.shape}, dtype={self._dtype.name})"

    # -------------------------------------------------------------------- memory
    def dispose(self) -> None:
        """Frees this tensor's buffer now (as TF.js); later use raises FailedPreconditionError."""
        data = self._data
        if data is not None:
            dev = self._device
            dev.current_bytes -= data.nbytes
            dev.num_tensors -= 1
            self._data = None

    def __del__(self) -> None:
        try:
            data = self._data
        except AttributeError:  # never initialised (object.__new__ without wrap)
            return
        if data is not None:
            dev = self._device
            dev.current_bytes -= data.nbytes
            dev.num_tensors -= 1


def _rebuild(value: np.ndarray) -> Tensor:
    return constant(value)


class _Reference:
    """A hashable handle to a tensor or variable, compared by identity."""

    __slots__ = ("_obj",)

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def deref(self) -> Any:
        return self._obj

    def __hash__(self) -> int:
        return id(self._obj)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reference) and other._obj is self._obj

    def __repr__(self) -> str:
        return f"<Reference wrapping {self._obj!r}>"


def _shape_text(t: Tensor) -> str:
    """A shape as TF prints a graph tensor's: ``(None, 3)``, ``<unknown>`` for an unknown rank."""
    shape = t._data.shape
    if shape is None:
        return "<unknown>"
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _numpy_text(t: Tensor, is_repr: bool) -> str:
    value = t.numpy()
    if not isinstance(value, np.ndarray):
        return str(value)  # scalars print as TF's do: numpy=4.0, not np.float32(4.0)
    text = repr(value) if is_repr else str(value)
    # TF's numpy_text: a multi-line value starts on a line of its own (``numpy=\narray(...)``).
    return "\n" + text if "\n" in text else text


def is_symbolic(value: Any) -> bool:
    """Whether ``value`` is a tensor of the graph being traced (its data is a graph Symbol)."""
    return state.graph is not None and hasattr(getattr(value, "_data", None), "node")


def traced_value(value: Any) -> Any:
    """While tracing, a symbolic tensor's host value when it follows from constants alone
    (``Graph.static_value``: ``gt.shape`` of known dims, constant indices); None otherwise."""
    return state.graph.static_value(value._data) if is_symbolic(value) else None


def wrap(data: Any, device: Any) -> Tensor:
    """Makes a Tensor that owns ``data`` (a backend array) on ``device``. The hot path."""
    t = _new(Tensor)
    try:
        t._dtype = _from_np[data.dtype]
    except AttributeError:  # a NumPy kernel's 0-d object (string) result is a bare bytes object
        data = box(data)
        t._dtype = dtypes.string
    t._data = data
    t._device = device
    device.current_bytes += data.nbytes
    if device.current_bytes > device.peak_bytes:
        device.peak_bytes = device.current_bytes
    device.num_tensors += 1
    if not state.fast and state._tidy is not None:
        state._tidy.append(t)
    return t


def box(value: Any) -> np.ndarray:
    """``value`` as a 0-d object array: NumPy returns the element itself, not an array, for a
    0-d result of an object array (``np.add`` of two 0-d string arrays, ``x[0]``)."""
    out = np.empty((), dtype=object)
    out[()] = value
    return out


def array_on(t: Tensor, device: Any) -> Any:
    """The array of ``t`` on ``device``: its own, or a copy the device's backend makes."""
    return t._data if t._device is device else device.backend.transfer(t._data, t._device.backend)


def current_device() -> Any:
    """The device ops without tensor inputs run on: the `gt.device` scope, else the default."""
    return state.device or registry.default_device()


# ----------------------------------------------------------------- conversion
# Types other modules teach convert_to_tensor about (Variable registers itself).
_conversion_functions: dict[type, Callable[[Any, Any], Tensor]] = {}


def register_tensor_conversion_function(cls: type, fn: Callable[[Any, Any], Tensor]) -> None:
    _conversion_functions[cls] = fn


_PY_DEFAULTS = {
    np.dtype("float64"): np.dtype("float32"),
    np.dtype("int64"): np.dtype("int32"),
}
_INT32 = np.iinfo(np.int32)


def _first_leaf(value: Any) -> Any:
    """The first scalar of a nested list/tuple (``value`` itself for a scalar)."""
    while isinstance(value, (list, tuple)) and value:
        value = value[0]
    return value


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return bytes(value)  # np.bytes_ -> bytes, as TF's numpy() gives
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(f"Failed to convert elements of a string tensor: {value!r} is not bytes or str")


_to_bytes_ufunc = np.frompyfunc(_as_bytes, 1, 1)


def _strings_to_numpy(value: Any) -> np.ndarray:
    """A string value (str/bytes, nested lists of them, a NumPy str_/bytes_/object array) as
    TF holds it: an object array of ``bytes``, str encoded as UTF-8."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "SU":
        arr = value.astype(object)  # .astype strips NumPy's trailing NULs, as TF's conversion
    else:
        try:
            arr = np.array(value, dtype=object)
        except ValueError as exc:
            raise ValueError(
                f"Can't convert non-rectangular Python sequence to Tensor ({exc}); "
                "use gt.ragged.constant for rows of different lengths"
            ) from None
        if arr.size and any(isinstance(v, (list, tuple)) for v in arr.flat):
            raise ValueError(
                f"Can't convert non-rectangular Python sequence to Tensor: {value!r}; "
                "use gt.ragged.constant for rows of different lengths"
            )
    try:
        out = _to_bytes_ufunc(arr)
    except TypeError:
        if arr.ndim and any(isinstance(v, (bytes, str)) for v in arr.flat):
            raise ValueError(f"Can't convert Python sequence with mixed types to Tensor: {value!r}") from None
        raise TypeError(f"Cannot convert {value!r} to EagerTensor of dtype string") from None
    return np.asarray(out, dtype=object)


def _is_string_value(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "SU":
            return True
        return value.dtype == object and value.size > 0 and isinstance(value.flat[0], (bytes, str))
    return isinstance(_first_leaf(value), (bytes, str))


def _string_value(value: Any, dtype: dtypes.DType | None) -> np.ndarray:
    if dtype is not None:
        raise TypeError(
            f"Cannot convert {value!r} to EagerTensor of dtype {dtype.name}: it is a string; "
            "parse numbers from strings with gt.strings.to_number"
        )
    return _strings_to_numpy(value)


def _python_to_numpy(value: Any, dtype: dtypes.DType | None) -> np.ndarray:
    """Converts a Python value (scalar or nested list) the way tf.constant does."""
    if dtype is dtypes.string:
        return _strings_to_numpy(value)
    try:
        arr = np.asarray(value)
    except ValueError as exc:  # ragged lists; also str mixed with non-ASCII bytes (UnicodeDecodeError)
        if _is_string_value(value):
            return _string_value(value, dtype)
        raise ValueError(
            f"Can't convert non-rectangular Python sequence to Tensor ({exc}); "
            "use gt.ragged.constant for rows of different lengths"
        ) from None
    if arr.dtype.kind in "USO":  # numbers take the path below without this test's cost
        if arr.dtype.kind == "O" and not _is_string_value(value):
            raise TypeError(f"Cannot convert {value!r} to a Tensor: values must be numbers or booleans")
        return _string_value(value, dtype)
    if dtype is not None:
        target = dtype.np_dtype
        if target.kind in "iub" and arr.dtype.kind in "fc":
            if arr.size and not np.all(np.equal(np.mod(arr.real, 1), 0)):
                raise TypeError(
                    f"Cannot convert {value!r} to EagerTensor of dtype {dtype.name}: "
                    "it has a fractional part; cast explicitly with gt.cast"
                )
        if target.kind in "iu" and arr.dtype.kind in "iu" and arr.size:
            info = np.iinfo(target)
            if arr.min() < info.min or arr.max() > info.max:
                raise InvalidArgumentError(
                    f"Cannot convert {value!r} to dtype {dtype.name}: out of range [{info.min}, {info.max}]"
                )
        return arr.astype(target)
    default = _PY_DEFAULTS.get(arr.dtype)
    if default is not None:
        if default.kind == "i" and arr.size and (arr.min() < _INT32.min or arr.max() > _INT32.max):
            return arr  # as TF: Python ints that do not fit int32 become int64
        return arr.astype(default)
    if arr.dtype == np.complex128 and not isinstance(value, np.ndarray):
        return arr
    return arr


def _to_numpy(value: Any, dtype: dtypes.DType | None) -> np.ndarray:
    if isinstance(value, np.ndarray) and (
        value.dtype.kind in "SU"
        or dtype is dtypes.string
        or (value.dtype.kind == "O" and (dtype is None or _is_string_value(value)))
    ):
        return _python_to_numpy(value, dtype)
    if isinstance(value, np.generic) and value.dtype.kind in "SU":
        return _python_to_numpy(value.item() if value.dtype.kind == "U" else bytes(value), dtype)
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        if dtype is None:
            dtypes.from_numpy(value.dtype)  # raises TypeError for unsupported dtypes
            # An array nobody can write to can be shared; anything else is copied so that
            # a later write to the caller's array cannot change this immutable tensor.
            if isinstance(value, np.ndarray) and not value.flags.writeable:
                return value
            return np.array(value)
        return np.array(value, dtype=dtype.np_dtype)
    return _python_to_numpy(value, dtype)


def convert_to_tensor(
    value: Any, dtype: Any = None, dtype_hint: Any = None, name: str | None = None
) -> Tensor:
    """Converts a Tensor, Variable, NumPy array or Python value to a Tensor.

    Args:
      value: the value to convert.
      dtype: required element type; a tensor of another type raises ValueError.
      dtype_hint: type used for Python values when ``dtype`` is None.
      name: ignored (eager).

    Returns:
      A Tensor.

    Raises:
      ValueError: when ``value`` is a tensor whose dtype differs from ``dtype``.
      TypeError: when ``value`` cannot become a tensor.
    """
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
    if type(value) is Tensor:
        if dtype is not None and value._dtype is not dtype:
            raise ValueError(
                f"Tensor conversion requested dtype {dtype.name} for Tensor with dtype "
                f"{value._dtype.name}: {value!r}; use gt.cast to change the dtype"
            )
        return value
    fn = _conversion_functions.get(type(value))
    if fn is None:
        for cls, f in _conversion_functions.items():
            if isinstance(value, cls):
                fn = f
                break
    if fn is not None:
        return fn(value, dtype)
    if dtype is None and dtype_hint is not None and not isinstance(value, (np.ndarray, np.generic)):
        try:
            return _place(_to_numpy(value, dtypes.as_dtype(dtype_hint)))
        except (TypeError, ValueError, InvalidArgumentError):
            pass
    return _place(_to_numpy(value, dtype))


def _place(arr: np.ndarray) -> Tensor:
    device = current_device()
    if device.device_type != "CPU" and arr.dtype == object and state.graph is None:
        device = host_device()  # string tensors live on the CPU, as TF places them
    return wrap(device.backend.from_host(arr), device)


def host_device() -> Any:
    """The CPU device string tensors live on: the `gt.device` scope's if it is a CPU, else CPU:0."""
    device = state.device
    if device is not None and device.device_type == "CPU" and state.graph is None:
        return device
    return registry.lookup("CPU:0")


def constant(value: Any, dtype: Any = None, shape: Any = None, name: str | None = None) -> Tensor:
    """Creates a constant tensor from a tensor-like value, as ``tf.constant``.

    Args:
      value: a Python scalar or nested list, a NumPy array, or a Tensor.
      dtype: element type; inferred when None (Python floats give float32, ints int32).
      shape: optional shape; a scalar value is broadcast to it, other values reshaped.
      name: ignored (eager).

    Returns:
      A Tensor.

    Raises:
      TypeError: when the value cannot be converted, or its size does not fit ``shape``.

    >>> gt.constant(1.5, shape=[2])
    <gt.Tensor: shape=(2,), dtype=float32, numpy=array([1.5, 1.5], dtype=float32)>
    """
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
    if isinstance(value, Tensor) or type(value) in _conversion_functions:
        t = convert_to_tensor(value)
        if dtype is not None and t._dtype is not dtype:
            arr = np.asarray(t.numpy()).astype(dtype.np_dtype)
        else:
            arr = np.asarray(t.numpy())
    else:
        arr = _to_numpy(value, dtype)
    if shape is not None:
        shape = tuple(TensorShape(shape).as_list())
        size = int(np.prod(shape, dtype=np.int64))
        if arr.size == 1 and size != 1:
            arr = np.full(shape, arr.reshape(()), dtype=arr.dtype)
        elif arr.size == size:
            arr = arr.reshape(shape)
        else:
            raise TypeError(
                f"Eager execution of gt.constant with unsupported shape. Value has {arr.size} "
                f"elements, but got `shape` {shape} with {size} elements"
            )
    return _place(arr)


def is_tensor(x: Any) -> bool:
    """True for Tensors and other tensor-like values (Variables, ragged, sparse)."""
    return isinstance(x, Tensor) or type(x) in _conversion_functions or hasattr(x, "_gt_tensor_like")
