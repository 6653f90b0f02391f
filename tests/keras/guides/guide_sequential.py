"""The code of the guide "The Sequential model" (tensorflow.org/guide/keras/sequential_model),
as blocks run with ``tf``/``keras`` passed in (see _common.py). ``tf.ones`` inputs as the guide;
weights set from fixed arrays where the guide prints outputs."""

from __future__ import annotations

from tests.keras.guides._common import fixed_weights, summary_table


def block_when_to_use(tf, keras, np):
    layers = keras.layers
    # Define Sequential model with 3 layers
    model = keras.Sequential(
        [
            layers.Dense(2, activation="relu", name="layer1"),
            layers.Dense(3, activation="relu", name="layer2"),
            layers.Dense(4, name="layer3"),
        ]
    )
    # Call model on a test input
    x = tf.ones((3, 3))
    y = model(x)
    fixed_weights(np, model, 1)
    y = model(x)

    # Create 3 layers
    layer1 = layers.Dense(2, activation="relu", name="layer1")
    layer2 = layers.Dense(3, activation="relu", name="layer2")
    layer3 = layers.Dense(4, name="layer3")

    # Call layers on a test input
    x = tf.ones((3, 3))
    y2 = layer3(layer2(layer1(x)))
    for src, dst in zip(model.layers, [layer1, layer2, layer3]):
        dst.set_weights(src.get_weights())
    y3 = layer3(layer2(layer1(x)))
    return {
        "y": y.numpy(),
        "y_shape": list(y2.shape),
        "same_as_layers": y3.numpy(),
        "names": [layer.name for layer in model.layers],
    }


def block_creating(tf, keras, np):
    layers = keras.layers
    model = keras.Sequential(
        [
            layers.Dense(2, activation="relu"),
            layers.Dense(3, activation="relu"),
            layers.Dense(4),
        ]
    )
    n_layers = len(model.layers)
    classes = [type(layer).__name__ for layer in model.layers]

    model = keras.Sequential()
    model.add(layers.Dense(2, activation="relu"))
    model.add(layers.Dense(3, activation="relu"))
    model.add(layers.Dense(4))

    model.pop()
    after_pop = len(model.layers)  # 2

    model = keras.Sequential(name="my_sequential")
    model.add(layers.Dense(2, activation="relu", name="layer1"))
    model.add(layers.Dense(3, activation="relu", name="layer2"))
    model.add(layers.Dense(4, name="layer3"))
    return {
        "n_layers": n_layers,
        "classes": classes,
        "after_pop": after_pop,
        "name": model.name,
        "names": [layer.name for layer in model.layers],
    }


def block_input_shape(tf, keras, np):
    layers = keras.layers
    layer = layers.Dense(3)
    before = len(layer.weights)  # Empty

    # Call layer on a test input
    x = tf.ones((1, 4))
    y = layer(x)
    after = [list(w.shape) for w in layer.weights]  # Now it has weights, of shape (4, 3) and (3,)

    model = keras.Sequential(
        [
            layers.Dense(2, activation="relu"),
            layers.Dense(3, activation="relu"),
            layers.Dense(4),
        ]
    )  # No weights at this stage!
    built_before = model.built
    # At this point, you can't do this: model.weights (Keras 3: an empty list)
    weights_before = len(model.weights)
    # You also can't do this: model.summary() (Keras 3: a table of unbuilt layers)
    unbuilt = summary_table(model)
    # Call the model on a test input
    x = tf.ones((1, 4))
    y = model(x)
    n_weights = len(model.weights)  # "Number of weights after calling the model: 6"
    table = summary_table(model)

    model = keras.Sequential()
    model.add(keras.Input(shape=(4,)))
    model.add(layers.Dense(2, activation="relu"))
    table_input = summary_table(model)
    input_layers = len(model.layers)  # the Input object is not part of model.layers

    model = keras.Sequential()
    model.add(layers.Dense(2, activation="relu", input_shape=(4,)))
    table_input_shape = summary_table(model)
    return {
        "before": before,
        "after": after,
        "y_shape": list(y.shape),
        "built_before": built_before,
        "weights_before": weights_before,
        "unbuilt": unbuilt,
        "n_weights": n_weights,
        "summary": table["totals"],
        "summary_input": table_input,
        "layers_with_input": input_layers,
        "summary_input_shape": table_input_shape["totals"],
    }


def block_debugging(tf, keras, np):
    layers = keras.layers
    model = keras.Sequential()
    model.add(keras.Input(shape=(250, 250, 3)))  # 250x250 RGB images
    model.add(layers.Conv2D(32, 5, strides=2, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(3))

    # Can you guess what the current output shape is at this point? Probably not.
    # Let's just print it:
    first = summary_table(model)

    # The answer was: (40, 40, 32), so we can keep downsampling...
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(3))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(2))

    # And now?
    second = summary_table(model)

    # Now that we have 4x4 feature maps, time to apply global max pooling.
    model.add(layers.GlobalMaxPooling2D())

    # Finally, we add a classification layer.
    model.add(layers.Dense(10))
    return {
        "first": first,
        "second": second,
        "output_shape": list(model.output_shape),
        "params": model.count_params(),
    }


def block_feature_extraction(tf, keras, np):
    layers = keras.layers
    initial_model = keras.Sequential(
        [
            keras.Input(shape=(250, 250, 3)),
            layers.Conv2D(32, 5, strides=2, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
        ]
    )
    feature_extractor = keras.Model(
        inputs=initial_model.inputs,
        outputs=[layer.output for layer in initial_model.layers],
    )

    # Call feature extractor on test input.
    x = tf.ones((1, 250, 250, 3))
    features = feature_extractor(x)
    shapes = [list(f.shape) for f in features]

    initial_model = keras.Sequential(
        [
            keras.Input(shape=(250, 250, 3)),
            layers.Conv2D(32, 5, strides=2, activation="relu"),
            layers.Conv2D(32, 3, activation="relu", name="my_intermediate_layer"),
            layers.Conv2D(32, 3, activation="relu"),
        ]
    )
    fixed_weights(np, initial_model, 2)
    feature_extractor = keras.Model(
        inputs=initial_model.inputs,
        outputs=initial_model.get_layer(name="my_intermediate_layer").output,
    )
    # Call feature extractor on test input.
    x = tf.ones((1, 250, 250, 3))
    features = feature_extractor(x)
    return {
        "shapes": shapes,
        "intermediate_shape": list(features.shape),
        "intermediate_sum": float(np.sum(features.numpy())),
        "intermediate_corner": features.numpy()[0, :2, :2, :3],
    }


def block_transfer_learning(tf, keras, np):
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            layers.Dense(32, activation="relu"),
            layers.Dense(32, activation="relu"),
            layers.Dense(32, activation="relu"),
            layers.Dense(10),
        ]
    )
    # Presumably you would want to first load pre-trained weights (here: fixed arrays).
    fixed_weights(np, model, 3)
    # Freeze all layers except the last one.
    for layer in model.layers[:-1]:
        layer.trainable = False
    before = [w.copy() for w in model.get_weights()]

    # Recompile and train (this will only update the weights of the last layer).
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.RandomState(0)
    x = rng.uniform(size=(64, 784)).astype("float32")
    y = rng.uniform(size=(64, 10)).astype("float32")
    loss = model.train_on_batch(x, y)
    after = model.get_weights()
    return {
        "trainable": len(model.trainable_weights),
        "non_trainable": len(model.non_trainable_weights),
        "changed": [bool(np.any(a != b)) for a, b in zip(after, before)],
        "loss": float(loss),
        "summary": summary_table(model)["totals"],
    }
