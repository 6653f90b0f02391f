"""Guide "The Sequential model": every block run with ``tf`` -> ``gt`` prints what Keras 3 prints
(tests/keras/guides/fixtures/sequential.json, from scripts/make_keras_guide_fixtures.py)."""

from __future__ import annotations

import pytest

from tests.keras.guides import guide_sequential
from tests.keras.guides._runner import block_names, run_block


@pytest.mark.parametrize("name", block_names(guide_sequential))
def test_block_matches_keras(name):
    run_block("sequential", guide_sequential, name)


def test_transfer_learning_updates_only_the_last_layer():
    got = run_block("sequential", guide_sequential, "block_transfer_learning")
    assert got["changed"] == [False] * 6 + [True, True]
