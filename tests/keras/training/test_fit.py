"""The training loop (gputensor/keras/trainer.py, data_adapter.py, callbacks.py) on a minimal
model: a linear regression whose optimum is known, with a plain SGD, so every check compares
with closed forms or with the same loop run eagerly."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest

import gputensor as gt
from gputensor.keras import callbacks, data_adapter
from gputensor.keras.trainer import Trainer


class Linear(gt.Module, Trainer):
    """y = x @ w + b, with the weights API fit's callbacks use."""

    def __init__(self, n_in: int = 2) -> None:
        super().__init__()
        self.w = gt.Variable(np.zeros((n_in, 1), np.float32), name="w")
        self.b = gt.Variable(np.zeros(1, np.float32), name="b")

    def __call__(self, x, training=False):
        return gt.matmul(x, self.w) + self.b

    def get_weights(self):
        return [v.numpy() for v in (self.w, self.b)]

    def set_weights(self, weights):
        for v, w in zip((self.w, self.b), weights):
            v.assign(w)

    def save_weights(self, path):
        np.savez(path, *self.get_weights())


class SGD:
    def __init__(self, learning_rate=0.1):
        self.learning_rate = learning_rate

    def apply_gradients(self, pairs):
        for g, v in pairs:
            v.assign_sub(self.learning_rate * g)


def mse(y, p):  # per sample, as Keras loss functions: compile wraps it in LossFunctionWrapper
    return gt.reduce_mean(gt.square(y - p), axis=-1)


W_TRUE, B_TRUE = np.array([[2.0], [-1.0]], np.float32), 0.5


def _data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2)).astype(np.float32)
    return x, (x @ W_TRUE + B_TRUE).astype(np.float32)


def _model(lr=0.1, **compile_kwargs):
    m = Linear()
    m.compile(optimizer=SGD(lr), loss=mse, **compile_kwargs)
    return m


def test_fit_converges_and_records_history():
    x, y = _data()
    m = _model()
    history = m.fit(x, y, batch_size=16, epochs=20, verbose=0)
    assert isinstance(history, callbacks.History) and history.epoch == list(range(20))
    assert len(history.history["loss"]) == 20 and history.history["loss"][-1] < 1e-4
    np.testing.assert_allclose(m.w.numpy(), W_TRUE, atol=1e-2)
    np.testing.assert_allclose(m.b.numpy(), [B_TRUE], atol=1e-2)


def test_graph_and_eager_steps_train_identically():
    x, y = _data()
    weights = []
    for eager in (False, True):
        m = _model(run_eagerly=eager)
        m.fit(x, y, batch_size=20, epochs=3, shuffle=False, verbose=0)  # 96 = 4 * 20 + 16: two shapes
        weights.append(m.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_the_epoch_loss_is_the_batch_size_weighted_mean_of_the_step_losses():
    x, y = _data(n=10)
    m = _model(lr=0.0)  # no update: every step sees the same weights
    m.w.assign(np.ones((2, 1), np.float32))
    logs = m.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0).history
    pred = x @ np.ones((2, 1), np.float32)
    np.testing.assert_allclose(logs["loss"][0], np.mean((y - pred) ** 2), rtol=1e-5)


def test_validation_split_holds_out_the_last_samples():
    x, y = _data(n=100)
    m = _model()
    history = m.fit(x, y, batch_size=16, epochs=2, validation_split=0.25, shuffle=False, verbose=0)
    held_out = m.evaluate(x[75:], y[75:], verbose=0)
    np.testing.assert_allclose(history.history["val_loss"][-1], held_out, rtol=1e-5)
    assert sorted(history.history) == ["loss", "val_loss"]


def test_sample_and_class_weights_reach_the_loss():
    x, y = _data(n=8)
    m = _model(lr=0.0)
    sw = np.array([1, 0, 1, 0, 1, 0, 1, 0], np.float32)
    m.w.assign(np.ones((2, 1), np.float32))
    loss = m.evaluate(x, y, sample_weight=sw, batch_size=8, verbose=0)
    err = np.mean((y - x @ np.ones((2, 1), np.float32)) ** 2, axis=-1)
    np.testing.assert_allclose(loss, np.sum(err * sw) / 8, rtol=1e-5)
    labels = np.array([0, 1, 1, 2])
    np.testing.assert_array_equal(
        data_adapter.with_class_weight(labels, None, {0: 1.0, 1: 3.0}), [1.0, 3.0, 3.0, 1.0]
    )
    one_hot = np.eye(3)[labels]
    np.testing.assert_array_equal(
        data_adapter.with_class_weight(one_hot, np.full(4, 0.5), {2: 4.0}), [0.5, 0.5, 0.5, 2.0]
    )


def test_generators_and_iterables_feed_fit():
    x, y = _data(n=64)

    def batches():
        while True:
            for i in range(0, 64, 16):
                yield x[i : i + 16], y[i : i + 16]

    class Batches:  # re-iterable, as a gt.data.Dataset is
        def __iter__(self):
            return ((x[i : i + 16], y[i : i + 16]) for i in range(0, 64, 16))

    for source, steps in ((batches(), 4), (Batches(), None)):
        m = _model()
        history = m.fit(source, epochs=15, steps_per_epoch=steps, verbose=0)
        assert history.history["loss"][-1] < 1e-3
    with pytest.raises(ValueError, match="y must be None"):
        _model().fit(Batches(), y, verbose=0)


def test_evaluate_and_predict_shapes():
    x, y = _data(n=50)
    m = _model()
    m.fit(x, y, epochs=2, verbose=0)
    pred = m.predict(x, batch_size=7, verbose=0)
    assert isinstance(pred, np.ndarray) and pred.shape == (50, 1)
    np.testing.assert_allclose(pred, x @ m.w.numpy() + m.b.numpy(), rtol=1e-5, atol=1e-6)
    assert isinstance(m.evaluate(x, y, verbose=0), float)
    assert set(m.evaluate(x, y, verbose=0, return_dict=True)) == {"loss"}
    assert m.train_on_batch(x[:8], y[:8]) > 0
    np.testing.assert_allclose(m.predict_on_batch(x[:3]), x[:3] @ m.w.numpy() + m.b.numpy(), rtol=1e-5)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda m, x, y: Linear().fit(x, y, verbose=0), "must be compiled"),
        (lambda m, x, y: m.fit(x, y[:10], verbose=0), "different numbers of samples"),
        (lambda m, x, y: m.fit(x, y, batch_size=0, verbose=0), "batch_size must be positive"),
        (
            lambda m, x, y: m.fit(x, y, validation_split=1.5, verbose=0),
            r"validation_split must be in \(0, 1\)",
        ),
        (lambda m, x, y: m.fit(iter([]), verbose=0), "produced no batch"),
    ],
)
def test_bad_input_is_refused_clearly(call, match):
    x, y = _data(n=20)
    with pytest.raises((ValueError, RuntimeError), match=match):
        call(_model(), x, y)


# ------------------------------------------------------------------------ callbacks
class Recorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def __getattribute__(self, name):
        if name.startswith("on_"):
            return lambda *a, **k: self.calls.append(name)
        return super().__getattribute__(name)


def test_hooks_run_in_keras_order():
    x, y = _data(n=8)
    rec = Recorder()
    _model().fit(x, y, batch_size=4, epochs=2, validation_data=(x, y), callbacks=[rec], verbose=0)
    epoch = ["on_epoch_begin", *["on_train_batch_begin", "on_train_batch_end"] * 2]
    # Keras 3 calls on_test_begin/on_test_end around fit's validation too.
    epoch += [
        "on_test_begin",
        *["on_test_batch_begin", "on_test_batch_end"] * 2,
        "on_test_end",
        "on_epoch_end",
    ]
    assert rec.calls == ["on_train_begin", *epoch, *epoch, "on_train_end"]
    assert rec.params == {"epochs": 2, "steps": 2, "verbose": 0}


def test_early_stopping_waits_patience_epochs_and_restores_the_best_weights():
    x, y = _data()
    m = _model(lr=0.0)  # a flat loss: no epoch improves on the first
    best = m.get_weights()

    class Drift(callbacks.Callback):  # weights change but the monitored value does not improve
        def on_epoch_end(self, epoch, logs=None):
            m.b.assign(m.b.numpy() + 1.0)
            logs["loss"] = 1.0 + epoch

    stop = callbacks.EarlyStopping(monitor="loss", patience=2, restore_best_weights=True)
    history = m.fit(x, y, epochs=10, callbacks=[Drift(), stop], verbose=0)
    assert len(history.epoch) == 3 and stop.stopped_epoch == 2 and stop.best_epoch == 0
    np.testing.assert_array_equal(m.b.numpy(), best[1] + 1.0)  # the weights after epoch 0


def test_learning_rate_scheduler_and_reduce_on_plateau_set_the_rate():
    x, y = _data(n=16)
    m = _model(lr=0.1)
    seen = []
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5**epoch)
    record = callbacks.LambdaCallback(
        on_epoch_begin=lambda e, logs=None: seen.append(m.optimizer.learning_rate)
    )
    history = m.fit(x, y, epochs=3, callbacks=[sched, record], verbose=0)
    assert seen == [0.1, 0.05, 0.025] and history.history["learning_rate"] == [0.1, 0.05, 0.025]

    m = _model(lr=0.0)
    plateau = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_lr=0.0)
    m.optimizer.learning_rate = 1.0
    m.fit(x, y, epochs=4, callbacks=[plateau], verbose=0)  # lr 0 -> the loss never improves
    assert m.optimizer.learning_rate == pytest.approx(1.0 * 0.5**3)


def test_csv_logger_model_checkpoint_and_terminate_on_nan(tmp_path):
    x, y = _data(n=16)
    m = _model()
    log = tmp_path / "log.csv"
    ckpt = str(tmp_path / "w-{epoch:02d}.npz")
    m.fit(
        x, y, epochs=3, validation_data=(x, y), verbose=0,
        callbacks=[callbacks.CSVLogger(log), callbacks.ModelCheckpoint(ckpt, save_weights_only=True)],
    )  # fmt: skip
    rows = list(csv.DictReader(open(log)))
    assert [r["epoch"] for r in rows] == ["0", "1", "2"] and set(rows[0]) == {"epoch", "loss", "val_loss"}
    assert all((tmp_path / f"w-{e:02d}.npz").exists() for e in (1, 2, 3))
    saved = np.load(tmp_path / "w-03.npz")
    np.testing.assert_array_equal(saved["arr_0"], m.w.numpy())

    m = _model(lr=1e30)  # diverges to inf/nan within a few steps
    history = m.fit(x * 1e10, y, batch_size=2, epochs=5, callbacks=[callbacks.TerminateOnNaN()], verbose=0)
    assert len(history.epoch) == 1 and not math.isfinite(history.history["loss"][0])


def test_progress_output_per_verbosity():
    x, y = _data(n=40)
    out = io.StringIO()
    m = _model()
    cb = callbacks.CallbackList([callbacks.ProgbarLogger(2, out)], m, {"epochs": 2, "steps": 3})
    cb.on_epoch_begin(0)
    for step in range(3):
        cb.on_train_batch_end(step, {"loss": 0.5})
    cb.on_epoch_end(0, {"loss": 0.25, "val_loss": 0.125})
    lines = out.getvalue().splitlines()
    assert lines[0] == "Epoch 1/2"
    assert lines[1].startswith("3/3 - 0s - ") and lines[1].endswith("/step - loss: 0.2500 - val_loss: 0.1250")
    out = io.StringIO()
    cb = callbacks.CallbackList([callbacks.ProgbarLogger(1, out)], m, {"epochs": 1, "steps": 4})
    cb.on_epoch_begin(0)
    cb.on_train_batch_end(0, {"loss": 1.0})
    cb.on_epoch_end(0, {"loss": 0.5})
    text = out.getvalue()  # not a terminal: only the epoch's final bar
    assert text.count("\r") == 1 and "1/4 ━━━━━" in text and "loss: 0.5000" in text


def test_metrics_are_the_loss_tracker_and_compile_metrics_as_keras_3():
    from gputensor.keras import metrics as metrics_module

    inputs = gt.keras.Input(shape=(2,))
    model = gt.keras.Model(inputs, gt.keras.layers.Dense(1)(inputs))
    assert model.metrics == []  # before compile
    model.compile(
        optimizer="sgd", loss="mse", metrics=["mae"], weighted_metrics=[metrics_module.MeanSquaredError()]
    )
    x, y = _data(n=8)
    y = y[:, :1]
    logs = model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    assert [m.name for m in model.metrics] == ["loss", "compile_metrics"]
    assert [m.name for m in model.metrics[1].metrics] == ["mae", "mean_squared_error"]
    assert sorted(logs) == ["loss", "mae", "mean_squared_error"]
    pred = model.predict(x, verbose=0)
    np.testing.assert_allclose(logs["mae"], np.mean(np.abs(pred - y)), rtol=1e-5)
    # evaluate's list follows model.metrics: the loss, then the compiled metrics in order.
    values = model.evaluate(x, y, batch_size=4, verbose=0)
    assert values == [logs["loss"], logs["mae"], logs["mean_squared_error"]]
    # compile_metrics' result is a dict; the loss tracker takes update_state(loss) alone.
    model.reset_metrics()
    model.metrics[0].update_state(2.0)
    model.metrics[0].update_state(4.0)
    model.metrics[1].update_state(y, pred)
    assert float(model.metrics[0].result()) == 3.0
    np.testing.assert_allclose(float(model.metrics[1].result()["mae"]), np.mean(np.abs(pred - y)), rtol=1e-5)


def test_a_train_step_returning_compile_metrics_logs_them_flat():
    from gputensor.keras.trainer import flatten_logs

    assert flatten_logs({"loss": 1.0, "compile_metrics": {"mae": 2.0, "acc": 3.0}}) == {
        "loss": 1.0,
        "mae": 2.0,
        "acc": 3.0,
    }


def test_callbacks_get_empty_logs_and_on_train_end_gets_the_epoch_logs():
    x, y = _data(n=8)
    seen = {}

    class Rec(callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen["begin"] = logs

        def on_test_begin(self, logs=None):
            seen["test_begin"] = logs

        def on_train_end(self, logs=None):
            seen["end"] = sorted(logs)

    _model().fit(x, y, batch_size=4, epochs=1, validation_data=(x, y), callbacks=[Rec()], verbose=0)
    assert seen == {"begin": {}, "test_begin": {}, "end": ["loss", "val_loss"]}
