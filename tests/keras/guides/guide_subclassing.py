"""The code of the guide "Making new layers and models via subclassing"
(tensorflow.org/guide/keras/making_new_layers_and_models_via_subclassing), as blocks run with
``tf``/``keras`` passed in (see _common.py). Weights drawn by initializers are replaced by fixed
arrays before printing; MNIST is replaced by fixed random arrays for the VAE."""

from __future__ import annotations

from tests.keras.guides._common import fixed_weights


def block_linear_layer(tf, keras, np):
    class Linear(keras.layers.Layer):
        def __init__(self, units=32, input_dim=32):
            super().__init__()
            self.w = self.add_weight(
                shape=(input_dim, units),
                initializer="random_normal",
                trainable=True,
            )
            self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

        def call(self, inputs):
            return tf.matmul(inputs, self.w) + self.b

    x = tf.ones((2, 2))
    linear_layer = Linear(4, 2)
    y = linear_layer(x)
    shape = list(y.shape)
    fixed_weights(np, linear_layer, 20)
    y = linear_layer(x)
    assert linear_layer.weights == [linear_layer.w, linear_layer.b]
    return {"shape": shape, "y": y.numpy(), "n_weights": len(linear_layer.weights)}


def block_non_trainable_weights(tf, keras, np):
    class ComputeSum(keras.layers.Layer):
        def __init__(self, input_dim):
            super().__init__()
            self.total = self.add_weight(initializer="zeros", shape=(input_dim,), trainable=False)

        def call(self, inputs):
            self.total.assign_add(tf.reduce_sum(inputs, axis=0))
            return self.total

    x = tf.ones((2, 2))
    my_sum = ComputeSum(2)
    y = my_sum(x)
    first = y.numpy().copy()
    y = my_sum(x)
    return {
        "first": first,
        "second": y.numpy(),
        "weights": len(my_sum.weights),
        "non-trainable weights": len(my_sum.non_trainable_weights),
        "trainable_weights": len(my_sum.trainable_weights),
    }


def block_deferred_build_and_nesting(tf, keras, np):
    class Linear(keras.layers.Layer):
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

    # At instantiation, we don't know on what inputs this is going to get called
    linear_layer = Linear(32)
    built_before = linear_layer.built

    # The layer's weights are created dynamically the first time the layer is called
    x = tf.ones((2, 2))
    y = linear_layer(x)

    class MLPBlock(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.linear_1 = Linear(32)
            self.linear_2 = Linear(32)
            self.linear_3 = Linear(1)

        def call(self, inputs):
            x = self.linear_1(inputs)
            x = tf.nn.relu(x)
            x = self.linear_2(x)
            x = tf.nn.relu(x)
            return self.linear_3(x)

    mlp = MLPBlock()
    y = mlp(tf.ones(shape=(3, 64)))  # The first call to the `mlp` will create the weights
    weight_shapes = [list(w.shape) for w in mlp.weights]
    fixed_weights(np, mlp, 21)
    out = mlp(tf.ones(shape=(3, 64)))
    return {
        "built_before": built_before,
        "y_shape": list(y.shape),
        "weights": len(mlp.weights),
        "trainable weights": len(mlp.trainable_weights),
        "weight_shapes": weight_shapes,
        "out": out.numpy(),
    }


class _Regularizers:
    """The guide's add_loss layers (built per call so that tf/keras can vary)."""

    @staticmethod
    def make(tf, keras):
        class ActivityRegularizationLayer(keras.layers.Layer):
            def __init__(self, rate=1e-2):
                super().__init__()
                self.rate = rate

            def call(self, inputs):
                self.add_loss(self.rate * tf.reduce_sum(inputs))
                return inputs

        class OuterLayer(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.activity_reg = ActivityRegularizationLayer(1e-2)

            def call(self, inputs):
                return self.activity_reg(inputs)

        return ActivityRegularizationLayer, OuterLayer


def block_add_loss(tf, keras, np):
    ActivityRegularizationLayer, OuterLayer = _Regularizers.make(tf, keras)  # noqa: N806
    layer = OuterLayer()
    assert len(layer.losses) == 0  # No losses yet since the layer has never been called

    _ = layer(tf.zeros((1, 1)))
    assert len(layer.losses) == 1  # We created one loss value

    # `layer.losses` gets reset at the start of each __call__
    _ = layer(tf.ones((2, 3)))
    assert len(layer.losses) == 1  # This is the loss created during the call above
    value = float(layer.losses[0])

    class OuterLayerWithKernelRegularizer(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(32, kernel_regularizer=keras.regularizers.l2(1e-3))

        def call(self, inputs):
            return self.dense(inputs)

    layer = OuterLayerWithKernelRegularizer()
    _ = layer(tf.zeros((1, 1)))
    fixed_weights(np, layer, 22)
    # This is `1e-3 * sum(layer.dense.kernel ** 2)`, created by the `kernel_regularizer` above.
    losses = [float(v) for v in layer.losses]
    return {"activity_loss": value, "kernel_losses": losses}


def block_add_loss_in_training(tf, keras, np):
    ActivityRegularizationLayer, _ = _Regularizers.make(tf, keras)  # noqa: N806
    layers = keras.layers
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3), ActivityRegularizationLayer(1e-2)])
    fixed_weights(np, model, 23)
    rng = np.random.RandomState(0)
    x_batch_train = rng.uniform(size=(8, 4)).astype("float32")
    y_batch_train = rng.randint(0, 3, size=(8,))
    optimizer = keras.optimizers.SGD(learning_rate=1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    losses = []
    for _ in range(3):
        with tf.GradientTape() as tape:
            logits = model(x_batch_train)  # Logits for this minibatch
            # Loss value for this minibatch
            loss_value = loss_fn(y_batch_train, logits)
            # Add extra losses created during this forward pass:
            loss_value += sum(model.losses)
        grads = tape.gradient(loss_value, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        losses.append(float(loss_value))
    return {"losses": losses, "kernel": model.get_weights()[0]}


def block_add_loss_with_fit(tf, keras, np):
    ActivityRegularizationLayer, _ = _Regularizers.make(tf, keras)  # noqa: N806
    inputs = keras.Input(shape=(3,))
    outputs = ActivityRegularizationLayer()(inputs)
    model = keras.Model(inputs, outputs)

    # If there is a loss passed in `compile`, the regularization
    # losses get added to it
    model.compile(optimizer="adam", loss="mse")
    x = np.linspace(0, 1, 6, dtype="float32").reshape(2, 3)
    y = np.linspace(1, 0, 6, dtype="float32").reshape(2, 3)
    h1 = model.fit(x, y, verbose=0)

    # It's also possible not to pass any loss in `compile`,
    # since the model already has a loss to minimize, via the `add_loss`
    # call during the forward pass!
    model.compile(optimizer="adam")
    h2 = model.fit(x, y, verbose=0)

    # A model compiled only ever without a loss trains on its add_loss losses alone.
    inputs = keras.Input(shape=(3,))
    model = keras.Model(inputs, ActivityRegularizationLayer()(inputs))
    model.compile(optimizer="adam")
    h3 = model.fit(x, y, verbose=0)
    return {
        "with_loss": h1.history["loss"],
        # Keras 3 keeps the first compile's mse when compile() gets no loss (gputensor too).
        "without_loss": h2.history["loss"],
        "add_loss_only": h3.history["loss"],
    }


def block_serialization(tf, keras, np):
    class Linear(keras.layers.Layer):
        def __init__(self, units=32):
            super().__init__()
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True
            )
            self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

        def call(self, inputs):
            return tf.matmul(inputs, self.w) + self.b

        def get_config(self):
            return {"units": self.units}

    # Now you can recreate the layer from its config:
    layer = Linear(64)
    config = layer.get_config()
    new_layer = Linear.from_config(config)

    class Linear2(keras.layers.Layer):
        def __init__(self, units=32, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True
            )

        def call(self, inputs):
            return tf.matmul(inputs, self.w)

        def get_config(self):
            config = super().get_config()
            config.update({"units": self.units})
            return config

    layer = Linear2(64, name="linear")
    config2 = layer.get_config()
    new_layer2 = Linear2.from_config(config2)
    return {
        "config": config,
        "units": new_layer.units,
        "config2": {k: config2[k] for k in ("name", "trainable", "units")},
        "new_name": new_layer2.name,
        "new_units": new_layer2.units,
    }


def block_training_argument(tf, keras, np):
    class CustomDropout(keras.layers.Layer):
        def __init__(self, rate, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate

        def call(self, inputs, training=None):
            if training:
                return tf.nn.dropout(inputs, rate=self.rate)
            return inputs

    layer = CustomDropout(0.5)
    x = tf.ones((4, 1000))
    inference = layer(x, training=False).numpy()
    train = layer(x, training=True).numpy()
    model = keras.Sequential([keras.Input((1000,)), CustomDropout(0.5)])
    nested = model(x, training=True).numpy()
    return {
        "inference_equal": bool(np.all(inference == 1.0)),
        "train_values": sorted({float(v) for v in np.unique(train)}),
        "train_kept_fraction_ok": bool(0.4 < float(np.mean(train > 0)) < 0.6),
        "nested_values": sorted({float(v) for v in np.unique(nested)}),
        "default_is_inference": bool(np.all(layer(x).numpy() == 1.0)),
    }


def block_vae(tf, keras, np):
    layers = keras.layers

    class Sampling(layers.Layer):
        """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

        def call(self, inputs):
            z_mean, z_log_var = inputs
            batch = tf.shape(z_mean)[0]
            dim = tf.shape(z_mean)[1]
            epsilon = tf.random.normal(shape=(batch, dim))
            return z_mean + tf.exp(0.5 * z_log_var) * epsilon

    class Encoder(layers.Layer):
        """Maps MNIST digits to a triplet (z_mean, z_log_var, z)."""

        def __init__(self, latent_dim=32, intermediate_dim=64, name="encoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
            self.dense_mean = layers.Dense(latent_dim)
            self.dense_log_var = layers.Dense(latent_dim)
            self.sampling = Sampling()

        def call(self, inputs):
            x = self.dense_proj(inputs)
            z_mean = self.dense_mean(x)
            z_log_var = self.dense_log_var(x)
            z = self.sampling((z_mean, z_log_var))
            return z_mean, z_log_var, z

    class Decoder(layers.Layer):
        """Converts z, the encoded digit vector, back into a readable digit."""

        def __init__(self, original_dim, intermediate_dim=64, name="decoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
            self.dense_output = layers.Dense(original_dim, activation="sigmoid")

        def call(self, inputs):
            x = self.dense_proj(inputs)
            return self.dense_output(x)

    class VariationalAutoEncoder(keras.Model):
        """Combines the encoder and decoder into an end-to-end model for training."""

        def __init__(self, original_dim, intermediate_dim=64, latent_dim=32, name="autoencoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.original_dim = original_dim
            self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
            self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

        def call(self, inputs):
            z_mean, z_log_var, z = self.encoder(inputs)
            reconstructed = self.decoder(z)
            # Add KL divergence regularization loss.
            kl_loss = -0.5 * tf.reduce_mean(z_log_var - tf.square(z_mean) - tf.exp(z_log_var) + 1)
            self.add_loss(kl_loss)
            return reconstructed

    original_dim = 784
    vae = VariationalAutoEncoder(original_dim, 64, 32)

    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    mse_loss_fn = keras.losses.MeanSquaredError()

    loss_metric = keras.metrics.Mean()

    rng = np.random.RandomState(0)
    x_train = (rng.uniform(size=(256, 784)) > 0.7).astype("float32")

    train_dataset = tf.data.Dataset.from_tensor_slices(x_train)
    train_dataset = train_dataset.shuffle(buffer_size=1024).batch(64)

    epochs = 2

    # Iterate over epochs.
    means = []
    for epoch in range(epochs):
        # Iterate over the batches of the dataset.
        for step, x_batch_train in enumerate(train_dataset):
            with tf.GradientTape() as tape:
                reconstructed = vae(x_batch_train)
                # Compute reconstruction loss
                loss = mse_loss_fn(x_batch_train, reconstructed)
                loss += sum(vae.losses)  # Add KLD regularization loss

            grads = tape.gradient(loss, vae.trainable_weights)
            optimizer.apply_gradients(zip(grads, vae.trainable_weights))

            loss_metric(loss)
            means.append(float(loss_metric.result()))

    vae = VariationalAutoEncoder(784, 64, 32)
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    vae.compile(optimizer, loss=keras.losses.MeanSquaredError())
    history = vae.fit(x_train, x_train, epochs=2, batch_size=64, verbose=0)
    return {
        "weights": len(vae.weights),
        "weight_shapes": [list(w.shape) for w in vae.weights],
        "history_keys": sorted(history.history),
        "_means": means,
        "_fit_loss": history.history["loss"],
    }


def block_keras3_ops_layers(tf, keras, np):
    """The Keras 3 edition of the guide (keras.io) writes the same layers with ``keras.ops``
    and draws dropout masks from a ``keras.random.SeedGenerator``."""
    ops = keras.ops

    class Linear(keras.layers.Layer):
        def __init__(self, units=32, input_dim=32):
            super().__init__()
            self.w = self.add_weight(shape=(input_dim, units), initializer="random_normal", trainable=True)
            self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b

    x = ops.ones((2, 2))
    linear_layer = Linear(4, 2)
    fixed_weights(np, linear_layer, 24)
    y = linear_layer(x)

    class ComputeSum(keras.layers.Layer):
        def __init__(self, input_dim):
            super().__init__()
            self.total = self.add_weight(initializer="zeros", shape=(input_dim,), trainable=False)

        def call(self, inputs):
            self.total.assign_add(ops.sum(inputs, axis=0))
            return self.total

    my_sum = ComputeSum(2)
    my_sum(x)
    total = my_sum(x)

    class CustomDropout(keras.layers.Layer):
        def __init__(self, rate, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate
            self.seed_generator = keras.random.SeedGenerator(1337)

        def call(self, inputs, training=None):
            if training:
                return keras.random.dropout(inputs, rate=self.rate, seed=self.seed_generator)
            return inputs

    layer = CustomDropout(0.5)
    x = ops.ones((4, 1000))
    train = layer(x, training=True).numpy()

    @tf.function
    def traced(x):
        return layer(x, training=True)

    first, second = traced(x).numpy(), traced(x).numpy()
    return {
        "y": y.numpy(),
        "total": total.numpy(),
        "inference_equal": bool(np.all(layer(x, training=False).numpy() == 1.0)),
        "train_values": sorted({float(v) for v in np.unique(train)}),
        "kept_fraction_ok": bool(0.45 < float(np.mean(train > 0)) < 0.55),
        "traced_masks_differ": bool(np.any(first != second)),
        "traced_values": sorted({float(v) for v in np.unique(first)}),
        "layer_weights": len(layer.weights),
    }


def block_keras3_vae(tf, keras, np):
    """The Keras 3 edition's VAE: Sampling draws with keras.random and a SeedGenerator, so
    ``fit`` runs its traced step (no ``run_eagerly``)."""
    layers, ops = keras.layers, keras.ops

    class Sampling(layers.Layer):
        """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = keras.random.SeedGenerator(1337)

        def call(self, inputs):
            z_mean, z_log_var = inputs
            batch = ops.shape(z_mean)[0]
            dim = ops.shape(z_mean)[1]
            epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
            return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    class Encoder(layers.Layer):
        def __init__(self, latent_dim=32, intermediate_dim=64, name="encoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
            self.dense_mean = layers.Dense(latent_dim)
            self.dense_log_var = layers.Dense(latent_dim)
            self.sampling = Sampling()

        def call(self, inputs):
            x = self.dense_proj(inputs)
            z_mean = self.dense_mean(x)
            z_log_var = self.dense_log_var(x)
            z = self.sampling((z_mean, z_log_var))
            return z_mean, z_log_var, z

    class Decoder(layers.Layer):
        def __init__(self, original_dim, intermediate_dim=64, name="decoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
            self.dense_output = layers.Dense(original_dim, activation="sigmoid")

        def call(self, inputs):
            x = self.dense_proj(inputs)
            return self.dense_output(x)

    class VariationalAutoEncoder(keras.Model):
        def __init__(self, original_dim, intermediate_dim=64, latent_dim=32, name="autoencoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.original_dim = original_dim
            self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
            self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

        def call(self, inputs):
            z_mean, z_log_var, z = self.encoder(inputs)
            reconstructed = self.decoder(z)
            # Add KL divergence regularization loss.
            kl_loss = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
            self.add_loss(kl_loss)
            return reconstructed

    rng = np.random.RandomState(0)
    x_train = (rng.uniform(size=(256, 784)) > 0.7).astype("float32")
    vae = VariationalAutoEncoder(784, 64, 32)
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    vae.compile(optimizer, loss=keras.losses.MeanSquaredError())
    history = vae.fit(x_train, x_train, epochs=3, batch_size=64, verbose=0)
    return {
        "weights": len(vae.weights),
        "history_keys": sorted(history.history),
        "_fit_loss": history.history["loss"],
    }
