"""``gt.map_fn``: apply a function to every row of a tensor (or nest of tensors).

Eagerly it is a Python loop whose results are stacked. While a ``gt.function`` is traced
it is a ``gt.while_loop`` over the leading dimension that writes each result to a
`gt.TensorArray`, so a leading dimension that is None in the graph works and the graph
holds ``fn`` once. Both are made of differentiable ops (gather, scatter, stack), so
gradients flow to ``elems`` and to what ``fn`` captures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gputensor.autodiff import nest
from gputensor.errors import InvalidArgumentError
from gputensor.framework import dtypes
from gputensor.framework.context import state
from gputensor.framework.tensor import Tensor, convert_to_tensor


def _spec_dtype(spec: Any) -> dtypes.DType:
    """The dtype a signature entry names (a DType, a dtype-like, or a TensorSpec)."""
    dt = getattr(spec, "dtype", None)
    if dt is not None and not isinstance(spec, dtypes.DType):
        return dtypes.as_dtype(dt)
    try:
        return dtypes.as_dtype(spec)
    except (TypeError, ValueError, KeyError):
        raise TypeError(
            f"map_fn: fn_output_signature entries must be dtypes or gt.TensorSpec, got {spec!r}"
        ) from None


def _shape_repr(structure: Any) -> str:
    return repr(nest.pack_sequence_as(structure, [None] * len(nest.flatten(structure))))


def map_fn(
    fn: Callable,
    elems: Any,
    dtype: Any = None,
    parallel_iterations: int | None = None,
    back_prop: bool = True,
    swap_memory: bool = False,
    infer_shape: bool = True,
    name: str | None = None,
    fn_output_signature: Any = None,
) -> Any:
    """Transforms ``elems`` by applying ``fn`` to each element unstacked on axis 0.

    As ``tf.map_fn``: ``map_fn(fn, elems)`` is ``gt.stack([fn(e) for e in
    gt.unstack(elems)])``. ``elems`` may be a (nested) list/tuple/dict of tensors with the
    same leading dimension; ``fn`` then gets the matching structure of rows. ``fn`` may
    return a nest of tensors; its structure and dtypes must match ``fn_output_signature``
    (or ``dtype``, its older name), which defaults to ``elems``' own.

    Inside a ``gt.function`` this is a ``gt.while_loop`` over the leading dimension (which
    may be None), writing each result to a ``gt.TensorArray``.

    >>> gt.map_fn(lambda t: t * t, gt.constant([1, 2, 3]))
    <gt.Tensor: shape=(3,), dtype=int32, numpy=array([1, 4, 9], dtype=int32)>

    Args:
      fn: the function to apply to each element.
      elems: a tensor or a nest of tensors, each with the leading dimension to map over.
      dtype: deprecated name of ``fn_output_signature``.
      parallel_iterations, back_prop, swap_memory, infer_shape, name: accepted for TF
        compatibility (iterations run one after another).
      fn_output_signature: the output's structure of dtypes or ``gt.TensorSpec``s, when it
        differs from ``elems``'.

    Returns:
      The results stacked along a new first axis, in ``fn``'s output structure.

    Raises:
      ValueError: ``elems`` is empty or a scalar, leading dimensions differ, or ``fn``'s
        output structure is not the signature's.
      TypeError: an output's dtype is not the signature's.
    """
    if fn_output_signature is None:
        fn_output_signature = dtype
    leaves = nest.flatten(elems)
    if not leaves:
        raise ValueError(
            f"map_fn: elems must be a Tensor or (possibly nested) sequence of Tensors, got {elems!r}"
        )
    flat = [x if isinstance(x, Tensor) else convert_to_tensor(x) for x in leaves]
    for t in flat:
        if t.ndim == 0:
            raise ValueError(
                "map_fn: elements in elems must be 1+ dimensional Tensors, not scalars; map over a "
                "tensor with a leading dimension (e.g. gt.reshape(x, [1]))"
            )
    known = {t.shape[0] for t in flat if t.shape[0] is not None}
    if len(known) > 1:
        raise ValueError(
            f"map_fn: all elems must have the same first dimension size, got {[t.shape[0] for t in flat]}"
        )
    if fn_output_signature is None:
        out_structure: Any = elems
        out_dtypes = [t.dtype for t in flat]
    else:
        out_structure = fn_output_signature
        out_dtypes = [_spec_dtype(s) for s in nest.flatten(fn_output_signature)]
    expected = _shape_repr(out_structure)

    def row(i: Any) -> Any:
        from gputensor.ops.array_ops import gather

        return nest.pack_sequence_as(elems, [gather(t, i) for t in flat])

    def results(value: Any) -> list:
        got = nest.flatten(value)
        if len(got) != len(out_dtypes) or (
            isinstance(out_structure, (list, tuple, dict)) and _shape_repr(value) != expected
        ):
            raise ValueError(
                f"map_fn: fn returned {_shape_repr(value)} but the output signature is {expected}; pass "
                "fn_output_signature= with fn's output structure (e.g. (gt.float32, gt.int32))"
            )
        out = []
        for k, (v, dt) in enumerate(zip(got, out_dtypes)):
            v = v if isinstance(v, Tensor) else convert_to_tensor(v, dtype=dt)
            if v.dtype is not dt:
                raise TypeError(
                    f"map_fn: fn's output {k} has dtype {v.dtype.name} but the output signature says "
                    f"{dt.name}; pass fn_output_signature={v.dtype.name} (or cast inside fn)"
                )
            out.append(v)
        return out

    from gputensor.ops import array_ops

    if state.graph is None:
        n = int(flat[0].shape[0])
        per_row = [results(fn(row(i))) for i in range(n)]
        if n == 0:
            stacked = [array_ops.zeros([0], dtype=dt) for dt in out_dtypes]
        else:
            stacked = [array_ops.stack([r[k] for r in per_row]) for k in range(len(out_dtypes))]
        return nest.pack_sequence_as(out_structure, stacked)

    from gputensor.graph.autograph.api import converted_call
    from gputensor.graph.control_flow import while_loop
    from gputensor.graph.tensor_array import TensorArray

    n_static = next(iter(known)) if known else None
    sizes = [array_ops.shape(t, out_type=dtypes.int32)[0] for t in flat if t.shape[0] is None]
    n: Any = n_static if n_static is not None else sizes[0]
    arrays = tuple(TensorArray(dt, size=n) for dt in out_dtypes)

    def cond(i: Tensor, *tas: Any) -> Tensor:
        from gputensor.ops.math_ops import less

        return less(i, n)

    def body(i: Tensor, *tas: Any) -> tuple:
        outs = results(converted_call(fn, (row(i),), {}))
        return (i + 1, *[ta.write(i, v) for ta, v in zip(tas, outs)])

    if not arrays:
        raise InvalidArgumentError("map_fn: fn_output_signature is empty", "map_fn")
    _, *done = while_loop(cond, body, (convert_to_tensor(0), *arrays))
    return nest.pack_sequence_as(out_structure, [ta.stack() for ta in done])
