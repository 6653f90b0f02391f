"""``gt.autograph``: the AutoGraph conversion gt.function applies, as ``tf.autograph``.

``to_code(f)`` shows the converted source, ``to_graph(f)`` returns the converted function,
``experimental.do_not_convert`` keeps a function as it is.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
from collections.abc import Callable
from typing import Any

from gputensor.graph.autograph import api, transformer

__all__ = ["experimental", "to_code", "to_graph"]


def to_graph(
    entity: Callable, recursive: bool = True, experimental_optional_features: Any = None
) -> Callable:
    """``entity`` with its tensor-dependent ``if``/``while``/``for``/``break``/``continue``/
    ``return`` converted to graph control flow (itself when AutoGraph cannot read its source)."""
    return api.convert(entity)


def to_code(entity: Callable, recursive: bool = True, experimental_optional_features: Any = None) -> str:
    """The Python source AutoGraph makes of ``entity`` (a function or method), as
    ``tf.autograph.to_code``: calls into ``ag__`` where control flow may depend on tensors.

    Raises:
      ValueError: when the source of ``entity`` cannot be read (a lambda, a REPL definition).
    """
    fn = entity.__func__ if isinstance(entity, types.MethodType) else entity
    try:
        lines, _ = inspect.getsourcelines(fn)
        tree = ast.parse(textwrap.dedent("".join(lines)))
        converted = transformer.transform(tree, fn.__code__.co_filename)
    except (OSError, TypeError, SyntaxError, transformer.UnsupportedError) as exc:
        raise ValueError(f"autograph.to_code: cannot convert {entity!r}: {exc}") from None
    return ast.unparse(converted) + "\n"


def _do_not_convert(func: Callable | None = None) -> Any:
    """Decorator: AutoGraph leaves ``func`` as it is (its Python control flow stays Python)."""
    if func is None:
        return _do_not_convert
    func.__ag_converted__ = True  # what convert() checks to leave a function alone
    return func


experimental = types.SimpleNamespace(do_not_convert=_do_not_convert)
