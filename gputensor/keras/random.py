"""``gt.keras.random``: Keras 3's random draws, usable inside ``gt.function``.

``keras.random.normal/uniform/dropout(..., seed=SeedGenerator(...))`` draw a new sample on
every call, also inside a traced step (``fit``'s train step): the numbers are a hash of the
generator's seed, its counter (a variable advanced by each draw) and the element's position,
made of integer ops only, as `Dropout` draws its masks (so they also run inside control
flow, where gt's stateful random ops are refused). An int ``seed`` gives the same numbers on
every call (Keras's stateless draws); ``seed=None`` uses one global generator. The numbers
differ from Keras's.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import gputensor as gt
from gputensor.keras.layers.base import unique_name
from gputensor.keras.layers.core import fresh_seed, hashed_uniform

__all__ = ["SeedGenerator", "normal", "uniform", "dropout"]


class SeedGenerator:
    """A seed and a draw counter, as ``keras.random.SeedGenerator``.

    Args:
      seed: an int; default one drawn from ``gt.random``.
      name: the generator's name.

    >>> gen = SeedGenerator(1337)
    >>> a, b = normal((2,), seed=gen), normal((2,), seed=gen)
    >>> bool(np.any(a.numpy() != b.numpy()))
    True
    """

    def __init__(self, seed: int | None = None, name: str | None = None, **kwargs: Any) -> None:
        if seed is None:
            seed = fresh_seed()
        if not isinstance(seed, (int, np.integer)):
            raise ValueError(f"SeedGenerator: seed must be an int or None, got {seed!r}")
        self.seed = int(seed)
        self.name = name or unique_name("seed_generator")
        self._state: gt.Variable | None = None

    @property
    def state(self) -> gt.Variable:
        """The draw counter (an int64 variable, created on first use)."""
        if self._state is None:
            self._state = gt.Variable(
                lambda: gt.constant(0, gt.int64), trainable=False, name=f"{self.name}/state"
            )
        return self._state

    def next(self) -> gt.Tensor:
        """The counter's value for this draw; advances it."""
        counter = gt.identity(self.state)
        self.state.assign_add(gt.constant(1, gt.int64))
        return counter

    def __repr__(self) -> str:
        return f"<SeedGenerator name={self.name!r} seed={self.seed}>"


_GLOBAL: list = []


def _seed_and_counter(seed: Any) -> tuple:
    if isinstance(seed, SeedGenerator):
        return seed.seed, seed.next()
    if seed is None:
        if not _GLOBAL:
            _GLOBAL.append(SeedGenerator(name="global_seed_generator"))
        return _seed_and_counter(_GLOBAL[0])
    if isinstance(seed, (int, np.integer)):
        return int(seed), gt.constant(0, gt.int64)
    raise ValueError(f"keras.random: seed must be an int, a SeedGenerator or None, got {seed!r}")


def _zeros(shape: Any, dtype: Any) -> gt.Tensor:
    if gt.is_tensor(shape):
        return gt.zeros(shape, dtype=dtype)
    dims = list(shape)
    if all(isinstance(d, (int, np.integer)) for d in dims):
        return gt.zeros([int(d) for d in dims], dtype=dtype)
    # A shape mixing ints and scalar tensors (ops.shape(x)[0] of an unknown batch): passed as
    # a list, so the int dimensions stay known in a trace ((None, 128), not (None, None)).
    return gt.zeros(
        [d if isinstance(d, (int, np.integer)) else gt.cast(d, gt.int32) for d in dims], dtype=dtype
    )


def uniform(
    shape: Any, minval: float = 0.0, maxval: float = 1.0, dtype: Any = None, seed: Any = None
) -> gt.Tensor:
    """Uniform floats in ``[minval, maxval)`` of ``shape``, as ``keras.random.uniform``.

    Raises:
      ValueError: for an integer dtype (Keras: use ``randint``) or a bad seed.
    """
    dtype = gt.as_dtype(dtype or "float32")
    if not dtype.is_floating:
        raise ValueError(f"keras.random.uniform: dtype must be a float type, got {dtype.name}")
    seed, counter = _seed_and_counter(seed)
    u = hashed_uniform(_zeros(shape, dtype), seed, counter)
    return u * (maxval - minval) + minval


def normal(
    shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None, seed: Any = None
) -> gt.Tensor:
    """Normal floats of ``shape`` (Box-Muller on two hashed uniforms), as ``keras.random.normal``.

    Raises:
      ValueError: for an integer dtype or a bad seed.
    """
    dtype = gt.as_dtype(dtype or "float32")
    if not dtype.is_floating:
        raise ValueError(f"keras.random.normal: dtype must be a float type, got {dtype.name}")
    seed, counter = _seed_and_counter(seed)
    like = _zeros(shape, gt.float32)
    u1 = hashed_uniform(like, seed, counter * 2)
    u2 = hashed_uniform(like, seed, counter * 2 + 1)
    radius = gt.sqrt(-2.0 * gt.math.log(gt.maximum(u1, 1e-12)))
    z = radius * gt.cos(2.0 * math.pi * u2)
    return gt.cast(z * stddev + mean, dtype)


def dropout(inputs: Any, rate: float, noise_shape: Any = None, seed: Any = None) -> gt.Tensor:
    """Zeroes elements with probability ``rate`` and scales the rest by ``1 / (1 - rate)``,
    as ``keras.random.dropout``.

    Raises:
      ValueError: for ``rate`` outside [0, 1).
    """
    if not 0 <= rate < 1:
        raise ValueError(f"keras.random.dropout: rate must be in [0, 1), got {rate}")
    inputs = gt.convert_to_tensor(inputs)
    shape = inputs.shape if noise_shape is None else noise_shape
    keep = uniform(shape, dtype=inputs.dtype, seed=seed) >= rate
    return gt.where(keep, inputs * (1.0 / (1.0 - rate)), gt.zeros_like(inputs))
