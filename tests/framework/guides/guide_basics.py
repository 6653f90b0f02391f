"""The code of TensorFlow's guide "TensorFlow basics" (tensorflow.org/guide/basics), as written
there with ``tf`` a parameter, so the same lines run with TensorFlow (to make the fixture,
scripts/make_tf_guide_fixtures.py) and with gputensor (the test). Cell outputs the notebook shows
(the last expression of a cell) are printed.

Adapted: the training data's noise (``tf.random.normal``) and the model's initial weights
(``tf.random.uniform``) are fixed values computed with NumPy (gputensor's random streams are not
TF's), and the dataset is not shuffled (its order would come from TF's random stream), so the
losses printed are TF's. The matplotlib plots are left out (they print nothing), and the model is
saved to a temporary folder rather than ./saved. Left out: the Keras block at the end
(``tf.keras.Sequential`` of a ``Lambda`` and a ``Dense`` layer, ``compile``/``fit``/``save``),
not built: ``gt.keras.layers.Lambda`` does not exist yet (the block prints nothing, and its
initial weights are random draws).
"""

import tempfile

import numpy as np


def run(tf):
    x = tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])

    print(x)
    print(x.shape)
    print(x.dtype)

    print(x + x)
    print(5 * x)
    print(x @ tf.transpose(x))
    print(tf.concat([x, x, x], axis=0))
    print(tf.nn.softmax(x, axis=-1))
    print(tf.reduce_sum(x))
    print(tf.convert_to_tensor([1, 2, 3]))
    print(tf.reduce_sum([1, 2, 3]))

    if tf.config.list_physical_devices("GPU"):
        print("TensorFlow **IS** using the GPU")
    else:
        print("TensorFlow **IS NOT** using the GPU")

    var = tf.Variable([0.0, 0.0, 0.0])
    print(var.assign([1, 2, 3]))
    print(var.assign_add([1, 1, 1]))

    x = tf.Variable(1.0)

    def f(x):
        y = x**2 + 2 * x - 5
        return y

    print(f(x))

    with tf.GradientTape() as tape:
        y = f(x)

    g_x = tape.gradient(y, x)  # g(x) = dy/dx

    print(g_x)

    @tf.function
    def my_func(x):
        print("Tracing.\n")
        return tf.reduce_sum(x)

    x = tf.constant([1, 2, 3])
    print(my_func(x))

    x = tf.constant([10, 9, 8])
    print(my_func(x))

    x = tf.constant([10.0, 9.1, 8.2], dtype=tf.float32)
    print(my_func(x))

    class MyModule(tf.Module):
        def __init__(self, value):
            self.weight = tf.Variable(value)

        @tf.function
        def multiply(self, x):
            return x * self.weight

    mod = MyModule(3)
    print(mod.multiply(tf.constant([1, 2, 3])))

    with tempfile.TemporaryDirectory() as tmp:
        save_path = tmp + "/saved"
        tf.saved_model.save(mod, save_path)

        reloaded = tf.saved_model.load(save_path)
        print(reloaded.multiply(tf.constant([1, 2, 3])))

    x = tf.linspace(-2, 2, 201)
    x = tf.cast(x, tf.float32)

    def f(x):
        y = x**2 + 2 * x - 5
        return y

    # The guide adds tf.random.normal(shape=[201]): fixed noise here (see the module docstring).
    noise = np.random.default_rng(22).standard_normal(201).astype(np.float32)
    y = f(x) + tf.constant(noise)

    class Model(tf.Module):
        def __init__(self):
            # Randomly generate weight and bias terms
            # (the guide: tf.random.uniform(shape=[3], minval=0., maxval=5., seed=22))
            rand_init = tf.constant([3.2, 1.4, 0.6])
            # Initialize model parameters
            self.w_q = tf.Variable(rand_init[0])
            self.w_l = tf.Variable(rand_init[1])
            self.b = tf.Variable(rand_init[2])

        @tf.function
        def __call__(self, x):
            # Quadratic Model : quadratic_weight * x^2 + linear_weight * x + bias
            return self.w_q * (x**2) + self.w_l * x + self.b

    quad_model = Model()

    def mse_loss(y_pred, y):
        return tf.reduce_mean(tf.square(y_pred - y))

    batch_size = 32
    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    # The guide shuffles: dataset.shuffle(buffer_size=x.shape[0]).batch(batch_size)
    dataset = dataset.batch(batch_size)

    # Set training parameters
    epochs = 100
    learning_rate = 0.01
    losses = []

    # Format training loop
    for epoch in range(epochs):
        for x_batch, y_batch in dataset:
            with tf.GradientTape() as tape:
                batch_loss = mse_loss(quad_model(x_batch), y_batch)
            # Update parameters with respect to the gradient calculations
            grads = tape.gradient(batch_loss, quad_model.variables)
            for g, v in zip(grads, quad_model.variables):
                v.assign_sub(learning_rate * g)
        # Keep track of model loss per epoch
        loss = mse_loss(quad_model(x), y)
        losses.append(loss)
        if epoch % 10 == 0:
            print(f"Mean squared error for step {epoch}: {loss.numpy():0.3f}")

    # Plot model results
    print("\n")
    print([v.name for v in quad_model.variables])
    print([round(float(v.numpy()), 3) for v in quad_model.variables])
