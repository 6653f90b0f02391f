"""The optimizer base class shared by SGD, Adam, AdamW, RMSprop and Adagrad (Keras 3 semantics).

One ``apply`` does what Keras 3's ``BaseOptimizer.apply`` does, in the same order: build the
slot variables on first use, drop the (gradient, variable) pairs whose gradient is None, turn
``IndexedSlices`` gradients dense, clip (``clipnorm``, else ``global_clipnorm``, else
``clipvalue``), apply decoupled weight decay ``v -= v * weight_decay * lr``, run each
optimizer's ``update_step`` with the learning rate of the current step, add one to
``iterations``, then apply variable constraints.

Everything is written with gt ops and variable assignments, so ``apply`` works inside
``gt.function``: slots are created with callable initial values (so they can be created on the
first trace), ``iterations`` advances with ``assign_add``, and a float learning rate lives in a
variable, so setting ``optimizer.learning_rate`` later reaches an already traced train step.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

import gputensor as gt
from gputensor.keras.optimizers import schedules as schedules_lib
from gputensor.keras.variables import KerasVariable, name_scope, path_of

__all__ = ["Optimizer"]


def _slot_base_name(variable: gt.Variable) -> str:
    # Keras 3 names a slot "<variable path with / as _>_<slot>", e.g.
    # "sequential_dense_kernel_momentum" (distinct for two layers' "kernel"s); a plain
    # gt.Variable has no path: its TF name with / and : as _ ("w_0_momentum"), as Keras 3 does
    # for a tf.Variable.
    path = getattr(variable, "path", None)
    if isinstance(path, str):
        return path.replace("/", "_")
    return str(variable.name).replace("/", "_").replace(":", "_")


class Optimizer:
    """The base class of gt.keras optimizers, as ``keras.optimizers.Optimizer`` (Keras 3).

    Subclasses define ``build(var_list)`` (create slots with ``add_variable_from_reference``)
    and ``update_step(gradient, variable, learning_rate)``.

    Args:
      learning_rate: a float, a ``LearningRateSchedule`` (called with ``iterations``) or a
        zero-argument callable returning the rate.
      weight_decay: if set, each step first does ``v -= v * weight_decay * learning_rate``.
      clipnorm: clips each gradient to this L2 norm.
      clipvalue: clips each gradient element to ``[-clipvalue, clipvalue]``.
      global_clipnorm: clips all gradients together to this global L2 norm.
      name: the optimizer's name, the first part of its variables' paths (``sgd/iteration``);
        default the class name in snake case, made unique (``sgd``, ``sgd_1``, ...), as Keras 3.
    """

    def __init__(
        self,
        learning_rate: Any,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
    ) -> None:
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                f"{type(self).__name__}: only one of clipnorm, clipvalue and global_clipnorm can be "
                f"set, got clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
            )
        if weight_decay is not None and not isinstance(weight_decay, (int, float)):
            raise ValueError(
                f"{type(self).__name__}: weight_decay must be a float, got {type(weight_decay).__name__}"
            )
        if name is None:
            from gputensor.keras.layers.base import unique_name
            from gputensor.keras.serialization import to_snake_case

            name = unique_name(to_snake_case(type(self).__name__))  # Keras 3's auto_name
        self.name = name
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.built = False
        self._variables: list[gt.Variable] = []
        self._trainable_variables: list[gt.Variable] = []
        self._index: dict[int, int] = {}
        self._exclude_ids: set[int] = set()
        self._exclude_names: list[str] = []
        with name_scope(self.name, caller=self):
            self._iterations = KerasVariable(
                lambda: gt.constant(0, gt.int64), name="iteration", trainable=False
            )
        self._variables.append(self._iterations)
        self._learning_rate_var: gt.Variable | None = None
        self._learning_rate: Any = None
        self._set_learning_rate(learning_rate)

    # ---------------------------------------------------------------- learning rate
    def _set_learning_rate(self, learning_rate: Any) -> None:
        if isinstance(learning_rate, schedules_lib.LearningRateSchedule) or (
            callable(learning_rate) and not isinstance(learning_rate, (gt.Variable, gt.Tensor))
        ):
            if self._learning_rate_var is not None:
                raise TypeError(
                    f"{type(self).__name__}: this optimizer was created with a float learning rate "
                    "(a variable that traced train steps read); it cannot become a schedule now. "
                    "Create a new optimizer with the schedule."
                )
            self._learning_rate = learning_rate
            return
        if self._learning_rate is not None and self._learning_rate_var is None:
            raise TypeError(
                f"{type(self).__name__}: this optimizer was created with a LearningRateSchedule as "
                "its learning_rate, hence its learning rate is not settable"
            )
        try:
            value = float(learning_rate)
        except (TypeError, ValueError):
            raise TypeError(
                f"{type(self).__name__}: learning_rate must be a float, a LearningRateSchedule or a "
                f"callable, got {type(learning_rate).__name__}"
            ) from None
        if self._learning_rate_var is None:
            with name_scope(self.name, caller=self):
                self._learning_rate_var = KerasVariable(
                    lambda: gt.constant(value, gt.float32), name="learning_rate", trainable=False
                )
            self._variables.append(self._learning_rate_var)
            self._learning_rate = self._learning_rate_var
        else:
            self._learning_rate_var.assign(value)

    @property
    def learning_rate(self) -> Any:
        """The current rate: the rate variable, or the schedule's value at ``iterations``.

        Assigning a float sets the variable (graphs traced earlier see the new value).
        """
        return self._current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        self._set_learning_rate(value)

    lr = learning_rate

    def _current_learning_rate(self) -> Any:
        if self._learning_rate_var is not None:
            return self._learning_rate_var
        if isinstance(self._learning_rate, schedules_lib.LearningRateSchedule):
            return self._learning_rate(self._iterations.value())
        return self._learning_rate()

    @property
    def iterations(self) -> gt.Variable:
        """The number of updates applied so far (an int64 variable)."""
        return self._iterations

    @iterations.setter
    def iterations(self, value: Any) -> None:
        self._iterations.assign(gt.cast(value, gt.int64))

    @property
    def variables(self) -> list[gt.Variable]:
        """``iterations``, the learning-rate variable (if not a schedule), then the slots.

        Slots come in the order Keras 3 creates them (per variable, then per slot kind), so a
        checkpoint lists them deterministically.
        """
        return list(self._variables)

    def _checkpoint_dependencies(self) -> dict[str, Any]:
        """The checkpoint's view of this optimizer, named as Keras 3's under tf.train.Checkpoint.

        ``optimizer/_iterations``, ``optimizer/_learning_rate`` (a float rate's variable) and
        ``optimizer/_variables/<i>`` for the slots (the first two are saved under their own names,
        so the slots start at index 2 as in TF's checkpoints).
        """
        deps: dict[str, Any] = {"_iterations": self._iterations}
        if self._learning_rate_var is not None:
            deps["_learning_rate"] = self._learning_rate_var
        deps["_variables"] = list(self._variables)
        return deps

    # ----------------------------------------------------------------------- slots
    def add_variable(
        self,
        shape: Any,
        initializer: Any = "zeros",
        dtype: Any = None,
        name: str | None = None,
    ) -> gt.Variable:
        """Creates an optimizer variable (tracked in ``variables``): a `KerasVariable` whose
        path is ``<optimizer name>/<name>``."""
        dtype = gt.as_dtype(dtype) if dtype is not None else gt.float32
        shape = [int(d) for d in shape]
        if initializer == "zeros":

            def init() -> gt.Tensor:
                return gt.zeros(shape, dtype)

        elif isinstance(initializer, (int, float)):

            def init() -> gt.Tensor:
                return (
                    gt.fill(shape, gt.cast(initializer, dtype)) if shape else gt.constant(initializer, dtype)
                )

        elif callable(initializer):

            def init() -> gt.Tensor:
                return gt.convert_to_tensor(initializer(shape, dtype))

        else:
            raise ValueError(
                f"{type(self).__name__}.add_variable: initializer must be 'zeros', a number or a "
                f"callable(shape, dtype), got {initializer!r}"
            )
        with name_scope(self.name, caller=self):
            variable = KerasVariable(init, name=name, trainable=False)
        self._variables.append(variable)
        return variable

    def add_variable_from_reference(
        self, reference_variable: gt.Variable, name: str | None = None, initializer: Any = "zeros"
    ) -> gt.Variable:
        """Creates a slot with the shape and dtype of ``reference_variable``."""
        return self.add_variable(
            reference_variable.shape.as_list(),
            initializer=initializer,
            dtype=reference_variable.dtype,
            name=f"{_slot_base_name(reference_variable)}_{name}",
        )

    def add_optimizer_variables(
        self, var_list: list[gt.Variable], name: Any, initializer: Any = "zeros"
    ) -> Any:
        """One slot per variable per name, interleaved per variable as Keras 3 creates them.

        Returns one list for a single name, a tuple of lists for a list of names.
        """
        names = [name] if isinstance(name, str) else list(name)
        out: tuple[list, ...] = tuple([] for _ in names)
        for variable in var_list:
            for i, slot_name in enumerate(names):
                out[i].append(self.add_variable_from_reference(variable, slot_name, initializer))
        return out[0] if isinstance(name, str) else out

    def build(self, var_list: list[gt.Variable]) -> None:
        """Records the variables this optimizer updates; subclasses add their slots after."""
        for variable in var_list:
            self._index[id(variable)] = len(self._trainable_variables)
            self._trainable_variables.append(variable)
        self.built = True

    def _get_variable_index(self, variable: gt.Variable) -> int:
        return self._index[id(variable)]

    def _ensure_built(self, var_list: list[gt.Variable]) -> None:
        for v in var_list:
            if not isinstance(v, gt.Variable):
                raise TypeError(
                    f"{type(self).__name__}: can only update gt.Variable objects, got "
                    f"{type(v).__name__}; pass model.trainable_variables"
                )
        if not self.built:
            self.build(var_list)
            return
        new = [v for v in var_list if id(v) not in self._index]
        if new:
            # Keras 3 refuses variables it was not built with; gputensor builds slots for them
            # (e.g. layers unfrozen after the first step) and appends them to `variables`.
            self._build_more(new)

    def _build_more(self, var_list: list[gt.Variable]) -> None:
        # Subclasses keep per-kind slot lists aligned with _trainable_variables; rebuilding for
        # the new variables alone appends to each list in the same order.
        self.built = False
        self.build(var_list)

    # --------------------------------------------------------------------- applying
    def exclude_from_weight_decay(
        self, var_list: Iterable[gt.Variable] | None = None, var_names: Iterable[str] | None = None
    ) -> None:
        """Exempts variables (or variables whose name contains one of ``var_names``) from weight decay."""
        for v in var_list or ():
            self._exclude_ids.add(id(v))
        self._exclude_names.extend(var_names or ())

    def _use_weight_decay(self, variable: gt.Variable) -> bool:
        if id(variable) in self._exclude_ids:
            return False
        return not any(name in variable.name for name in self._exclude_names)

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, gt.Variable]]) -> gt.Variable:
        """Applies ``zip(grads, vars)``; returns ``iterations``."""
        pairs = list(grads_and_vars)
        grads = [g for g, _ in pairs]
        variables = [v for _, v in pairs]
        self.apply(grads, variables)
        return self._iterations

    def apply(self, grads: Iterable[Any], trainable_variables: Iterable[gt.Variable] | None = None) -> None:
        """Applies one update step with ``grads`` to ``trainable_variables``.

        Gradients that are None are skipped; ``gt.IndexedSlices`` gradients are made dense.

        Raises:
          ValueError: the lists differ in length, or every gradient is None.
        """
        grads = list(grads)
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    f"{type(self).__name__}.apply: pass trainable_variables (the optimizer is not built yet)"
                )
            variables = list(self._trainable_variables)
        else:
            variables = list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(
                f"{type(self).__name__}.apply: got {len(grads)} gradients for {len(variables)} variables"
            )
        self._ensure_built(variables)
        pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
        if not pairs:
            raise ValueError(
                f"{type(self).__name__}: no gradients provided for any variable "
                f"({[path_of(v) for v in variables]}); is the loss connected to them through gt ops?"
            )
        grads = []
        for g, v in pairs:
            if isinstance(g, gt.IndexedSlices):
                g = gt.convert_to_tensor(g)
            g = gt.convert_to_tensor(g)
            if tuple(g.shape) != tuple(v.shape):
                raise ValueError(
                    f"{type(self).__name__}: gradient of shape {tuple(g.shape)} does not match "
                    f"variable {path_of(v)!r} of shape {tuple(v.shape)}"
                )
            if g.dtype != v.dtype:
                g = gt.cast(g, v.dtype)
            grads.append(g)
        variables = [v for _, v in pairs]
        grads = self._clip_gradients(grads)
        self._apply_weight_decay(variables)
        learning_rate = self._current_learning_rate()
        learning_rate = learning_rate.value() if isinstance(learning_rate, gt.Variable) else learning_rate
        learning_rate = gt.convert_to_tensor(learning_rate)
        # Per-step scalars (the rate in each dtype, Adam's bias correction) are computed once
        # per apply, not once per variable: fewer nodes in a traced step, fewer eager ops.
        self._step_cache = {}
        try:
            for g, v in zip(grads, variables):
                dtype = v.dtype
                if learning_rate.dtype == dtype:
                    lr = learning_rate
                else:
                    lr = self._step_scalar(("lr", dtype), lambda dt=dtype: gt.cast(learning_rate, dt))
                self.update_step(g, v, lr)
        finally:
            self._step_cache = {}
        self._iterations.assign_add(gt.constant(1, gt.int64))
        for v in variables:
            if v.constraint is not None:
                v.assign(v.value())  # Variable.assign projects through the constraint

    def scale_loss(self, loss: Any) -> Any:
        """``loss`` unchanged: only `LossScaleOptimizer` scales it (Keras 3's hook, called by
        ``fit``'s step before the gradients)."""
        return loss

    def minimize(self, loss: Any, var_list: Any, tape: gt.GradientTape | None = None) -> gt.Variable:
        """Computes gradients of ``loss`` with respect to ``var_list`` and applies them.

        Args:
          loss: a zero-argument callable returning the loss, or a loss tensor computed under
            ``tape``.
          var_list: the variables, or a zero-argument callable returning them.
          tape: the GradientTape that recorded a tensor ``loss``.
        """
        if callable(loss):
            with gt.GradientTape() as tape:
                variables = var_list() if callable(var_list) else list(var_list)
                for v in variables:
                    tape.watch(v)
                loss_value = loss()
        else:
            if tape is None:
                raise ValueError(
                    f"{type(self).__name__}.minimize: a tensor loss needs the tape that recorded it "
                    "(pass tape=...), or pass the loss as a zero-argument callable"
                )
            variables = var_list() if callable(var_list) else list(var_list)
            loss_value = loss
        grads = tape.gradient(loss_value, variables)
        return self.apply_gradients(zip(grads, variables))

    def _clip_gradients(self, grads: list[gt.Tensor]) -> list[gt.Tensor]:
        if self.clipnorm and self.clipnorm > 0:
            return [gt.clip_by_norm(g, float(self.clipnorm)) for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            clipped, _ = gt.clip_by_global_norm(grads, float(self.global_clipnorm))
            return list(clipped)
        if self.clipvalue and self.clipvalue > 0:
            c = float(self.clipvalue)
            return [gt.clip_by_value(g, -c, c) for g in grads]
        return grads

    def _apply_weight_decay(self, variables: list[gt.Variable]) -> None:
        if self.weight_decay is None:
            return
        lr = self._current_learning_rate()
        lr = gt.convert_to_tensor(lr.value() if isinstance(lr, gt.Variable) else lr)
        for v in variables:
            if self._use_weight_decay(v):
                value = v.value()
                wd_lr = gt.cast(lr * float(self.weight_decay), v.dtype)
                v.assign(value - value * wd_lr)

    def _step_scalar(self, key: Any, make: Any) -> gt.Tensor:
        """A value shared by all variables of one ``apply`` (made by ``make()`` on first use)."""
        cache = getattr(self, "_step_cache", None)
        if cache is None:
            return make()
        if key not in cache:
            cache[key] = make()
        return cache[key]

    def update_step(self, gradient: gt.Tensor, variable: gt.Variable, learning_rate: gt.Tensor) -> None:
        """Updates ``variable`` with ``gradient``; each optimizer defines it."""
        raise TypeError(f"{type(self).__name__}: an Optimizer subclass must define update_step")

    # ------------------------------------------------------------ (de)serialization
    def get_config(self) -> dict:
        """The constructor arguments, as Keras (a schedule is serialized)."""
        if isinstance(self._learning_rate, schedules_lib.LearningRateSchedule):
            lr: Any = schedules_lib.serialize(self._learning_rate)
        elif self._learning_rate_var is not None:
            lr = float(self._learning_rate_var.numpy())
        else:
            lr = self._learning_rate
        return {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Optimizer:
        """Creates the optimizer from ``get_config()``'s dict."""
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            config["learning_rate"] = schedules_lib.deserialize(lr, custom_objects)
        # Keras 3's base-optimizer entries for features not built here: accepted when off.
        off = {"use_ema": False, "loss_scale_factor": None, "gradient_accumulation_steps": None}
        for key, default in off.items():
            if config.pop(key, default) not in (
                default,
                1 if key == "gradient_accumulation_steps" else default,
            ):
                raise ValueError(
                    f"{cls.__name__}.from_config: {key} is not supported (EMA, a fixed loss_scale_factor and "
                    "gradient accumulation are not built; dynamic loss scaling is LossScaleOptimizer); compile "
                    "with an optimizer without it"
                )
        config.pop("ema_momentum", None)  # meaningful only with use_ema
        config.pop("ema_overwrite_frequency", None)
        return cls(**config)

    def get_weights(self) -> list:
        """The values of ``variables`` as NumPy arrays."""
        return [v.numpy() for v in self._variables]

    def set_weights(self, weights: list) -> None:
        """Sets ``variables`` from NumPy arrays (the optimizer must be built)."""
        if len(weights) != len(self._variables):
            raise ValueError(
                f"{type(self).__name__}.set_weights: expected {len(self._variables)} arrays "
                f"({[path_of(v) for v in self._variables]}), got {len(weights)}"
            )
        for v, w in zip(self._variables, weights):
            v.assign(w)

    def save_own_variables(self, store: Any) -> None:
        """Writes ``variables`` into ``store`` under keys "0", "1", ... (Keras 3's .weights.h5 layout)."""
        for i, variable in enumerate(self._variables):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store: Any) -> None:
        """Reads ``variables`` from ``store`` as written by ``save_own_variables`` (or by Keras 3).

        Raises:
          ValueError: the store holds another number of variables (naming both counts and this
            optimizer's variables); build the optimizer first (``build(model.trainable_variables)``).
        """
        keys = list(store.keys())
        if len(keys) != len(self._variables):
            hint = " (the optimizer is not built yet: call build(var_list) first)" if not self.built else ""
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: the saved optimizer has {len(keys)} variables, this "
                f"one has {len(self._variables)} ({[path_of(v) for v in self._variables]}){hint}"
            )
        for i, variable in enumerate(self._variables):
            value = np.asarray(store[str(i)])
            if tuple(value.shape) != tuple(variable.shape):
                raise ValueError(
                    f"{type(self).__name__} {self.name!r}: saved variable {i} has shape {value.shape}, "
                    f"{path_of(variable)!r} has shape {tuple(variable.shape)}"
                )
            variable.assign(value.astype(variable.dtype.as_numpy_dtype))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} built={self.built}>"
