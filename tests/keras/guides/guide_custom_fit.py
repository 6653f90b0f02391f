"""The code of the guide "Customizing what happens in fit()" (TensorFlow version,
tensorflow.org/guide/keras/customizing_what_happens_in_fit), as blocks run with ``tf``/``keras``
passed in (see _common.py). The guide's ``np.random.random`` data are replaced by small fixed
arrays, weights are set from fixed arrays and ``fit`` gets ``shuffle=False``, so every loss and
metric of every epoch is deterministic and compared with Keras's. The GAN's random latent
vectors are also drawn in a variant from fixed arrays, so its losses are compared too."""

from __future__ import annotations

from tests.keras.guides._common import fixed_weights, mnist_like


def _xy(np, n=64):
    rng = np.random.RandomState(7)
    x = rng.random_sample((n, 32)).astype("float32")
    y = rng.random_sample((n, 1)).astype("float32")
    return x, y


def _model(keras, np, cls):
    # Construct and compile an instance of CustomModel
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = cls(inputs, outputs)
    fixed_weights(np, model, 3)
    return model


def block_first_simple_example(tf, keras, np):
    class CustomModel(keras.Model):
        def train_step(self, data):
            # Unpack the data. Its structure depends on your model and
            # on what you pass to `fit()`.
            x, y = data

            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)  # Forward pass
                # Compute the loss value
                # (the loss function is configured in `compile()`)
                loss = self.compute_loss(y=y, y_pred=y_pred)

            # Compute gradients
            trainable_vars = self.trainable_variables
            gradients = tape.gradient(loss, trainable_vars)
            # Update weights
            self.optimizer.apply(gradients, trainable_vars)
            # Update metrics (includes the metric that tracks the loss)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            # Return a dict mapping metric names to current value
            return {m.name: m.result() for m in self.metrics}

    model = _model(keras, np, CustomModel)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x, y = _xy(np)
    history = model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
    return {"history": history.history, "weights": model.get_weights()}


def block_going_lower_level(tf, keras, np):
    class CustomModel(keras.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = keras.losses.MeanSquaredError()

        def train_step(self, data):
            x, y = data

            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)  # Forward pass
                # Compute our own loss
                loss = self.loss_fn(y, y_pred)

            # Compute gradients
            trainable_vars = self.trainable_variables
            gradients = tape.gradient(loss, trainable_vars)

            # Update weights
            self.optimizer.apply(gradients, trainable_vars)

            # Compute our own metrics
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {
                "loss": self.loss_tracker.result(),
                "mae": self.mae_metric.result(),
            }

        @property
        def metrics(self):
            # We list our `Metric` objects here so that `reset_states()` can be
            # called automatically at the start of each epoch
            # or at the start of `evaluate()`.
            return [self.loss_tracker, self.mae_metric]

    model = _model(keras, np, CustomModel)
    # We don't pass a loss or metrics here.
    model.compile(optimizer="adam")

    # Just use `fit` as usual -- you can use callbacks, etc.
    x, y = _xy(np)
    history = model.fit(x, y, epochs=5, batch_size=16, shuffle=False, verbose=0)
    return {"history": history.history, "metric_names": [m.name for m in model.metrics]}


def block_sample_weight(tf, keras, np):
    class CustomModel(keras.Model):
        def train_step(self, data):
            # Unpack the data. Its structure depends on your model and
            # on what you pass to `fit()`.
            if len(data) == 3:
                x, y, sample_weight = data
            else:
                sample_weight = None
                x, y = data

            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)  # Forward pass
                # Compute the loss value.
                # The loss function is configured in `compile()`.
                loss = self.compute_loss(
                    y=y,
                    y_pred=y_pred,
                    sample_weight=sample_weight,
                )

            # Compute gradients
            trainable_vars = self.trainable_variables
            gradients = tape.gradient(loss, trainable_vars)

            # Update weights
            self.optimizer.apply(gradients, trainable_vars)

            # Update the metrics.
            # Metrics are configured in `compile()`.
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred, sample_weight=sample_weight)

            # Return a dict mapping metric names to current value.
            # Note that it will include the loss (tracked in self.metrics).
            return {m.name: m.result() for m in self.metrics}

    model = _model(keras, np, CustomModel)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])

    # You can now use sample_weight argument
    x, y = _xy(np)
    sw = np.random.RandomState(8).random_sample((len(x), 1)).astype("float32")
    history = model.fit(x, y, sample_weight=sw, epochs=3, batch_size=16, shuffle=False, verbose=0)
    return {"history": history.history}


def block_test_step(tf, keras, np):
    class CustomModel(keras.Model):
        def test_step(self, data):
            # Unpack the data
            x, y = data
            # Compute predictions
            y_pred = self(x, training=False)
            # Updates the metrics tracking the loss
            loss = self.compute_loss(y=y, y_pred=y_pred)
            # Update the metrics.
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            # Return a dict mapping metric names to current value.
            # Note that it will include the loss (tracked in self.metrics).
            return {m.name: m.result() for m in self.metrics}

    model = _model(keras, np, CustomModel)
    model.compile(loss="mse", metrics=["mae"])

    # Evaluate with our custom test_step
    x, y = _xy(np)
    return {
        "evaluate": model.evaluate(x, y, batch_size=16, verbose=0),
        "evaluate_dict": model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True),
    }


def _gan_models(keras):
    layers = keras.layers
    # Create the discriminator
    discriminator = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(64, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(128, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.GlobalMaxPooling2D(),
            layers.Dense(1),
        ],
        name="discriminator",
    )

    # Create the generator
    latent_dim = 128
    generator = keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            # We want to generate 128 coefficients to reshape into a 7x7x128 map
            layers.Dense(7 * 7 * 128),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Reshape((7, 7, 128)),
            layers.Conv2DTranspose(128, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(128, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(1, (7, 7), padding="same", activation="sigmoid"),
        ],
        name="generator",
    )
    return discriminator, generator, latent_dim


def _gan_class(tf, keras, np, fixed_noise=None):
    class GAN(keras.Model):
        def __init__(self, discriminator, generator, latent_dim):
            super().__init__()
            self.discriminator = discriminator
            self.generator = generator
            self.latent_dim = latent_dim
            self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
            self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
            self.seed_generator = keras.random.SeedGenerator(1337)

        @property
        def metrics(self):
            return [self.d_loss_tracker, self.g_loss_tracker]

        def compile(self, d_optimizer, g_optimizer, loss_fn):
            super().compile()
            self.d_optimizer = d_optimizer
            self.g_optimizer = g_optimizer
            self.loss_fn = loss_fn

        def _normal(self, shape):
            if fixed_noise is not None:  # the deterministic variant: fixed latent vectors
                return tf.constant(fixed_noise[0])
            return keras.random.normal(shape=shape, seed=self.seed_generator)

        def _uniform(self, shape):
            if fixed_noise is not None:
                return tf.constant(fixed_noise[1])
            return keras.random.uniform(shape, seed=self.seed_generator)

        def train_step(self, real_images):
            if isinstance(real_images, tuple):
                real_images = real_images[0]
            # Sample random points in the latent space
            batch_size = tf.shape(real_images)[0]
            random_latent_vectors = self._normal(shape=(batch_size, self.latent_dim))

            # Decode them to fake images
            generated_images = self.generator(random_latent_vectors)

            # Combine them with real images
            combined_images = tf.concat([generated_images, real_images], axis=0)

            # Assemble labels discriminating real from fake images
            labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))], axis=0)
            # Add random noise to the labels - important trick!
            labels += 0.05 * self._uniform(tf.shape(labels))

            # Train the discriminator
            with tf.GradientTape() as tape:
                predictions = self.discriminator(combined_images)
                d_loss = self.loss_fn(labels, predictions)
            grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
            self.d_optimizer.apply(grads, self.discriminator.trainable_weights)

            # Sample random points in the latent space
            random_latent_vectors = self._normal(shape=(batch_size, self.latent_dim))

            # Assemble labels that say "all real images"
            misleading_labels = tf.zeros((batch_size, 1))

            # Train the generator (note that we should *not* update the weights
            # of the discriminator)!
            with tf.GradientTape() as tape:
                predictions = self.discriminator(self.generator(random_latent_vectors))
                g_loss = self.loss_fn(misleading_labels, predictions)
            grads = tape.gradient(g_loss, self.generator.trainable_weights)
            self.g_optimizer.apply(grads, self.generator.trainable_weights)

            # Update metrics and return their value.
            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            return {
                "d_loss": self.d_loss_tracker.result(),
                "g_loss": self.g_loss_tracker.result(),
            }

    return GAN


def _gan_data(tf, np, batch_size=8, n=16):
    # Prepare the dataset. We use both the training & test MNIST digits.
    (x_train, _), (x_test, _) = mnist_like(np, n * 4 // 3)
    all_digits = np.concatenate([x_train, x_test])
    all_digits = all_digits.astype("float32") / 255.0
    all_digits = np.reshape(all_digits, (-1, 28, 28, 1))[:n]
    dataset = tf.data.Dataset.from_tensor_slices(all_digits)
    dataset = dataset.batch(batch_size)
    return dataset


def _gan_fit(tf, keras, np, fixed_noise):
    discriminator, generator, latent_dim = _gan_models(keras)
    fixed_weights(np, discriminator, 5)
    rng = np.random.RandomState(6)
    generator.set_weights(
        [(rng.uniform(-1, 1, size=w.shape) * 0.05).astype("float32") for w in generator.get_weights()]
    )
    gan = _gan_class(tf, keras, np, fixed_noise)(
        discriminator=discriminator, generator=generator, latent_dim=latent_dim
    )
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
        g_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
        loss_fn=keras.losses.BinaryCrossentropy(from_logits=True),
    )

    # To limit the execution time, we only train on 2 batches.
    history = gan.fit(_gan_data(tf, np).take(2), epochs=1, verbose=0)
    return gan, discriminator, generator, history


def block_gan(tf, keras, np):
    gan, discriminator, generator, history = _gan_fit(tf, keras, np, None)
    return {
        "discriminator_params": discriminator.count_params(),
        "generator_params": generator.count_params(),
        "history_keys": sorted(history.history),
        "metric_names": [m.name for m in gan.metrics],
        "_d_loss": history.history["d_loss"],
        "_g_loss": history.history["g_loss"],
    }


def block_gan_fixed_noise(tf, keras, np):
    rng = np.random.RandomState(9)
    noise = (rng.normal(size=(8, 128)).astype("float32"), rng.uniform(size=(16, 1)).astype("float32"))
    gan, discriminator, generator, history = _gan_fit(tf, keras, np, noise)
    return {
        "history": history.history,
        "d_kernel_sum": float(np.sum(discriminator.get_weights()[0])),
        "g_kernel_sum": float(np.sum(generator.get_weights()[0])),
    }
