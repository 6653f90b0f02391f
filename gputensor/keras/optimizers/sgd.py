"""``SGD`` with momentum and Nesterov momentum, as ``keras.optimizers.SGD`` (Keras 3)."""

from __future__ import annotations

from typing import Any

import gputensor as gt
from gputensor.keras.optimizers.base_optimizer import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    """Gradient descent with optional momentum, as ``keras.optimizers.SGD``.

    Without momentum: ``w -= lr * g``. With momentum (Keras 3's form):
    ``m = momentum * m - lr * g``, then ``w += m``, or with ``nesterov=True``
    ``w += momentum * m - lr * g`` (with the updated ``m``).

    Args:
      learning_rate: a float, a ``LearningRateSchedule`` or a callable. Defaults to 0.01.
      momentum: a float >= 0.
      nesterov: whether to use Nesterov momentum.
      weight_decay, clipnorm, clipvalue, global_clipnorm, name: see ``Optimizer``.

    >>> v = gt.Variable([1.0])
    >>> opt = SGD(learning_rate=0.1)
    >>> opt.apply_gradients([(gt.constant([2.0]), v)])
    >>> v.numpy()
    array([0.8], dtype=float32)
    """

    def __init__(
        self,
        learning_rate: Any = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name)
        if not isinstance(momentum, (int, float)) or momentum < 0 or momentum > 1:
            raise ValueError(f"SGD: momentum must be a float between 0 and 1, got {momentum!r}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.momentums: list[gt.Variable] = []

    def build(self, var_list: list[gt.Variable]) -> None:
        super().build(var_list)
        if self.momentum != 0:
            self.momentums.extend(self.add_optimizer_variables(var_list, "momentum"))

    def update_step(self, gradient: gt.Tensor, variable: gt.Variable, learning_rate: gt.Tensor) -> None:
        if self.momentum == 0:
            variable.assign_sub(gradient * learning_rate)
            return
        m = self.momentums[self._get_variable_index(variable)]
        momentum = self.momentum  # a Python float takes the variable's dtype without rounding
        new_m = -gradient * learning_rate + m.value() * momentum
        m.assign(new_m)
        if self.nesterov:
            variable.assign_add(-gradient * learning_rate + new_m * momentum)
        else:
            variable.assign_add(new_m)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config
