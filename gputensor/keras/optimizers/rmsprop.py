"""``RMSprop`` (plain, centered, with momentum), as ``keras.optimizers.RMSprop`` (Keras 3)."""

from __future__ import annotations

from typing import Any

import gputensor as gt
from gputensor.keras.optimizers.base_optimizer import Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop, as ``keras.optimizers.RMSprop`` (Keras 3's update).

    ``v = rho * v + (1 - rho) * g**2``; centered: ``a = rho * a + (1 - rho) * g`` and the
    denominator is ``v - a**2 + epsilon``, else ``v + epsilon``; ``inc = lr * g / sqrt(denom)``
    (epsilon inside the square root, as Keras); with momentum ``m = momentum * m + inc`` and
    ``w -= m``, else ``w -= inc``.

    Args:
      learning_rate: a float, a ``LearningRateSchedule`` or a callable. Defaults to 0.001.
      rho: the decay of the squared-gradient average.
      momentum: a float >= 0.
      epsilon: added under the square root.
      centered: whether to normalise by the estimated variance instead of the second moment.
      weight_decay, clipnorm, clipvalue, global_clipnorm, name: see ``Optimizer``.
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name)
        if momentum < 0:
            raise ValueError(f"RMSprop: momentum must be >= 0, got {momentum!r}")
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = bool(centered)
        self._velocities: list[gt.Variable] = []
        self._momentums: list[gt.Variable] = []
        self._average_gradients: list[gt.Variable] = []

    def build(self, var_list: list[gt.Variable]) -> None:
        super().build(var_list)
        self._velocities.extend(self.add_optimizer_variables(var_list, "velocity"))
        if self.momentum > 0:
            self._momentums.extend(self.add_optimizer_variables(var_list, "momentum"))
        if self.centered:
            self._average_gradients.extend(self.add_optimizer_variables(var_list, "average_gradient"))

    def update_step(self, gradient: gt.Tensor, variable: gt.Variable, learning_rate: gt.Tensor) -> None:
        index = self._get_variable_index(variable)
        rho = self.rho
        velocity = self._velocities[index]
        new_v = rho * velocity.value() + (1.0 - rho) * gt.square(gradient)
        velocity.assign(new_v)
        if self.centered:
            average = self._average_gradients[index]
            new_a = rho * average.value() + (1.0 - rho) * gradient
            average.assign(new_a)
            denominator = new_v - gt.square(new_a) + self.epsilon
        else:
            denominator = new_v + self.epsilon
        increment = learning_rate * gradient / gt.sqrt(denominator)
        if self.momentum > 0:
            momentum = self._momentums[index]
            new_m = self.momentum * momentum.value() + increment
            momentum.assign(new_m)
            variable.assign_sub(new_m)
        else:
            variable.assign_sub(increment)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon, "centered": self.centered}
        )
        return config
