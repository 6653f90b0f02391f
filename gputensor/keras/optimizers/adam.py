"""``Adam`` (with AMSGrad) and ``AdamW``, as ``keras.optimizers.Adam``/``AdamW`` (Keras 3)."""

from __future__ import annotations

from typing import Any

import gputensor as gt
from gputensor.keras.optimizers.base_optimizer import Optimizer

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam, as ``keras.optimizers.Adam`` (Keras 3's update).

    With ``t = iterations + 1``: ``alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``,
    ``m += (g - m) * (1 - beta_1)``, ``v += (g**2 - v) * (1 - beta_2)``, and
    ``w -= alpha * m / (sqrt(v) + epsilon)`` (epsilon outside the square root and not bias
    corrected, as Keras). With ``amsgrad=True`` the running maximum of ``v`` replaces ``v``.

    Args:
      learning_rate: a float, a ``LearningRateSchedule`` or a callable. Defaults to 0.001.
      beta_1: the decay of the first-moment estimate.
      beta_2: the decay of the second-moment estimate.
      epsilon: added to ``sqrt(v)``.
      amsgrad: whether to use AMSGrad.
      weight_decay, clipnorm, clipvalue, global_clipnorm, name: see ``Optimizer``.
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = bool(amsgrad)
        self._momentums: list[gt.Variable] = []
        self._velocities: list[gt.Variable] = []
        self._velocity_hats: list[gt.Variable] = []

    def build(self, var_list: list[gt.Variable]) -> None:
        super().build(var_list)
        m, v = self.add_optimizer_variables(var_list, ["momentum", "velocity"])
        self._momentums.extend(m)
        self._velocities.extend(v)
        if self.amsgrad:
            self._velocity_hats.extend(self.add_optimizer_variables(var_list, "velocity_hat"))

    def update_step(self, gradient: gt.Tensor, variable: gt.Variable, learning_rate: gt.Tensor) -> None:
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]

        def bias_corrected_rate() -> gt.Tensor:
            local_step = gt.cast(self._iterations.value() + 1, dtype)
            beta_1_power = gt.pow(float(self.beta_1), local_step)
            beta_2_power = gt.pow(float(self.beta_2), local_step)
            return learning_rate * gt.sqrt(1.0 - beta_2_power) / (1.0 - beta_1_power)

        alpha = self._step_scalar(("adam_alpha", dtype), bias_corrected_rate)
        m_value = m.value()
        new_m = m_value + (gradient - m_value) * (1.0 - self.beta_1)
        m.assign(new_m)
        v_value = v.value()
        new_v = v_value + (gt.square(gradient) - v_value) * (1.0 - self.beta_2)
        v.assign(new_v)
        if self.amsgrad:
            v_hat = self._velocity_hats[index]
            new_v = gt.maximum(v_hat.value(), new_v)
            v_hat.assign(new_v)
        variable.assign_sub((new_m * alpha) / (gt.sqrt(new_v) + self.epsilon))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "amsgrad": self.amsgrad}
        )
        return config


class AdamW(Adam):
    """Adam with decoupled weight decay, as ``keras.optimizers.AdamW``.

    Each step first does ``w -= w * weight_decay * lr``, then Adam's update.

    Args:
      learning_rate: defaults to 0.001.
      weight_decay: defaults to 0.004 (must be set).
      beta_1, beta_2, epsilon, amsgrad: as ``Adam``.
      clipnorm, clipvalue, global_clipnorm, name: see ``Optimizer``.
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
    ) -> None:
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a float (it is the point of AdamW), got None")
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            name=name,
        )
