"""End-to-end gradients of gt.nn functions through gt.GradientTape.

Each row pairs a gt.nn call with an independent NumPy reference of the same
function; the tape's gradient of ``sum(f(inputs) * r)`` (r a fixed random
weighting) must equal central finite differences of the reference in float64.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

import gputensor as gt
from tests.ops.test_nn_conv import ref_conv2d, ref_conv2d_transpose, ref_depthwise, ref_pool, resolve

SAME_5x5_S2 = resolve("SAME", (5, 5), (3, 3), (2, 2), (1, 1))


def _sig_xent(z, x):
    return z * np.logaddexp(0, -x) + (1 - z) * np.logaddexp(0, x)


def _ref_activation_chain(x):
    e = np.where(x > 0, x, np.expm1(x))
    q = e * special.expit(0.7 * e)
    s = 1.0507009873554805 * np.where(q > 0, q, 1.6732632423543772 * np.expm1(q))
    return s / (1 + np.abs(s))


# id, gt function, NumPy reference, input generators (rng -> array)
CASES = [
    (
        "conv2d_same_stride2",
        lambda x, w: gt.nn.conv2d(x, w, 2, "SAME"),
        lambda x, w: ref_conv2d(x, w, (2, 2), SAME_5x5_S2, (1, 1)),
        [lambda r: r.standard_normal((2, 5, 5, 2)), lambda r: r.standard_normal((3, 3, 2, 3))],
    ),
    (
        "conv2d_valid_dilated",
        lambda x, w: gt.nn.conv2d(x, w, 1, "VALID", dilations=2),
        lambda x, w: ref_conv2d(x, w, (1, 1), ((0, 0), (0, 0)), (2, 2)),
        [lambda r: r.standard_normal((1, 6, 6, 2)), lambda r: r.standard_normal((2, 2, 2, 2))],
    ),
    (
        "depthwise_conv2d_same_stride2",
        lambda x, w: gt.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], "SAME"),
        lambda x, w: ref_depthwise(x, w, (2, 2), SAME_5x5_S2, (1, 1)),
        [lambda r: r.standard_normal((2, 5, 5, 2)), lambda r: r.standard_normal((3, 3, 2, 2))],
    ),
    (
        "conv2d_transpose_same_stride2",
        lambda y, w: gt.nn.conv2d_transpose(y, w, [2, 5, 5, 2], 2, "SAME"),
        lambda y, w: ref_conv2d_transpose(y, w, (2, 5, 5, 2), (2, 2), SAME_5x5_S2, (1, 1)),
        [lambda r: r.standard_normal((2, 3, 3, 3)), lambda r: r.standard_normal((3, 3, 2, 3))],
    ),
    (
        "max_pool2d_same",
        lambda x: gt.nn.max_pool2d(x, 3, 2, "SAME"),
        lambda x: ref_pool(x, (3, 3), (2, 2), SAME_5x5_S2, np.max),
        [lambda r: r.standard_normal((2, 5, 5, 2))],
    ),
    (
        "avg_pool2d_same",
        lambda x: gt.nn.avg_pool2d(x, 3, 2, "SAME"),
        lambda x: ref_pool(x, (3, 3), (2, 2), SAME_5x5_S2, np.mean),
        [lambda r: r.standard_normal((2, 5, 5, 2))],
    ),
    (
        "softmax_axis0",
        lambda x: gt.nn.softmax(x, axis=0),
        lambda x: special.softmax(x, axis=0),
        [lambda r: r.standard_normal((4, 3))],
    ),
    (
        "log_softmax",
        gt.nn.log_softmax,
        lambda x: special.log_softmax(x, axis=-1),
        [lambda r: r.standard_normal((3, 4))],
    ),
    (
        "softmax_cross_entropy_labels_and_logits",
        lambda z, x: gt.nn.softmax_cross_entropy_with_logits(z, x),
        lambda z, x: -np.sum(z * special.log_softmax(x, -1), -1),
        [lambda r: special.softmax(r.standard_normal((3, 4)), -1), lambda r: r.standard_normal((3, 4))],
    ),
    (
        "softmax_cross_entropy_axis0",
        lambda z, x: gt.nn.softmax_cross_entropy_with_logits(z, x, axis=0),
        lambda z, x: -np.sum(z * special.log_softmax(x, 0), 0),
        [lambda r: special.softmax(r.standard_normal((4, 3)), 0), lambda r: r.standard_normal((4, 3))],
    ),
    (
        "sparse_softmax_cross_entropy",
        lambda x: gt.nn.sparse_softmax_cross_entropy_with_logits(gt.constant([1, 0, 3]), x),
        lambda x: -special.log_softmax(x, -1)[np.arange(3), [1, 0, 3]],
        [lambda r: r.standard_normal((3, 4))],
    ),
    (
        "sigmoid_cross_entropy",
        lambda z, x: gt.nn.sigmoid_cross_entropy_with_logits(z, x),
        _sig_xent,
        [lambda r: r.uniform(size=(6,)), lambda r: r.standard_normal((6,)) * 3],
    ),
    (
        "moments_mean_plus_variance",
        lambda x: sum(gt.nn.moments(x, [0, 1])),
        lambda x: x.mean((0, 1)) + x.var((0, 1)),
        [lambda r: r.standard_normal((3, 4, 2))],
    ),
    (
        "batch_normalization",
        lambda x, m, v, b, s: gt.nn.batch_normalization(x, m, v, b, s, 1e-3),
        lambda x, m, v, b, s: (x - m) / np.sqrt(v + 1e-3) * s + b,
        [
            lambda r: r.standard_normal((4, 3)),
            lambda r: r.standard_normal(3),
            lambda r: r.uniform(0.5, 2, 3),
            lambda r: r.standard_normal(3),
            lambda r: r.standard_normal(3),
        ],  # fmt: skip
    ),
    (
        "l2_normalize",
        lambda x: gt.nn.l2_normalize(x, axis=1),
        lambda x: x / np.sqrt(np.sum(x * x, 1, keepdims=True)),
        [lambda r: r.standard_normal((3, 4))],
    ),
    (
        "bias_add",
        gt.nn.bias_add,
        lambda x, b: x + b,
        [lambda r: r.standard_normal((2, 3, 4)), lambda r: r.standard_normal(4)],
    ),
    (
        "activations_chain",
        lambda x: gt.nn.softsign(gt.nn.selu(gt.nn.swish(gt.nn.elu(x), beta=0.7))),
        _ref_activation_chain,
        [lambda r: r.standard_normal((8,)) * 2],
    ),
]


def _numeric_gradient(f, args, i, eps=1e-6):
    x = args[i]
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        plus, minus = [a.copy() for a in args], [a.copy() for a in args]
        plus[i][idx] += eps
        minus[i][idx] -= eps
        grad[idx] = (f(*plus) - f(*minus)) / (2 * eps)
    return grad


@pytest.mark.parametrize("fn,ref,makers", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_tape_gradient_of_nn_function_matches_finite_differences(device, rng, fn, ref, makers):
    args = [make(rng) for make in makers]
    weight = rng.standard_normal(np.shape(ref(*args)))
    sources = [gt.constant(a) for a in args]
    with gt.GradientTape() as tape:
        for s in sources:
            tape.watch(s)
        loss = gt.reduce_sum(fn(*sources) * weight)
    grads = tape.gradient(loss, sources)

    def scalar(*a):
        return np.sum(ref(*a) * weight)

    for i, g in enumerate(grads):
        assert g is not None, f"no gradient for input {i}"
        g = gt.convert_to_tensor(g).numpy()
        np.testing.assert_allclose(g, _numeric_gradient(scalar, args, i), rtol=1e-5, atol=1e-7)
