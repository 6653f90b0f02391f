"""The code of the guide "Training & evaluation with the built-in methods"
(tensorflow.org/guide/keras/training_with_built_in_methods), as blocks run with ``tf``/``keras``
passed in (see _common.py). MNIST is replaced by small MNIST-shaped arrays; weights are set from
fixed arrays and ``fit`` gets ``shuffle=False`` where the guide's numbers are compared with
Keras's (then every loss and metric of every epoch is deterministic)."""

from __future__ import annotations

from tests.keras.guides._common import fixed_weights, mnist_like


def _data(np, n=512):
    (x_train, y_train), (x_test, y_test) = mnist_like(np, n)
    # Preprocess the data (these are NumPy arrays)
    x_train = x_train.reshape(len(x_train), 784).astype("float32") / 255
    x_test = x_test.reshape(len(x_test), 784).astype("float32") / 255
    y_train = y_train.astype("float32")
    y_test = y_test.astype("float32")
    # Reserve 64 samples for validation
    x_val = x_train[-64:]
    y_val = y_train[-64:]
    x_train = x_train[:-64]
    y_train = y_train[:-64]
    return x_train, y_train, x_val, y_val, x_test, y_test


def _get_uncompiled_model(keras, np, seed=30):
    layers = keras.layers
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    _small_fixed(np, model, seed)
    return model


def _small_fixed(np, model, seed):
    # Fixed weights of glorot-like scale (uniform +-0.5 would saturate 784-wide layers).
    rng = np.random.RandomState(seed)
    model.set_weights(
        [
            (rng.uniform(-1, 1, size=w.shape) * np.sqrt(3.0 / w.shape[0])).astype("float32")
            for w in model.get_weights()
        ]
    )


def _get_compiled_model(keras, np, seed=30):
    model = _get_uncompiled_model(keras, np, seed)
    model.compile(
        optimizer="rmsprop",
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    return model


def block_api_overview(tf, keras, np):
    x_train, y_train, x_val, y_val, x_test, y_test = _data(np)
    model = _get_uncompiled_model(keras, np)
    model.compile(
        optimizer=keras.optimizers.RMSprop(),  # Optimizer
        # Loss function to minimize
        loss=keras.losses.SparseCategoricalCrossentropy(),
        # List of metrics to monitor
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    history = model.fit(
        x_train,
        y_train,
        batch_size=64,
        epochs=2,
        # We pass some validation for
        # monitoring validation loss and metrics
        # at the end of each epoch
        validation_data=(x_val, y_val),
        shuffle=False,
        verbose=0,
    )
    # Evaluate the model on the test data using `evaluate`
    results = model.evaluate(x_test, y_test, batch_size=128, verbose=0)
    # Generate predictions (probabilities -- the output of the last layer)
    # on new data using `predict`
    predictions = model.predict(x_test[:3], verbose=0)
    return {
        "history": history.history,
        "results": results,
        "predictions_shape": list(predictions.shape),
        "predictions": predictions,
    }


def block_compile_strings(tf, keras, np):
    x_train, y_train, x_val, y_val, x_test, y_test = _data(np)
    model = _get_compiled_model(keras, np)
    return {
        "evaluate": model.evaluate(x_test, y_test, verbose=0),
        "evaluate_dict": model.evaluate(x_test, y_test, verbose=0, return_dict=True),
    }


def block_custom_losses(tf, keras, np):
    x_train, y_train, x_val, y_val, x_test, y_test = _data(np)

    def custom_mean_squared_error(y_true, y_pred):
        return tf.math.reduce_mean(tf.square(y_true - y_pred), axis=-1)

    model = _get_uncompiled_model(keras, np)
    model.compile(optimizer=keras.optimizers.Adam(), loss=custom_mean_squared_error)

    # We need to one-hot encode the labels to use MSE
    y_train_one_hot = tf.one_hot(y_train.astype("int32"), depth=10)
    h1 = model.fit(x_train, y_train_one_hot, batch_size=64, epochs=1, shuffle=False, verbose=0)

    class CustomMSE(keras.losses.Loss):
        def __init__(self, regularization_factor=0.1, name="custom_mse"):
            super().__init__(name=name)
            self.regularization_factor = regularization_factor

        def call(self, y_true, y_pred):
            mse = tf.math.reduce_mean(tf.square(y_true - y_pred), axis=-1)
            reg = tf.math.reduce_mean(tf.square(0.5 - y_pred), axis=-1)
            return mse + reg * self.regularization_factor

    model = _get_uncompiled_model(keras, np)
    model.compile(optimizer=keras.optimizers.Adam(), loss=CustomMSE())

    y_train_one_hot = tf.one_hot(y_train.astype("int32"), depth=10)
    h2 = model.fit(x_train, y_train_one_hot, batch_size=64, epochs=1, shuffle=False, verbose=0)
    return {"function": h1.history, "subclass": h2.history}


def block_custom_metrics(tf, keras, np):
    x_train, y_train, x_val, y_val, x_test, y_test = _data(np)

    class CategoricalTruePositives(keras.metrics.Metric):
        def __init__(self, name="categorical_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_weight(name="ctp", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_pred = tf.reshape(tf.argmax(y_pred, axis=1), shape=(-1, 1))
            values = tf.cast(tf.reshape(y_true, (-1, 1)), "int32") == tf.cast(y_pred, "int32")
            values = tf.cast(values, "float32")
            if sample_weight is not None:
                sample_weight = tf.cast(sample_weight, "float32")
                values = tf.multiply(values, sample_weight)
            self.true_positives.assign_add(tf.reduce_sum(values))

        def result(self):
            return self.true_positives

        def reset_state(self):
            # The state of the metric will be reset at the start of each epoch.
            self.true_positives.assign(0.0)

    model = _get_uncompiled_model(keras, np)
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[CategoricalTruePositives()],
    )
    history = model.fit(x_train, y_train, batch_size=64, epochs=3, shuffle=False, verbose=0)
    metric = CategoricalTruePositives()
    metric.update_state(np.array([1, 2, 0]), np.eye(3, dtype="float32")[[1, 0, 0]])
    standalone = float(metric.result())
    metric.reset_state()
    return {"history": history.history, "standalone": standalone, "after_reset": float(metric.result())}


def block_add_loss_layers(tf, keras, np):
    layers = keras.layers
    x_train, y_train, x_val, y_val, x_test, y_test = _data(np)

    class ActivityRegularizationLayer(layers.Layer):
        def call(self, inputs):
            self.add_loss(tf.reduce_sum(inputs) * 0.1)
            return inputs  # Pass-through layer.

    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)

    # Insert activity regularization as a layer
    x = ActivityRegularizationLayer()(x)

    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, name="predictions")(x)

    model = keras.Model(inputs=inputs, outputs=outputs)
    _small_fixed(np, model, 31)
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )

    # The displayed loss will be much higher than before
    # due to the regularization component.
    history = model.fit(x_train, y_train, batch_size=64, epochs=1, shuffle=False, verbose=0)
    return {"history": history.history}


def block_endpoint_layer(tf, keras, np):
    class LogisticEndpoint(keras.layers.Layer):
        def __init__(self, name=None):
            super().__init__(name=name)
            self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

        def call(self, targets, logits, sample_weights=None):
            # Compute the training-time loss value and add it
            # to the layer using `self.add_loss()`.
            loss = self.loss_fn(targets, logits, sample_weights)
            self.add_loss(loss)

            # Return the inference-time prediction tensor (for `.predict()`).
            return tf.nn.softmax(logits)

    inputs = keras.Input(shape=(3,), name="inputs")
    targets = keras.Input(shape=(10,), name="targets")
    logits = keras.layers.Dense(10)(inputs)
    predictions = LogisticEndpoint(name="predictions")(targets, logits)

    model = keras.Model(inputs=[inputs, targets], outputs=predictions)
    fixed_weights(np, model, 32)
    model.compile(optimizer="adam")  # No loss argument!

    rng = np.random.RandomState(0)
    data = {
        "inputs": rng.random_sample((3, 3)).astype("float32"),
        "targets": rng.random_sample((3, 10)).astype("float32"),
    }
    history = model.fit(data, verbose=0)
    return {"history": history.history}


def block_validation_split(tf, keras, np):
    x_train, y_train, x_val, y_val, x_test, y_test = _data(np)
    model = _get_compiled_model(keras, np)
    history = model.fit(
        x_train, y_train, batch_size=64, validation_split=0.2, epochs=1, shuffle=False, verbose=0
    )
    return {"history": history.history}


def block_tf_data(tf, keras, np):
    x_train, y_train, x_val, y_val, x_test, y_test = _data(np)
    model = _get_compiled_model(keras, np)

    # First, let's create a training Dataset instance.
    # For the sake of our example, we'll use the same MNIST data as before.
    train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train))
    # Shuffle and slice the dataset.
    train_dataset = train_dataset.shuffle(buffer_size=1024).batch(64)

    # Now we get a test dataset.
    test_dataset = tf.data.Dataset.from_tensor_slices((x_test, y_test))
    test_dataset = test_dataset.batch(64)

    # Since the dataset already takes care of batching,
    # we don't pass a `batch_size` argument.
    history = model.fit(train_dataset, epochs=3, verbose=0)

    # You can also evaluate or predict on a dataset.
    result = model.evaluate(test_dataset, verbose=0, return_dict=True)

    model = _get_compiled_model(keras, np)
    # Only use the 4 batches per epoch (that's 4 * 64 = 256 samples)
    h2 = model.fit(train_dataset.repeat(), epochs=3, steps_per_epoch=4, verbose=0)

    # Prepare the validation dataset
    val_dataset = tf.data.Dataset.from_tensor_slices((x_val, y_val))
    val_dataset = val_dataset.batch(64)
    model = _get_compiled_model(keras, np)
    h3 = model.fit(train_dataset, epochs=1, validation_data=val_dataset, verbose=0)
    return {
        "history_keys": sorted(history.history),
        "epochs": len(history.history["loss"]),
        "result_keys": sorted(result),
        "steps_history_epochs": len(h2.history["loss"]),
        "val_keys": sorted(h3.history),
        "_loss": history.history["loss"],
        "_accuracy": result["sparse_categorical_accuracy"],
    }


def block_class_and_sample_weights(tf, keras, np):
    x_train, y_train, x_val, y_val, x_test, y_test = _data(np)
    class_weight = {
        0: 1.0,
        1: 1.0,
        2: 1.0,
        3: 1.0,
        4: 1.0,
        # Set weight "2" for class "5",
        # making this class 2x more important
        5: 2.0,
        6: 1.0,
        7: 1.0,
        8: 1.0,
        9: 1.0,
    }
    model = _get_compiled_model(keras, np)
    h1 = model.fit(
        x_train, y_train, class_weight=class_weight, batch_size=64, epochs=1, shuffle=False, verbose=0
    )

    sample_weight = np.ones(shape=(len(y_train),))
    sample_weight[y_train == 5] = 2.0
    model = _get_compiled_model(keras, np)
    h2 = model.fit(
        x_train, y_train, sample_weight=sample_weight, batch_size=64, epochs=1, shuffle=False, verbose=0
    )

    # Create a Dataset that includes sample weights
    # (3rd element in the return tuple).
    train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train, sample_weight))
    train_dataset = train_dataset.batch(64)
    model = _get_compiled_model(keras, np)
    h3 = model.fit(train_dataset, epochs=1, verbose=0)
    return {"class_weight": h1.history, "sample_weight": h2.history, "dataset": h3.history}


def _multi_io_model(keras, np):
    layers = keras.layers
    image_input = keras.Input(shape=(32, 32, 3), name="img_input")
    timeseries_input = keras.Input(shape=(20, 10), name="ts_input")

    x1 = layers.Conv2D(3, 3)(image_input)
    x1 = layers.GlobalMaxPooling2D()(x1)

    x2 = layers.Conv1D(3, 3)(timeseries_input)
    x2 = layers.GlobalMaxPooling1D()(x2)

    x = layers.concatenate([x1, x2])

    score_output = layers.Dense(1, name="score_output")(x)
    class_output = layers.Dense(5, name="class_output")(x)

    model = keras.Model(inputs=[image_input, timeseries_input], outputs=[score_output, class_output])
    fixed_weights(np, model, 33)
    return model


def _multi_io_data(np):
    rng = np.random.RandomState(1)
    img_data = rng.random_sample(size=(100, 32, 32, 3)).astype("float32")
    ts_data = rng.random_sample(size=(100, 20, 10)).astype("float32")
    score_targets = rng.random_sample(size=(100, 1)).astype("float32")
    class_targets = rng.random_sample(size=(100, 5)).astype("float32")
    return img_data, ts_data, score_targets, class_targets


def block_multi_io(tf, keras, np):
    img_data, ts_data, score_targets, class_targets = _multi_io_data(np)
    out = {}

    model = _multi_io_model(keras, np)
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy()],
    )
    # Fit on lists
    out["lists"] = model.fit(
        [img_data, ts_data], [score_targets, class_targets], batch_size=32, epochs=1, shuffle=False, verbose=0
    ).history

    model = _multi_io_model(keras, np)
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={
            "score_output": keras.losses.MeanSquaredError(),
            "class_output": keras.losses.CategoricalCrossentropy(),
        },
        loss_weights={"score_output": 2.0, "class_output": 1.0},
    )
    # Alternatively, fit on dicts
    out["dicts_weighted"] = model.fit(
        {"img_input": img_data, "ts_input": ts_data},
        {"score_output": score_targets, "class_output": class_targets},
        batch_size=32,
        epochs=1,
        shuffle=False,
        verbose=0,
    ).history

    model = _multi_io_model(keras, np)
    # List loss version
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[None, keras.losses.CategoricalCrossentropy()],
    )
    out["none_loss"] = model.evaluate(
        [img_data, ts_data], [score_targets, class_targets], batch_size=32, verbose=0, return_dict=True
    )

    model = _multi_io_model(keras, np)
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy()],
        metrics=[
            [keras.metrics.MeanAbsolutePercentageError(), keras.metrics.MeanAbsoluteError()],
            [keras.metrics.CategoricalAccuracy()],
        ],
    )
    out["metrics"] = model.evaluate(
        [img_data, ts_data], [score_targets, class_targets], batch_size=32, verbose=0, return_dict=True
    )

    train_dataset = tf.data.Dataset.from_tensor_slices(
        (
            {"img_input": img_data, "ts_input": ts_data},
            {"score_output": score_targets, "class_output": class_targets},
        )
    )
    train_dataset = train_dataset.batch(64)
    model = _multi_io_model(keras, np)
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy()],
    )
    out["dataset"] = model.fit(train_dataset, epochs=1, verbose=0).history
    return out


def block_callbacks(tf, keras, np, path=None):
    import os
    import tempfile

    x_train, y_train, x_val, y_val, x_test, y_test = _data(np)
    model = _get_compiled_model(keras, np)

    callbacks = [
        keras.callbacks.EarlyStopping(
            # Stop training when `val_loss` is no longer improving
            monitor="val_loss",
            # "no longer improving" being defined as "no better than 1e-2 less"
            min_delta=1e-2,
            # "no longer improving" being further defined as "for at least 2 epochs"
            patience=2,
            verbose=0,
        )
    ]
    history = model.fit(
        x_train,
        y_train,
        epochs=20,
        batch_size=64,
        callbacks=callbacks,
        validation_split=0.2,
        shuffle=False,
        verbose=0,
    )

    class LossHistory(keras.callbacks.Callback):
        def on_train_begin(self, logs):
            self.per_batch_losses = []

        def on_batch_end(self, batch, logs):
            self.per_batch_losses.append(logs.get("loss"))

    model = _get_compiled_model(keras, np)
    loss_history = LossHistory()
    model.fit(x_train, y_train, epochs=2, batch_size=64, callbacks=[loss_history], shuffle=False, verbose=0)

    path = path or tempfile.mkdtemp()
    model = _get_compiled_model(keras, np)
    callbacks = [
        keras.callbacks.ModelCheckpoint(
            # Path where to save the model
            # The two parameters below mean that we will overwrite
            # the current checkpoint if and only if
            # the `val_loss` score has improved.
            # The saved model name will include the current epoch.
            filepath=os.path.join(path, "mymodel_{epoch}.keras"),
            save_best_only=True,  # Only save a model if `val_loss` has improved.
            monitor="val_loss",
            verbose=0,
        )
    ]
    model.fit(
        x_train,
        y_train,
        epochs=2,
        batch_size=64,
        callbacks=callbacks,
        validation_split=0.2,
        shuffle=False,
        verbose=0,
    )
    saved = sorted(f for f in os.listdir(path) if f.startswith("mymodel_"))

    initial_learning_rate = 0.1
    lr_schedule = keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate, decay_steps=100000, decay_rate=0.96, staircase=True
    )
    optimizer = keras.optimizers.RMSprop(learning_rate=lr_schedule)
    schedule_values = [float(lr_schedule(step)) for step in (0, 99999, 100000, 250000)]
    return {
        "early_stopping": history.history,
        "per_batch_losses": loss_history.per_batch_losses,
        "saved": saved,
        "schedule": schedule_values,
        "optimizer_lr": float(optimizer.learning_rate),
    }


def block_py_dataset(tf, keras, np):
    x_train, y_train, x_val, y_val, x_test, y_test = _data(np)

    class ExamplePyDataset(keras.utils.PyDataset):
        def __init__(self, x, y, batch_size, **kwargs):
            super().__init__(**kwargs)
            self.x = x
            self.y = y
            self.batch_size = batch_size

        def __len__(self):
            return int(np.ceil(len(self.x) / float(self.batch_size)))

        def __getitem__(self, idx):
            batch_x = self.x[idx * self.batch_size : (idx + 1) * self.batch_size]
            batch_y = self.y[idx * self.batch_size : (idx + 1) * self.batch_size]
            return batch_x, batch_y

    train_py_dataset = ExamplePyDataset(x_train, y_train, batch_size=32)
    val_py_dataset = ExamplePyDataset(x_val, y_val, batch_size=32)

    model = _get_compiled_model(keras, np)
    history = model.fit(
        train_py_dataset, batch_size=64, validation_data=val_py_dataset, epochs=1, shuffle=False, verbose=0
    )
    evaluated = model.evaluate(val_py_dataset, verbose=0)

    train_py_dataset = ExamplePyDataset(x_train, y_train, batch_size=32, workers=4)
    model = _get_compiled_model(keras, np)
    shuffled = model.fit(train_py_dataset, batch_size=64, validation_data=val_py_dataset, epochs=1, verbose=0)
    return {
        "history": history.history,
        "evaluate": evaluated,
        "workers": train_py_dataset.workers,
        "num_batches": train_py_dataset.num_batches,
        "shuffled_keys": sorted(shuffled.history),
    }


def block_on_batch_methods(tf, keras, np):
    """Not guide code: the single-batch methods the guides' readers use next to fit, with
    Keras 3's return values (a float, or a list/dict with the metrics)."""
    x_train, y_train, x_val, y_val, x_test, y_test = _data(np)
    model = _get_compiled_model(keras, np)
    trained = model.train_on_batch(x_train[:64], y_train[:64])
    trained_dict = model.train_on_batch(x_train[64:128], y_train[64:128], return_dict=True)
    tested = model.test_on_batch(x_test[:64], y_test[:64])
    predicted = model.predict_on_batch(x_test[:5])
    model = _get_uncompiled_model(keras, np)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    plain = model.test_on_batch(x_test[:64], y_test[:64])
    return {
        "train": trained,
        "train_dict": trained_dict,
        "test": tested,
        "predict": predicted,
        "predict_type": type(predicted).__name__,
        "plain_loss": plain,
        "plain_type": type(plain).__name__,
    }
