"""Keras 3 masking in gt.keras (gputensor/keras/masks.py and the layers using it) against NumPy:
mask sources (Embedding(mask_zero), Masking), propagation through Sequential, functional and
subclassed models, masked recurrent steps and pooling, merge masks, Bidirectional's merges,
states, configs and errors, gradients against finite differences."""

from __future__ import annotations

import doctest
import warnings

import numpy as np
import pytest

import gputensor as gt
from gputensor.keras import layers, models
from gputensor.keras.masks import get_keras_mask, set_keras_mask

IDS = np.array([[3, 5, 7, 2], [6, 1, 0, 0], [0, 0, 8, 2], [4, 0, 5, 0]], dtype=np.int32)
KEEP = IDS != 0


def np_simple_rnn(x, keep, kernel, rec, bias, go_backwards=False, zero_output=False):
    """Keras 3's masked loop: a masked step keeps h and outputs the previous output (or 0)."""
    n, t, _ = x.shape
    h = np.zeros((n, rec.shape[0]), np.float32)
    prev = np.zeros_like(h)
    outs = []
    order = range(t)[::-1] if go_backwards else range(t)
    for s in order:
        new_h = np.tanh(x[:, s] @ kernel + h @ rec + bias)
        m = keep[:, s : s + 1]
        out = np.where(m, new_h, 0.0 if zero_output else prev)
        h = np.where(m, new_h, h)
        prev = out
        outs.append(out)
    return np.stack(outs, axis=1), h


def rnn_weights(layer):
    return [w.numpy() for w in layer.weights]


# ---------------------------------------------------------------- mask sources
def test_embedding_mask_zero_and_masking_layer():
    emb = layers.Embedding(10, 3, mask_zero=True)
    out = emb(IDS)
    np.testing.assert_array_equal(get_keras_mask(out).numpy(), KEEP)
    np.testing.assert_array_equal(emb.compute_mask(gt.constant(IDS)).numpy(), KEEP)
    assert get_keras_mask(layers.Embedding(10, 3)(IDS)) is None
    assert layers.Embedding(10, 3).compute_mask(gt.constant(IDS)) is None

    x = np.random.default_rng(0).standard_normal((2, 4, 3)).astype(np.float32)
    x[0, 1] = 0.0
    x[1, 2:] = 5.0
    x[1, 0, 0] = 5.0  # one feature equal to the mask value is not enough
    masking = layers.Masking(5.0)
    y = masking(x)
    keep = np.any(x != 5.0, axis=-1)
    np.testing.assert_array_equal(get_keras_mask(y).numpy(), keep)
    np.testing.assert_allclose(y.numpy(), x * keep[..., None])
    assert masking.get_config()["mask_value"] == 5.0
    assert layers.Masking.from_config(masking.get_config()).mask_value == 5.0


def test_mask_passes_through_supporting_layers_and_is_dropped_by_others():
    e = layers.Embedding(10, 4, mask_zero=True)(IDS)
    for layer in (
        layers.Dense(3),
        layers.Dropout(0.5),
        layers.Activation("relu"),
        layers.LayerNormalization(),
    ):
        np.testing.assert_array_equal(get_keras_mask(layer(e)).numpy(), KEEP)
    # Keras 3: a layer that does not support masking destroys the mask, with a warning.
    with pytest.warns(UserWarning, match="does not support masking"):
        flat = layers.Flatten()(e)
    assert get_keras_mask(flat) is None
    with pytest.warns(UserWarning, match="conv1d"):
        conv = layers.Conv1D(2, 1, name="conv1d_masked")(e)
    assert get_keras_mask(conv) is None
    # No mask: no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layers.Flatten()(layers.Embedding(10, 4)(IDS))


def test_merge_masks():
    a = gt.ones([2, 3, 2])
    b = gt.ones([2, 3, 2])
    ma = gt.constant([[True, True, False], [True, False, False]])
    mb = gt.constant([[True, False, True], [True, True, False]])
    set_keras_mask(a, ma)
    set_keras_mask(b, mb)
    # Keras 3.15's merge layers keep a step any input keeps (checked against keras.layers.Add).
    np.testing.assert_array_equal(get_keras_mask(layers.Add()([a, b])).numpy(), ma.numpy() | mb.numpy())
    c = gt.ones([2, 3, 2])  # an unmasked input: the sum carries no mask, as Keras's
    assert get_keras_mask(layers.Add()([a, c])) is None
    # Concatenate on the features axis: a step is kept if any input keeps it (Keras 3).
    np.testing.assert_array_equal(
        get_keras_mask(layers.Concatenate()([a, b])).numpy(), ma.numpy() | mb.numpy()
    )
    np.testing.assert_array_equal(get_keras_mask(layers.Concatenate()([a, c])).numpy(), np.ones((2, 3), bool))


# ---------------------------------------------------------------- recurrent layers
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zero_output", [False, True])
def test_masked_simple_rnn_matches_numpy(go_backwards, zero_output):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 4, 3)).astype(np.float32)
    layer = layers.SimpleRNN(
        5,
        return_sequences=True,
        return_state=True,
        go_backwards=go_backwards,
        zero_output_for_mask=zero_output,
    )
    layer(x)
    layer.set_weights([0.5 * rng.standard_normal(w.shape).astype(np.float32) for w in layer.get_weights()])
    seq, h = layer(x, mask=gt.constant(KEEP))
    want_seq, want_h = np_simple_rnn(x, KEEP, *rnn_weights(layer), go_backwards, zero_output)
    np.testing.assert_allclose(seq.numpy(), want_seq, atol=1e-6)
    np.testing.assert_allclose(h.numpy(), want_h, atol=1e-6)
    # The last output (return_sequences=False) is the last step run, masked as above.
    last = layers.SimpleRNN(5, go_backwards=go_backwards, zero_output_for_mask=zero_output)
    last(x)
    last.set_weights(layer.get_weights())
    np.testing.assert_allclose(last(x, mask=gt.constant(KEEP)).numpy(), want_seq[:, -1], atol=1e-6)


def test_rnn_mask_from_embedding_and_compute_mask():
    # The mask reaches the LSTM without being passed; return_sequences passes it on.
    emb = layers.Embedding(10, 3, mask_zero=True)
    lstm = layers.LSTM(4, return_sequences=True)
    e = emb(IDS)
    implicit = lstm(e)
    explicit = lstm(gt.identity(e), mask=gt.constant(KEEP))
    unmasked = lstm(gt.identity(e))
    np.testing.assert_allclose(implicit.numpy(), explicit.numpy(), atol=1e-7)
    assert not np.allclose(implicit.numpy(), unmasked.numpy())
    np.testing.assert_array_equal(get_keras_mask(implicit).numpy(), KEEP)
    # A fully padded prefix outputs zeros and leaves the state at zero (Keras 3).
    np.testing.assert_array_equal(implicit.numpy()[2, :2], 0.0)
    assert get_keras_mask(layers.LSTM(4)(e)) is None
    outs = layers.GRU(2, return_sequences=True, return_state=True)(e)
    assert get_keras_mask(outs[0]) is not None and get_keras_mask(outs[1]) is None


def test_global_average_pooling_1d_mask():
    x = np.random.default_rng(2).standard_normal((4, 4, 3)).astype(np.float32)
    pool = layers.GlobalAveragePooling1D()
    got = pool(x, mask=gt.constant(KEEP)).numpy()
    want = (x * KEEP[..., None]).sum(1) / KEEP.sum(1, keepdims=True)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_allclose(pool(x).numpy(), x.mean(1), rtol=1e-6)
    keep = layers.GlobalAveragePooling1D(keepdims=True)(x, mask=gt.constant(KEEP))
    np.testing.assert_allclose(keep.numpy()[:, 0], want, rtol=1e-6)


# ---------------------------------------------------------------- models
def _emb_lstm_layers():
    return layers.Embedding(10, 3, mask_zero=True), layers.LSTM(4, return_sequences=True), layers.Dense(2)


def test_sequential_functional_and_subclassed_agree():
    seq = models.Sequential([models.Input((4,), dtype="int32"), *_emb_lstm_layers()])
    inp = models.Input((4,), dtype="int32")
    e, lstm, dense = _emb_lstm_layers()
    h = e(inp)
    assert h._keras_mask.shape == (None, 4)  # the KerasTensor carries its mask, as Keras
    func = models.Model(inp, dense(lstm(h)))

    class Sub(models.Model):
        def __init__(self):
            super().__init__()
            self.e, self.lstm, self.dense = _emb_lstm_layers()

        def call(self, x):
            return self.dense(self.lstm(self.e(x)))

    sub = Sub()
    sub(IDS)
    func.set_weights(seq.get_weights())
    sub.set_weights(seq.get_weights())
    want = seq(IDS)
    np.testing.assert_array_equal(get_keras_mask(want).numpy(), KEEP)
    for model in (func, sub):
        y = model(IDS)
        np.testing.assert_allclose(y.numpy(), want.numpy(), atol=1e-7)
        np.testing.assert_array_equal(get_keras_mask(y).numpy(), KEEP)
    # Without the mask the padded steps would change the result.
    seq.layers[0].mask_zero = False
    assert not np.allclose(seq(IDS).numpy(), want.numpy())


def test_explicit_mask_input_in_functional_model():
    x_in = models.Input((4, 3))
    m_in = models.Input((4,), dtype="bool")
    lstm = layers.LSTM(2)
    model = models.Model([x_in, m_in], lstm(x_in, mask=m_in))
    x = np.random.default_rng(3).standard_normal((4, 4, 3)).astype(np.float32)
    got = model([x, KEEP])
    np.testing.assert_allclose(got.numpy(), lstm(x, mask=gt.constant(KEEP)).numpy(), atol=1e-7)


def test_masked_model_traced_and_eager_agree():
    model = models.Sequential([models.Input((4,), dtype="int32"), *_emb_lstm_layers()])
    eager = model(IDS)
    traced = gt.function(lambda x: model(x))(gt.constant(IDS))
    np.testing.assert_allclose(traced.numpy(), eager.numpy(), atol=1e-7)


def test_gradient_matches_finite_differences():
    # d(sum(y * c))/d(x) through a masked SimpleRNN: masked steps' inputs get no gradient.
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 4, 3))
    layer = layers.SimpleRNN(3, return_sequences=True, dtype="float64")
    c = rng.standard_normal((4, 4, 3))
    mask = gt.constant(KEEP)

    def f(v):
        return float(gt.reduce_sum(layer(gt.constant(v), mask=mask) * c).numpy())

    xt = gt.constant(x)
    with gt.GradientTape() as tape:
        tape.watch(xt)
        loss = gt.reduce_sum(layer(xt, mask=mask) * c)
    grad = tape.gradient(loss, xt).numpy()
    fd = np.zeros_like(x)
    eps = 1e-6
    for idx in np.ndindex(*x.shape):
        d = np.zeros_like(x)
        d[idx] = eps
        fd[idx] = (f(x + d) - f(x - d)) / (2 * eps)
    np.testing.assert_allclose(grad, fd, atol=1e-6)
    np.testing.assert_array_equal(grad[~KEEP], 0.0)


def test_masked_model_fits_traced():
    # A masked model trains inside fit's gt.function: the label is the count of real ids, which
    # only a model that skips padding can read from the LSTM's last output.
    rng = np.random.default_rng(5)
    ids = rng.integers(1, 10, size=(64, 6)).astype(np.int32)
    lengths = rng.integers(1, 7, size=64)
    for i, n in enumerate(lengths):
        ids[i, n:] = 0
    y = (lengths >= 4).astype(np.float32)[:, None]
    gt.random.set_seed(0)
    model = models.Sequential([
        models.Input((6,), dtype="int32"), layers.Embedding(10, 4, mask_zero=True), layers.LSTM(8),
        layers.Dense(1, activation="sigmoid"),
    ])  # fmt: skip
    model.compile(optimizer=gt.keras.optimizers.Adam(0.03), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(ids, y, epochs=25, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["accuracy"][-1] >= 0.9


# ---------------------------------------------------------------- Bidirectional
def test_bidirectional_merge_modes_match_two_layers():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 4, 3)).astype(np.float32)
    mask = gt.constant(KEEP)
    for seqs in (True, False):
        bi = layers.Bidirectional(layers.GRU(2, return_sequences=seqs), merge_mode=None)
        y, y_rev = bi(x, mask=mask)
        assert bi.forward_layer.name.startswith("forward_gru") and bi.backward_layer.name.startswith(
            "backward_gru"
        )
        assert bi.backward_layer.go_backwards and not bi.forward_layer.go_backwards
        # The backward layer's sequence is flipped back into time order.
        raw = bi.backward_layer(x, mask=mask)
        np.testing.assert_allclose(y_rev.numpy(), raw.numpy()[:, ::-1] if seqs else raw.numpy(), atol=1e-7)
        np.testing.assert_allclose(y.numpy(), bi.forward_layer(x, mask=mask).numpy(), atol=1e-7)
        a, b = y.numpy(), y_rev.numpy()
        want = {"concat": np.concatenate([a, b], -1), "sum": a + b, "mul": a * b, "ave": (a + b) / 2}
        for mode, value in want.items():
            other = layers.Bidirectional(layers.GRU(2, return_sequences=seqs), merge_mode=mode)
            other(x)
            other.set_weights(bi.get_weights())
            np.testing.assert_allclose(other(x, mask=mask).numpy(), value, atol=1e-6, err_msg=mode)
    # With return_sequences the masked steps are zeros in both directions (Keras forces
    # zero_output_for_mask).
    bi = layers.Bidirectional(layers.LSTM(2, return_sequences=True))
    out = bi(x, mask=mask).numpy()
    np.testing.assert_array_equal(out[~KEEP], 0.0)
    np.testing.assert_array_equal(get_keras_mask(bi(x, mask=mask)).numpy(), KEEP)


def test_bidirectional_weights_state_and_initial_state():
    bi = layers.Bidirectional(layers.LSTM(3, return_state=True))
    x = np.random.default_rng(7).standard_normal((2, 5, 4)).astype(np.float32)
    out, fh, fc, bh, bc = bi(x)
    assert out.shape == (2, 6) and fh.shape == (2, 3) and bc.shape == (2, 3)
    np.testing.assert_allclose(out.numpy(), np.concatenate([fh.numpy(), bh.numpy()], -1), atol=1e-7)
    shapes = [tuple(w.shape) for w in bi.weights]
    assert shapes == [(4, 12), (3, 12), (12,)] * 2
    assert bi.weights[0] is bi.forward_layer.cell.kernel and bi.weights[3] is bi.backward_layer.cell.kernel
    # initial_state: the first half goes forward, the second half backward.
    states = [gt.constant(np.full((2, 3), v, np.float32)) for v in (0.1, 0.2, 0.3, 0.4)]
    got = bi(x, initial_state=states)
    np.testing.assert_allclose(
        got[1].numpy(), bi.forward_layer(x, initial_state=states[:2])[1].numpy(), atol=1e-7
    )
    np.testing.assert_allclose(
        got[3].numpy(), bi.backward_layer(x, initial_state=states[2:])[1].numpy(), atol=1e-7
    )
    # weights= sets the forward then the backward layer's weights at build.
    values = [np.full(s, i, np.float32) for i, s in enumerate(shapes)]
    preset = layers.Bidirectional(layers.LSTM(3), weights=values)
    preset(x)
    for w, v in zip(preset.weights, values):
        np.testing.assert_array_equal(w.numpy(), v)


def test_bidirectional_config_round_trip():
    backward = layers.GRU(3, return_sequences=True, go_backwards=True, name="back")
    bi = layers.Bidirectional(
        layers.LSTM(3, return_sequences=True), merge_mode="ave", backward_layer=backward
    )
    config = bi.get_config()
    assert config["merge_mode"] == "ave"
    assert config["layer"]["class_name"] == "LSTM" and config["layer"]["config"]["name"].startswith(
        "forward_"
    )
    assert config["backward_layer"]["config"]["name"] == "back"
    again = layers.deserialize(layers.serialize(bi))
    assert isinstance(again, layers.Bidirectional) and again.merge_mode == "ave"
    assert isinstance(again.backward_layer, layers.GRU) and again.backward_layer.go_backwards
    x = np.random.default_rng(8).standard_normal((2, 4, 3)).astype(np.float32)
    bi(x)
    again(x)
    again.set_weights(bi.get_weights())
    np.testing.assert_allclose(again(x).numpy(), bi(x).numpy(), atol=1e-7)
    # A whole model through its config and a .keras archive.
    model = models.Sequential(
        [models.Input((4,), dtype="int32"), layers.Embedding(10, 3, mask_zero=True), bi]
    )
    rebuilt = models.Sequential.from_config(model.get_config())
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_allclose(rebuilt(IDS).numpy(), model(IDS).numpy(), atol=1e-7)


def test_bidirectional_bad_input():
    with pytest.raises(ValueError, match="not a recurrent layer"):
        layers.Bidirectional(layers.Dense(3))
    with pytest.raises(ValueError, match="keras.layers.Layer"):
        layers.Bidirectional("lstm")
    with pytest.raises(ValueError, match="Invalid merge mode"):
        layers.Bidirectional(layers.LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="different `go_backwards`"):
        layers.Bidirectional(layers.LSTM(2), backward_layer=layers.LSTM(2))
    with pytest.raises(ValueError, match='"return_sequences"'):
        layers.Bidirectional(
            layers.LSTM(2, return_sequences=True), backward_layer=layers.LSTM(2, go_backwards=True)
        )
    with pytest.raises(ValueError, match="backward_layer"):
        layers.Bidirectional(layers.LSTM(2), backward_layer=object())


def test_rnn_bad_mask_shape():
    with pytest.raises(ValueError, match=r"mask must be \(batch, timesteps\)"):
        layers.SimpleRNN(2)(gt.ones([2, 4, 3]), mask=gt.ones([2, 5], dtype=gt.bool))


def test_docstrings():
    from gputensor.keras.layers import bidirectional, masking

    for module in (bidirectional, masking):
        result = doctest.testmod(module, extraglobs={"gt": gt}, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0 and result.attempted > 0
