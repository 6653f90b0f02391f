"""Gradients of broadcasting binary ops sum over the broadcast dimensions (property tests)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import gputensor as gt


@st.composite
def broadcastable_pair(draw):
    """Two shapes that broadcast together: each dim of the shorter one equal to the other's or 1."""
    full = draw(st.lists(st.integers(1, 3), min_size=0, max_size=3))
    cut = draw(st.integers(0, len(full)))
    a = [d if draw(st.booleans()) else 1 for d in full]
    b = [d if draw(st.booleans()) else 1 for d in full[cut:]]
    if draw(st.booleans()):
        a, b = b, a
    return tuple(a), tuple(b)


def _reduce_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, d in enumerate(shape) if d == 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


@settings(max_examples=60, deadline=None)
@given(
    broadcastable_pair(),
    st.sampled_from(["add", "subtract", "multiply", "divide"]),
    st.integers(0, 2**31 - 1),
)
def test_binary_gradients_sum_over_broadcast_dimensions(shapes, op, seed):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 2.0, shapes[0])
    b = rng.uniform(0.5, 2.0, shapes[1])
    x, y = gt.constant(a), gt.constant(b)
    out_shape = np.broadcast_shapes(a.shape, b.shape)
    dz = rng.standard_normal(out_shape)
    with gt.GradientTape() as tape:
        tape.watch([x, y])
        z = getattr(gt.math, op)(x, y)
    gx, gy = tape.gradient(z, [x, y], output_gradients=gt.constant(dz))
    # d/dx and d/dy of the elementwise formula, broadcast, then summed back (NumPy reference).
    ab, bb = np.broadcast_to(a, out_shape), np.broadcast_to(b, out_shape)
    local = {
        "add": (np.ones(out_shape), np.ones(out_shape)),
        "subtract": (np.ones(out_shape), -np.ones(out_shape)),
        "multiply": (bb, ab),
        "divide": (1 / bb, -ab / bb**2),
    }[op]
    assert gx.shape == a.shape and gy.shape == b.shape
    np.testing.assert_allclose(gx.numpy(), _reduce_to(dz * local[0], a.shape), rtol=1e-12)
    np.testing.assert_allclose(gy.numpy(), _reduce_to(dz * local[1], b.shape), rtol=1e-12)
