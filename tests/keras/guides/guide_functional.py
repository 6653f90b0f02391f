"""The code of the guide "The Functional API" (tensorflow.org/guide/keras/functional), as
blocks run with ``tf``/``keras`` passed in (see _common.py). MNIST and CIFAR-10 are replaced by
small fixed arrays; weights are set from fixed arrays where outputs print. The ticket model's
text inputs have a fixed length (the guide's are None long, which only changes the summary)."""

from __future__ import annotations

from tests.keras.guides._common import fixed_weights, mnist_like, summary_table


def block_introduction(tf, keras, np):
    layers = keras.layers
    inputs = keras.Input(shape=(784,))
    # Just for demonstration purposes.
    img_inputs = keras.Input(shape=(32, 32, 3))
    dense = layers.Dense(64, activation="relu")
    x = dense(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
    return {
        "inputs_shape": list(inputs.shape),
        "inputs_dtype": str(inputs.dtype),
        "img_shape": list(img_inputs.shape),
        "summary": summary_table(model),
        "name": model.name,
    }


def block_training(tf, keras, np):
    """Training, evaluation and inference: the guide's code on MNIST-like arrays; returns the
    history keys (the losses are random: checked by the test)."""
    layers = keras.layers
    inputs = keras.Input(shape=(784,))
    x = layers.Dense(64, activation="relu")(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")

    (x_train, y_train), (x_test, y_test) = mnist_like(np)
    x_train = x_train.reshape(768, 784).astype("float32") / 255
    x_test = x_test.reshape(256, 784).astype("float32") / 255

    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.RMSprop(),
        metrics=["accuracy"],
    )
    initial = model.evaluate(x_test, y_test, verbose=0)
    history = model.fit(x_train, y_train, batch_size=64, epochs=2, validation_split=0.2, verbose=0)
    test_scores = model.evaluate(x_test, y_test, verbose=0)
    return {
        "_initial": initial,
        "history_keys": sorted(history.history),
        "epochs": len(history.history["loss"]),
        "_test_scores": test_scores,
        "_history": history.history,
    }


def block_save_and_load(tf, keras, np, path=None):
    layers = keras.layers
    inputs = keras.Input(shape=(784,))
    x = layers.Dense(64, activation="relu")(inputs)
    outputs = layers.Dense(10)(x)
    model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
    fixed_weights(np, model, 5)
    model.compile(loss="mse", optimizer="rmsprop")
    x = np.linspace(0, 1, 2 * 784, dtype="float32").reshape(2, 784)
    before = model.predict(x, verbose=0)
    if path is None:
        import tempfile

        path = tempfile.mkdtemp()
    import os

    model.save(os.path.join(path, "path_to_my_model.keras"))
    del model
    # Recreate the exact same model purely from the file:
    model = keras.models.load_model(os.path.join(path, "path_to_my_model.keras"))
    return {"before": before, "after": model.predict(x, verbose=0), "name": model.name}


def block_same_graph_several_models(tf, keras, np):
    layers = keras.layers
    encoder_input = keras.Input(shape=(28, 28, 1), name="img")
    x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    encoder_output = layers.GlobalMaxPooling2D()(x)

    encoder = keras.Model(encoder_input, encoder_output, name="encoder")
    encoder_summary = summary_table(encoder)

    x = layers.Reshape((4, 4, 1))(encoder_output)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
    x = layers.UpSampling2D(3)(x)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)

    autoencoder = keras.Model(encoder_input, decoder_output, name="autoencoder")
    fixed_weights(np, autoencoder, 6)
    img = np.linspace(0, 1, 784, dtype="float32").reshape(1, 28, 28, 1)
    out = autoencoder(img).numpy()
    return {
        "encoder": encoder_summary,
        "autoencoder": summary_table(autoencoder),
        "out_sum": float(out.sum()),
        "out_row": out[0, 10, :8, 0],
    }


def block_models_are_callable(tf, keras, np):
    layers = keras.layers
    encoder_input = keras.Input(shape=(28, 28, 1), name="original_img")
    x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    encoder_output = layers.GlobalMaxPooling2D()(x)

    encoder = keras.Model(encoder_input, encoder_output, name="encoder")

    decoder_input = keras.Input(shape=(16,), name="encoded_img")
    x = layers.Reshape((4, 4, 1))(decoder_input)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
    x = layers.UpSampling2D(3)(x)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)

    decoder = keras.Model(decoder_input, decoder_output, name="decoder")

    autoencoder_input = keras.Input(shape=(28, 28, 1), name="img")
    encoded_img = encoder(autoencoder_input)
    decoded_img = decoder(encoded_img)
    autoencoder = keras.Model(autoencoder_input, decoded_img, name="autoencoder")
    fixed_weights(np, autoencoder, 7)
    img = np.linspace(0, 1, 784, dtype="float32").reshape(1, 28, 28, 1)
    out = autoencoder(img).numpy()
    return {
        "decoder": summary_table(decoder),
        "autoencoder": summary_table(autoencoder),
        "out_sum": float(out.sum()),
    }


def block_ensembling(tf, keras, np):
    layers = keras.layers

    def get_model():
        inputs = keras.Input(shape=(128,))
        outputs = layers.Dense(1)(inputs)
        return keras.Model(inputs, outputs)

    model1 = get_model()
    model2 = get_model()
    model3 = get_model()

    inputs = keras.Input(shape=(128,))
    y1 = model1(inputs)
    y2 = model2(inputs)
    y3 = model3(inputs)
    outputs = layers.average([y1, y2, y3])
    ensemble_model = keras.Model(inputs=inputs, outputs=outputs)
    fixed_weights(np, ensemble_model, 8)
    x = np.linspace(-1, 1, 2 * 128, dtype="float32").reshape(2, 128)
    return {
        "out": ensemble_model(x).numpy(),
        "summary": summary_table(ensemble_model),
        "n_weights": len(ensemble_model.weights),
    }


def block_toy_resnet(tf, keras, np):
    layers = keras.layers
    inputs = keras.Input(shape=(32, 32, 3), name="img")
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    block_1_output = layers.MaxPooling2D(3)(x)

    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])

    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_2_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_3_output = layers.add([x, block_2_output])

    x = layers.Conv2D(64, 3, activation="relu")(block_3_output)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10)(x)

    model = keras.Model(inputs, outputs, name="toy_resnet")
    table = summary_table(model)
    fixed_weights(np, model, 9)
    img = np.linspace(0, 1, 2 * 32 * 32 * 3, dtype="float32").reshape(2, 32, 32, 3)
    out = model(img, training=False).numpy()

    # Train it (CIFAR-10 replaced by 96 fixed random images, one epoch).
    rng = np.random.RandomState(0)
    x_train = rng.uniform(0, 255, size=(96, 32, 32, 3)).astype("float32") / 255.0
    y_train = keras.utils.to_categorical(rng.randint(0, 10, size=(96, 1)), 10)
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
        metrics=["acc"],
    )
    history = model.fit(x_train, y_train, batch_size=64, epochs=1, validation_split=0.2, verbose=0)
    return {
        "summary": table,
        "out": out,
        "y_train_shape": list(y_train.shape),
        "history_keys": sorted(history.history),
    }


def block_shared_layers(tf, keras, np):
    layers = keras.layers
    # Embedding for 1000 unique words mapped to 128-dimensional vectors
    shared_embedding = layers.Embedding(1000, 128)

    # Variable-length sequence of integers
    text_input_a = keras.Input(shape=(None,), dtype="int32")

    # Variable-length sequence of integers
    text_input_b = keras.Input(shape=(None,), dtype="int32")

    # Reuse the same layer to encode both inputs
    encoded_input_a = shared_embedding(text_input_a)
    encoded_input_b = shared_embedding(text_input_b)
    model = keras.Model([text_input_a, text_input_b], [encoded_input_a, encoded_input_b])
    fixed_weights(np, model, 10)
    a, b = model([np.array([[1, 2, 3]]), np.array([[3, 2, 1, 0]])])
    return {
        "shapes": [list(encoded_input_a.shape), list(encoded_input_b.shape)],
        "same_rows": bool(np.allclose(a.numpy()[0, 0], b.numpy()[0, 2])),
        "n_weights": len(model.weights),
        "out_shapes": [list(a.shape), list(b.shape)],
    }


def block_custom_layer_config(tf, keras, np):
    layers = keras.layers

    class CustomDense(layers.Layer):
        def __init__(self, units=32):
            super().__init__()
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(input_shape[-1], self.units),
                initializer="random_normal",
                trainable=True,
            )
            self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

        def call(self, inputs):
            return tf.matmul(inputs, self.w) + self.b

        def get_config(self):
            return {"units": self.units}

    inputs = keras.Input((4,))
    outputs = CustomDense(10)(inputs)

    model = keras.Model(inputs, outputs)
    config = model.get_config()
    # (read before from_config: Keras's from_config consumes the dict's entries)
    layer_config = config["layers"][1]["config"]
    class_names = [entry["class_name"] for entry in config["layers"]]

    new_model = keras.Model.from_config(config, custom_objects={"CustomDense": CustomDense})
    fixed_weights(np, new_model, 11)
    x = np.linspace(-1, 1, 8, dtype="float32").reshape(2, 4)
    return {
        "layer_config": layer_config,
        "class_names": class_names,
        "out": new_model(x).numpy(),
        "summary": summary_table(new_model)["totals"],
    }


def block_mix_subclassed_and_functional(tf, keras, np):
    layers = keras.layers
    units = 32

    class CustomModel(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(units)
            self.classifier = layers.Dense(1)

        def call(self, inputs):
            return self.classifier(tf.nn.relu(self.dense(inputs)))

    inputs = keras.Input((5,))
    x = layers.Dense(units)(inputs)
    outputs = CustomModel()(x)
    model = keras.Model(inputs, outputs)
    fixed_weights(np, model, 12)
    x = np.linspace(-1, 1, 10, dtype="float32").reshape(2, 5)
    return {"out": model(x).numpy(), "n_weights": len(model.weights)}


def block_multiple_inputs_and_outputs(tf, keras, np):
    """The guide's ticket-ranking model (LSTM text encoders, dict outputs and dict losses).

    The dummy word ids are drawn without repeats: Keras's RMSprop squares an embedding's
    sparse gradient (tf.IndexedSlices) per looked-up row before summing repeated ids, gputensor
    squares the summed dense gradient, so batches with a repeated id drift apart slowly."""
    layers = keras.layers
    num_tags = 12  # Number of unique issue tags
    num_words = 10000  # Size of vocabulary obtained when preprocessing text data
    num_departments = 4  # Number of departments for predictions

    title_input = keras.Input(shape=(10,), name="title")  # Sequence of ints (the guide: None long)
    body_input = keras.Input(shape=(20,), name="body")  # Sequence of ints (the guide: None long)
    tags_input = keras.Input(shape=(num_tags,), name="tags")  # Binary vectors of size `num_tags`

    # Embed each word in the title into a 64-dimensional vector
    title_features = layers.Embedding(num_words, 8)(title_input)
    # Embed each word in the text into a 64-dimensional vector
    body_features = layers.Embedding(num_words, 8)(body_input)

    # Reduce sequence of embedded words in the title into a single 128-dimensional vector
    title_features = layers.LSTM(128)(title_features)
    # Reduce sequence of embedded words in the body into a single 32-dimensional vector
    body_features = layers.LSTM(32)(body_features)

    # Merge all available features into a single large vector via concatenation
    x = layers.concatenate([title_features, body_features, tags_input])

    # Stick a logistic regression for priority prediction on top of the features
    priority_pred = layers.Dense(1, name="priority")(x)
    # Stick a department classifier on top of the features
    department_pred = layers.Dense(num_departments, name="department")(x)

    # Instantiate an end-to-end model predicting both priority and department
    model = keras.Model(
        inputs=[title_input, body_input, tags_input],
        outputs={"priority": priority_pred, "department": department_pred},
    )
    fixed_weights(np, model, 13)
    table = summary_table(model)

    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={
            "priority": keras.losses.BinaryCrossentropy(from_logits=True),
            "department": keras.losses.CategoricalCrossentropy(from_logits=True),
        },
        loss_weights={"priority": 1.0, "department": 0.2},
    )

    # Dummy input data
    rng = np.random.RandomState(2)
    title_data = rng.permutation(num_words)[: 128 * 10].reshape(128, 10)
    body_data = rng.permutation(num_words)[: 128 * 20].reshape(128, 20)
    tags_data = rng.randint(2, size=(128, num_tags)).astype("float32")

    # Dummy target data
    priority_targets = rng.random_sample(size=(128, 1)).astype("float32")
    dept_targets = rng.randint(2, size=(128, num_departments)).astype("float32")

    history = model.fit(
        {"title": title_data, "body": body_data, "tags": tags_data},
        {"priority": priority_targets, "department": dept_targets},
        epochs=2,
        batch_size=32,
        shuffle=False,
        verbose=0,
    )
    out = model.predict({"title": title_data[:2], "body": body_data[:2], "tags": tags_data[:2]}, verbose=0)
    return {
        "summary": table,
        "history": history.history,
        "output_keys": sorted(out),
        "priority": out["priority"],
    }


def block_rnn_mix_and_match(tf, keras, np):
    """ "Mix-and-match API styles": a subclassed RNN layer around a functional model, then a
    functional model around a custom RNN layer with a fixed batch shape."""
    layers = keras.layers
    units = 32
    timesteps = 10
    input_dim = 5

    # Define a Functional model
    inputs = keras.Input((None, units))
    x = layers.GlobalAveragePooling1D()(inputs)
    outputs = layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)

    class CustomRNN(layers.Layer):
        def __init__(self):
            super().__init__()
            self.units = units
            self.projection_1 = layers.Dense(units=units, activation="tanh")
            self.projection_2 = layers.Dense(units=units, activation="tanh")
            # Our previously-defined Functional model
            self.classifier = model

        def call(self, inputs):
            outputs = []
            state = tf.zeros(shape=(inputs.shape[0], self.units))
            for t in range(inputs.shape[1]):
                x = inputs[:, t, :]
                h = self.projection_1(x)
                y = h + self.projection_2(state)
                state = y
                outputs.append(y)
            features = tf.stack(outputs, axis=1)
            return self.classifier(features)

    rnn_model = CustomRNN()
    x = np.linspace(-1, 1, timesteps * input_dim * 2, dtype="float32").reshape(2, timesteps, input_dim)
    _ = rnn_model(tf.zeros((1, timesteps, input_dim)))
    fixed_weights(np, rnn_model, 21)
    first = rnn_model(x).numpy()

    batch_size = 16

    class CustomRNN2(layers.Layer):
        def __init__(self):
            super().__init__()
            self.units = units
            self.projection_1 = layers.Dense(units=units, activation="tanh")
            self.projection_2 = layers.Dense(units=units, activation="tanh")
            self.classifier = layers.Dense(1)

        def call(self, inputs):
            outputs = []
            state = tf.zeros(shape=(inputs.shape[0], self.units))
            for t in range(inputs.shape[1]):
                x = inputs[:, t, :]
                h = self.projection_1(x)
                y = h + self.projection_2(state)
                state = y
                outputs.append(y)
            features = tf.stack(outputs, axis=1)
            return self.classifier(features)

    # Note that you specify a static batch size for the inputs with the `batch_shape`
    # arg, because the inner computation of `CustomRNN` requires a static batch size
    # (when you create the `state` zeros tensor).
    inputs = keras.Input(batch_shape=(batch_size, timesteps, input_dim))
    x = layers.Conv1D(32, 3)(inputs)
    outputs = CustomRNN2()(x)

    model = keras.Model(inputs, outputs)

    rnn_model = CustomRNN2()
    _ = rnn_model(tf.zeros((1, 10, 5)))
    fixed_weights(np, model, 22)
    batch = np.linspace(-1, 1, batch_size * timesteps * input_dim, dtype="float32")
    second = model(batch.reshape(batch_size, timesteps, input_dim)).numpy()
    return {"first": first, "second_shape": list(second.shape), "second": second[:3]}
