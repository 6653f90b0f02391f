"""``convert`` and ``converted_call``: which functions AutoGraph rewrites, and the cache.

A function converts when its source can be read and it is user code: not gputensor,
not the standard library, not an installed package. Its source is parsed, rewritten
(transformer.py) and compiled once per code object with the original file name and
line numbers; each function object then gets the compiled code with its own
globals, defaults and closure cells (the same cells, so ``nonlocal`` writes and later
changes of closed-over variables are seen as in the original).
"""

from __future__ import annotations

import ast
import functools
import inspect
import os
import sysconfig
import textwrap
import types
import warnings
import weakref
from collections.abc import Callable
from typing import Any

from gputensor.graph.autograph import operators, transformer

_ag = types.SimpleNamespace(
    **{name: getattr(operators, name) for name in ("if_stmt", "while_stmt", "for_stmt", "for_iterable",
                                                   "and_", "or_", "not_", "Undefined", "checked_return")}
)  # fmt: skip
_code_cache: dict[types.CodeType, types.CodeType | None] = {}
_function_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_warned: set = set()
_PACKAGE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_LIBRARY = tuple(
    os.path.abspath(p)
    for p in {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
)


def _is_user_code(fn: types.FunctionType) -> bool:
    filename = fn.__code__.co_filename
    if filename.startswith("<"):
        return True  # a REPL or exec: conversion finds no source and warns once
    path = os.path.abspath(filename)
    if path.startswith(_PACKAGE + os.sep) or path.startswith(_LIBRARY):
        return False
    return "site-packages" not in path and "dist-packages" not in path


def _converted_code(fn: types.FunctionType) -> types.CodeType | None:
    """The rewritten code of ``fn``'s code object, or None when its source cannot be used."""
    code = fn.__code__
    if code in _code_cache:
        return _code_cache[code]
    result = None
    try:
        lines, first = inspect.getsourcelines(fn)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        _warn_once(fn, "its source code is not available (defined in a REPL, exec or a lambda?)")
    else:
        ast.increment_lineno(tree, first - 1)
        try:
            if not tree.body or getattr(tree.body[0], "name", None) != fn.__name__:
                raise transformer.UnsupportedError("the source does not define it by name (a lambda?)")
            result = _compile(tree, code)
        except transformer.UnsupportedError as exc:
            _warn_once(fn, str(exc))
    _code_cache[code] = result
    return result


def _compile(tree: ast.Module, code: types.CodeType) -> types.CodeType:
    fn_node = transformer.transform(tree, code.co_filename)
    # A factory whose parameters are ``ag__`` and the original free variables: the
    # converted function's free variables are then a subset of them, which the original
    # closure cells can fill (see `convert`).
    params = ["ag__", *code.co_freevars]
    factory = ast.FunctionDef(
        name="ag__factory",
        args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=p) for p in params], vararg=None,
                           kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
        body=[fn_node, ast.Return(value=ast.Name(id=fn_node.name, ctx=ast.Load()))],
        decorator_list=[],
        returns=None,
        **({"type_params": []} if "type_params" in ast.FunctionDef._fields else {}),
    )  # fmt: skip
    module = ast.Module(body=[factory], type_ignores=[])
    ast.copy_location(factory, fn_node)
    ast.fix_missing_locations(module)
    compiled = compile(module, code.co_filename, "exec")
    factory_code = next(c for c in compiled.co_consts if isinstance(c, types.CodeType))
    return next(
        c for c in factory_code.co_consts if isinstance(c, types.CodeType) and c.co_name == code.co_name
    )


def _warn_once(fn: Any, why: str) -> None:
    key = getattr(fn, "__code__", fn)
    if key in _warned:
        return
    _warned.add(key)
    warnings.warn(
        f"AutoGraph could not convert {getattr(fn, '__qualname__', fn)!r} and runs it as it is: {why}. "
        "Python `if`/`while` on tensors in it raise; write them with gt.cond/gt.while_loop",
        stacklevel=4,
    )


def convert(fn: Callable) -> Callable:
    """``fn`` with its control flow converted by AutoGraph (``fn`` itself when it cannot be).

    Functions, bound methods, ``functools.partial`` objects and callable objects whose
    ``__call__`` is user code convert; the result behaves as ``fn`` (same globals,
    closure, defaults), with tensor-dependent ``if``/``while``/``for`` becoming graph
    nodes while a gt.function is traced.
    """
    if isinstance(fn, types.MethodType):
        inner = convert(fn.__func__)
        return fn if inner is fn.__func__ else types.MethodType(inner, fn.__self__)
    if isinstance(fn, functools.partial):
        inner = convert(fn.func)
        return fn if inner is fn.func else functools.partial(inner, *fn.args, **fn.keywords)
    if not isinstance(fn, types.FunctionType):
        call = getattr(type(fn), "__call__", None)  # noqa: B004 (the class's own method)
        if isinstance(call, types.FunctionType) and _is_user_code(call):
            converted = convert(call)
            if converted is not call:
                return types.MethodType(converted, fn)
        return fn
    # Functions defined inside converted code are converted already (they use ``ag__``).
    if fn.__name__ == "<lambda>":
        return fn  # its source is a line with other code around it: lambdas run as they are
    if getattr(fn, "__ag_converted__", False) or "ag__" in fn.__code__.co_freevars or not _is_user_code(fn):
        return fn
    try:
        return _function_cache[fn]
    except KeyError:
        pass
    code = _converted_code(fn)
    if code is None:
        result = fn
    else:
        cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
        cells["ag__"] = types.CellType(_ag)
        result = types.FunctionType(
            code, fn.__globals__, fn.__name__, fn.__defaults__, tuple(cells[n] for n in code.co_freevars)
        )
        result.__kwdefaults__ = fn.__kwdefaults__
        result.__qualname__ = fn.__qualname__
        result.__module__ = fn.__module__
        result.__doc__ = fn.__doc__
        result.__dict__.update(fn.__dict__)
        result.__ag_converted__ = True
        result.__wrapped__ = fn
    _function_cache[fn] = result
    return result


def converted_call(fn: Any, args: tuple, kwargs: dict) -> Any:
    """``fn(*args, **kwargs)`` from converted code: user functions convert first."""
    from gputensor.graph.polymorphic_function import PolymorphicFunction

    if isinstance(fn, PolymorphicFunction) or not callable(fn):
        return fn(*args, **kwargs)
    if isinstance(fn, (types.FunctionType, types.MethodType, functools.partial)) or (
        not isinstance(fn, type) and isinstance(getattr(type(fn), "__call__", None), types.FunctionType)  # noqa: B004
    ):
        fn = convert(fn)
    return fn(*args, **kwargs)


_ag.converted_call = converted_call
