"""AutoGraph: Python ``if``/``while``/``for`` on tensors in gt.function become cond/While nodes.

`api.convert` rewrites a function's source (transformer.py) into calls of the helpers
in operators.py, which decide at trace time: a symbolic tensor condition makes a
``gt.cond``/``gt.while_loop`` node, a Python one runs as plain Python.
"""

from __future__ import annotations

from gputensor.graph.autograph.api import convert, converted_call

__all__ = ["convert", "converted_call"]
