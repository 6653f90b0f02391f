"""String ops (``gt.strings``), as ``tf.strings``: declarations and public functions.

String tensors hold NumPy object arrays of ``bytes`` and live on the CPU; every op
here runs there (`execute_on_host`), whatever ``gt.device`` scope is active, as TF
places its string kernels (they exist for the CPU only). Kernels:
gputensor/backend/cpu/strings.py. Differences from TF: docs/strings.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gputensor.errors import InvalidArgumentError, UnimplementedError
from gputensor.framework import dtypes as _dt
from gputensor.framework import shape_inference as si
from gputensor.framework.op_table import HOST_OPS, define, execute_on_host
from gputensor.framework.shape_inference import Spec
from gputensor.framework.tensor import Tensor, convert_to_tensor
from gputensor.framework.variable import Variable

__all__ = [
    "as_string", "bytes_split", "format", "join", "length", "lower", "reduce_join", "regex_full_match",
    "regex_replace", "split", "strip", "substr", "to_hash_bucket_fast", "to_number", "unicode_decode", "unicode_encode",
    "unicode_split", "upper",
]  # fmt: skip

_S = _dt.STRING
_NUMBER_OUT = (_dt.float32, _dt.float64, _dt.int32, _dt.int64, _dt.uint32, _dt.uint64)


# ------------------------------------------------------------------ shape rules
def _like_to(dtype: _dt.DType):
    def infer(op: Any, specs: list, attrs: dict) -> Spec:
        return Spec(specs[0].shape, dtype)

    return infer


def _infer_to_number(op: Any, specs: list, attrs: dict) -> Spec:
    return Spec(specs[0].shape, si.dtype_of(attrs["out_type"]))


def _infer_broadcast_strings(op: Any, specs: list, attrs: dict) -> Spec:
    return Spec(si.broadcast(*(s.shape for s in specs)) if specs else (), _dt.string)


def _infer_scalar(op: Any, specs: list, attrs: dict) -> Spec:
    return Spec((), _dt.string)


def _infer_pieces(op: Any, specs: list, attrs: dict) -> Spec:
    return Spec((None,), _dt.string)


_LENGTH = define("string_length", dtypes=_S, attrs=("unit",), differentiable=False, infer=_like_to(_dt.int32))
_UPPER = define("string_upper", dtypes=_S, attrs=("encoding",), differentiable=False, infer=si.same)
_LOWER = define("string_lower", dtypes=_S, attrs=("encoding",), differentiable=False, infer=si.same)
_STRIP = define("string_strip", dtypes=_S, differentiable=False, infer=si.same)
_JOIN = define(
    "string_join", dtypes=_S, attrs=("separator",), differentiable=False, infer=_infer_broadcast_strings
)
_REDUCE_JOIN = define(
    "reduce_join", dtypes=_S, attrs=("axis", "keepdims", "separator"), differentiable=False, infer=si.reduce
)
_SUBSTR = define("substr", attrs=("unit",), differentiable=False, infer=_infer_broadcast_strings)
_FULL_MATCH = define(
    "regex_full_match", dtypes=_S, attrs=("pattern",), differentiable=False, infer=_like_to(_dt.bool_)
)
_REPLACE = define(
    "regex_replace",
    dtypes=_S,
    attrs=("pattern", "rewrite", "replace_global"),
    differentiable=False,
    infer=si.same,
)
_TO_NUMBER = define(
    "string_to_number", dtypes=_S, attrs=("out_type",), differentiable=False, infer=_infer_to_number
)
_AS_STRING = define(
    "as_string",
    attrs=("precision", "scientific", "shortest", "width", "fill"),
    differentiable=False,
    infer=_like_to(_dt.string),
)
_FORMAT = define(
    "string_format", attrs=("template", "placeholder", "summarize"), differentiable=False, infer=_infer_scalar
)
_SPLIT = define(
    "string_split", dtypes=_S, attrs=("sep", "maxsplit"), differentiable=False, infer=_infer_pieces
)
_UNICODE_SPLIT = define(
    "unicode_split",
    dtypes=_S,
    attrs=("errors", "replacement_char"),
    differentiable=False,
    infer=_infer_pieces,
)
_BYTES_SPLIT = define("bytes_split", dtypes=_S, differentiable=False, infer=_infer_pieces)


def _infer_decode(op: Any, specs: list, attrs: dict) -> Spec:
    return Spec((None,), _dt.int32)


def _infer_encode(op: Any, specs: list, attrs: dict) -> Spec:
    shape = specs[0].shape
    return Spec(None if shape is None else shape[:-1], _dt.string)


_HASH_BUCKET = define(
    "to_hash_bucket_fast", dtypes=_S, attrs=("num_buckets",), differentiable=False, infer=_like_to(_dt.int64)
)
_UNICODE_DECODE = define(
    "unicode_decode",
    dtypes=_S,
    attrs=("errors", "replacement_char"),
    differentiable=False,
    infer=_infer_decode,
)
_UNICODE_ENCODE = define(
    "unicode_encode",
    dtypes=(_dt.int32, _dt.int64),
    attrs=("errors", "replacement_char"),
    differentiable=False,
    infer=_infer_encode,
)


HOST_OPS.update(
    op.name
    for op in (_LENGTH, _UPPER, _LOWER, _STRIP, _JOIN, _REDUCE_JOIN, _SUBSTR, _FULL_MATCH, _REPLACE,
               _TO_NUMBER, _AS_STRING, _FORMAT, _SPLIT, _UNICODE_SPLIT, _BYTES_SPLIT, _UNICODE_DECODE,
               _UNICODE_ENCODE, _HASH_BUCKET)
)  # fmt: skip


# ------------------------------------------------------------------ helpers
def _string_input(value: Any, op: str, what: str = "input") -> Tensor:
    """``value`` as a string tensor; a tensor of another dtype raises as TF's kernels do."""
    if isinstance(value, Variable):
        value = value.value()
    if isinstance(value, Tensor):
        if value._dtype is not _dt.string:
            raise InvalidArgumentError(
                f"{op}: {what} must be a string tensor, got a {value._dtype.name} tensor of shape "
                f"{value.shape}; format numbers as strings with gt.strings.as_string",
                op,
            )
        return value
    return convert_to_tensor(value, dtype=_dt.string)


def _text(value: Any, op: str, what: str) -> bytes:
    """A Python string attribute (str, bytes, or an eager scalar string tensor) as bytes."""
    if isinstance(value, Tensor):
        if value._dtype is not _dt.string or value.ndim != 0:
            raise InvalidArgumentError(f"{op}: {what} must be a scalar string, got {value!r}", op)
        try:
            value = value.numpy()
        except TypeError:
            raise UnimplementedError(
                f"{op}: {what} must be known while gt.function traces (a Python string or a "
                "constant), not a function argument; gputensor has no run-time patterns",
                op,
            ) from None
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return bytes(value)
    raise TypeError(f"{op}: {what} must be a string (str or bytes), got {type(value).__name__} {value!r}")


def _unit(unit: str, op: str) -> str:
    if unit not in ("BYTE", "UTF8_CHAR"):
        raise ValueError(f"{op}: unit must be 'BYTE' or 'UTF8_CHAR', got {unit!r}")
    return unit


def _scalar_only(t: Tensor, op: str) -> None:
    if t.shape.rank != 0:
        raise UnimplementedError(
            f"{op}: input has shape {t.shape}; for an input of rank >= 1 TF returns a "
            "RaggedTensor, which gputensor does not have yet. Split each scalar (e.g. over "
            "gt.unstack(input)) instead",
            op,
        )


# ------------------------------------------------------------ elementwise ops
def length(input: Any, unit: str = "BYTE", name: str | None = None) -> Tensor:  # noqa: A002
    """String lengths of ``input``, elementwise, as ``tf.strings.length``.

    Args:
      input: a string tensor (or str/bytes values).
      unit: "BYTE" (the default) counts bytes; "UTF8_CHAR" counts UTF-8 code points.
      name: ignored (eager).

    Returns:
      An int32 tensor of ``input``'s shape.

    >>> gt.strings.length(["hello", "héllo"]).numpy()
    array([5, 6], dtype=int32)
    """
    x = _string_input(input, "string_length")
    return execute_on_host(_LENGTH, (x,), {"unit": _unit(unit, "string_length")})


def upper(input: Any, encoding: str = "", name: str | None = None) -> Tensor:  # noqa: A002
    """Upper-cases each string, as ``tf.strings.upper``: ASCII letters only, or with
    ``encoding="utf-8"`` every Unicode letter."""
    return _case(_UPPER, input, encoding)


def lower(input: Any, encoding: str = "", name: str | None = None) -> Tensor:  # noqa: A002
    """Lower-cases each string, as ``tf.strings.lower`` (see `upper` for ``encoding``)."""
    return _case(_LOWER, input, encoding)


def _case(op: Any, input: Any, encoding: str) -> Tensor:  # noqa: A002
    if encoding not in ("", "utf-8", "UTF-8", "utf8"):
        raise InvalidArgumentError(f"{op.name}: encoding must be '' or 'utf-8', got {encoding!r}", op.name)
    x = _string_input(input, op.name)
    return execute_on_host(op, (x,), {"encoding": "utf-8" if encoding else ""})


def strip(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """Strips leading and trailing ASCII whitespace from each string, as ``tf.strings.strip``."""
    return execute_on_host(_STRIP, (_string_input(input, "string_strip"),))


def join(inputs: Sequence[Any], separator: str = "", name: str | None = None) -> Tensor:
    """Joins strings elementwise across ``inputs``, as ``tf.strings.join``.

    Args:
      inputs: a list of string tensors of one shape, or scalars (broadcast to it).
      separator: put between the joined strings.
      name: ignored (eager).

    Returns:
      A string tensor of the inputs' shape.

    Raises:
      InvalidArgumentError: if two non-scalar inputs differ in shape.

    >>> gt.strings.join([["a", "b"], "c"], separator="-").numpy()
    array([b'a-c', b'b-c'], dtype=object)
    """
    if isinstance(inputs, (Tensor, str, bytes)):
        raise TypeError("string_join: inputs must be a list of string tensors, e.g. [a, b]")
    tensors = tuple(_string_input(v, "string_join", f"inputs[{i}]") for i, v in enumerate(inputs))
    shapes = [t.shape for t in tensors if t.shape.rank != 0]
    for s in shapes[1:]:
        if s.rank != shapes[0].rank or any(
            a is not None and b is not None and a != b for a, b in zip(s.as_list(), shapes[0].as_list())
        ):
            raise InvalidArgumentError(
                f"string_join: Input shapes do not match: {shapes[0]} vs. {s}; the inputs must "
                "all have one shape, or be scalars",
                "string_join",
            )
    return execute_on_host(_JOIN, tensors, {"separator": _text(separator, "string_join", "separator")})


def reduce_join(
    inputs: Any,
    axis: Any = None,
    keepdims: bool = False,
    separator: str = "",
    name: str | None = None,
) -> Tensor:
    """Joins the strings of ``inputs`` along ``axis``, as ``tf.strings.reduce_join``.

    Args:
      inputs: a string tensor.
      axis: an int or list of ints; None joins every element (row-major order). With
        several axes, as TF, the first axis listed varies fastest: ``axis=[0, 1]`` of
        ``[["a", "b"], ["c", "d"]]`` joins a, c, b, d.
      keepdims: keep the joined axes with length 1.
      separator: put between the joined strings.
      name: ignored (eager).

    Returns:
      A string tensor.

    >>> gt.strings.reduce_join([["a", "b"], ["c", "d"]], axis=0, separator="-").numpy()
    array([b'a-c', b'b-d'], dtype=object)
    """
    x = _string_input(inputs, "reduce_join", "inputs")
    rank = x.shape.rank
    if axis is not None:
        if isinstance(axis, Tensor):
            axis = axis.numpy().tolist()
        axes = [int(a) for a in (axis if isinstance(axis, (list, tuple, np.ndarray)) else [axis])]
        if rank is not None:
            for a in axes:
                if not -rank <= a < rank:
                    raise InvalidArgumentError(
                        f"reduce_join: axis {a} is out of range for input of rank {rank}", "reduce_join"
                    )
            axes = [a + rank if a < 0 else a for a in axes]
        axis = tuple(axes)
    attrs = {
        "axis": axis,
        "keepdims": bool(keepdims),
        "separator": _text(separator, "reduce_join", "separator"),
    }
    return execute_on_host(_REDUCE_JOIN, (x,), attrs)


def substr(input: Any, pos: Any, len: Any, unit: str = "BYTE", name: str | None = None) -> Tensor:  # noqa: A002
    """Substrings of ``input``: ``len`` bytes (or UTF-8 characters) from ``pos``, as ``tf.strings.substr``.

    A negative ``pos`` counts from the end; a substring running past the end stops there.

    Args:
      input: a string tensor.
      pos: int32/int64 start positions: a scalar, or a tensor broadcasting with ``input``.
      len: int32/int64 lengths, of ``pos``'s shape.
      unit: "BYTE" or "UTF8_CHAR".
      name: ignored (eager).

    Returns:
      A string tensor.

    Raises:
      InvalidArgumentError: if a ``pos`` lies outside its string (``pos > length`` or
        ``pos < -length``), or ``pos`` and ``len`` differ in shape.

    >>> gt.strings.substr("hello", 1, 3).numpy()
    b'ell'
    """
    x = _string_input(input, "substr")
    p = convert_to_tensor(pos, dtype_hint=_dt.int32)
    n = convert_to_tensor(len, dtype_hint=_dt.int32)
    for what, t in (("pos", p), ("len", n)):
        if t._dtype not in (_dt.int32, _dt.int64):
            raise InvalidArgumentError(
                f"substr: {what} must be int32 or int64, got {t._dtype.name}", "substr"
            )
    if p.shape.rank is not None and n.shape.rank is not None and not p.shape.is_compatible_with(n.shape):
        raise InvalidArgumentError(
            f"substr: pos and len should have the same shape, got: {p.shape} vs. {n.shape}", "substr"
        )
    return execute_on_host(_SUBSTR, (x, p, n), {"unit": _unit(unit, "substr")})


def regex_full_match(input: Any, pattern: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """Whether each string matches the regular expression ``pattern`` as a whole, as
    ``tf.strings.regex_full_match`` (Python's ``re`` syntax, which agrees with RE2's for the
    common constructs).

    >>> gt.strings.regex_full_match(["ab", "abc"], "a.").numpy()
    array([ True, False])
    """
    x = _string_input(input, "regex_full_match")
    attrs = {"pattern": _text(pattern, "regex_full_match", "pattern")}
    return execute_on_host(_FULL_MATCH, (x,), attrs)


def regex_replace(
    input: Any,  # noqa: A002
    pattern: Any,
    rewrite: Any,
    replace_global: bool = True,
    name: str | None = None,
) -> Tensor:
    """Replaces matches of ``pattern`` with ``rewrite``, as ``tf.strings.regex_replace``.

    ``rewrite`` uses RE2's syntax: ``\\0`` is the whole match, ``\\1``-``\\9`` groups, ``\\\\`` a
    backslash. ``replace_global=False`` replaces the first match only.

    >>> gt.strings.regex_replace("aaa bb", "a+", r"<\\0>").numpy()
    b'<aaa> bb'
    """
    x = _string_input(input, "regex_replace")
    attrs = {
        "pattern": _text(pattern, "regex_replace", "pattern"),
        "rewrite": _text(rewrite, "regex_replace", "rewrite"),
        "replace_global": bool(replace_global),
    }
    return execute_on_host(_REPLACE, (x,), attrs)


# ------------------------------------------------------------------ conversions
def to_number(string_tensor: Any, out_type: Any = _dt.float32, name: str | None = None) -> Tensor:
    """Parses each string as a number, as ``tf.strings.to_number``.

    Args:
      string_tensor: a string tensor.
      out_type: float32 (the default), float64, int32, int64, uint32 or uint64.
      name: ignored (eager).

    Returns:
      A tensor of ``out_type`` and the input's shape.

    Raises:
      InvalidArgumentError: if a string is not a number of that type (``"1.5"`` for an int
        type, ``"abc"``, ``""``) or does not fit it.

    >>> gt.strings.to_number(["1.5", " 2 "]).numpy()
    array([1.5, 2. ], dtype=float32)
    """
    out = _dt.as_dtype(out_type)
    if out not in _NUMBER_OUT:
        raise InvalidArgumentError(
            f"string_to_number: out_type {out.name} is not supported; allowed: "
            f"{', '.join(d.name for d in _NUMBER_OUT)}",
            "string_to_number",
        )
    x = _string_input(string_tensor, "string_to_number", "string_tensor")
    return execute_on_host(_TO_NUMBER, (x,), {"out_type": out.np_dtype})


def to_hash_bucket_fast(input: Any, num_buckets: int, name: str | None = None) -> Tensor:  # noqa: A002
    """Hashes each string to a bucket in ``[0, num_buckets)``, as ``tf.strings.to_hash_bucket_fast``.

    The bucket is FarmHash's Fingerprint64 of the bytes modulo ``num_buckets``, TF's hash, so
    the buckets are TF's (a vocabulary hashed by TF maps the same here).

    Args:
      input: a string tensor.
      num_buckets: the number of buckets, >= 1.
      name: ignored (eager).

    Returns:
      An int64 tensor of ``input``'s shape.

    >>> gt.strings.to_hash_bucket_fast(["Hello", "TensorFlow", "2.x"], 3).numpy()
    array([0, 2, 2])
    """
    if isinstance(num_buckets, bool) or not isinstance(num_buckets, (int, np.integer)) or num_buckets < 1:
        raise InvalidArgumentError(
            f"to_hash_bucket_fast: num_buckets must be an int >= 1, got {num_buckets!r}",
            "to_hash_bucket_fast",
        )
    x = _string_input(input, "to_hash_bucket_fast")
    return execute_on_host(_HASH_BUCKET, (x,), {"num_buckets": int(num_buckets)})


def as_string(
    input: Any,  # noqa: A002
    precision: int = -1,
    scientific: bool = False,
    shortest: bool = False,
    width: int = -1,
    fill: str = "",
    name: str | None = None,
) -> Tensor:
    """Formats each number as a string, as ``tf.strings.as_string`` (C's printf formats).

    Args:
      input: a numeric, bool or string tensor (strings pass through unchanged).
      precision: digits after the point for floats (-1: printf's default of 6).
      scientific: ``%e`` notation for floats.
      shortest: ``%g`` notation for floats (the shorter of ``%e`` and ``%f``).
      width: pad each value to this many characters (-1: no padding).
      fill: the pad character: "" or " " (spaces, on the left) or "0" (zeros after the sign).
      name: ignored (eager).

    Returns:
      A string tensor of the input's shape. Bools give ``b"true"``/``b"false"``; complex
      values ``b"(re,im)"``.

    Raises:
      InvalidArgumentError: for both ``scientific`` and ``shortest``, a ``precision`` on a
        non-float input, or a ``fill`` of more than one character.

    >>> gt.strings.as_string([1.25, -2.0], precision=1).numpy()
    array([b'1.2', b'-2.0'], dtype=object)
    """
    x = input.value() if isinstance(input, Variable) else input
    x = x if isinstance(x, Tensor) else convert_to_tensor(x)
    dt = x._dtype
    if scientific and shortest:
        raise InvalidArgumentError(
            "as_string: Cannot select both scientific and shortest notation", "as_string"
        )
    if precision > -1 and not (dt.is_floating or dt.is_complex):
        raise InvalidArgumentError(f"as_string: precision not supported for datatype {dt.name}", "as_string")
    if (scientific or shortest) and not (dt.is_floating or dt.is_complex):
        raise InvalidArgumentError(
            f"as_string: scientific and shortest format not supported for datatype {dt.name}", "as_string"
        )
    if len(fill) > 1:
        raise InvalidArgumentError(
            f"as_string: Fill string must be one or fewer characters, got {fill!r}", "as_string"
        )
    if fill not in ("", " ", "0"):
        raise InvalidArgumentError(
            f"as_string: fill {fill!r} is not supported; printf pads with spaces ('' or ' ') or zeros ('0')",
            "as_string",
        )
    attrs = {
        "precision": int(precision),
        "scientific": bool(scientific),
        "shortest": bool(shortest),
        "width": int(width),
        "fill": fill,
    }
    return execute_on_host(_AS_STRING, (x,), attrs)


def format(  # noqa: A001
    template: str,
    inputs: Any,
    placeholder: str = "{}",
    summarize: int = 3,
    name: str | None = None,
) -> Tensor:
    """Formats ``inputs`` into ``template`` at each ``placeholder``, as ``tf.strings.format``.

    Each tensor is written as TF summarises tensors: ``[1 2 3]``, nested brackets for
    higher ranks, the first and last ``summarize`` entries of each dimension with ``...``
    between (-1: all of them), strings in double quotes.

    Args:
      template: the template string.
      inputs: a tensor or a list of tensors (or values convertible to them), one per placeholder.
      placeholder: the placeholder text in ``template``.
      summarize: entries kept at each end of every dimension.
      name: ignored (eager).

    Returns:
      A scalar string tensor.

    Raises:
      ValueError: if the number of placeholders differs from the number of inputs.

    >>> gt.strings.format("x={} y={}", [gt.constant([1.5, 2.0]), 3]).numpy()
    b'x=[1.5 2] y=3'
    """
    if not isinstance(inputs, (list, tuple)):
        inputs = [inputs]
    tensors = []
    for v in inputs:
        v = v.value() if isinstance(v, Variable) else v
        tensors.append(v if isinstance(v, Tensor) else convert_to_tensor(v))
    template_b = _text(template, "string_format", "template")
    placeholder_b = _text(placeholder, "string_format", "placeholder")
    expected = template_b.count(placeholder_b)
    if expected != len(tensors):
        raise ValueError(
            f"The template expects {expected} tensors, but the inputs only has {len(tensors)}. "
            "Please ensure the number of placeholders in template matches inputs length."
        )
    attrs = {"template": template_b, "placeholder": placeholder_b, "summarize": int(summarize)}
    return execute_on_host(_FORMAT, tuple(tensors), attrs)


# ------------------------------------------------------------------- splits
def split(input: Any, sep: Any = None, maxsplit: int = -1, name: str | None = None) -> Tensor:  # noqa: A002
    """Splits a scalar string at ``sep``, as ``tf.strings.split`` on a scalar.

    Args:
      input: a scalar string. (For rank >= 1 TF returns a RaggedTensor, which gputensor
        does not have yet: that raises UnimplementedError.)
      sep: the delimiter; None or "" splits at runs of whitespace and drops empty pieces.
      maxsplit: at most this many splits (-1: no limit).
      name: ignored (eager).

    Returns:
      A 1-D string tensor of the pieces.

    >>> gt.strings.split("a,,b", sep=",").numpy()
    array([b'a', b'', b'b'], dtype=object)
    """
    x = _string_input(input, "string_split")
    _scalar_only(x, "string_split")
    sep_b = None if sep is None else _text(sep, "string_split", "sep")
    attrs = {"sep": sep_b or None, "maxsplit": int(maxsplit)}
    return execute_on_host(_SPLIT, (x,), attrs)


def unicode_split(
    input: Any,  # noqa: A002
    input_encoding: str,
    errors: str = "replace",
    replacement_char: int = 65533,
    name: str | None = None,
) -> Tensor:
    """Splits a scalar UTF-8 string into its characters, as ``tf.strings.unicode_split``.

    Args:
      input: a scalar string (rank >= 1 gives a RaggedTensor in TF: UnimplementedError here).
      input_encoding: "UTF-8" (the only encoding supported).
      errors: for invalid UTF-8: "replace" (each bad sequence becomes ``replacement_char``),
        "ignore" (dropped) or "strict" (InvalidArgumentError).
      replacement_char: the code point invalid sequences become with "replace".
      name: ignored (eager).

    Returns:
      A 1-D string tensor, one UTF-8 character per element.
    """
    attrs = _unicode_attrs("unicode_split", input_encoding, errors, replacement_char)
    x = _string_input(input, "unicode_split")
    _scalar_only(x, "unicode_split")
    return execute_on_host(_UNICODE_SPLIT, (x,), attrs)


def _unicode_attrs(op: str, encoding: str, errors: str, replacement_char: int) -> dict:
    if encoding.upper().replace("_", "-") not in ("UTF-8", "UTF8"):
        raise UnimplementedError(f"{op}: encoding {encoding!r} is not supported; only UTF-8", op)
    if errors not in ("replace", "ignore", "strict"):
        raise ValueError(f"{op}: errors must be 'replace', 'ignore' or 'strict', got {errors!r}")
    return {"errors": errors, "replacement_char": int(replacement_char)}


def unicode_decode(
    input: Any,  # noqa: A002
    input_encoding: str,
    errors: str = "replace",
    replacement_char: int = 65533,
    replace_control_characters: bool = False,
    name: str | None = None,
) -> Tensor:
    """The Unicode code points of a scalar UTF-8 string, as ``tf.strings.unicode_decode``.

    Args:
      input: a scalar string (rank >= 1 gives a RaggedTensor in TF: UnimplementedError here).
      input_encoding: "UTF-8" (the only encoding supported).
      errors: for invalid UTF-8: "replace" (``replacement_char``), "ignore" or "strict"
        (InvalidArgumentError).
      replacement_char: the code point invalid sequences become with "replace".
      replace_control_characters: also replace C0 control characters (U+0000-U+001F).
      name: ignored (eager).

    Returns:
      A 1-D int32 tensor.

    >>> gt.strings.unicode_decode("hé", "UTF-8").numpy()
    array([104, 233], dtype=int32)
    """
    attrs = _unicode_attrs("unicode_decode", input_encoding, errors, replacement_char)
    x = _string_input(input, "unicode_decode")
    _scalar_only(x, "unicode_decode")
    out = execute_on_host(_UNICODE_DECODE, (x,), attrs)
    if replace_control_characters:
        from gputensor.ops.array_ops import where

        out = where(out < 32, replacement_char, out)
    return out


def unicode_encode(
    input: Any,  # noqa: A002
    output_encoding: str,
    errors: str = "replace",
    replacement_char: int = 65533,
    name: str | None = None,
) -> Tensor:
    """Encodes rows of Unicode code points as UTF-8 strings, as ``tf.strings.unicode_encode``.

    Args:
      input: an int32/int64 tensor of rank >= 1; its last axis is one string's code points.
      output_encoding: "UTF-8" (the only encoding supported).
      errors: for a value that is no code point (negative, above U+10FFFF, a surrogate):
        "replace" (``replacement_char``), "ignore" or "strict" (InvalidArgumentError).
      replacement_char: what invalid values become with "replace".
      name: ignored (eager).

    Returns:
      A string tensor of the input's shape without its last axis.

    Raises:
      ValueError: for a scalar input.

    >>> gt.strings.unicode_encode([104, 233], "UTF-8").numpy()
    b'h\\xc3\\xa9'
    """
    attrs = _unicode_attrs("unicode_encode", output_encoding, errors, replacement_char)
    x = input.value() if isinstance(input, Variable) else input
    x = x if isinstance(x, Tensor) else convert_to_tensor(x, dtype_hint=_dt.int32)
    if x._dtype not in (_dt.int32, _dt.int64):
        raise InvalidArgumentError(
            f"unicode_encode: input must be int32 or int64 code points, got {x._dtype.name}", "unicode_encode"
        )
    if x.shape.rank == 0:
        raise ValueError("unicode_encode: input_tensor's rank must be at least 1.")
    return execute_on_host(_UNICODE_ENCODE, (x,), attrs)


def bytes_split(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """Splits a scalar string into its bytes, as ``tf.strings.bytes_split``.

    Rank >= 1 inputs (a RaggedTensor in TF) raise UnimplementedError.

    >>> gt.strings.bytes_split("hi").numpy()
    array([b'h', b'i'], dtype=object)
    """
    x = _string_input(input, "bytes_split")
    _scalar_only(x, "bytes_split")
    return execute_on_host(_BYTES_SPLIT, (x,))
