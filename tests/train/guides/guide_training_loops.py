"""The code of TensorFlow's guide "Basic training loops" (tensorflow.org/guide/basic_training_loops),
as written there with ``tf`` a parameter, so the same lines run with TensorFlow (to make the
fixture, scripts/make_tf_guide_fixtures.py) and with gputensor (the test).

Adapted: the noise (``tf.random.normal``) is a fixed NumPy draw, so both libraries fit the same
data; the matplotlib cells are left out (plots); ``fit`` runs with ``verbose=0`` and its per-epoch
losses are printed from the History with the 4 decimals of Keras's progress bar (the bar itself
prints timings), and the fitted model's weights come from ``add_weight`` (Keras 3 does not
train tf.Variable attributes: see the comment there); the guide's ``save_weights("my_checkpoint")`` gets Keras 3's required
``.weights.h5`` suffix and ``tf.keras.losses.mean_squared_error`` is
``tf.keras.losses.mse`` (Keras 3's tf.keras has only that alias). Files are written in a temporary directory.
"""

import os
import tempfile

import numpy as np


def run(tf):
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as workdir:
        os.chdir(workdir)
        try:
            _guide(tf)
        finally:
            os.chdir(cwd)


def _guide(tf):
    # The actual line
    TRUE_W = 3.0
    TRUE_B = 2.0

    NUM_EXAMPLES = 201

    # A vector of random x values
    x = tf.linspace(-2, 2, NUM_EXAMPLES)
    x = tf.cast(x, tf.float32)

    def f(x):
        return x * TRUE_W + TRUE_B

    # Generate some noise
    # noise = tf.random.normal(shape=[NUM_EXAMPLES])  (fixed values instead: the same data for both)
    noise = tf.constant(np.random.RandomState(0).normal(size=[NUM_EXAMPLES]).astype(np.float32))

    # Calculate y
    y = f(x) + noise

    # (left out: plt.plot of the data)

    class MyModel(tf.Module):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            # Initialize the weights to `5.0` and the bias to `0.0`
            # In practice, these should be randomly initialized
            self.w = tf.Variable(5.0)
            self.b = tf.Variable(0.0)

        def __call__(self, x):
            return self.w * x + self.b

    model = MyModel()

    # List the variables tf.modules's built-in variable aggregation.
    print("Variables:", model.variables)

    # Verify the model works
    assert model(3.0).numpy() == 15.0

    # This computes a single loss value for an entire batch
    def loss(target_y, predicted_y):
        return tf.reduce_mean(tf.square(target_y - predicted_y))

    # (left out: plt.plot of the data, the ground truth and the predictions)
    print("Current loss: %1.6f" % loss(y, model(x)).numpy())

    # Given a callable model, inputs, outputs, and a learning rate...
    def train(model, x, y, learning_rate):
        with tf.GradientTape() as t:
            # Trainable variables are automatically tracked by GradientTape
            current_loss = loss(y, model(x))

        # Use GradientTape to calculate the gradients with respect to W and b
        dw, db = t.gradient(current_loss, [model.w, model.b])

        # Subtract the gradient scaled by the learning rate
        model.w.assign_sub(learning_rate * dw)
        model.b.assign_sub(learning_rate * db)

    model = MyModel()

    # Collect the history of W-values and b-values to plot later
    weights = []
    biases = []
    epochs = range(10)

    # Define a training loop
    def report(model, loss):
        return f"W = {model.w.numpy():1.2f}, b = {model.b.numpy():1.2f}, loss={current_loss:2.5f}"

    def training_loop(model, x, y):
        for epoch in epochs:
            # Update the model with the single giant batch
            train(model, x, y, learning_rate=0.1)

            # Track this before I update
            weights.append(model.w.numpy())
            biases.append(model.b.numpy())
            current_loss = loss(y, model(x))

            print(f"Epoch {epoch:2d}:")
            print("    ", report(model, current_loss))

    current_loss = loss(y, model(x))

    print(f"Starting:")
    print("    ", report(model, current_loss))

    training_loop(model, x, y)

    # (left out: plt.plot of the weights' evolution and of the trained model's predictions)
    print("Current loss: %1.6f" % loss(model(x), y).numpy())

    class MyModelKeras(tf.keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            # Initialize the weights to `5.0` and the bias to `0.0`
            # In practice, these should be randomly initialized
            self.w = tf.Variable(5.0)
            self.b = tf.Variable(0.0)

        def call(self, x):
            return self.w * x + self.b

    keras_model = MyModelKeras()

    # Reuse the training loop with a Keras model
    training_loop(keras_model, x, y)

    # You can also save a checkpoint using Keras's built-in support
    keras_model.save_weights("my_checkpoint.weights.h5")

    # (Keras 3 trains only the variables made by add_weight: a tf.Variable attribute is not a
    # weight there, so the guide's fit would train nothing in TF 2.21 and print a constant loss;
    # gputensor, as tf.keras 2 did, trains tf.Variable attributes too. The weights come from
    # add_weight here, so that both train what the guide means.)
    class MyModelKeras(tf.keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.w = self.add_weight(shape=(), initializer=tf.keras.initializers.Constant(5.0))
            self.b = self.add_weight(shape=(), initializer=tf.keras.initializers.Constant(0.0))

        def call(self, x):
            return self.w * x + self.b

    keras_model = MyModelKeras()

    # compile sets the training parameters
    keras_model.compile(
        # By default, fit() uses tf.function().  You can
        # turn that off for debugging, but it is on now.
        run_eagerly=False,
        # Using a built-in optimizer, configuring as an object
        optimizer=tf.keras.optimizers.SGD(learning_rate=0.1),
        # Keras comes with built-in MSE error
        # However, you could use the loss function
        # defined above
        # (tf.keras.losses.mean_squared_error is tf.keras.losses.mse in Keras 3)
        loss=tf.keras.losses.mse,
    )

    print(x.shape[0])
    history = keras_model.fit(x, y, epochs=10, batch_size=1000, verbose=0)
    for epoch, value in enumerate(history.history["loss"]):
        print(f"Epoch {epoch + 1}/10 - loss: {value:.4f}")
