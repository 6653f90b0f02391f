"""Every differentiable op's gradient against central finite differences, in float64, on every device.

One row per case: the public function to differentiate and generators of its
float64 inputs. `test_every_differentiable_op_has_a_gradient_and_a_case` fails when an op with
``differentiable=True`` has no gradient or no row here, so a new op needs one line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

import gputensor as gt
from gputensor.autodiff.registry import GRADIENTS
from gputensor.framework.op_table import OPS


def away_from_zero(*shape):
    """Values in +-[0.2, 1.5]: clear of the kinks of relu, abs, max and friends."""
    return lambda rng: rng.uniform(0.2, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


def positive(*shape, low=0.3, high=2.0):
    return lambda rng: rng.uniform(low, high, shape)


def normal(*shape):
    return lambda rng: rng.standard_normal(shape)


def distinct(*shape):
    """Distinct values (no ties), for max/min/sort-like ops."""
    n = int(np.prod(shape))
    return lambda rng: (rng.permutation(n).astype(np.float64) * 0.37 + rng.uniform(0, 0.1, n)).reshape(shape)


def probabilities(*shape):
    def make(rng):
        p = rng.uniform(0.1, 1.0, shape)
        return p / p.sum(axis=-1, keepdims=True)

    return make


def well_conditioned(n, batch=None):
    def make(rng):
        shape = (n, n) if batch is None else (batch, n, n)
        return rng.standard_normal(shape) * 0.3 + 2.0 * np.eye(n)

    return make


def sym(a):
    """A symmetric matrix from any square one (decompositions read one triangle only)."""
    return (a + gt.linalg.matrix_transpose(a)) * 0.5


def spd(a):
    n = a.shape[-1]
    return gt.matmul(a, a, transpose_b=True) + gt.constant(np.eye(n) * n, dtype=a.dtype)


def sign_free_svd(a):
    """Quantities of the SVD that do not depend on the singular vectors' signs."""
    s, u, v = gt.linalg.svd(a)
    return gt.concat([gt.reshape(gt.square(u), [-1]), gt.reshape(gt.square(v), [-1]), s], axis=0)


@dataclass
class Case:
    id: str
    ops: tuple  # op names whose gradient this case exercises
    fn: Callable
    inputs: tuple  # generators rng -> float64 array
    atol: float = 1e-6
    second_order: bool = True  # False: a known limitation, named where the row is


def _unary_case(name, gen=None, fn=None):
    fn = fn or getattr(gt.math, name, None) or getattr(gt.nn, name)
    return Case(name, (name,), fn, (gen or normal(2, 3),))


CASES = [
    # ------------------------------------------------------------- unary math
    _unary_case("negative"),
    _unary_case("abs", away_from_zero(2, 3)),
    _unary_case("exp"),
    _unary_case("expm1"),
    _unary_case("log", positive(2, 3)),
    _unary_case("log1p", positive(2, 3)),
    _unary_case("sqrt", positive(2, 3)),
    _unary_case("rsqrt", positive(2, 3)),
    _unary_case("square"),
    _unary_case("reciprocal", positive(2, 3)),
    _unary_case("sin"),
    _unary_case("cos"),
    _unary_case("tan", lambda rng: rng.uniform(-1.2, 1.2, (2, 3))),
    _unary_case("tanh"),
    _unary_case("erf"),
    _unary_case("sigmoid"),
    _unary_case("relu", away_from_zero(2, 3)),
    Case("relu6", ("relu6",), gt.nn.relu6, (lambda rng: rng.uniform(-2, 8, (3, 4)),)),
    _unary_case("elu", away_from_zero(2, 3)),
    _unary_case("selu", away_from_zero(2, 3)),
    _unary_case("softplus"),
    _unary_case("silu"),
    Case("gelu", ("gelu",), lambda x: gt.nn.gelu(x), (normal(2, 3),)),
    Case("gelu_approximate", ("gelu",), lambda x: gt.nn.gelu(x, approximate=True), (normal(2, 3),)),
    Case("leaky_relu", ("leaky_relu",), lambda x: gt.nn.leaky_relu(x, alpha=0.3), (away_from_zero(2, 3),)),
    Case("cast_float32_roundtrip", ("cast",), lambda x: gt.cast(gt.cast(x, gt.float32), gt.float64) * 1.0,
         (lambda rng: np.round(rng.standard_normal((3,)) * 64) / 64,), atol=1e-5),  # fmt: skip
    # ------------------------------------------------------------ binary math
    Case("add_broadcast", ("add",), gt.add, (normal(2, 3), normal(3))),
    Case("subtract_broadcast", ("subtract",), gt.subtract, (normal(2, 1), normal(1, 3))),
    Case("multiply_broadcast", ("multiply",), gt.multiply, (normal(2, 3), normal(2, 1))),
    Case("divide_broadcast", ("div",), gt.divide, (normal(2, 3), positive(3))),
    Case("floormod", ("floormod",), gt.math.floormod, (positive(2, 3, low=2.1, high=2.9), positive(3, low=0.7, high=0.9))),
    Case("pow", ("pow",), gt.pow, (positive(2, 3), normal(2, 3))),
    Case("maximum", ("maximum",), gt.maximum, (distinct(2, 3), distinct(2, 3))),
    Case("minimum_broadcast", ("minimum",), gt.minimum, (distinct(2, 3), distinct(3))),
    Case("squared_difference", ("squared_difference",), gt.math.squared_difference, (normal(2, 3), normal(3))),
    Case("atan2", ("atan2",), gt.math.atan2, (normal(2, 3), positive(2, 3))),
    Case("where", ("select",), lambda x, y: gt.where(gt.constant([[True, False, True]]), x, y), (normal(2, 3), normal(2, 3))),
    # --------------------------------------------------------------- reductions
    Case("reduce_sum_all", ("reduce_sum",), gt.reduce_sum, (normal(2, 3),)),
    Case("reduce_sum_axis", ("reduce_sum",), lambda x: gt.reduce_sum(x, axis=1), (normal(2, 3, 4),)),
    Case("reduce_sum_axes_keepdims", ("reduce_sum",), lambda x: gt.reduce_sum(x, axis=[0, 2], keepdims=True), (normal(2, 3, 4),)),
    Case("reduce_mean_axis", ("reduce_mean",), lambda x: gt.reduce_mean(x, axis=-1), (normal(2, 3),)),
    Case("reduce_prod", ("reduce_prod",), lambda x: gt.reduce_prod(x, axis=1), (normal(2, 3, 2),)),
    Case("reduce_prod_with_zero", ("reduce_prod",), gt.reduce_prod, (lambda rng: np.array([[0.0, 2.0], [3.0, -1.5]]),), second_order=False),
    Case("reduce_max_axis", ("reduce_max",), lambda x: gt.reduce_max(x, axis=0), (distinct(3, 4),)),
    Case("reduce_min_all", ("reduce_min",), gt.reduce_min, (distinct(3, 4),)),
    Case("reduce_logsumexp", ("reduce_logsumexp",), lambda x: gt.reduce_logsumexp(x, axis=1), (normal(2, 3),)),
    Case("cumsum", ("cumsum",), lambda x: gt.cumsum(x, axis=1), (normal(2, 4),)),
    Case("cumsum_exclusive_reverse", ("cumsum",), lambda x: gt.cumsum(x, axis=0, exclusive=True, reverse=True), (normal(3, 2),)),
    Case("cumprod", ("cumprod",), lambda x: gt.math.cumprod(x, axis=1), (positive(2, 4),)),
    # ------------------------------------------------------------------- nn
    Case("softmax", ("softmax",), lambda x: gt.nn.softmax(x), (normal(2, 4),)),
    Case("softmax_axis0", ("softmax",), lambda x: gt.nn.softmax(x, axis=0), (normal(3, 2),)),
    Case("log_softmax", ("log_softmax",), lambda x: gt.nn.log_softmax(x), (normal(2, 4),)),
    Case("softmax_cross_entropy", ("softmax_xent",),
         lambda labels, logits: gt.nn.softmax_cross_entropy_with_logits(labels, logits),
         (probabilities(3, 4), normal(3, 4))),  # fmt: skip
    Case("sparse_softmax_cross_entropy", ("sparse_softmax_xent",),
         lambda logits: gt.nn.sparse_softmax_cross_entropy_with_logits(gt.constant([1, 0, 3]), logits),
         (normal(3, 4),)),  # fmt: skip
    Case("sigmoid_cross_entropy", ("sigmoid",),
         lambda labels, logits: gt.nn.sigmoid_cross_entropy_with_logits(labels, logits),
         (lambda rng: rng.uniform(0, 1, (2, 3)), normal(2, 3))),  # fmt: skip
    Case("conv2d_same_stride2", ("conv2d",), lambda x, w: gt.nn.conv2d(x, w, strides=2, padding="SAME"),
         (normal(1, 5, 5, 2), normal(3, 3, 2, 2))),  # fmt: skip
    Case("conv2d_valid_dilated", ("conv2d",), lambda x, w: gt.nn.conv2d(x, w, strides=1, padding="VALID", dilations=2),
         (normal(2, 5, 5, 1), normal(2, 2, 1, 2))),  # fmt: skip
    Case("conv2d_transpose", ("conv2d_backprop_input",),
         lambda x, w: gt.nn.conv2d_transpose(x, w, output_shape=[1, 5, 5, 2], strides=2, padding="SAME"),
         (normal(1, 3, 3, 3), normal(3, 3, 2, 3))),  # fmt: skip
    Case("depthwise_conv2d", ("depthwise_conv2d",),
         lambda x, w: gt.nn.depthwise_conv2d(x, w, strides=[1, 1, 1, 1], padding="SAME"),
         (normal(1, 4, 4, 2), normal(2, 2, 2, 2))),  # fmt: skip
    Case("max_pool2d", ("max_pool2d",), lambda x: gt.nn.max_pool2d(x, 2, 2, "VALID"), (distinct(1, 4, 4, 2),)),
    Case("max_pool2d_same_overlapping", ("max_pool2d",), lambda x: gt.nn.max_pool2d(x, 3, 2, "SAME"), (distinct(1, 5, 5, 1),)),
    Case("avg_pool2d_same", ("avg_pool2d",), lambda x: gt.nn.avg_pool2d(x, 3, 2, "SAME"), (normal(1, 5, 5, 2),)),
    # ----------------------------------------------------------------- linalg
    Case("matmul", ("matmul",), gt.matmul, (normal(2, 3), normal(3, 4))),
    Case("matmul_transpose_a", ("matmul",), lambda a, b: gt.matmul(a, b, transpose_a=True), (normal(3, 2), normal(3, 4))),
    Case("matmul_transpose_b", ("matmul",), lambda a, b: gt.matmul(a, b, transpose_b=True), (normal(2, 3), normal(4, 3))),
    Case("matmul_transpose_both", ("matmul",), lambda a, b: gt.matmul(a, b, transpose_a=True, transpose_b=True), (normal(3, 2), normal(4, 3))),
    Case("matmul_batched_broadcast", ("matmul",), gt.matmul, (normal(2, 1, 2, 3), normal(3, 3, 2))),
    Case("einsum_matmul", ("einsum",), lambda a, b: gt.einsum("ij,jk->ik", a, b), (normal(2, 3), normal(3, 2))),
    Case("einsum_implicit_outer", ("einsum",), lambda a, b: gt.einsum("i,j", a, b), (normal(2), normal(3))),
    Case("einsum_reduce_only_in_one_operand", ("einsum",), lambda a, b: gt.einsum("ij,k->ik", a, b), (normal(2, 3), normal(2))),
    Case("einsum_trace", ("einsum",), lambda a: gt.einsum("ii->", a), (normal(3, 3),)),
    Case("einsum_ellipsis_batch", ("einsum",), lambda a, b: gt.einsum("...ij,...jk->...ik", a, b), (normal(2, 2, 3), normal(2, 3, 2))),
    Case("inv", ("matrix_inverse",), gt.linalg.inv, (well_conditioned(3),)),
    Case("inv_adjoint", ("matrix_inverse",), lambda a: gt.linalg.inv(a, adjoint=True), (well_conditioned(3),)),
    Case("det_batched", ("matrix_determinant",), gt.linalg.det, (well_conditioned(3, batch=2),)),
    Case("slogdet", ("log_matrix_determinant",), lambda a: gt.linalg.slogdet(a)[1], (well_conditioned(3),)),
    Case("cholesky", ("cholesky",), lambda a: gt.linalg.cholesky(spd(a)), (normal(3, 3),)),
    Case("qr_square_q", ("qr",), lambda a: gt.linalg.qr(a)[0], (well_conditioned(3),)),
    Case("qr_tall_r", ("qr",), lambda a: gt.linalg.qr(a)[1], (normal(4, 3),)),
    Case("qr_wide_q_and_r", ("qr",), lambda a: gt.concat(gt.linalg.qr(a), axis=1), (normal(2, 4),)),
    Case("solve", ("matrix_solve",), gt.linalg.solve, (well_conditioned(3), normal(3, 2))),
    Case("solve_adjoint", ("matrix_solve",), lambda a, b: gt.linalg.solve(a, b, adjoint=True), (well_conditioned(3), normal(3, 2))),
    Case("svd_values", ("svd",), lambda a: gt.linalg.svd(a, compute_uv=False), (normal(3, 4),)),
    Case("svd_vectors_tall", ("svd",), lambda a: sign_free_svd(a), (normal(4, 3),)),
    Case("svd_vectors_wide", ("svd",), lambda a: sign_free_svd(a), (normal(2, 4),)),
    Case("eigh_values", ("self_adjoint_eig",), lambda a: gt.linalg.eigh(sym(a))[0], (normal(3, 3),)),
    Case("eigh_vectors", ("self_adjoint_eig",), lambda a: gt.square(gt.linalg.eigh(sym(a))[1]), (normal(3, 3),)),
    Case("diag", ("matrix_diag",), lambda d: gt.linalg.diag(d, k=1), (normal(2, 3),)),
    Case("diag_part", ("matrix_diag_part",), lambda a: gt.linalg.diag_part(a, k=-1), (normal(2, 3, 3),)),
    Case("band_part", ("matrix_band_part",), lambda a: gt.linalg.band_part(a, 1, 0), (normal(3, 4),)),
    # ------------------------------------------------------------------ array
    Case("identity", ("identity",), gt.identity, (normal(2, 3),)),
    Case("reshape", ("reshape",), lambda x: gt.reshape(x, [3, 2]), (normal(2, 3),)),
    Case("expand_dims_squeeze", ("reshape",), lambda x: gt.squeeze(gt.expand_dims(x, 1) * 2.0), (normal(3),)),
    Case("transpose", ("transpose",), lambda x: gt.transpose(x, [2, 0, 1]), (normal(2, 3, 4),)),
    Case("broadcast_to", ("broadcast_to",), lambda x: gt.broadcast_to(x, [2, 3, 4]), (normal(3, 1),)),
    Case("tile", ("broadcast_to", "reshape"), lambda x: gt.tile(x, [2, 3]), (normal(2, 2),)),
    Case("concat", ("concat",), lambda a, b: gt.concat([a, b, a], axis=1), (normal(2, 1), normal(2, 3))),
    Case("stack", ("concat",), lambda a, b: gt.stack([a, b], axis=1), (normal(2, 3), normal(2, 3))),
    Case(
        "split_unstack",
        ("strided_slice",),
        lambda x: gt.concat([gt.split(x, [1, 2], axis=1)[1], gt.stack(gt.unstack(x, axis=1)[:2], axis=1)], 0),
        (normal(2, 3),),
    ),
    Case("slice_basic", ("strided_slice",), lambda x: x[1:, :2], (normal(3, 4),)),
    Case("slice_steps_and_reverse", ("strided_slice",), lambda x: x[::-2, 1::2], (normal(5, 4),)),
    Case("slice_shrink_and_newaxis", ("strided_slice",), lambda x: x[1, None, ::2], (normal(3, 4),)),
    Case("reverse", ("strided_slice",), lambda x: gt.reverse(x, [0]), (normal(3, 2),)),
    Case("roll", ("concat", "strided_slice"), lambda x: gt.roll(x, 1, axis=0), (normal(3, 2),)),
    Case("pad_constant", ("pad",), lambda x: gt.pad(x, [[1, 0], [2, 1]], constant_values=3.0), (normal(2, 3),)),
    Case("pad_reflect", ("pad",), lambda x: gt.pad(x, [[1, 2], [0, 1]], mode="REFLECT"), (normal(3, 3),)),
    Case("pad_symmetric", ("pad",), lambda x: gt.pad(x, [[2, 1]], mode="SYMMETRIC"), (normal(3),)),
    Case("gather_rows", ("gather",), lambda p: gt.gather(p, [2, 0, 2]), (normal(3, 2),)),
    Case("gather_axis1", ("gather",), lambda p: gt.gather(p, [[1, 1], [0, 2]], axis=1), (normal(2, 3),)),
    Case("gather_batch_dims", ("gather",), lambda p: gt.gather(p, [[1, 1], [0, 2]], axis=1, batch_dims=1), (normal(2, 3),)),
    Case("advanced_index", ("gather",), lambda x: x[:, [2, 0]], (normal(2, 3),)),
    Case("boolean_mask", ("gather",), lambda x: gt.boolean_mask(x, [True, False, True]), (normal(3, 2),)),
    Case("repeat", ("gather",), lambda x: gt.repeat(x, [2, 1], axis=0), (normal(2, 2),)),
    Case("gather_nd", ("gather_nd",), lambda p: gt.gather_nd(p, [[1, 0], [0, 2], [1, 0]]), (normal(2, 3),)),
    Case("gather_nd_batch_dims", ("gather_nd",), lambda p: gt.gather_nd(p, [[1], [0]], batch_dims=1), (normal(2, 3),)),
    Case("scatter_nd", ("tensor_scatter_nd",), lambda u: gt.scatter_nd([[1], [1], [3]], u, [4, 2]), (normal(3, 2),)),
    Case("tensor_scatter_nd_update", ("tensor_scatter_nd",), lambda t, u: gt.tensor_scatter_nd_update(t, [[0], [2]], u), (normal(3, 2), normal(2, 2))),
    Case("tensor_scatter_nd_add", ("tensor_scatter_nd",), lambda t, u: gt.tensor_scatter_nd_add(t, [[0], [0]], u), (normal(3, 2), normal(2, 2))),
    Case("tensor_scatter_nd_max", ("tensor_scatter_nd",), lambda t, u: gt.tensor_scatter_nd_max(t, [[0], [2]], u), (distinct(3, 2), distinct(2, 2))),
    Case("tensor_scatter_nd_min", ("tensor_scatter_nd",), lambda t, u: gt.tensor_scatter_nd_min(t, [[1]], u), (distinct(3), distinct(1))),
    Case("sort", ("sort",), lambda x: gt.sort(x, axis=0), (distinct(4, 3),)),
    Case("sort_descending", ("sort",), lambda x: gt.sort(x, direction="DESCENDING"), (distinct(2, 4),)),
    Case("top_k", ("sort",), lambda x: gt.math.top_k(x, k=2).values, (distinct(2, 5),)),
    Case("clip_by_value", ("maximum", "minimum"), lambda x: gt.clip_by_value(x, -0.5, 0.5), (away_from_zero(2, 3),)),
]  # fmt: skip


def _backward_primitive_cases():
    """The backward primitives (differentiated by second-order gradients) checked as functions."""
    from gputensor.framework.op_table import execute

    def conv_attrs(**kw):
        return {"strides": (1, 1), "padding": ((0, 0), (0, 0)), "dilations": (1, 1), **kw}

    return [
        Case("conv2d_backprop_input_op", ("conv2d_backprop_input",),
             lambda w, dy: execute(OPS["conv2d_backprop_input"], (w, dy), conv_attrs(input_sizes=(1, 4, 4, 2))),
             (normal(2, 2, 2, 3), normal(1, 3, 3, 3))),
        Case("conv2d_backprop_filter_op", ("conv2d_backprop_filter",),
             lambda x, dy: execute(OPS["conv2d_backprop_filter"], (x, dy), conv_attrs(filter_sizes=(2, 2, 2, 3))),
             (normal(1, 4, 4, 2), normal(1, 3, 3, 3))),
        Case("depthwise_backprop_input_op", ("depthwise_conv2d_backprop_input",),
             lambda w, dy: execute(OPS["depthwise_conv2d_backprop_input"], (w, dy), conv_attrs(input_sizes=(1, 3, 3, 2))),
             (normal(2, 2, 2, 2), normal(1, 2, 2, 4))),
        Case("depthwise_backprop_filter_op", ("depthwise_conv2d_backprop_filter",),
             lambda x, dy: execute(OPS["depthwise_conv2d_backprop_filter"], (x, dy), conv_attrs(filter_sizes=(2, 2, 2, 2))),
             (normal(1, 3, 3, 2), normal(1, 2, 2, 4))),
        Case("avg_pool2d_grad_op", ("avg_pool2d_grad",),
             lambda g: execute(OPS["avg_pool2d_grad"], (g,), {"orig_input_shape": (1, 4, 4, 1), "ksize": (2, 2),
                                                              "strides": (2, 2), "padding": ((0, 0), (0, 0))}),
             (normal(1, 2, 2, 1),)),
        Case("max_pool2d_grad_op", ("max_pool2d_grad",), _max_pool_grad_of_dy, (normal(1, 2, 2, 1),)),
        Case("relu_grad_op", ("relu_grad",), lambda dy, y: execute(OPS["relu_grad"], (dy, y)),
             (normal(2, 3), away_from_zero(2, 3))),
        # The ops graphs traced with None dims read shapes with at run time (gt.shape(x)).
        Case("dynamic_reshape_op", ("dynamic_reshape",),
             lambda x: execute(OPS["dynamic_reshape"], (x, gt.constant([3, -1])), {"static_shape": (3, 2)}),
             (normal(2, 3),)),
        Case("dynamic_broadcast_to_op", ("dynamic_broadcast_to",),
             lambda x: execute(OPS["dynamic_broadcast_to"], (x, gt.constant([2, 4, 3])), {"static_shape": (2, 4, 3)}),
             (normal(4, 1),)),
        Case("sum_to_op", ("sum_to",),
             lambda x: execute(OPS["sum_to"], (x, gt.constant([4, 1])), {"static_shape": (4, 1)}),
             (normal(2, 4, 3),)),
        # x[1:, ::2] (a strided gradient) and x[-1, ::-1] (unit strides: padded back)
        Case("dynamic_strided_slice_op", ("dynamic_strided_slice",),
             lambda x: execute(OPS["dynamic_strided_slice"], (x,), {**_STEP_SLICE, "static_shape": (3, 2)}),
             (normal(4, 3),)),
        Case("dynamic_strided_slice_row", ("dynamic_strided_slice",),
             lambda x: execute(OPS["dynamic_strided_slice"], (x,), {**_ROW_SLICE, "static_shape": (3,)}),
             (normal(4, 3),)),
        Case("dynamic_strided_slice_grad_op", ("dynamic_strided_slice_grad",),
             lambda dy: execute(OPS["dynamic_strided_slice_grad"], (gt.zeros((4, 3), gt.float64), dy),
                                {**_STEP_SLICE, "static_shape": (4, 3)}),
             (normal(3, 2),)),
    ]  # fmt: skip


_STEP_SLICE = {
    "dense": ((1, 0, 1, False, True, False), (0, 0, 2, True, True, False)),
    "final": (0, 1),
    "op": "strided_slice",
    "check": (),
}
_ROW_SLICE = {
    "dense": ((-1, 0, 1, False, False, True), (0, 0, -1, True, True, False)),
    "final": (-2, 1),
    "op": "strided_slice",
    "check": (),
}


_POOL_X = np.array([[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 8.0, 1.0], [0.5, 2.5, 6.0, 7.0], [9.0, 1.5, 3.5, 2.0]])


def _max_pool_grad_of_dy(dy):
    from gputensor.framework.op_table import execute

    x = gt.constant(_POOL_X.reshape(1, 4, 4, 1))
    y = gt.nn.max_pool2d(x, 2, 2, "VALID")
    attrs = {"ksize": (2, 2), "strides": (2, 2), "padding": ((0, 0), (0, 0))}
    return execute(OPS["max_pool2d_grad"], (x, y, dy), attrs)


ALL_CASES = CASES + _backward_primitive_cases()


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_gradient_matches_finite_differences(case, device, rng):
    args = [gt.constant(make(rng)) for make in case.inputs]
    theoretical, numeric = gt.test.compute_gradient(case.fn, args)
    for i, (t, n) in enumerate(zip(theoretical, numeric)):
        np.testing.assert_allclose(t, n, atol=case.atol, rtol=1e-5, err_msg=f"argument {i}")


def test_every_differentiable_op_has_a_gradient_and_a_case():
    differentiable = {name for name, op in OPS.items() if op.differentiable}
    without_gradient = sorted(name for name in differentiable if OPS[name].grad is None)
    assert not without_gradient, f"differentiable ops without a registered gradient: {without_gradient}"
    covered = {name for case in ALL_CASES for name in case.ops}
    uncovered = sorted(differentiable - covered - _COVERED_ELSEWHERE)
    assert not uncovered, f"differentiable ops without a finite-difference case here: {uncovered}"


# Ops whose gradients are checked in other files (complex values, sparse results).
_COVERED_ELSEWHERE = {"real", "imag", "conj"}


def test_every_registered_gradient_names_a_declared_op():
    assert sorted(set(GRADIENTS) - set(OPS)) == []


def test_non_differentiable_ops_give_none(device):
    x = gt.constant([0.5, -1.5, 2.5], dtype=gt.float64)
    for fn in (gt.math.floor, gt.math.ceil, gt.math.round, lambda t: gt.cast(gt.argmax(t), gt.float64)):
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
        assert tape.gradient(y, x) is None


def _gradient_function(case, weights):
    """x -> d/dx0 sum(f(x) * weights): its own Jacobian checks that the gradient differentiates."""

    def grad_fn(*args):
        with gt.GradientTape() as tape:
            tape.watch(args[0])
            out = case.fn(*args)
            total = gt.reduce_sum(out * gt.constant(weights(out.shape), dtype=out.dtype))
        g = tape.gradient(total, args[0], unconnected_gradients=gt.UnconnectedGradients.ZERO)
        return gt.convert_to_tensor(g)

    return grad_fn


# reduce_prod_with_zero: cumprod's gradient divides by x (as TF's), so the second derivative of a
# product at a zero input is nan, in TF too.
SECOND_ORDER_CASES = [c for c in ALL_CASES if c.second_order]


@pytest.mark.parametrize("case", SECOND_ORDER_CASES, ids=[c.id for c in SECOND_ORDER_CASES])
def test_second_order_gradient_matches_finite_differences(case, device, rng):
    args = [gt.constant(make(rng)) for make in case.inputs]
    fixed = np.random.default_rng(7)
    cache = {}

    def weights(shape):
        key = tuple(shape)
        if key not in cache:
            cache[key] = fixed.uniform(0.5, 1.5, key)
        return cache[key]

    theoretical, numeric = gt.test.compute_gradient(_gradient_function(case, weights), args)
    for i, (t, n) in enumerate(zip(theoretical, numeric)):
        np.testing.assert_allclose(t, n, atol=1e-5, rtol=1e-4, err_msg=f"argument {i}")
