"""What `fit`, `evaluate` and `predict` accept, turned into batches of gt tensors.

- NumPy arrays, gt tensors, lists of numbers, and nested lists/tuples/dicts of them: sliced
  into batches of ``batch_size`` (default 32) along the first axis, reshuffled each epoch
  when ``shuffle``; a batch is the tuple ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``.
- A `gt.data.Dataset` (or any re-iterable object that is not an array): iterated once per
  epoch; elements are ``x``, ``(x, y)`` or ``(x, y, sample_weight)``.
- A Python generator or iterator: read on across epochs, ``steps`` batches an epoch (all of
  it when ``steps`` is None, as Keras).
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np

from gputensor.autodiff import nest

DEFAULT_BATCH_SIZE = 32


def _gt() -> Any:
    import gputensor

    return gputensor


def unpack(data: Any) -> tuple:
    """``(x, y, sample_weight)`` of a batch: ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sw)``."""
    if isinstance(data, tuple):
        if len(data) == 1:
            return data[0], None, None
        if len(data) == 2:
            return data[0], data[1], None
        if len(data) == 3:
            return data
        raise ValueError(
            f"a batch must be x, (x,), (x, y) or (x, y, sample_weight); got a tuple of {len(data)}"
        )
    return data, None, None


def batch_size_of(structure: Any) -> Any:
    """The first dim of the first tensor in ``structure`` (a tensor: it may be unknown while tracing)."""
    gt = _gt()
    return gt.shape(nest.flatten(structure)[0])[0]


def _is_array_like(x: Any) -> bool:
    from gputensor.framework.tensor import Tensor
    from gputensor.framework.variable import Variable

    return isinstance(x, (np.ndarray, np.generic, Tensor, Variable, int, float, bool))


def _normalized(part: Any) -> Any:
    """A list of numbers (or of such lists) is one array, as NumPy reads it; other lists and
    tuples are structures of inputs (several model inputs)."""
    if isinstance(part, list) and part and all(isinstance(v, (int, float, bool)) for v in nest.flatten(part)):
        return np.asarray(part)
    return part


def _is_arrays(part: Any) -> bool:
    part = _normalized(part)
    return part is None or all(_is_array_like(leaf) for leaf in nest.flatten(part))


def _arrays(structure: Any) -> list:
    return [np.asarray(leaf) for leaf in nest.flatten(_normalized(structure))]


class ArrayData:
    """In-memory arrays, batched along the first axis."""

    def __init__(self, x: Any, y: Any, sample_weight: Any, batch_size: int | None, shuffle: bool) -> None:
        self.parts = tuple(_normalized(p) for p in (x, y, sample_weight) if p is not None)
        if y is None and sample_weight is not None:
            raise ValueError("sample_weight was given without y; pass (x, y, sample_weight)")
        self.flat = [_arrays(p) for p in self.parts]
        sizes = {len(a) for leaves in self.flat for a in leaves if a.ndim}
        names = ("x", "y", "sample_weight")
        if len(sizes) > 1:
            desc = ", ".join(
                f"{names[i]}: {[len(a) for a in leaves if a.ndim]}" for i, leaves in enumerate(self.flat)
            )
            raise ValueError(
                f"fit/evaluate/predict: the arrays have different numbers of samples ({desc}); every "
                "input, target and weight needs one entry per sample along its first axis"
            )
        if any(a.ndim == 0 for leaves in self.flat for a in leaves):
            raise ValueError(
                "fit/evaluate/predict: a scalar is not a batch of samples; give arrays of rank >= 1"
            )
        self.n = sizes.pop() if sizes else 0
        self.batch_size = DEFAULT_BATCH_SIZE if batch_size is None else int(batch_size)
        if self.batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.shuffle = shuffle
        self.steps = -(-self.n // self.batch_size)

    def epoch(self) -> Iterator[tuple]:
        gt = _gt()
        order = np.random.permutation(self.n) if self.shuffle else None
        for start in range(0, self.n, self.batch_size):
            stop = min(start + self.batch_size, self.n)
            index = slice(start, stop) if order is None else order[start:stop]
            yield tuple(
                nest.pack_sequence_as(part, [gt.constant(a[index]) for a in leaves])
                for part, leaves in zip(self.parts, self.flat)
            )


class IterableData:
    """A re-iterable source (a gt.data.Dataset): one pass per epoch."""

    def __init__(self, source: Any, steps: int | None) -> None:
        self.source = source
        self.steps = steps
        if steps is None:
            try:
                self.steps = len(source)
            except TypeError:
                self.steps = None

    def epoch(self) -> Iterator:
        it = iter(self.source)
        if self.steps is not None:
            it = itertools.islice(it, self.steps)
        for element in it:
            yield _as_tensors(element)


class PyDatasetData:
    """A ``keras.utils.PyDataset``: batches ``0 .. len - 1`` by index each epoch (in a new
    random order when shuffling, as Keras 3), then its ``on_epoch_end``."""

    def __init__(self, source: Any, steps: int | None, shuffle: bool) -> None:
        self.source = source
        self.shuffle = shuffle
        self.steps = len(source) if steps is None else min(int(steps), len(source))

    def epoch(self) -> Iterator:
        self.source.on_epoch_begin()
        n = len(self.source)
        order = np.random.permutation(n) if self.shuffle else range(n)
        for index in list(order)[: self.steps]:
            yield _as_tensors(self.source[int(index)])
        self.source.on_epoch_end()


class IteratorData:
    """A generator or iterator: ``steps`` elements per epoch, read on from where the last stopped."""

    def __init__(self, source: Any, steps: int | None) -> None:
        self.source = iter(source)
        self.steps = steps

    def epoch(self) -> Iterator:
        it = self.source if self.steps is None else itertools.islice(self.source, self.steps)
        for element in it:
            yield _as_tensors(element)


def _as_tensors(element: Any) -> Any:
    gt = _gt()
    from gputensor.framework.tensor import Tensor

    element = tuple(element) if isinstance(element, list) else element

    def convert(leaf: Any) -> Any:
        return leaf if isinstance(leaf, Tensor) else gt.constant(np.asarray(leaf))

    return nest.pack_sequence_as(element, [convert(leaf) for leaf in nest.flatten(element)])


def adapt(
    x: Any, y: Any, sample_weight: Any, batch_size: int | None, shuffle: bool, steps: int | None
) -> Any:
    """The batch source for these inputs (see the module docstring)."""
    if x is None:
        raise ValueError("fit/evaluate/predict: x is required")
    if _is_arrays(x):
        return ArrayData(x, y, sample_weight, batch_size, shuffle)
    if y is not None:
        raise ValueError("y must be None when x is a dataset or a generator: it yields (x, y) pairs itself")
    from gputensor.keras.utils import PyDataset

    if isinstance(x, PyDataset):
        return PyDatasetData(x, steps, shuffle)  # Keras ignores batch_size here
    if inspect.isgenerator(x) or hasattr(x, "__next__"):
        return IteratorData(x, steps)
    if hasattr(x, "__iter__"):
        return IterableData(x, steps)
    raise TypeError(f"fit/evaluate/predict: cannot take x of type {type(x).__name__}")


def split(x: Any, y: Any, sample_weight: Any, fraction: float) -> tuple:
    """``((x, y, sw) for training, (x, y, sw) for validation)``: the last ``fraction`` of the samples."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_split must be in (0, 1), got {fraction}")
    parts = (x, y, sample_weight)
    for p in parts:
        if not _is_arrays(p):
            raise ValueError(
                "validation_split needs arrays or tensors; with a dataset or generator pass validation_data"
            )
    n = len(_arrays(x)[0])
    at = int(n * (1.0 - fraction))
    if at == 0 or at == n:
        raise ValueError(
            f"validation_split={fraction} of {n} samples leaves no training or no validation sample"
        )

    def cut(p: Any, sl: slice) -> Any:
        return None if p is None else nest.pack_sequence_as(_normalized(p), [a[sl] for a in _arrays(p)])

    return tuple(cut(p, slice(0, at)) for p in parts), tuple(cut(p, slice(at, None)) for p in parts)


def unpack_validation(data: Any) -> tuple:
    if isinstance(data, tuple) and len(data) in (2, 3):
        return data if len(data) == 3 else (*data, None)
    return data, None, None


def with_class_weight(y: Any, sample_weight: Any, class_weight: dict | None) -> Any:
    """Sample weights multiplied by ``class_weight[class of each sample]`` (Keras)."""
    if not class_weight:
        return sample_weight
    if y is None or not _is_arrays(y):
        raise ValueError("class_weight needs y as an array (for a dataset, give sample weights in it)")
    labels = np.asarray(y)
    classes = (
        labels.argmax(-1)
        if labels.ndim > 1 and labels.shape[-1] > 1
        else labels.reshape(len(labels), -1)[:, 0]
    )
    weights = np.array([class_weight.get(int(c), 1.0) for c in classes.astype(np.int64)], np.float32)
    if sample_weight is not None:
        weights = weights * np.asarray(sample_weight, np.float32)
    return weights


def as_batch(x: Any, y: Any, sample_weight: Any) -> tuple:
    return _as_tensors(tuple(p for p in (x, y, sample_weight) if p is not None))
