"""gt.test.compute_gradient against analytic Jacobians, and its argument checks."""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt


def test_jacobians_have_y_size_rows_and_x_size_columns(device, rng):
    a = rng.standard_normal((2, 3))
    b = rng.standard_normal(3)
    theoretical, numeric = gt.test.compute_gradient(lambda x, y: x * y, [gt.constant(a), gt.constant(b)])
    assert isinstance(theoretical, tuple) and len(theoretical) == 2
    assert theoretical[0].shape == (6, 6) and theoretical[1].shape == (6, 3)
    np.testing.assert_allclose(theoretical[0], np.diag(np.broadcast_to(b, (2, 3)).ravel()), atol=1e-12)
    expected_b = np.zeros((6, 3))
    for i in range(2):
        for j in range(3):
            expected_b[i * 3 + j, j] = a[i, j]
    np.testing.assert_allclose(theoretical[1], expected_b, atol=1e-12)
    np.testing.assert_allclose(numeric[1], expected_b, atol=1e-9)


def test_numeric_jacobian_uses_central_differences_with_given_delta(device):
    # For x**3 the central difference is 3 x^2 + delta^2 exactly.
    _, numeric = gt.test.compute_gradient(lambda x: x * x * x, [gt.constant([2.0], gt.float64)], delta=0.1)
    assert numeric[0][0, 0] == pytest.approx(12.0 + 0.01, rel=1e-12)


def test_unconnected_argument_gives_zero_theoretical_jacobian(device):
    theoretical, numeric = gt.test.compute_gradient(
        lambda x, y: x * 2.0, [gt.constant([1.0], gt.float64), gt.constant([1.0, 2.0], gt.float64)]
    )
    np.testing.assert_array_equal(theoretical[1], np.zeros((1, 2)))
    np.testing.assert_array_equal(numeric[1], np.zeros((1, 2)))


def test_x_must_be_a_list():
    with pytest.raises(ValueError, match="must be a list or tuple"):
        gt.test.compute_gradient(lambda x: x, gt.constant(1.0))


def test_integer_arguments_are_rejected():
    with pytest.raises(TypeError, match="integer argument"):
        gt.test.compute_gradient(lambda x: x, [gt.constant([1, 2])])


# Complex tensors: the CUDA backend instantiates real dtypes only, so these run on the CPU.
@pytest.fixture
def cpu():
    with gt.device("/CPU:0"):
        yield


def test_complex_parts_have_gradients(cpu):
    z = gt.constant([1.0 + 2.0j, -0.5 + 0.25j], dtype=gt.complex128)
    with gt.GradientTape(persistent=True) as tape:
        tape.watch(z)
        re, im, cj = gt.math.real(z), gt.math.imag(z), gt.math.conj(z)
    np.testing.assert_allclose(tape.gradient(re, z).numpy(), [1.0, 1.0])
    np.testing.assert_allclose(tape.gradient(im, z).numpy(), [1.0j, 1.0j])
    np.testing.assert_allclose(
        tape.gradient(cj, z, output_gradients=gt.constant([1j, 2.0], gt.complex128)).numpy(), [-1j, 2.0]
    )


def test_complex_abs_gradient_is_z_over_abs_z_as_tf(cpu):
    values = np.array([3 + 4j, 1 - 1j])
    z = gt.constant(values, dtype=gt.complex128)
    with gt.GradientTape() as tape:
        tape.watch(z)
        y = gt.abs(z)
    np.testing.assert_allclose(tape.gradient(y, z).numpy(), values / np.abs(values))


# Holomorphic f: TF's gradient with upstream 1 is conj(f'(z)).
HOLOMORPHIC = [
    ("exp", gt.exp, np.exp),
    ("log", gt.math.log, lambda z: 1 / z),
    ("sin", gt.sin, np.cos),
    ("cos", gt.cos, lambda z: -np.sin(z)),
    ("tanh", gt.tanh, lambda z: 1 - np.tanh(z) ** 2),
    ("square", gt.square, lambda z: 2 * z),
    ("sqrt", gt.sqrt, lambda z: 0.5 / np.sqrt(z)),
    ("reciprocal", gt.math.reciprocal, lambda z: -1 / z**2),
    ("cube_by_multiply", lambda z: z * z * z, lambda z: 3 * z**2),
    ("divide", lambda z: 1.0 / (z + 2.0), lambda z: -1 / (z + 2) ** 2),
]


@pytest.mark.parametrize("name, fn, derivative", HOLOMORPHIC, ids=[h[0] for h in HOLOMORPHIC])
def test_complex_gradients_follow_tf_convention(name, fn, derivative, cpu):
    values = np.array([0.5 + 0.3j, -0.7 + 1.1j])
    z = gt.constant(values, dtype=gt.complex128)
    with gt.GradientTape() as tape:
        tape.watch(z)
        y = fn(z)
    np.testing.assert_allclose(tape.gradient(y, z).numpy(), np.conj(derivative(values)), rtol=1e-12)


def test_gpu_helpers_agree_with_the_device_list():
    gpus = gt.config.list_physical_devices("GPU")
    assert gt.test.is_gpu_available() == bool(gpus)
    assert gt.test.gpu_device_name() == ("/device:GPU:0" if gpus else "")
    assert isinstance(gt.test.is_built_with_cuda(), bool)
