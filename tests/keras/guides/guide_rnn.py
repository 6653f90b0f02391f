"""The code of the guide "Working with RNNs" (TensorFlow version,
tensorflow.org/guide/keras/working_with_rnns), as blocks run with ``tf``/``keras`` passed in
(see _common.py). The guide's ``np.random`` arrays are drawn from seeded ``RandomState``s (and
made smaller), MNIST is replaced by small MNIST-shaped arrays, and weights are set from fixed
arrays, so the summaries, state handling and outputs are compared with Keras's. The cuDNN
timing notes are left out (they measure a GPU kernel choice, not a result); the equivalence of
``LSTM`` and ``RNN(LSTMCell)`` they rely on is kept."""

from __future__ import annotations

from tests.keras.guides._common import fixed_weights, mnist_like, summary_table


def block_built_in_rnn_layers(tf, keras, np):
    layers = keras.layers
    model = keras.Sequential()
    # Add an Embedding layer expecting input vocab of size 1000, and
    # output embedding dimension of size 64.
    model.add(layers.Embedding(input_dim=1000, output_dim=64))

    # Add a LSTM layer with 128 internal units.
    model.add(layers.LSTM(128))

    # Add a Dense layer with 10 units.
    model.add(layers.Dense(10))

    unbuilt = summary_table(model)
    model.build((None, None))
    fixed_weights(np, model, 1)
    x = np.random.RandomState(1).randint(0, 1000, size=(3, 7))
    return {"unbuilt": unbuilt, "summary": summary_table(model), "output": model(x)}


def block_outputs_and_states(tf, keras, np):
    layers = keras.layers
    model = keras.Sequential()
    model.add(layers.Embedding(input_dim=1000, output_dim=64))

    # The output of GRU will be a 3D tensor of shape (batch_size, timesteps, 256)
    model.add(layers.GRU(256, return_sequences=True))

    # The output of SimpleRNN will be a 2D tensor of shape (batch_size, 128)
    model.add(layers.SimpleRNN(128))

    model.add(layers.Dense(10))

    model.build((None, None))
    fixed_weights(np, model, 2)
    x = np.random.RandomState(2).randint(0, 1000, size=(3, 6))
    return {"summary": summary_table(model), "output": model(x)}


def block_return_state(tf, keras, np):
    layers = keras.layers
    encoder_vocab = 1000
    decoder_vocab = 2000

    encoder_input = layers.Input(shape=(None,))
    encoder_embedded = layers.Embedding(input_dim=encoder_vocab, output_dim=64)(encoder_input)

    # Return states in addition to output
    output, state_h, state_c = layers.LSTM(64, return_state=True, name="encoder")(encoder_embedded)
    encoder_state = [state_h, state_c]

    decoder_input = layers.Input(shape=(None,))
    decoder_embedded = layers.Embedding(input_dim=decoder_vocab, output_dim=64)(decoder_input)

    # Pass the 2 states to a new LSTM layer, as initial state
    decoder_output = layers.LSTM(64, name="decoder")(decoder_embedded, initial_state=encoder_state)
    output = layers.Dense(10)(decoder_output)

    model = keras.Model([encoder_input, decoder_input], output)
    fixed_weights(np, model, 3)
    rng = np.random.RandomState(3)
    enc = rng.randint(0, encoder_vocab, size=(2, 5))
    dec = rng.randint(0, decoder_vocab, size=(2, 4))
    return {
        "summary": summary_table(model),
        "state_shapes": [list(state_h.shape), list(state_c.shape)],
        "output": model([enc, dec]),
    }


def _paragraphs(np, seed=4):
    rng = np.random.RandomState(seed)
    paragraph1 = rng.random_sample((20, 10, 50)).astype(np.float32)
    paragraph2 = rng.random_sample((20, 10, 50)).astype(np.float32)
    paragraph3 = rng.random_sample((20, 10, 50)).astype(np.float32)
    return paragraph1, paragraph2, paragraph3


def block_cross_batch_statefulness(tf, keras, np):
    layers = keras.layers
    paragraph1, paragraph2, paragraph3 = _paragraphs(np)

    lstm_layer = layers.LSTM(64, stateful=True)
    lstm_layer.build((20, 10, 50))
    fixed_weights(np, lstm_layer, 4)
    output = lstm_layer(paragraph1)
    out1 = output
    output = lstm_layer(paragraph2)
    out2 = output
    output = lstm_layer(paragraph3)
    out3 = output
    states = [s.numpy() for s in lstm_layer.states]

    # reset_states() will reset the cached state to the original initial_state.
    # If no initial_state was provided, zero-states will be used by default.
    lstm_layer.reset_states()
    after_reset = [float(np.abs(s.numpy()).max()) for s in lstm_layer.states]
    again = lstm_layer(paragraph1)
    return {
        "outputs": [out1[:2], out2[:2], out3[:2]],
        "states": [s[:2] for s in states],
        "after_reset": after_reset,
        "again_equals_first": bool(np.allclose(again, out1)),
    }


def block_rnn_state_reuse(tf, keras, np):
    layers = keras.layers
    paragraph1, paragraph2, paragraph3 = _paragraphs(np, 5)

    lstm_layer = layers.LSTM(64, stateful=True)
    lstm_layer.build((20, 10, 50))
    fixed_weights(np, lstm_layer, 5)
    output = lstm_layer(paragraph1)
    output = lstm_layer(paragraph2)
    del output  # (the guide prints nothing of it)

    existing_state = lstm_layer.states

    new_lstm_layer = layers.LSTM(64)
    new_lstm_layer.build((None, 10, 50))
    new_lstm_layer.set_weights(lstm_layer.get_weights())
    new_output = new_lstm_layer(paragraph3, initial_state=existing_state)
    # The stateful layer continuing on paragraph3 computes the same.
    continued = lstm_layer(paragraph3)
    return {
        "new_output": new_output[:3],
        "same_as_continuing": bool(np.allclose(new_output, continued, atol=1e-6)),
    }


def block_bidirectional_rnns(tf, keras, np):
    layers = keras.layers
    model = keras.Sequential()

    model.add(layers.Input(shape=(5, 10)))
    model.add(layers.Bidirectional(layers.LSTM(64, return_sequences=True)))
    model.add(layers.Bidirectional(layers.LSTM(32)))
    model.add(layers.Dense(10))

    fixed_weights(np, model, 6)
    x = np.random.RandomState(6).random_sample((2, 5, 10)).astype("float32")
    return {"summary": summary_table(model), "output": model(x)}


def block_lstm_and_rnn_lstmcell_agree(tf, keras, np):
    # The guide's build_model(allow_cudnn_kernel=...) pair, trained for a few steps on
    # MNIST-shaped rows (each image as 28 time steps of 28 values).
    batch_size = 64
    # Each MNIST image batch is a tensor of shape (batch_size, 28, 28).
    # Each input sequence will be of size (28, 28) (height is treated like time).
    input_dim = 28

    units = 64
    output_size = 10  # labels are from 0 to 9

    # Build the RNN model
    def build_model(allow_cudnn_kernel=True):
        # CuDNN is only available at the layer level, and not at the cell level.
        # This means `LSTM(units)` will use the CuDNN kernel,
        # while RNN(LSTMCell(units)) will run on non-CuDNN kernel.
        if allow_cudnn_kernel:
            # The LSTM layer with default options uses CuDNN.
            lstm_layer = keras.layers.LSTM(units)
        else:
            # Wrapping a LSTMCell in a RNN layer will not use CuDNN.
            lstm_layer = keras.layers.RNN(keras.layers.LSTMCell(units))
        model = keras.models.Sequential(
            [
                keras.Input(shape=(None, input_dim)),
                lstm_layer,
                keras.layers.BatchNormalization(),
                keras.layers.Dense(output_size),
            ]
        )
        return model

    (x_train, y_train), (x_test, y_test) = mnist_like(np, 256)
    x_train, x_test = x_train.astype("float32") / 255.0, x_test.astype("float32") / 255.0
    sample, sample_label = x_test[0], y_test[0]

    model = build_model(allow_cudnn_kernel=True)
    rng = np.random.RandomState(7)
    model.set_weights(
        [(rng.uniform(-1, 1, size=w.shape) * 0.1).astype("float32") for w in model.get_weights()]
    )
    # BatchNormalization's own start (a negative moving variance would make inference NaN).
    model.layers[1].set_weights(
        [
            np.ones(units, "float32"),
            np.zeros(units, "float32"),
            np.zeros(units, "float32"),
            np.ones(units, "float32"),
        ]
    )
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer="sgd",
        metrics=["accuracy"],
    )
    history = model.fit(
        x_train,
        y_train,
        validation_data=(x_test, y_test),
        batch_size=batch_size,
        epochs=1,
        shuffle=False,
        verbose=0,
    )

    noncudnn_model = build_model(allow_cudnn_kernel=False)
    noncudnn_model.set_weights(model.get_weights())
    noncudnn_model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer="sgd",
        metrics=["accuracy"],
    )
    result = model.predict(tf.expand_dims(sample, 0), verbose=0)
    result_noncudnn = noncudnn_model.predict(tf.expand_dims(sample, 0), verbose=0)
    return {
        "history": history.history,
        "prediction": result,
        "same_prediction": bool(np.allclose(result, result_noncudnn, atol=1e-5)),
        "predicted_label": int(np.argmax(result, axis=1)[0]),
        "label": int(sample_label),
    }


# The guide's "RNNs with list/dict inputs, or nested inputs" cell takes two sequences and keeps
# a vector and a matrix state: Keras 3.15 on TensorFlow itself cannot run it (its RNN.build reads
# the inputs as one sequence shape; TensorShape or (rows, cols) state sizes fail in fit). The
# block below keeps the guide's NestedCell shape (two states, two kernels, tf.einsum) on one
# input sequence with two vector states, which Keras runs.
def _nested_cell(tf, keras):
    class NestedCell(keras.layers.Layer):
        def __init__(self, unit_1, unit_2, unit_3, **kwargs):
            self.unit_1 = unit_1
            self.unit_2 = unit_2
            self.unit_3 = unit_3
            self.state_size = [unit_1, unit_2 * unit_3]
            self.output_size = unit_1
            super().__init__(**kwargs)

        def build(self, input_shape):
            # expect input_shape to be (batch, i1)
            i1 = input_shape[-1]

            self.kernel_1 = self.add_weight(shape=(i1, self.unit_1), initializer="uniform", name="kernel_1")
            self.kernel_2_3 = self.add_weight(
                shape=(i1, self.unit_2 * self.unit_3),
                initializer="uniform",
                name="kernel_2_3",
            )

        def call(self, inputs, states):
            # inputs: (batch, input_1); states: [(batch, unit_1), (batch, unit_2 * unit_3)]
            s1, s2 = states

            output_1 = tf.matmul(inputs, self.kernel_1)
            output_2_3 = tf.einsum("bi,ik->bk", inputs, self.kernel_2_3)
            state_1 = s1 + output_1
            state_2_3 = s2 + output_2_3

            # The output reads both states, so training reaches every kernel.
            output = state_1 + tf.reduce_sum(state_2_3, axis=1, keepdims=True)
            new_states = (state_1, state_2_3)

            return output, new_states

        def get_config(self):
            return {"unit_1": self.unit_1, "unit_2": self.unit_2, "unit_3": self.unit_3}

    return NestedCell


def block_rnn_with_nested_states(tf, keras, np):
    unit_1 = 10
    unit_2 = 4
    unit_3 = 6
    i1 = 32

    batch_size = 16
    num_batches = 2
    timestep = 7

    cell = _nested_cell(tf, keras)(unit_1, unit_2, unit_3)
    # (Keras 3.15 cannot return nested states: RNN(cell, return_state=True) on this cell
    # gives one output; the states are checked through return_sequences below.)
    rnn = keras.layers.RNN(cell)

    input_1 = keras.Input((None, i1))
    output = rnn(input_1)

    model = keras.models.Model(input_1, output)
    rng = np.random.RandomState(8)
    model.set_weights(
        [(rng.uniform(-1, 1, size=w.shape) * 0.05).astype("float32") for w in model.get_weights()]
    )

    model.compile(optimizer="adam", loss="mse")

    rng = np.random.RandomState(9)
    input_1_data = rng.random_sample((batch_size * num_batches, timestep, i1)).astype("float32")
    target_1_data = rng.random_sample((batch_size * num_batches, unit_1)).astype("float32")

    history = model.fit(
        input_1_data, target_1_data, batch_size=batch_size, epochs=2, shuffle=False, verbose=0
    )
    sequences = keras.layers.RNN(cell, return_sequences=True)(input_1_data[:2])
    return {
        "output_shape": list(output.shape),
        "weight_shapes": [list(w.shape) for w in model.get_weights()],
        "history": history.history,
        "prediction": model.predict(input_1_data[:2], verbose=0),
        "sequences": sequences,
    }
