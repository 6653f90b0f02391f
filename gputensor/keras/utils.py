"""``gt.keras.utils``: the NumPy helpers of ``keras.utils`` that guides use."""

from __future__ import annotations

import random
from typing import Any

import numpy as np

__all__ = ["PyDataset", "Sequence", "pad_sequences", "set_random_seed", "to_categorical"]


def set_random_seed(seed: int) -> None:
    """Sets every seed a Keras program draws from, as Keras 3's ``keras.utils.set_random_seed``.

    Python's ``random``, NumPy's global generator and gputensor's global seed
    (``gt.random.set_seed``: unseeded initializers and layers draw from it), and the global
    ``keras.random`` generator starts again from the seed.

    Args:
      seed: an int.

    Raises:
      ValueError: ``seed`` is not an int.
    """
    if not isinstance(seed, int):
        raise ValueError(
            f"Expected `seed` argument to be an integer. Received: seed={seed} (of type {type(seed)})"
        )
    import gputensor as gt
    from gputensor.keras import random as keras_random

    random.seed(seed)
    np.random.seed(seed)
    gt.random.set_seed(seed)
    keras_random._GLOBAL.clear()  # made again, from the new seed, at the next unseeded draw


def to_categorical(x: Any, num_classes: int | None = None) -> np.ndarray:
    """One-hot encodes integer class labels, as ``keras.utils.to_categorical``.

    A trailing axis of size 1 is dropped first (labels of shape ``(n, 1)`` give ``(n,
    num_classes)``).

    Args:
      x: integer labels (array-like), from 0 to ``num_classes - 1``.
      num_classes: the number of classes; default ``max(x) + 1``.

    Returns:
      A float32 NumPy array of shape ``x.shape + (num_classes,)``.

    Raises:
      ValueError: for non-integer labels or labels outside ``[0, num_classes)``.

    >>> to_categorical([0, 2], 3)
    array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
    """
    x = np.asarray(x)
    if x.dtype.kind == "f" and np.any(x != np.round(x)):
        raise ValueError(f"to_categorical: labels must be integers, got values such as {x.ravel()[:3]}")
    x = x.astype("int64")
    if x.ndim > 1 and x.shape[-1] == 1:
        x = x.reshape(x.shape[:-1])
    if num_classes is None:
        num_classes = int(x.max()) + 1 if x.size else 0
    if x.size and (x.min() < 0 or x.max() >= num_classes):
        raise ValueError(
            f"to_categorical: labels must lie in [0, {num_classes}), got min {x.min()} and max {x.max()}"
        )
    out = np.zeros((x.size, num_classes), dtype="float32")
    out[np.arange(x.size), x.ravel()] = 1.0
    return out.reshape(*x.shape, num_classes)


def pad_sequences(
    sequences: Any,
    maxlen: int | None = None,
    dtype: Any = "int32",
    padding: str = "pre",
    truncating: str = "pre",
    value: Any = 0.0,
) -> np.ndarray:
    """Pads (and truncates) sequences to one length, as ``keras.utils.pad_sequences``.

    Args:
      sequences: a list of sequences (lists or arrays; their items may be arrays of one shape).
      maxlen: the length of the result; default the longest sequence's.
      dtype: the result's dtype; ``object`` for variable-length strings.
      padding: ``"pre"`` (default) or ``"post"``: pad before or after each sequence.
      truncating: ``"pre"`` (default) or ``"post"``: drop values from the start or the end of
        sequences longer than ``maxlen``.
      value: the padding value.

    Returns:
      A NumPy array of shape ``(len(sequences), maxlen) + item_shape``.

    Raises:
      ValueError: for a non-iterable entry, an unknown ``padding``/``truncating``, items of
        different shapes, or a string ``value`` with a non-string ``dtype``.

    >>> pad_sequences([[1, 2], [3]], padding="post")
    array([[1, 2],
           [3, 0]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError(
            f"pad_sequences: `sequences` must be a list of sequences, got {type(sequences).__name__}"
        )
    lengths = []
    sample_shape: tuple = ()
    found = False
    # The item shape comes from the first non-empty sequence (the others are checked below).
    for x in sequences:
        try:
            lengths.append(len(x))
        except TypeError:
            raise ValueError(f"pad_sequences: `sequences` must be a list of iterables, found {x!r}") from None
        if not found and len(x):
            sample_shape = np.asarray(x).shape[1:]
            found = True
    if maxlen is None:
        maxlen = int(np.max(lengths)) if lengths else 0
    is_str = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_str:
        raise ValueError(
            f"pad_sequences: dtype {dtype} cannot hold the string padding value {value!r}; "
            "pass dtype=object for variable-length strings"
        )
    if padding not in ("pre", "post"):
        raise ValueError(f'pad_sequences: padding must be "pre" or "post", got {padding!r}')
    if truncating not in ("pre", "post"):
        raise ValueError(f'pad_sequences: truncating must be "pre" or "post", got {truncating!r}')
    out = np.full((len(sequences), maxlen, *sample_shape), value, dtype=dtype)
    for i, s in enumerate(sequences):
        if not len(s) or maxlen == 0:
            continue
        trunc = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if trunc.shape[1:] != sample_shape:
            raise ValueError(
                f"pad_sequences: the items of sequence {i} have shape {trunc.shape[1:]}, "
                f"the first sequence's have {sample_shape}"
            )
        if padding == "post":
            out[i, : len(trunc)] = trunc
        else:
            out[i, -len(trunc) :] = trunc
    return out


class PyDataset:
    """Batches by index, as ``keras.utils.PyDataset`` (``keras.utils.Sequence`` in TF-Keras).

    Subclasses call ``super().__init__(**kwargs)`` and define ``__len__`` (the number of
    batches) and ``__getitem__(index)`` (one batch: ``x``, ``(x, y)`` or ``(x, y,
    sample_weight)``). ``fit``/``evaluate``/``predict`` read batches ``0 .. len - 1`` each
    epoch (in a shuffled order when ``fit(shuffle=True)``), then call `on_epoch_end`.
    Batches are read in the calling thread: ``workers``/``use_multiprocessing`` are kept for
    Keras's API but do not start workers.

    Args:
      workers: Keras's number of loader workers (recorded).
      use_multiprocessing: Keras's choice of processes over threads (recorded).
      max_queue_size: Keras's prefetch queue length (recorded).
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10) -> None:
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    @property
    def workers(self) -> int:
        return self._workers

    @property
    def use_multiprocessing(self) -> bool:
        return self._use_multiprocessing

    @property
    def max_queue_size(self) -> int:
        return self._max_queue_size

    @property
    def num_batches(self) -> int:
        """``len(self)``: the number of batches in an epoch."""
        return len(self)

    def __len__(self) -> int:
        raise TypeError(
            f"{type(self).__name__}: a PyDataset subclass must define __len__ (the number of batches)"
        )

    def __getitem__(self, index: int) -> Any:
        raise TypeError(f"{type(self).__name__}: a PyDataset subclass must define __getitem__(index)")

    def on_epoch_begin(self) -> None:
        """Called before an epoch's first batch; override to prepare it."""

    def on_epoch_end(self) -> None:
        """Called after an epoch's last batch; override to reshuffle or modify the data."""

    def __iter__(self) -> Any:
        for index in range(len(self)):
            yield self[index]


Sequence = PyDataset
