"""Guide "Working with RNNs" (TensorFlow version): SimpleRNN/LSTM/GRU layers, return_sequences
and return_state, stateful layers and state reuse, Bidirectional, RNN over built-in and custom
nested cells give Keras 3's summaries and outputs on fixed weights (fixtures/rnn.json, from
scripts/make_keras_guide_fixtures.py)."""

from __future__ import annotations

import pytest

from tests.keras.guides import guide_rnn
from tests.keras.guides._runner import block_names, run_block


@pytest.mark.parametrize("name", block_names(guide_rnn))
def test_block_matches_keras(name):
    run_block("rnn", guide_rnn, name)


def test_state_handling_as_the_guide_says():
    got = run_block("rnn", guide_rnn, "block_cross_batch_statefulness")
    assert got["after_reset"] == [0.0, 0.0] and got["again_equals_first"]
    got = run_block("rnn", guide_rnn, "block_rnn_state_reuse")
    assert got["same_as_continuing"]
    got = run_block("rnn", guide_rnn, "block_lstm_and_rnn_lstmcell_agree")
    assert got["same_prediction"]
