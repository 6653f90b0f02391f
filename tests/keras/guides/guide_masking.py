"""The code of the guide "Understanding masking & padding" (TensorFlow version,
tensorflow.org/guide/keras/understanding_masking_and_padding), as blocks run with
``tf``/``keras`` passed in (see _common.py). The guide's ``np.random`` inputs are drawn from a
seeded ``RandomState`` and weights are set from fixed arrays, so the masks and the outputs
the guide prints are compared with Keras's."""

from __future__ import annotations

from tests.keras.guides._common import fixed_weights


def _padded(keras):
    raw_inputs = [
        [711, 632, 71],
        [73, 8, 3215, 55, 927],
        [83, 91, 1, 645, 1253, 927],
    ]

    # By default, this will pad using 0s; it is configurable via the
    # "value" parameter.
    # Note that you could use "pre" padding (at the beginning) or
    # "post" padding (at the end).
    # We recommend using "post" padding when working with RNN layers
    # (in order to be able to use the
    # CuDNN implementation of the layers).
    return keras.utils.pad_sequences(raw_inputs, padding="post")


def block_padding_sequence_data(tf, keras, np):
    padded_inputs = _padded(keras)
    raw = [[1, 2, 3, 4], [5, 6]]
    return {
        "padded_inputs": padded_inputs,
        "dtype": str(padded_inputs.dtype),
        # The other arguments of pad_sequences.
        "pre": keras.utils.pad_sequences(raw),
        "maxlen_pre": keras.utils.pad_sequences(raw, maxlen=3),
        "maxlen_post": keras.utils.pad_sequences(raw, maxlen=3, truncating="post", padding="post"),
        "value": keras.utils.pad_sequences(raw, value=-1.0, dtype="float32"),
        "items": keras.utils.pad_sequences([[[1, 2]], [[3, 4], [5, 6]]]),
    }


def block_masking(tf, keras, np):
    layers = keras.layers
    padded_inputs = _padded(keras)
    embedding = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)
    masked_output = embedding(padded_inputs)
    fixed_weights(np, embedding)

    masking_layer = layers.Masking()
    # Simulate the embedding lookup by expanding the 2D input to 3D,
    # with embedding dimension of 10.
    unmasked_embedding = tf.cast(tf.tile(tf.expand_dims(padded_inputs, axis=-1), [1, 1, 10]), tf.float32)

    masked_embedding = masking_layer(unmasked_embedding)
    return {
        "embedding_mask": masked_output._keras_mask,
        "masking_mask": masked_embedding._keras_mask,
        "masking_output": masked_embedding,
    }


def block_mask_propagation_sequential(tf, keras, np):
    layers = keras.layers
    padded_inputs = _padded(keras)
    model = keras.Sequential(
        [
            layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True),
            layers.LSTM(32),
        ]
    )
    model.build((None, None))
    fixed_weights(np, model, 1)
    out = model(padded_inputs)
    # The masked steps are skipped: the padded sequence gives the unpadded one's output.
    alone = model(np.array([[711, 632, 71]]))
    return {"output": out, "first_unpadded": alone}


def block_mask_propagation_functional(tf, keras, np):
    layers = keras.layers
    padded_inputs = _padded(keras)
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(inputs)
    outputs = layers.LSTM(32)(x)

    model = keras.Model(inputs, outputs)
    fixed_weights(np, model, 1)
    return {"output": model(padded_inputs), "symbolic_mask_shape": list(x._keras_mask.shape)}


def block_passing_mask_tensors_directly(tf, keras, np):
    layers = keras.layers

    class MyLayer(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.embedding = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)
            self.lstm = layers.LSTM(32)

        def call(self, inputs):
            x = self.embedding(inputs)
            # Note that you could also prepare a `mask` tensor manually.
            # It only needs to be a boolean tensor
            # with the right shape, i.e. (batch_size, timesteps).
            mask = self.embedding.compute_mask(inputs)
            output = self.lstm(x, mask=mask)  # The layer will ignore the masked values
            return output

    layer = MyLayer()
    x = np.random.RandomState(2).random_sample((32, 10)) * 100
    x = x.astype("int32")
    x[:, 7:] = 0  # (padding, so that the mask masks something)
    layer(x)
    fixed_weights(np, layer, 2)
    out = layer(x)
    return {"shape": list(out.shape), "output": out[:4], "n_weights": len(layer.weights)}


def block_temporal_split(tf, keras, np):
    padded_inputs = _padded(keras)
    masked_embedding = keras.layers.Masking()(
        tf.cast(tf.tile(tf.expand_dims(padded_inputs, axis=-1), [1, 1, 10]), tf.float32)
    )

    class TemporalSplit(keras.layers.Layer):
        """Split the input tensor into 2 tensors along the time dimension."""

        def call(self, inputs):
            # Expect the input to be 3D and mask to be 2D, split the input tensor into 2
            # subtensors along the time axis (axis 1).
            return tf.split(inputs, 2, axis=1)

        def compute_mask(self, inputs, mask=None):
            # Also split the mask into 2 if it presents.
            if mask is None:
                return None
            return tf.split(mask, 2, axis=1)

    first_half, second_half = TemporalSplit()(masked_embedding)
    return {"first_half_mask": first_half._keras_mask, "second_half_mask": second_half._keras_mask}


def block_custom_embedding(tf, keras, np):
    class CustomEmbedding(keras.layers.Layer):
        def __init__(self, input_dim, output_dim, mask_zero=False, **kwargs):
            super().__init__(**kwargs)
            self.input_dim = input_dim
            self.output_dim = output_dim
            self.mask_zero = mask_zero

        def build(self, input_shape):
            self.embeddings = self.add_weight(
                shape=(self.input_dim, self.output_dim),
                initializer="random_normal",
                dtype="float32",
            )

        def call(self, inputs):
            inputs = tf.cast(inputs, "int32")
            return tf.nn.embedding_lookup(self.embeddings, inputs)

        def compute_mask(self, inputs, mask=None):
            if not self.mask_zero:
                return None
            return tf.not_equal(inputs, 0)

    layer = CustomEmbedding(10, 32, mask_zero=True)
    x = np.random.RandomState(3).random_sample((3, 10)) * 9
    x = x.astype("int32")

    y = layer(x)
    mask = layer.compute_mask(x)
    fixed_weights(np, layer, 3)
    y = layer(x)
    output_mask = getattr(y, "_keras_mask", None)
    return {"mask": mask, "output_mask": None if output_mask is None else output_mask, "output": y}


def block_opting_in_to_mask_propagation(tf, keras, np):
    layers = keras.layers

    class MyActivation(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            # Signal that the layer is safe for mask propagation
            self.supports_masking = True

        def call(self, inputs):
            return tf.nn.relu(inputs)

    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(inputs)
    x = MyActivation()(x)  # Will pass the mask along
    found = x._keras_mask
    outputs = layers.LSTM(32)(x)  # Will receive the mask

    model = keras.Model(inputs, outputs)
    fixed_weights(np, model, 4)
    data = np.random.RandomState(4).randint(0, 10, size=(32, 100))
    y = model(data)
    return {
        "mask_found": found is not None,
        "mask_shape": list(found.shape),
        "mask_dtype": str(found.dtype.name if hasattr(found.dtype, "name") else found.dtype),
        "output": y[:3],
    }


def block_layers_that_need_mask_information(tf, keras, np):
    layers = keras.layers

    class TemporalSoftmax(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs, mask=None):
            assert mask is not None
            broadcast_float_mask = tf.expand_dims(tf.cast(mask, "float32"), -1)
            inputs_exp = tf.exp(inputs) * broadcast_float_mask
            inputs_sum = tf.reduce_sum(inputs_exp * broadcast_float_mask, axis=-1, keepdims=True)
            return inputs_exp / inputs_sum

    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=10, output_dim=32, mask_zero=True)(inputs)
    x = layers.Dense(1)(x)
    outputs = TemporalSoftmax()(x)

    model = keras.Model(inputs, outputs)
    fixed_weights(np, model, 5)
    y = model(np.random.RandomState(5).randint(0, 10, size=(32, 100)))
    # Masked steps are 0 / 0 (NaN) in the guide's layer: compared as -1.
    return {"shape": list(y.shape), "output": np.nan_to_num(y[:2, :12].numpy(), nan=-1.0)}
