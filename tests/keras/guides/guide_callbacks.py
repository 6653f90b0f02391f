"""The code of the guide "Writing your own callbacks" (TensorFlow version,
tensorflow.org/guide/keras/writing_your_own_callbacks), as blocks run with ``tf``/``keras``
passed in (see _common.py). MNIST is replaced by small MNIST-shaped arrays and the model's
weights are set from fixed arrays; ``fit`` gets ``shuffle=False``. Instead of printing, each
callback appends what the guide prints to a list (the hook, its batch/epoch index, the log keys
it sees and their values), and the blocks return those lists: the whole hook sequence is
compared with Keras's."""

from __future__ import annotations

from tests.keras.guides._common import mnist_like


def get_model(keras, np):
    # Define the Keras model to add callbacks to
    model = keras.Sequential()
    model.add(keras.Input(shape=(784,)))
    model.add(keras.layers.Dense(1))
    rng = np.random.RandomState(11)
    model.set_weights(
        [(rng.uniform(-1, 1, size=w.shape) * 0.05).astype("float32") for w in model.get_weights()]
    )
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=0.1),
        loss="mean_squared_error",
        metrics=["mean_absolute_error"],
    )
    return model


def _data(np):
    # Load example MNIST data and pre-process it
    (x_train, y_train), (x_test, y_test) = mnist_like(np, 512)
    x_train = x_train.reshape(-1, 784).astype("float32") / 255.0
    x_test = x_test.reshape(-1, 784).astype("float32") / 255.0
    y_train = y_train.astype("float32")
    y_test = y_test.astype("float32")
    # Limit the data to 256 samples
    x_train = x_train[:256]
    y_train = y_train[:256]
    x_test = x_test[:128]
    y_test = y_test[:128]
    return x_train, y_train, x_test, y_test


def _custom_callback(keras, events):
    def record(hook, index, logs):
        # The guide prints the hook and the log keys it got.
        keys = sorted(logs.keys()) if logs is not None else None
        events.append([hook, index, keys])

    class CustomCallback(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            record("on_train_begin", None, logs)

        def on_train_end(self, logs=None):
            record("on_train_end", None, logs)

        def on_epoch_begin(self, epoch, logs=None):
            record("on_epoch_begin", epoch, logs)

        def on_epoch_end(self, epoch, logs=None):
            record("on_epoch_end", epoch, logs)

        def on_test_begin(self, logs=None):
            record("on_test_begin", None, logs)

        def on_test_end(self, logs=None):
            record("on_test_end", None, logs)

        def on_predict_begin(self, logs=None):
            record("on_predict_begin", None, logs)

        def on_predict_end(self, logs=None):
            record("on_predict_end", None, logs)

        def on_train_batch_begin(self, batch, logs=None):
            record("on_train_batch_begin", batch, logs)

        def on_train_batch_end(self, batch, logs=None):
            record("on_train_batch_end", batch, logs)

        def on_test_batch_begin(self, batch, logs=None):
            record("on_test_batch_begin", batch, logs)

        def on_test_batch_end(self, batch, logs=None):
            record("on_test_batch_end", batch, logs)

        def on_predict_batch_begin(self, batch, logs=None):
            record("on_predict_batch_begin", batch, logs)

        def on_predict_batch_end(self, batch, logs=None):
            record("on_predict_batch_end", batch, logs)

    return CustomCallback


def block_basic_example(tf, keras, np):
    x_train, y_train, x_test, y_test = _data(np)
    fit_events, evaluate_events, predict_events = [], [], []
    model = get_model(keras, np)
    model.fit(
        x_train,
        y_train,
        batch_size=64,
        epochs=1,
        verbose=0,
        validation_split=0.5,
        shuffle=False,
        callbacks=[_custom_callback(keras, fit_events)()],
    )
    res = model.evaluate(
        x_test, y_test, batch_size=64, verbose=0, callbacks=[_custom_callback(keras, evaluate_events)()]
    )
    res_predict = model.predict(
        x_test, batch_size=64, verbose=0, callbacks=[_custom_callback(keras, predict_events)()]
    )
    return {
        "fit": fit_events,
        "evaluate": evaluate_events,
        "predict": predict_events,
        "evaluate_result": res,
        "predict_shape": list(res_predict.shape),
    }


def _loss_and_error_printing(keras, printed):
    class LossAndErrorPrintingCallback(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            printed.append(["train_batch", batch, logs["loss"]])

        def on_test_batch_end(self, batch, logs=None):
            printed.append(["test_batch", batch, logs["loss"]])

        def on_epoch_end(self, epoch, logs=None):
            printed.append(["epoch", epoch, logs["loss"], logs["mean_absolute_error"]])

    return LossAndErrorPrintingCallback


def block_usage_of_logs_dict(tf, keras, np):
    x_train, y_train, x_test, y_test = _data(np)
    printed = []
    model = get_model(keras, np)
    model.fit(
        x_train,
        y_train,
        batch_size=64,
        epochs=2,
        verbose=0,
        shuffle=False,
        callbacks=[_loss_and_error_printing(keras, printed)()],
    )
    res = model.evaluate(
        x_test,
        y_test,
        batch_size=64,
        verbose=0,
        callbacks=[_loss_and_error_printing(keras, printed)()],
    )
    return {"printed": printed, "evaluate": res}


def block_early_stopping_at_minimum_loss(tf, keras, np):
    x_train, y_train, x_test, y_test = _data(np)
    printed = []

    class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
        """Stop training when the loss is at its min, i.e. the loss stops decreasing.

        Arguments:
            patience: Number of epochs to wait after min has been hit. After this
            number of no improvement, training stops.
        """

        def __init__(self, patience=0):
            super().__init__()
            self.patience = patience
            # best_weights to store the weights at which the minimum loss occurs.
            self.best_weights = None

        def on_train_begin(self, logs=None):
            # The number of epoch it has waited when loss is no longer minimum.
            self.wait = 0
            # The epoch the training stops at.
            self.stopped_epoch = 0
            # Initialize the best as infinity.
            self.best = np.inf

        def on_epoch_end(self, epoch, logs=None):
            current = logs.get("loss")
            if np.less(current, self.best):
                self.best = current
                self.wait = 0
                # Record the best weights if current results is better (less).
                self.best_weights = self.model.get_weights()
            else:
                self.wait += 1
                if self.wait >= self.patience:
                    self.stopped_epoch = epoch
                    self.model.stop_training = True
                    printed.append("Restoring model weights from the end of the best epoch.")
                    self.model.set_weights(self.best_weights)

        def on_train_end(self, logs=None):
            if self.stopped_epoch > 0:
                printed.append(f"Epoch {self.stopped_epoch + 1}: early stopping")

    model = get_model(keras, np)
    history = model.fit(
        x_train,
        y_train,
        batch_size=64,
        epochs=30,
        verbose=0,
        shuffle=False,
        callbacks=[_loss_and_error_printing(keras, printed)(), EarlyStoppingAtMinLoss()],
    )
    return {
        "printed": printed,
        "epochs_run": len(history.history["loss"]),
        "history": history.history,
        "final_loss": model.evaluate(x_train, y_train, batch_size=64, verbose=0),
    }


def block_learning_rate_scheduling(tf, keras, np):
    x_train, y_train, x_test, y_test = _data(np)
    printed = []

    class CustomLearningRateScheduler(keras.callbacks.Callback):
        """Learning rate scheduler which sets the learning rate according to schedule.

        Arguments:
            schedule: a function that takes an epoch index
                (integer, indexed from 0) and current learning rate
                as inputs and returns a new learning rate as output (float).
        """

        def __init__(self, schedule):
            super().__init__()
            self.schedule = schedule

        def on_epoch_begin(self, epoch, logs=None):
            if not hasattr(self.model.optimizer, "learning_rate"):
                raise ValueError('Optimizer must have a "learning_rate" attribute.')
            # Get the current learning rate from model's optimizer.
            lr = self.model.optimizer.learning_rate
            # Call schedule function to get the scheduled learning rate.
            scheduled_lr = self.schedule(epoch, lr)
            # Set the value back to the optimizer before this epoch starts
            self.model.optimizer.learning_rate = scheduled_lr
            printed.append(f"Epoch {epoch}: Learning rate is {float(np.array(scheduled_lr))}.")

    LR_SCHEDULE = [
        # (epoch to start, learning rate) tuples
        (3, 0.05),
        (6, 0.01),
        (9, 0.005),
        (12, 0.001),
    ]

    def lr_schedule(epoch, lr):
        """Helper function to retrieve the scheduled learning rate based on epoch."""
        if epoch < LR_SCHEDULE[0][0] or epoch > LR_SCHEDULE[-1][0]:
            return lr
        for i in range(len(LR_SCHEDULE)):
            if epoch == LR_SCHEDULE[i][0]:
                return LR_SCHEDULE[i][1]
        return lr

    model = get_model(keras, np)
    history = model.fit(
        x_train,
        y_train,
        batch_size=64,
        epochs=15,
        verbose=0,
        shuffle=False,
        callbacks=[
            _loss_and_error_printing(keras, printed)(),
            CustomLearningRateScheduler(lr_schedule),
        ],
    )
    return {
        "printed": [p for p in printed if isinstance(p, str) or p[0] == "epoch"],
        "history": history.history,
        "final_lr": float(np.array(model.optimizer.learning_rate)),
    }


def block_builtin_callbacks(tf, keras, np):
    # The guide's pointer to the built-in callbacks: EarlyStopping and LearningRateScheduler
    # doing what the two custom callbacks above do.
    x_train, y_train, x_test, y_test = _data(np)
    model = get_model(keras, np)
    history = model.fit(
        x_train,
        y_train,
        batch_size=64,
        # (Not 30: by then the loss plateaus to the last float32 digit, where which epoch
        # "did not improve" is rounding.)
        epochs=12,
        verbose=0,
        shuffle=False,
        callbacks=[
            keras.callbacks.EarlyStopping(monitor="loss", patience=0, restore_best_weights=True),
            keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch >= 2 else lr),
        ],
    )
    return {
        "history": history.history,
        "final_lr": float(np.array(model.optimizer.learning_rate)),
        "final_loss": model.evaluate(x_train, y_train, batch_size=64, verbose=0),
    }
