"""Seeded random tensors (``gt.random``) on counter-based Philox4x32-10.

Every random number comes from one primitive op call with a 64-bit ``key`` and a
64-bit ``offset`` chosen in Python (docs/random.md has the bit-level spec and the
seed rules); the CPU and CUDA kernels produce the same uint32 stream for them.
Primitives (no tensor inputs; attrs ``key``, ``offset``, ``shape`` (tuple of
ints), ``dtype`` (a NumPy dtype)):

- ``random_uniform``: floats in [0, 1).
- ``random_normal``: standard normals (Box-Muller).
- ``random_truncated_normal``: standard normals redrawn until within [-2, 2].
- ``random_uniform_int``: int32/int64 in [``minval``, ``maxval``) (two more attrs).
- ``random_bits``: the raw stream as int32/uint32/int64/uint64.

Everything else composes: ``mean``/``stddev``/``minval``/``maxval`` are applied
with math ops (so gradients reach them), ``shuffle`` sorts by uniform keys and
``categorical`` takes the argmax of logits plus Gumbel noise.

Seeds, as TensorFlow 2: after ``set_seed(s)`` an op without a seed gets the next
op seed from a counter, so the same sequence of calls gives the same values; an
op seed alone uses the global seed 87654321; repeated calls with the same
(global, op) seed pair continue one stream (``offset`` counts the calls); with
no seed at all the key is drawn from the operating system.
"""

from __future__ import annotations

import enum
import operator
import os
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from gputensor.backend.cpu.random import philox_block
from gputensor.errors import InvalidArgumentError
from gputensor.framework import dtypes as _dt
from gputensor.framework import shape_inference as si
from gputensor.framework.context import state
from gputensor.framework.device_scope import device as _device_scope
from gputensor.framework.op_table import define, execute
from gputensor.framework.shape_inference import Spec
from gputensor.framework.tensor import Tensor, convert_to_tensor, is_symbolic, traced_value, wrap
from gputensor.framework.tensor_shape import TensorShape
from gputensor.framework.variable import Variable
from gputensor.ops import math_ops

_SAMPLE_ATTRS = ("key", "offset", "shape", "dtype")


def _infer_sample(op, specs, attrs):  # the shape and dtype are attrs
    return Spec(tuple(attrs["shape"]), si.dtype_of(attrs["dtype"]))


RANDOM_UNIFORM = define("random_uniform", attrs=_SAMPLE_ATTRS, differentiable=False, infer=_infer_sample)
RANDOM_NORMAL = define("random_normal", attrs=_SAMPLE_ATTRS, differentiable=False, infer=_infer_sample)
RANDOM_TRUNCATED_NORMAL = define(
    "random_truncated_normal", attrs=_SAMPLE_ATTRS, differentiable=False, infer=_infer_sample
)
RANDOM_UNIFORM_INT = define(
    "random_uniform_int",
    attrs=_SAMPLE_ATTRS + ("minval", "maxval"),
    differentiable=False,
    infer=_infer_sample,
)
RANDOM_BITS = define("random_bits", attrs=_SAMPLE_ATTRS, differentiable=False, infer=_infer_sample)


def _primitive_runner(device: Any) -> Callable:
    """``draw(primitive, key, offset, dims, dtype, minval, maxval)``: one of the primitives above
    on ``device`` with arguments known only at run time (the kernels below read them from
    tensors), each primitive's kernel looked up once."""
    kernels: dict[str, Any] = {}

    def draw(primitive: str, key: int, offset: int, dims: tuple, dtype: Any, minval: Any, maxval: Any) -> Any:
        if -1 in dims:
            raise InvalidArgumentError(f"{primitive}: shape {dims} has a negative dimension", primitive)
        run = kernels.get(primitive)
        if run is None:
            run = kernels[primitive] = device.kernel(_PRIMITIVES[primitive])
        extra = {} if minval is None else {"minval": minval, "maxval": maxval}
        return run(key=key, offset=offset, shape=dims, dtype=dtype, **extra)

    return draw


def _compose_dynamic_random(device: Any, seeded: bool = False) -> Any:
    """One of the primitives above with its shape read from an int tensor at run time (a
    stateful op inside gt.function whose shape has a None dim, e.g. ``gt.shape(x)``).

    ``seeded``: the kernel of ``random_seeded`` instead, whose first input is an int64 scalar
    seed (the run-time random context of a gt.cond branch or gt.while_loop body, see
    `_sample`): it draws under the key ``scramble(seed, key)``, and its shape input is
    optional (absent: ``static_shape``)."""
    backend = device.backend
    draw = _primitive_runner(device)

    def kernel(
        *arrays: Any,
        static_shape: tuple,
        primitive: str,
        key: int,
        offset: int,
        dtype: Any,
        minval: Any,
        maxval: Any,
    ) -> Any:
        from gputensor.ops.array_ops import _host_dims

        if seeded:
            seed, shape = arrays[0], (arrays[1] if len(arrays) > 1 else None)
            key = _scramble(int(np.asarray(backend.to_host(seed)).reshape(())), key)[0]
        else:
            (shape,) = arrays
        dims = tuple(static_shape) if shape is None else _host_dims(backend, shape, primitive)
        return draw(primitive, key, offset, dims, dtype, minval, maxval)

    return kernel


def _compose_fold_seed(device: Any) -> Any:
    """``random_fold_seed(seed, data)``: ``scramble(seed, data).key`` as an int64 scalar."""
    backend = device.backend

    def kernel(seed: Any, data: Any) -> Any:
        a = int(np.asarray(backend.to_host(seed)).reshape(()))
        b = int(np.asarray(backend.to_host(data)).reshape(()))
        key = _scramble(a, b)[0]
        return backend.from_host(np.asarray(key - (1 << 64) if key >> 63 else key, dtype=np.int64))

    return kernel


def _infer_seeded_random(op, specs, attrs):
    seed = specs[0]
    if (seed.shape is not None and tuple(seed.shape) != ()) or seed.dtype != _dt.int64:
        raise ValueError(f"the seed must be an int64 scalar, got {seed.dtype.name}{seed.shape}")
    return Spec(tuple(attrs["static_shape"]), si.dtype_of(attrs["dtype"]))


def _infer_fold_seed(op, specs, attrs):
    for s in specs:
        if (s.shape is not None and tuple(s.shape) != ()) or s.dtype != _dt.int64:  # None: unknown rank
            raise ValueError(f"seed and data must be int64 scalars, got {s.dtype.name}{s.shape}")
    return Spec((), _dt.int64)


def _infer_dynamic_random(op, specs, attrs):  # what tracing knew of the shape: the attr
    return Spec(tuple(attrs["static_shape"]), si.dtype_of(attrs["dtype"]))


DYNAMIC_RANDOM = define(
    "dynamic_random",
    attrs=("static_shape", "primitive", "key", "offset", "dtype", "minval", "maxval"),
    differentiable=False,
    infer=_infer_dynamic_random,
    compose=_compose_dynamic_random,
)
# A stateful random op traced inside a gt.cond branch or gt.while_loop body: inputs (seed,
# [shape]); the seed is its graph's run-time random context (`_sample`), so recomputing the
# node (a gradient replaying the body) gives the same numbers.
RANDOM_SEEDED = define(
    "random_seeded",
    attrs=("static_shape", "primitive", "key", "offset", "dtype", "minval", "maxval"),
    differentiable=False,
    infer=_infer_seeded_random,
    compose=lambda device: _compose_dynamic_random(device, seeded=True),
)
# A loop body's random context: the enclosing context folded with the iteration number.
RANDOM_FOLD_SEED = define(
    "random_fold_seed", differentiable=False, infer=_infer_fold_seed, compose=_compose_fold_seed
)


def _compose_generator_random(device: Any) -> Any:
    """One of the primitives above under the key and counter of a Generator's state, read
    at run time (``[counter, 0, key]``, int64): a Generator's draw inside gt.function, so a
    graph continues the generator's stream wherever the state variable stands when it runs."""
    backend = device.backend
    draw = _primitive_runner(device)

    def kernel(
        state_value: Any,
        *shape: Any,
        static_shape: tuple,
        primitive: str,
        dtype: Any,
        minval: Any,
        maxval: Any,
    ) -> Any:
        from gputensor.ops.array_ops import _host_dims

        s = np.asarray(backend.to_host(state_value)).reshape(-1)
        counter, key = int(s[0]) & _MASK64, int(s[2]) & _MASK64
        dims = _host_dims(backend, shape[0], primitive) if shape else tuple(static_shape)
        return draw(primitive, key, counter, dims, dtype, minval, maxval)

    return kernel


GENERATOR_RANDOM = define(
    "generator_random",
    attrs=("static_shape", "primitive", "dtype", "minval", "maxval"),
    differentiable=False,
    infer=_infer_dynamic_random,
    compose=_compose_generator_random,
)

_PRIMITIVES = {
    op.name: op
    for op in (RANDOM_UNIFORM, RANDOM_NORMAL, RANDOM_TRUNCATED_NORMAL, RANDOM_UNIFORM_INT, RANDOM_BITS)
}

# Nothing of gt.random goes to the top level (TF 2 has no tf.normal); gputensor/random.py
# re-exports the names below.
__all__: list[str] = []

DEFAULT_GRAPH_SEED = 87654321  # TF's global seed when only an op seed is given
_MASK64 = (1 << 64) - 1
_INT_TYPES = (_dt.int32, _dt.int64)
_BITS_TYPES = (_dt.int32, _dt.int64, _dt.uint32, _dt.uint64)
# The key under which seeds are scrambled into Philox keys: the first 64 bits of pi's fraction.
_SCRAMBLE_KEY = (0x243F6A88, 0x85A308D3)


class Algorithm(enum.Enum):
    """Random number algorithms, as ``tf.random.Algorithm``; gputensor implements Philox."""

    PHILOX = 1
    THREEFRY = 2
    AUTO_SELECT = 3


# ----------------------------------------------------------------- seed handling
def _scramble(a: int, b: int) -> tuple[int, int]:
    """Two 64-bit seeds -> (key, counter): one Philox block of counter (a, b) under a fixed key."""
    a &= _MASK64
    b &= _MASK64
    w = philox_block(a & 0xFFFFFFFF, a >> 32, b & 0xFFFFFFFF, b >> 32, *_SCRAMBLE_KEY)
    return w[0] | (w[1] << 32), w[2] | (w[3] << 32)


def _os_random_key() -> int:
    """A 64-bit key from the operating system's entropy source."""
    return int.from_bytes(os.urandom(8), "little")


def _host(value: Any, fn: str) -> np.ndarray:
    """A tensor's value on the host; inside gt.function, its value if known while tracing."""
    if is_symbolic(value):
        known = traced_value(value)
        if known is None:
            raise InvalidArgumentError(
                f"{fn}: inside gt.function this value must be known when the function is traced, "
                f"but {value._data.node.name} depends on the function's arguments; pass a Python int"
            )
        return known
    return np.asarray(value)


def _as_int(value: Any, fn: str, what: str) -> int:
    """A Python int from an int, NumPy integer or scalar integer tensor."""
    if isinstance(value, (Tensor, Variable, np.ndarray)):
        arr = _host(value, fn)
        if arr.ndim != 0 or arr.dtype.kind not in "iu":
            raise InvalidArgumentError(
                f"{fn}: {what} must be a scalar integer, got shape {arr.shape} and dtype {arr.dtype}"
            )
        return int(arr)
    if isinstance(value, bool):
        raise TypeError(f"{fn}: {what} must be an integer, got the bool {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{fn}: {what} must be an integer, got {value!r}") from None


class _SeedState:
    """The global seed, the op-seed counter and how many calls each seed pair has made."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.global_seed: int | None = None
        self.next_op_seed = 0
        self.calls: dict[tuple[int, int], int] = {}

    def key_offset(self, op_seed: Any, fn: str) -> tuple[int, int]:
        if op_seed is not None:
            op_seed = _as_int(op_seed, fn, "seed")
        with self.lock:
            global_seed = self.global_seed
            if global_seed is None:
                if op_seed is None:
                    return _os_random_key(), 0
                global_seed = DEFAULT_GRAPH_SEED
            elif op_seed is None:
                op_seed = self.next_op_seed
                self.next_op_seed += 1
            pair = (global_seed, op_seed)
            offset = self.calls.get(pair, 0)
            self.calls[pair] = offset + 1
        return _scramble(global_seed, op_seed)[0], offset


_seeds = _SeedState()


def set_seed(seed: Any) -> None:
    """Sets the global random seed, as ``tf.random.set_seed``.

    Ops without their own seed then take op seeds from a counter that this call
    resets, so the same sequence of random ops gives the same values again. Seed
    pairs used before start their streams afresh. ``None`` clears the global seed.

    Args:
      seed: an integer (taken modulo 2**64), or None.

    Raises:
      TypeError: if ``seed`` is not an integer.

    >>> gt.random.set_seed(5)
    >>> a = gt.random.uniform([2])
    >>> gt.random.set_seed(5)
    >>> bool(gt.reduce_all(a == gt.random.uniform([2])))
    True
    """
    value = None if seed is None else _as_int(seed, "set_seed", "seed")
    with _seeds.lock:
        _seeds.global_seed = value
        _seeds.next_op_seed = 0
        _seeds.calls.clear()


def _stateless_key(seed: Any, fn: str) -> tuple[int, int]:
    """(key, offset) of a stateless op's seed: a shape-[2] integer tensor or pair."""
    arr = np.asarray(seed)
    if arr.shape != (2,) or arr.dtype.kind not in "iu":
        raise InvalidArgumentError(
            f"{fn}: seed must be a shape [2] integer tensor or pair of ints, got shape "
            f"{arr.shape} and dtype {arr.dtype}; e.g. seed=[1, 2]"
        )
    return _scramble(int(arr[0]), int(arr[1]))


# ----------------------------------------------------------------- validation
class _RuntimeShape:
    """A sample shape known only when a traced function runs: an int64 vector tensor of the
    graph, and what tracing knew (None for the unknown dims)."""

    __slots__ = ("tensor", "static")

    def __init__(self, tensor: Tensor, static: tuple) -> None:
        self.tensor, self.static = tensor, static


def _unknown_while_tracing(value: Any) -> bool:
    """Whether ``value`` is a symbolic tensor whose value tracing cannot fold."""
    return is_symbolic(value) and traced_value(value) is None


def _runtime_shape(shape: Any, fn: str) -> _RuntimeShape:
    from gputensor.ops import array_ops

    if isinstance(shape, (list, tuple)):
        dims = [
            math_ops.cast(d, _dt.int64) if isinstance(d, Tensor) else _as_int(d, fn, "a dimension")
            for d in shape
        ]
        static = tuple(None if isinstance(d, Tensor) else d for d in dims)
        return _RuntimeShape(array_ops.stack([convert_to_tensor(d, dtype=_dt.int64) for d in dims]), static)
    node = shape._data.node
    n = None if shape.shape.rank is None else shape.shape.as_list()
    if n is None or len(n) != 1 or n[0] is None:
        raise InvalidArgumentError(f"{fn}: shape must be a vector of known length, got shape {shape.shape}")
    static = (
        tuple(node.inputs[0].shape)
        if node.type == "shape" and node.inputs[0].shape is not None
        else (None,) * n[0]
    )
    return _RuntimeShape(math_ops.cast(shape, _dt.int64), static)


def _shape(shape: Any, fn: str) -> tuple[int, ...] | _RuntimeShape:
    """A tuple of non-negative ints from a list, TensorShape or 1-D integer tensor; inside
    gt.function, a `_RuntimeShape` where tracing cannot know it (a None dim of the input)."""
    if _unknown_while_tracing(shape) or (
        isinstance(shape, (list, tuple)) and any(_unknown_while_tracing(d) for d in shape)
    ):
        return _runtime_shape(shape, fn)
    if isinstance(shape, TensorShape):
        if not shape.is_fully_defined():
            raise InvalidArgumentError(f"{fn}: shape {shape} must be fully defined")
        dims = shape.as_list()
    elif isinstance(shape, (Tensor, Variable, np.ndarray)):
        arr = _host(shape, fn)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            raise InvalidArgumentError(
                f"{fn}: shape must be a vector of int32 or int64, got shape {arr.shape} and dtype {arr.dtype}"
            )
        dims = arr.tolist()
    elif isinstance(shape, (list, tuple)):
        dims = [_as_int(d, fn, "every dimension of shape") for d in shape]
    else:
        raise InvalidArgumentError(
            f"{fn}: shape must be a vector (list, tuple or 1-D tensor) of ints, got {shape!r}; "
            f"e.g. shape=[{shape!r}]"
        )
    if any(d < 0 for d in dims):
        raise InvalidArgumentError(f"{fn}: shape {list(dims)} has a negative dimension")
    return tuple(int(d) for d in dims)


def _float_dtype(dtype: Any, fn: str) -> _dt.DType:
    dt = _dt.as_dtype(dtype)
    if dt not in _dt.FLOATS:
        raise TypeError(f"{fn}: dtype {dt.name} is not allowed; use float16, bfloat16, float32 or float64")
    return dt


def _param(value: Any, dtype: _dt.DType, fn: str, what: str) -> Any:
    """A float parameter as a Python float (kept for the fast path) or a tensor of ``dtype``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return convert_to_tensor(value, dtype=dtype)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{fn}: {what} must be a number or a {dtype.name} tensor ({exc})") from None


def _int_bound(value: Any, dtype: _dt.DType, fn: str, what: str) -> int:
    v = _as_int(value, fn, what)
    if not dtype.min <= v <= dtype.max:
        raise InvalidArgumentError(
            f"{fn}: {what}={v} does not fit dtype {dtype.name} [{dtype.min}, {dtype.max}]"
        )
    return v


# ----------------------------------------------------------------- sampling
KeySource = Callable[[], tuple[int, int]]
# Graph nodes draw under their traced key with these bits flipped: a stream of their own,
# apart from the eager calls that share the seed pair (and so the key).
_GRAPH_KEY_TAG = 0x9E3779B97F4A7C15


class RandomStream:
    """The run-time state of a stateful random node in a traced graph (``node.value``).

    TF gives each stateful random op of a graph its own Philox state, seeded when the graph
    is built and advanced by every run: a function gives new numbers at every call, and the
    same sequence again for the same global seed and program. Here the node's key and first
    offset are drawn when it is traced (with the eager seed rules), and run r uses offset
    ``first + r * 2^32``: the run number in the counter's upper word, so the runs of one node,
    and the nodes sharing a seed pair (consecutive first offsets), never share a block.
    """

    __slots__ = ("first", "runs")

    def __init__(self, first: int) -> None:
        self.first, self.runs = first, 0

    def next_offset(self) -> int:
        offset = (self.first + (self.runs << 32)) & 0xFFFFFFFFFFFFFFFF
        self.runs += 1
        return offset


def run_attrs(node: Any) -> dict:
    """A graph node's attrs for one run: a stateful random node's next offset, else its attrs."""
    stream = node.value
    if isinstance(stream, RandomStream):
        return {**node.attrs, "offset": stream.next_offset()}
    return node.attrs


def _sample(op: Any, shape: tuple, dtype: _dt.DType, keys: KeySource, **extra: Any) -> Tensor:
    graph = state.graph
    stateful = graph is not None and keys.__name__ != _STATELESS
    generator = getattr(keys, "generator", None)
    if stateful and generator is not None:  # in branches and loop bodies too: the state is read at run time
        return generator._sample_in_graph(op, shape, dtype, extra)
    key, offset = keys()
    if stateful:
        key ^= _GRAPH_KEY_TAG
    if stateful and graph.parent is not None:
        # Inside a gt.cond branch or gt.while_loop body the node draws from its key, its first
        # offset and the graph's run-time random context (new at every run of the function and,
        # in a loop, folded with the iteration number): a gradient that recomputes the body
        # computes the same context, so it sees the very numbers the forward pass drew.
        context = wrap(graph.random_context(), graph.device)
        inputs = (context,) if not isinstance(shape, _RuntimeShape) else (context, shape.tensor)
        attrs = {
            "static_shape": shape.static if isinstance(shape, _RuntimeShape) else shape,
            "primitive": op.name, "key": key, "offset": offset, "dtype": dtype.np_dtype,
            "minval": extra.get("minval"), "maxval": extra.get("maxval"),
        }  # fmt: skip
        return execute(RANDOM_SEEDED, inputs, attrs)
    if isinstance(shape, _RuntimeShape):
        attrs = {
            "static_shape": shape.static, "primitive": op.name, "key": key, "offset": offset,
            "dtype": dtype.np_dtype, "minval": extra.get("minval"), "maxval": extra.get("maxval"),
        }  # fmt: skip
        out = execute(DYNAMIC_RANDOM, (shape.tensor,), attrs)
    else:
        attrs = {"key": key, "offset": offset, "shape": shape, "dtype": dtype.np_dtype, **extra}
        out = execute(op, (), attrs)
    if stateful:
        out._data.node.value = RandomStream(offset)
    return out


def run_seed() -> Tensor:
    """Inside gt.function: an int64 scalar node with a new value at every run of the graph
    (a stateful ``random_bits`` node, by the seed rules, so ``set_seed`` repeats it). The
    random context from which the control flow of a function draws (`Graph.random_context`)."""
    return _sample(RANDOM_BITS, (), _dt.int64, _stateful(None, "control flow random context"))


def _normal_family(
    op: Any, fn: str, shape: Any, mean: Any, stddev: Any, dtype: Any, keys: KeySource
) -> Tensor:
    shape = _shape(shape, fn)
    dtype = _float_dtype(dtype, fn)
    mean = _param(mean, dtype, fn, "mean")
    stddev = _param(stddev, dtype, fn, "stddev")
    z = _sample(op, shape, dtype, keys)
    # TF's order: rnd * stddev + mean, so gradients reach tensor-valued parameters.
    if not (isinstance(stddev, float) and stddev == 1.0):
        z = math_ops.multiply(z, stddev)
    if not (isinstance(mean, float) and mean == 0.0):
        z = math_ops.add(z, mean)
    return z


def _uniform(
    fn: str, shape: Any, minval: Any, maxval: Any, dtype: Any, keys: KeySource, full_range_ok: bool
) -> Tensor:
    shape = _shape(shape, fn)
    dtype = _dt.as_dtype(dtype)
    if dtype in _dt.FLOATS:
        lo = _param(0.0 if minval is None else minval, dtype, fn, "minval")
        hi = _param(1.0 if maxval is None else maxval, dtype, fn, "maxval")
        u = _sample(RANDOM_UNIFORM, shape, dtype, keys)
        if isinstance(lo, float) and isinstance(hi, float) and (lo, hi) == (0.0, 1.0):
            return u
        lo, hi = convert_to_tensor(lo, dtype=dtype), convert_to_tensor(hi, dtype=dtype)
        return math_ops.add(math_ops.multiply(u, math_ops.subtract(hi, lo)), lo)
    if dtype not in _INT_TYPES:
        raise TypeError(f"{fn}: dtype {dtype.name} is not allowed; use a float type, int32 or int64")
    if full_range_ok and minval is None and maxval is None:
        return _sample(RANDOM_BITS, shape, dtype, keys)
    if maxval is None or minval is None:
        raise ValueError(
            f"{fn}: Must specify maxval for integer dtype {dtype.name}; e.g. "
            f"{fn}(shape, minval=0, maxval=10, dtype=gt.{dtype.name})"
        )
    lo = _int_bound(minval, dtype, fn, "minval")
    hi = _int_bound(maxval, dtype, fn, "maxval")
    if lo >= hi:
        raise InvalidArgumentError(f"{fn}: Need minval < maxval: {lo} >= {hi}")
    return _sample(RANDOM_UNIFORM_INT, shape, dtype, keys, minval=lo, maxval=hi)


def _stateful(seed: Any, fn: str) -> KeySource:
    return lambda: _seeds.key_offset(seed, fn)


_STATELESS = "stateless_keys"


def _stateless(seed: Any, fn: str) -> KeySource:
    key_offset = _stateless_key(seed, fn)

    def stateless_keys() -> tuple[int, int]:  # the same numbers for the same seed: graphs may keep it
        return key_offset

    return stateless_keys


# ----------------------------------------------------------------- public ops
def normal(
    shape: Any,
    mean: Any = 0.0,
    stddev: Any = 1.0,
    dtype: Any = _dt.float32,
    seed: Any = None,
    name: str | None = None,
) -> Tensor:
    """Outputs random values from a normal distribution, as ``tf.random.normal``.

    Args:
      shape: the output shape: a list of ints or a 1-D integer tensor.
      mean: the mean, a number or a tensor broadcastable with ``shape``.
      stddev: the standard deviation, a number or a tensor broadcastable with ``shape``.
      dtype: float16, bfloat16, float32 or float64.
      seed: an integer op seed (see ``set_seed``), or None.
      name: ignored (eager).

    Returns:
      A tensor of ``shape`` and ``dtype``.

    Raises:
      TypeError: for a non-floating dtype.
      InvalidArgumentError: for a shape that is not a vector of non-negative ints.

    >>> gt.random.normal([2, 3], seed=1).shape
    TensorShape([2, 3])
    """
    return _normal_family(RANDOM_NORMAL, "normal", shape, mean, stddev, dtype, _stateful(seed, "normal"))


def truncated_normal(
    shape: Any,
    mean: Any = 0.0,
    stddev: Any = 1.0,
    dtype: Any = _dt.float32,
    seed: Any = None,
    name: str | None = None,
) -> Tensor:
    """Normal values redrawn until within two standard deviations of the mean.

    As ``tf.random.truncated_normal``; every value lies in
    ``[mean - 2 stddev, mean + 2 stddev]``.

    Args:
      shape: the output shape: a list of ints or a 1-D integer tensor.
      mean: the mean of the (untruncated) normal distribution.
      stddev: its standard deviation.
      dtype: float16, bfloat16, float32 or float64.
      seed: an integer op seed (see ``set_seed``), or None.
      name: ignored (eager).

    Returns:
      A tensor of ``shape`` and ``dtype``.

    Raises:
      TypeError: for a non-floating dtype.
      InvalidArgumentError: for a shape that is not a vector of non-negative ints.
    """
    keys = _stateful(seed, "truncated_normal")
    return _normal_family(RANDOM_TRUNCATED_NORMAL, "truncated_normal", shape, mean, stddev, dtype, keys)


def uniform(
    shape: Any,
    minval: Any = 0,
    maxval: Any = None,
    dtype: Any = _dt.float32,
    seed: Any = None,
    name: str | None = None,
) -> Tensor:
    """Outputs random values from a uniform distribution in ``[minval, maxval)``.

    As ``tf.random.uniform``. For floats ``maxval`` defaults to 1; integer dtypes
    (int32, int64) need ``maxval`` and scalar bounds with ``minval < maxval``.

    Args:
      shape: the output shape: a list of ints or a 1-D integer tensor.
      minval: the inclusive lower bound (floats: a number or broadcastable tensor).
      maxval: the exclusive upper bound; None means 1 for floats.
      dtype: float16, bfloat16, float32, float64, int32 or int64.
      seed: an integer op seed (see ``set_seed``), or None.
      name: ignored (eager).

    Returns:
      A tensor of ``shape`` and ``dtype``.

    Raises:
      ValueError: for an integer dtype without ``maxval``.
      InvalidArgumentError: for integer bounds with ``minval >= maxval``, or a bad shape.
      TypeError: for an unsupported dtype.

    >>> int(gt.reduce_max(gt.random.uniform([100], maxval=3, dtype=gt.int32, seed=1))) < 3
    True
    """
    return _uniform("uniform", shape, minval, maxval, dtype, _stateful(seed, "uniform"), False)


def stateless_normal(
    shape: Any,
    seed: Any,
    mean: Any = 0.0,
    stddev: Any = 1.0,
    dtype: Any = _dt.float32,
    name: str | None = None,
    alg: Any = "auto_select",
) -> Tensor:
    """Normal values determined by ``seed`` alone, as ``tf.random.stateless_normal``.

    Args:
      shape: the output shape: a list of ints or a 1-D integer tensor.
      seed: a shape [2] integer tensor or pair of ints.
      mean: the mean, a number or a broadcastable tensor.
      stddev: the standard deviation, a number or a broadcastable tensor.
      dtype: float16, bfloat16, float32 or float64.
      name: ignored (eager).
      alg: "auto_select" or "philox" (the same here).

    Returns:
      A tensor of ``shape`` and ``dtype``; the same seed gives the same values.

    Raises:
      InvalidArgumentError: for a seed that is not two integers, or a bad shape.
      TypeError: for a non-floating dtype.
    """
    _algorithm(alg, "stateless_normal")
    keys = _stateless(seed, "stateless_normal")
    return _normal_family(RANDOM_NORMAL, "stateless_normal", shape, mean, stddev, dtype, keys)


def stateless_truncated_normal(
    shape: Any,
    seed: Any,
    mean: Any = 0.0,
    stddev: Any = 1.0,
    dtype: Any = _dt.float32,
    name: str | None = None,
    alg: Any = "auto_select",
) -> Tensor:
    """Truncated normal values determined by ``seed`` alone (see `truncated_normal`).

    Args:
      shape: the output shape.
      seed: a shape [2] integer tensor or pair of ints.
      mean: the mean of the untruncated distribution.
      stddev: its standard deviation.
      dtype: float16, bfloat16, float32 or float64.
      name: ignored (eager).
      alg: "auto_select" or "philox".

    Returns:
      A tensor of ``shape`` and ``dtype`` within two ``stddev`` of ``mean``.

    Raises:
      InvalidArgumentError: for a seed that is not two integers, or a bad shape.
      TypeError: for a non-floating dtype.
    """
    fn = "stateless_truncated_normal"
    _algorithm(alg, fn)
    keys = _stateless(seed, fn)
    return _normal_family(RANDOM_TRUNCATED_NORMAL, fn, shape, mean, stddev, dtype, keys)


def stateless_uniform(
    shape: Any,
    seed: Any,
    minval: Any = 0,
    maxval: Any = None,
    dtype: Any = _dt.float32,
    name: str | None = None,
    alg: Any = "auto_select",
) -> Tensor:
    """Uniform values determined by ``seed`` alone, as ``tf.random.stateless_uniform``.

    Integer dtypes need ``maxval``, except that ``minval=None, maxval=None`` gives
    integers over the dtype's full range, as TF.

    Args:
      shape: the output shape.
      seed: a shape [2] integer tensor or pair of ints.
      minval: the inclusive lower bound.
      maxval: the exclusive upper bound; None means 1 for floats.
      dtype: float16, bfloat16, float32, float64, int32 or int64.
      name: ignored (eager).
      alg: "auto_select" or "philox".

    Returns:
      A tensor of ``shape`` and ``dtype``.

    Raises:
      ValueError: for an integer dtype with only one bound.
      InvalidArgumentError: for ``minval >= maxval`` (integers), a bad seed or shape.
      TypeError: for an unsupported dtype.
    """
    _algorithm(alg, "stateless_uniform")
    keys = _stateless(seed, "stateless_uniform")
    return _uniform("stateless_uniform", shape, minval, maxval, dtype, keys, True)


def split(seed: Any, num: int = 2, alg: Any = "auto_select") -> Tensor:
    """Splits a stateless seed into ``num`` new seeds, as ``tf.random.split``.

    Args:
      seed: a shape [2] int32 or int64 tensor or pair of ints.
      num: how many seeds to make.
      alg: "auto_select" or "philox".

    Returns:
      A ``[num, 2]`` tensor of the seed's dtype (int64 for Python ints).
    """
    _algorithm(alg, "split")
    num = _as_int(num, "split", "num")
    if num < 0:
        raise InvalidArgumentError(f"split: num must be >= 0, got {num}")
    dtype = _seed_dtype(seed)
    return _sample(RANDOM_BITS, (num, 2), dtype, _stateless(seed, "split"))


def fold_in(seed: Any, data: Any, alg: Any = "auto_select") -> Tensor:
    """Folds an integer ``data`` into a stateless seed, as ``tf.random.fold_in``.

    Args:
      seed: a shape [2] int32 or int64 tensor or pair of ints.
      data: an integer (e.g. a step or replica number).
      alg: "auto_select" or "philox".

    Returns:
      A new shape [2] seed of the seed's dtype, different for each ``data``.
    """
    _algorithm(alg, "fold_in")
    dtype = _seed_dtype(seed)
    key, _ = _stateless_key(seed, "fold_in")
    value = _as_int(data, "fold_in", "data")
    return _sample(RANDOM_BITS, (2,), dtype, lambda: (key, value & _MASK64))


def _seed_dtype(seed: Any) -> _dt.DType:
    kind = np.asarray(seed).dtype
    return _dt.int32 if kind == np.int32 else _dt.int64


def shuffle(value: Any, seed: Any = None, name: str | None = None) -> Tensor:
    """Randomly shuffles a tensor along its first dimension, as ``tf.random.shuffle``.

    Args:
      value: a tensor; slices ``value[i]`` are permuted.
      seed: an integer op seed (see ``set_seed``), or None.
      name: ignored (eager).

    Returns:
      A tensor of the same shape and dtype.
    """
    from gputensor.ops import array_ops

    x = convert_to_tensor(value)
    if x.ndim == 0 or x.shape[0] <= 1:
        return x
    # float64 sort keys: 53 random bits make ties (kept in order by a stable sort) negligible.
    keys = _sample(RANDOM_UNIFORM, (x.shape[0],), _dt.float64, _stateful(seed, "shuffle"))
    return array_ops.gather(x, array_ops.argsort(keys, stable=True))


def categorical(
    logits: Any,
    num_samples: Any,
    dtype: Any = None,
    seed: Any = None,
    name: str | None = None,
) -> Tensor:
    """Draws samples from categorical distributions, as ``tf.random.categorical``.

    Args:
      logits: a ``[batch_size, num_classes]`` float tensor of unnormalised log-probabilities.
      num_samples: how many samples to draw for each row.
      dtype: int32 or int64 (default) for the output.
      seed: an integer op seed (see ``set_seed``), or None.
      name: ignored (eager).

    Returns:
      A ``[batch_size, num_samples]`` tensor of class indices.

    Raises:
      InvalidArgumentError: for logits that are not a float matrix with at least one class.
      TypeError: for an output dtype other than int32/int64.
    """
    return _categorical("categorical", logits, num_samples, dtype, _stateful(seed, "categorical"))


def stateless_categorical(
    logits: Any,
    num_samples: Any,
    seed: Any,
    dtype: Any = _dt.int64,
    name: str | None = None,
) -> Tensor:
    """Categorical samples determined by ``seed`` alone, as ``tf.random.stateless_categorical``.

    Args:
      logits: a ``[batch_size, num_classes]`` float tensor of unnormalised log-probabilities.
      num_samples: how many samples to draw for each row.
      seed: a shape [2] integer tensor or pair of ints.
      dtype: int32 or int64 (default) for the output.
      name: ignored (eager).

    Returns:
      A ``[batch_size, num_samples]`` tensor of class indices.

    Raises:
      InvalidArgumentError: for a bad seed, or logits that are not a float matrix with classes.
      TypeError: for an output dtype other than int32/int64.
    """
    fn = "stateless_categorical"
    return _categorical(fn, logits, num_samples, dtype, _stateless(seed, fn))


def _categorical(fn: str, logits: Any, num_samples: Any, dtype: Any, keys: KeySource) -> Tensor:
    from gputensor.ops import array_ops

    x = convert_to_tensor(logits)
    if x.ndim != 2 or x.dtype not in _dt.FLOATS:
        raise InvalidArgumentError(
            f"{fn}: logits must be a float matrix [batch_size, num_classes], got shape "
            f"{tuple(x.shape)} and dtype {x.dtype.name}"
        )
    out = _dt.int64 if dtype is None else _dt.as_dtype(dtype)
    if out not in _INT_TYPES:
        raise TypeError(f"{fn}: dtype must be int32 or int64, got {out.name}")
    n = _as_int(num_samples, fn, "num_samples")
    batch, classes = x.shape
    if n < 0:
        raise InvalidArgumentError(f"{fn}: num_samples must be >= 0, got {n}")
    if classes == 0 and batch and n:
        raise InvalidArgumentError(f"{fn}: logits of shape {tuple(x.shape)} have no classes to sample from")
    ct = _dt.float64 if x.dtype is _dt.float64 else _dt.float32
    if x.dtype is not ct:
        x = math_ops.cast(x, ct)
    u = _sample(RANDOM_UNIFORM, (n, batch, classes), ct, keys)
    # Gumbel-max: argmax(logits + g) with g = -log(E), E = -log(1 - u) exponential. E is 0
    # only for u == 0; the tiny floor stands for g = +inf there, without a log(0) warning.
    tiny = float(np.finfo(ct.np_dtype).tiny)
    e = math_ops.negative(math_ops.log(math_ops.subtract(1.0, u)))
    g = math_ops.negative(math_ops.log(math_ops.maximum(e, tiny)))
    # Noise is drawn sample-major so the logits broadcast over it; a transpose puts the
    # batch first.
    scores = array_ops.transpose(math_ops.add(x, g), [1, 0, 2])
    return math_ops.argmax(scores, axis=2, output_type=out)


# ----------------------------------------------------------------- Generator
def _algorithm(alg: Any, fn: str) -> Algorithm:
    if alg is None or alg == "auto_select" or alg == "philox" or alg in (1, 3):
        return Algorithm.PHILOX
    if isinstance(alg, Algorithm) and alg is not Algorithm.THREEFRY:
        return Algorithm.PHILOX
    raise InvalidArgumentError(
        f"{fn}: algorithm {alg!r} is not supported; gputensor implements Philox "
        "(alg='philox' or 'auto_select')"
    )


def _to_int64(u: int) -> int:
    u &= _MASK64
    return u - (1 << 64) if u >> 63 else u


def create_rng_state(seed: Any, alg: Any) -> np.ndarray:
    """The Philox state ``[counter, 0, key]`` (int64) a Generator seeded with ``seed`` starts from.

    Args:
      seed: an integer (any size; 128 bits are used) or a sequence of up to two integers.
      alg: "philox", "auto_select" or None.

    Returns:
      A NumPy int64 array of shape [3], as ``tf.random.experimental.create_rng_state``.
    """
    _algorithm(alg, "create_rng_state")
    if isinstance(seed, (list, tuple, np.ndarray, Tensor)):
        parts = [_as_int(s, "create_rng_state", "seed") for s in np.asarray(seed).reshape(-1)]
        if len(parts) > 2:
            raise InvalidArgumentError(f"create_rng_state: seed has {len(parts)} ints; give at most 2")
        a, b = (parts + [0, 0])[:2]
    else:
        s = _as_int(seed, "create_rng_state", "seed")
        a, b = s & _MASK64, (s >> 64) & _MASK64
    key, _ = _scramble(a, b)
    return np.array([0, 0, _to_int64(key)], dtype=np.int64)


class Generator:
    """A random number generator with its own state, as ``tf.random.Generator``.

    The state is an int64 Variable ``[counter, 0, key]`` on the CPU: each op uses
    the Philox ``key`` and the current ``counter`` as its offset, then adds one to
    the counter, so a generator never repeats a stream (docs/random.md).

    Args:
      copy_from: a Generator to copy the state of.
      state: an initial state ``[counter, 0, key]`` (see `create_rng_state`).
      alg: "philox", "auto_select" or None.

    >>> g = gt.random.Generator.from_seed(1)
    >>> g.normal([2, 3]).shape
    TensorShape([2, 3])
    """

    def __init__(self, copy_from: Generator | None = None, state: Any = None, alg: Any = None) -> None:
        if copy_from is not None:
            if state is not None:
                raise ValueError("Generator: give copy_from or state, not both")
            state = copy_from.state.numpy()
        elif state is None:
            raise ValueError(
                "Generator: give copy_from or state; or use Generator.from_seed(seed) / "
                "Generator.from_non_deterministic_state()"
            )
        self._alg = _algorithm(alg, "Generator")
        self._lock = threading.Lock()
        with _device_scope("/CPU:0"):
            self._state_var = Variable(_check_state(state), trainable=False, dtype=_dt.int64, name="StateVar")
        self._state_var._generator_state = True  # control flow names it in its refusals

    @classmethod
    def from_seed(cls, seed: Any, alg: Any = None) -> Generator:
        """A generator whose stream is determined by ``seed`` (an int or up to two ints)."""
        return cls(state=create_rng_state(seed, alg), alg=alg)

    @classmethod
    def from_non_deterministic_state(cls, alg: Any = None) -> Generator:
        """A generator with a key from the operating system's entropy source."""
        return cls(state=[0, 0, _to_int64(_os_random_key())], alg=alg)

    @classmethod
    def from_state(cls, state: Any, alg: Any) -> Generator:
        """A generator starting at ``state`` ([counter, 0, key])."""
        return cls(state=state, alg=alg)

    @classmethod
    def from_key_counter(cls, key: Any, counter: Any, alg: Any) -> Generator:
        """A generator with Philox ``key`` (an int) and ``counter`` (an int or [counter, 0])."""
        c = np.asarray(counter).reshape(-1)
        first = _as_int(c[0] if c.size else 0, "from_key_counter", "counter")
        k = _as_int(np.asarray(key).reshape(-1)[0], "from_key_counter", "key")
        return cls(state=[_to_int64(first), 0, _to_int64(k)], alg=alg)

    # -------------------------------------------------------------- state
    @property
    def state(self) -> Variable:
        """The int64 state Variable ``[counter, 0, key]``."""
        return self._state_var

    @property
    def algorithm(self) -> int:
        """The algorithm's number (1, Philox), as TF."""
        return self._alg.value

    @property
    def key(self) -> Tensor:
        """The Philox key as an int64 scalar tensor."""
        return convert_to_tensor(self._state_var.numpy()[2])

    def reset(self, state: Any) -> None:
        """Sets the state to ``state`` ([counter, 0, key])."""
        with self._lock, _device_scope("/CPU:0"):
            self._state_var.assign(_check_state(state))

    def reset_from_seed(self, seed: Any) -> None:
        """Resets the state as `from_seed` makes it."""
        self.reset(create_rng_state(seed, self._alg.name.lower()))

    def reset_from_key_counter(self, key: Any, counter: Any) -> None:
        """Resets the state to Philox ``key`` and ``counter``."""
        self.reset(Generator.from_key_counter(key, counter, None).state.numpy())

    def skip(self, delta: Any) -> None:
        """Advances the counter by ``delta`` op calls."""
        self._advance(_as_int(delta, "skip", "delta"))

    def _advance(self, calls: int) -> tuple[int, int]:
        """(key, offset) for the next op call; the counter moves on by ``calls``."""
        with self._lock:
            s = self._state_var.numpy()
            counter, key = int(s[0]) & _MASK64, int(s[2]) & _MASK64
            new = s.copy()
            new[0] = _to_int64(counter + calls)
            with _device_scope("/CPU:0"):
                self._state_var.assign(new)
        return key, counter

    def _keys(self) -> KeySource:
        def generator_keys() -> tuple[int, int]:
            return self._advance(1)

        generator_keys.generator = self  # traced draws read the state when the graph runs
        return generator_keys

    def _sample_in_graph(self, op: Any, shape: Any, dtype: _dt.DType, extra: dict) -> Tensor:
        """A draw traced into a gt.function: it reads the state variable when the graph runs,
        uses its key and counter, and adds one to the counter, as an eager draw does; so
        eager and traced draws continue one stream, and a saved function keeps drawing from
        the restored state (TF's rng_read_and_skip).

        In a gt.cond branch or gt.while_loop body too, as TF: the read and the write are the
        branch's or body's, so each iteration draws the next numbers, a branch not taken draws
        nothing, and the counter ends where the draws that ran leave it. A tape inside the
        function gets the numbers drawn: traced while a tape records, the node keeps the state
        values it read (control_flow `_kept`) and its gradient replays the draws from them."""
        current = self._state_var.read_value()
        attrs = {
            "primitive": op.name, "dtype": dtype.np_dtype,
            "minval": extra.get("minval"), "maxval": extra.get("maxval"),
        }  # fmt: skip
        if isinstance(shape, _RuntimeShape):
            out = execute(GENERATOR_RANDOM, (current, shape.tensor), {"static_shape": shape.static, **attrs})
        else:
            out = execute(GENERATOR_RANDOM, (current,), {"static_shape": tuple(shape), **attrs})
        self._state_var.assign_add(np.array([1, 0, 0], dtype=np.int64), read_value=False)
        return out

    def _checkpoint_dependencies(self) -> dict:
        """The state variable, so ``gt.train.Checkpoint`` and SavedModels save and restore it."""
        return {"_state_var": self._state_var}

    # -------------------------------------------------------------- sampling
    def normal(
        self,
        shape: Any,
        mean: Any = 0.0,
        stddev: Any = 1.0,
        dtype: Any = _dt.float32,
        name: str | None = None,
    ) -> Tensor:
        """Normal values (see `gt.random.normal`) from this generator's stream."""
        return _normal_family(RANDOM_NORMAL, "Generator.normal", shape, mean, stddev, dtype, self._keys())

    def truncated_normal(
        self,
        shape: Any,
        mean: Any = 0.0,
        stddev: Any = 1.0,
        dtype: Any = _dt.float32,
        name: str | None = None,
    ) -> Tensor:
        """Truncated normal values (see `gt.random.truncated_normal`) from this generator."""
        fn = "Generator.truncated_normal"
        return _normal_family(RANDOM_TRUNCATED_NORMAL, fn, shape, mean, stddev, dtype, self._keys())

    def uniform(
        self,
        shape: Any,
        minval: Any = 0,
        maxval: Any = None,
        dtype: Any = _dt.float32,
        name: str | None = None,
    ) -> Tensor:
        """Uniform values in [minval, maxval) (see `gt.random.uniform`) from this generator.

        As TF, ``minval=None, maxval=None`` with an integer dtype gives the full range.
        """
        return _uniform("Generator.uniform", shape, minval, maxval, dtype, self._keys(), True)

    def uniform_full_int(self, shape: Any, dtype: Any = _dt.uint64, name: str | None = None) -> Tensor:
        """Integers over the whole range of ``dtype`` (int32, int64, uint32 or uint64)."""
        shape = _shape(shape, "Generator.uniform_full_int")
        dt = _dt.as_dtype(dtype)
        if dt not in _BITS_TYPES:
            raise TypeError(
                f"Generator.uniform_full_int: dtype {dt.name} is not allowed; use int32, int64, "
                "uint32 or uint64"
            )
        return _sample(RANDOM_BITS, shape, dt, self._keys())

    def make_seeds(self, count: int = 1) -> Tensor:
        """``count`` seeds for stateless ops, as a ``[2, count]`` int64 tensor."""
        count = _as_int(count, "Generator.make_seeds", "count")
        return _sample(RANDOM_BITS, (2, count), _dt.int64, self._keys())

    def split(self, count: int = 1) -> list[Generator]:
        """``count`` new generators with independent streams; advances this one.

        Returns:
          A list of ``count`` Generators.
        """
        seeds = np.asarray(self.make_seeds(count))
        return [
            Generator(state=[0, 0, _to_int64(_scramble(int(a), int(b))[0])], alg=self._alg.name.lower())
            for a, b in seeds.T
        ]


def _check_state(state: Any) -> np.ndarray:
    arr = np.asarray(state)
    if arr.shape != (3,) or arr.dtype.kind not in "iu":
        raise InvalidArgumentError(
            f"Generator: state must be 3 integers [counter, 0, key], got shape {arr.shape} and "
            f"dtype {arr.dtype}; make one with gt.random.experimental.create_rng_state(seed, 'philox')"
        )
    return np.array([_to_int64(int(v)) for v in arr.tolist()], dtype=np.int64)


_global_generator: Generator | None = None


def get_global_generator() -> Generator:
    """The global Generator, made from a non-deterministic state on first use (as TF)."""
    global _global_generator
    if _global_generator is None:
        _global_generator = Generator.from_non_deterministic_state()
    return _global_generator


def set_global_generator(generator: Generator) -> None:
    """Replaces the global Generator."""
    global _global_generator
    if not isinstance(generator, Generator):
        raise TypeError(
            f"set_global_generator: expected a gt.random.Generator, got {type(generator).__name__}"
        )
    _global_generator = generator
