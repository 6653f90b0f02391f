"""``LossScaleOptimizer``: Keras 3's dynamic loss scaling for mixed-precision training.

float16 gradients underflow (anything below about 6e-8 becomes 0). Multiplying the loss by a
large *loss scale* scales every gradient by it; the optimizer divides them again before the
update. The scale adapts, as Keras 3's:

- a step whose gradients hold an inf or NaN is skipped (no variable, slot or ``iterations``
  changes), the scale is halved and the growth counter reset;
- after ``dynamic_growth_steps`` finite steps in a row the scale doubles (counter reset).

``Model.compile`` wraps its optimizer in one when the model's dtype policy is
``"mixed_float16"`` (as Keras 3); ``fit``'s step scales the loss with `scale_loss` and
`apply` unscales. The finite check and both branches are gt ops and a ``gt.cond``, so the step
runs inside ``gt.function``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import gputensor as gt
from gputensor.keras.optimizers.base_optimizer import Optimizer
from gputensor.keras.variables import path_of

__all__ = ["LossScaleOptimizer"]

_BASE_DEFAULTS = {
    "weight_decay": None,
    "clipnorm": None,
    "global_clipnorm": None,
    "clipvalue": None,
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


class LossScaleOptimizer(Optimizer):
    """An optimizer wrapper applying dynamic loss scaling, as ``keras.optimizers.LossScaleOptimizer``.

    Args:
      inner_optimizer: the optimizer to wrap (its ``learning_rate`` and ``iterations`` are
        this one's).
      initial_scale: the first loss scale (default ``2**15``).
      dynamic_growth_steps: the scale doubles after this many finite steps in a row.
      name: default ``"loss_scale_optimizer"`` (made unique, as Keras 3).

    Variables, in Keras 3's order (``.weights.h5``'s ``optimizer/vars``): its own (unused)
    ``iteration`` and ``learning_rate``, ``step_counter`` (int64), ``dynamic_scale``
    (float32), then the inner optimizer's.

    Raises:
      ValueError: ``dynamic=False`` or a base-optimizer argument (clipping, weight decay, ...):
        set those on the inner optimizer, as Keras says.

    >>> from gputensor.keras.optimizers import SGD
    >>> opt = LossScaleOptimizer(SGD(0.1), initial_scale=8.0)
    >>> v = gt.Variable([1.0])
    >>> opt.apply([gt.constant([8.0])], [v])  # scaled gradient 8 -> 1
    >>> v.numpy()
    array([0.9], dtype=float32)
    """

    def __init__(
        self,
        inner_optimizer: Optimizer,
        initial_scale: float = 2.0**15,
        dynamic_growth_steps: int = 2000,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not kwargs.pop("dynamic", True):
            raise ValueError(
                "LossScaleOptimizer no longer supports `dynamic=False`. Instead, simply set "
                "`loss_scale_factor` directly on the `inner_optimizer`."
            )
        for key, default in _BASE_DEFAULTS.items():
            if key in kwargs and kwargs.pop(key) != default:
                raise ValueError(
                    f"LossScaleOptimizer does not support `{key}`. Instead, set `{key}` on the `inner_optimizer`."
                )
        if kwargs:
            raise ValueError(f"LossScaleOptimizer does not support arguments: `{'`, `'.join(kwargs)}`.")
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(
                "LossScaleOptimizer: inner_optimizer must be a gt.keras optimizer, got "
                f"{type(inner_optimizer).__name__}"
            )
        if int(dynamic_growth_steps) < 1:
            raise ValueError(
                f"LossScaleOptimizer: dynamic_growth_steps must be >= 1, got {dynamic_growth_steps}"
            )
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = int(dynamic_growth_steps)
        self.step_counter: gt.Variable | None = None
        self.dynamic_scale: gt.Variable | None = None

    # ---------------------------------------------------------------- variables
    def build(self, var_list: list[gt.Variable]) -> None:
        """Creates ``step_counter`` and ``dynamic_scale`` (once) and builds the inner optimizer."""
        if self.step_counter is None:
            self.step_counter = self.add_variable((), initializer=0, dtype=gt.int64, name="step_counter")
            self.dynamic_scale = self.add_variable(
                (), initializer=self.initial_scale, dtype=gt.float32, name="dynamic_scale"
            )
        self.inner_optimizer.build(var_list)
        self._trainable_variables = list(self.inner_optimizer._trainable_variables)
        self._index = dict(self.inner_optimizer._index)
        self.built = True

    @property
    def variables(self) -> list[gt.Variable]:
        """Its own variables, then the inner optimizer's (Keras 3's order)."""
        return list(self._variables) + list(self.inner_optimizer.variables)

    def _checkpoint_dependencies(self) -> dict[str, Any]:
        """Its own variables, then the wrapped optimizer under ``inner_optimizer``."""
        deps = super()._checkpoint_dependencies()
        deps["inner_optimizer"] = self.inner_optimizer
        return deps

    @property
    def learning_rate(self) -> Any:
        """The inner optimizer's learning rate (settable)."""
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        self.inner_optimizer.learning_rate = value

    lr = learning_rate

    @property
    def iterations(self) -> gt.Variable:
        """The inner optimizer's step count (skipped steps do not count)."""
        return self.inner_optimizer.iterations

    @iterations.setter
    def iterations(self, value: Any) -> None:
        self.inner_optimizer.iterations = value

    # ------------------------------------------------------------------ scaling
    def scale_loss(self, loss: Any) -> gt.Tensor:
        """``loss`` times the current loss scale (``initial_scale`` before the first build)."""
        loss = gt.convert_to_tensor(loss)
        scale = self.dynamic_scale.value() if self.dynamic_scale is not None else self.initial_scale
        return loss * gt.cast(scale, loss.dtype)

    def check_finite(self, grads: Iterable[Any]) -> gt.Tensor:
        """A bool scalar: whether every (non-None) gradient is finite."""
        flags = [gt.reduce_all(gt.math.is_finite(gt.convert_to_tensor(g))) for g in grads if g is not None]
        if not flags:
            return gt.constant(True)
        return gt.reduce_all(gt.stack(flags))

    def apply(self, grads: Iterable[Any], trainable_variables: Iterable[gt.Variable] | None = None) -> None:
        """Unscales ``grads`` and applies them with the inner optimizer when all are finite,
        else skips the step and halves the scale; then updates the scale as Keras 3.

        Raises:
          ValueError: as the inner optimizer's ``apply`` (lengths, all gradients None).
        """
        grads = list(grads)
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "LossScaleOptimizer.apply: pass trainable_variables (the optimizer is not built yet)"
                )
            variables = list(self.inner_optimizer._trainable_variables)
        else:
            variables = list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(
                f"LossScaleOptimizer.apply: got {len(grads)} gradients for {len(variables)} variables"
            )
        if not self.built:
            self.build(variables)
        grads = [
            None if g is None else gt.convert_to_tensor(g) if isinstance(g, gt.IndexedSlices) else g
            for g in grads
        ]
        finite = self.check_finite(grads)
        step_counter, dynamic_scale = self.step_counter, self.dynamic_scale
        growth_steps = self.dynamic_growth_steps

        def on_finite() -> gt.Tensor:
            scale = dynamic_scale.value()
            unscaled = [None if g is None else g / gt.cast(scale, g.dtype) for g in grads]
            self.inner_optimizer.apply(unscaled, variables)
            # Keras 3: the counter reaching dynamic_growth_steps - 1 doubles the scale instead.
            count = step_counter.value()
            grow = gt.equal(count, gt.constant(growth_steps - 1, gt.int64))
            step_counter.assign(gt.where(grow, gt.zeros_like(count), count + 1))
            dynamic_scale.assign(gt.where(grow, scale * 2.0, scale))
            return gt.constant(True)

        def on_non_finite() -> gt.Tensor:
            step_counter.assign(gt.constant(0, gt.int64))
            dynamic_scale.assign(dynamic_scale.value() * 0.5)
            return gt.constant(False)

        gt.cond(finite, on_finite, on_non_finite)

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, gt.Variable]]) -> gt.Variable:
        """Applies ``zip(grads, vars)`` through `apply`; returns ``iterations``."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])
        return self.iterations

    # ------------------------------------------------------------ (de)serialization
    def get_config(self) -> dict:
        """``name``, the serialized ``inner_optimizer``, ``initial_scale`` and
        ``dynamic_growth_steps`` (Keras 3's entries)."""
        from gputensor.keras.optimizers import serialize

        return {
            "name": self.name,
            "inner_optimizer": serialize(self.inner_optimizer),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> LossScaleOptimizer:
        from gputensor.keras.optimizers import deserialize

        config = dict(config)
        inner = config.pop("inner_optimizer")
        inner = deserialize(inner, custom_objects) if isinstance(inner, dict) else inner
        return cls(inner, **config)

    def get_weights(self) -> list:
        return [v.numpy() for v in self.variables]

    def set_weights(self, weights: list) -> None:
        variables = self.variables
        if len(weights) != len(variables):
            raise ValueError(
                f"LossScaleOptimizer.set_weights: expected {len(variables)} arrays "
                f"({[path_of(v) for v in variables]}), got {len(weights)}"
            )
        for v, w in zip(variables, weights):
            v.assign(w)

    def save_own_variables(self, store: Any) -> None:
        for i, variable in enumerate(self.variables):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store: Any) -> None:
        """Reads `variables` (its own, then the inner optimizer's) from ``store``.

        Raises:
          ValueError: another number or shape of variables.
        """
        import numpy as np

        variables = self.variables
        keys = list(store.keys())
        if len(keys) != len(variables):
            hint = " (the optimizer is not built yet: call build(var_list) first)" if not self.built else ""
            raise ValueError(
                f"LossScaleOptimizer {self.name!r}: the saved optimizer has {len(keys)} variables, this one "
                f"has {len(variables)} ({[path_of(v) for v in variables]}){hint}"
            )
        for i, variable in enumerate(variables):
            value = np.asarray(store[str(i)])
            if tuple(value.shape) != tuple(variable.shape):
                raise ValueError(
                    f"LossScaleOptimizer {self.name!r}: saved variable {i} has shape {value.shape}, "
                    f"{path_of(variable)!r} has shape {tuple(variable.shape)}"
                )
            variable.assign(value.astype(variable.dtype.as_numpy_dtype))
