"""``gt.keras.initializers``: Keras 3 weight initializers, by object or by name.

An initializer is called as ``init(shape, dtype)`` and returns a ``gt.Tensor``.
Unseeded initializers draw from ``gt.random``'s global generator (so
``gt.random.set_seed`` makes them repeatable); a ``seed`` makes one draw a
stateless function of that seed, as Keras.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import gputensor as gt
from gputensor.keras.serialization import to_snake_case

__all__ = [
    "Initializer",
    "Zeros",
    "Ones",
    "Constant",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "GlorotUniform",
    "GlorotNormal",
    "HeNormal",
    "HeUniform",
    "LecunNormal",
    "LecunUniform",
    "Orthogonal",
    "get",
    "serialize",
]


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype=None)``."""

    def __call__(self, shape: Any, dtype: Any = None) -> gt.Tensor:
        raise TypeError(f"{type(self).__name__} must implement __call__(shape, dtype)")

    def get_config(self) -> dict:
        """The constructor arguments, as Keras."""
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Initializer:
        return cls(**config)


def _dtype(dtype: Any) -> gt.DType:
    return gt.as_dtype(dtype or "float32")


class _Seeded(Initializer):
    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self._calls = 0

    def _seed(self) -> list | None:
        # A seeded initializer gives the same draw for the same seed (Keras 3 re-seeds per call
        # only for unseeded ones), so two layers built from one seeded object match.
        return None if self.seed is None else [int(self.seed), 0]

    def _uniform(self, shape: tuple, low: float, high: float, dtype: gt.DType) -> gt.Tensor:
        seed = self._seed()
        if seed is None:
            return gt.random.uniform(shape, low, high, dtype=dtype)
        return gt.random.stateless_uniform(shape, seed, low, high, dtype=dtype)

    def _normal(self, shape: tuple, mean: float, std: float, dtype: gt.DType) -> gt.Tensor:
        seed = self._seed()
        if seed is None:
            return gt.random.normal(shape, mean, std, dtype=dtype)
        return gt.random.stateless_normal(shape, seed, mean, std, dtype=dtype)

    def _truncated(self, shape: tuple, mean: float, std: float, dtype: gt.DType) -> gt.Tensor:
        seed = self._seed()
        if seed is None:
            return gt.random.truncated_normal(shape, mean, std, dtype=dtype)
        return gt.random.stateless_truncated_normal(shape, seed, mean, std, dtype=dtype)

    def get_config(self) -> dict:
        return {"seed": self.seed}


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape: Any, dtype: Any = None) -> gt.Tensor:
        return gt.zeros(tuple(shape), dtype=_dtype(dtype))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape: Any, dtype: Any = None) -> gt.Tensor:
        return gt.ones(tuple(shape), dtype=_dtype(dtype))


class Constant(Initializer):
    """Every element equal to ``value`` (a scalar)."""

    def __init__(self, value: float = 0.0) -> None:
        self.value = value

    def __call__(self, shape: Any, dtype: Any = None) -> gt.Tensor:
        return gt.fill(tuple(shape), gt.cast(self.value, _dtype(dtype)))

    def get_config(self) -> dict:
        return {"value": self.value}


class RandomNormal(_Seeded):
    """Normal draws with ``mean`` and ``stddev`` (Keras default stddev 0.05)."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape: Any, dtype: Any = None) -> gt.Tensor:
        return self._normal(tuple(shape), self.mean, self.stddev, _dtype(dtype))

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(_Seeded):
    """Uniform draws in ``[minval, maxval)`` (Keras default ±0.05)."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None) -> None:
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape: Any, dtype: Any = None) -> gt.Tensor:
        return self._uniform(tuple(shape), self.minval, self.maxval, _dtype(dtype))

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(_Seeded):
    """Normal draws redrawn beyond two standard deviations."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape: Any, dtype: Any = None) -> gt.Tensor:
        return self._truncated(tuple(shape), self.mean, self.stddev, _dtype(dtype))

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


def _fans(shape: tuple) -> tuple[float, float]:
    # Keras's compute_fans: the receptive field multiplies both fans for conv kernels.
    if len(shape) < 1:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = math.prod(shape[:-2])
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


class VarianceScaling(_Seeded):
    """Draws with variance ``scale / n`` where n is fan_in, fan_out or their mean.

    Args:
      scale: a positive float.
      mode: "fan_in", "fan_out" or "fan_avg".
      distribution: "truncated_normal", "untruncated_normal" or "uniform".
      seed: an int for a repeatable draw.
      input_axes, output_axes: the weight's axes whose sizes multiply to fan_in and fan_out
        (both given; Keras 3.15), instead of reading them from the shape's layout.

    Raises:
      ValueError: for a bad scale, mode or distribution.
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
        input_axes: Any = None,
        output_axes: Any = None,
    ) -> None:
        super().__init__(seed)
        self.input_axes = None if input_axes is None else list(input_axes)
        self.output_axes = None if output_axes is None else list(output_axes)
        if scale <= 0:
            raise ValueError(f"VarianceScaling: scale must be positive, got {scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: mode must be 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(
                "VarianceScaling: distribution must be 'truncated_normal', 'untruncated_normal' or 'uniform', "
                f"got {distribution!r}"
            )
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape: Any, dtype: Any = None) -> gt.Tensor:
        shape = tuple(int(d) for d in shape)
        if self.input_axes is not None and self.output_axes is not None:
            fan_in = float(math.prod(shape[a] for a in self.input_axes))
            fan_out = float(math.prod(shape[a] for a in self.output_axes))
        else:
            fan_in, fan_out = _fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        dtype = _dtype(dtype)
        if self.distribution == "truncated_normal":
            # 0.879...: the stddev of a unit normal truncated at two standard deviations.
            return self._truncated(shape, 0.0, math.sqrt(scale) / 0.87962566103423978, dtype)
        if self.distribution == "untruncated_normal":
            return self._normal(shape, 0.0, math.sqrt(scale), dtype)
        limit = math.sqrt(3.0 * scale)
        return self._uniform(shape, -limit, limit, dtype)

    def get_config(self) -> dict:
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class _Preset(VarianceScaling):
    """A VarianceScaling with Keras's fixed scale, mode and distribution; configs hold the seed
    and the fan axes only."""

    PRESET: tuple[float, str, str] = (1.0, "fan_avg", "uniform")

    def __init__(self, seed: int | None = None, input_axes: Any = None, output_axes: Any = None) -> None:
        super().__init__(*self.PRESET, seed=seed, input_axes=input_axes, output_axes=output_axes)

    def get_config(self) -> dict:
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}


class GlorotUniform(_Preset):
    """Uniform in ±sqrt(6 / (fan_in + fan_out)): Keras's default kernel initializer."""

    PRESET = (1.0, "fan_avg", "uniform")


class GlorotNormal(_Preset):
    """Truncated normal with stddev sqrt(2 / (fan_in + fan_out))."""

    PRESET = (1.0, "fan_avg", "truncated_normal")


class HeNormal(_Preset):
    """Truncated normal with stddev sqrt(2 / fan_in)."""

    PRESET = (2.0, "fan_in", "truncated_normal")


class HeUniform(_Preset):
    """Uniform in ±sqrt(6 / fan_in)."""

    PRESET = (2.0, "fan_in", "uniform")


class LecunNormal(_Preset):
    """Truncated normal with stddev sqrt(1 / fan_in)."""

    PRESET = (1.0, "fan_in", "truncated_normal")


class LecunUniform(_Preset):
    """Uniform in ±sqrt(3 / fan_in)."""

    PRESET = (1.0, "fan_in", "uniform")


class Orthogonal(_Seeded):
    """A (semi-)orthogonal matrix times ``gain``, from the QR decomposition of a normal draw.

    Raises:
      ValueError: for a shape of rank below 2.
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape: Any, dtype: Any = None) -> gt.Tensor:
        shape = tuple(int(d) for d in shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal: the shape must have rank >= 2, got {shape}")
        rows = math.prod(shape[:-1])
        cols = shape[-1]
        flat = (max(rows, cols), min(rows, cols))
        a = self._normal(flat, 0.0, 1.0, gt.float64).numpy()
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))  # makes the decomposition unique, as Keras
        if rows < cols:
            q = q.T
        return gt.constant((self.gain * q).reshape(shape), dtype=_dtype(dtype))

    def get_config(self) -> dict:
        return {"gain": self.gain, "seed": self.seed}


_BY_NAME = {
    "zeros": Zeros,
    "ones": Ones,
    "constant": Constant,
    "random_normal": RandomNormal,
    "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_normal": HeNormal,
    "he_uniform": HeUniform,
    "lecun_normal": LecunNormal,
    "lecun_uniform": LecunUniform,
    "orthogonal": Orthogonal,
    "uniform": RandomUniform,
    "normal": RandomNormal,
}


def get(identifier: Any) -> Any:
    """An initializer from a name (``"he_normal"``), a class name, an object or a callable.

    Raises:
      ValueError: for an unknown name or a value that is not callable.
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        key = identifier if identifier in _BY_NAME else to_snake_case(identifier)
        if key not in _BY_NAME:
            raise ValueError(
                f"Unknown initializer {identifier!r}; known names: {', '.join(sorted(_BY_NAME))}"
            )
        return _BY_NAME[key]()
    if isinstance(identifier, dict):
        return get(identifier["class_name"]).from_config(identifier.get("config", {}))
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier {identifier!r}: pass a name or a callable")


def serialize(initializer: Any) -> Any:
    """``{"class_name": ..., "config": ...}`` for an Initializer; None stays None."""
    if initializer is None:
        return None
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}
