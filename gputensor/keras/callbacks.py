"""Keras callbacks: hooks `fit`, `evaluate` and `predict` call around epochs and batches.

`fit` always adds a `History` (returned) and, for ``verbose`` 1 or 2, a `ProgbarLogger`; the
user's callbacks run in the order given, before them. Log values reach callbacks as Python
floats (read once per batch, as Keras 3 does).
"""

from __future__ import annotations

import csv
import math
import os
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np


class Callback:
    """Base class: override any ``on_*`` method. ``self.model`` and ``self.params`` are set by fit."""

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_batch_end(self, batch: int, logs: dict | None = None) -> None: ...

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Calls `on_batch_begin` (Keras's backward-compatible alias)."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Calls `on_batch_end` (Keras's backward-compatible alias)."""
        self.on_batch_end(batch, logs=logs)

    def on_test_begin(self, logs: dict | None = None) -> None: ...
    def on_test_end(self, logs: dict | None = None) -> None: ...
    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_predict_begin(self, logs: dict | None = None) -> None: ...
    def on_predict_end(self, logs: dict | None = None) -> None: ...
    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None: ...


class CallbackList:
    """Calls every callback's hook in order."""

    def __init__(self, callbacks: Iterable[Callback], model: Any, params: dict) -> None:
        self.callbacks = list(callbacks)
        for c in self.callbacks:
            c.set_model(model)
            c.set_params(params)

    def __getattr__(self, hook: str) -> Callable:
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        # As Keras's CallbackList: every hook gets its logs positionally (an empty dict when
        # the loop has none: Keras 3's ``logs = logs or {}``), so user callbacks may declare
        # ``def on_train_begin(self, logs)`` and read ``logs.keys()``.
        n_args = 2 if ("batch" in hook or "epoch" in hook) else 1

        def call(*args: Any, logs: Any = None) -> None:
            args = (*args, logs) if len(args) < n_args else args
            args = (*args, *([None] * (n_args - len(args))))
            args = (*args[:-1], args[-1] if args[-1] is not None else {})
            for c in self.callbacks:
                getattr(c, hook)(*args)

        return call


class History(Callback):
    """Records every epoch's logs: ``history.history["loss"]`` is one value per epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


def _format_value(v: Any) -> str:
    # As Keras: 4 decimals, scientific for tiny non-zero values.
    v = float(v)
    return f"{v:.4f}" if v == 0 or abs(v) >= 1e-3 or not math.isfinite(v) else f"{v:.4e}"


def _format_time(seconds: float) -> str:
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


def _format_step(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


class ProgbarLogger(Callback):
    """Keras 3's progress output.

    ``verbose=1``: a bar per epoch redrawn after each batch on a terminal (``12/32
    ━━━━━━━━━━━━━━━━━━━━ 0s 3ms/step - accuracy: 0.8125 - loss: 0.4011``; elsewhere only the
    epoch's last state); ``verbose=2``: one line per epoch (``32/32 - 0s - 3ms/step -
    accuracy: ... - loss: ...``). Keys are sorted, as Keras 3 prints them.
    """

    WIDTH = 20

    def __init__(self, verbose: int = 1, stream: Any = None) -> None:
        super().__init__()
        self.verbose = verbose
        self.stream = stream
        self._start = 0.0
        self._seen = 0
        self._last = ""

    def _out(self) -> Any:
        return self.stream or sys.stdout

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()
        self._seen = 0
        epochs = self.params.get("epochs")
        if epochs is not None:
            self._out().write(f"Epoch {epoch + 1}/{epochs}\n")

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._seen = batch + 1
        # Redrawn in place on a terminal only: a log file gets the epoch's final line alone.
        if self.verbose == 1 and getattr(self._out(), "isatty", lambda: False)():
            self._draw(logs or {}, final=False)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._draw(logs or {}, final=True)

    def _draw(self, logs: dict, final: bool) -> None:
        steps = self.params.get("steps")
        elapsed = time.perf_counter() - self._start
        per_step = elapsed / max(1, self._seen)
        values = " - ".join(f"{k}: {_format_value(v)}" for k, v in sorted(logs.items()))
        tail = f" - {values}" if values else ""
        out = self._out()
        if self.verbose == 2:
            if final:
                out.write(
                    f"{self._seen}/{steps or self._seen} - {_format_time(elapsed)} - {_format_step(per_step)}{tail}\n"
                )
            return
        if steps:
            done = min(self.WIDTH, int(self.WIDTH * self._seen / steps))
            # Keras colours the done part; without a terminal the bar shows done as ━ and the rest blank.
            if getattr(out, "isatty", lambda: False)():
                bar = "\x1b[32m" + "━" * done + "\x1b[0m" + "━" * (self.WIDTH - done)
            else:
                bar = "━" * done + " " * (self.WIDTH - done)
            count = f"{self._seen:>{len(str(steps))}}/{steps}"
        else:
            bar, count = "", f"{self._seen}/Unknown"
        eta_or_elapsed = elapsed if final or not steps else per_step * (steps - self._seen)
        line = f"{count} {bar} {_format_time(eta_or_elapsed)} {_format_step(per_step)}{tail}"
        pad = " " * max(0, len(self._last) - len(line))
        out.write(f"\r{line}{pad}" + ("\n" if final else ""))
        self._last = "" if final else line
        out.flush()


class EarlyStopping(Callback):
    """Stops training when ``monitor`` has stopped improving (Keras 3 arguments)."""

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__()
        self.monitor = monitor
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.min_delta = abs(min_delta)
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.better = _better(mode, monitor)
        self.min_delta *= 1 if self.better(1, 0) else -1
        self.wait = 0
        self.stopped_epoch = 0
        self.best: float = math.inf
        self.best_weights: list | None = None
        self.best_epoch = 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = -math.inf if self.better(1, 0) else math.inf
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        current = _monitored(logs, self.monitor, "EarlyStopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self.better(current - self.min_delta, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self.better(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                if self.verbose:
                    print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")


class ModelCheckpoint(Callback):
    """Saves the model or its weights after each epoch (``save_best_only`` keeps the best).

    ``filepath`` may hold ``{epoch}`` and log keys (``"w.{epoch:02d}-{val_loss:.2f}.weights.h5"``).
    """

    def __init__(
        self,
        filepath: str,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str = "epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        super().__init__()
        if save_freq != "epoch":
            raise ValueError("ModelCheckpoint: only save_freq='epoch' is supported; save every epoch")
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.better = _better(mode, monitor)
        self.best = initial_value_threshold

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            current = _monitored(logs, self.monitor, "ModelCheckpoint")
            if current is None or (self.best is not None and not self.better(current, self.best)):
                return
            if self.verbose:
                print(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best} to {current}, saving model to {path}"
                )
            self.best = current
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate to ``schedule(epoch, lr)`` at the start of each epoch."""

    def __init__(self, schedule: Callable, verbose: int = 0) -> None:
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        lr = float(_get_lr(self.model.optimizer))
        new = self.schedule(epoch, lr)
        new = float(new.numpy() if hasattr(new, "numpy") else new)
        if not math.isfinite(new):
            raise ValueError(f"LearningRateScheduler: the schedule returned {new} for epoch {epoch}")
        _set_lr(self.model.optimizer, new)
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {new}.")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(_get_lr(self.model.optimizer))


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by ``factor`` when ``monitor`` stops improving."""

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be below 1.0, got {factor}")
        self.monitor, self.factor, self.patience = monitor, factor, patience
        self.verbose, self.min_delta, self.cooldown, self.min_lr = verbose, min_delta, cooldown, min_lr
        self.better = _better(mode, monitor)
        self.wait = self.cooldown_counter = 0
        self.best = math.inf

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.wait = self.cooldown_counter = 0
        self.best = -math.inf if self.better(1, 0) else math.inf

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs if logs is not None else {}
        logs["learning_rate"] = float(_get_lr(self.model.optimizer))
        current = _monitored(logs, self.monitor, "ReduceLROnPlateau")
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        delta = self.min_delta if self.better(1, 0) else -self.min_delta
        if self.better(current - delta, self.best):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = float(_get_lr(self.model.optimizer))
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    _set_lr(self.model.optimizer, new)
                    if self.verbose:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class CSVLogger(Callback):
    """Writes each epoch's logs as a CSV row (``epoch`` first, then the keys sorted)."""

    def __init__(self, filename: str, separator: str = ",", append: bool = False) -> None:
        super().__init__()
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = append
        self._file: Any = None
        self._writer: Any = None
        self._keys: list | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        exists = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115 - kept open across epochs
        self._keys = None
        self._has_header = exists

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
            self._writer = csv.DictWriter(self._file, ["epoch", *self._keys], delimiter=self.separator)
            if not self._has_header:
                self._writer.writeheader()
        self._writer.writerow({"epoch": epoch, **{k: logs.get(k, "NA") for k in self._keys}})
        self._file.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class TerminateOnNaN(Callback):
    """Stops training when a batch's loss is NaN or infinite."""

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    def __init__(self, **hooks: Callable) -> None:
        super().__init__()
        for name, fn in hooks.items():
            if not name.startswith("on_") or not hasattr(Callback, name):
                raise TypeError(f"LambdaCallback: unknown hook {name!r}")
            setattr(self, name, fn)


def _better(mode: str, monitor: str) -> Callable[[float, float], bool]:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        mode = "max" if any(k in monitor for k in ("acc", "auc", "precision", "recall")) else "min"
    return (lambda a, b: a > b) if mode == "max" else (lambda a, b: a < b)


def _monitored(logs: dict | None, monitor: str, who: str) -> float | None:
    value = (logs or {}).get(monitor)
    if value is None:
        import warnings

        warnings.warn(
            f"{who}: the metric {monitor!r} is not in the logs (available: {', '.join(sorted(logs or {}))}); "
            "it does nothing this epoch",
            stacklevel=3,
        )
    return value


def _get_lr(optimizer: Any) -> float:
    lr = optimizer.learning_rate
    return float(lr.numpy() if hasattr(lr, "numpy") else lr)


def _set_lr(optimizer: Any, value: float) -> None:
    lr = getattr(optimizer, "learning_rate", None)
    if hasattr(lr, "assign"):
        lr.assign(value)
    else:
        optimizer.learning_rate = value
