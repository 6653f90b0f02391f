"""Complex dtypes on every device: results match NumPy and stay on the device they ran on.

On a GPU (real or emulated) most complex calls run through the backend's host fallback,
the reductions on the device; both paths are checked here.
"""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt

CASES = [
    ("exp", lambda g, x: g.exp(x), np.exp),
    ("conj", lambda g, x: g.math.conj(x), np.conj),
    ("multiply", lambda g, x: x * x, lambda x: x * x),
    ("matmul", lambda g, x: g.matmul(x, x, adjoint_b=True), lambda x: x @ x.conj().T),
    ("transpose", lambda g, x: g.transpose(x), lambda x: x.T),
    ("reduce_sum", lambda g, x: g.reduce_sum(x, axis=0), lambda x: x.sum(axis=0)),
    ("cumsum", lambda g, x: g.math.cumsum(x, axis=1), lambda x: np.cumsum(x, axis=1)),
    ("abs", lambda g, x: g.abs(x), np.abs),
]


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("name,fn,ref", CASES, ids=[c[0] for c in CASES])
def test_complex_op_matches_numpy_and_stays_on_device(device, rng, dtype, name, fn, ref):
    x = (rng.standard_normal((3, 5)) + 1j * rng.standard_normal((3, 5))).astype(dtype)
    out = fn(gt, gt.constant(x))
    want = ref(x)
    assert out.device == device.name
    assert out.dtype.as_numpy_dtype == want.dtype
    tol = 1e-5 if dtype is np.complex64 else 1e-12
    np.testing.assert_allclose(out.numpy(), want, rtol=tol, atol=tol)


def test_cast_to_complex_and_back(device):
    x = gt.constant([1.5, -2.0])
    z = gt.cast(x, gt.complex64)
    assert z.device == device.name
    np.testing.assert_array_equal(z.numpy(), np.array([1.5, -2.0], np.complex64))
    np.testing.assert_array_equal(gt.math.real(z).numpy(), np.array([1.5, -2.0], np.float32))
