"""Guide "Training & evaluation with the built-in methods": every block run with ``tf`` -> ``gt``
prints what Keras 3 prints, epoch by epoch where the guide's data are fixed
(fixtures/training.json, from scripts/make_keras_guide_fixtures.py)."""

from __future__ import annotations

import pytest

from tests.keras.guides import guide_training
from tests.keras.guides._runner import block_names, run_block


@pytest.mark.parametrize("name", block_names(guide_training))
def test_block_matches_keras(name):
    run_block("training", guide_training, name)


def test_shuffled_dataset_training_learns():
    got = run_block("training", guide_training, "block_tf_data")
    assert got["_loss"][-1] < got["_loss"][0]
    assert got["_accuracy"] > 0.8
