"""Guide "Writing your own callbacks" (TensorFlow version): the hooks fire in Keras 3's order
with the same logs, and the guide's early-stopping and learning-rate callbacks train as they do
in Keras (fixtures/callbacks.json, from scripts/make_keras_guide_fixtures.py)."""

from __future__ import annotations

import pytest

from tests.keras.guides import guide_callbacks
from tests.keras.guides._runner import block_names, run_block


@pytest.mark.parametrize("name", block_names(guide_callbacks))
def test_block_matches_keras(name):
    run_block("callbacks", guide_callbacks, name)
