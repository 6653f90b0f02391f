"""`compile`, `fit`, `evaluate` and `predict`: Keras 3's training loop, mixed into `Model`.

Each step (`train_step`, `test_step`, `predict_step`, overridable as in Keras) runs as a
`gt.function` unless ``compile(run_eagerly=True)`` (or ``gt.config.run_functions_eagerly``):
the forward pass, the loss, the tape's gradients, the optimizer's update and the metrics'
state updates are one traced graph per input shape. Logs are read back as Python floats after
each batch, for the progress bar and the callbacks (as Keras 3 does).

Data (`data_adapter.py`): NumPy arrays, gt tensors and nested lists/tuples/dicts of them
(batched here; ``shuffle`` reshuffles each epoch; ``validation_split`` takes the last
fraction before shuffling, as Keras), `gt.data.Dataset`s and Python generators (each yields
``x``, ``(x, y)`` or ``(x, y, sample_weight)``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from gputensor.keras import callbacks as callbacks_module
from gputensor.keras import data_adapter

_OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad"}


def _gt() -> Any:
    import gputensor

    return gputensor


def resolve_optimizer(optimizer: Any) -> Any:
    """An optimizer object from an object or a Keras name ("adam", "sgd", ...)."""
    if not isinstance(optimizer, str):
        return optimizer
    from gputensor.keras import optimizers

    cls = _OPTIMIZERS.get(optimizer.lower())
    if cls is None:
        raise ValueError(
            f"compile: unknown optimizer {optimizer!r}; use one of {sorted(_OPTIMIZERS)} or an object"
        )
    return getattr(optimizers, cls)()


def _accuracy_for(loss: Any, y_true: Any, y_pred: Any, label: str = "accuracy") -> Any:
    """Keras's choice for metrics=["accuracy"]: by the loss, else by the shapes of the first
    batch. ``label`` is the name as given ("accuracy" or "acc"), which Keras logs under."""
    from gputensor.keras import metrics

    name = getattr(loss, "name", None) or getattr(loss, "__name__", None) or str(loss)
    name = name.lower()
    if "sparse_categorical" in name:
        return metrics.SparseCategoricalAccuracy(name=label)
    if "categorical" in name:
        return metrics.CategoricalAccuracy(name=label)
    if "binary" in name:
        return metrics.BinaryAccuracy(name=label)
    pred_shape, true_shape = tuple(y_pred.shape), tuple(y_true.shape)
    if pred_shape[-1:] == (1,) or len(pred_shape) == 1:
        return metrics.BinaryAccuracy(name=label)
    if len(true_shape) == len(pred_shape) and true_shape[-1] == pred_shape[-1]:
        return metrics.CategoricalAccuracy(name=label)
    return metrics.SparseCategoricalAccuracy(name=label)


def _resolve_loss(loss: Any) -> Any:
    from gputensor.keras import losses

    if isinstance(loss, str):
        loss = losses.get(loss)
    if loss is not None and not isinstance(loss, losses.Loss):
        # As Keras: a function of (y_true, y_pred) giving per-sample losses gets the
        # reduction and sample weighting of a Loss.
        loss = losses.LossFunctionWrapper(loss)
    return loss


def _output_keys(model: Any, y_pred: Any) -> list:
    """The keys of per-output losses and metrics: a dict output's keys (sorted, the order the
    outputs flatten), else ``model.output_names``, as Keras 3."""
    if isinstance(y_pred, dict):
        return sorted(y_pred)
    return list(getattr(model, "output_names", None) or [])


def _as_list(x: Any) -> list:
    return list(x) if isinstance(x, (list, tuple)) else ([] if x is None else [x])


def _align_targets(y: Any, names: list, n: int) -> list:
    """The targets as a flat list in output order: from a dict by output name, or a list."""
    if isinstance(y, dict):
        missing = [k for k in names if k not in y]
        if missing:
            raise ValueError(f"The targets have no entries for outputs {missing} (keys: {sorted(y)})")
        return [y[k] for k in names]
    flat = list(y) if isinstance(y, (list, tuple)) else [y]
    if len(flat) != n:
        raise ValueError(
            f"The model has {n} outputs {names} but {len(flat)} targets were given: "
            "pass one target per output (a list in output order or a dict by output name)"
        )
    return flat


class _OutputLosses:
    """Keras 3's CompileLoss for several outputs: one loss per output (a list in output
    order, a dict by output name, or one loss for all), each scaled by ``loss_weights`` and
    summed. Each output's unweighted loss is logged as ``<output>_loss``, the plain mean
    over the epoch's batches (as Keras 3 logs it), when several outputs have a loss."""

    def __init__(self, spec: Any, loss_weights: Any) -> None:
        self.spec, self.loss_weights = spec, loss_weights
        self.names: list = []
        self.losses: list = []
        self.weights: list = []
        self.trackers: list = []

    def build(self, names: list, n: int) -> None:
        if self.names:
            return
        from gputensor.keras import metrics as metrics_module

        self.names = list(names)

        def per_output(value: Any, what: str, default: Any) -> list:
            if isinstance(value, dict):
                unknown = sorted(set(value) - set(names))
                if unknown:
                    raise ValueError(
                        f"compile({what}=...): no outputs named {unknown}; the outputs are {names}"
                    )
                return [value.get(k, default) for k in names]
            if isinstance(value, (list, tuple)):
                if len(value) != n:
                    raise ValueError(f"compile({what}=...): {len(value)} entries for {n} outputs {names}")
                return list(value)
            return [value] * n if value is not None else [default] * n

        self.losses = [_resolve_loss(x) for x in per_output(self.spec, "loss", None)]
        self.weights = per_output(self.loss_weights, "loss_weights", None)
        if sum(loss is not None for loss in self.losses) > 1:  # Keras: only with several losses
            self.trackers = [
                metrics_module.Mean(name=f"{name}_loss") if loss is not None else None
                for name, loss in zip(names, self.losses)
            ]
            self.trackers = [t for t in self.trackers if t is not None]

    def __call__(self, y: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        gt = _gt()
        flat_pred = data_adapter.nest.flatten(y_pred)
        flat_true = _align_targets(y, self.names, len(flat_pred)) if len(flat_pred) > 1 else [y]
        trackers = iter(self.trackers)
        total = None
        for i, (loss, weight) in enumerate(zip(self.losses, self.weights)):
            if loss is None:
                continue
            sw = sample_weight[i] if isinstance(sample_weight, (list, tuple)) else sample_weight
            value = gt.cast(loss(flat_true[i], flat_pred[i], sample_weight=sw), gt.float32)
            if self.trackers:
                next(trackers).update_state(value)
            if weight is not None:
                value = value * float(weight)
            total = value if total is None else total + value
        if total is None:
            raise ValueError("compile(loss=...): every output's loss is None")
        return total


class _LossTracker:
    """The running mean of the step losses over an epoch, weighted by batch size (Keras 3's
    ``Mean(name="loss")``, the first of ``model.metrics``): a custom ``train_step`` updates it
    with ``metric.update_state(loss)`` (each step weighing 1)."""

    name = "loss"

    def __init__(self) -> None:
        gt = _gt()
        self.total = gt.Variable(0.0, trainable=False, name="loss_total")
        self.count = gt.Variable(0.0, trainable=False, name="loss_count")

    def update_state(self, loss: Any, batch_size: Any = None, sample_weight: Any = None) -> None:
        gt = _gt()
        weight = batch_size if batch_size is not None else sample_weight
        n = gt.cast(1.0 if weight is None else weight, gt.float32)
        self.total.assign_add(gt.cast(loss, gt.float32) * n)
        self.count.assign_add(n)

    def result(self) -> Any:
        gt = _gt()
        return gt.math.divide_no_nan(self.total.read_value(), self.count.read_value())

    def reset_state(self) -> None:
        self.total.assign(0.0)
        self.count.assign(0.0)

    def __repr__(self) -> str:
        return "<Mean name='loss'>"


class _CompileMetrics:
    """Keras 3's ``CompileMetrics``: the metrics given to ``compile`` as one entry of
    ``model.metrics`` named ``"compile_metrics"``, whose ``result()`` is a dict by metric name
    (fit's logs flatten it). A custom ``train_step`` updates them all with
    ``metric.update_state(y, y_pred, sample_weight)``; ``weighted_metrics`` get the sample
    weights, ``metrics`` do not."""

    name = "compile_metrics"

    def __init__(self, model: Any) -> None:
        self._model = model

    @property
    def metrics(self) -> list:
        m = self._model
        return [*(m._compiled_metrics or []), *(m._weighted_metrics or [])]

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        model = self._model
        if model._compiled_metrics is None:  # first used eagerly, before fit built them
            model._build_metrics(y_true, y_pred)
        flat_pred = data_adapter.nest.flatten(y_pred)
        flat_true = None
        if len(flat_pred) > 1:
            loss = model._compile_loss
            names = loss.names if isinstance(loss, _OutputLosses) else _output_keys(model, y_pred)
            flat_true = _align_targets(y_true, names, len(flat_pred))
        for weighted, group in ((False, model._compiled_metrics), (True, model._weighted_metrics)):
            for m in group or []:
                index = getattr(m, "_output_index", None)
                y_t, y_p = (y_true, y_pred) if index is None else (flat_true[index], flat_pred[index])
                if weighted:
                    m.update_state(y_t, y_p, sample_weight=sample_weight)
                else:
                    m.update_state(y_t, y_p)

    def result(self) -> dict:
        return {m.name: m.result() for m in self.metrics}

    def reset_state(self) -> None:
        for m in self.metrics:
            m.reset_state()

    def __repr__(self) -> str:
        return f"<CompileMetrics name='compile_metrics' metrics={[m.name for m in self.metrics]}>"


def flatten_logs(logs: dict) -> dict:
    """A step's logs with dict values (``{m.name: m.result() for m in self.metrics}`` gives
    ``compile_metrics`` a dict) merged into the top level, as Keras 3's ``_pythonify_logs``."""
    out: dict = {}
    for k, v in logs.items():
        if isinstance(v, dict):
            out.update(flatten_logs(v))
        else:
            out[k] = v
    return out


class Trainer:
    """The training API of `Model` (Keras 3): compile, fit, evaluate, predict and their steps."""

    optimizer: Any = None
    loss: Any = None
    stop_training: bool = False
    run_eagerly: bool = False  # until compile() says otherwise: predict needs no compile

    # --------------------------------------------------------------- compile
    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        metrics: Iterable | None = None,
        loss_weights: Any = None,
        weighted_metrics: Iterable | None = None,
        run_eagerly: bool = False,
        steps_per_execution: int = 1,
        jit_compile: Any = "auto",
        auto_scale_loss: bool = True,
    ) -> None:
        """Configures the model for training.

        Args:
          optimizer: an optimizer or its name ("sgd", "adam", "adamw", "rmsprop", "adagrad").
          loss: a loss object, function or name ("mse", "sparse_categorical_crossentropy", ...).
          metrics: metric objects or names; "accuracy"/"acc" picks the variant the loss implies.
          loss_weights, weighted_metrics, steps_per_execution, jit_compile: accepted as Keras does;
            ``weighted_metrics`` are updated with the sample weights, ``metrics`` without.
          run_eagerly: run the steps as Python instead of a gt.function.
          auto_scale_loss: when the model's dtype policy is ``"mixed_float16"``, wrap the
            optimizer in a ``LossScaleOptimizer`` (Keras 3).
        """

        self._compile_config = _compile_config(optimizer, loss, metrics)
        self.optimizer = resolve_optimizer(optimizer)
        policy = getattr(self, "dtype_policy", None)
        if (
            auto_scale_loss
            and self.optimizer is not None
            and getattr(policy, "name", None) == "mixed_float16"
        ):
            from gputensor.keras.optimizers import LossScaleOptimizer

            if not isinstance(self.optimizer, LossScaleOptimizer):
                self.optimizer = LossScaleOptimizer(self.optimizer, name="loss_scale_optimizer")
        if isinstance(loss, (list, tuple, dict)) or loss_weights is not None:
            # One loss per output (a list in output order or a dict by output name), as Keras.
            loss = _OutputLosses(loss, loss_weights)
        else:
            loss = _resolve_loss(loss)
        self.loss = loss
        # Keras 3 keeps the previously compiled loss when compile() is called again without
        # one (its CompileLoss is only replaced by a new loss), so the guide's
        # compile(loss="mse") ... compile(optimizer="adam") still trains on mse + add_loss.
        if loss is not None or not hasattr(self, "_compile_loss"):
            self._compile_loss = loss
        self._metric_specs = metrics if isinstance(metrics, dict) else list(metrics or [])
        self._weighted_specs = (
            weighted_metrics if isinstance(weighted_metrics, dict) else list(weighted_metrics or [])
        )
        self._compiled_metrics: list | None = None
        self._weighted_metrics: list | None = None
        self.run_eagerly = run_eagerly
        self._loss_tracker = _LossTracker()
        has_metrics = bool(self._metric_specs) or bool(self._weighted_specs)
        self._compile_metrics = _CompileMetrics(self) if has_metrics else None
        self._train_function = self._test_function = self._predict_function = None
        self.compiled = True

    def _require_compiled(self, what: str) -> None:
        # A model compiled without a loss trains on its add_loss losses alone (Keras);
        # compute_loss raises when there are none.
        if not getattr(self, "compiled", False):
            raise RuntimeError(
                f"{what}: the model must be compiled first: "
                f"model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')"
            )

    def _build_metrics(self, y: Any, y_pred: Any) -> None:
        if self._compiled_metrics is not None:
            return

        flat_pred = data_adapter.nest.flatten(y_pred)
        names = _output_keys(self, y_pred)
        if len(flat_pred) > 1:
            if len(names) != len(flat_pred):
                names = [f"output_{i + 1}" for i in range(len(flat_pred))]
            if self._compile_loss is not None and not isinstance(self._compile_loss, _OutputLosses):
                self._compile_loss = _OutputLosses(self._compile_loss, None)  # one loss for every output
        if isinstance(self._compile_loss, _OutputLosses):
            self._compile_loss.build(names or ["output"], len(flat_pred))
        flat_true = _align_targets(y, names, len(flat_pred)) if len(flat_pred) > 1 else None

        def resolve(spec: Any, index: Any = None) -> Any:
            loss = self._compile_loss
            y_t, y_p = (y, y_pred) if index is None else (flat_true[index], flat_pred[index])
            if isinstance(loss, _OutputLosses):
                loss = loss.losses[0 if index is None else index]
            if isinstance(spec, str) and spec.lower() in ("accuracy", "acc"):
                metric = _accuracy_for(loss, y_t, y_p, spec)
            elif isinstance(spec, str):
                from gputensor.keras import metrics as metrics_module

                metric = metrics_module.get(spec)
                metric.name = spec  # Keras 3 logs a metric given by name under that name ("mae")
            else:
                metric = spec
            if index is not None:
                metric.name = f"{names[index]}_{metric.name}"  # Keras's per-output log key
                metric._output_index = index
            return metric

        def resolve_all(specs: Any) -> list:
            if len(flat_pred) > 1 and isinstance(specs, dict):
                unknown = sorted(set(specs) - set(names))
                if unknown:
                    raise ValueError(
                        f"compile(metrics=...): no outputs named {unknown}; the outputs are {names}"
                    )
                return [resolve(m, names.index(k)) for k, ms in specs.items() for m in _as_list(ms)]
            specs = list(specs)
            if len(flat_pred) > 1 and specs and all(isinstance(m, (list, tuple)) or m is None for m in specs):
                if len(specs) != len(flat_pred):
                    raise ValueError(
                        f"compile(metrics=...): {len(specs)} metric lists for {len(flat_pred)} outputs {names}"
                    )
                return [resolve(m, i) for i, ms in enumerate(specs) for m in _as_list(ms)]
            if len(flat_pred) > 1 and specs:
                raise ValueError(
                    f"compile(metrics=...): the model has {len(flat_pred)} outputs {names}; give one list of "
                    "metrics per output (a list of lists) or a dict by output name"
                )
            return [resolve(m) for m in specs]

        self._compiled_metrics = resolve_all(self._metric_specs)
        self._weighted_metrics = resolve_all(self._weighted_specs)

    @property
    def metrics(self) -> list:
        """Keras 3's order: the loss tracker (``"loss"``), the compiled metrics as one
        ``"compile_metrics"`` entry (its ``result()`` is a dict), then the per-output loss
        trackers; empty before ``compile``."""
        if not getattr(self, "compiled", False):
            return []
        trackers = self._compile_loss.trackers if isinstance(self._compile_loss, _OutputLosses) else []
        compiled = [self._compile_metrics] if self._compile_metrics is not None else []
        return [self._loss_tracker, *compiled, *trackers]

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        if getattr(self, "compiled", False):
            self._loss_tracker.reset_state()
        for m in self.metrics:
            m.reset_state()

    def _flatten_metrics_in_order(self, logs: dict) -> Any:
        """``evaluate``'s list: the values in ``self.metrics`` order (a compile_metrics entry
        by its metrics), then any other log keys sorted; a lone value unwrapped (Keras 3)."""
        names: list = []
        for m in self.metrics:
            if isinstance(m, _CompileMetrics):
                names += [sub.name for sub in m.metrics]
            else:
                names.append(m.name)
        values = [logs[n] for n in names if n in logs]
        values += [logs[k] for k in sorted(logs) if k not in names]
        return values[0] if len(values) == 1 else values

    # ----------------------------------------------------------------- steps
    def compute_loss(
        self, x: Any = None, y: Any = None, y_pred: Any = None, sample_weight: Any = None
    ) -> Any:
        """The compiled loss plus the layers' losses (``add_loss`` and regularization).

        Raises:
          ValueError: when the model was compiled without a loss and added none itself.
        """
        gt = _gt()
        extra = list(getattr(self, "losses", []) or [])
        if self._compile_loss is None:
            if not extra:
                raise ValueError(
                    "No loss to compute. Provide a `loss` argument in `compile()` "
                    "(the model was compiled without one and its layers added no add_loss losses)"
                )
            return gt.add_n([gt.cast(e, gt.float32) for e in extra])
        loss = self._compile_loss(y, y_pred, sample_weight=sample_weight)
        if extra:
            loss = loss + gt.add_n([gt.cast(e, loss.dtype) for e in extra])
        return loss

    def _update_metrics(self, loss: Any, x: Any, y: Any, y_pred: Any, sample_weight: Any) -> dict:
        self._loss_tracker.update_state(loss, data_adapter.batch_size_of(y_pred))
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return flatten_logs({m.name: m.result() for m in Trainer.metrics.fget(self)})

    def train_step(self, data: Any) -> dict:
        """One optimisation step on a batch; returns the logs (loss and metrics so far)."""
        gt = _gt()
        x, y, sample_weight = data_adapter.unpack(data)
        with gt.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
            # Keras 3: a LossScaleOptimizer scales the loss (its apply unscales the gradients);
            # the logged loss stays unscaled.
            scale_loss = getattr(self.optimizer, "scale_loss", None)
            scaled = scale_loss(loss) if scale_loss is not None else loss
        variables = self.trainable_variables
        if variables:
            grads = tape.gradient(scaled, variables)
            self.optimizer.apply_gradients(zip(grads, variables))
        elif not getattr(self, "_warned_frozen", False):
            # As Keras 3: a model with nothing to train still runs (losses and metrics update).
            import warnings

            self._warned_frozen = True
            warnings.warn("The model does not have any trainable weights.", stacklevel=2)
        return self._update_metrics(loss, x, y, y_pred, sample_weight)

    def test_step(self, data: Any) -> dict:
        x, y, sample_weight = data_adapter.unpack(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        return self._update_metrics(loss, x, y, y_pred, sample_weight)

    def predict_step(self, data: Any) -> Any:
        x, _, _ = data_adapter.unpack(data)
        return self(x, training=False)

    def _step_function(self, kind: str) -> Callable:
        attr = f"_{kind}_function"
        fn = getattr(self, attr, None)
        if fn is None:
            step = getattr(self, f"{kind}_step")
            fn = step if self.run_eagerly else _gt().function(step)
            setattr(self, attr, fn)
        return fn

    def _first_batch_setup(self, batch: Any) -> None:
        """Builds the model, the metrics and the optimizer's slots eagerly, before any trace:
        gt.function allows variables only on a first trace, and a step traced per batch shape
        would otherwise make them on a later one."""
        if self._compiled_metrics is not None:
            return
        x, y, _ = data_adapter.unpack(batch)
        y_pred = self(x, training=False)
        self._build_metrics(y, y_pred)
        build = getattr(self.optimizer, "build", None)
        if getattr(self.optimizer, "built", False):
            # Built already (load_model restored its slots): building again would add a second
            # set of slots and drop the restored ones; only variables it lacks get slots.
            ensure = getattr(self.optimizer, "_ensure_built", None)
            if ensure is not None:
                ensure(self.trainable_variables)
        elif build is not None:
            build(self.trainable_variables)

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: Any = "auto",
        callbacks: Iterable | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool = True,
        class_weight: dict | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: int = 1,
    ) -> callbacks_module.History:
        """Trains for ``epochs`` epochs (from ``initial_epoch``); returns the `History`.

        Raises:
          RuntimeError: the model is not compiled.
          ValueError: for inputs of different lengths, a validation_split with a Dataset or
            generator, or an empty dataset.
        """
        self._require_compiled("fit")
        verbose = 1 if verbose == "auto" else int(verbose)
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = data_adapter.split(x, y, sample_weight, validation_split)
        sample_weight = data_adapter.with_class_weight(y, sample_weight, class_weight)
        train = data_adapter.adapt(x, y, sample_weight, batch_size, shuffle=shuffle, steps=steps_per_epoch)
        val = None
        if validation_data is not None:
            vx, vy, vsw = data_adapter.unpack_validation(validation_data)
            val = data_adapter.adapt(
                vx, vy, vsw, validation_batch_size or batch_size, False, validation_steps
            )
        # Keras 3's order: the progress bar first, the user's callbacks, History last (so it
        # records what callbacks add to the logs, such as the learning rate).
        history = callbacks_module.History()
        cbs = [callbacks_module.ProgbarLogger(verbose)] if verbose else []
        cbs += [*(callbacks or []), history]
        cb = callbacks_module.CallbackList(
            cbs, self, {"epochs": epochs, "steps": train.steps, "verbose": verbose}
        )
        self.stop_training = False
        self.history = history
        cb.on_train_begin()
        logs: dict = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cb.on_epoch_begin(epoch)
            seen = 0
            for step, batch in enumerate(train.epoch()):
                if seen == 0:
                    self._first_batch_setup(batch)
                cb.on_train_batch_begin(step)
                logs = _floats(flatten_logs(self._step_function("train")(batch)))
                seen += 1
                cb.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            if seen == 0:
                raise ValueError(
                    "fit: the training data produced no batch (an empty dataset, or a generator already "
                    "consumed); pass data with at least one sample"
                )
            epoch_logs = dict(logs)
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_adapted(val, cb)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            cb.on_epoch_end(epoch, epoch_logs)
            logs = epoch_logs  # Keras 3: on_train_end gets the last epoch's logs (val_* too)
            if self.stop_training:
                break
        cb.on_train_end(logs)
        return history

    # -------------------------------------------------------------- evaluate
    def _evaluate_adapted(self, data: Any, cb: Any) -> dict:
        # Keras 3 calls on_test_begin/on_test_end around fit's validation too.
        self.reset_metrics()
        cb.on_test_begin()
        logs: dict = {}
        for step, batch in enumerate(data.epoch()):
            self._first_batch_setup(batch)
            cb.on_test_batch_begin(step)
            logs = _floats(flatten_logs(self._step_function("test")(batch)))
            cb.on_test_batch_end(step, logs)
        cb.on_test_end(logs)
        return logs

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: Any = "auto",
        sample_weight: Any = None,
        steps: int | None = None,
        callbacks: Iterable | None = None,
        return_dict: bool = False,
    ) -> Any:
        """The loss and metrics over the data: a float (no metrics), a list, or a dict."""
        self._require_compiled("evaluate")
        data = data_adapter.adapt(x, y, sample_weight, batch_size, shuffle=False, steps=steps)
        cb = callbacks_module.CallbackList(list(callbacks or []), self, {"steps": data.steps})
        logs = self._evaluate_adapted(data, cb)
        if not logs:
            raise ValueError("evaluate: the data produced no batch; pass data with at least one sample")
        if return_dict:
            return logs
        return self._flatten_metrics_in_order(logs)

    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: Any = "auto",
        steps: int | None = None,
        callbacks: Iterable | None = None,
    ) -> Any:
        """The model's outputs for ``x``, batch by batch, concatenated as NumPy arrays."""
        data = data_adapter.adapt(x, None, None, batch_size, shuffle=False, steps=steps)
        cb = callbacks_module.CallbackList(list(callbacks or []), self, {"steps": data.steps})
        cb.on_predict_begin()
        outs: list = []
        for step, batch in enumerate(data.epoch()):
            cb.on_predict_batch_begin(step)
            out = self._step_function("predict")(batch)
            outs.append(_to_numpy(out))
            cb.on_predict_batch_end(step, {"outputs": outs[-1]})
        cb.on_predict_end()
        if not outs:
            raise ValueError("predict: the data produced no batch; pass data with at least one sample")
        return _concat(outs)

    def train_on_batch(
        self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False
    ) -> Any:
        """One train step on one batch; returns this batch's loss (and metrics): the metrics
        are reset first, as Keras 3 does."""
        self._require_compiled("train_on_batch")
        batch = data_adapter.as_batch(x, y, sample_weight)
        self._first_batch_setup(batch)
        self.reset_metrics()
        logs = _floats(flatten_logs(self._step_function("train")(batch)))
        return logs if return_dict else _values(logs, self)

    def test_on_batch(
        self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False
    ) -> Any:
        self._require_compiled("test_on_batch")
        batch = data_adapter.as_batch(x, y, sample_weight)
        self._first_batch_setup(batch)
        self.reset_metrics()
        logs = _floats(flatten_logs(self._step_function("test")(batch)))
        return logs if return_dict else _values(logs, self)

    def predict_on_batch(self, x: Any) -> Any:
        return _to_numpy(self._step_function("predict")(data_adapter.as_batch(x, None, None)))


def _compile_config(optimizer: Any, loss: Any, metrics: Any) -> dict | None:
    """What `Model.save` records to compile a loaded model again: names and Keras-style configs,
    or None when a part has no serial form (a user function: load_model then skips compiling)."""
    from gputensor.keras import losses, optimizers
    from gputensor.keras import metrics as metrics_module

    try:
        return {
            "optimizer": optimizer if isinstance(optimizer, str) else optimizers.serialize(optimizer),
            "loss": loss if isinstance(loss, str) or loss is None else losses.serialize(loss),
            "metrics": [m if isinstance(m, str) else metrics_module.serialize(m) for m in metrics or []],
        }
    except (TypeError, ValueError, AttributeError):
        return None


def _floats(logs: dict) -> dict:
    return {k: float(np.asarray(v)) for k, v in logs.items()}


def _values(logs: dict, model: Any) -> Any:
    return model._flatten_metrics_in_order(logs)


def _to_numpy(out: Any) -> Any:
    if isinstance(out, (list, tuple)):
        return type(out)(_to_numpy(o) for o in out)
    if isinstance(out, dict):
        return {k: _to_numpy(v) for k, v in out.items()}
    return np.asarray(out)


def _concat(outs: list) -> Any:
    first = outs[0]
    if isinstance(first, (list, tuple)):
        return type(first)(_concat([o[i] for o in outs]) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: _concat([o[k] for o in outs]) for k in first}
    return np.concatenate(outs, axis=0) if first.ndim else np.stack(outs)
