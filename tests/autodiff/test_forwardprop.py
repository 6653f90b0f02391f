"""gt.autodiff.ForwardAccumulator: JVPs against the Jacobian (tape.jacobian @ tangent), NumPy
formulas and central differences; its compositions with tapes, nesting, variables, gathers and
gt.function; bad input."""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt


def _f(x):
    return gt.tanh(gt.matmul(x, gt.transpose(x))) * gt.reduce_sum(gt.sin(x))


def test_jvp_is_the_jacobian_times_the_tangent_and_a_central_difference():
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((3, 2))
    v0 = rng.standard_normal((3, 2))
    x, v = gt.constant(x0, dtype=gt.float64), gt.constant(v0, dtype=gt.float64)
    with gt.autodiff.ForwardAccumulator(x, v) as acc:
        y = _f(x)
    jvp = acc.jvp(y).numpy()
    with gt.GradientTape() as tape:
        tape.watch(x)
        y2 = _f(x)
    j = tape.jacobian(y2, x).numpy()  # (3, 3, 3, 2)
    np.testing.assert_allclose(jvp, np.tensordot(j, v0, axes=2), rtol=1e-10, atol=1e-12)
    h = 1e-6
    fd = (_f(gt.constant(x0 + h * v0)).numpy() - _f(gt.constant(x0 - h * v0)).numpy()) / (2 * h)
    np.testing.assert_allclose(jvp, fd, rtol=1e-6, atol=1e-8)


def test_primals_themselves_variables_nested_structures_and_unconnected_values():
    w = gt.Variable([[1.0, 2.0], [3.0, 4.0]])
    b = gt.constant([0.5, -1.0])
    tangents = {"w": gt.ones((2, 2)), "b": gt.constant([1.0, 2.0])}
    with gt.autodiff.ForwardAccumulator({"w": w, "b": b}, tangents) as acc:
        y = gt.matmul(w, w) + b
        unrelated = gt.constant(3.0) * 2.0
    wn, vn = w.numpy(), np.ones((2, 2))
    np.testing.assert_allclose(acc.jvp(y).numpy(), vn @ wn + wn @ vn + [1.0, 2.0])
    got = acc.jvp({"y": y, "w": w, "b": b})
    np.testing.assert_allclose(got["w"].numpy(), vn)
    np.testing.assert_allclose(got["b"].numpy(), [1.0, 2.0])
    assert acc.jvp(unrelated) is None
    assert acc.jvp(unrelated, unconnected_gradients=gt.UnconnectedGradients.ZERO).numpy() == 0.0
    assert acc.jvp(gt.cast(y, gt.int32)) is None  # integers carry no tangent, as in TF
    assert acc.jvp(y * 2.0) is None  # ops after the block are not followed


def test_forward_over_reverse_gives_a_hessian_vector_product():
    x0 = np.array([1.0, 2.0, -1.0])
    v0 = np.array([0.5, 1.0, 2.0])
    x = gt.constant(x0)
    with gt.autodiff.ForwardAccumulator(x, gt.constant(v0)) as acc:
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = gt.reduce_sum(x**3) + gt.reduce_prod(x)
        g = tape.gradient(y, x)
    hess = np.diag(6 * x0) + np.array(
        [[0, x0[2], x0[1]], [x0[2], 0, x0[0]], [x0[1], x0[0], 0]]
    )  # d2/dx2 of sum x^3 + x0 x1 x2
    np.testing.assert_allclose(acc.jvp(g).numpy(), hess @ v0, rtol=1e-12)


def test_reverse_over_forward_and_nested_accumulators():
    x = gt.constant([1.0, 2.0])
    with gt.GradientTape() as tape:
        tape.watch(x)
        with gt.autodiff.ForwardAccumulator(x, gt.constant([1.0, 1.0])) as acc:
            y = gt.reduce_sum(x**3)
        jvp = acc.jvp(y)  # sum 3 x^2
    assert float(jvp) == pytest.approx(15.0)
    np.testing.assert_allclose(tape.gradient(jvp, x).numpy(), [6.0, 12.0])

    s = gt.constant(2.0)
    with gt.autodiff.ForwardAccumulator(s, gt.constant(1.0)) as outer:
        with gt.autodiff.ForwardAccumulator(s, gt.constant(1.0)) as inner:
            y = s**4
        d1 = inner.jvp(y)
    assert float(d1) == pytest.approx(32.0)  # 4 s^3
    assert float(outer.jvp(d1)) == pytest.approx(48.0)  # 12 s^2


def test_through_a_gather_and_a_gt_function():
    p = gt.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    t = gt.constant([[1.0, 0.0], [0.0, 1.0], [2.0, 3.0]])
    with gt.autodiff.ForwardAccumulator(p, t) as acc:
        r = gt.gather(p, [2, 0]) * 2.0  # the gather's VJP is IndexedSlices
    np.testing.assert_allclose(acc.jvp(r).numpy(), 2.0 * t.numpy()[[2, 0]])

    @gt.function
    def f(x):
        return gt.exp(x) * x

    x0 = np.array([0.5, -1.0], np.float32)
    x = gt.constant(x0)
    with gt.autodiff.ForwardAccumulator(x, gt.constant([1.0, 2.0])) as acc:
        y = f(x)
    np.testing.assert_allclose(acc.jvp(y).numpy(), np.exp(x0) * (1 + x0) * [1.0, 2.0], rtol=1e-6)


def test_bad_input():
    x = gt.constant([1.0, 2.0])
    with pytest.raises(ValueError, match="mismatched shape"):
        gt.autodiff.ForwardAccumulator(x, gt.constant([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="2 primals and 1 tangents"):
        gt.autodiff.ForwardAccumulator([x, x], [x])
    with pytest.raises(ValueError, match="int32"):
        gt.autodiff.ForwardAccumulator(gt.constant([1, 2]), gt.constant([1, 1]))
    with pytest.raises(ValueError, match="not gt.Tensor"):
        gt.autodiff.ForwardAccumulator([[1.0]], [[1.0]])
    with gt.autodiff.ForwardAccumulator(x, gt.ones(2)) as acc:
        y = x * 2.0
    with pytest.raises(ValueError, match="Unknown value for unconnected_gradients"):
        acc.jvp(y, unconnected_gradients="some")
    with pytest.raises(ValueError, match="ForwardAccumulator.jvp"):
        acc.jvp([1.0])


def test_jvps_fetched_after_the_blocks_are_seen_by_the_enclosing_tapes_as_in_tf():
    # TF's docstring example: the inner JVP is fetched after both blocks.
    primal = gt.constant(1.1)
    with gt.autodiff.ForwardAccumulator(primal, gt.constant(1.0)) as outer:
        with gt.autodiff.ForwardAccumulator(primal, gt.constant(1.0)) as inner:
            primal_out = primal ** gt.constant(3.5)
    inner_jvp = inner.jvp(primal_out)
    assert float(inner_jvp) == pytest.approx(3.5 * 1.1**2.5)
    assert float(outer.jvp(inner_jvp)) == pytest.approx(3.5 * 2.5 * 1.1**1.5)

    x = gt.constant([1.0, 2.0])
    with gt.GradientTape() as tape:
        tape.watch(x)
        with gt.autodiff.ForwardAccumulator(x, gt.constant([1.0, 1.0])) as acc:
            y = gt.reduce_sum(x**3)
    jvp = acc.jvp(y)
    np.testing.assert_allclose(tape.gradient(jvp, x).numpy(), [6.0, 12.0])
