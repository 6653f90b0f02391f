"""Models whose weight, optimizer and metric variable names and paths are compared with Keras 3's.

``cases(keras, plain_variable, reset)`` runs the same lines with real Keras
(scripts/make_keras_names_fixture.py, ``plain_variable=tf.Variable``) and with gt.keras (the
test, ``plain_variable=gt.Variable``); ``reset`` restarts the automatic names (Keras's
``clear_session``) so both count from zero.
"""

import numpy as np


def _names(variables):
    return [[v.name, v.path] for v in variables]


def cases(keras, plain_variable, reset):
    out = {}
    layers = keras.layers
    x3 = np.ones((4, 3), "float32")

    reset()
    seq = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    out["sequential_from_input"] = _names(seq.weights)

    reset()
    lazy = keras.Sequential([layers.Dense(4), layers.BatchNormalization(), layers.Dense(1)])
    lazy(x3)
    out["sequential_first_call"] = _names(lazy.weights)
    out["sequential_first_call_non_trainable"] = _names(lazy.non_trainable_weights)

    reset()
    inp = keras.Input((3,))
    h = layers.Dense(4)(inp)
    h = layers.BatchNormalization()(h)
    functional = keras.Model(inp, layers.Dense(1, name="head")(h))
    out["functional"] = _names(functional.weights)

    reset()

    class Block(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.d1 = layers.Dense(2)
            self.d2 = layers.Dense(2)
            self.w = self.add_weight(shape=(2,), name="w")

        def call(self, x):
            return self.d2(self.d1(x)) * self.w

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.out = layers.Dense(1)

        def call(self, x):
            return self.out(self.block(x))

    net = Net()
    net(x3)
    out["subclassed_nested"] = _names(net.weights)

    reset()

    class Affine(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(2)

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), name="w")

        def call(self, x):
            return self.d(x * self.w)

    affine = Affine()
    affine(x3)
    out["subclassed_own_build"] = _names(affine.weights)

    reset()
    seqs = np.ones((2, 5, 3), "float32")
    lstm, gru = layers.LSTM(2), layers.GRU(2)
    lstm(seqs)
    gru(seqs)
    bi = layers.Bidirectional(layers.LSTM(2))
    bi(seqs)
    td = layers.TimeDistributed(layers.Dense(2))
    td(seqs)
    out["lstm"] = _names(lstm.weights)
    out["gru"] = _names(gru.weights)
    out["bidirectional"] = _names(bi.weights)
    out["time_distributed"] = _names(td.weights)

    reset()
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3, name="mha")
    mha(seqs, seqs)
    out["multi_head_attention"] = _names(mha.weights)

    reset()
    dense = layers.Dense(2)
    dense.build((None, 3))
    conv = layers.Conv2D(2, 3)
    conv.build((None, 5, 5, 1))
    out["built_directly"] = _names(dense.weights + conv.weights)

    reset()
    # The functional model first: Keras's Sequential builds an inner functional model that
    # takes the name "functional" (gt's does not).
    inp = keras.Input((3,))
    functional = keras.Model(inp, layers.Dense(1)(inp))
    paths = [functional.path, functional.layers[1].path]
    unbuilt = keras.Sequential([layers.Dense(2)])
    paths.append(unbuilt.path)
    unbuilt(x3)
    paths += [unbuilt.path, unbuilt.layers[0].path]
    paths += [net.path, net.block.path, net.block.d1.path, lstm.path, lstm.cell.path, bi.path, td.path]
    dense = layers.Dense(2)
    paths.append(dense.path)
    dense.build((None, 3))
    paths.append(dense.path)
    out["layer_paths"] = paths

    reset()
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2), layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(momentum=0.9), loss="mse")
    model.fit(x3, np.zeros((4, 2), "float32"), epochs=1, verbose=0)
    out["sgd_after_fit"] = _names(model.optimizer.variables)
    inp = keras.Input((3,))
    functional = keras.Model(inp, layers.Dense(1)(layers.BatchNormalization()(inp)))
    functional.compile(optimizer="adam", loss="mse")
    functional.fit(x3, np.zeros((4, 1), "float32"), epochs=1, verbose=0)
    out["adam_after_fit"] = _names(functional.optimizer.variables)

    reset()
    opt = keras.optimizers.RMSprop(momentum=0.5, centered=True)
    opt.build([plain_variable(np.zeros((2, 2), "float32"), name="w")])
    out["rmsprop_plain_variable"] = _names(opt.variables)
    out["optimizer_default_names"] = [
        o.name
        for o in (
            keras.optimizers.SGD(),
            keras.optimizers.SGD(),
            keras.optimizers.Adam(),
            keras.optimizers.AdamW(),
            keras.optimizers.Adagrad(),
            keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD()),
        )
    ]

    reset()
    metrics = [keras.metrics.Mean(), keras.metrics.MeanAbsoluteError(), keras.metrics.Accuracy()]
    out["metrics"] = [_names(m.variables) for m in metrics]
    return out
