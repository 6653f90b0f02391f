"""Second derivatives by nested tapes against analytic formulas."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

import gputensor as gt

X = np.array([0.3, 0.7, 1.3, 2.1])

# name, function of a tensor, analytic second derivative (elementwise, NumPy)
SECOND_DERIVATIVES = [
    ("exp", gt.exp, np.exp),
    ("log", gt.math.log, lambda x: -1 / x**2),
    ("sqrt", gt.sqrt, lambda x: -0.25 * x**-1.5),
    ("rsqrt", gt.math.rsqrt, lambda x: 0.75 * x**-2.5),
    ("sin", gt.sin, lambda x: -np.sin(x)),
    ("cos", gt.cos, lambda x: -np.cos(x)),
    ("tan", gt.math.tan, lambda x: 2 * np.tan(x) / np.cos(x) ** 2),
    ("tanh", gt.tanh, lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)),
    ("sigmoid", gt.sigmoid, lambda x: special.expit(x) * (1 - special.expit(x)) * (1 - 2 * special.expit(x))),
    ("softplus", gt.nn.softplus, lambda x: special.expit(x) * (1 - special.expit(x))),
    ("square", gt.square, lambda x: 2 + 0 * x),
    ("reciprocal", gt.math.reciprocal, lambda x: 2 / x**3),
    ("pow_cube", lambda x: gt.pow(x, 3.0), lambda x: 6 * x),
    ("x_pow_x", lambda x: gt.pow(x, x), lambda x: x**x * ((np.log(x) + 1) ** 2 + 1 / x)),
    ("erf", gt.math.erf, lambda x: -4 * x / np.sqrt(np.pi) * np.exp(-(x**2))),
    ("log1p", gt.math.log1p, lambda x: -1 / (1 + x) ** 2),
    ("elu_negative", lambda x: gt.nn.elu(-x), lambda x: np.exp(-x)),
    ("gelu", gt.nn.gelu, lambda x: (2 - x**2) * np.exp(-(x**2) / 2) / np.sqrt(2 * np.pi)),
    ("silu", gt.nn.silu,
     lambda x: special.expit(x) * (1 - special.expit(x)) * (2 + x * (1 - 2 * special.expit(x)))),
    ("relu", gt.nn.relu, lambda x: 0 * x),
]  # fmt: skip


@pytest.mark.parametrize("name, fn, d2", SECOND_DERIVATIVES, ids=[s[0] for s in SECOND_DERIVATIVES])
def test_second_derivative_by_nested_tapes(name, fn, d2, device):
    x = gt.constant(X, dtype=gt.float64)
    with gt.GradientTape() as outer:
        outer.watch(x)
        with gt.GradientTape() as inner:
            inner.watch(x)
            y = fn(x)
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    got = np.zeros_like(X) if d2y is None else d2y.numpy()
    np.testing.assert_allclose(got, d2(X), rtol=1e-10, atol=1e-12)


def test_hessian_of_a_quadratic_form_by_jacobian_of_gradient(device, rng):
    a = rng.standard_normal((3, 3))
    x = gt.constant(rng.standard_normal(3))
    m = gt.constant(a)
    with gt.GradientTape() as outer:
        outer.watch(x)
        with gt.GradientTape() as inner:
            inner.watch(x)
            y = gt.reduce_sum(x * gt.linalg.matvec(m, x))
        g = inner.gradient(y, x)
    np.testing.assert_allclose(outer.jacobian(g, x).numpy(), a + a.T, atol=1e-12)


def test_third_derivative_by_three_tapes(device):
    x = gt.constant(0.7, dtype=gt.float64)
    with gt.GradientTape() as t3:
        t3.watch(x)
        with gt.GradientTape() as t2:
            t2.watch(x)
            with gt.GradientTape() as t1:
                t1.watch(x)
                y = gt.sin(x) * x
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    # (x sin x)''' = -3 sin x - x cos x
    assert d3.numpy() == pytest.approx(-3 * np.sin(0.7) - 0.7 * np.cos(0.7), rel=1e-12)


def test_second_derivative_of_softmax_cross_entropy_matches_finite_differences(device, rng):
    logits = gt.constant(rng.standard_normal((2, 3)))
    labels = gt.constant(np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]]))

    def grad_of_loss(z):
        with gt.GradientTape() as t:
            t.watch(z)
            loss = gt.reduce_sum(gt.nn.softmax_cross_entropy_with_logits(labels, z))
        return t.gradient(loss, z)

    theoretical, numeric = gt.test.compute_gradient(grad_of_loss, [logits])
    np.testing.assert_allclose(theoretical[0], numeric[0], atol=1e-6)
