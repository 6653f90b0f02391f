"""Guide "Writing a training loop from scratch" (TensorFlow version): every block run with
``tf`` -> ``gt`` prints what Keras 3 on TensorFlow prints, step by step on fixed weights
(fixtures/loop.json, from scripts/make_keras_guide_fixtures.py)."""

from __future__ import annotations

import math

import pytest

from tests.keras.guides import guide_loop
from tests.keras.guides._runner import block_names, run_block


@pytest.mark.parametrize("name", block_names(guide_loop))
def test_block_matches_keras(name):
    run_block("loop", guide_loop, name)


def test_function_train_step_matches_the_eager_loop():
    import numpy as np

    import gputensor as gt

    eager = guide_loop.block_metrics(gt, gt.keras, np)
    traced = guide_loop.block_tf_function(gt, gt.keras, np)
    for key in eager:
        np.testing.assert_allclose(traced[key], eager[key], rtol=1e-5, atol=1e-6)


def test_gan_steps_give_finite_losses():
    got = run_block("loop", guide_loop, "block_gan")
    assert all(math.isfinite(v) and v > 0 for v in got["_d_losses"] + got["_g_losses"])


def test_traced_gan_draws_new_latent_vectors_each_step():
    got = run_block("loop", guide_loop, "block_gan_traced_keras_random")
    assert got["_images_differ"]
