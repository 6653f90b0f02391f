"""Preprocessing layers of Keras 3 that gt.keras lacked: Normalization (with ``adapt``),
CategoryEncoding and Discretization (with ``adapt``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import gputensor as gt
from gputensor.keras.layers.base import Layer, _shape_of

__all__ = ["Normalization", "CategoryEncoding", "Discretization"]

_EPSILON = 1e-7  # keras.config.epsilon()


def _as_numpy(batch: Any) -> np.ndarray:
    if isinstance(batch, (tuple, list)) and batch and not np.isscalar(batch[0]) and np.ndim(batch[0]) > 0:
        batch = batch[0]  # an (x, y) batch: Keras adapts on x
    return np.asarray(batch.numpy() if hasattr(batch, "numpy") else batch)


def _batches(data: Any, who: str) -> tuple[bool, Any]:
    """``(is_one_array, data)``: one array/tensor, or an iterable of batches (a Dataset, a list
    or generator of arrays)."""
    if isinstance(data, np.ndarray) or gt.is_tensor(data):
        return True, _as_numpy(data)
    if hasattr(data, "__iter__"):
        return False, data
    raise TypeError(
        f"{who}.adapt: unsupported data type {type(data).__name__}; pass a NumPy array, a tensor, a "
        "gt.data.Dataset or an iterable of batches"
    )


class Normalization(Layer):
    """``(x - mean) / max(sqrt(variance), 1e-7)`` per feature (``invert=True``: the inverse),
    as ``keras.layers.Normalization``.

    The statistics are given (``mean``/``variance``) or computed by `adapt` over all axes but
    ``axis``; they are the non-trainable weights ``mean``, ``variance`` and ``count`` (so
    ``.weights.h5`` files hold them, as Keras's).

    Args:
      axis: the kept axis or axes (default -1, per feature); None normalizes with scalars.
      mean, variance: fixed statistics (both or neither), broadcast to the kept axes.
      invert: map normalized values back to the input's scale.

    Raises:
      ValueError: only one of ``mean``/``variance``, or shapes that differ; at build, an axis
        outside the input or a kept axis of unknown size; at call, no statistics yet.
    """

    supports_masking = True

    def __init__(
        self, axis: Any = -1, mean: Any = None, variance: Any = None, invert: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        else:
            axis = tuple(axis)
        self.axis = axis
        self.input_mean, self.input_variance = mean, variance
        self.invert = invert
        self.mean = self.variance = None
        if (mean is not None) != (variance is not None):
            raise ValueError(
                "When setting values directly, both `mean` and `variance` must be set. "
                f"Received: mean={mean} and variance={variance}"
            )
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(
                    "When setting values directly, `mean` and `variance` must have the same shape. Received: "
                    f"mean shape {np.shape(mean)} and variance shape {np.shape(variance)}"
                )
            if len(np.shape(mean)) > len(self.axis):
                raise ValueError(
                    f"The rank of `mean` must be less than or equal to the number of axes ({len(self.axis)}). "
                    f"Received: mean shape {np.shape(mean)} for axis {self.axis}"
                )

    def build(self, input_shape: Any) -> None:
        ndim = len(input_shape)
        self._build_input_shape = tuple(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(
                f"Normalization layer {self.name!r}: all `axis` values must be in the range [-ndim, ndim). "
                f"Received inputs with ndim={ndim}, while axis={self.axis}"
            )
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        for d in self._keep_axis:
            if input_shape[d] is None:
                raise ValueError(
                    f"Normalization layer {self.name!r}: all `axis` values to be kept must have a known shape. "
                    f"Received axis={self.axis}, inputs.shape={tuple(input_shape)}, with unknown axis at index {d}"
                )
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = [input_shape[d] if d in self._keep_axis else 1 for d in range(ndim)]
        self._mean_and_var_shape = tuple(input_shape[d] for d in self._keep_axis)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(
                "mean", self._mean_and_var_shape, initializer="zeros", trainable=False
            )
            self.adapt_variance = self.add_weight(
                "variance", self._mean_and_var_shape, initializer="ones", trainable=False
            )
            self.count = self.add_weight("count", (), initializer="zeros", trainable=False, dtype=gt.int64)
        else:
            mean = np.asarray(self.input_mean, np.float64)
            variance = np.asarray(self.input_variance, np.float64)
            if mean.ndim:
                expanded = [1] * ndim
                for i in range(1, mean.ndim + 1):
                    expanded[self._keep_axis[-i]] = mean.shape[-i]
                mean, variance = mean.reshape(expanded), variance.reshape(expanded)
            self._fixed = (
                np.broadcast_to(mean, self._broadcast_shape).astype(self._compute_dt.as_numpy_dtype),
                np.broadcast_to(variance, self._broadcast_shape).astype(self._compute_dt.as_numpy_dtype),
            )
        self.built = True

    def adapt(self, data: Any) -> None:
        """Computes ``mean`` and ``variance`` over all axes but ``axis`` from ``data`` (an array,
        a tensor, a ``gt.data.Dataset`` or an iterable of batches; batches are merged with
        Keras's running formula).

        Raises:
          ValueError: the data's kept axes differ from the built ones, or no batches.
        """
        one, data = _batches(data, "Normalization")
        if one:
            first, rest = data, []
        else:
            it = iter(data)
            first = next(it, None)
            if first is None:
                raise ValueError(
                    "adapt() received an empty iterable (no batches). Expected at least one batch. Pass a "
                    "non-empty iterable of arrays or tensors, e.g. layer.adapt([x])."
                )
            first, rest = _as_numpy(first), it
        if not self.built:
            self.build(first.shape)
        if self.input_mean is not None:
            raise ValueError(
                f"Normalization layer {self.name!r} was given fixed `mean` and `variance`; adapt() does not apply"
            )
        total_mean = np.zeros(self._mean_and_var_shape)
        total_var = np.zeros(self._mean_and_var_shape)
        total = 0
        for batch in [first] if one else _chain(first, rest):
            batch = _as_numpy(batch).astype(np.float64)
            for d in self._keep_axis:
                if batch.ndim != len(self._build_input_shape) or batch.shape[d] != self._build_input_shape[d]:
                    raise ValueError(
                        f"The layer was built with input_shape={self._build_input_shape}, but adapt() is being "
                        f"called with data with an incompatible shape, data.shape={batch.shape}"
                    )
            b_mean = batch.mean(axis=self._reduce_axis)
            b_var = batch.var(axis=self._reduce_axis)
            count = math.prod(batch.shape[d] for d in self._reduce_axis) if self._reduce_axis else 1
            total += count
            w = count / total
            new_mean = total_mean * (1 - w) + b_mean * w
            total_var = (total_var + (total_mean - new_mean) ** 2) * (1 - w) + (
                b_var + (b_mean - new_mean) ** 2
            ) * w
            total_mean = new_mean
        self.adapt_mean.assign(total_mean.astype(np.float32))
        self.adapt_variance.assign(total_var.astype(np.float32))

    def _stats(self) -> tuple:
        if self.input_mean is not None:
            return gt.constant(self._fixed[0]), gt.constant(self._fixed[1])
        return (
            gt.reshape(gt.cast(self.adapt_mean, self._compute_dt), self._broadcast_shape),
            gt.reshape(gt.cast(self.adapt_variance, self._compute_dt), self._broadcast_shape),
        )

    def call(self, inputs: Any) -> Any:
        if not inputs.dtype.is_floating:
            inputs = gt.cast(inputs, self._compute_dt)
        mean, variance = self._stats()
        std = gt.maximum(gt.sqrt(variance), gt.cast(_EPSILON, variance.dtype))
        if self.invert:
            return mean + inputs * std
        return (inputs - mean) / std

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The input shape."""
        return input_shape

    def get_config(self) -> dict:
        """Keras 3's config: ``axis``, ``invert``, ``mean``, ``variance`` (lists, or None)."""
        config = super().get_config()
        config.update(
            axis=list(self.axis),
            mean=None if self.input_mean is None else np.asarray(self.input_mean).tolist(),
            variance=None if self.input_variance is None else np.asarray(self.input_variance).tolist(),
        )
        return config

    def get_build_config(self) -> dict | None:
        """``{"input_shape": ...}`` once built, as Keras (a .keras archive rebuilds from it)."""
        return {"input_shape": list(self._build_input_shape)} if self.built else None


def _chain(first: Any, rest: Any) -> Any:
    yield first
    yield from rest


def _encode(indices: Any, output_mode: str, depth: int, dtype: Any, count_weights: Any = None) -> Any:
    """Keras's ``encode_categorical_inputs`` for ``one_hot``, ``multi_hot`` and ``count``."""
    rank = len(_shape_of(indices))
    if rank == 0:
        indices = gt.expand_dims(indices, -1)
        rank = 1
    if output_mode == "one_hot":
        shape = _shape_of(indices)
        if rank > 1 and shape[-1] == 1:
            indices = gt.squeeze(indices, -1)
        return gt.one_hot(indices, depth, dtype=dtype)
    hot = gt.one_hot(indices, depth, dtype=dtype if count_weights is None else count_weights.dtype)
    axis = -2 if rank > 1 else 0
    if output_mode == "multi_hot":
        return gt.reduce_max(hot, axis=axis)
    if count_weights is not None:
        hot = hot * gt.expand_dims(count_weights, -1)
    return gt.reduce_sum(hot, axis=axis)


class CategoryEncoding(Layer):
    """Encodes integer ids in ``[0, num_tokens)`` as ``one_hot``, ``multi_hot`` (the default;
    ``binary`` is its old name) or ``count`` vectors (``keras.layers.CategoryEncoding``).

    ``multi_hot`` and ``count`` reduce the last axis of a rank-2+ input (a rank-1 input is one
    sample); ``one_hot`` adds an axis (a trailing axis of size 1 is replaced). ``count`` may be
    weighted by ``count_weights`` given at call.

    Raises:
      ValueError: an unknown ``output_mode``, a missing or non-positive ``num_tokens``;
        ``count_weights`` outside ``count`` mode; at call, ids outside ``[0, num_tokens)``
        (checked for eager inputs; inside ``gt.function`` they encode as zeros).
    """

    def __init__(
        self,
        num_tokens: int | None = None,
        output_mode: str = "multi_hot",
        sparse: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in ("count", "one_hot", "multi_hot"):
            raise ValueError(
                f"Unknown arg for output_mode: {output_mode!r} (use 'one_hot', 'multi_hot' or 'count')"
            )
        if num_tokens is None:
            raise ValueError(
                "num_tokens must be set to use this layer. If the number of tokens is not known beforehand, "
                "use the IntegerLookup layer instead."
            )
        if num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        if sparse:
            raise ValueError(
                "CategoryEncoding: sparse=True outputs are not supported in gputensor; use sparse=False"
            )
        self.num_tokens, self.output_mode, self.sparse = int(num_tokens), output_mode, sparse

    def _convert_input(self, x: Any) -> Any:
        if not gt.is_tensor(x) and not hasattr(x, "_keras_history"):
            x = gt.constant(np.asarray(x))
        return x

    def call(self, inputs: Any, count_weights: Any = None) -> Any:
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError(
                    "`count_weights` is not used when `output_mode` is not `'count'`. "
                    f"Received `count_weights={count_weights}`."
                )
            count_weights = gt.cast(gt.convert_to_tensor(count_weights), self._compute_dt)
        if inputs.dtype.is_floating:
            inputs = gt.cast(inputs, gt.int64)
        if gt.executing_eagerly() and type(inputs) is gt.Tensor:
            ids = inputs.numpy()
            if ids.size and (ids.min() < 0 or ids.max() >= self.num_tokens):
                raise ValueError(
                    f"CategoryEncoding layer {self.name!r}: input values must be in the range "
                    f"0 <= values < num_tokens with num_tokens={self.num_tokens}; got values in "
                    f"[{ids.min()}, {ids.max()}]"
                )
        return _encode(inputs, self.output_mode, self.num_tokens, self._compute_dt, count_weights)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """Keras's rule (see the class docstring)."""
        if len(input_shape) == 0:
            return (self.num_tokens,)
        if self.output_mode == "one_hot":
            if input_shape[-1] != 1 or len(input_shape) == 1:
                return (*input_shape, self.num_tokens)
            return (*input_shape[:-1], self.num_tokens)
        return (*input_shape[:-1], self.num_tokens)


# Keras's approximate quantiles (keras/src/layers/preprocessing/discretization.py), in NumPy.
def _summarize(values: np.ndarray, epsilon: float) -> np.ndarray:
    values = np.sort(np.reshape(values, [-1]))
    step = max(np.size(values) / (1.0 / epsilon), 1)
    boundaries = values[int(step - 1) :: int(step)]
    return np.stack([boundaries, np.ones_like(boundaries) * step])


def _compress_summary(summary: np.ndarray, epsilon: float) -> np.ndarray:
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_pct = cum_weights / cum_weights[-1]
    new_bins = np.interp(percents, cum_pct, summary[0])
    cum_weights = np.interp(percents, cum_pct, cum_weights)
    new_weights = cum_weights - np.concatenate((np.array([0]), cum_weights[:-1]))
    return np.stack((new_bins, new_weights)).astype("float32")


def _merge_summaries(prev: np.ndarray, nxt: np.ndarray, epsilon: float) -> np.ndarray:
    merged = np.concatenate((prev, nxt), axis=1)
    return _compress_summary(np.take(merged, np.argsort(merged[0]), axis=1), epsilon)


class Discretization(Layer):
    """Buckets float values by ``bin_boundaries`` (bucket ``i`` holds ``b[i-1] <= x < b[i]``),
    as ``keras.layers.Discretization``; ``num_bins`` with `adapt` finds boundaries at
    approximate quantiles (Keras's algorithm, so the same data give the same boundaries).

    Args:
      bin_boundaries: sorted boundaries (``len + 1`` buckets).
      num_bins: the bucket count for `adapt` (give one of the two).
      epsilon: the quantile approximation error (default 0.01).
      output_mode: ``"int"`` (bucket ids, int32), ``"one_hot"``, ``"multi_hot"`` or ``"count"``.

    Raises:
      ValueError: both or neither of ``bin_boundaries``/``num_bins``, a negative ``num_bins``,
        an unknown ``output_mode``, ``sparse=True``; at call, no boundaries yet.
    """

    def __init__(
        self,
        bin_boundaries: Any = None,
        num_bins: int | None = None,
        epsilon: float = 0.01,
        output_mode: str = "int",
        sparse: bool = False,
        dtype: Any = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        if sparse:
            raise ValueError(
                "Discretization: sparse=True outputs are not supported in gputensor; use sparse=False"
            )
        if output_mode not in ("int", "one_hot", "multi_hot", "count"):
            raise ValueError(
                f"The `output_mode` argument of Discretization must be one of 'int', 'one_hot', 'multi_hot', "
                f"'count'. Received: output_mode={output_mode!r}"
            )
        if num_bins is not None and num_bins < 0:
            raise ValueError(
                f"`num_bins` must be greater than or equal to 0. Received: `num_bins={num_bins}`"
            )
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(
                "Both `num_bins` and `bin_boundaries` should not be set. "
                f"Received: `num_bins={num_bins}` and `bin_boundaries={bin_boundaries}`"
            )
        if num_bins is None and bin_boundaries is None:
            raise ValueError("You need to set either `num_bins` or `bin_boundaries`.")
        self.bin_boundaries = None if bin_boundaries is None else list(bin_boundaries)
        self.num_bins, self.epsilon, self.output_mode, self.sparse = num_bins, epsilon, output_mode, sparse
        self.summary = None if self.bin_boundaries else np.array([[], []], dtype="float32")

    def _convert_input(self, x: Any) -> Any:
        if not gt.is_tensor(x) and not hasattr(x, "_keras_history"):
            return gt.constant(np.asarray(x, dtype=np.float32))
        return x

    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Finds ``num_bins - 1`` boundaries at approximate quantiles of ``data`` (an array, a
        tensor, or an iterable of batches; ``steps`` limits the batches read).

        Raises:
          ValueError: the layer was made with ``bin_boundaries``.
        """
        if self.num_bins is None:
            raise ValueError(
                "Cannot adapt a Discretization layer that has been initialized with `bin_boundaries`, "
                "use `num_bins` instead."
            )
        self.summary = np.array([[], []], dtype="float32")
        one, data = _batches(data, "Discretization")
        for i, batch in enumerate([data] if one else data):
            if steps is not None and i >= steps:
                break
            values = _as_numpy(batch).astype("float32")
            self.summary = _merge_summaries(_summarize(values, self.epsilon), self.summary, self.epsilon)
        self.bin_boundaries = _compress_summary(self.summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def call(self, inputs: Any) -> Any:
        if self.bin_boundaries is None:
            raise ValueError(
                "You need to either pass the `bin_boundaries` argument at construction time or call "
                "`adapt(dataset)` before you can start using the `Discretization` layer."
            )
        x = inputs if inputs.dtype.is_floating else gt.cast(inputs, gt.float32)
        ids = gt.zeros_like(x, dtype=gt.int32)
        for b in self.bin_boundaries:  # ids = the number of boundaries <= x (np.digitize)
            ids = ids + gt.cast(x >= gt.cast(b, x.dtype), gt.int32)
        if self.output_mode == "int":
            return ids
        return _encode(ids, self.output_mode, len(self.bin_boundaries) + 1, self._compute_dt)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """Keras's rule: the input shape for ``int``; else with the bucket axis."""
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins
        if self.output_mode == "one_hot":
            if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
                return (*input_shape[:-1], depth)
            return (*input_shape, depth)
        if input_shape and len(input_shape) >= 2:
            return (input_shape[0], *input_shape[2:], depth)
        return (depth,)

    def get_config(self) -> dict:
        """Keras 3's config (the adapted boundaries included)."""
        return {
            "bin_boundaries": self.bin_boundaries,
            "num_bins": self.num_bins,
            "epsilon": self.epsilon,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "name": self.name,
            "dtype": self._dtype_config(),
        }

    @classmethod
    def from_config(cls, config: dict) -> Discretization:
        """From `get_config`'s dict: adapted boundaries come back with ``num_bins``, as Keras."""
        config = dict(config)
        config.pop("trainable", None)
        if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
            boundaries = config.pop("bin_boundaries")
            layer = cls(**config)
            layer.bin_boundaries = list(boundaries)
            return layer
        return cls(**config)
