"""Guide "The Functional API": every block run with ``tf`` -> ``gt`` prints what Keras 3 prints
(tests/keras/guides/fixtures/functional.json, from scripts/make_keras_guide_fixtures.py)."""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt
from tests.keras.guides import guide_functional
from tests.keras.guides._runner import block_names, run_block


@pytest.mark.parametrize("name", block_names(guide_functional))
def test_block_matches_keras(name):
    run_block("functional", guide_functional, name)


def test_training_lowers_the_loss_and_learns():
    got = run_block("functional", guide_functional, "block_training")
    loss = got["_history"]["loss"]
    assert loss[-1] < loss[0]
    # Ten well-separated class centres: two epochs of RMSprop classify the test split.
    assert got["_test_scores"][1] > 0.8
    assert got["_test_scores"][0] < got["_initial"][0]


def test_save_and_load_keeps_predictions(tmp_path):
    got = guide_functional.block_save_and_load(gt, gt.keras, np, str(tmp_path))
    np.testing.assert_allclose(got["after"], got["before"], rtol=1e-6)
