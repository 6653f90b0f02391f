"""gt.keras recurrent layers (gputensor/keras/layers/recurrent.py): SimpleRNN, LSTM and GRU against
NumPy implementations of Keras 3's cell equations, weight files and outputs from real Keras 3.15
(scripts/make_keras_rnn_fixtures.py), training through the unrolled loop, configs and errors."""

from __future__ import annotations

import doctest
import os

import numpy as np
import pytest

import gputensor as gt
from gputensor.keras.layers import recurrent
from gputensor.keras.layers.base import reset_uids

layers = gt.keras.layers
FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures")


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# ------------------------------------------------------------ NumPy references
def np_simple_rnn(x, kernel, rec, bias, h):
    return np.tanh(x @ kernel + h @ rec + bias), ()


def np_lstm(x, kernel, rec, bias, h, c):
    z = x @ kernel + h @ rec + bias
    i, f, g, o = np.split(z, 4, axis=-1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c), (c,)


def np_gru(x, kernel, rec, bias, h, reset_after=True):
    u = h.shape[-1]
    if reset_after:
        xz, xr, xh = np.split(x @ kernel + bias[0], 3, axis=-1)
        rz, rr, rh = np.split(h @ rec + bias[1], 3, axis=-1)
        z, r = sigmoid(xz + rz), sigmoid(xr + rr)
        hh = np.tanh(xh + r * rh)
    else:
        xz, xr, xh = np.split(x @ kernel + bias, 3, axis=-1)
        z = sigmoid(xz + h @ rec[:, :u])
        r = sigmoid(xr + h @ rec[:, u : 2 * u])
        hh = np.tanh(xh + (r * h) @ rec[:, 2 * u :])
    return z * h + (1 - z) * hh, ()


def np_run(step, x, weights, states, go_backwards=False):
    """Runs ``step`` over time; returns (outputs in the order run, final states)."""
    h, extra = states[0], tuple(states[1:])
    outs = []
    order = range(x.shape[1])[::-1] if go_backwards else range(x.shape[1])
    for t in order:
        h, extra = step(x[:, t], *weights, h, *extra)
        outs.append(h)
    return np.stack(outs, axis=1), [h, *extra]


CASES = {
    "simple_rnn": (lambda **kw: layers.SimpleRNN(3, **kw), np_simple_rnn, 1),
    "lstm": (lambda **kw: layers.LSTM(3, **kw), np_lstm, 2),
    "gru": (lambda **kw: layers.GRU(3, **kw), np_gru, 1),
    "gru_reset_before": (
        lambda **kw: layers.GRU(3, reset_after=False, **kw),
        lambda *a: np_gru(*a, reset_after=False),
        1,
    ),
}


def _randomize(layer, rng):
    weights = [0.6 * rng.standard_normal(w.shape).astype(np.float32) for w in layer.get_weights()]
    layer.set_weights(weights)
    return weights


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("go_backwards", [False, True])
def test_cells_match_numpy_sequences_and_states(name, go_backwards):
    make, step, n_states = CASES[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 4)).astype(np.float32)
    layer = make(return_sequences=True, return_state=True, go_backwards=go_backwards)
    layer(x)  # builds
    weights = _randomize(layer, rng)
    got = layer(x)
    assert len(got) == 1 + n_states
    zeros = [np.zeros((2, 3), np.float32)] * n_states
    want_seq, want_states = np_run(step, x, weights, zeros, go_backwards)
    np.testing.assert_allclose(got[0].numpy(), want_seq, rtol=1e-5, atol=1e-5)
    for g, w in zip(got[1:], want_states):
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-5, atol=1e-5)
    # return_sequences=False gives the last step run; the weights are shared by building the same.
    last = make(go_backwards=go_backwards)
    last(x)
    last.set_weights(weights)
    np.testing.assert_allclose(last(x).numpy(), want_seq[:, -1], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", list(CASES))
def test_initial_state_is_used(name):
    make, step, n_states = CASES[name]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4, 2)).astype(np.float32)
    init = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(n_states)]
    layer = make()
    layer(x)
    weights = _randomize(layer, rng)
    got = layer(x, initial_state=[gt.constant(s) for s in init]).numpy()
    want, _ = np_run(step, x, weights, init)
    np.testing.assert_allclose(got, want[:, -1], rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="initial_state has 3 tensors"):
        layer(x, initial_state=[gt.constant(init[0])] * 3)


def test_weight_layout_names_and_default_initializers():
    reset_uids()
    lstm, gru, rnn = layers.LSTM(4), layers.GRU(3), layers.SimpleRNN(2)
    x = gt.constant(np.ones((2, 5, 6), np.float32))
    for layer in (lstm, gru, rnn):
        layer(x)
    assert [tuple(w.shape) for w in lstm.weights] == [(6, 16), (4, 16), (16,)]
    assert [tuple(w.shape) for w in gru.weights] == [(6, 9), (3, 9), (2, 9)]
    gru_before = layers.GRU(3, reset_after=False)
    gru_before(x)
    assert [tuple(w.shape) for w in gru_before.weights] == [(6, 9), (3, 9), (9,)]
    assert [tuple(w.shape) for w in rnn.weights] == [(6, 2), (2, 2), (2,)]
    assert [w.name for w in lstm.weights] == ["kernel", "recurrent_kernel", "bias"]
    # Keras 3's paths: the cell builds inside its RNN layer's scope.
    assert [w.path for w in lstm.weights] == [
        f"{lstm.name}/lstm_cell/{n}" for n in ("kernel", "recurrent_kernel", "bias")
    ]
    assert (
        lstm.cell.name == "lstm_cell" and gru.cell.name == "gru_cell" and rnn.cell.name == "simple_rnn_cell"
    )
    # unit_forget_bias: the forget gate's block (the second of i, f, c, o) starts at one.
    np.testing.assert_array_equal(lstm.cell.bias.numpy(), np.repeat([0.0, 1.0, 0.0, 0.0], 4))
    np.testing.assert_array_equal(gru.cell.bias.numpy(), np.zeros((2, 9)))
    # Orthogonal recurrent kernels: (units, k*units) has orthonormal rows.
    for layer in (lstm, gru, rnn):
        r = layer.cell.recurrent_kernel.numpy()
        np.testing.assert_allclose(r @ r.T, np.eye(r.shape[0]), atol=1e-5)
    # Glorot uniform kernels stay within sqrt(6 / (fan_in + fan_out)).
    assert np.abs(lstm.cell.kernel.numpy()).max() <= np.sqrt(6 / (6 + 16)) + 1e-6
    plain = layers.LSTM(2, unit_forget_bias=False)
    plain(x)
    np.testing.assert_array_equal(plain.cell.bias.numpy(), np.zeros(8))


MODELS = {
    "rnn": lambda: gt.keras.Sequential([
        gt.keras.Input((5, 3)), layers.LSTM(4, return_sequences=True), layers.GRU(3), layers.Dense(2),
    ]),
    "rnn2": lambda: gt.keras.Sequential([
        gt.keras.Input((6, 2)),
        layers.SimpleRNN(3, return_sequences=True, go_backwards=True),
        layers.GRU(4, reset_after=False, return_sequences=True),
        layers.LSTM(2, go_backwards=True),
    ]),
}  # fmt: skip


@pytest.mark.parametrize("name", list(MODELS))
def test_keras_weight_files_reproduce_keras_outputs(name):
    io = np.load(os.path.join(FIXTURES, f"{name}_io.npz"))
    model = MODELS[name]()
    model.load_weights(os.path.join(FIXTURES, f"{name}.weights.h5"))
    np.testing.assert_allclose(model(gt.constant(io["x"])).numpy(), io["y"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("suffix", [".weights.h5", ".h5", ".npz"])
def test_our_files_keep_keras_group_layout_and_round_trip(tmp_path, suffix):
    import h5py

    io = np.load(os.path.join(FIXTURES, "rnn_io.npz"))
    source = MODELS["rnn"]()
    source.load_weights(os.path.join(FIXTURES, "rnn.weights.h5"))
    path = str(tmp_path / f"m{suffix}")
    source.save_weights(path)
    if suffix == ".weights.h5":
        with h5py.File(path) as f, h5py.File(os.path.join(FIXTURES, "rnn.weights.h5")) as k:
            ours, theirs = [], []
            f.visit(ours.append)
            k.visit(theirs.append)
            assert sorted(ours) == sorted(theirs)  # layers/lstm/cell/vars/0 ..., as Keras writes
    target = MODELS["rnn"]()
    target.load_weights(path)
    np.testing.assert_allclose(target(gt.constant(io["x"])).numpy(), io["y"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
def test_fit_learns_a_sequence_task(kind):
    # The target is the mean of the sequence's first feature: it needs every step's input.
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (64, 6, 2)).astype(np.float32)
    y = x[:, :, :1].mean(axis=1)
    rnn = {"simple_rnn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}[kind](8)
    model = gt.keras.Sequential([gt.keras.Input((6, 2)), rnn, layers.Dense(1)])
    model.compile(optimizer=gt.keras.optimizers.Adam(0.02), loss="mse")
    history = model.fit(x, y, batch_size=16, epochs=25, verbose=0, shuffle=False)
    losses = history.history["loss"]
    assert losses[-1] < 0.25 * losses[0], losses
    # The traced training step and an eager forward pass agree on the trained weights.
    np.testing.assert_allclose(
        model.predict(x, verbose=0), model(gt.constant(x)).numpy(), rtol=1e-5, atol=1e-5
    )


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(4)
    x = gt.constant(rng.standard_normal((2, 3, 2)))
    layer = layers.GRU(2, dtype="float64")
    layer(x)
    _randomize(layer, rng)
    kernel = layer.cell.kernel
    with gt.GradientTape() as tape:
        loss = gt.reduce_sum(gt.square(layer(x)))
    grad = tape.gradient(loss, kernel).numpy()
    base = kernel.numpy()
    eps, numeric = 1e-6, np.zeros_like(base)
    for idx in np.ndindex(base.shape):
        for sign in (1, -1):
            w = base.copy()
            w[idx] += sign * eps
            kernel.assign(w)
            numeric[idx] += sign * float(gt.reduce_sum(gt.square(layer(x))).numpy()) / (2 * eps)
    kernel.assign(base)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


def test_functional_model_with_unknown_time_length_and_states():
    inputs = gt.keras.Input((None, 3))
    seq, h, c = layers.LSTM(4, return_sequences=True, return_state=True)(inputs)
    out = layers.GRU(2)(seq, initial_state=[layers.Dense(2)(h)])
    assert tuple(seq.shape) == (None, None, 4) and tuple(c.shape) == (None, 4)
    model = gt.keras.Model(inputs, out)
    assert model(gt.constant(np.ones((3, 7, 3), np.float32))).shape == (3, 2)


def test_configs_round_trip_and_read_keras_configs():
    keras_config = {
        "name": "lstm", "trainable": True,
        "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None},
        "return_sequences": True, "return_state": False, "go_backwards": False, "stateful": False,
        "unroll": False, "zero_output_for_mask": False, "units": 4, "activation": "tanh",
        "recurrent_activation": "sigmoid", "use_bias": True,
        "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": None}, "registered_name": None},
        "recurrent_initializer": {"module": "keras.initializers", "class_name": "Orthogonal", "config": {"seed": None, "gain": 1.0}, "registered_name": None},
        "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": None},
        "unit_forget_bias": True, "kernel_regularizer": None, "recurrent_regularizer": None, "bias_regularizer": None,
        "activity_regularizer": None, "kernel_constraint": None, "recurrent_constraint": None, "bias_constraint": None,
        "dropout": 0.0, "recurrent_dropout": 0.0, "seed": None,
    }  # fmt: skip
    layer = layers.LSTM.from_config(keras_config)
    assert layer(gt.constant(np.ones((2, 5, 3), np.float32))).shape == (2, 5, 4)
    config = layer.get_config()
    assert config["return_sequences"] is True and config["go_backwards"] is False and config["units"] == 4
    again = layers.deserialize(layers.serialize(layer))
    assert type(again) is layers.LSTM and again.return_sequences and again.units == 4
    generic = layers.RNN(layers.GRUCell(3), go_backwards=True)
    copy = layers.RNN.from_config(generic.get_config())
    assert isinstance(copy.cell, layers.GRUCell) and copy.cell.units == 3 and copy.go_backwards


def test_generic_rnn_runs_a_cell_as_the_layer_does():
    rng = np.random.default_rng(5)
    x = gt.constant(rng.standard_normal((2, 4, 3)).astype(np.float32))
    lstm = layers.LSTM(2, return_sequences=True)
    lstm(x)
    weights = _randomize(lstm, rng)
    generic = layers.RNN(layers.LSTMCell(2), return_sequences=True)
    generic(x)
    generic.set_weights(weights)
    np.testing.assert_allclose(generic(x).numpy(), lstm(x).numpy(), rtol=1e-6, atol=1e-6)


def test_whole_model_archive_round_trip(tmp_path):
    model = MODELS["rnn2"]()
    model.load_weights(os.path.join(FIXTURES, "rnn2.weights.h5"))
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = gt.keras.models.load_model(path)
    io = np.load(os.path.join(FIXTURES, "rnn2_io.npz"))
    np.testing.assert_allclose(loaded(gt.constant(io["x"])).numpy(), io["y"], rtol=1e-5, atol=1e-5)


def test_bad_arguments_and_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="batch size must be static"):  # stateful: tests/keras/masking
        gt.keras.Sequential([gt.keras.Input((3, 2)), layers.LSTM(2, stateful=True)])
    with pytest.raises(ValueError, match=r"dropout must be a float in the range \[0, 1\)"):
        layers.GRU(2, dropout=1.0)
    with pytest.raises(ValueError, match=r"recurrent_dropout must be a float in the range"):
        layers.SimpleRNN(2, recurrent_dropout=-0.1)
    with pytest.raises(ValueError, match="units must be a positive integer"):
        layers.LSTM(0)
    layer = layers.SimpleRNN(2)
    with pytest.raises(ValueError, match="ndim=3"):
        layer(gt.constant(np.ones((2, 3), np.float32)))
    layer(gt.constant(np.ones((2, 3, 4), np.float32)))
    with pytest.raises(ValueError, match="expected axis -1"):
        layer(gt.constant(np.ones((2, 3, 5), np.float32)))


def test_docstring_examples():
    reset_uids()
    result = doctest.testmod(recurrent, extraglobs={"gt": gt}, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


def test_a_keras_archive_of_recurrent_layers_loads_compiled():
    # Written by Keras 3.15 (compiled with a loss and no metrics: Keras stores metrics as null).
    io = np.load(os.path.join(FIXTURES, "rnn3_io.npz"))
    model = gt.keras.models.load_model(os.path.join(FIXTURES, "rnn3.keras"))
    assert [type(layer).__name__ for layer in model.layers] == ["LSTM", "GRU", "SimpleRNN", "Dense"]
    assert model.layers[1].go_backwards and model.layers[1].return_sequences
    np.testing.assert_allclose(model(gt.constant(io["x"])).numpy(), io["y"], rtol=1e-5, atol=1e-5)
    assert int(model.optimizer.iterations.numpy()) == 1  # Keras's Adam state came with it


# ------------------------------------------------------------------- dropout
def np_masked_step(kind, x, h, c, w, in_masks, rec_masks, reset_after=True):
    """Keras 3's cell with dropout masks: one mask (implementation 2) or one per gate (1)."""
    kernel, rec, bias = w
    u = h.shape[-1]
    gates = {"simple_rnn": 1, "lstm": 4, "gru": 3}[kind]
    im = in_masks if len(in_masks) > 1 else in_masks * gates
    rm = rec_masks if rec_masks is not None else [np.ones_like(h)] * gates
    rm = rm if len(rm) > 1 else rm * gates
    xs = [(x * im[k]) @ kernel[:, k * u : (k + 1) * u] for k in range(gates)]
    hs = [(h * rm[k]) @ rec[:, k * u : (k + 1) * u] for k in range(gates)]
    if kind == "simple_rnn":
        return np.tanh(xs[0] + hs[0] + bias), c
    if kind == "lstm":
        z = [xs[k] + hs[k] + bias[k * u : (k + 1) * u] for k in range(4)]
        c = sigmoid(z[1]) * c + sigmoid(z[0]) * np.tanh(z[2])
        return sigmoid(z[3]) * np.tanh(c), c
    if reset_after:
        bx, bh = bias[0], bias[1]
        z = sigmoid(xs[0] + bx[:u] + hs[0] + bh[:u])
        r = sigmoid(xs[1] + bx[u : 2 * u] + hs[1] + bh[u : 2 * u])
        hh = np.tanh(xs[2] + bx[2 * u :] + r * (hs[2] + bh[2 * u :]))
    else:
        z = sigmoid(xs[0] + bias[:u] + hs[0])
        r = sigmoid(xs[1] + bias[u : 2 * u] + hs[1])
        hh = np.tanh(xs[2] + bias[2 * u :] + (r * h * rm[2]) @ rec[:, 2 * u :])
    return z * h + (1 - z) * hh, c


DROPOUT_CASES = [
    ("simple_rnn", {}, True),
    ("lstm", {}, True),
    ("gru", {}, True),
    ("gru", {"reset_after": False}, False),
]


@pytest.mark.parametrize("kind, extra, reset_after", DROPOUT_CASES)
@pytest.mark.parametrize("recurrent_dropout", [0.0, 0.3])
def test_dropout_masks_apply_as_keras_cells_do(kind, extra, reset_after, recurrent_dropout):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    cls = {"simple_rnn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}[kind]
    layer = cls(3, dropout=0.4, recurrent_dropout=recurrent_dropout, return_sequences=True, seed=1, **extra)
    layer(x)
    weights = _randomize(layer, rng)
    # Inference ignores the rates: the same as the layer without dropout.
    plain = cls(3, return_sequences=True, **extra)
    plain(x)
    plain.set_weights(weights)
    np.testing.assert_allclose(layer(x, training=False).numpy(), plain(x).numpy(), rtol=1e-6, atol=1e-6)
    # In training, the masks the cell draws are applied as Keras's equations say.
    drawn = []
    original = layer.cell.dropout_masks

    def record(*args):
        masks = original(*args)
        drawn.append(masks)
        return masks

    layer.cell.dropout_masks = record
    got = layer(x, training=True).numpy()
    in_masks, rec_masks = ([m.numpy() for m in ms] if ms is not None else None for ms in drawn[0])
    n = {"simple_rnn": 1, "lstm": 4, "gru": 3}[kind] if recurrent_dropout else 1
    assert len(in_masks) == n and (rec_masks is None) == (recurrent_dropout == 0)
    h = np.zeros((2, 3), np.float32)
    c = np.zeros((2, 3), np.float32)
    want = []
    for t in range(4):
        h, c = np_masked_step(kind, x[:, t], h, c, weights, in_masks, rec_masks, reset_after)
        want.append(h)
    np.testing.assert_allclose(got, np.stack(want, axis=1), rtol=1e-5, atol=1e-5)
    assert not np.allclose(got, plain(x).numpy())


def test_dropout_masks_scale_kept_values_vary_per_call_and_hold_over_time():
    # Identity kernel, no recurrence, linear: every step's output is that step's input mask.
    layer = layers.SimpleRNN(200, activation=None, dropout=0.3, return_sequences=True, use_bias=False, seed=3)
    x = gt.constant(np.ones((4, 5, 200), np.float32))
    layer(x)
    layer.set_weights([np.eye(200, dtype=np.float32), np.zeros((200, 200), np.float32)])
    first = layer(x, training=True).numpy()
    np.testing.assert_allclose(first[first != 0], 1 / 0.7, rtol=1e-6)  # kept values scaled
    assert 0.25 < (first == 0).mean() < 0.35
    np.testing.assert_array_equal(first, np.broadcast_to(first[:, :1], first.shape))  # one mask per call
    assert not np.array_equal(first, layer(x, training=True).numpy())  # a new draw per call
    assert len(layer.weights) == 2  # the mask counter is state, not a weight (files match Keras's)


def test_fit_learns_with_dropout_and_recurrent_dropout():
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, (64, 6, 2)).astype(np.float32)
    y = x[:, :, :1].mean(axis=1)
    model = gt.keras.Sequential([
        gt.keras.Input((6, 2)), layers.GRU(8, dropout=0.1, recurrent_dropout=0.1, seed=1), layers.Dense(1),
    ])  # fmt: skip
    model.compile(optimizer=gt.keras.optimizers.Adam(0.02), loss="mse")
    losses = model.fit(x, y, batch_size=16, epochs=25, verbose=0, shuffle=False).history["loss"]
    assert losses[-1] < 0.5 * losses[0], losses
