"""CPU kernels of the random family: counter-based Philox4x32-10 in vectorised NumPy.

The bit-level specification is docs/random.md; the CUDA kernels implement the
same one, so a seed gives the same uint32 stream and the same uniform floats on
every device. In short: an op call has a 64-bit ``key`` and a 64-bit ``offset``;
block ``j`` of its stream is Philox4x32-10 of the counter ``(j mod 2^32, j >> 32,
offset mod 2^32, offset >> 32)`` under the key ``(key mod 2^32, key >> 32)``, and
the stream is the blocks' words in order.

Every kernel takes ``key``, ``offset``, ``shape`` and ``dtype`` (a NumPy dtype).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

PHILOX_M0 = 0xD2511F53
PHILOX_M1 = 0xCD9E8D57
PHILOX_W0 = 0x9E3779B9
PHILOX_W1 = 0xBB67AE85
ROUNDS = 10
# A truncated-normal element still outside the bounds after this many draws is
# clipped; the chance of reaching it is 0.0455**64 < 1e-85.
TRUNCATED_MAX_ROUNDS = 64

_MASK32 = 0xFFFFFFFF
_U32 = np.uint32
_U64 = np.uint64


# Blocks are computed this many at a time, so the round's temporaries stay in cache
# (about 4x faster than whole-tensor passes for millions of elements).
_CHUNK = 1 << 14


def _rounds(c0: Any, c1: Any, c2: Any, c3: Any, k0: int, k1: int) -> None:
    """Ten Philox rounds in place on uint64 arrays holding 32-bit counter words."""
    m0, m1, s32, mask = _U64(PHILOX_M0), _U64(PHILOX_M1), _U64(32), _U64(_MASK32)
    p0, p1 = np.empty_like(c0), np.empty_like(c0)
    for r in range(ROUNDS):
        if r:
            k0 = (k0 + PHILOX_W0) & _MASK32
            k1 = (k1 + PHILOX_W1) & _MASK32
        np.multiply(c0, m0, out=p0)  # 32 x 32 -> 64 bits: (hi0, lo0) = mulhilo32(M0, c0)
        np.multiply(c2, m1, out=p1)
        np.right_shift(p1, s32, out=c0)  # c0 = hi1 ^ c1 ^ k0
        c0 ^= c1
        c0 ^= _U64(k0)
        np.bitwise_and(p1, mask, out=c1)  # c1 = lo1
        np.right_shift(p0, s32, out=c2)  # c2 = hi0 ^ c3 ^ k1
        c2 ^= c3
        c2 ^= _U64(k1)
        np.bitwise_and(p0, mask, out=c3)  # c3 = lo0


def philox_block(c0: int, c1: int, c2: int, c3: int, k0: int, k1: int) -> tuple[int, int, int, int]:
    """One Philox4x32-10 block on Python ints (32-bit words): the array rounds cost about a
    hundred microseconds of NumPy calls whatever the size, this about five per block."""
    for r in range(ROUNDS):
        if r:
            k0, k1 = (k0 + PHILOX_W0) & _MASK32, (k1 + PHILOX_W1) & _MASK32
        p0, p1 = PHILOX_M0 * c0, PHILOX_M1 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & _MASK32, (p0 >> 32) ^ c3 ^ k1, p0 & _MASK32
    return c0, c1, c2, c3


# Up to this many blocks, Python ints (`philox_block`) beat the vectorised rounds.
_SCALAR_BLOCKS = 12  # measured crossover here: 16 blocks take ~50 us either way


def philox4x32_10(counter: tuple, key: tuple) -> tuple:
    """Philox4x32-10 of counters ``(c0, c1, c2, c3)`` (uint32 arrays or ints) under ``(k0, k1)``.

    Returns the four output words as uint32 arrays broadcast to the counters' shape.
    """
    words = [np.array(c, dtype=_U64) for c in np.broadcast_arrays(*(np.asarray(c, _U32) for c in counter))]
    _rounds(*words, int(key[0]) & _MASK32, int(key[1]) & _MASK32)
    return tuple(w.astype(_U32) for w in words)


def blocks(key: int, offset: int, index: Any) -> np.ndarray:
    """The stream's blocks at block indices ``index`` (uint64 array) as a ``(..., 4)`` uint32 array."""
    j = np.asarray(index, dtype=_U64)
    flat = j.reshape(-1)
    out = np.empty((flat.size, 4), dtype=_U32)
    k0, k1 = key & _MASK32, (key >> 32) & _MASK32
    if flat.size <= _SCALAR_BLOCKS:
        o0, o1 = offset & _MASK32, (offset >> 32) & _MASK32
        for row, b in enumerate(flat.tolist()):
            out[row] = philox_block(b & _MASK32, b >> 32, o0, o1, k0, k1)
        return out.reshape(j.shape + (4,))
    for start in range(0, flat.size, _CHUNK):
        part = flat[start : start + _CHUNK]
        c = [
            part & _U64(_MASK32),
            part >> _U64(32),
            np.full(part.shape, offset & _MASK32, dtype=_U64),
            np.full(part.shape, (offset >> 32) & _MASK32, dtype=_U64),
        ]
        _rounds(*c, k0, k1)
        for q in range(4):
            out[start : start + part.size, q] = c[q]
    return out.reshape(j.shape + (4,))


def words(key: int, offset: int, count: int) -> np.ndarray:
    """The first ``count`` uint32 words of the stream."""
    return blocks(key, offset, np.arange(-(-count // 4), dtype=_U64)).reshape(-1)[:count]


def _words64(key: int, offset: int, count: int) -> np.ndarray:
    """``count`` uint64 values; value i is ``word(2i) << 32 | word(2i + 1)``."""
    w = words(key, offset, 2 * count).astype(_U64).reshape(count, 2)
    return (w[:, 0] << _U64(32)) | w[:, 1]


def _size(shape: tuple) -> int:
    return math.prod(shape)


# (shift, scale) of the uniform [0, 1) floats narrower than float64: (w >> shift) * scale
# keeps as many bits as the type's significand, so the value is exact in the type and
# rounding can never make it 1.0.
_UNIFORM32 = {"float32": (8, 2.0**-24), "float16": (21, 2.0**-11), "bfloat16": (24, 2.0**-8)}


def _uniform01(key: int, offset: int, n: int, dtype: np.dtype) -> np.ndarray:
    if dtype == np.float64:
        w = words(key, offset, 2 * n).reshape(n, 2)
        return _float64_from_words(w[:, 0], w[:, 1])
    shift, scale = _UNIFORM32[dtype.name]
    w = words(key, offset, n)
    return ((w >> _U32(shift)).astype(np.float32) * np.float32(scale)).astype(dtype)


def _float64_from_words(wa: np.ndarray, wb: np.ndarray) -> np.ndarray:
    """53-bit uniform float64 in [0, 1) from two words."""
    hi = (wa >> _U32(5)).astype(np.float64)
    lo = (wb >> _U32(6)).astype(np.float64)
    return (hi * 2.0**26 + lo) * 2.0**-53


def random_uniform(key: int, offset: int, shape: tuple, dtype: np.dtype) -> np.ndarray:
    return _uniform01(key, offset, _size(shape), np.dtype(dtype)).reshape(shape)


def _normals_of_blocks(b: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Box-Muller normals of blocks ``b`` (n, 4): (n, 4) for float32, (n, 2) for float64.

    float32: words (w0, w1) give u1 = ((w0 >> 8) + 1) 2^-24 in (0, 1], u2 = (w1 >> 8) 2^-24,
    and z0 = r cos(2 pi u2), z1 = r sin(2 pi u2) with r = sqrt(-2 ln u1); (w2, w3) give z2, z3.
    float64: the block's two float64 uniforms (words 0-1 and 2-3) give z0, z1 the same way.
    """
    if dtype == np.float64:
        u1 = _float64_from_words(b[:, 0], b[:, 1]) + 2.0**-53
        u2 = _float64_from_words(b[:, 2], b[:, 3])
        t = np.float64
    else:
        u1 = ((b[:, 0::2] >> _U32(8)).astype(np.float32) + np.float32(1)) * np.float32(2.0**-24)
        u2 = (b[:, 1::2] >> _U32(8)).astype(np.float32) * np.float32(2.0**-24)
        t = np.float32
    r = np.sqrt(t(-2) * np.log(u1))
    theta = t(2 * np.pi) * u2
    z = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=-1)
    return z.reshape(len(b), math.prod(z.shape[1:]))


def _compute_dtype(dtype: np.dtype) -> np.dtype:
    """float16/bfloat16 normals are computed in float32 and cast."""
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)


def random_normal(key: int, offset: int, shape: tuple, dtype: np.dtype) -> np.ndarray:
    dtype = np.dtype(dtype)
    ct = _compute_dtype(dtype)
    n = _size(shape)
    per = 2 if ct == np.float64 else 4
    z = _normals_of_blocks(blocks(key, offset, np.arange(-(-n // per), dtype=_U64)), ct)
    return z.reshape(-1)[:n].astype(dtype).reshape(shape)


def random_truncated_normal(key: int, offset: int, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """Standard normals redrawn until within [-2, 2].

    Draw r of element i is normal ``i % P`` of block ``r * B + i // P`` (P normals per block,
    B = ceil(n / P) blocks per draw): each draw continues the stream past the previous
    one, so every element redraws on its own, as a GPU thread does.
    """
    dtype = np.dtype(dtype)
    ct = _compute_dtype(dtype)
    n = _size(shape)
    per = 2 if ct == np.float64 else 4
    nblocks = -(-n // per)
    out = _normals_of_blocks(blocks(key, offset, np.arange(nblocks, dtype=_U64)), ct).reshape(-1)[:n]
    todo = np.flatnonzero(np.abs(out) > 2)
    for r in range(1, TRUNCATED_MAX_ROUNDS):
        if not todo.size:
            break
        index = _U64(r * nblocks) + (todo // per).astype(_U64)
        z = _normals_of_blocks(blocks(key, offset, index), ct)[np.arange(todo.size), todo % per]
        out[todo] = z
        todo = todo[np.abs(z) > 2]
    np.clip(out, -2, 2, out=out)
    return out.astype(dtype).reshape(shape)


def random_uniform_int(
    key: int, offset: int, shape: tuple, dtype: np.dtype, minval: int, maxval: int
) -> np.ndarray:
    """``minval + (w mod (maxval - minval))``; int32 uses one word, int64 two (``_words64``)."""
    dtype = np.dtype(dtype)
    n = _size(shape)
    span = maxval - minval
    if dtype.itemsize == 8:
        w = _words64(key, offset, n)
        out = (w % _U64(span)) + _U64(minval & 0xFFFFFFFFFFFFFFFF)
    else:
        w = words(key, offset, n)
        out = ((w % _U32(span)) + _U32(minval & _MASK32)).astype(_U32)
    return out.view(dtype).reshape(shape)


def random_bits(key: int, offset: int, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """The raw stream as integers: 32-bit types one word each, 64-bit ones as ``_words64``."""
    dtype = np.dtype(dtype)
    n = _size(shape)
    w = _words64(key, offset, n) if dtype.itemsize == 8 else words(key, offset, n)
    return w.view(dtype).reshape(shape)


KERNELS = {
    "random_uniform": random_uniform,
    "random_normal": random_normal,
    "random_truncated_normal": random_truncated_normal,
    "random_uniform_int": random_uniform_int,
    "random_bits": random_bits,
}
