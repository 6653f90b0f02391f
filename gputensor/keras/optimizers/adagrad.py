"""``Adagrad``, as ``keras.optimizers.Adagrad`` (Keras 3)."""

from __future__ import annotations

from typing import Any

import gputensor as gt
from gputensor.keras.optimizers.base_optimizer import Optimizer

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad, as ``keras.optimizers.Adagrad``.

    ``acc += g**2``; ``w -= lr * g / sqrt(acc + epsilon)``, with ``acc`` starting at
    ``initial_accumulator_value``.

    Args:
      learning_rate: a float, a ``LearningRateSchedule`` or a callable. Defaults to 0.001.
      initial_accumulator_value: the starting value of the accumulators (>= 0).
      epsilon: added under the square root.
      weight_decay, clipnorm, clipvalue, global_clipnorm, name: see ``Optimizer``.
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name)
        if initial_accumulator_value < 0:
            raise ValueError(
                f"Adagrad: initial_accumulator_value must be >= 0, got {initial_accumulator_value!r}"
            )
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon
        self._accumulators: list[gt.Variable] = []

    def build(self, var_list: list[gt.Variable]) -> None:
        super().build(var_list)
        self._accumulators.extend(
            self.add_optimizer_variables(
                var_list, "accumulator", initializer=float(self.initial_accumulator_value)
            )
        )

    def update_step(self, gradient: gt.Tensor, variable: gt.Variable, learning_rate: gt.Tensor) -> None:
        accumulator = self._accumulators[self._get_variable_index(variable)]
        new_acc = accumulator.value() + gt.square(gradient)
        accumulator.assign(new_acc)
        variable.assign_sub(learning_rate * gradient / gt.sqrt(new_acc + self.epsilon))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"initial_accumulator_value": self.initial_accumulator_value, "epsilon": self.epsilon})
        return config
