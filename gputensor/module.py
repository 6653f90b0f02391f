"""``gt.Module``: a named container that tracks variables and submodules, as ``tf.Module``."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

from gputensor.framework.context import NameScope, name_scope
from gputensor.framework.variable import Variable

_CAMEL_TO_SNAKE = re.compile(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))")
_VALID_IDENTIFIER = re.compile(r"^[a-zA-Z_]([a-zA-Z0-9_])*$")
_IGNORED = frozenset(("_self_unconditional_checkpoint_dependencies", "_self_unconditional_dependency_names"))


def _camel_to_snake(value: str) -> str:
    return _CAMEL_TO_SNAKE.sub(r"_\1", value).lower()


class Module:
    """Base class for models: tracks the Variables and Modules held in its attributes.

    As ``tf.Module``: attributes (and lists, tuples and dicts in them) are searched
    in sorted attribute-name order, this module's own attributes first and then
    each submodule, depth first. Variables created in ``__init__`` are named
    without the module's scope (``"w:0"``); methods decorated with
    `Module.with_name_scope` run inside it.

    Args:
      name: the module's name; a valid Python identifier. Defaults to the class
        name in snake_case.

    Raises:
      ValueError: when ``name`` is not a valid identifier.

    >>> class Dense(gt.Module):
    ...     def __init__(self, n_in, n_out, name=None):
    ...         super().__init__(name=name)
    ...         self.w = gt.Variable(gt.ones([n_in, n_out]), name="w")
    >>> [v.name for v in Dense(2, 3).trainable_variables]
    ['w:0']
    """

    def __init__(self, name: str | None = None) -> None:
        if name is None:
            name = _camel_to_snake(type(self).__name__)
        elif not isinstance(name, str) or not _VALID_IDENTIFIER.match(name):
            raise ValueError(
                f"{name!r} is not a valid module name. Module names must be valid Python identifiers "
                "(e.g. a valid class name)."
            )
        self._name = name
        with name_scope(name) as scope:
            self._scope_name = scope

    @property
    def name(self) -> str:
        """The name given at construction (or derived from the class name)."""
        return self._name

    @property
    def name_scope(self) -> NameScope:
        """A ``gt.name_scope`` for this module (e.g. ``"dense/"``, including enclosing scopes)."""
        return NameScope(self._scope_name)

    @property
    def variables(self) -> tuple:
        """All Variables of this module and its submodules, each once, in TF's order."""
        return tuple(self._flatten(predicate=_is_variable))

    @property
    def trainable_variables(self) -> tuple:
        """The Variables with ``trainable=True`` of this module and its submodules."""
        return tuple(self._flatten(predicate=_is_trainable))

    @property
    def non_trainable_variables(self) -> tuple:
        """The Variables with ``trainable=False`` of this module and its submodules."""
        return tuple(self._flatten(predicate=_is_non_trainable))

    @property
    def submodules(self) -> tuple:
        """All Modules reachable from this one (not itself), each once, in TF's order."""
        return tuple(self._flatten(predicate=_is_module))

    def _flatten(
        self,
        recursive: bool = True,
        predicate: Callable[[Any], bool] | None = None,
        attribute_traversal_key: Callable | None = None,
        with_path: bool = False,
        expand_composites: bool = False,
    ) -> Iterator[Any]:
        """Yields the leaves (or ``(path, leaf)`` pairs) of attributes that satisfy ``predicate``."""
        return _flatten_module(
            self,
            recursive=recursive,
            predicate=predicate or (lambda _: True),
            key=attribute_traversal_key,
            with_path=with_path,
            path=(),
            seen={id(self)} if not with_path else None,
            stack=[],
        )

    @classmethod
    def with_name_scope(cls, method: Callable) -> Callable:
        """Decorator running ``method`` inside the module's name scope.

        Args:
          method: a method of a Module subclass.

        Returns:
          The wrapped method; variables it creates are named ``"<module>/<name>:0"``.
        """

        @functools.wraps(method)
        def method_with_name_scope(self: Module, *args: Any, **kwargs: Any) -> Any:
            with self.name_scope:
                return method(self, *args, **kwargs)

        return method_with_name_scope


def _is_variable(x: Any) -> bool:
    return isinstance(x, Variable)


def _is_trainable(x: Any) -> bool:
    return isinstance(x, Variable) and x.trainable


def _is_non_trainable(x: Any) -> bool:
    return isinstance(x, Variable) and not x.trainable


def _is_module(x: Any) -> bool:
    return isinstance(x, Module)


def _leaves_with_paths(value: Any, path: tuple) -> Iterator[tuple[tuple, Any]]:
    """tf.nest.flatten_with_tuple_paths: dicts by sorted key, lists and tuples by index."""
    if isinstance(value, dict):
        try:
            keys = sorted(value)
        except TypeError:
            keys = list(value)
        for k in keys:
            yield from _leaves_with_paths(value[k], path + (k,))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _leaves_with_paths(v, path + (i,))
    else:
        yield path, value


def _flatten_module(
    module: Module,
    *,
    recursive: bool,
    predicate: Callable[[Any], bool],
    key: Callable | None,
    with_path: bool,
    path: tuple,
    seen: set | None,
    stack: list,
) -> Iterator[Any]:
    # Mirrors TF's _flatten_module: this module's attributes first, then each submodule.
    module_id = id(module)
    if module_id in stack:
        recursive = False  # a cycle: list this module's leaves, do not walk into it again
    attrs = vars(module)
    submodules = []
    for name in sorted(attrs, key=key):
        if name in _IGNORED:
            continue
        for leaf_path, leaf in _leaves_with_paths(attrs[name], (name,)):
            if not with_path:
                if id(leaf) in seen:
                    continue
                seen.add(id(leaf))
            if predicate(leaf):
                yield (path + leaf_path, leaf) if with_path else leaf
            if recursive and isinstance(leaf, Module):
                submodules.append((path + leaf_path, leaf))
    stack.append(module_id)
    for sub_path, sub in submodules:
        yield from _flatten_module(
            sub,
            recursive=recursive,
            predicate=predicate,
            key=key,
            with_path=with_path,
            path=sub_path,
            seen=seen,
            stack=stack,
        )
    stack.pop()
