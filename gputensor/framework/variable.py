"""``gt.Variable``: a mutable, named tensor-valued state, as ``tf.Variable``."""

from __future__ import annotations

import contextlib
import itertools
import threading
from typing import Any

import numpy as np

from gputensor.framework import context, dtypes
from gputensor.framework.context import state
from gputensor.framework.scopes import init_scope
from gputensor.framework.tensor import (
    Tensor,
    TensorShape,
    array_on,
    convert_to_tensor,
    register_tensor_conversion_function,
    wrap,
)

_uid = itertools.count()

# Installed by gputensor.autodiff: called as variable_reader(variable, tensor) when a
# variable is read while a tape is active, so trainable variables are watched on access.
variable_reader = None


class _Autocast(threading.local):
    """Keras 3's autocast scope: while ``dtype`` is set (a float DType), reads of float
    variables give their value cast to it (a mixed-precision layer's ``call``; see
    gputensor/keras/dtype_policies.py). A variable with ``_keras_autocast = False`` opts out."""

    _dtype: Any = None

    @property
    def dtype(self) -> Any:
        return self._dtype

    @dtype.setter
    def dtype(self, value: Any) -> None:
        global _autocast_ever
        self._dtype = value
        if value is not None:
            _autocast_ever = True


autocast = _Autocast()
# Whether any scope was ever opened: until then a variable read skips the thread-local lookup
# (every read pays for it otherwise, mixed precision or not).
_autocast_ever = False


class Variable:
    """A mutable tensor-valued state that persists across calls, as ``tf.Variable``.

    Args:
      initial_value: a Tensor or tensor-like value, or a zero-argument callable
        returning one.
      trainable: whether GradientTape watches it automatically and optimizers update it.
      name: the name; the enclosing name scopes are prefixed and ``:0`` appended.
      dtype: converts the initial value to this dtype if given.
      shape: must be compatible with the initial value's shape if given.

    >>> v = gt.Variable([1.0, 2.0])
    >>> v.assign_add([1.0, 1.0]).numpy()
    array([2., 3.], dtype=float32)
    """

    __array_priority__ = 100
    _gt_tensor_like = True

    def __init__(
        self,
        initial_value: Any = None,
        trainable: bool = True,
        validate_shape: bool = True,
        caching_device: Any = None,
        name: str | None = None,
        variable_def: Any = None,
        dtype: Any = None,
        import_scope: Any = None,
        constraint: Any = None,
        synchronization: Any = None,
        aggregation: Any = None,
        shape: Any = None,
        experimental_enable_variable_lifting: Any = None,
    ) -> None:
        if initial_value is None:
            raise ValueError("Variable: initial_value must be given")
        graph = state.graph
        if graph is not None:
            graph.created_variables.append(self)
        if callable(initial_value):
            with init_scope():  # an initializer runs once, eagerly, as in TF
                initial_value = initial_value()
        if graph is not None and isinstance(initial_value, Tensor) and initial_value._device is graph.device:
            raise ValueError(
                "Variable: the initial value was computed inside a gt.function from its inputs, so it "
                "is not known until the function runs; create the variable outside the function, or "
                "pass a callable initial value (e.g. lambda: gt.zeros([3]))"
            )
        if isinstance(initial_value, Variable):
            initial_value = initial_value.read_value()
        # A Python or NumPy initial value becomes a tensor eagerly even while tracing (TF's
        # init_scope lifting): a graph constant's value could not be read here.
        lifted = graph is not None and not isinstance(initial_value, Tensor)
        with init_scope() if lifted else contextlib.nullcontext():
            value = (
                convert_to_tensor(initial_value, dtype=dtype) if dtype is None else _as(initial_value, dtype)
            )
        if shape is not None:
            declared = TensorShape(shape)
            if not declared.is_compatible_with(value.shape):
                raise ValueError(
                    f"Variable: initial value of shape {value.shape} does not fit shape {declared}"
                )
        self._shape = TensorShape(value._data.shape) if shape is None else TensorShape(shape)
        self._value = value
        self._dtype = value._dtype
        self._trainable = bool(trainable)
        self._constraint = constraint
        self._unique_id = next(_uid)
        base = name if name is not None else "Variable"
        self._name = f"{state.name_scope}{base}:0"

    # ------------------------------------------------------------------ reading
    def value(self) -> Tensor:
        """The current value as a Tensor (recorded for gradients when a tape is active)."""
        t = self._value
        if state.graph is not None:  # inside gt.function: a read when the graph runs
            graph = state.graph
            t = wrap(graph.read_variable(self), graph.device)
        if state._tapes and variable_reader is not None:
            variable_reader(self, t)
        if not _autocast_ever:
            return t
        cast_to = autocast.dtype
        if cast_to is not None and self._dtype is not cast_to and self._dtype.is_floating:
            if getattr(self, "_keras_autocast", True):
                from gputensor.framework.op_table import OPS, execute

                t = execute(OPS["cast"], (t,), {"dtype": cast_to.np_dtype})
        return t

    def _read(self) -> Tensor:
        # value() without the autocast (an assignment's own read); value() inlines it.
        t = self._value
        if state.graph is not None:  # inside gt.function: a read when the graph runs
            graph = state.graph
            t = wrap(graph.read_variable(self), graph.device)
        if state._tapes and variable_reader is not None:
            variable_reader(self, t)
        return t

    def read_value(self) -> Tensor:
        return self.value()

    def numpy(self) -> np.ndarray:
        return self._value.numpy()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self._value.__array__(dtype, copy)

    # ------------------------------------------------------------------ writing
    def _checked(self, value: Any, op: str) -> Tensor:
        # TF's classes: TypeError for a value of another dtype, ValueError for another shape.
        try:
            t = convert_to_tensor(value, dtype=self._dtype)
        except (ValueError, TypeError) as exc:
            raise TypeError(
                f"{op}: cannot use a value of another dtype for variable {self._name!r} of dtype "
                f"{self._dtype.name} ({exc}); cast it first (gt.cast)"
            ) from None
        self._check_shape(tuple(t._data.shape), op)
        if t._device is not self._value._device:
            t = wrap(array_on(t, self._value._device), self._value._device)
        return t

    def _check_shape(self, shape: tuple, op: str) -> None:
        if not self._shape.is_compatible_with(shape):
            raise ValueError(
                f"{op}: shape {shape} does not match variable {self._name!r} of shape "
                f"{self._shape}; reshape the value first (gt.reshape)"
            )

    def assign(self, value: Any, use_locking: Any = None, name: Any = None, read_value: bool = True):
        """Sets the variable to ``value`` (same shape and dtype).

        Returns:
          With ``read_value`` (the default), the variable as TF returns it: a view of it that
          reads its current value and assigns to it (printed as ``'UnreadVariable'``, as TF's);
          else None.

        Raises:
          ValueError: when ``value``'s shape is not the variable's.
          TypeError: when ``value`` does not convert to the variable's dtype.
        """
        if state.graph is not None:
            return self._assign_in_graph(value, None, "assign", read_value)
        new = self._checked(value, "assign")
        if self._constraint is not None:
            new = convert_to_tensor(self._constraint(new))
        if state.tapes:  # as TF's: a later read is a new value to a tape, not the assigned tensor
            new = wrap(new._data, new._device)
        self._value = new
        return _UnreadVariable(self) if read_value else None

    def assign_add(self, delta: Any, use_locking: Any = None, name: Any = None, read_value: bool = True):
        """Adds ``delta`` to the variable; returns it as ``assign`` does."""
        if state.graph is not None:
            return self._assign_in_graph(delta, "add", "assign_add", read_value)
        d = self._checked(delta, "assign_add")
        self._value = self._combine(d, "add")
        return _UnreadVariable(self) if read_value else None

    def assign_sub(self, delta: Any, use_locking: Any = None, name: Any = None, read_value: bool = True):
        """Subtracts ``delta`` from the variable; returns it as ``assign`` does."""
        if state.graph is not None:
            return self._assign_in_graph(delta, "subtract", "assign_sub", read_value)
        d = self._checked(delta, "assign_sub")
        self._value = self._combine(d, "subtract")
        return _UnreadVariable(self) if read_value else None

    def _assign_in_graph(self, value: Any, op_name: str | None, what: str, read_value: bool):
        """Inside gt.function: an AssignVariable node, run in order when the graph runs."""
        from gputensor.framework.op_table import OPS, execute

        graph = state.graph
        t = convert_to_tensor(value, dtype=self._dtype)
        self._check_shape(tuple(t._data.shape), what)
        tapes = state.tapes
        state.tapes = ()  # an assignment is not part of any gradient
        try:
            if op_name is not None:
                t = execute(OPS[op_name], (self._read(), t))
            elif self._constraint is not None:
                t = convert_to_tensor(self._constraint(t))
            if t._device is not graph.device:
                t = wrap(array_on(t, graph.device), graph.device)
        finally:
            state.tapes = tapes
        graph.assign_variable(self, t._data)
        return self if read_value else None

    def _combine(self, delta: Tensor, op_name: str) -> Tensor:
        from gputensor.framework.op_table import OPS, execute

        tapes = state.tapes
        state.tapes = ()  # an assignment is not part of any gradient
        try:
            return execute(OPS[op_name], (self._value, delta))
        finally:
            state.tapes = tapes

    # --------------------------------------------------------------- properties
    @property
    def name(self) -> str:
        return self._name

    @property
    def dtype(self) -> dtypes.DType:
        return self._dtype

    @property
    def shape(self) -> TensorShape:
        return self._shape

    def get_shape(self) -> TensorShape:
        return self._shape

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def trainable(self) -> bool:
        return self._trainable

    @property
    def device(self) -> str:
        return self._value.device

    @property
    def constraint(self) -> Any:
        return self._constraint

    @property
    def initial_value(self) -> Tensor:
        return self._value

    def ref(self) -> Any:
        return self._value.ref().__class__(self)

    experimental_ref = ref

    def __hash__(self) -> int:
        raise TypeError("Variable is unhashable. Instead, use variable.ref() as the key.")

    def __len__(self) -> int:
        return len(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __float__(self) -> float:
        return float(self._value)

    def __int__(self) -> int:
        return int(self._value)

    def __index__(self) -> int:
        return self._value.__index__()

    def __iter__(self):
        return iter(self.value())

    def __repr__(self) -> str:
        return (
            f"<gt.Variable '{self._name}' shape={self._shape} dtype={self._dtype.name}, "
            f"numpy={self._value.__repr__().split('numpy=', 1)[1][:-1]}>"
        )

    def __setitem__(self, key: Any, value: Any) -> None:
        raise TypeError(
            "'Variable' object does not support item assignment; use v[...].assign(value) or "
            "v.assign(gt.tensor_scatter_nd_update(v, indices, updates))"
        )

    def __deepcopy__(self, memo: dict) -> Variable:
        return Variable(self._value, trainable=self._trainable, name=self._name.split("/")[-1][:-2])


class _UnreadVariable(Variable):
    """What an eager ``assign`` returns, as TF's ``_UnreadVariable``: the same variable under
    another name. It reads the variable's current value and its assignments change the
    variable (chained ``v.assign(1.0).assign_add(2.0)``); gradients and graphs see the
    variable itself (same ``_unique_id``)."""

    def __init__(self, parent: Variable) -> None:  # noqa: D107 - no super().__init__: a view
        # Two attributes: an eager assign makes one of these each call (most are dropped at
        # once); the variable's other state (shape, dtype, _unique_id, ...) is read through.
        self._parent = getattr(parent, "_parent", parent)
        self._name = "UnreadVariable"

    def __getattr__(self, name: str) -> Any:  # only for what the view does not hold itself
        return getattr(self._parent, name)

    @property
    def _value(self) -> Tensor:  # type: ignore[override]
        return self._parent._value

    def value(self) -> Tensor:
        return self._parent.value()

    def _read(self) -> Tensor:
        return self._parent._read()

    def assign(self, value: Any, use_locking: Any = None, name: Any = None, read_value: bool = True):
        return self._parent.assign(value, use_locking, name, read_value)

    def assign_add(self, delta: Any, use_locking: Any = None, name: Any = None, read_value: bool = True):
        return self._parent.assign_add(delta, use_locking, name, read_value)

    def assign_sub(self, delta: Any, use_locking: Any = None, name: Any = None, read_value: bool = True):
        return self._parent.assign_sub(delta, use_locking, name, read_value)

    def __deepcopy__(self, memo: dict) -> Variable:
        return self._parent.__deepcopy__(memo)


def _as(value: Any, dtype: Any) -> Tensor:
    if isinstance(value, Tensor) and value._dtype is not dtypes.as_dtype(dtype):
        from gputensor.framework.op_table import OPS, execute

        return execute(OPS["cast"], (value,), {"dtype": dtypes.as_dtype(dtype).np_dtype})
    return convert_to_tensor(value, dtype=dtype)


def _variable_to_tensor(v: Variable, dtype: Any) -> Tensor:
    t = v.value()
    if dtype is not None and t._dtype is not dtypes.as_dtype(dtype):
        raise ValueError(
            f"Tensor conversion requested dtype {dtypes.as_dtype(dtype).name} for variable "
            f"{v.name!r} of dtype {t._dtype.name}"
        )
    return t


register_tensor_conversion_function(Variable, _variable_to_tensor)
del context
