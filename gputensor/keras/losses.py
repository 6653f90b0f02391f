"""``gt.keras.losses``: loss functions and classes with Keras 3 semantics.

A loss function (``mean_squared_error``, ...) returns one value per sample (it reduces the
last axis). A loss class (``MeanSquaredError``, ...) wraps one, weights it by
``sample_weight`` and reduces it: ``reduction="sum_over_batch_size"`` (the default, the sum
divided by the number of elements), ``"sum"``, ``"mean"`` (as sum_over_batch_size),
``"mean_with_sample_weight"`` (divided by the sum of the weights) or ``None``/``"none"``.
As Keras, labels are cast to the predictions' dtype, and a label of rank one less whose
prediction ends in a dim of 1 (or the reverse) is expanded or squeezed to match.

Unlike Keras, which broadcasts some mismatched shapes silently (``(32, 1)`` labels against
``(32, 10)`` predictions in ``mse``), a label/prediction shape mismatch raises
``InvalidArgumentError`` naming the loss and both shapes.
"""

from __future__ import annotations

import math
from typing import Any

import gputensor as gt
from gputensor.errors import InvalidArgumentError
from gputensor.keras import masks as _masks
from gputensor.keras.serialization import from_registry, to_snake_case

__all__ = [
    "Loss",
    "LossFunctionWrapper",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "Hinge",
    "Huber",
    "KLDivergence",
    "LogCosh",
    "CosineSimilarity",
    "Poisson",
    "mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "hinge",
    "huber",
    "kl_divergence",
    "log_cosh",
    "cosine_similarity",
    "poisson",
    "mse",
    "MSE",
    "mae",
    "MAE",
    "mape",
    "MAPE",
    "msle",
    "MSLE",
    "kld",
    "KLD",
    "get",
    "serialize",
    "deserialize",
]

EPSILON = 1e-7  # keras.backend.epsilon()
_REDUCTIONS = ("sum", "sum_over_batch_size", "mean", "mean_with_sample_weight", "none", None)


# --------------------------------------------------------------------------- shape helpers
def _shape(x: Any) -> tuple:
    return tuple(x.shape)


def squeeze_or_expand_to_same_rank(x1: gt.Tensor, x2: gt.Tensor, expand_rank_1: bool = True) -> tuple:
    """Keras's rule: if the ranks differ by one and the larger ends in a dim of 1, match them."""
    r1, r2 = len(x1.shape), len(x2.shape)
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = gt.expand_dims(x2, -1)
        else:
            x1 = gt.squeeze(x1, -1)
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = gt.expand_dims(x1, -1)
        else:
            x2 = gt.squeeze(x2, -1)
    return x1, x2


def _check_same_shape(loss: str, y_true: gt.Tensor, y_pred: gt.Tensor) -> None:
    st, sp = _shape(y_true), _shape(y_pred)
    same = len(st) == len(sp) and all(a is None or b is None or a == b for a, b in zip(st, sp))
    if not same:
        raise InvalidArgumentError(
            f"{loss}: y_true of shape {st} and y_pred of shape {sp} do not match; labels must have "
            "the shape of the predictions (for integer class labels use the sparse_* loss, for "
            "one-hot labels gt.one_hot)"
        )


def _prepare(loss: str, y_true: Any, y_pred: Any, same_shape: bool = True) -> tuple:
    y_pred = gt.convert_to_tensor(y_pred)
    if not y_pred.dtype.is_floating:
        y_pred = gt.cast(y_pred, gt.float32)
    y_true = gt.convert_to_tensor(y_true)
    if y_true.dtype != y_pred.dtype:
        y_true = gt.cast(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    if same_shape:
        _check_same_shape(loss, y_true, y_pred)
    return y_true, y_pred


def _normalize(x: gt.Tensor, axis: int) -> gt.Tensor:
    # keras.ops.normalize: x / max(||x||, epsilon).
    norm = gt.sqrt(gt.reduce_sum(gt.square(x), axis=axis, keepdims=True))
    return x / gt.maximum(norm, EPSILON)


# ------------------------------------------------------------------------ loss functions
def mean_squared_error(y_true: Any, y_pred: Any) -> gt.Tensor:
    """``mean(square(y_true - y_pred), axis=-1)``."""
    y_true, y_pred = _prepare("mean_squared_error", y_true, y_pred)
    return gt.reduce_mean(gt.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> gt.Tensor:
    """``mean(abs(y_true - y_pred), axis=-1)``."""
    y_true, y_pred = _prepare("mean_absolute_error", y_true, y_pred)
    return gt.reduce_mean(gt.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> gt.Tensor:
    """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1)``."""
    y_true, y_pred = _prepare("mean_absolute_percentage_error", y_true, y_pred)
    diff = gt.abs((y_true - y_pred) / gt.maximum(gt.abs(y_true), EPSILON))
    return 100.0 * gt.reduce_mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> gt.Tensor:
    """``mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)), axis=-1)``."""
    y_true, y_pred = _prepare("mean_squared_logarithmic_error", y_true, y_pred)
    first = gt.math.log(gt.maximum(y_pred, EPSILON) + 1.0)
    second = gt.math.log(gt.maximum(y_true, EPSILON) + 1.0)
    return gt.reduce_mean(gt.square(first - second), axis=-1)


def binary_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> gt.Tensor:
    """Binary cross-entropy averaged over ``axis``, as ``keras.losses.binary_crossentropy``.

    Probabilities are clipped to ``[eps, 1 - eps]``; with ``from_logits`` the stable
    ``sigmoid_cross_entropy_with_logits`` is used. ``label_smoothing`` moves labels toward 0.5.
    """
    y_true, y_pred = _prepare("binary_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        bce = gt.nn.sigmoid_cross_entropy_with_logits(labels=y_true, logits=y_pred)
    else:
        p = gt.clip_by_value(y_pred, EPSILON, 1.0 - EPSILON)
        bce = -(y_true * gt.math.log(p) + (1.0 - y_true) * gt.math.log(1.0 - p))
    return gt.reduce_mean(bce, axis=axis)


def categorical_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> gt.Tensor:
    """Cross-entropy between one-hot (or soft) labels and class scores, summed over ``axis``.

    Probabilities are renormalised to sum to 1 and clipped to ``[eps, 1 - eps]``, as Keras;
    ``label_smoothing`` mixes the labels with the uniform distribution.
    """
    y_true, y_pred = _prepare("categorical_crossentropy", y_true, y_pred)
    if len(y_pred.shape) < 1:
        raise InvalidArgumentError("categorical_crossentropy: y_pred must have a class axis, got a scalar")
    if label_smoothing:
        num_classes = y_pred.shape[axis]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / float(num_classes)
    if from_logits:
        # Keras 3 on TensorFlow calls tf.nn.softmax_cross_entropy_with_logits, whose gradient
        # is softmax - labels: for labels that do not sum to 1 (multi-hot targets) that is not
        # the derivative of the value, and training follows it, so gputensor does the same.
        return gt.nn.softmax_cross_entropy_with_logits(labels=y_true, logits=y_pred, axis=axis)
    p = y_pred / gt.reduce_sum(y_pred, axis=axis, keepdims=True)
    p = gt.clip_by_value(p, EPSILON, 1.0 - EPSILON)
    return -gt.reduce_sum(y_true * gt.math.log(p), axis=axis)


def sparse_categorical_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, ignore_class: int | None = None, axis: int = -1
) -> gt.Tensor:
    """Cross-entropy between integer class labels and class scores.

    ``y_true`` has the shape of ``y_pred`` without its last axis (a trailing dim of 1 is
    squeezed). Entries labelled ``ignore_class`` give 0.
    """
    y_pred = gt.convert_to_tensor(y_pred)
    if not y_pred.dtype.is_floating:
        y_pred = gt.cast(y_pred, gt.float32)
    y_true = gt.convert_to_tensor(y_true)
    if axis not in (-1, len(y_pred.shape) - 1):
        raise InvalidArgumentError(
            f"sparse_categorical_crossentropy: only the last axis can be the class axis, got axis={axis}"
        )
    if len(y_true.shape) == len(y_pred.shape) and len(y_true.shape) > 0 and y_true.shape[-1] == 1:
        y_true = gt.squeeze(y_true, -1)
    st, sp = _shape(y_true), _shape(y_pred)
    if (
        len(sp) < 1
        or len(st) != len(sp) - 1
        or any(a is not None and b is not None and a != b for a, b in zip(st, sp[:-1]))
    ):
        raise InvalidArgumentError(
            f"sparse_categorical_crossentropy: y_true of shape {st} does not fit y_pred of shape "
            f"{sp}; integer labels must have the shape of y_pred without its last (class) axis "
            "(for one-hot labels use categorical_crossentropy)"
        )
    labels = gt.cast(y_true, gt.int64) if not y_true.dtype.is_integer else y_true
    valid = None
    if ignore_class is not None:
        valid = gt.not_equal(labels, gt.cast(ignore_class, labels.dtype))
        labels = gt.where(valid, labels, gt.zeros_like(labels))
    logits = y_pred
    if not from_logits:
        logits = gt.math.log(gt.clip_by_value(y_pred, EPSILON, 1.0 - EPSILON))
    result = gt.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    if valid is not None:
        result = gt.where(valid, result, gt.zeros_like(result))
    return result


def hinge(y_true: Any, y_pred: Any) -> gt.Tensor:
    """``mean(max(1 - y_true * y_pred, 0), axis=-1)``; labels in {0, 1} become {-1, 1}."""
    y_true, y_pred = _prepare("hinge", y_true, y_pred)
    is_binary = gt.reduce_all(gt.logical_or(gt.equal(y_true, 0.0), gt.equal(y_true, 1.0)))
    y_true = gt.where(is_binary, 2.0 * y_true - 1.0, y_true)
    return gt.reduce_mean(gt.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> gt.Tensor:
    """Huber loss: ``0.5 * e**2`` where ``|e| <= delta``, else ``delta * |e| - 0.5 * delta**2``."""
    y_true, y_pred = _prepare("huber", y_true, y_pred)
    error = y_pred - y_true
    abs_error = gt.abs(error)
    delta = float(delta)
    quadratic = 0.5 * gt.square(error)
    linear = delta * abs_error - 0.5 * delta * delta
    return gt.reduce_mean(gt.where(abs_error <= delta, quadratic, linear), axis=-1)


def log_cosh(y_true: Any, y_pred: Any) -> gt.Tensor:
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed stably."""
    y_true, y_pred = _prepare("log_cosh", y_true, y_pred)
    x = y_pred - y_true
    return gt.reduce_mean(x + gt.nn.softplus(-2.0 * x) - math.log(2.0), axis=-1)


def kl_divergence(y_true: Any, y_pred: Any) -> gt.Tensor:
    """``sum(y_true * log(y_true / y_pred), axis=-1)`` with both clipped to ``[eps, 1]``."""
    y_true, y_pred = _prepare("kl_divergence", y_true, y_pred)
    y_true = gt.clip_by_value(y_true, EPSILON, 1.0)
    y_pred = gt.clip_by_value(y_pred, EPSILON, 1.0)
    return gt.reduce_sum(y_true * gt.math.log(y_true / y_pred), axis=-1)


def poisson(y_true: Any, y_pred: Any) -> gt.Tensor:
    """``mean(y_pred - y_true * log(y_pred + eps), axis=-1)``."""
    y_true, y_pred = _prepare("poisson", y_true, y_pred)
    return gt.reduce_mean(y_pred - y_true * gt.math.log(y_pred + EPSILON), axis=-1)


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> gt.Tensor:
    """``-sum(normalize(y_true) * normalize(y_pred), axis)``: -1 for parallel vectors."""
    y_true, y_pred = _prepare("cosine_similarity", y_true, y_pred)
    return -gt.reduce_sum(_normalize(y_true, axis) * _normalize(y_pred, axis), axis=axis)


# --------------------------------------------------------------------------- loss classes
def apply_mask(sample_weight: Any, mask: Any, dtype: Any, reduction: str | None) -> Any:
    """Merges a prediction's mask into ``sample_weight``, as Keras 3's ``apply_mask``: for a
    mean reduction the kept entries weigh ``total / kept`` (so the mean is over them alone),
    otherwise 1; masked entries weigh 0."""
    if reduction in ("mean", "sum_over_batch_size"):
        total = gt.cast(gt.size(mask), dtype)
        valid = gt.reduce_sum(gt.cast(mask, dtype))
        float_mask = gt.where(
            gt.cast(mask, gt.bool), gt.math.divide_no_nan(total, valid), gt.zeros_like(valid)
        )
    else:
        float_mask = gt.cast(mask, dtype)
    if sample_weight is None:
        return float_mask
    sample_weight = gt.cast(gt.convert_to_tensor(sample_weight), dtype)
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
    return sample_weight * float_mask


def _reduce(values: gt.Tensor, sample_weight: Any, reduction: str | None) -> gt.Tensor:
    if sample_weight is not None:
        sample_weight = gt.cast(gt.convert_to_tensor(sample_weight), values.dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    if reduction in (None, "none") or _shape(values) in ((), (0,)):
        return values
    total = gt.reduce_sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = gt.reduce_sum(gt.broadcast_to(sample_weight, gt.shape(values)))
    else:
        divisor = gt.cast(gt.size(values), values.dtype)
    return gt.math.divide_no_nan(total, divisor)


class Loss:
    """The base class of losses, as ``keras.losses.Loss``.

    Subclasses define ``call(y_true, y_pred)`` returning per-sample values; ``__call__``
    weights them by ``sample_weight`` and applies ``reduction``.

    Args:
      name: the loss's name.
      reduction: ``"sum_over_batch_size"`` (default), ``"sum"``, ``"mean"``,
        ``"mean_with_sample_weight"`` or ``None``/``"none"``.
      dtype: the dtype of the computation (defaults to the predictions' float dtype;
        float16 and bfloat16 predictions are computed in float32, as Keras 3).
    """

    def __init__(
        self, name: str | None = None, reduction: str | None = "sum_over_batch_size", dtype: Any = None
    ) -> None:
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: invalid reduction {reduction!r}; expected one of {list(_REDUCTIONS)}"
            )
        self.name = name or to_snake_case(type(self).__name__)
        self.reduction = reduction
        self.dtype = gt.as_dtype(dtype) if dtype is not None else None

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> gt.Tensor:
        mask = _masks.get_keras_mask(y_pred)  # Keras 3: a masked prediction masks the loss
        y_pred = gt.convert_to_tensor(y_pred)
        if self.dtype is not None and y_pred.dtype != self.dtype:
            y_pred = gt.cast(y_pred, self.dtype)
        elif not y_pred.dtype.is_floating or y_pred.dtype in (gt.float16, gt.bfloat16):
            # Keras 3 losses compute in float32 (floatx): mixed-precision float16 outputs too.
            y_pred = gt.cast(y_pred, gt.float32)
        values = self.call(y_true, y_pred)
        if mask is not None:
            sample_weight = apply_mask(sample_weight, mask, values.dtype, self.reduction)
        return _reduce(values, sample_weight, self.reduction)

    def call(self, y_true: Any, y_pred: Any) -> gt.Tensor:
        raise TypeError(f"{type(self).__name__}: a Loss subclass must define call(y_true, y_pred)")

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        return cls(**config)


class LossFunctionWrapper(Loss):
    """A ``Loss`` from a per-sample function ``fn(y_true, y_pred, **kwargs)``, as Keras."""

    def __init__(
        self,
        fn: Any,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true: Any, y_pred: Any) -> gt.Tensor:
        try:
            return self.fn(y_true, y_pred, **self._fn_kwargs)
        except InvalidArgumentError as exc:
            # Name the class the user built (the function's name is in the message already).
            raise InvalidArgumentError(f"{type(self).__name__}: {exc}") from None

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(self._fn_kwargs)
        return config


_R = "sum_over_batch_size"


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squares of errors, as ``keras.losses.MeanSquaredError``.

    >>> float(MeanSquaredError()([[0.0, 1.0]], [[1.0, 1.0]]))
    0.5
    """

    def __init__(
        self, reduction: str | None = _R, name: str = "mean_squared_error", dtype: Any = None
    ) -> None:
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors, as ``keras.losses.MeanAbsoluteError``."""

    def __init__(
        self, reduction: str | None = _R, name: str = "mean_absolute_error", dtype: Any = None
    ) -> None:
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """Mean absolute percentage error, as ``keras.losses.MeanAbsolutePercentageError``."""

    def __init__(
        self, reduction: str | None = _R, name: str = "mean_absolute_percentage_error", dtype: Any = None
    ) -> None:
        super().__init__(mean_absolute_percentage_error, reduction=reduction, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """Mean squared logarithmic error, as ``keras.losses.MeanSquaredLogarithmicError``."""

    def __init__(
        self, reduction: str | None = _R, name: str = "mean_squared_logarithmic_error", dtype: Any = None
    ) -> None:
        super().__init__(mean_squared_logarithmic_error, reduction=reduction, name=name, dtype=dtype)


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy, as ``keras.losses.BinaryCrossentropy``.

    Args:
      from_logits: whether ``y_pred`` holds logits (else probabilities).
      label_smoothing: in [0, 1]; labels move toward 0.5 by this fraction.
      axis: the axis averaged over.
      reduction, name, dtype: see ``Loss``.
    """

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = _R,
        name: str = "binary_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            binary_crossentropy, reduction=reduction, name=name, dtype=dtype,
            from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
        )  # fmt: skip
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for one-hot (or soft) labels, as ``keras.losses.CategoricalCrossentropy``.

    Args:
      from_logits: whether ``y_pred`` holds logits (else probabilities).
      label_smoothing: in [0, 1]; labels mix with the uniform distribution by this fraction.
      axis: the class axis.
      reduction, name, dtype: see ``Loss``.
    """

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = _R,
        name: str = "categorical_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
            from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
        )  # fmt: skip
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for integer labels, as ``keras.losses.SparseCategoricalCrossentropy``.

    Args:
      from_logits: whether ``y_pred`` holds logits (else probabilities).
      ignore_class: a label value that contributes nothing; as Keras, the mean
        (``sum_over_batch_size``) is then taken over the other entries only.
      reduction, name, dtype: see ``Loss``.
    """

    def __init__(
        self,
        from_logits: bool = False,
        ignore_class: int | None = None,
        reduction: str | None = _R,
        name: str = "sparse_categorical_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            sparse_categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
            from_logits=from_logits, ignore_class=ignore_class,
        )  # fmt: skip
        self.from_logits, self.ignore_class = from_logits, ignore_class

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> gt.Tensor:
        if self.ignore_class is None or self.reduction not in ("sum_over_batch_size", "mean"):
            return super().__call__(y_true, y_pred, sample_weight)
        # Keras masks ignored entries out of the mean: divide by the number of valid entries.
        y_pred = gt.convert_to_tensor(y_pred)
        per_sample = self.call(y_true, y_pred)
        labels = gt.convert_to_tensor(y_true)
        if len(labels.shape) == len(y_pred.shape) and labels.shape[-1] == 1:
            labels = gt.squeeze(labels, -1)
        valid = gt.cast(gt.not_equal(gt.cast(labels, gt.int64), int(self.ignore_class)), per_sample.dtype)
        weights = valid if sample_weight is None else valid * gt.cast(sample_weight, per_sample.dtype)
        return gt.math.divide_no_nan(gt.reduce_sum(per_sample * weights), gt.reduce_sum(valid))


class Hinge(LossFunctionWrapper):
    """Hinge loss, as ``keras.losses.Hinge`` (labels in {0, 1} become {-1, 1})."""

    def __init__(self, reduction: str | None = _R, name: str = "hinge", dtype: Any = None) -> None:
        super().__init__(hinge, reduction=reduction, name=name, dtype=dtype)


class Huber(LossFunctionWrapper):
    """Huber loss, as ``keras.losses.Huber``: quadratic within ``delta``, linear outside."""

    def __init__(
        self, delta: float = 1.0, reduction: str | None = _R, name: str = "huber_loss", dtype: Any = None
    ) -> None:
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=delta)
        self.delta = delta


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence, as ``keras.losses.KLDivergence``."""

    def __init__(self, reduction: str | None = _R, name: str = "kl_divergence", dtype: Any = None) -> None:
        super().__init__(kl_divergence, reduction=reduction, name=name, dtype=dtype)


class LogCosh(LossFunctionWrapper):
    """``log(cosh(y_pred - y_true))`` averaged, as ``keras.losses.LogCosh``."""

    def __init__(self, reduction: str | None = _R, name: str = "log_cosh", dtype: Any = None) -> None:
        super().__init__(log_cosh, reduction=reduction, name=name, dtype=dtype)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along ``axis``, as ``keras.losses.CosineSimilarity``."""

    def __init__(
        self, axis: int = -1, reduction: str | None = _R, name: str = "cosine_similarity", dtype: Any = None
    ) -> None:
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype, axis=axis)
        self.axis = axis


class Poisson(LossFunctionWrapper):
    """Poisson loss ``y_pred - y_true * log(y_pred)``, as ``keras.losses.Poisson``."""

    def __init__(self, reduction: str | None = _R, name: str = "poisson", dtype: Any = None) -> None:
        super().__init__(poisson, reduction=reduction, name=name, dtype=dtype)


# ---------------------------------------------------------------------------- resolution
_CLASSES = {
    cls.__name__: cls
    for cls in (
        MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
        BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, Hinge, Huber,
        KLDivergence, LogCosh, CosineSimilarity, Poisson,
    )
}  # fmt: skip
_FUNCTIONS = {
    fn.__name__: fn
    for fn in (
        mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
        mean_squared_logarithmic_error, binary_crossentropy, categorical_crossentropy,
        sparse_categorical_crossentropy, hinge, huber, kl_divergence, log_cosh, cosine_similarity, poisson,
    )
}  # fmt: skip
_ALIASES = {
    "mse": mean_squared_error, "MSE": mean_squared_error,
    "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "mape": mean_absolute_percentage_error, "MAPE": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error, "MSLE": mean_squared_logarithmic_error,
    "kld": kl_divergence, "KLD": kl_divergence, "kullback_leibler_divergence": kl_divergence,
    "logcosh": log_cosh, "huber_loss": huber,
}  # fmt: skip
# Keras 3 exports the short names as module attributes too (``keras.losses.mse``).
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence


def serialize(loss: Any) -> Any:
    """A loss class instance as ``{"class_name", "config"}``; a loss function as its name."""
    if isinstance(loss, Loss):
        from gputensor.keras.serialization import serialize_object

        return serialize_object(loss, "keras.losses")
    if callable(loss) and getattr(loss, "__name__", None) in _FUNCTIONS:
        return loss.__name__
    raise ValueError(f"losses.serialize: cannot serialize {loss!r}")


def deserialize(config: Any, custom_objects: dict | None = None) -> Any:
    """Inverse of ``serialize``; a string resolves as ``get`` does."""
    if isinstance(config, str):
        return get(config)
    return from_registry("losses", "loss", _CLASSES, config, custom_objects)


def get(identifier: Any) -> Any:
    """A loss from a name, a config dict, a Loss or a callable, as ``keras.losses.get``.

    A function name or alias (``"mse"``, ``"sparse_categorical_crossentropy"``) gives the
    function; a class name (``"MeanSquaredError"``) gives an instance with default arguments.

    >>> get("mse") is mean_squared_error
    True
    """
    if identifier is None:
        return None
    if isinstance(identifier, Loss) or (callable(identifier) and not isinstance(identifier, (str, dict))):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier in _ALIASES:
            return _ALIASES[identifier]
        if identifier in _FUNCTIONS:
            return _FUNCTIONS[identifier]
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        known = sorted(set(_ALIASES) | set(_FUNCTIONS) | set(_CLASSES))
        raise ValueError(f"losses.get: unknown loss {identifier!r}; known: {known}")
    raise ValueError(f"losses.get: could not interpret loss identifier {identifier!r}")
