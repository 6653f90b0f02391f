"""Regularization layers of Keras 3 that gt.keras lacked: GaussianNoise, GaussianDropout,
AlphaDropout, SpatialDropout1D, SpatialDropout2D and ActivityRegularization.

The random layers act in training only (``training=True``, e.g. inside ``fit``) and return
their input unchanged otherwise. Their noise is a hash of the layer's seed, a per-layer call
counter (a non-trainable state variable, as ``Dropout``'s) and the element position, built
from integer ops, so inside ``gt.function`` every step draws new noise; the numbers differ
from Keras's, the distributions do not.
"""

from __future__ import annotations

import math
from typing import Any

import gputensor as gt
from gputensor.keras import regularizers as _regularizers
from gputensor.keras.layers.base import InputSpec, Layer, _shape_of
from gputensor.keras.layers.core import Dropout, fresh_seed, hashed_uniform, next_draw

__all__ = [
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "ActivityRegularization",
]


def hashed_normal(like: gt.Tensor, seed: int, counter: Any) -> gt.Tensor:
    """Standard normal floats shaped like ``like`` (Box-Muller on two `hashed_uniform` draws)."""
    work = like if like.dtype in (gt.float32, gt.float64) else gt.cast(like, gt.float32)
    u1 = 1.0 - hashed_uniform(work, seed, counter)  # in (0, 1]: log is finite
    u2 = hashed_uniform(work, seed ^ 0x5BD1E995, counter)
    z = gt.sqrt(-2.0 * gt.math.log(u1)) * gt.cos((2.0 * math.pi) * u2)
    return z if z.dtype == like.dtype else gt.cast(z, like.dtype)


def _check_rate(rate: Any, name: str, what: str = "rate") -> float:
    if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise ValueError(
            f"{name}: invalid value received for argument `{what}`. Expected a float value between 0 and 1. "
            f"Received: {what}={rate!r}"
        )
    return rate


class _RandomLayer(Layer):
    supports_masking = True

    def _setup_seed(self, seed: int | None) -> None:
        self.seed = seed  # the config keeps None, as Keras's
        self._hash_seed = int(fresh_seed() if seed is None else seed)
        self._seed_state = None

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The input shape."""
        return input_shape


class GaussianNoise(_RandomLayer):
    """Adds zero-mean Gaussian noise of standard deviation ``stddev`` in training.

    Raises:
      ValueError: for ``stddev`` outside [0, 1] (Keras's range).
    """

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stddev = _check_rate(stddev, "GaussianNoise", "stddev")
        self._setup_seed(seed)

    def call(self, inputs: Any, training: Any = False) -> Any:
        if training and self.stddev > 0:
            return inputs + self.stddev * hashed_normal(inputs, self._hash_seed, next_draw(self))
        return inputs


class GaussianDropout(_RandomLayer):
    """Multiplies by Gaussian noise of mean 1 and stddev ``sqrt(rate / (1 - rate))`` in training.

    Raises:
      ValueError: for ``rate`` outside [0, 1].
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate = _check_rate(rate, "GaussianDropout")
        self._setup_seed(seed)

    def call(self, inputs: Any, training: Any = False) -> Any:
        if training and self.rate > 0:
            stddev = math.sqrt(self.rate / (1.0 - self.rate))
            return inputs * (1.0 + stddev * hashed_normal(inputs, self._hash_seed, next_draw(self)))
        return inputs


class AlphaDropout(_RandomLayer):
    """Dropout that keeps SELU's self-normalization: dropped entries become SELU's negative
    saturation value, then an affine map restores the mean and variance (Keras 3's formula).

    Args:
      rate: the drop probability in [0, 1].
      noise_shape: an optional shape broadcast to the input (None entries take its size).
      seed: an int for repeatable draws.

    Raises:
      ValueError: for ``rate`` outside [0, 1].
    """

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate = _check_rate(rate, "AlphaDropout")
        self.noise_shape = noise_shape
        self._setup_seed(seed)

    def call(self, inputs: Any, training: Any = False) -> Any:
        if not (training and self.rate > 0):
            return inputs
        like = inputs
        if self.noise_shape is not None:
            shape = _shape_of(inputs)
            ns = [s if d is None else int(d) for d, s in zip(self.noise_shape, shape)]
            like = gt.zeros(ns, dtype=inputs.dtype)
        alpha = 1.6732632423543772848170429916717
        scale = 1.0507009873554804934193349852946
        alpha_p = -alpha * scale
        kept = gt.cast(hashed_uniform(like, self._hash_seed, next_draw(self)) >= self.rate, inputs.dtype)
        a = ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * self.rate
        x = inputs * kept + alpha_p * (1.0 - kept)
        return a * x + b


class _SpatialDropout(Dropout):
    # Keras 3's BaseSpatialDropout takes only these arguments (no **kwargs).
    def __init__(
        self, rate: float, seed: int | None = None, name: str | None = None, dtype: Any = None
    ) -> None:
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self._hash_seed = self.seed  # Dropout's drawn seed; the config keeps None, as Keras's
        self.seed = seed

    def call(self, inputs: Any, training: Any = False) -> Any:
        if not training or self.rate == 0:
            return inputs
        shape = _shape_of(inputs)
        if any(d is None for d in shape):
            shape = tuple(gt.unstack(gt.shape(inputs, out_type=gt.int32)))
        ns = self._noise_shape(shape)
        like = gt.zeros(gt.stack(ns) if any(gt.is_tensor(d) for d in ns) else ns, dtype=inputs.dtype)
        keep = hashed_uniform(like, self._hash_seed, next_draw(self)) >= self.rate
        scaled = gt.where(keep, gt.fill(gt.shape(like), gt.cast(1.0 / (1.0 - self.rate), inputs.dtype)),
                          gt.zeros_like(like))  # fmt: skip
        return inputs * scaled

    def get_config(self) -> dict:
        """Keras 3's config: ``rate``, ``seed``, ``name``, ``dtype`` (and ``data_format`` in 2-D)."""
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self._dtype_config()}


class SpatialDropout1D(_SpatialDropout):
    """Drops whole feature channels of a ``(batch, steps, channels)`` input in training (one
    draw per example and channel, shared by all steps), scaling the rest by ``1 / (1 - rate)``.

    Raises:
      ValueError: for ``rate`` outside [0, 1); at call, an input that is not rank 3.
    """

    def __init__(
        self, rate: float, seed: int | None = None, name: str | None = None, dtype: Any = None
    ) -> None:
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self.input_spec = InputSpec(ndim=3)

    def _noise_shape(self, shape: tuple) -> list:
        return [shape[0], 1, shape[2]]


class SpatialDropout2D(_SpatialDropout):
    """Drops whole feature maps of an image batch in training (one draw per example and
    channel, shared by all pixels), scaling the rest by ``1 / (1 - rate)``.

    Args:
      rate: the drop probability in [0, 1).
      data_format: "channels_last" (default) or "channels_first".
      seed: an int for repeatable draws.

    Raises:
      ValueError: for ``rate`` outside [0, 1) or a bad ``data_format``; at call, an input
        that is not rank 4.
    """

    def __init__(
        self, rate: float, data_format: str | None = None, seed: int | None = None, name: str | None = None,
        dtype: Any = None,
    ) -> None:  # fmt: skip
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        fmt = (data_format or "channels_last").lower()
        if fmt not in ("channels_last", "channels_first"):
            raise ValueError(
                f"SpatialDropout2D: data_format must be 'channels_last' or 'channels_first', got {data_format!r}"
            )
        self.data_format = fmt
        self.input_spec = InputSpec(ndim=4)

    def _noise_shape(self, shape: tuple) -> list:
        if self.data_format == "channels_first":
            return [shape[0], shape[1], 1, 1]
        return [shape[0], 1, 1, shape[3]]

    def get_config(self) -> dict:
        """Keras 3's config with ``data_format``."""
        return {**super().get_config(), "data_format": self.data_format}


class ActivityRegularization(Layer):
    """Returns its input and adds ``l1 * sum(|x|) + l2 * sum(x^2)`` (divided by the batch
    size, as Keras 3's activity regularization) to ``losses``."""

    supports_masking = True

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any) -> None:
        kwargs.pop("activity_regularizer", None)  # Keras derives it from l1 and l2
        super().__init__(**kwargs)
        self.activity_regularizer = _regularizers.L1L2(l1=l1, l2=l2)
        self.l1, self.l2 = l1, l2

    def call(self, inputs: Any) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The input shape."""
        return input_shape

    def get_config(self) -> dict:
        """``l1`` and ``l2`` with the base entries (no ``activity_regularizer``), as Keras 3."""
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return config
