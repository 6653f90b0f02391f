"""Guide "Understanding masking & padding" (TensorFlow version): pad_sequences, the masks
Embedding(mask_zero=True) and Masking make, their propagation through Sequential, functional and
custom layers, and the outputs of masked LSTMs on fixed weights are Keras 3's
(fixtures/masking.json, from scripts/make_keras_guide_fixtures.py)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.keras.guides import guide_masking
from tests.keras.guides._runner import block_names, run_block


@pytest.mark.parametrize("name", block_names(guide_masking))
def test_block_matches_keras(name):
    run_block("masking", guide_masking, name)


def test_masked_steps_do_not_change_the_lstm_output():
    got = run_block("masking", guide_masking, "block_mask_propagation_sequential")
    np.testing.assert_allclose(
        np.asarray(got["output"])[0], np.asarray(got["first_unpadded"])[0], rtol=1e-5, atol=1e-6
    )
