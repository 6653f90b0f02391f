"""gt.linalg, gt.matmul, gt.tensordot, gt.einsum, gt.norm against NumPy/SciPy references.

Decompositions whose factors are not unique (QR, SVD, eigh) are checked by their
defining properties (reconstruction, orthonormality, triangularity) and by
SciPy's singular values/eigenvalues.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

import gputensor as gt
from gputensor.errors import InvalidArgumentError

TOL = {
    np.float16: dict(rtol=2e-2, atol=2e-2),
    np.float32: dict(rtol=1e-4, atol=1e-4),
    np.float64: dict(rtol=1e-10, atol=1e-10),
    np.complex64: dict(rtol=1e-4, atol=1e-4),
    np.complex128: dict(rtol=1e-10, atol=1e-10),
    np.int32: dict(rtol=0, atol=0),
    np.int64: dict(rtol=0, atol=0),
}


def rand(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        return rng.integers(-5, 6, size=shape).astype(dtype)
    x = rng.standard_normal(shape)
    if dtype.kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def close(got, expected, dtype):
    got = np.asarray(got)
    assert got.dtype == np.dtype(dtype), (got.dtype, dtype)
    assert got.shape == np.shape(expected), (got.shape, np.shape(expected))
    np.testing.assert_allclose(
        got.astype(np.complex128), np.asarray(expected, np.complex128), **TOL[np.dtype(dtype).type]
    )


def widen(x):
    """float64 or complex128 (whichever keeps the values) for reference arithmetic."""
    return np.asarray(x).astype(np.complex128 if np.iscomplexobj(x) else np.float64)


def ref_dot(a, b):
    """The reference product in float64/complex128 (int kept exact in int64)."""
    wide = np.int64 if a.dtype.kind in "iu" else np.complex128
    return np.matmul(a.astype(wide), b.astype(wide))


# -------------------------------------------------------------- matmul
MATMUL_CASES = [
    # (a shape, b shape, kwargs)
    ((2, 3), (3, 4), {}),
    ((3, 2), (3, 4), {"transpose_a": True}),
    ((2, 3), (4, 3), {"transpose_b": True}),
    ((3, 2), (4, 3), {"transpose_a": True, "transpose_b": True}),
    ((5, 2, 3), (5, 3, 4), {}),
    ((5, 2, 3), (3, 4), {}),  # a batch against one matrix
    ((2, 1, 2, 3), (4, 3, 2), {}),  # batch dims broadcast: (2, 1) with (4,)
    ((0, 3), (3, 4), {}),
    ((2, 0), (0, 4), {}),  # empty inner dimension: zeros
    ((3, 2, 0), (3, 0, 5), {}),
]
MATMUL_DTYPES = [np.float32, np.float64, np.float16, np.int32, np.int64, np.complex64]


def _apply_flags(x, transpose=False, adjoint=False):
    if transpose:
        return np.swapaxes(x, -1, -2)
    if adjoint:
        return np.conj(np.swapaxes(x, -1, -2))
    return x


@pytest.mark.parametrize("dtype", MATMUL_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("sa, sb, kw", MATMUL_CASES)
def test_matmul_matches_numpy(device, rng, sa, sb, kw, dtype):
    a, b = rand(rng, sa, dtype), rand(rng, sb, dtype)
    got = gt.matmul(a, b, **kw)
    expected = ref_dot(_apply_flags(a, kw.get("transpose_a")), _apply_flags(b, kw.get("transpose_b")))
    assert got.shape == expected.shape
    close(got.numpy(), expected, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.complex64, np.complex128], ids=lambda d: np.dtype(d).name)
def test_matmul_adjoint_conjugates_complex_inputs(device, rng, dtype):
    a, b = rand(rng, (2, 3, 2), dtype), rand(rng, (2, 4, 3), dtype)
    got = gt.linalg.matmul(a, b, adjoint_a=True, adjoint_b=True)
    close(got.numpy(), ref_dot(_apply_flags(a, adjoint=True), _apply_flags(b, adjoint=True)), dtype)


def test_matmul_operator_on_tensors_variables_and_numpy(device, rng):
    a, b = rand(rng, (2, 3), np.float32), rand(rng, (3, 2), np.float32)
    expected = ref_dot(a, b)
    ta, tb = gt.constant(a), gt.constant(b)
    close((ta @ tb).numpy(), expected, np.float32)
    close((a @ tb).numpy(), expected, np.float32)
    close((ta @ b).numpy(), expected, np.float32)
    close((gt.Variable(a) @ tb).numpy(), expected, np.float32)


def test_matmul_of_python_lists_and_bfloat16(device):
    got = gt.matmul([[1.0, 2.0]], [[3.0], [4.0]])
    assert got.dtype == gt.float32 and got.numpy().tolist() == [[11.0]]
    x = gt.constant([[1.5, 2.0], [0.5, -1.0]], dtype=gt.bfloat16)
    y = gt.matmul(x, x)
    assert y.dtype == gt.bfloat16
    np.testing.assert_allclose(y.numpy().astype(np.float32), [[3.25, 1.0], [0.25, 2.0]])


MATMUL_ERRORS = [
    (
        (np.zeros((32, 64), np.float32), np.zeros((32, 10), np.float32)),
        {},
        InvalidArgumentError,
        "matmul: inner dimensions differ, a is (32, 64) and b is (32, 10); did you mean transpose_a=True?",
    ),
    (
        (np.zeros((3, 4), np.float32), np.zeros((5, 4), np.float32)),
        {},
        InvalidArgumentError,
        "did you mean transpose_b=True?",
    ),
    (
        (np.zeros((3, 4), np.float32), np.zeros((3, 5), np.float32)),
        {"transpose_a": True, "transpose_b": True},
        InvalidArgumentError,
        "with transpose_a=True with transpose_b=True; did you mean transpose_b=False?",
    ),
    ((np.zeros((3,), np.float32), np.zeros((3, 2), np.float32)), {}, InvalidArgumentError, "rank >= 2"),
    ((np.zeros((2, 2), np.float32), np.zeros((2, 2), np.float64)), {}, InvalidArgumentError, "float64"),
    (
        (np.zeros((2, 2, 3), np.float32), np.zeros((3, 3, 4), np.float32)),
        {},
        InvalidArgumentError,
        "do not broadcast",
    ),
    ((np.zeros((2, 2), bool), np.zeros((2, 2), bool)), {}, InvalidArgumentError, "bool"),
    ((np.zeros((2, 2), np.float32),) * 2, {"transpose_a": True, "adjoint_a": True}, ValueError, "Only one"),
]


@pytest.mark.parametrize("args, kw, cls, text", MATMUL_ERRORS)
def test_matmul_errors_name_shapes_and_fix(args, kw, cls, text):
    with pytest.raises(cls) as info:
        gt.matmul(*args, **kw)
    assert text in str(info.value)


# -------------------------------------------------------------- tensordot, einsum, matvec
TENSORDOT_CASES = [
    ((3, 4), (4, 5), 1),
    ((2, 3, 4), (3, 4, 5), 2),
    ((3,), (3,), 1),
    ((2, 3), (4, 5), 0),
    ((2, 3, 4), (4, 2), [[0, 2], [1, 0]]),
    ((3, 4), (4, 3), [1, 0]),
    ((3, 4), (5, 3), [[-2], [-1]]),
]


@pytest.mark.parametrize("sa, sb, axes", TENSORDOT_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32], ids=lambda d: np.dtype(d).name)
def test_tensordot_matches_numpy(device, rng, sa, sb, axes, dtype):
    a, b = rand(rng, sa, dtype), rand(rng, sb, dtype)
    got = gt.tensordot(a, b, axes)
    wide = np.int64 if np.dtype(dtype).kind == "i" else np.float64
    close(got.numpy(), np.tensordot(a.astype(wide), b.astype(wide), axes), dtype)


EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),  # implicit output
    ("bij,bjk->bik", [(5, 2, 3), (5, 3, 4)]),
    ("...ij,...jk->...ik", [(2, 5, 2, 3), (5, 3, 4)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ijk->kji", [(2, 3, 4)]),
    ("ij,ij->", [(3, 3), (3, 3)]),
    ("ab,bc,cd->ad", [(2, 3), (3, 4), (4, 5)]),
    ("i j , j -> i", [(2, 3), (3,)]),
]


@pytest.mark.parametrize("equation, shapes", EINSUM_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16], ids=lambda d: np.dtype(d).name)
def test_einsum_matches_numpy(device, rng, equation, shapes, dtype):
    ops = [rand(rng, s, dtype) for s in shapes]
    got = gt.einsum(equation, *ops)
    expected = np.einsum(equation.replace(" ", ""), *[o.astype(np.float64) for o in ops])
    close(got.numpy(), expected, dtype)
    assert gt.linalg.einsum is gt.einsum


EINSUM_ERRORS = [
    ("ij,jk->ik", [(2, 3)], "2 input terms but 1"),
    ("ij->i", [(2, 3, 4)], "has 2 labels"),
    ("ij,jk->ik", [(2, 3), (4, 5)], "label 'j' has size 3 in input 0 and 4 in input 1"),
    ("i2,j->ij", [(2, 2), (3,)], "only letters"),
]


@pytest.mark.parametrize("equation, shapes, text", EINSUM_ERRORS)
def test_einsum_errors(equation, shapes, text):
    with pytest.raises(InvalidArgumentError) as info:
        gt.einsum(equation, *[np.ones(s, np.float32) for s in shapes])
    assert text in str(info.value)


def test_einsum_rejects_mixed_dtypes_and_bools():
    with pytest.raises(InvalidArgumentError, match="dtype"):
        gt.einsum("i,i->", np.ones(2, np.float32), np.ones(2, np.float64))
    with pytest.raises(InvalidArgumentError, match="bool"):
        gt.einsum("i->i", np.ones(2, bool))


@pytest.mark.parametrize(
    "sa, sb, kw",
    [
        ((3, 4), (4,), {}),
        ((2, 3, 4), (2, 4), {}),
        ((4, 3), (4,), {"transpose_a": True}),
        ((2, 3, 4), (4,), {}),
    ],
)
def test_matvec_matches_numpy(device, rng, sa, sb, kw):
    a, b = rand(rng, sa, np.float64), rand(rng, sb, np.float64)
    expected = np.einsum("...ij,...j->...i", _apply_flags(a, kw.get("transpose_a")), b)
    close(gt.linalg.matvec(a, b, **kw).numpy(), expected, np.float64)


def test_matvec_adjoint_and_errors(device, rng):
    a, b = rand(rng, (3, 2), np.complex64), rand(rng, (3,), np.complex64)
    close(gt.linalg.matvec(a, b, adjoint_a=True).numpy(), np.conj(a).T @ b, np.complex64)
    with pytest.raises(InvalidArgumentError, match="last dimension must be 2"):
        gt.linalg.matvec(np.ones((3, 2), np.float32), np.ones(3, np.float32))


def test_tensordot_errors():
    with pytest.raises(InvalidArgumentError, match="has size 3 but axis 0 of b"):
        gt.tensordot(np.ones((2, 3), np.float32), np.ones((4, 2), np.float32), 1)
    with pytest.raises(InvalidArgumentError, match="between 0 and the ranks"):
        gt.tensordot(np.ones((2,), np.float32), np.ones((2,), np.float32), 2)
    with pytest.raises(ValueError, match="same length"):
        gt.tensordot(np.ones((2, 2), np.float32), np.ones((2, 2), np.float32), [[0, 1], [0]])


# -------------------------------------------------------------- norms
NORM_CASES = [
    # (shape, ord, axis, keepdims, numpy reference)
    ((5,), "euclidean", None, False, lambda x: np.linalg.norm(x)),
    ((3, 4), "euclidean", None, False, lambda x: np.linalg.norm(x.ravel())),
    ((3, 4), "euclidean", None, True, lambda x: np.linalg.norm(x.ravel()).reshape(1, 1)),
    ((3, 4), 1, 1, False, lambda x: np.linalg.norm(x, 1, axis=1)),
    ((3, 4), 2, 0, True, lambda x: np.linalg.norm(x, 2, axis=0, keepdims=True)),
    ((3, 4), np.inf, -1, False, lambda x: np.linalg.norm(x, np.inf, axis=-1)),
    ((3, 4), 3, 1, False, lambda x: np.linalg.norm(x, 3, axis=1)),
    ((3, 4), 0.5, 1, False, lambda x: np.linalg.norm(x, 0.5, axis=1)),
    ((2, 3, 4), "fro", (1, 2), False, lambda x: np.linalg.norm(x, "fro", axis=(1, 2))),
    ((2, 3, 4), "euclidean", [-2, -1], True, lambda x: np.linalg.norm(x, "fro", axis=(1, 2), keepdims=True)),
    ((2, 3, 4), 1, (1, 2), False, lambda x: np.linalg.norm(x, 1, axis=(1, 2))),
    ((2, 3, 4), np.inf, (1, 2), True, lambda x: np.linalg.norm(x, np.inf, axis=(1, 2), keepdims=True)),
    ((2, 3, 4), 1, (2, 0), False, lambda x: np.linalg.norm(x, 1, axis=(2, 0))),
    ((2, 3, 4), 2, (1, 2), False, lambda x: np.linalg.norm(x, 2, axis=(1, 2))),
    ((3, 2, 4), 2, (0, 2), True, lambda x: np.linalg.norm(x, 2, axis=(0, 2), keepdims=True)),
    ((3, 2, 4), 2, (2, 0), False, lambda x: np.linalg.norm(x, 2, axis=(2, 0))),
]


@pytest.mark.parametrize("shape, ord, axis, keepdims, ref", NORM_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name)
def test_norm_matches_numpy(device, rng, shape, ord, axis, keepdims, ref, dtype):
    x = rand(rng, shape, dtype)
    got = gt.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    expected = np.asarray(ref(x.astype(np.float64)))
    assert got.shape == expected.shape
    close(got.numpy(), expected, dtype)


def test_norm_of_complex_is_of_the_complex_magnitudes(device, rng):
    x = rand(rng, (4,), np.complex128)
    np.testing.assert_allclose(np.asarray(gt.linalg.norm(x).numpy()).real, np.linalg.norm(x))


NORM_ERRORS = [
    ({"ord": "fro"}, ValueError, "supported vector norm"),
    ({"ord": -1, "axis": 0}, ValueError, "supported vector norm"),
    ({"ord": 3, "axis": (0, 1)}, ValueError, "supported matrix norm"),
    ({"axis": (0, 0)}, ValueError, "2 unique integers"),
    ({"axis": (0, 1, 2)}, ValueError, "'axis' must be None"),
    ({"axis": 5}, InvalidArgumentError, "Invalid reduction dimension"),
]


@pytest.mark.parametrize("kw, cls, text", NORM_ERRORS)
def test_norm_errors(kw, cls, text):
    with pytest.raises(cls, match=None) as info:
        gt.norm(np.ones((2, 3), np.float32), **kw)
    assert text in str(info.value)


def test_norm_of_ints_asks_for_a_cast():
    with pytest.raises(InvalidArgumentError, match="gt.cast"):
        gt.norm([3, 4])


def test_global_norm_is_the_norm_of_all_values(device, rng):
    ts = [rand(rng, (3, 2), np.float32), None, rand(rng, (4,), np.float32)]
    expected = np.sqrt(sum(np.sum(t.astype(np.float64) ** 2) for t in ts if t is not None))
    close(gt.linalg.global_norm(ts).numpy(), expected, np.float32)
    assert float(gt.linalg.global_norm([])) == 0.0
    with pytest.raises(TypeError, match="sequence"):
        gt.linalg.global_norm(gt.constant([1.0]))


# -------------------------------------------------------------- decompositions
DECOMP_DTYPES = [np.float32, np.float64, np.complex64, np.complex128]


def well_conditioned(rng, shape, dtype):
    x = rand(rng, shape, dtype)
    n = shape[-1]
    return (x + n * np.eye(n)).astype(dtype)


def spd(rng, shape, dtype):
    x = rand(rng, shape, dtype)
    return (x @ np.conj(np.swapaxes(x, -1, -2)) + shape[-1] * np.eye(shape[-1])).astype(dtype)


def per_matrix(fn, x):
    """Applies a SciPy function to each matrix of a batch."""
    flat = x.reshape((-1,) + x.shape[-2:])
    out = [fn(m) for m in flat]
    return np.array(out).reshape(x.shape[:-2] + np.shape(out[0]))


@pytest.mark.parametrize("dtype", DECOMP_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (1, 1)])
def test_inv_det_slogdet_match_scipy(device, rng, shape, dtype):
    x = well_conditioned(rng, shape, dtype)
    wide = widen(x)
    close(gt.linalg.inv(x).numpy(), per_matrix(scipy.linalg.inv, wide), dtype)
    close(
        gt.linalg.inv(x, adjoint=True).numpy(),
        np.conj(np.swapaxes(per_matrix(scipy.linalg.inv, wide), -1, -2)),
        dtype,
    )
    d = per_matrix(scipy.linalg.det, wide)
    close(gt.linalg.det(x).numpy(), d, dtype)
    sign, logabs = gt.linalg.slogdet(x)
    close(sign.numpy(), d / np.abs(d), dtype)
    close(logabs.numpy(), np.log(np.abs(d)), dtype)


def test_inv_in_float16_computes_in_float32(device, rng):
    x = well_conditioned(rng, (3, 3), np.float64)
    close(
        gt.linalg.inv(x.astype(np.float16)).numpy(),
        scipy.linalg.inv(x.astype(np.float16).astype(np.float64)),
        np.float16,
    )


@pytest.mark.parametrize("dtype", DECOMP_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(4, 4), (3, 2, 2)])
def test_cholesky_and_logdet_match_scipy(device, rng, shape, dtype):
    x = spd(rng, shape, dtype)
    wide = widen(x)
    close(
        gt.linalg.cholesky(x).numpy(), per_matrix(lambda m: scipy.linalg.cholesky(m, lower=True), wide), dtype
    )
    logdet = np.log(np.abs(per_matrix(scipy.linalg.det, wide)))
    close(gt.linalg.logdet(x).numpy(), logdet, np.dtype(dtype).type(0).real.dtype)  # real, as TF


@pytest.mark.parametrize("dtype", DECOMP_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("sm, sr", [((3, 3), (3, 2)), ((2, 4, 4), (2, 4, 1)), ((2, 3, 3), (3, 5))])
def test_solve_matches_scipy(device, rng, sm, sr, dtype):
    m, r = well_conditioned(rng, sm, dtype), rand(rng, sr, dtype)
    got = gt.linalg.solve(m, r)
    mb, rb = np.broadcast_to(m, got.shape[:-2] + sm[-2:]), np.broadcast_to(r, got.shape)
    expected = np.array(
        [scipy.linalg.solve(a, b) for a, b in zip(mb.reshape(-1, *sm[-2:]), rb.reshape(-1, *sr[-2:]))]
    )
    close(got.numpy(), expected.reshape(got.shape), dtype)
    adj = gt.linalg.solve(m, r, adjoint=True)
    product = (widen(np.conj(np.swapaxes(m, -1, -2))) @ adj.numpy()).astype(dtype)
    close(product, np.broadcast_to(r, adj.shape), dtype)


def _orthonormal_columns(q, dtype):
    qh = np.conj(np.swapaxes(q, -1, -2))
    close(
        (widen(qh) @ q).astype(dtype),
        np.broadcast_to(np.eye(q.shape[-1]), qh.shape[:-1] + (q.shape[-1],)),
        dtype,
    )


@pytest.mark.parametrize("dtype", DECOMP_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (2, 5, 2)])
@pytest.mark.parametrize("full", [False, True])
def test_qr_reconstructs_with_orthonormal_q_and_triangular_r(device, rng, shape, full, dtype):
    x = rand(rng, shape, dtype)
    q, r = gt.linalg.qr(x, full_matrices=full)
    m, n = shape[-2:]
    p = m if full else min(m, n)
    assert q.shape == shape[:-2] + (m, p) and r.shape == shape[:-2] + (p, n)
    q, r = q.numpy(), r.numpy()
    close((widen(q) @ r).astype(dtype), x, dtype)
    _orthonormal_columns(q, dtype)
    np.testing.assert_array_equal(np.tril(r, -1), 0)


@pytest.mark.parametrize("dtype", DECOMP_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3)])
@pytest.mark.parametrize("full", [False, True])
def test_svd_tf_order_s_u_v_reconstructs(device, rng, shape, full, dtype):
    x = rand(rng, shape, dtype)
    s, u, v = gt.linalg.svd(x, full_matrices=full)
    m, n = shape[-2:]
    p = min(m, n)
    assert s.shape == shape[:-2] + (p,)
    assert u.shape == shape[:-2] + ((m, m) if full else (m, p))
    assert v.shape == shape[:-2] + ((n, n) if full else (n, p))
    s, u, v = s.numpy(), u.numpy(), v.numpy()
    assert s.dtype == np.dtype(dtype).type(0).real.dtype
    expected_s = per_matrix(lambda a: scipy.linalg.svdvals(a), widen(x))
    np.testing.assert_allclose(s, expected_s, **TOL[np.dtype(dtype).type])
    us = u[..., :p] * s[..., None, :]
    close((widen(us) @ np.conj(np.swapaxes(v[..., :p], -1, -2))).astype(dtype), x, dtype)
    _orthonormal_columns(u, dtype)
    _orthonormal_columns(v, dtype)
    only_s = gt.linalg.svd(x, compute_uv=False)
    np.testing.assert_allclose(only_s.numpy(), expected_s, **TOL[np.dtype(dtype).type])


@pytest.mark.parametrize("dtype", DECOMP_DTYPES, ids=lambda d: np.dtype(d).name)
def test_eigh_eigenpairs_of_hermitian_matrices(device, rng, dtype):
    x = spd(rng, (2, 4, 4), dtype)
    e, v = gt.linalg.eigh(x)
    e, v = e.numpy(), v.numpy()
    np.testing.assert_allclose(e, per_matrix(scipy.linalg.eigvalsh, widen(x)), **TOL[np.dtype(dtype).type])
    close((widen(x) @ v).astype(dtype), v * e[..., None, :], dtype)
    np.testing.assert_allclose(gt.linalg.eigvalsh(x).numpy(), e, **TOL[np.dtype(dtype).type])


def test_empty_matrices(device):
    e = np.zeros((2, 0, 0), np.float32)
    assert gt.linalg.inv(e).shape == (2, 0, 0)
    np.testing.assert_array_equal(gt.linalg.det(e).numpy(), [1.0, 1.0])
    s, u, v = gt.linalg.svd(np.zeros((0, 3), np.float32), full_matrices=True)
    assert s.shape == (0,) and u.shape == (0, 0) and v.shape == (3, 3)
    q, r = gt.linalg.qr(np.zeros((0, 3), np.float32))
    assert q.shape == (0, 0) and r.shape == (0, 3)
    assert gt.linalg.trace(np.zeros((3, 0, 0), np.float32)).numpy().tolist() == [0.0, 0.0, 0.0]


DECOMP_ERRORS = [
    (lambda: gt.linalg.inv(np.ones((2, 3), np.float32)), InvalidArgumentError, "square"),
    (lambda: gt.linalg.inv(np.ones((2, 2), np.float32)), InvalidArgumentError, "not invertible"),
    (lambda: gt.linalg.det(np.ones((3,), np.float32)), InvalidArgumentError, "rank >= 2"),
    (lambda: gt.linalg.cholesky(-np.eye(2, dtype=np.float32)), InvalidArgumentError, "Cholesky"),
    (lambda: gt.linalg.inv(np.eye(2, dtype=np.int32)), InvalidArgumentError, "int32"),
    (lambda: gt.linalg.solve(np.eye(2), np.ones((3, 1))), InvalidArgumentError, "rhs needs 2 rows"),
    (lambda: gt.linalg.solve(np.eye(2), np.ones((2, 1), np.float32)), InvalidArgumentError, "must match"),
    (lambda: gt.linalg.solve(np.zeros((2, 2)), np.ones((2, 1))), InvalidArgumentError, "not invertible"),
    (lambda: gt.linalg.svd(np.ones(3, np.float32)), InvalidArgumentError, "rank >= 2"),
]


@pytest.mark.parametrize("call, cls, text", DECOMP_ERRORS)
def test_decomposition_errors(call, cls, text):
    with pytest.raises(cls) as info:
        call()
    assert text in str(info.value)


# -------------------------------------------------------------- structure
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.complex64], ids=lambda d: np.dtype(d).name)
def test_trace_diag_part_transpose_adjoint(device, rng, dtype):
    x = rand(rng, (2, 3, 4), dtype)
    close(gt.linalg.trace(x).numpy(), np.trace(x, axis1=-2, axis2=-1), dtype)
    for k in (0, 2, -1):
        close(gt.linalg.diag_part(x, k=k).numpy(), np.diagonal(x, k, -2, -1), dtype)
    close(gt.linalg.matrix_transpose(x).numpy(), np.swapaxes(x, -1, -2), dtype)
    close(gt.linalg.adjoint(x).numpy(), np.conj(np.swapaxes(x, -1, -2)), dtype)
    close(gt.linalg.matrix_transpose(x, conjugate=True).numpy(), np.conj(np.swapaxes(x, -1, -2)), dtype)


def _ref_diag(d, k, rows, cols, pad):
    out = np.full(d.shape[:-1] + (rows, cols), pad, d.dtype)
    for i in range(d.shape[-1]):
        out[..., i + max(-k, 0), i + max(k, 0)] = d[..., i]
    return out


@pytest.mark.parametrize(
    "k, rows, cols, expected_shape",
    [(0, -1, -1, (3, 3)), (1, -1, -1, (4, 4)), (-2, -1, -1, (5, 5)), (1, 3, -1, (3, 4)), (-1, -1, 5, (4, 5))],
)
def test_diag_builds_matrices(device, rng, k, rows, cols, expected_shape):
    d = rand(rng, (2, 3), np.float32)
    got = gt.linalg.diag(d, k=k, num_rows=rows, num_cols=cols, padding_value=9)
    assert got.shape == (2,) + expected_shape
    np.testing.assert_array_equal(got.numpy(), _ref_diag(d, k, *expected_shape, 9))


def test_diag_errors():
    with pytest.raises(InvalidArgumentError, match="needs num_rows"):
        gt.linalg.diag([1.0, 2.0], num_rows=1, num_cols=1)
    with pytest.raises(InvalidArgumentError, match="band of diagonals"):
        gt.linalg.diag([1.0, 2.0], k=(0, 1))
    with pytest.raises(InvalidArgumentError, match="outside"):
        gt.linalg.diag_part(np.ones((2, 3)), k=3)


@pytest.mark.parametrize("lower, upper", [(0, 0), (-1, 0), (0, -1), (1, 2), (-1, -1), (2, 0)])
def test_band_part_matches_tril_triu(device, rng, lower, upper):
    x = rand(rng, (2, 4, 5), np.float64)
    expected = x.copy()
    if lower >= 0:
        expected = np.triu(expected, -lower)
    if upper >= 0:
        expected = np.tril(expected, upper)
    np.testing.assert_array_equal(gt.linalg.band_part(x, lower, upper).numpy(), expected)


@pytest.mark.parametrize(
    "args, kw, expected",
    [
        ((3,), {}, np.eye(3)),
        ((2, 4), {}, np.eye(2, 4)),
        ((3, 2), {"batch_shape": [2]}, np.broadcast_to(np.eye(3, 2), (2, 3, 2))),
        ((0,), {}, np.eye(0)),
        ((2,), {"dtype": gt.int32}, np.eye(2)),
    ],
)
def test_eye(device, args, kw, expected):
    got = gt.linalg.eye(*args, **kw)
    assert got.dtype == kw.get("dtype", gt.float32)
    np.testing.assert_array_equal(got.numpy(), expected)


def test_namespaces_follow_tensorflow():
    for top in ("matmul", "tensordot", "einsum", "norm"):
        assert getattr(gt, top) is getattr(gt.linalg, top)
    for name in ("svd", "inv", "det", "slogdet", "cholesky", "qr", "solve", "trace", "diag", "diag_part",
                 "matrix_transpose", "adjoint", "eye", "matvec", "band_part", "global_norm", "eigh", "eigvalsh",
                 "logdet", "triangular_solve", "cholesky_solve", "pinv", "lstsq", "matrix_rank", "set_diag",
                 "normalize", "l2_normalize"):  # fmt: skip
        assert callable(getattr(gt.linalg, name)), name


def test_docstring_examples_run():
    import doctest

    from gputensor.ops import linalg_ops

    with gt.device("/CPU:0"):
        result = doctest.testmod(linalg_ops, extraglobs={"gt": gt}, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# -------------------------------------------------------------- solvers built from the primitives
@pytest.mark.parametrize("dtype", DECOMP_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
def test_triangular_solve_reads_one_triangle_as_scipy(device, rng, dtype, lower, adjoint):
    m, r = well_conditioned(rng, (2, 4, 4), dtype), rand(rng, (2, 4, 3), dtype)
    got = gt.linalg.triangular_solve(m, r, lower=lower, adjoint=adjoint)
    trans = "C" if adjoint else "N"
    expected = [
        scipy.linalg.solve_triangular(widen(a), widen(b), lower=lower, trans=trans) for a, b in zip(m, r)
    ]
    close(got.numpy(), np.array(expected), dtype)


@pytest.mark.parametrize("dtype", DECOMP_DTYPES, ids=lambda d: np.dtype(d).name)
def test_cholesky_solve_matches_scipy_cho_solve(device, rng, dtype):
    a, b = spd(rng, (3, 3), dtype), rand(rng, (3, 2), dtype)
    got = gt.linalg.cholesky_solve(gt.linalg.cholesky(a), b)
    close(
        got.numpy(),
        scipy.linalg.cho_solve((scipy.linalg.cholesky(widen(a), lower=True), True), widen(b)),
        dtype,
    )


@pytest.mark.parametrize("dtype", DECOMP_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3)])
def test_pinv_matches_scipy(device, rng, shape, dtype):
    x = rand(rng, shape, dtype)
    close(gt.linalg.pinv(x).numpy(), per_matrix(scipy.linalg.pinv, widen(x)), dtype)


def test_pinv_and_rank_of_rank_deficient_matrices(device, rng):
    u, v = rng.standard_normal((5, 2)), rng.standard_normal((2, 4))
    x = u @ v  # rank 2
    close(gt.linalg.pinv(x).numpy(), scipy.linalg.pinv(x), np.float64)
    batch = np.stack([x, np.eye(5, 4), np.zeros((5, 4))])
    got = gt.linalg.matrix_rank(batch)
    assert got.dtype == gt.int32 and got.numpy().tolist() == [2, 4, 0]
    assert gt.linalg.matrix_rank(np.diag([1.0, 1e-3, 0.0]), tol=1e-2).numpy() == 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape_a, shape_b", [((6, 3), (6, 2)), ((3, 5), (3, 2)), ((2, 4, 4), (2, 4, 1))])
@pytest.mark.parametrize("fast", [True, False])
def test_lstsq_matches_scipy(device, rng, dtype, shape_a, shape_b, fast):
    a, b = rand(rng, shape_a, dtype), rand(rng, shape_b, dtype)
    got = gt.linalg.lstsq(a, b, fast=fast)
    flat_a, flat_b = widen(a).reshape((-1,) + shape_a[-2:]), widen(b).reshape((-1,) + shape_b[-2:])
    expected = np.array([scipy.linalg.lstsq(x, y)[0] for x, y in zip(flat_a, flat_b)]).reshape(got.shape)
    tol = dict(rtol=2e-3, atol=2e-3) if dtype == np.float32 else dict(rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(got.numpy(), expected, **tol)


def test_lstsq_regularizer_is_ridge_regression(device, rng):
    a, b = rng.standard_normal((6, 3)), rng.standard_normal((6, 1))
    expected = np.linalg.inv(a.T @ a + 0.5 * np.eye(3)) @ a.T @ b
    close(gt.linalg.lstsq(a, b, l2_regularizer=0.5).numpy(), expected, np.float64)
    with pytest.raises(InvalidArgumentError, match="fast=False"):
        gt.linalg.lstsq(a, b, l2_regularizer=0.5, fast=False)


@pytest.mark.parametrize("k", [0, 1, -2])
def test_set_diag_replaces_one_diagonal(device, rng, k):
    x = rand(rng, (2, 3, 4), np.float32)
    d = rand(rng, np.diagonal(x, k, -2, -1).shape, np.float32)
    expected = x.copy()
    rows = np.arange(d.shape[-1]) + max(-k, 0)
    expected[:, rows, rows + k] = d
    close(gt.linalg.set_diag(x, d, k=k).numpy(), expected, np.float32)
    with pytest.raises(InvalidArgumentError, match="set_diag"):
        gt.linalg.set_diag(x, np.ones((2, 7), np.float32), k=k)


def test_normalize_returns_unit_tensor_and_norm(device, rng):
    x = rand(rng, (3, 4), np.float64)
    unit, n = gt.linalg.normalize(x, axis=1)
    close(n.numpy(), np.linalg.norm(x, axis=1, keepdims=True), np.float64)
    close(unit.numpy(), x / np.linalg.norm(x, axis=1, keepdims=True), np.float64)


# -------------------------------------------------------------- property-based: batch broadcasting
_dim = st.integers(0, 3)


@settings(max_examples=60, deadline=None)
@given(
    batch=st.lists(st.tuples(st.sampled_from([1, 2, 3]), st.booleans(), st.booleans()), max_size=3),
    m=_dim,
    k=_dim,
    n=_dim,
    ta=st.booleans(),
    tb=st.booleans(),
)
def test_matmul_broadcasts_any_batch_shapes_like_numpy(batch, m, k, n, ta, tb):
    # Each batch axis is d in one operand and d or 1 (or absent) in the other.
    ba = tuple(d if keep_a else 1 for d, keep_a, _ in batch)
    bb = tuple(d if keep_b else 1 for d, _, keep_b in batch)[1:] if batch else ()
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    a = rng.standard_normal(ba + ((k, m) if ta else (m, k)))
    b = rng.standard_normal(bb + ((n, k) if tb else (k, n)))
    got = gt.matmul(a, b, transpose_a=ta, transpose_b=tb).numpy()
    expected = np.matmul(_apply_flags(a, ta), _apply_flags(b, tb))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
