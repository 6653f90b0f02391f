"""Every op's shape and dtype rule against what the op really returns.

The corpus is the op-gradient table (every differentiable op) plus the rows below
(the others). Each op call made while a case runs is checked three ways: the rule
on the inputs' real shapes gives the real output shapes and dtypes; with every
input dim unknown, and with every input rank unknown, it gives something
compatible (a dim is None or right) without raising.
"""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt
from gputensor.framework import shape_inference as si
from gputensor.framework.context import state
from gputensor.framework.op_table import OPS, define
from gputensor.framework.shape_inference import Spec
from tests.autodiff.test_op_gradients import ALL_CASES

# Output dims that depend on values: the rule says None there.
_VALUE_DEPENDENT = {"where", "unique", "string_split", "unicode_split", "bytes_split", "unicode_decode"}


class _All:
    def isdisjoint(self, ids) -> bool:
        return False


class _Recorder:
    """Stands in state.tapes and notes every op call (an `_ids` no input is disjoint from)."""

    _ids = _All()
    _var_tensors: dict = {}
    _watched_vars: dict = {}
    _watch_accessed = False

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def _add(self, op, inputs, in_ids, attrs, outputs) -> None:
        self.calls.append((op, inputs, dict(attrs), outputs if type(outputs) is tuple else (outputs,)))

    def _note_break(self, kind, name, inputs) -> None:
        pass


def _record(fn, *args) -> list[tuple]:
    rec = _Recorder()
    saved = state.tapes
    state.tapes = saved + (rec,)
    try:
        fn(*args)
    finally:
        state.tapes = saved
    return rec.calls


def _as_tuple(result) -> tuple:
    return result if isinstance(result, tuple) and not isinstance(result, Spec) else (result,)


def _compatible(inferred: Spec, real: Spec) -> bool:
    if inferred.dtype is not real.dtype:
        return False
    if inferred.shape is None:
        return True
    return len(inferred.shape) == len(real.shape) and all(
        d is None or d == r for d, r in zip(inferred.shape, real.shape)
    )


def _check(op, inputs, attrs, outputs) -> None:
    real = tuple(si.of(o) for o in outputs)
    specs = [si.of(t) for t in inputs]
    got = _as_tuple(op.infer(op, specs, attrs))
    assert len(got) == len(real), f"{op.name}: {len(got)} outputs inferred, {len(real)} returned"
    for g, r in zip(got, real):
        if op.name in _VALUE_DEPENDENT:
            assert _compatible(g, r), f"{op.name}: inferred {g}, got {r}"
        else:
            assert g == r, f"{op.name}{tuple(s.shape for s in specs)} {attrs}: inferred {g}, got {r}"
    unknown_dims = [Spec(None if s.shape is None else (None,) * len(s.shape), s.dtype) for s in specs]
    unknown_rank = [Spec(None, s.dtype) for s in specs]
    for partial in (unknown_dims, unknown_rank):
        for g, r in zip(_as_tuple(op.infer(op, partial, attrs)), real):
            assert _compatible(g, r), f"{op.name} with inputs {partial}: inferred {g}, got {r}"


def _ints(*shape):
    return lambda rng: rng.integers(-5, 5, shape).astype(np.int32)


# Rows for the ops without a gradient (and dtype variants the gradient table does not reach).
EXTRA = [
    ("comparisons", lambda x, y: [gt.equal(x, y), gt.less(x, y), gt.greater_equal(x, 0.0), gt.not_equal(x, y),
                                   gt.less_equal(x, y), gt.greater(x, y)], ("f", (2, 3)), ("f", (3,))),
    ("logic", lambda x: [gt.logical_and(x > 0, x < 1), gt.logical_or(x > 0, x < 1), gt.logical_not(x > 0),
                         gt.math.logical_xor(x > 0, x < 1)], ("f", (2, 3))),
    ("bitwise", lambda a, b: [gt.math.bitwise_and(a, b), gt.math.bitwise_or(a, b),
                              gt.math.bitwise_xor(a, b), gt.math.invert(a)], ("i", (2, 3)), ("i", (3,))),
    ("integer_math", lambda a, b: [gt.math.floordiv(a, b + 10), gt.math.floormod(a, b + 10), gt.abs(a),
                                   gt.sign(a)], ("i", (2, 3)), ("i", (2, 3))),
    ("rounding", lambda x: [gt.floor(x), gt.math.ceil(x), gt.round(x), gt.math.is_nan(x),
                            gt.math.is_inf(x), gt.math.is_finite(x)], ("f", (4,))),
    ("arg_reductions", lambda x: [gt.argmax(x, axis=1), gt.argmin(x, axis=0, output_type=gt.int32),
                                  gt.reduce_all(x > 0, axis=0, keepdims=True), gt.reduce_any(x > 0)], ("f", (3, 4))),
    ("casts", lambda x: [gt.cast(x, gt.int32), gt.cast(x, gt.float16), gt.cast(x > 0, gt.float32)], ("f", (2, 2))),
    ("complex_parts", lambda x: [gt.math.real(gt.cast(x, gt.complex64)), gt.math.imag(gt.cast(x, gt.complex128)),
                                 gt.abs(gt.cast(x, gt.complex64)), gt.math.conj(gt.cast(x, gt.complex64))], ("f", (2, 3))),
    ("creation", lambda: [gt.fill([2, 3], 1.5), gt.zeros([0, 2]), gt.range(2, 11, 3), gt.range(5.0),
                          gt.ones_like(gt.constant([[1, 2]]))]),
    ("random", lambda: [gt.random.uniform([2, 3]), gt.random.normal([4]), gt.random.truncated_normal([2, 2]),
                        gt.random.uniform([3], maxval=10, dtype=gt.int32), gt.random.uniform([2], dtype=gt.float64),
                        gt.random.Generator.from_seed(1).uniform_full_int([2, 2], dtype=gt.uint32)]),
    ("where_unique", lambda x: [gt.where(x > 0), gt.unique(gt.constant([3, 1, 3, 2]))], ("f", (3, 2))),
    ("identity_reshape", lambda x: [gt.identity(x), gt.reshape(x, [-1]), gt.reshape(x, [3, -1])], ("f", (3, 2))),
    ("sort_integers", lambda a: [gt.sort(a), gt.argsort(a, direction="DESCENDING")], ("i", (2, 5))),
    ("matmul_batched", lambda a, b: [gt.matmul(a, b), gt.matmul(a, b, transpose_a=True, transpose_b=True)],
     ("f", (2, 3, 3)), ("f", (3, 3))),
    ("einsum_forms", lambda a, b: [gt.einsum("ij,jk->ik", a, b), gt.einsum("ij,jk", a, b), gt.einsum("...j,jk->...k", a, b),
                                   gt.einsum("ii->i", gt.matmul(a, a, transpose_b=True))], ("f", (2, 3)), ("f", (3, 4))),
    ("linalg_shapes", lambda a: [gt.linalg.qr(a), gt.linalg.qr(a, full_matrices=True), gt.linalg.svd(a),
                                 gt.linalg.svd(a, full_matrices=True), gt.linalg.diag_part(a),
                                 gt.linalg.band_part(a, 1, 0), gt.linalg.diag(gt.constant([1.0, 2.0]), k=1)],
     ("f", (2, 4, 3))),
    ("runtime_shapes", lambda x: _runtime_shape_ops(x), ("f", (3, 2))),
    # TensorArray(infer_shape=False) in a graph loop: the run-time check of its element shapes
    ("tensor_array_shapes", lambda x: _tensor_array_shape_checks(x), ("f", (3, 2))),
    ("pool_same", lambda x: [gt.nn.max_pool2d(x, 3, 2, "SAME"), gt.nn.avg_pool2d(x, 2, 1, "SAME")], ("f", (1, 5, 6, 2))),
    ("strings", lambda x: _string_ops(x), ("f", (2, 3))),
]  # fmt: skip


def _string_ops(x):
    """Every gt.strings op, on strings made from ``x`` (so numeric inputs reach as_string too)."""
    s = gt.strings.as_string(x, precision=2)
    S = gt.strings
    word = gt.constant("a b,c")
    return [
        S.length(s), S.upper(s), S.lower(s), S.strip(s), S.join([s, s, "x"], separator="-"),
        S.reduce_join(s), S.reduce_join(s, axis=[1, 0], keepdims=True), S.reduce_join(s, axis=-1),
        S.substr(s, 0, 2), S.substr(s, gt.constant([[0, 1, 0], [1, 0, 1]]), gt.constant([[1, 2, 1], [1, 1, 1]])),
        S.regex_full_match(s, "-?[0-9.]+"), S.regex_replace(s, "[0-9]", "#"),
        S.to_number(s), S.to_number(s, out_type=gt.float64), S.format("{}: {}", [x, s]),
        S.split(word), S.split(word, sep=","), S.unicode_split(word, "UTF-8"), S.bytes_split(word),
        S.to_hash_bucket_fast(s, 5), S.unicode_decode(word, "UTF-8"), S.unicode_encode(gt.constant([[97, 98], [99, 100]]), "UTF-8"),
        s + s, gt.reshape(s, [-1]), gt.equal(s, s),
    ]  # fmt: skip


def _tensor_array_shape_checks(x):
    """The element-shape check of a TensorArray of differing shapes in its flat form."""
    from gputensor.graph import tensor_array_ragged as r

    shapes = gt.constant([[3, 2], [1, 2]])
    return [r.element_shape(shapes, "concat"), r.element_shape(shapes, "read", gt.constant([1]))]


def _runtime_shape_ops(x):
    """The ops a graph traced with None dims reads shapes with at run time, called eagerly."""
    from gputensor.framework.op_table import execute

    s = execute(OPS["shape"], (x,), {"out_type": np.dtype(np.int32)})
    row = gt.reduce_sum(x, axis=0)
    return [
        s,
        execute(OPS["dynamic_reshape"], (x, gt.constant([2, -1])), {"static_shape": (2, 3)}),
        execute(OPS["dynamic_broadcast_to"], (row, s), {"static_shape": (3, 2)}),
        execute(
            OPS["dynamic_fill"], (s,), {"static_shape": (3, 2), "value": 1.5, "dtype": np.dtype(np.float32)}
        ),
        execute(OPS["sum_to"], (x, gt.constant([1, 2])), {"static_shape": (1, 2)}),
        execute(
            OPS["dynamic_random"],
            (s,),
            {
                "static_shape": (3, 2),
                "primitive": "random_normal",
                "key": 1,
                "offset": 0,
                "dtype": np.dtype(np.float32),
                "minval": None,
                "maxval": None,
            },
        ),  # fmt: skip
        execute(
            OPS["generator_random"],
            (gt.constant([0, 0, 7], dtype=gt.int64), s),
            {
                "static_shape": (3, 2),
                "primitive": "random_uniform_int",
                "dtype": np.dtype(np.int32),
                "minval": 0,
                "maxval": 5,
            },
        ),  # fmt: skip
        # a draw inside a loop body: the context folded with the iteration, then the seeded draw
        execute(OPS["random_fold_seed"], (gt.constant(7, gt.int64), gt.constant(2, gt.int64)), {}),
        execute(
            OPS["random_seeded"],
            (gt.constant(11, gt.int64),),
            {
                "static_shape": (3, 2),
                "primitive": "random_uniform",
                "key": 1,
                "offset": 0,
                "dtype": np.dtype(np.float32),
                "minval": None,
                "maxval": None,
            },
        ),  # fmt: skip
    ]


def _make(kind, shape):
    if kind == "i":
        return _ints(*shape)
    return lambda rng: rng.standard_normal(shape)


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_rule_of_every_op_in_the_gradient_table(case, rng):
    args = [gt.constant(make(rng)) for make in case.inputs]
    calls = _record(case.fn, *args)
    assert calls, "the case ran no op"
    for call in calls:
        _check(*call)


@pytest.mark.parametrize("row", EXTRA, ids=[r[0] for r in EXTRA])
def test_rule_of_the_ops_without_gradients(row, rng):
    name, fn, *inputs = row
    args = [gt.constant(_make(kind, shape)(rng)) for kind, shape in inputs]
    calls = _record(fn, *args)
    assert calls
    for call in calls:
        _check(*call)


def test_every_op_has_a_rule_and_a_row(rng):
    seen = set()
    for case in ALL_CASES:
        seen.update(op.name for op, *_ in _record(case.fn, *[gt.constant(m(rng)) for m in case.inputs]))
    for name, fn, *inputs in EXTRA:
        seen.update(op.name for op, *_ in _record(fn, *[gt.constant(_make(k, s)(rng)) for k, s in inputs]))
    assert all(op.infer is not None for op in OPS.values())
    missing = sorted(set(OPS) - seen)
    assert not missing, f"ops no case here runs, so their rules are untested: {missing}"


def test_broadcasting_rule():
    assert si.broadcast((2, 1, 3), (4, 1)) == (2, 4, 3)
    assert si.broadcast((None, 3), (1, 3)) == (None, 3)
    assert si.broadcast((None, 3), (5, 1)) == (5, 3)  # a None that broadcasts against 5 is 5 or 1
    assert si.broadcast((2, 3), None) is None
    with pytest.raises(ValueError, match="do not broadcast"):
        si.broadcast((2, 3), (4, 3))


def test_contradicting_known_dims_raise():
    spec = Spec((2, 3), gt.float32)
    with pytest.raises(ValueError, match="matmul"):
        OPS["matmul"].infer(OPS["matmul"], [spec, spec], {"transpose_a": False, "transpose_b": False})
    conv_attrs = {"strides": (1, 1), "padding": ((0, 0), (0, 0)), "dilations": (1, 1)}
    with pytest.raises(ValueError, match="channels"):
        OPS["conv2d"].infer(
            OPS["conv2d"], [Spec((1, 4, 4, 3), gt.float32), Spec((2, 2, 2, 1), gt.float32)], conv_attrs
        )


def test_an_op_of_kind_other_must_declare_its_rule():
    with pytest.raises(ValueError, match="needs infer="):
        define("an_op_without_a_rule", kind="other")
    assert "an_op_without_a_rule" not in OPS
