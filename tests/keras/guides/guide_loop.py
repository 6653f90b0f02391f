"""The code of the guide "Writing a training loop from scratch" (TensorFlow version,
tensorflow.org/guide/keras/writing_a_training_loop_from_scratch), as blocks run with
``tf``/``keras`` passed in (see _common.py). MNIST is replaced by small MNIST-shaped arrays and
weights are set from fixed arrays. Where the guide's numbers are compared with Keras's, the
training dataset is not shuffled (``.shuffle(buffer_size=1024)`` left out) so that every step
is deterministic."""

from __future__ import annotations

from tests.keras.guides._common import mnist_like, summary_table


def _get_model(keras, np, activity_layer=None):
    inputs = keras.Input(shape=(784,), name="digits")
    x1 = keras.layers.Dense(64, activation="relu")(inputs)
    if activity_layer is not None:
        x1 = activity_layer()(x1)
    x2 = keras.layers.Dense(64, activation="relu")(x1)
    outputs = keras.layers.Dense(10, name="predictions")(x2)
    model = keras.Model(inputs=inputs, outputs=outputs)
    rng = np.random.RandomState(40)
    model.set_weights(
        [
            (rng.uniform(-1, 1, size=w.shape) * np.sqrt(3.0 / w.shape[0])).astype("float32")
            for w in model.get_weights()
        ]
    )
    return model


def _datasets(tf, np, batch_size=32, shuffle=False):
    # Prepare the training dataset.
    (x_train, y_train), (x_test, y_test) = mnist_like(np, 512)
    x_train = np.reshape(x_train, (-1, 784)).astype("float32") / 255
    x_test = np.reshape(x_test, (-1, 784)).astype("float32") / 255

    # Reserve 64 samples for validation.
    x_val = x_train[-64:]
    y_val = y_train[-64:]
    x_train = x_train[:-64]
    y_train = y_train[:-64]

    # Prepare the training dataset.
    train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train))
    if shuffle:
        train_dataset = train_dataset.shuffle(buffer_size=1024)
    train_dataset = train_dataset.batch(batch_size)

    # Prepare the validation dataset.
    val_dataset = tf.data.Dataset.from_tensor_slices((x_val, y_val))
    val_dataset = val_dataset.batch(batch_size)
    return train_dataset, val_dataset


def block_end_to_end(tf, keras, np):
    model = _get_model(keras, np)
    # Instantiate an optimizer.
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    # Instantiate a loss function.
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_dataset, val_dataset = _datasets(tf, np)

    epochs = 2
    losses = []
    for epoch in range(epochs):
        # Iterate over the batches of the dataset.
        for step, (x_batch_train, y_batch_train) in enumerate(train_dataset):
            # Open a GradientTape to record the operations run
            # during the forward pass, which enables auto-differentiation.
            with tf.GradientTape() as tape:
                # Run the forward pass of the layer.
                # The operations that the layer applies
                # to its inputs are going to be recorded
                # on the GradientTape.
                logits = model(x_batch_train, training=True)  # Logits for this minibatch

                # Compute the loss value for this minibatch.
                loss_value = loss_fn(y_batch_train, logits)

            # Use the gradient tape to automatically retrieve
            # the gradients of the trainable variables with respect to the loss.
            grads = tape.gradient(loss_value, model.trainable_weights)

            # Run one step of gradient descent by updating
            # the value of the variables to minimize the loss.
            optimizer.apply(grads, model.trainable_weights)

            # Log every 4 batches.
            if step % 4 == 0:
                losses.append(float(loss_value))
    return {"losses": losses, "iterations": int(optimizer.iterations.numpy())}


def _metrics_loop(tf, keras, np, use_function):
    model = _get_model(keras, np)
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    # Prepare the metrics.
    train_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    val_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    train_dataset, val_dataset = _datasets(tf, np)

    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss_value = loss_fn(y, logits)
        grads = tape.gradient(loss_value, model.trainable_weights)
        optimizer.apply(grads, model.trainable_weights)
        train_acc_metric.update_state(y, logits)
        return loss_value

    def test_step(x, y):
        val_logits = model(x, training=False)
        val_acc_metric.update_state(y, val_logits)

    if use_function:
        train_step = tf.function(train_step)
        test_step = tf.function(test_step)

    epochs = 2
    out = {"train_acc": [], "val_acc": [], "last_loss": []}
    for epoch in range(epochs):
        # Iterate over the batches of the dataset.
        for step, (x_batch_train, y_batch_train) in enumerate(train_dataset):
            loss_value = train_step(x_batch_train, y_batch_train)

        # Display metrics at the end of each epoch.
        train_acc = train_acc_metric.result()
        out["train_acc"].append(float(train_acc))
        out["last_loss"].append(float(loss_value))

        # Reset training metrics at the end of each epoch
        train_acc_metric.reset_state()

        # Run a validation loop at the end of each epoch.
        for x_batch_val, y_batch_val in val_dataset:
            test_step(x_batch_val, y_batch_val)

        val_acc = val_acc_metric.result()
        val_acc_metric.reset_state()
        out["val_acc"].append(float(val_acc))
    out["after_reset"] = float(train_acc_metric.result())
    return out


def block_metrics(tf, keras, np):
    return _metrics_loop(tf, keras, np, use_function=False)


def block_tf_function(tf, keras, np):
    return _metrics_loop(tf, keras, np, use_function=True)


def block_add_loss(tf, keras, np):
    class ActivityRegularizationLayer(keras.layers.Layer):
        def call(self, inputs):
            self.add_loss(1e-2 * tf.reduce_sum(inputs))
            return inputs

    model = _get_model(keras, np, ActivityRegularizationLayer)
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    train_dataset, _ = _datasets(tf, np)

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss_value = loss_fn(y, logits)
            # Add any extra losses created during the forward pass.
            loss_value += sum(model.losses)
        grads = tape.gradient(loss_value, model.trainable_weights)
        optimizer.apply(grads, model.trainable_weights)
        train_acc_metric.update_state(y, logits)
        return loss_value

    losses = [float(train_step(x, y)) for x, y in train_dataset]
    return {"losses": losses, "train_acc": float(train_acc_metric.result())}


def block_gan(tf, keras, np):
    layers = keras.layers
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
    disc_summary = summary_table(discriminator)

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
    gen_summary = summary_table(generator)

    # Instantiate one optimizer for the discriminator and another for the generator.
    d_optimizer = keras.optimizers.Adam(learning_rate=0.0003)
    g_optimizer = keras.optimizers.Adam(learning_rate=0.0004)

    # Instantiate a loss function.
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def train_step(real_images):
        # Sample random points in the latent space
        random_latent_vectors = tf.random.normal(shape=(batch_size, latent_dim))
        # Decode them to fake images
        generated_images = generator(random_latent_vectors)
        # Combine them with real images
        combined_images = tf.concat([generated_images, real_images], axis=0)

        # Assemble labels discriminating real from fake images
        labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((real_images.shape[0], 1))], axis=0)
        # Add random noise to the labels - important trick!
        labels += 0.05 * tf.random.uniform(labels.shape)

        # Train the discriminator
        with tf.GradientTape() as tape:
            predictions = discriminator(combined_images)
            d_loss = loss_fn(labels, predictions)
        grads = tape.gradient(d_loss, discriminator.trainable_weights)
        d_optimizer.apply(grads, discriminator.trainable_weights)

        # Sample random points in the latent space
        random_latent_vectors = tf.random.normal(shape=(batch_size, latent_dim))
        # Assemble labels that say "all real images"
        misleading_labels = tf.zeros((batch_size, 1))

        # Train the generator (note that we should *not* update the weights
        # of the discriminator)!
        with tf.GradientTape() as tape:
            predictions = discriminator(generator(random_latent_vectors))
            g_loss = loss_fn(misleading_labels, predictions)
        grads = tape.gradient(g_loss, generator.trainable_weights)
        g_optimizer.apply(grads, generator.trainable_weights)
        return d_loss, g_loss, generated_images

    # Prepare the dataset. We use both the training & test MNIST digits.
    batch_size = 8
    (x_train, _), (x_test, _) = mnist_like(np, 32)
    all_digits = np.concatenate([x_train, x_test])
    all_digits = all_digits.astype("float32") / 255.0
    all_digits = np.reshape(all_digits, (-1, 28, 28, 1))
    dataset = tf.data.Dataset.from_tensor_slices(all_digits)
    dataset = dataset.shuffle(buffer_size=1024).batch(batch_size)

    d_losses, g_losses = [], []
    for step, real_images in enumerate(dataset):
        # Train the discriminator & generator on one batch of real images.
        d_loss, g_loss, generated_images = train_step(real_images)
        d_losses.append(float(d_loss))
        g_losses.append(float(g_loss))
        if step >= 1:  # the guide stops after 10 steps "to limit execution time"
            break
    return {
        "discriminator": disc_summary,
        "generator": gen_summary,
        "generated_shape": list(generated_images.shape),
        "_d_losses": d_losses,
        "_g_losses": g_losses,
    }


def block_gan_traced_keras_random(tf, keras, np):
    """The GAN's train_step decorated with ``@tf.function`` as in the guide, drawing its
    latent vectors and label noise with ``keras.random`` and a SeedGenerator (Keras 3's
    backend-independent draws) instead of ``tf.random``."""
    layers = keras.layers
    latent_dim = 16
    discriminator = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(8, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.GlobalMaxPooling2D(),
            layers.Dense(1),
        ],
        name="discriminator",
    )
    generator = keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            layers.Dense(7 * 7 * 8),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Reshape((7, 7, 8)),
            layers.Conv2DTranspose(8, (4, 4), strides=(4, 4), padding="same"),
            layers.Conv2D(1, (7, 7), padding="same", activation="sigmoid"),
        ],
        name="generator",
    )
    d_optimizer = keras.optimizers.Adam(learning_rate=0.0003)
    g_optimizer = keras.optimizers.Adam(learning_rate=0.0004)
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
    seed_generator = keras.random.SeedGenerator(1337)
    batch_size = 8

    @tf.function
    def train_step(real_images):
        random_latent_vectors = keras.random.normal(shape=(batch_size, latent_dim), seed=seed_generator)
        generated_images = generator(random_latent_vectors)
        combined_images = tf.concat([generated_images, real_images], axis=0)
        labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((real_images.shape[0], 1))], axis=0)
        labels += 0.05 * keras.random.uniform(labels.shape, seed=seed_generator)
        with tf.GradientTape() as tape:
            predictions = discriminator(combined_images)
            d_loss = loss_fn(labels, predictions)
        grads = tape.gradient(d_loss, discriminator.trainable_weights)
        d_optimizer.apply(grads, discriminator.trainable_weights)

        random_latent_vectors = keras.random.normal(shape=(batch_size, latent_dim), seed=seed_generator)
        misleading_labels = tf.zeros((batch_size, 1))
        with tf.GradientTape() as tape:
            predictions = discriminator(generator(random_latent_vectors))
            g_loss = loss_fn(misleading_labels, predictions)
        grads = tape.gradient(g_loss, generator.trainable_weights)
        g_optimizer.apply(grads, generator.trainable_weights)
        return d_loss, g_loss, generated_images

    (x_train, _), _ = mnist_like(np, 32)
    all_digits = np.reshape(x_train.astype("float32") / 255.0, (-1, 28, 28, 1))
    dataset = tf.data.Dataset.from_tensor_slices(all_digits).batch(batch_size)
    images = [train_step(real_images)[2].numpy() for real_images in dataset]
    return {
        "steps": len(images),
        "generated_shape": list(images[0].shape),
        "_images_differ": bool(np.any(images[0] != images[1])),
    }
