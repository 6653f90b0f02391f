"""Learning-rate schedules, as ``keras.optimizers.schedules`` (Keras 3 formulas).

A schedule is called with the optimizer's step counter (``optimizer.iterations``, the number of
updates already applied) and returns the learning rate as a float32 tensor. Every schedule is
written with gt ops on the step tensor, so it works eagerly and inside ``gt.function`` (where
the step is a variable read, so a traced train step follows the schedule on every call).
"""

from __future__ import annotations

import math
from typing import Any

import gputensor as gt

__all__ = [
    "LearningRateSchedule",
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "InverseTimeDecay",
    "CosineDecay",
    "CosineDecayRestarts",
    "serialize",
    "deserialize",
]


def _step(step: Any) -> gt.Tensor:
    return gt.cast(step, gt.float32)


class LearningRateSchedule:
    """The base class of learning-rate schedules, as ``keras.optimizers.schedules.LearningRateSchedule``.

    Subclasses implement ``__call__(step)`` returning a scalar tensor and ``get_config()``.

    >>> class Halving(LearningRateSchedule):
    ...     def __call__(self, step):
    ...         return 0.1 * gt.pow(0.5, gt.cast(step, gt.float32))
    ...     def get_config(self):
    ...         return {}
    """

    def __call__(self, step: Any) -> gt.Tensor:
        raise TypeError(
            f"{type(self).__name__}: a LearningRateSchedule subclass must implement __call__(step)"
        )

    def get_config(self) -> dict:
        raise TypeError(f"{type(self).__name__}: a LearningRateSchedule subclass must implement get_config()")

    @classmethod
    def from_config(cls, config: dict) -> LearningRateSchedule:
        """Creates the schedule from its ``get_config()`` dict."""
        return cls(**config)


class _RateDecay(LearningRateSchedule):
    """The arguments, checks and config that ExponentialDecay and InverseTimeDecay share;
    ``_progress(step)`` is ``step / decay_steps``, floored when ``staircase``."""

    _default_name = "RateDecay"

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str | None = None,
    ) -> None:
        if decay_steps <= 0:
            raise ValueError(f"{type(self).__name__}: decay_steps must be > 0, got {decay_steps}")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = self._default_name if name is None else name  # Keras: the class name

    def _progress(self, step: Any) -> gt.Tensor:
        p = _step(step) / float(self.decay_steps)
        return gt.floor(p) if self.staircase else p

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class ExponentialDecay(_RateDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``, as Keras.

    Args:
      initial_learning_rate: the rate at step 0.
      decay_steps: steps per decay period (must be positive).
      decay_rate: the factor per period.
      staircase: if True, ``step / decay_steps`` is floored (the rate changes in steps).
      name: the schedule's name.

    >>> s = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    >>> float(s(10))
    0.05
    """

    _default_name = "ExponentialDecay"

    def __call__(self, step: Any) -> gt.Tensor:
        return float(self.initial_learning_rate) * gt.pow(
            gt.constant(float(self.decay_rate)), self._progress(step)
        )


class PiecewiseConstantDecay(LearningRateSchedule):
    """A constant rate per interval of steps, as Keras.

    ``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` after the last boundary.

    Args:
      boundaries: increasing step numbers.
      values: one more value than boundaries.
      name: the schedule's name.

    >>> s = PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    >>> float(s(15))
    0.5
    """

    def __init__(self, boundaries: list, values: list, name: str = "PiecewiseConstant") -> None:
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "PiecewiseConstantDecay: values must have one more element than boundaries, got "
                f"{len(values)} values and {len(boundaries)} boundaries"
            )
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step: Any) -> gt.Tensor:
        s = _step(step)
        result = gt.constant(float(self.values[-1]))
        # Walk the intervals from the last: each earlier boundary overrides the later value.
        for boundary, value in zip(reversed(self.boundaries), reversed(self.values[:-1])):
            result = gt.where(s <= float(boundary), gt.constant(float(value)), result)
        return result

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """A polynomial decay from ``initial_learning_rate`` to ``end_learning_rate``, as Keras.

    ``(initial - end) * (1 - step / decay_steps) ** power + end``, with the step clipped at
    ``decay_steps``; with ``cycle=True`` the decay restarts at each multiple of ``decay_steps``
    (``decay_steps`` grows to the first multiple above the step).

    >>> s = PolynomialDecay(1.0, decay_steps=10, end_learning_rate=0.0)
    >>> float(s(5))
    0.5
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str = "PolynomialDecay",
    ) -> None:
        if decay_steps <= 0:
            raise ValueError(f"PolynomialDecay: decay_steps must be > 0, got {decay_steps}")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step: Any) -> gt.Tensor:
        s = _step(step)
        decay_steps = gt.constant(float(self.decay_steps))
        if self.cycle:
            multiplier = gt.where(gt.equal(s, 0.0), gt.constant(1.0), gt.ceil(s / decay_steps))
            decay_steps = decay_steps * multiplier
        else:
            s = gt.minimum(s, decay_steps)
        p = s / decay_steps
        delta = float(self.initial_learning_rate) - float(self.end_learning_rate)
        return delta * gt.pow(1.0 - p, float(self.power)) + float(self.end_learning_rate)

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(_RateDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``, as Keras.

    >>> s = InverseTimeDecay(1.0, decay_steps=1, decay_rate=0.5)
    >>> float(s(2))
    0.5
    """

    _default_name = "InverseTimeDecay"

    def __call__(self, step: Any) -> gt.Tensor:
        return float(self.initial_learning_rate) / (1.0 + float(self.decay_rate) * self._progress(step))


class CosineDecay(LearningRateSchedule):
    """A cosine decay with an optional linear warmup, as Keras 3.

    Without warmup (``warmup_target=None``): ``initial * ((1 - alpha) * 0.5 * (1 + cos(pi *
    min(step, decay_steps) / decay_steps)) + alpha)``. With ``warmup_target`` the rate rises
    linearly from ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps``, then
    decays from ``warmup_target`` over ``decay_steps``.

    >>> s = CosineDecay(1.0, decay_steps=10)
    >>> round(float(s(5)), 6)
    0.5
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ) -> None:
        if decay_steps <= 0:
            raise ValueError(f"CosineDecay: decay_steps must be > 0, got {decay_steps}")
        if warmup_target is not None and warmup_steps <= 0:
            raise ValueError(
                f"CosineDecay: warmup_target={warmup_target} needs warmup_steps > 0, got {warmup_steps}"
            )
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay(self, s: gt.Tensor, decay_from: Any) -> gt.Tensor:
        fraction = s / float(self.decay_steps)
        cosine = 0.5 * (1.0 + gt.cos(math.pi * fraction))
        return decay_from * ((1.0 - float(self.alpha)) * cosine + float(self.alpha))

    def __call__(self, step: Any) -> gt.Tensor:
        s = _step(step)
        initial = float(self.initial_learning_rate)
        if self.warmup_target is None:
            return self._decay(gt.minimum(s, float(self.decay_steps)), initial)
        warmup_steps = float(self.warmup_steps)
        target = float(self.warmup_target)
        s = gt.minimum(s, float(self.decay_steps) + warmup_steps)
        warm = (target - initial) * (s / warmup_steps) + initial
        # Both branches are cheap scalars: a select replaces Keras's ops.cond.
        decayed = self._decay(gt.maximum(s - warmup_steps, 0.0), target)
        return gt.where(s < warmup_steps, warm, decayed)

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """A cosine decay with warm restarts (SGDR), as Keras.

    The first period lasts ``first_decay_steps``; each next period is ``t_mul`` times longer
    and starts at ``m_mul`` times the previous initial rate; ``alpha`` is the floor as a
    fraction of the initial rate.

    >>> s = CosineDecayRestarts(1.0, first_decay_steps=10)
    >>> float(s(10))
    1.0
    """

    def __init__(
        self,
        initial_learning_rate: float,
        first_decay_steps: int,
        t_mul: float = 2.0,
        m_mul: float = 1.0,
        alpha: float = 0.0,
        name: str = "SGDRDecay",
    ) -> None:
        if first_decay_steps <= 0:
            raise ValueError(f"CosineDecayRestarts: first_decay_steps must be > 0, got {first_decay_steps}")
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self.t_mul = t_mul
        self.m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step: Any) -> gt.Tensor:
        fraction = _step(step) / float(self.first_decay_steps)
        t_mul = float(self.t_mul)
        if t_mul == 1.0:
            i_restart = gt.floor(fraction)
            fraction = fraction - i_restart
        else:
            i_restart = gt.floor(gt.math.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul))
            t_pow = gt.pow(gt.constant(t_mul), i_restart)
            sum_r = (1.0 - t_pow) / (1.0 - t_mul)
            fraction = (fraction - sum_r) / t_pow
        m_fac = gt.pow(gt.constant(float(self.m_mul)), i_restart)
        cosine = 0.5 * m_fac * (1.0 + gt.cos(math.pi * fraction))
        alpha = float(self.alpha)
        return float(self.initial_learning_rate) * ((1.0 - alpha) * cosine + alpha)

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self.t_mul,
            "m_mul": self.m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


_SCHEDULES = {
    cls.__name__: cls
    for cls in (
        ExponentialDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
        InverseTimeDecay,
        CosineDecay,
        CosineDecayRestarts,
    )
}


def serialize(schedule: LearningRateSchedule) -> dict:
    """``{"class_name": ..., "config": ...}`` for a schedule, as Keras."""
    if not isinstance(schedule, LearningRateSchedule):
        raise TypeError(
            f"schedules.serialize: expected a LearningRateSchedule, got {type(schedule).__name__}"
        )
    from gputensor.keras.serialization import serialize_object

    return serialize_object(schedule, "keras.optimizers.schedules")


def deserialize(config: dict, custom_objects: dict | None = None) -> LearningRateSchedule:
    """Re-creates a schedule from ``serialize``'s dict (``custom_objects`` maps other class names)."""
    known = dict(_SCHEDULES)
    known.update(custom_objects or {})
    name = config.get("class_name")
    if name not in known:
        raise ValueError(
            f"schedules.deserialize: unknown schedule {name!r}; known: {sorted(known)} (pass "
            "custom_objects={name: cls} for your own)"
        )
    return known[name].from_config(config["config"])
