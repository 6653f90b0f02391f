"""``gt.print``: prints tensors as TF's tf.print does, eagerly or at every call of a gt.function."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from gputensor.framework.context import state
from gputensor.framework.tensor import Tensor

__all__ = ["print"]


def print(  # noqa: A001 - TF's public name
    *inputs: Any,
    output_stream: Any = None,
    summarize: int = 3,
    sep: str = " ",
    end: str = "\n",
    name: str | None = None,
) -> None:
    """Prints tensors and Python values, as ``tf.print``.

    Each tensor prints as TF prints it: floats with 6 significant digits (15 for
    float64) when that reads back exactly, else 9 (17), bools as 1 and 0,
    and at most ``summarize`` items at each end of every dimension (-1: all). Inside a
    `gt.function` it prints at every call, with the values of that call.

    Args:
      *inputs: tensors, variables and Python values.
      output_stream: a file-like object, or ``"file://path"`` to append to a file;
        sys.stderr by default (as TF).
      summarize: items printed at each end of a dimension; -1 for all.
      sep: the separator between inputs.
      end: written after the last input.
      name: ignored (eager).

    >>> gt.print(gt.constant([1, 2, 3]), "done", output_stream=sys.stdout)
    [1 2 3] done
    """
    graph = state.graph
    if graph is not None:
        graph.print_node(list(inputs), lambda values: _write(values, output_stream, summarize, sep, end))
        return
    _write(inputs, output_stream, summarize, sep, end)


def _write(values: Any, stream: Any, summarize: int, sep: str, end: str) -> None:
    text = sep.join(_format(v, summarize) for v in values) + end
    if stream is None:
        stream = sys.stderr
    if isinstance(stream, str):
        if not stream.startswith("file://"):
            raise ValueError(f"print: output_stream {stream!r} must be a file object or 'file://path'")
        with open(stream[len("file://") :], "a", encoding="utf-8") as f:
            f.write(text)
        return
    stream.write(text)


def _format(value: Any, summarize: int) -> str:
    if hasattr(value, "read_value"):  # a Variable
        value = value.read_value()
    if isinstance(value, Tensor):
        return _array(np.asarray(value.numpy()), summarize, 0)
    return str(value)


def _float(x: Any) -> str:
    """As TF's FloatToBuffer: the dtype's digits10 significant digits when they read back
    exactly (0.1 prints as 0.1), else max_digits10 (pi in float32 prints as 3.14159274)."""
    wide = x.dtype == np.float64
    short, full = (15, 17) if wide else (6, 9)  # DBL_DIG, DBL_DIG + 2; FLT_DIG, FLT_DIG + 3
    value = float(x)
    text = f"{value:.{short}g}"
    back = float(text) if wide else np.float32(text)
    if back == (value if wide else np.float32(value)) or value != value:
        return text
    return f"{value:.{full}g}"


def _scalar(x: Any) -> str:
    if isinstance(x, bytes):  # a string element: quoted and C-escaped, as tf.print writes it
        from gputensor.backend.cpu.strings import c_escape

        return '"' + c_escape(x) + '"'
    if isinstance(x, (bool, np.bool_)):
        return "1" if x else "0"
    if isinstance(x, np.floating) or (hasattr(x, "dtype") and x.dtype.kind == "V"):  # bfloat16 too
        return _float(x)
    if isinstance(x, np.complexfloating):
        return "?"  # TF does not print complex values
    return str(x)


def _array(a: np.ndarray, summarize: int, depth: int) -> str:
    if a.ndim == 0:
        return _scalar(a[()])
    n = a.shape[0]
    if 0 <= summarize and 2 * summarize < n:
        rows: list = list(range(summarize)) + [None] + list(range(n - summarize, n))
    else:
        rows = list(range(n))
    if a.ndim == 1:
        return "[" + " ".join("..." if i is None else _scalar(a[i]) for i in rows) + "]"
    parts = ["..." if i is None else _array(a[i], summarize, depth + 1) for i in rows]
    return "[" + ("\n" * (a.ndim - 1) + " " * (depth + 1)).join(parts) + "]"
