"""Keras 3 variable naming: ``KerasVariable`` (``.name`` and ``.path``) and the path scopes.

Keras 3 names a layer's weight by what it is (``kernel``) and places it by a *path* made of
the names of the objects whose scope was open when it was created:
``sequential/dense/kernel`` for a Sequential built from an ``Input``, ``dense_1/kernel``
for a layer of a functional model (its layers are built by the user's symbolic calls,
outside any model), ``m/block/dense_2/kernel`` for a subclassed model building nested
layers in its first call, ``sgd/iteration`` for an optimizer's counter. A layer records the
path around it the first time its scope opens (``_parent_path``, as Keras), so later
scopes of that layer give the same prefix wherever it is called from.

Plain ``gt.Variable`` keeps TensorFlow's naming (``gt.Variable(1.0, name="x").name ==
"x:0"``, prefixed by ``gt.name_scope``); only the weights Keras objects create
(``add_weight``, optimizer and metric variables) are `KerasVariable`s.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from gputensor.framework.tensor import _conversion_functions, register_tensor_conversion_function
from gputensor.framework.variable import Variable

__all__ = ["KerasVariable", "current_path", "name_scope"]


class _Paths(threading.local):
    def __init__(self) -> None:
        # Entries (name, caller, override_parent): Keras 3's name_scope stack.
        self.stack: list = []


_PATHS = _Paths()


def current_path() -> str:
    """The path of the open scopes, ``"outer/inner"`` (``""`` outside any), as Keras 3's
    ``keras.src.backend.common.name_scope.current_path``."""
    parts: list = []
    for name, _caller, override in _PATHS.stack:
        if override is not None:
            parts = [p for p in override.split("/") if p]
        parts.append(name)
    return "/".join(parts)


class name_scope:  # noqa: N801 - Keras's spelling
    """Opens ``name`` as a path component for the `KerasVariable`s created inside.

    Args:
      name: the component (no ``/``).
      caller: the object opening it; when that object recorded a ``_parent_path`` the
        scope starts from that path, not from the scopes open now (Keras 3's
        ``override_parent``), and reopening the scope the same caller has open on top adds
        nothing.

    Raises:
      ValueError: for a name that is not a string or contains ``/``.
    """

    __slots__ = ("_entry", "_pushed")

    def __init__(self, name: str, caller: Any = None) -> None:
        if not isinstance(name, str) or "/" in name:
            raise ValueError(
                f"Argument `name` must be a string and cannot contain character `/`. Received: name={name}"
            )
        self._entry = (name, caller, getattr(caller, "_parent_path", None))
        self._pushed = False

    def __enter__(self) -> name_scope:
        stack = _PATHS.stack
        name, caller, _ = self._entry
        if caller is not None and stack and stack[-1][1] is caller and stack[-1][0] == name:
            return self
        stack.append(self._entry)
        self._pushed = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._pushed:
            _PATHS.stack.pop()
            self._pushed = False


def _auto_name() -> str:
    from gputensor.keras.layers.base import unique_name

    return unique_name("variable")  # Keras 3: variable, variable_1, ... (a shared counter)


class KerasVariable(Variable):
    """A ``gt.Variable`` named as Keras 3's ``keras.Variable``: ``name`` is the bare name
    given (``"kernel"``), ``path`` adds the open Keras scopes (``"sequential/dense/kernel"``).

    Everything else is ``gt.Variable``'s (``isinstance(v, gt.Variable)`` holds): reads,
    assignments, gradients, checkpoints. Errors that name the variable name its path.

    Args:
      initial_value: a Tensor or tensor-like value, or a zero-argument callable returning one.
      trainable: whether gradients and optimizers use it.
      name: the name (default ``variable``, ``variable_1``, ...); no ``/``.
      dtype: converts the initial value to this dtype if given.
      shape: must be compatible with the initial value's shape if given.

    Raises:
      ValueError: for a name that is not a string or contains ``/``.

    >>> with name_scope("outer"):
    ...     v = KerasVariable(1.0, name="x")
    >>> (v.name, v.path)
    ('x', 'outer/x')
    >>> m = gt.keras.Sequential([gt.keras.Input((3,)), gt.keras.layers.Dense(2)])
    >>> [(w.name, w.path) for w in m.weights]
    [('kernel', 'sequential/dense/kernel'), ('bias', 'sequential/dense/bias')]
    """

    def __init__(
        self,
        initial_value: Any = None,
        trainable: bool = True,
        name: str | None = None,
        dtype: Any = None,
        shape: Any = None,
    ) -> None:
        if name is None:
            name = _auto_name()
        if not isinstance(name, str) or "/" in name:
            raise ValueError(
                f"Argument `name` must be a string and cannot contain character `/`. Received: name={name}"
            )
        super().__init__(initial_value, trainable=trainable, name=name, dtype=dtype, shape=shape)
        parent = current_path()
        self._keras_name = name
        self._path = f"{parent}/{name}" if parent else name
        # gt.Variable's own messages (assign shape/dtype errors) name ``_name``: the path.
        self._name = self._path

    @property
    def name(self) -> str:
        """The name given at creation, e.g. ``"kernel"`` (Keras 3)."""
        return self._keras_name

    @property
    def path(self) -> str:
        """Where the variable lives, e.g. ``"sequential/dense/kernel"`` (Keras 3)."""
        return self._path

    def __repr__(self) -> str:
        value = np.array2string(self.numpy()) if self._value is not None else "None"
        return (
            f"<KerasVariable path={self._path}, shape={tuple(self._shape.as_list())}, "
            f"dtype={self._dtype.name}, value={value}>"
        )

    def __deepcopy__(self, memo: dict) -> KerasVariable:
        new = KerasVariable(self._value, trainable=self._trainable, name=self._keras_name)
        new._path = new._name = self._path
        for key in ("_keras_regularizer", "_keras_constraint", "_keras_autocast"):
            if key in self.__dict__:
                new.__dict__[key] = self.__dict__[key]
        return new


# Conversion looks a type up exactly (the elementwise ops' fast path): a Keras weight converts as
# a gt.Variable does, without the isinstance scan.
register_tensor_conversion_function(KerasVariable, _conversion_functions[Variable])


def path_of(variable: Any) -> str:
    """How messages name a weight: a `KerasVariable`'s path, a plain ``gt.Variable``'s TF name."""
    path = getattr(variable, "path", None)
    return path if isinstance(path, str) else str(getattr(variable, "name", "?"))
