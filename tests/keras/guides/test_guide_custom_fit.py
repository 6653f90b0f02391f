"""Guide "Customizing what happens in fit()" (TensorFlow version): every block run with
``tf`` -> ``gt`` gives what Keras 3 on TensorFlow gives, epoch by epoch on fixed weights
(fixtures/custom_fit.json, from scripts/make_keras_guide_fixtures.py)."""

from __future__ import annotations

import math

import pytest

from tests.keras.guides import guide_custom_fit
from tests.keras.guides._runner import block_names, run_block


@pytest.mark.parametrize("name", block_names(guide_custom_fit))
def test_block_matches_keras(name):
    run_block("custom_fit", guide_custom_fit, name)


def test_gan_with_keras_random_gives_finite_losses():
    got = run_block("custom_fit", guide_custom_fit, "block_gan")
    assert all(math.isfinite(v) and v > 0 for v in got["_d_loss"] + got["_g_loss"])
