"""The golden models of the extra layers, written once for Keras (scripts/make_keras_extra_fixtures.py)
and gt.keras (test_keras_extra_golden.py): pass either ``keras`` module."""

from __future__ import annotations


def seq_model(keras, norm_data):
    """Sequence layers."""
    layers = keras.layers
    inp = keras.Input((6, 4))
    norm = layers.Normalization(axis=-1)
    norm.adapt(norm_data)
    x = norm(inp)
    x = layers.TimeDistributed(layers.Dense(6))(x)
    x = layers.PReLU(shared_axes=[1])(x)
    x = layers.GroupNormalization(groups=3)(x)
    x = layers.GaussianNoise(0.3)(x)
    x = layers.Cropping1D((1, 2))(x)
    x = layers.ZeroPadding1D((2, 1))(x)
    x = layers.SpatialDropout1D(0.4)(x)
    a = layers.Permute((2, 1))(x)  # (6, 6)
    a = layers.Softmax(axis=-1)(a)
    b = layers.ELU(alpha=0.5)(x)
    b = layers.UnitNormalization(axis=-1)(b)
    b = layers.AlphaDropout(0.2)(b)
    d = layers.Dot(axes=(2, 1), normalize=False)([b, a])  # (6, 6)
    c = layers.Dot(axes=2, normalize=True)([x, b])  # (6, 6)
    m = layers.Maximum()([c, d])
    n = layers.Minimum()([c, d])
    s = layers.Subtract()([m, n])
    s = layers.GaussianDropout(0.3)(s)
    s = layers.ActivityRegularization(l1=0.01)(s)
    s = layers.Identity()(s)
    f = layers.Flatten()(s)
    f = layers.Dense(3)(f)
    r = layers.RepeatVector(2)(f)
    return keras.Model(inp, [r, layers.Dot(axes=1)([f, f])])


def image_model(keras):
    layers = keras.layers
    inp = keras.Input((7, 6, 4))
    x = layers.Cropping2D(((1, 0), (2, 1)))(inp)  # (6, 3, 4)
    x = layers.SpatialDropout2D(0.5)(x)
    x = layers.GroupNormalization(groups=2, epsilon=1e-2)(x)
    x = layers.Conv2D(6, 3, padding="same")(x)
    x = layers.PReLU(shared_axes=[1, 2], alpha_initializer="ones")(x)
    x = layers.GroupNormalization(groups=-1, axis=-1, center=False)(x)
    x = layers.Softmax(axis=[1, 2])(x)
    return keras.Model(inp, x)


def masked_model(keras):
    layers = keras.layers
    inp = keras.Input((5,), dtype="int32")
    x = layers.Embedding(7, 4, mask_zero=True)(inp)
    x = layers.TimeDistributed(layers.Dense(3, activation="tanh"))(x)
    x = layers.Identity()(x)
    x = layers.LSTM(4, return_sequences=True)(x)
    return keras.Model(inp, layers.GlobalAveragePooling1D()(x))
