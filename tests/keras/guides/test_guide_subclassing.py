"""Guide "Making new layers and models via subclassing": every block run with ``tf`` -> ``gt``
prints what Keras 3 prints (fixtures/subclassing.json, from scripts/make_keras_guide_fixtures.py)."""

from __future__ import annotations

import pytest

from tests.keras.guides import guide_subclassing
from tests.keras.guides._runner import block_names, run_block


@pytest.mark.parametrize("name", block_names(guide_subclassing))
def test_block_matches_keras(name):
    run_block("subclassing", guide_subclassing, name)


def test_vae_training_lowers_the_loss():
    got = run_block("subclassing", guide_subclassing, "block_vae")
    assert got["_means"][-1] < got["_means"][0]
    assert got["_fit_loss"][-1] < got["_fit_loss"][0]


def test_keras3_vae_trains_in_the_traced_step():
    got = run_block("subclassing", guide_subclassing, "block_keras3_vae")
    assert got["_fit_loss"][-1] < got["_fit_loss"][0]
