"""The gputensor twins of scripts/make_keras_mask_fixtures.py's Keras models (same layers, same order)."""

from __future__ import annotations

import os

from gputensor.keras import layers, models

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def build(name: str):
    """The model named as in the fixture script."""
    if name == "emb_lstm":
        return models.Sequential([
            models.Input((6,), dtype="int32"), layers.Embedding(12, 4, mask_zero=True), layers.LSTM(5),
            layers.Dense(2),
        ])  # fmt: skip
    if name == "emb_stack":
        return models.Sequential([
            models.Input((6,), dtype="int32"), layers.Embedding(12, 4, mask_zero=True),
            layers.LSTM(4, return_sequences=True), layers.SimpleRNN(3, return_sequences=True),
            layers.GRU(3, go_backwards=True), layers.Dense(2),
        ])  # fmt: skip
    if name == "masking_gru":
        return models.Sequential([
            models.Input((7, 3)), layers.Masking(0.0), layers.GRU(4, return_sequences=True),
            layers.Dense(3), layers.GlobalAveragePooling1D(), layers.Dense(2),
        ])  # fmt: skip
    if name.startswith("bi_") and name[3:] in ("concat", "sum", "mul", "ave"):
        mode = name[3:]
        return models.Sequential([
            models.Input((6,), dtype="int32"), layers.Embedding(12, 4, mask_zero=True),
            layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode=mode),
            layers.Bidirectional(layers.GRU(2), merge_mode=mode), layers.Dense(2),
        ])  # fmt: skip
    if name == "bi_none":
        ids = models.Input((6,), dtype="int32")
        h = layers.Embedding(12, 4, mask_zero=True)(ids)
        fwd, bwd = layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode=None)(h)
        return models.Model(ids, [fwd, bwd])
    if name == "bi_backward_layer":
        return models.Sequential([
            models.Input((6,), dtype="int32"), layers.Embedding(12, 4, mask_zero=True),
            layers.Bidirectional(
                layers.LSTM(3, return_sequences=True),
                backward_layer=layers.GRU(3, return_sequences=True, go_backwards=True),
            ),
            layers.GlobalAveragePooling1D(),
        ])  # fmt: skip
    if name == "bi_nomask":
        return models.Sequential([
            models.Input((5, 3)),
            layers.Bidirectional(layers.SimpleRNN(3, return_sequences=True), merge_mode="sum"),
            layers.Bidirectional(layers.LSTM(2), merge_mode="ave"),
        ])  # fmt: skip
    if name == "fit":
        return models.Sequential([
            models.Input((6,), dtype="int32"), layers.Embedding(12, 4, mask_zero=True), layers.LSTM(3),
            layers.Dense(1),
        ])  # fmt: skip
    if name == "fit_seq":
        return models.Sequential([
            models.Input((6,), dtype="int32"), layers.Embedding(12, 4, mask_zero=True),
            layers.LSTM(3, return_sequences=True), layers.Dense(1),
        ])  # fmt: skip
    raise KeyError(name)


NAMES = [
    "emb_lstm", "emb_stack", "masking_gru", "bi_concat", "bi_sum", "bi_mul", "bi_ave", "bi_none",
    "bi_backward_layer", "bi_nomask",
]  # fmt: skip
