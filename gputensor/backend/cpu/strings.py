"""CPU kernels of the string ops (see the op table in gputensor/ops/string_ops.py).

String tensors are NumPy object arrays of Python ``bytes``. Each kernel maps a
Python ``bytes`` method (or ``re``) over the elements with ``np.frompyfunc``,
which loops in C and broadcasts as NumPy ufuncs do; results are always arrays
(NumPy gives a bare object for 0-d inputs, `_array` boxes it back).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from typing import Any

import numpy as np

from gputensor.errors import InvalidArgumentError

_OBJECT = np.dtype(object)


def _array(value: Any, dtype: Any = _OBJECT) -> np.ndarray:
    """``value`` (an array, or the bare element NumPy returns for 0-d) as an array of ``dtype``."""
    if isinstance(value, np.ndarray):
        return value if value.dtype == dtype else value.astype(dtype)
    out = np.empty((), dtype=dtype)
    out[()] = value
    return out


def _map(fn: Callable, *arrays: Any, dtype: Any = _OBJECT) -> np.ndarray:
    return _array(np.frompyfunc(fn, len(arrays), 1)(*arrays), dtype)


def _decode(b: bytes) -> str:
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidArgumentError(f"Invalid UTF-8 in string {b!r}: {exc}") from None


# ------------------------------------------------------------------ elementwise
def _length(x: Any, unit: str) -> np.ndarray:
    if unit == "BYTE":
        return _map(len, x, dtype=np.int32)
    return _map(lambda b: len(_decode(b)), x, dtype=np.int32)


def _upper(x: Any, encoding: str) -> np.ndarray:
    if encoding:  # TF: with an encoding, Unicode case mapping; without, ASCII letters only
        return _map(lambda b: _decode(b).upper().encode("utf-8"), x)
    return _map(bytes.upper, x)


def _lower(x: Any, encoding: str) -> np.ndarray:
    if encoding:
        return _map(lambda b: _decode(b).lower().encode("utf-8"), x)
    return _map(bytes.lower, x)


def _strip(x: Any) -> np.ndarray:
    # bytes.strip() strips ASCII whitespace, as TF's absl::StripAsciiWhitespace.
    return _map(bytes.strip, x)


def _join(*inputs: Any, separator: bytes) -> np.ndarray:
    if not inputs:
        return _array(b"")
    return _map(lambda *parts: separator.join(parts), *inputs)


def _reduce_join(x: Any, axis: tuple | None, keepdims: bool, separator: bytes) -> np.ndarray:
    x = np.asarray(x, dtype=object)
    axes = tuple(range(x.ndim - 1, -1, -1)) if axis is None else axis  # None: row-major order
    # The reduced axes move last, then each row is joined. TF's order: the first axis given
    # varies fastest (axis=[0, 1] of [[a, b], [c, d]] joins a, c, b, d), so they go reversed.
    kept = [d for d in range(x.ndim) if d not in axes]
    moved = np.transpose(x, kept + list(axes)[::-1])
    rows = moved.reshape(tuple(x.shape[d] for d in kept) + (-1,))
    out = np.empty(rows.shape[:-1], dtype=object)
    for index in np.ndindex(out.shape):
        out[index] = separator.join(rows[index])
    if keepdims:
        out = out.reshape(tuple(1 if d in axes else x.shape[d] for d in range(x.ndim)))
    return out


def _substr(x: Any, pos: Any, length: Any, unit: str) -> np.ndarray:
    def one(s: bytes, p: Any, n: Any) -> bytes:
        p, n = int(p), int(n)
        seq = s if unit == "BYTE" else _decode(s)
        size = len(seq)
        if p > size or p < -size:
            raise InvalidArgumentError(f"pos {p} out of range for string {s!r}")
        start = p if p >= 0 else size + p
        part = seq[start : start + max(n, 0)] if n >= 0 else seq[start:]
        return part if unit == "BYTE" else part.encode("utf-8")

    return _map(one, x, pos, length)


def _regex_full_match(x: Any, pattern: bytes) -> np.ndarray:
    regex = _compile(pattern)
    return _map(lambda s: regex.fullmatch(s) is not None, x, dtype=np.bool_)


def _compile(pattern: bytes) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise InvalidArgumentError(
            f"Invalid pattern: {pattern.decode('utf-8', 'replace')}, error: {exc}"
        ) from None


_REWRITE = re.compile(rb"\\(\d|\\)")


def _regex_replace(x: Any, pattern: bytes, rewrite: bytes, replace_global: bool) -> np.ndarray:
    regex = _compile(pattern)
    # RE2's rewrite syntax: \0..\9 are groups (\0 the whole match), \\ a backslash, all else is
    # literal (Python's templates would also read \n, \g<..> and octal escapes).
    pieces = []
    last = 0
    for m in _REWRITE.finditer(rewrite):
        pieces.append(rewrite[last : m.start()])
        token = m.group(1)
        pieces.append(b"\\" if token == b"\\" else int(token))
        last = m.end()
    pieces.append(rewrite[last:])
    for p in pieces:
        if isinstance(p, int) and p > regex.groups:
            raise InvalidArgumentError(
                f"Invalid rewrite pattern: {rewrite!r} refers to group \\{p}, but the pattern has "
                f"{regex.groups} group(s)"
            )

    def expand(m: re.Match) -> bytes:
        return b"".join(p if isinstance(p, bytes) else (m.group(p) or b"") for p in pieces)

    count = 0 if replace_global else 1
    return _map(lambda s: regex.sub(expand, s, count=count), x)


# ------------------------------------------------------------------ conversions
_INT = re.compile(rb"^\s*[+-]?\d+\s*$")
_FLOAT = re.compile(rb"^\s*[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|infinity|nan)\s*$", re.I)


def _to_number(x: Any, out_type: np.dtype) -> np.ndarray:
    out_type = np.dtype(out_type)
    integer = out_type.kind in "iu"
    info = np.iinfo(out_type) if integer else None

    def one(s: bytes) -> Any:
        if integer:
            if _INT.match(s) and info.min <= int(s) <= info.max:
                return int(s)
        elif _FLOAT.match(s):
            return float(s)
        raise InvalidArgumentError(
            f"StringToNumberOp could not correctly convert string: {s.decode('utf-8', 'replace')}"
        )

    if integer:
        return _map(one, x, dtype=object).astype(out_type)
    return _map(one, x, dtype=np.float64).astype(out_type)


def _as_string(x: Any, precision: int, scientific: bool, shortest: bool, width: int, fill: str) -> np.ndarray:
    x = np.asarray(x)
    kind = x.dtype.kind
    if kind == "O":
        return _array(x)
    flags = "0" if fill == "0" else ""
    w = str(width) if width > -1 else ""
    if kind == "b":
        fmt = f"%{w}s"
        return _map(lambda v: (fmt % ("true" if v else "false")).encode(), x)
    if kind in "iu":
        fmt = f"%{flags}{w}d"
        return _map(lambda v: (fmt % int(v)).encode(), x)
    p = f".{precision}" if precision > -1 else ""
    conv = "e" if scientific else ("g" if shortest else "f")
    fmt = f"%{flags}{w}{p}{conv}"
    if kind == "c":
        part = f"%{p}{conv}"
        pair = f"({part},{part})"
        return _map(lambda v: (pair % (v.real, v.imag)).encode(), x)
    return _map(lambda v: (fmt % float(v)).encode(), x)


# ------------------------------------------------------------------- format
_ESCAPES = {0x5C: b"\\\\", 0x22: b'\\"', 0x27: b"\\'", 0x0A: b"\\n", 0x0D: b"\\r", 0x09: b"\\t"}


def c_escape(b: bytes) -> str:
    """absl::Utf8SafeCEscape: C escapes for quotes, backslash and control bytes; UTF-8 kept."""
    out = bytearray()
    for c in b:
        esc = _ESCAPES.get(c)
        if esc is not None:
            out += esc
        elif c < 0x20 or c == 0x7F:
            out += b"\\%03o" % c
        else:
            out.append(c)
    return out.decode("utf-8", "replace")


def _element_text(v: Any, kind: str, dtype: np.dtype) -> str:
    """One element as TF's PrintOneElement (print_v2) writes it."""
    if kind == "O":
        return '"' + c_escape(v) + '"'
    if kind == "b":
        return "1" if v else "0"
    if kind in "iu":
        return str(int(v))
    if kind == "c":
        return f"({_float_text(v.real, dtype)},{_float_text(v.imag, dtype)})"
    return _float_text(v, dtype)


def _float_text(v: Any, dtype: np.dtype) -> str:
    # TF's StrCat(float/double): the shortest of FLT_DIG (DBL_DIG) digits that reads back the
    # same value, else FLT_DIG + 3 (DBL_DIG + 2) digits.
    if dtype == np.float64 or dtype == np.complex128:
        text = f"{float(v):.15g}"
        return text if float(text) == float(v) else f"{float(v):.17g}"
    f = np.float32(v)
    text = f"{float(f):.6g}"
    return text if np.float32(float(text)) == f or np.isnan(f) else f"{float(f):.9g}"


def _summarize(x: np.ndarray, summarize: int) -> str:
    """A tensor's summary as TF's Tensor::SummarizeValue(print_v2=True) writes it."""
    kind = x.dtype.kind
    if x.ndim == 0:
        return _element_text(x[()], kind, x.dtype)
    n = x.size
    ends = n if summarize < 0 or summarize > n else summarize
    flat = x.reshape(-1)
    shape = x.shape
    parts: list[str] = []

    def spacing(dim: int) -> None:
        if dim == x.ndim - 1:
            parts.append(" ")
            return
        parts.append("\n" * (x.ndim - dim - 1) + " " * (dim + 1))

    def one_dim(dim: int, index: int) -> None:
        if dim == x.ndim:
            parts.append(_element_text(flat[index], kind, x.dtype))
            return
        parts.append("[")
        count = shape[dim]
        per = 1
        for d in shape[dim + 1 :]:
            per *= d
        start_of_end = max(ends, count - ends)
        for i in range(min(ends, count)):
            if i > 0:
                spacing(dim)
            one_dim(dim + 1, index + per * i)
        if count > 2 * ends:
            spacing(dim)
            parts.append("...")
        for i in range(start_of_end, count):
            spacing(dim)
            one_dim(dim + 1, index + per * i)
        parts.append("]")

    one_dim(0, 0)
    return "".join(parts)


def _format(*inputs: Any, template: bytes, placeholder: bytes, summarize: int) -> np.ndarray:
    pieces = template.split(placeholder)
    out = [pieces[0]]
    for value, piece in zip(inputs, pieces[1:]):
        out.append(_summarize(np.asarray(value), summarize).encode("utf-8"))
        out.append(piece)
    return _array(b"".join(out))


# -------------------------------------------------------------------- splits
def _split(x: Any, sep: bytes | None, maxsplit: int) -> np.ndarray:
    s = np.asarray(x, dtype=object)[()]
    parts = s.split(sep, maxsplit)
    out = np.empty(len(parts), dtype=object)
    out[:] = parts
    return out


def _text_of(x: Any, errors: str, replacement_char: int) -> str:
    """A scalar string decoded from UTF-8, invalid sequences handled as ``errors`` says."""
    s = np.asarray(x, dtype=object)[()]
    if errors == "strict":
        try:
            return s.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidArgumentError(f"Invalid formatting on input string {s!r}") from None
    text = s.decode("utf-8", errors)
    if errors == "replace" and replacement_char != 0xFFFD:
        text = text.replace("\ufffd", chr(replacement_char))
    return text


def _unicode_decode(x: Any, errors: str, replacement_char: int) -> np.ndarray:
    return np.array([ord(c) for c in _text_of(x, errors, replacement_char)], dtype=np.int32)


def _unicode_encode(x: Any, errors: str, replacement_char: int) -> np.ndarray:
    codes = np.asarray(x)
    out = np.empty(int(np.prod(codes.shape[:-1], dtype=np.int64)), dtype=object)
    rows = codes.reshape(out.size, codes.shape[-1])

    def char(cp: int) -> str:
        if 0 <= cp <= 0x10FFFF and not 0xD800 <= cp <= 0xDFFF:
            return chr(cp)
        if errors == "strict":
            raise InvalidArgumentError("Code point is out of range for Unicode, or is a surrogate.")
        return chr(replacement_char) if errors == "replace" else ""

    for i in range(out.size):
        out[i] = "".join(char(int(cp)) for cp in rows[i]).encode("utf-8")
    return out.reshape(codes.shape[:-1])


def _unicode_split(x: Any, errors: str, replacement_char: int) -> np.ndarray:
    chars = [c.encode("utf-8") for c in _text_of(x, errors, replacement_char)]
    out = np.empty(len(chars), dtype=object)
    out[:] = chars
    return out


def _bytes_split(x: Any) -> np.ndarray:
    s = np.asarray(x, dtype=object)[()]
    out = np.empty(len(s), dtype=object)
    out[:] = [s[i : i + 1] for i in range(len(s))]
    return out


# ------------------------------------------------------------- FarmHash Fingerprint64
# TF's Fingerprint64 (tf.fingerprint, to_hash_bucket_fast) is FarmHash's farmhashna::Hash64;
# this is that algorithm on Python ints (mod 2**64), checked against TF 2.21's values.
_M = (1 << 64) - 1
_K0, _K1, _K2 = 0xC3A5C85C97CB3127, 0xB492B66FBE98F273, 0x9AE16A3B2F90404F


# Helpers named as in farmhash.cc: Rotate (right), Fetch64/Fetch32 (little-endian loads),
# ShiftMix, HashLen16, the short-input paths, WeakHashLen32WithSeeds.
def _rot(v, s):
    return v if s == 0 else ((v >> s) | (v << (64 - s))) & _M


def _f64(s, i):
    return struct.unpack_from("<Q", s, i)[0]


def _f32(s, i):
    return struct.unpack_from("<I", s, i)[0]


def _smix(v):
    return v ^ (v >> 47)


def _h16(u, v, mul):
    a = ((u ^ v) * mul) & _M
    a ^= a >> 47
    b = ((v ^ a) * mul) & _M
    b ^= b >> 47
    return (b * mul) & _M


def _len0to16(s, n):
    if n >= 8:
        mul = (_K2 + n * 2) & _M
        a = (_f64(s, 0) + _K2) & _M
        b = _f64(s, n - 8)
        c = (_rot(b, 37) * mul + a) & _M
        d = ((_rot(a, 25) + b) * mul) & _M
        return _h16(c, d, mul)
    if n >= 4:
        mul = (_K2 + n * 2) & _M
        a = _f32(s, 0)
        return _h16((n + (a << 3)) & _M, _f32(s, n - 4), mul)
    if n > 0:
        a, b, c = s[0], s[n >> 1], s[n - 1]
        y = (a + (b << 8)) & 0xFFFFFFFF
        z = (n + (c << 2)) & 0xFFFFFFFF
        return (_smix(((y * _K2) ^ (z * _K0)) & _M) * _K2) & _M
    return _K2


def _len17to32(s, n):
    mul = (_K2 + n * 2) & _M
    a = (_f64(s, 0) * _K1) & _M
    b = _f64(s, 8)
    c = (_f64(s, n - 8) * mul) & _M
    d = (_f64(s, n - 16) * _K2) & _M
    return _h16((_rot((a + b) & _M, 43) + _rot(c, 30) + d) & _M, (a + _rot((b + _K2) & _M, 18) + c) & _M, mul)


def _len33to64(s, n):
    mul = (_K2 + n * 2) & _M
    a = (_f64(s, 0) * _K2) & _M
    b = _f64(s, 8)
    c = (_f64(s, n - 8) * mul) & _M
    d = (_f64(s, n - 16) * _K2) & _M
    y = (_rot((a + b) & _M, 43) + _rot(c, 30) + d) & _M
    z = _h16(y, (a + _rot((b + _K2) & _M, 18) + c) & _M, mul)
    e = (_f64(s, 16) * mul) & _M
    f = _f64(s, 24)
    g = ((y + _f64(s, n - 32)) * mul) & _M
    h = ((z + _f64(s, n - 24)) * mul) & _M
    return _h16((_rot((e + f) & _M, 43) + _rot(g, 30) + h) & _M, (e + _rot((f + a) & _M, 18) + g) & _M, mul)


def _weak(s, i, a, b):
    w, x, y, z = _f64(s, i), _f64(s, i + 8), _f64(s, i + 16), _f64(s, i + 24)
    a = (a + w) & _M
    b = _rot((b + a + z) & _M, 21)
    c = a
    a = (a + x) & _M
    a = (a + y) & _M
    b = (b + _rot(a, 44)) & _M
    return (a + z) & _M, (b + c) & _M


def fingerprint64(s: bytes) -> int:
    """FarmHash's Fingerprint64 of ``s``, as TF computes it (an unsigned 64-bit int)."""
    n = len(s)
    if n <= 16:
        return _len0to16(s, n)
    if n <= 32:
        return _len17to32(s, n)
    if n <= 64:
        return _len33to64(s, n)
    seed = 81
    x = seed
    y = (seed * _K1 + 113) & _M
    z = (_smix((y * _K2 + 113) & _M) * _K2) & _M
    v = (0, 0)
    w = (0, 0)
    x = (x * _K2 + _f64(s, 0)) & _M
    end = ((n - 1) // 64) * 64
    last64 = end + ((n - 1) & 63) - 63
    i = 0
    while True:
        x = (_rot((x + y + v[0] + _f64(s, i + 8)) & _M, 37) * _K1) & _M
        y = (_rot((y + v[1] + _f64(s, i + 48)) & _M, 42) * _K1) & _M
        x ^= w[1]
        y = (y + v[0] + _f64(s, i + 40)) & _M
        z = (_rot((z + w[0]) & _M, 33) * _K1) & _M
        v = _weak(s, i, (v[1] * _K1) & _M, (x + w[0]) & _M)
        w = _weak(s, i + 32, (z + w[1]) & _M, (y + _f64(s, i + 16)) & _M)
        z, x = x, z
        i += 64
        if i == end:
            break
    mul = (_K1 + ((z & 0xFF) << 1)) & _M
    i = last64
    w = ((w[0] + ((n - 1) & 63)) & _M, w[1])
    v = ((v[0] + w[0]) & _M, v[1])
    w = ((w[0] + v[0]) & _M, w[1])
    x = (_rot((x + y + v[0] + _f64(s, i + 8)) & _M, 37) * mul) & _M
    y = (_rot((y + v[1] + _f64(s, i + 48)) & _M, 42) * mul) & _M
    x ^= (w[1] * 9) & _M
    y = (y + v[0] * 9 + _f64(s, i + 40)) & _M
    z = (_rot((z + w[0]) & _M, 33) * mul) & _M
    v = _weak(s, i, (v[1] * mul) & _M, (x + w[0]) & _M)
    w = _weak(s, i + 32, (z + w[1]) & _M, (y + _f64(s, i + 16)) & _M)
    z, x = x, z
    return _h16((_h16(v[0], w[0], mul) + _smix(y) * _K0 + z) & _M, (_h16(v[1], w[1], mul) + x) & _M, mul)


def _to_hash_bucket_fast(x: Any, num_buckets: int) -> np.ndarray:
    return _map(lambda s: fingerprint64(s) % num_buckets, x, dtype=np.int64)


KERNELS = {
    "string_length": _length,
    "string_upper": _upper,
    "string_lower": _lower,
    "string_strip": _strip,
    "string_join": _join,
    "reduce_join": _reduce_join,
    "substr": _substr,
    "regex_full_match": _regex_full_match,
    "regex_replace": _regex_replace,
    "string_to_number": _to_number,
    "as_string": _as_string,
    "string_format": _format,
    "string_split": _split,
    "unicode_split": _unicode_split,
    "unicode_decode": _unicode_decode,
    "unicode_encode": _unicode_encode,
    "to_hash_bucket_fast": _to_hash_bucket_fast,
    "bytes_split": _bytes_split,
}
