"""The code of TensorFlow's guide "Introduction to modules, layers, and models"
(tensorflow.org/guide/intro_to_modules), as written there with ``tf`` a parameter, so the same
lines run with TensorFlow (to make the fixture, scripts/make_tf_guide_fixtures.py) and with
gputensor (the test).

Adapted: the initial weights (``tf.random.normal``) are fixed NumPy values, so both libraries
compute the same numbers; the notebook's displayed last expressions are printed; Python object
reprs with memory addresses (submodules) print class names instead; an exception prints its
class name, not its message. Left out: the TensorBoard trace (tf.summary and the profiler: not in
gputensor's scope), the ``!ls -l the_saved_model`` shell cells (the two libraries' file layouts differ; ``!ls
my_checkpoint*`` prints the names without their suffixes: TF writes ``.index``/``.data-*``
files, gputensor one ``.gtckpt``), a Keras layer's ``variables`` (Keras 3 does not collect tf.Variable attributes, gputensor
does), ``model.summary()`` (Keras 3's rich
table), and the Keras ``save``/``load_model`` cells (``save("exname_of_file")`` raises in
Keras 3, which wants a ``.keras`` name, and a subclassed model needs its ``get_config``).
Files are written in a temporary directory.
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
    def fixed_normal(shape):
        # Stands for tf.random.normal(shape): fixed values, the same in both libraries, that
        # depend on the shape only (Keras 3 builds a subclassed model's first layer twice, so a
        # sequence of draws would not line up).
        seed = [int(d) for d in shape]
        return tf.constant(np.random.RandomState(seed).normal(size=seed).astype(np.float32))

    class SimpleModule(tf.Module):
        def __init__(self, name=None):
            super().__init__(name=name)
            self.a_variable = tf.Variable(5.0, name="train_me")
            self.non_trainable_variable = tf.Variable(5.0, trainable=False, name="do_not_train_me")

        def __call__(self, x):
            return self.a_variable * x + self.non_trainable_variable

    simple_module = SimpleModule(name="simple")

    print(simple_module(tf.constant(5.0)))

    # All trainable variables
    print("trainable variables:", simple_module.trainable_variables)
    # Every variable
    print("all variables:", simple_module.variables)

    class Dense(tf.Module):
        def __init__(self, in_features, out_features, name=None):
            super().__init__(name=name)
            self.w = tf.Variable(fixed_normal([in_features, out_features]), name="w")
            self.b = tf.Variable(tf.zeros([out_features]), name="b")

        def __call__(self, x):
            y = tf.matmul(x, self.w) + self.b
            return tf.nn.relu(y)

    class SequentialModule(tf.Module):
        def __init__(self, name=None):
            super().__init__(name=name)

            self.dense_1 = Dense(in_features=3, out_features=3)
            self.dense_2 = Dense(in_features=3, out_features=2)

        def __call__(self, x):
            x = self.dense_1(x)
            return self.dense_2(x)

    # You have made a model!
    my_model = SequentialModule(name="the_model")

    # Call it, with random results
    print("Model results:", my_model(tf.constant([[2.0, 2.0, 2.0]])))

    # (the guide prints the submodules' reprs, which hold memory addresses)
    print("Submodules:", [type(m).__name__ for m in my_model.submodules])

    for var in my_model.variables:
        print(var, "\n")

    class FlexibleDenseModule(tf.Module):
        # Note: No need for `in_features`
        def __init__(self, out_features, name=None):
            super().__init__(name=name)
            self.is_built = False
            self.out_features = out_features

        def __call__(self, x):
            # Create variables on first call.
            if not self.is_built:
                self.w = tf.Variable(fixed_normal([x.shape[-1], self.out_features]), name="w")
                self.b = tf.Variable(tf.zeros([self.out_features]), name="b")
                self.is_built = True

            y = tf.matmul(x, self.w) + self.b
            return tf.nn.relu(y)

    # Used in a module
    class MySequentialModule(tf.Module):
        def __init__(self, name=None):
            super().__init__(name=name)

            self.dense_1 = FlexibleDenseModule(out_features=3)
            self.dense_2 = FlexibleDenseModule(out_features=2)

        def __call__(self, x):
            x = self.dense_1(x)
            return self.dense_2(x)

    my_model = MySequentialModule(name="the_model")
    print("Model results:", my_model(tf.constant([[2.0, 2.0, 2.0]])))

    # Saving weights
    chkp_path = "my_checkpoint"
    checkpoint = tf.train.Checkpoint(model=my_model)
    print(checkpoint.write(chkp_path))

    # (the guide's `!ls my_checkpoint*`: the names without the suffixes, which differ)
    print(sorted({name.split(".")[0] for name in os.listdir(".") if name.startswith("my_checkpoint")}))

    print(tf.train.list_variables(chkp_path))

    new_model = MySequentialModule()
    new_checkpoint = tf.train.Checkpoint(model=new_model)
    new_checkpoint.restore("my_checkpoint")

    # Should be the same result as above
    print(new_model(tf.constant([[2.0, 2.0, 2.0]])))

    # Saving functions
    class MySequentialModule(tf.Module):
        def __init__(self, name=None):
            super().__init__(name=name)

            self.dense_1 = Dense(in_features=3, out_features=3)
            self.dense_2 = Dense(in_features=3, out_features=2)

        @tf.function
        def __call__(self, x):
            x = self.dense_1(x)
            return self.dense_2(x)

    # You have made a model with a graph!
    my_model = MySequentialModule(name="the_model")

    print(my_model([[2.0, 2.0, 2.0]]))
    print(my_model([[[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]]))

    # (left out: the TensorBoard trace of a fresh model, tf.summary and tf.profiler)

    tf.saved_model.save(my_model, "the_saved_model")

    # (left out: !ls -l the_saved_model and !ls -l the_saved_model/variables)

    new_model = tf.saved_model.load("the_saved_model")

    print(isinstance(new_model, SequentialModule))

    print(my_model([[2.0, 2.0, 2.0]]))
    print(my_model([[[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]]))

    # Keras layers
    class MyDense(tf.keras.layers.Layer):
        # Adding **kwargs to support base Keras layer arguments
        def __init__(self, in_features, out_features, **kwargs):
            super().__init__(**kwargs)

            # This will soon move to the build step; see below
            self.w = tf.Variable(fixed_normal([in_features, out_features]), name="w")
            self.b = tf.Variable(tf.zeros([out_features]), name="b")

        def call(self, x):
            y = tf.matmul(x, self.w) + self.b
            return tf.nn.relu(y)

    simple_layer = MyDense(name="simple", in_features=3, out_features=3)

    # (the guide passes the list [[2.0, 2.0, 2.0]]: Keras 3 takes only tensors positionally)
    print(simple_layer(tf.constant([[2.0, 2.0, 2.0]])))

    class FlexibleDense(tf.keras.layers.Layer):
        # Note the added `**kwargs`, as Keras supports many arguments
        def __init__(self, out_features, **kwargs):
            super().__init__(**kwargs)
            self.out_features = out_features

        def build(self, input_shape):  # Create the state of the layer (weights)
            self.w = tf.Variable(fixed_normal([input_shape[-1], self.out_features]), name="w")
            self.b = tf.Variable(tf.zeros([self.out_features]), name="b")

        def call(self, inputs):  # Defines the computation from inputs to outputs
            return tf.matmul(inputs, self.w) + self.b

    # Create the instance of the layer
    flexible_dense = FlexibleDense(out_features=3)

    # (left out here and below: printing a Keras layer's `variables`. Keras 3 does not collect
    # tf.Variable attributes, so TF 2.21 prints []; gputensor collects them, as tf.keras 2 did.)

    # Call it, with predictably random results
    print("Model results:", flexible_dense(tf.constant([[2.0, 2.0, 2.0], [3.0, 3.0, 3.0]])))

    try:
        print("Model results:", flexible_dense(tf.constant([[2.0, 2.0, 2.0, 2.0]])))
    except tf.errors.InvalidArgumentError as e:
        print("Failed:", type(e).__name__)

    # Keras models
    class MySequentialModel(tf.keras.Model):
        def __init__(self, name=None, **kwargs):
            super().__init__(**kwargs)

            self.dense_1 = FlexibleDense(out_features=3)
            self.dense_2 = FlexibleDense(out_features=2)

        def call(self, x):
            x = self.dense_1(x)
            return self.dense_2(x)

    # You have made a Keras model!
    my_sequential_model = MySequentialModel(name="the_model")

    # Call it on a tensor, with random results
    print("Model results:", my_sequential_model(tf.constant([[2.0, 2.0, 2.0]])))

    # (left out: my_sequential_model.submodules, which a Keras 3 Model does not have)

    inputs = tf.keras.Input(
        shape=[
            3,
        ]
    )

    x = FlexibleDense(3)(inputs)
    x = FlexibleDense(2)(x)

    my_functional_model = tf.keras.Model(inputs=inputs, outputs=x)

    # (left out: my_functional_model.summary(), Keras 3's table)

    print(my_functional_model(tf.constant([[2.0, 2.0, 2.0]])))

    # (left out: my_sequential_model.save("exname_of_file") and tf.keras.models.load_model: Keras 3
    # wants a ".keras" file name, and reloading a subclassed model needs its get_config)
