"""``gt.keras.metrics``: stateful metrics with Keras 3 semantics.

A metric keeps its state in non-trainable variables; ``update_state(y_true, y_pred,
sample_weight=None)`` accumulates a batch, ``result()`` reads the value, ``reset_state()``
zeroes it. Updates are variable assignments written with gt ops, so a metric updated inside a
``gt.function`` accumulates on every call of the traced graph.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import gputensor as gt
from gputensor.errors import InvalidArgumentError
from gputensor.keras import losses as losses_lib
from gputensor.keras.losses import squeeze_or_expand_to_same_rank
from gputensor.keras.serialization import from_registry, to_snake_case

__all__ = [
    "MeanAbsolutePercentageError",
    "Metric",
    "Mean",
    "Sum",
    "MeanMetricWrapper",
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "AUC",
    "Precision",
    "Recall",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "RootMeanSquaredError",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "get",
    "serialize",
    "deserialize",
]


class Metric:
    """The base class of metrics, as ``keras.metrics.Metric``.

    Subclasses create state with ``add_variable`` and define ``update_state`` and ``result``.

    Args:
      name: the metric's name (the key in ``History`` and the progress bar).
      dtype: the dtype of the state and result (float32).
    """

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        self.name = name or to_snake_case(type(self).__name__)
        self.dtype = gt.as_dtype(dtype) if dtype is not None else gt.float32
        self._variables: list[gt.Variable] = []

    def add_variable(
        self, shape: Any, initializer: str = "zeros", dtype: Any = None, name: str | None = None
    ) -> gt.Variable:
        """Creates a state variable (zeros) tracked in ``variables`` and reset by ``reset_state``:
        a `KerasVariable` named ``name`` at the path ``<metric name>/<name>``, as Keras 3."""
        if initializer != "zeros":
            raise ValueError(
                f"{type(self).__name__}.add_variable: only 'zeros' state is supported, got {initializer!r}"
            )
        dtype = gt.as_dtype(dtype) if dtype is not None else self.dtype
        shape = [int(d) for d in shape]
        from gputensor.keras.variables import KerasVariable, name_scope

        # Keras 3: a KerasVariable at "<metric name>/<name>" ("mean_absolute_error/total").
        with name_scope(self.name.replace("/", ">"), caller=self):
            v = KerasVariable(lambda: gt.zeros(shape, dtype), name=name, trainable=False)
        self._variables.append(v)
        return v

    def add_weight(
        self,
        name: str | None = None,
        shape: Any = (),
        initializer: str = "zeros",
        dtype: Any = None,
        **kwargs: Any,
    ) -> gt.Variable:
        """``add_variable`` with TF-Keras's argument order (``name`` first), as Keras 3's
        ``Metric.add_weight``; the guides' custom metrics call it."""
        return self.add_variable(shape, initializer=initializer, dtype=dtype, name=name)

    @property
    def variables(self) -> list[gt.Variable]:
        """The state variables, in creation order."""
        return list(self._variables)

    @property
    def trainable_variables(self) -> list[gt.Variable]:
        return []

    @property
    def non_trainable_variables(self) -> list[gt.Variable]:
        return list(self._variables)

    def reset_state(self) -> None:
        """Sets every state variable to zero."""
        for v in self._variables:
            v.assign(gt.zeros(v.shape.as_list(), v.dtype))

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(f"{type(self).__name__}: a Metric subclass must define update_state")

    def result(self) -> gt.Tensor:
        raise TypeError(f"{type(self).__name__}: a Metric subclass must define result")

    def __call__(self, *args: Any, **kwargs: Any) -> gt.Tensor:
        """Updates the state with one batch and returns the result."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype.name}

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def _reduce_to_samplewise(values: gt.Tensor, sample_weight: Any, reduce_fn: Any, dtype: Any) -> tuple:
    # keras.src.metrics.metrics_utils / reduction_metrics.reduce_to_samplewise_values.
    values = gt.cast(gt.convert_to_tensor(values), dtype)
    if sample_weight is not None:
        sample_weight = gt.cast(gt.convert_to_tensor(sample_weight), dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim, values_ndim = len(sample_weight.shape), len(values.shape)
        if values_ndim > weight_ndim:
            values = reduce_fn(values, axis=list(range(weight_ndim, values_ndim)))
        try:
            sample_weight = gt.broadcast_to(sample_weight, gt.shape(values))
        except (ValueError, InvalidArgumentError):
            raise InvalidArgumentError(
                f"sample_weight of shape {tuple(sample_weight.shape)} does not broadcast to the "
                f"per-sample values of shape {tuple(values.shape)}"
            ) from None
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=list(range(1, weight_ndim)))
    if len(values.shape) > 1:
        values = reduce_fn(values, axis=list(range(1, len(values.shape))))
    return values, sample_weight


class Mean(Metric):
    """The (weighted) mean of the values given, as ``keras.metrics.Mean``.

    >>> m = Mean()
    >>> m.update_state([1.0, 3.0, 5.0, 7.0])
    >>> float(m.result())
    4.0
    """

    def __init__(self, name: str = "mean", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable([], name="total")
        self.count = self.add_variable([], name="count")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        values, sample_weight = _reduce_to_samplewise(values, sample_weight, gt.reduce_mean, self.dtype)
        self.total.assign_add(gt.reduce_sum(values))
        if sample_weight is not None:
            num = gt.reduce_sum(sample_weight)
        elif len(values.shape) >= 1:
            num = gt.cast(gt.shape(values)[0], self.dtype)
        else:
            num = gt.constant(1.0, self.dtype)
        self.count.assign_add(num)

    def result(self) -> gt.Tensor:
        return gt.math.divide_no_nan(self.total.value(), self.count.value())


class Sum(Metric):
    """The (weighted) sum of the values given, as ``keras.metrics.Sum``."""

    def __init__(self, name: str = "sum", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable([], name="total")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        values, _ = _reduce_to_samplewise(values, sample_weight, gt.reduce_sum, self.dtype)
        self.total.assign_add(gt.reduce_sum(values))

    def result(self) -> gt.Tensor:
        return gt.identity(self.total.value())


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` over all samples, as Keras.

    Args:
      fn: a per-sample function (a loss function or an accuracy function).
      name: the metric's name.
      dtype: the state dtype.
      **kwargs: passed to ``fn``.
    """

    def __init__(self, fn: Any, name: str | None = None, dtype: Any = None, **kwargs: Any) -> None:
        super().__init__(name=name or getattr(fn, "__name__", "mean_metric_wrapper"), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        from gputensor.keras import masks as _masks

        mask = _masks.get_keras_mask(y_pred)  # Keras 3: masked steps do not count
        y_pred = gt.convert_to_tensor(y_pred)
        y_true = gt.convert_to_tensor(y_true)
        try:
            values = self._fn(y_true, y_pred, **self._fn_kwargs)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"metric {self.name!r}: {exc}") from None
        if mask is not None:
            from gputensor.keras.losses import apply_mask

            sample_weight = apply_mask(sample_weight, mask, values.dtype, "sum")
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(self._fn_kwargs)
        return config


# ---------------------------------------------------------------- accuracy functions
def _float(x: gt.Tensor) -> gt.Tensor:
    return gt.cast(x, gt.float32)


def accuracy(y_true: Any, y_pred: Any) -> gt.Tensor:
    """1.0 where ``y_true == y_pred`` exactly, else 0.0."""
    y_pred = gt.convert_to_tensor(y_pred)
    y_true = gt.cast(gt.convert_to_tensor(y_true), y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return _float(gt.equal(y_true, y_pred))


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> gt.Tensor:
    """1.0 where ``(y_pred > threshold) == y_true``, else 0.0."""
    y_pred = gt.convert_to_tensor(y_pred)
    y_true = gt.cast(gt.convert_to_tensor(y_true), y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_pred = gt.cast(gt.greater(y_pred, gt.cast(threshold, y_pred.dtype)), y_true.dtype)
    return _float(gt.equal(y_true, y_pred))


def categorical_accuracy(y_true: Any, y_pred: Any) -> gt.Tensor:
    """1.0 where ``argmax(y_true) == argmax(y_pred)`` over the last axis."""
    y_pred = gt.convert_to_tensor(y_pred)
    y_true = gt.convert_to_tensor(y_true)
    if tuple(y_true.shape) != tuple(y_pred.shape) and None not in tuple(y_true.shape) + tuple(y_pred.shape):
        raise InvalidArgumentError(
            f"categorical_accuracy: one-hot y_true of shape {tuple(y_true.shape)} does not match "
            f"y_pred of shape {tuple(y_pred.shape)} (for integer labels use sparse_categorical_accuracy)"
        )
    return _float(gt.equal(gt.argmax(y_true, axis=-1), gt.argmax(y_pred, axis=-1)))


def _sparse_labels(name: str, y_true: Any, y_pred: gt.Tensor) -> gt.Tensor:
    y_true = gt.convert_to_tensor(y_true)
    if len(y_true.shape) == len(y_pred.shape) and len(y_true.shape) > 0 and y_true.shape[-1] == 1:
        y_true = gt.squeeze(y_true, -1)
    st, sp = tuple(y_true.shape), tuple(y_pred.shape)
    if len(st) != len(sp) - 1 or any(a is not None and b is not None and a != b for a, b in zip(st, sp[:-1])):
        raise InvalidArgumentError(
            f"{name}: integer y_true of shape {st} does not fit y_pred of shape {sp}; labels must "
            "have the shape of y_pred without its last (class) axis"
        )
    return gt.cast(y_true, gt.int64)


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> gt.Tensor:
    """1.0 where the integer label equals ``argmax(y_pred)`` over the last axis."""
    y_pred = gt.convert_to_tensor(y_pred)
    labels = _sparse_labels("sparse_categorical_accuracy", y_true, y_pred)
    return _float(gt.equal(labels, gt.cast(gt.argmax(y_pred, axis=-1), gt.int64)))


def _in_top_k(labels: gt.Tensor, y_pred: gt.Tensor, k: int) -> gt.Tensor:
    # tf.math.in_top_k: the label's score is in the top k when fewer than k scores beat it
    # (ties at the boundary count as in).
    # The label's score, picked by comparing with the class ids (a constant).
    class_ids = gt.constant(np.arange(y_pred.shape[-1], dtype=np.int64))
    picked = gt.cast(gt.equal(gt.expand_dims(labels, -1), class_ids), y_pred.dtype)
    target = gt.reduce_sum(y_pred * picked, axis=-1, keepdims=True)
    better = gt.reduce_sum(gt.cast(gt.greater(y_pred, target), gt.int32), axis=-1)
    return _float(gt.less(better, k))


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> gt.Tensor:
    """1.0 where the one-hot label's class is among the ``k`` highest scores."""
    y_pred = gt.convert_to_tensor(y_pred)
    y_true = gt.convert_to_tensor(y_true)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise InvalidArgumentError(
            f"top_k_categorical_accuracy: one-hot y_true of shape {tuple(y_true.shape)} does not "
            f"match y_pred of shape {tuple(y_pred.shape)} (for integer labels use the sparse variant)"
        )
    return _in_top_k(gt.cast(gt.argmax(y_true, axis=-1), gt.int64), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> gt.Tensor:
    """1.0 where the integer label is among the ``k`` highest scores."""
    y_pred = gt.convert_to_tensor(y_pred)
    return _in_top_k(_sparse_labels("sparse_top_k_categorical_accuracy", y_true, y_pred), y_pred, k)


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly, as ``keras.metrics.Accuracy``."""

    def __init__(self, name: str = "accuracy", dtype: Any = None) -> None:
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches binary labels, as ``keras.metrics.BinaryAccuracy``."""

    def __init__(self, name: str = "binary_accuracy", dtype: Any = None, threshold: float = 0.5) -> None:
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax matches one-hot labels, as ``keras.metrics.CategoricalAccuracy``."""

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax matches integer labels, as ``keras.metrics.SparseCategoricalAccuracy``."""

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often one-hot labels are among the ``k`` top scores, as ``keras.metrics.TopKCategoricalAccuracy``."""

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often integer labels are among the ``k`` top scores, as ``keras.metrics.SparseTopKCategoricalAccuracy``."""

    def __init__(
        self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy", dtype: Any = None
    ) -> None:
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k


class MeanSquaredError(MeanMetricWrapper):
    """The mean squared error, as ``keras.metrics.MeanSquaredError``."""

    def __init__(self, name: str = "mean_squared_error", dtype: Any = None) -> None:
        super().__init__(losses_lib.mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """The mean absolute error, as ``keras.metrics.MeanAbsoluteError``."""

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None) -> None:
        super().__init__(losses_lib.mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """``100 * mean(|y_true - y_pred| / max(|y_true|, epsilon))``, as
    ``keras.metrics.MeanAbsolutePercentageError``."""

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: Any = None) -> None:
        super().__init__(losses_lib.mean_absolute_percentage_error, name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """``sqrt`` of the (weighted) mean squared error, as ``keras.metrics.RootMeanSquaredError``."""

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_pred = gt.cast(gt.convert_to_tensor(y_pred), self.dtype)
        y_true = gt.cast(gt.convert_to_tensor(y_true), self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        losses_lib._check_same_shape("root_mean_squared_error", y_true, y_pred)
        super().update_state(gt.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self) -> gt.Tensor:
        return gt.sqrt(gt.math.divide_no_nan(self.total.value(), self.count.value()))


# ------------------------------------------------------------ confusion-matrix metrics
_NEG_INF = -1e10


def _filter_top_k(x: gt.Tensor, k: int) -> gt.Tensor:
    # Keras metrics_utils._filter_top_k: scores outside each row's top k become -1e10.
    beaten_by = gt.reduce_sum(
        gt.cast(gt.greater(gt.expand_dims(x, -2), gt.expand_dims(x, -1)), gt.int32), axis=-1
    )
    keep = gt.cast(gt.less(beaten_by, k), x.dtype)
    return x * keep + _NEG_INF * (1.0 - keep)


def _confusion_counts(
    metric_name: str,
    y_true: Any,
    y_pred: Any,
    thresholds: np.ndarray,
    sample_weight: Any,
    class_id: int | None = None,
    top_k: int | None = None,
    multi_label: bool = False,
) -> dict:
    """Weighted tp/fp/tn/fn per threshold (and per label when ``multi_label``)."""
    y_pred = gt.cast(gt.convert_to_tensor(y_pred), gt.float32)
    y_true = gt.cast(gt.convert_to_tensor(y_true), gt.float32)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    losses_lib._check_same_shape(metric_name, y_true, y_pred)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        y_true = y_true[..., class_id]
        y_pred = y_pred[..., class_id]
    labels = gt.cast(gt.not_equal(y_true, 0.0), gt.float32)
    if sample_weight is None:
        weights = gt.ones_like(y_pred)
    else:
        w = gt.cast(gt.convert_to_tensor(sample_weight), gt.float32)
        _, w = squeeze_or_expand_to_same_rank(y_pred, w)
        while len(w.shape) < len(y_pred.shape):
            w = gt.expand_dims(w, -1)
        weights = gt.broadcast_to(w, gt.shape(y_pred))
    if multi_label:
        n_labels = y_pred.shape[-1]
        preds = gt.reshape(y_pred, [-1, n_labels])
        labels = gt.reshape(labels, [-1, n_labels])
        weights = gt.reshape(weights, [-1, n_labels])
        th = gt.constant(thresholds.reshape(-1, 1, 1).astype(np.float32))  # [T, 1, 1]
        axis = 1
    else:
        preds = gt.reshape(y_pred, [-1])
        labels = gt.reshape(labels, [-1])
        weights = gt.reshape(weights, [-1])
        th = gt.constant(thresholds.reshape(-1, 1).astype(np.float32))  # [T, 1]
        axis = 1
    above = gt.cast(gt.greater(gt.expand_dims(preds, 0), th), gt.float32)
    below = 1.0 - above
    pos = labels * weights
    neg = (1.0 - labels) * weights
    return {
        "tp": gt.reduce_sum(above * pos, axis=axis),
        "fp": gt.reduce_sum(above * neg, axis=axis),
        "tn": gt.reduce_sum(below * neg, axis=axis),
        "fn": gt.reduce_sum(below * pos, axis=axis),
    }


def _thresholds_arg(name: str, thresholds: Any, default: float) -> np.ndarray:
    if thresholds is None:
        return np.array([default], np.float32)
    scalar = isinstance(thresholds, (int, float))
    arr = np.asarray([thresholds] if scalar else list(thresholds), np.float32)
    if arr.size == 0 or np.any(arr < 0) or np.any(arr > 1):
        raise ValueError(f"{name}: thresholds must be in [0, 1], got {thresholds!r}")
    return arr


class _PrecisionRecall(Metric):
    _kind = ""

    def __init__(self, thresholds: Any = None, top_k: int | None = None, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None) -> None:  # fmt: skip
        super().__init__(name=name, dtype=dtype)
        # With top_k and no thresholds Keras uses a threshold below every kept score.
        if thresholds is None and top_k is not None:
            self._thresholds = np.array([_NEG_INF], np.float32)
        else:
            self._thresholds = _thresholds_arg(type(self).__name__, thresholds, 0.5)
        self._scalar = len(self._thresholds) == 1
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        n = len(self._thresholds)
        self.true_positives = self.add_variable([n], name="true_positives")
        second = "false_positives" if self._kind == "precision" else "false_negatives"
        self._other = self.add_variable([n], name=second)

    @property
    def thresholds(self) -> list:
        return self._thresholds.tolist()

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        counts = _confusion_counts(
            self.name, y_true, y_pred, self._thresholds, sample_weight, self.class_id, self.top_k
        )
        self.true_positives.assign_add(counts["tp"])
        self._other.assign_add(counts["fp" if self._kind == "precision" else "fn"])

    def result(self) -> gt.Tensor:
        tp = self.true_positives.value()
        r = gt.math.divide_no_nan(tp, tp + self._other.value())
        return r[0] if self._scalar else r

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"thresholds": self.init_thresholds, "top_k": self.top_k, "class_id": self.class_id})
        return config


class Precision(_PrecisionRecall):
    """``tp / (tp + fp)`` at ``thresholds`` (default 0.5), as ``keras.metrics.Precision``.

    Args:
      thresholds: a float or list of floats in [0, 1]; a list gives one result per threshold.
      top_k: only each row's ``top_k`` scores count as positive predictions.
      class_id: only this class (last-axis index) is scored.
      name, dtype: see ``Metric``.
    """

    _kind = "precision"

    def __init__(self, thresholds: Any = None, top_k: int | None = None, class_id: int | None = None,
                 name: str = "precision", dtype: Any = None) -> None:  # fmt: skip
        super().__init__(thresholds, top_k, class_id, name, dtype)
        self.false_positives = self._other


class Recall(_PrecisionRecall):
    """``tp / (tp + fn)`` at ``thresholds`` (default 0.5), as ``keras.metrics.Recall``.

    Args: as ``Precision``.
    """

    _kind = "recall"

    def __init__(self, thresholds: Any = None, top_k: int | None = None, class_id: int | None = None,
                 name: str = "recall", dtype: Any = None) -> None:  # fmt: skip
        super().__init__(thresholds, top_k, class_id, name, dtype)
        self.false_negatives = self._other


class AUC(Metric):
    """Area under the ROC or PR curve from thresholded counts, as ``keras.metrics.AUC``.

    Args:
      num_thresholds: the number of evenly spaced thresholds (> 1); Keras's set: ``i /
        (num_thresholds - 1)`` inside (0, 1) plus ``-eps`` and ``1 + eps``.
      curve: ``"ROC"`` or ``"PR"``.
      summation_method: ``"interpolation"`` (PR uses Davis & Goadrich's interpolation),
        ``"minoring"`` or ``"majoring"``.
      name, dtype: see ``Metric``.
      thresholds: explicit thresholds in [0, 1] (``-eps`` and ``1 + eps`` are added).
      multi_label: one curve per label (last axis), averaged (weighted by ``label_weights``).
      num_labels: the number of labels when ``multi_label`` (else taken from the first batch is
        not possible in a graph, so it is required).
      label_weights: per-label weights of the average (multi-label) or of the counts.
      from_logits: apply a sigmoid to the predictions first.
    """

    def __init__(
        self,
        num_thresholds: int = 200,
        curve: str = "ROC",
        summation_method: str = "interpolation",
        name: str | None = None,
        dtype: Any = None,
        thresholds: Any = None,
        multi_label: bool = False,
        num_labels: int | None = None,
        label_weights: Any = None,
        from_logits: bool = False,
    ) -> None:
        super().__init__(name=name or "auc", dtype=dtype)
        curve = curve.upper()
        if curve not in ("ROC", "PR"):
            raise ValueError(f'AUC: curve must be "ROC" or "PR", got {curve!r}')
        summation_method = summation_method.lower()
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(
                f"AUC: summation_method must be interpolation, minoring or majoring, got {summation_method!r}"
            )
        eps = 1e-7
        if thresholds is not None:
            inner = np.sort(np.asarray(list(thresholds), np.float64))
            if np.any(inner < 0) or np.any(inner > 1):
                raise ValueError(f"AUC: thresholds must be in [0, 1], got {thresholds!r}")
            self._thresholds_distributed_evenly = False
        else:
            if num_thresholds <= 1:
                raise ValueError(f"AUC: num_thresholds must be > 1, got {num_thresholds}")
            inner = np.array([(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)])
        self._thresholds = np.concatenate([[0.0 - eps], inner, [1.0 + eps]]).astype(np.float32)
        self.num_thresholds = len(self._thresholds)
        self.curve = curve
        self.summation_method = summation_method
        self.multi_label = bool(multi_label)
        self.num_labels = num_labels
        self.from_logits = from_logits
        self.label_weights = None if label_weights is None else np.asarray(label_weights, np.float32)
        if self.multi_label and num_labels is None:
            raise ValueError("AUC: multi_label=True needs num_labels (the size of the last axis)")
        shape = [self.num_thresholds, num_labels] if self.multi_label else [self.num_thresholds]
        self.true_positives = self.add_variable(shape, name="true_positives")
        self.false_positives = self.add_variable(shape, name="false_positives")
        self.true_negatives = self.add_variable(shape, name="true_negatives")
        self.false_negatives = self.add_variable(shape, name="false_negatives")

    @property
    def thresholds(self) -> list:
        return self._thresholds.tolist()

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_pred = gt.convert_to_tensor(y_pred)
        if self.from_logits:
            y_pred = gt.sigmoid(gt.cast(y_pred, gt.float32))
        if self.label_weights is not None and not self.multi_label:
            lw = gt.constant(self.label_weights)
            sw = lw if sample_weight is None else gt.cast(gt.convert_to_tensor(sample_weight), gt.float32)
            if sample_weight is not None:
                while len(sw.shape) < len(y_pred.shape):
                    sw = gt.expand_dims(sw, -1)
                sw = sw * lw
            sample_weight = gt.broadcast_to(sw, gt.shape(y_pred))
        counts = _confusion_counts(
            self.name, y_true, y_pred, self._thresholds, sample_weight, multi_label=self.multi_label
        )
        self.true_positives.assign_add(counts["tp"])
        self.false_positives.assign_add(counts["fp"])
        self.true_negatives.assign_add(counts["tn"])
        self.false_negatives.assign_add(counts["fn"])

    def _per_curve(self, tp: gt.Tensor, fp: gt.Tensor, tn: gt.Tensor, fn: gt.Tensor) -> gt.Tensor:
        n = self.num_thresholds
        if self.curve == "PR" and self.summation_method == "interpolation":
            dtp = tp[: n - 1] - tp[1:]
            p = tp + fp
            dp = p[: n - 1] - p[1:]
            prec_slope = gt.math.divide_no_nan(dtp, gt.maximum(dp, 0.0))
            intercept = tp[1:] - prec_slope * p[1:]
            safe_p_ratio = gt.where(
                gt.logical_and(gt.greater(p[: n - 1], 0.0), gt.greater(p[1:], 0.0)),
                gt.math.divide_no_nan(p[: n - 1], gt.maximum(p[1:], 0.0)),
                gt.ones_like(p[1:]),
            )
            return gt.math.divide_no_nan(
                prec_slope * (dtp + intercept * gt.math.log(safe_p_ratio)),
                gt.maximum(tp[1:] + fn[1:], 0.0),
            )
        recall = gt.math.divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = gt.math.divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, gt.math.divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[: n - 1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = gt.minimum(y[: n - 1], y[1:])
        else:
            heights = gt.maximum(y[: n - 1], y[1:])
        return (x[: n - 1] - x[1:]) * heights

    def result(self) -> gt.Tensor:
        terms = self._per_curve(
            self.true_positives.value(),
            self.false_positives.value(),
            self.true_negatives.value(),
            self.false_negatives.value(),
        )
        if not self.multi_label:
            return gt.reduce_sum(terms)
        by_label = gt.reduce_sum(terms, axis=0)
        if self.label_weights is None:
            return gt.reduce_mean(by_label)
        lw = gt.constant(self.label_weights)
        return gt.math.divide_no_nan(gt.reduce_sum(by_label * lw), gt.reduce_sum(lw))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                "num_thresholds": self.num_thresholds,
                "curve": self.curve,
                "summation_method": self.summation_method,
                "multi_label": self.multi_label,
                "num_labels": self.num_labels,
                "from_logits": self.from_logits,
                "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
            }
        )
        return config


# ---------------------------------------------------------------------------- resolution
_CLASSES = {
    cls.__name__: cls
    for cls in (
        Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
        TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, AUC, Precision, Recall,
        MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, RootMeanSquaredError,
    )
}  # fmt: skip
_BY_NAME = dict(_CLASSES)
_BY_NAME.update({to_snake_case(k): v for k, v in _CLASSES.items()})
_BY_NAME.update({"acc": Accuracy, "ACC": Accuracy, "mse": MeanSquaredError, "MSE": MeanSquaredError,
                 "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError, "auc": AUC,
                 "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError})  # fmt: skip


def serialize(metric: Metric) -> dict:
    """``{"class_name": ..., "config": ...}`` for a metric."""
    from gputensor.keras.serialization import serialize_object

    return serialize_object(metric, "keras.metrics")


def deserialize(config: Any, custom_objects: dict | None = None) -> Metric:
    """Inverse of ``serialize``; a string resolves as ``get`` does."""
    if isinstance(config, str):
        return get(config)
    return from_registry("metrics", "metric", _CLASSES, config, custom_objects)


def get(identifier: Any) -> Any:
    """A metric from a name, a config dict, a Metric or a function, as ``keras.metrics.get``.

    A name (``"accuracy"``, ``"acc"``, ``"sparse_categorical_accuracy"``, ``"AUC"``, ``"mse"``)
    gives a new instance. Which accuracy ``"accuracy"`` means for a given loss is decided by
    ``Model.compile``, not here.
    """
    if isinstance(identifier, Metric) or (callable(identifier) and not isinstance(identifier, (str, dict))):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier)
        if cls is None:
            raise ValueError(f"metrics.get: unknown metric {identifier!r}; known: {sorted(_BY_NAME)}")
        return cls()
    raise ValueError(f"metrics.get: could not interpret metric identifier {identifier!r}")
