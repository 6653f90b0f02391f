"""``gt.data.Dataset``: input pipelines with ``tf.data``'s names and semantics, run in Python (``map`` functions as traced graphs).

Elements travel through the pipeline as NumPy arrays on the host (as ``tf.data``
runs on the CPU) and become gt Tensors where user code sees them: when iterated,
and as the arguments of ``map``/``filter``/``reduce`` functions. Datasets sliced
from arrays keep an *index plan* (the source arrays plus a stream of row
indices) through ``shuffle``/``repeat``/``take``/``skip``, so ``batch`` gathers
each batch with one NumPy fancy index instead of stacking rows one by one; the
rows and their order are the same as the element-by-element path's because
both paths draw from the same index stream.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from gputensor import errors
from gputensor.data import structure as nest
from gputensor.framework import dtypes
from gputensor.framework.tensor import Tensor, constant, convert_to_tensor
from gputensor.framework.variable import Variable

AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2
_INF = INFINITE_CARDINALITY
_UNK = UNKNOWN_CARDINALITY


def _spec(shape: Any, dtype: Any) -> Any:
    from gputensor.graph.tensor_spec import TensorSpec  # graphs load lazily

    return TensorSpec(shape, dtype)


def _to_leaf(value: Any) -> Any:
    """A host array (or an existing gt Tensor) for one component; Python values take TF's dtypes."""
    if isinstance(value, (np.ndarray, Tensor)):
        return value
    if isinstance(value, Variable):
        return value.numpy()
    if isinstance(value, np.generic):
        return np.asarray(value)
    return convert_to_tensor(value)


def _as_numpy(leaf: Any) -> np.ndarray:
    return leaf if isinstance(leaf, np.ndarray) else np.asarray(leaf)


def _to_tensor(leaf: Any) -> Tensor:
    return leaf if isinstance(leaf, Tensor) else constant(leaf)


def _numpy_value(leaf: Any) -> Any:
    # TF gives NumPy scalars for 0-d components and arrays (the caller's own copy) otherwise.
    arr = leaf.numpy() if isinstance(leaf, Tensor) else leaf
    return arr[()] if arr.ndim == 0 else np.array(arr)


def _leaf_spec(leaf: Any) -> Any:
    return _spec(tuple(leaf.shape), dtypes.as_dtype(leaf.dtype))


def _normalize_structure(value: Any, list_is_tuple: bool = False) -> Any:
    """Converts the leaves of a user structure (a list is one tensor, or a tuple for map's results)."""
    if list_is_tuple and isinstance(value, list):
        value = tuple(value)
    return nest.map_structure(_to_leaf, value)


def _check_count(value: Any, what: str, op: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise TypeError(f"Dataset.{op}: {what} must be an integer, got {value!r}") from None


class Dataset:
    """A sequence of elements (nested tuples/dicts of Tensors), as ``tf.data.Dataset``.

    Build one with a source (``from_tensor_slices``, ``from_tensors``,
    ``from_generator``, ``range``, ``zip``) and chain transformations; iterate
    it with ``for`` (each pass starts afresh) or ``as_numpy_iterator()``.

    >>> ds = gt.data.Dataset.from_tensor_slices([1, 2, 3, 4]).map(lambda x: x * 2).batch(3)
    >>> [b.numpy().tolist() for b in ds]
    [[2, 4, 6], [8]]
    """

    def __init__(
        self,
        iter_fn: Callable[[], Iterator[Any]] | None,
        spec: Any,
        cardinality: int,
        plan: tuple[Any, Callable[[], Iterator[int]]] | None = None,
    ) -> None:
        # plan: (source arrays structure, index-stream factory) for datasets of rows of arrays.
        self._iter_fn = iter_fn
        self._spec_value = spec
        self._card = cardinality
        self._plan = plan

    # ----- internals -----------------------------------------------------------------
    def _raw(self) -> Iterator[Any]:
        """Elements as structures of host arrays (or gt Tensors made by user functions)."""
        if self._plan is not None:
            arrays, indices = self._plan
            leaves = nest.flatten(arrays)
            return (nest.pack_as(arrays, [a[i] for a in leaves]) for i in indices())
        return self._iter_fn()

    @property
    def _spec_structure(self) -> Any:
        if callable(self._spec_value):  # map: known once its function has run on one element
            self._spec_value = self._spec_value()
        return self._spec_value

    # ----- sources ---------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors: Any, name: str | None = None) -> Dataset:
        """A dataset of the slices of ``tensors`` along their first dimension.

        Args:
          tensors: a tensor, array or list, or a nested tuple/dict of them; every
            component must have the same first dimension.
          name: unused (TF's op name).

        Returns:
          A Dataset with one element per row.

        Raises:
          InvalidArgumentError: if the components' first dimensions differ or a
            component is a scalar.

        >>> [x.numpy().tolist() for x in gt.data.Dataset.from_tensor_slices([[1, 2], [3, 4]])]
        [[1, 2], [3, 4]]
        """
        structure = _normalize_structure(tensors)
        # Copy once: later edits to the caller's arrays must not change the dataset.
        arrays = nest.map_structure(lambda leaf: np.array(leaf), structure)
        leaves = nest.flatten(arrays)
        names = nest.component_names(arrays)
        if not leaves:
            raise errors.InvalidArgumentError(
                "Dataset.from_tensor_slices: got an empty structure; pass at least one tensor."
            )
        for nm, leaf in zip(names, leaves, strict=True):
            if leaf.ndim == 0:
                raise errors.InvalidArgumentError(
                    f"Dataset.from_tensor_slices: component {nm} is a scalar of dtype {leaf.dtype}; slicing needs "
                    "at least one dimension. Use Dataset.from_tensors for a single element."
                )
        sizes = [leaf.shape[0] for leaf in leaves]
        if len(set(sizes)) > 1:
            parts = ", ".join(f"{nm} has {s}" for nm, s in zip(names, sizes, strict=True))
            raise errors.InvalidArgumentError(
                f"Dataset.from_tensor_slices: all components must have the same size in dimension 0, but {parts} "
                "rows. Slice the components to a common length first."
            )
        n = sizes[0]
        spec = nest.map_structure(lambda leaf: _spec(leaf.shape[1:], dtypes.as_dtype(leaf.dtype)), arrays)
        return Dataset(None, spec, n, plan=(arrays, lambda: iter(range(n))))

    @staticmethod
    def from_tensors(tensors: Any, name: str | None = None) -> Dataset:
        """A dataset with ``tensors`` as its single element.

        >>> [x.numpy().tolist() for x in gt.data.Dataset.from_tensors([1, 2])]
        [[1, 2]]
        """
        element = nest.map_structure(lambda leaf: np.array(leaf), _normalize_structure(tensors))
        spec = nest.map_structure(_leaf_spec, element)
        return Dataset(lambda: iter((element,)), spec, 1)

    @staticmethod
    def range(*args: Any, dtype: Any = dtypes.int64, name: str | None = None) -> Dataset:
        """Integers as Python's ``range(start, stop, step)``, as int64 scalars by default.

        >>> [int(x) for x in gt.data.Dataset.range(1, 6, 2)]
        [1, 3, 5]
        """
        if not 1 <= len(args) <= 3:
            raise TypeError(
                f"Dataset.range takes 1 to 3 positional arguments (stop or start, stop, step), got {len(args)}"
            )
        r = range(*(_check_count(a, "each argument", "range") for a in args))
        np_dtype = dtypes.as_dtype(dtype).as_numpy_dtype
        return Dataset(lambda: (np.asarray(i, np_dtype) for i in r), _spec((), dtype), len(r))

    @staticmethod
    def zip(*datasets: Any, name: str | None = None) -> Dataset:
        """Zips datasets (positional, or one nested tuple/dict of datasets) element by element.

        The result stops with the shortest input.

        >>> ds = gt.data.Dataset.zip(gt.data.Dataset.range(3), gt.data.Dataset.range(10, 12))
        >>> [(int(a), int(b)) for a, b in ds]
        [(0, 10), (1, 11)]
        """
        structure = datasets[0] if len(datasets) == 1 and not isinstance(datasets[0], Dataset) else datasets
        members = nest.flatten(structure)
        for m in members:
            if not isinstance(m, Dataset):
                raise TypeError(
                    f"Dataset.zip: every argument must be a Dataset, got {type(m).__name__}: {m!r}"
                )
        cards = [m._card for m in members]
        if all(c == _INF for c in cards):
            card = _INF
        elif any(c == _UNK for c in cards):
            card = _UNK
        else:
            card = min(c for c in cards if c != _INF)

        def run() -> Iterator[Any]:
            for parts in zip(*(m._raw() for m in members)):
                yield nest.pack_as(structure, list(parts))

        return Dataset(run, lambda: nest.pack_as(structure, [m._spec_structure for m in members]), card)

    @staticmethod
    def from_generator(
        generator: Callable[..., Iterable[Any]],
        output_types: Any = None,
        output_shapes: Any = None,
        args: Any = None,
        output_signature: Any = None,
        name: str | None = None,
    ) -> Dataset:
        """A dataset of the elements a Python generator yields, checked against a signature.

        Args:
          generator: a callable returning an iterable (called afresh for every pass).
          output_types: deprecated; the dtypes of the components (use ``output_signature``).
          output_shapes: deprecated; their shapes (unknown when omitted).
          args: values passed to ``generator`` as NumPy arrays.
          output_signature: a nested structure of ``gt.TensorSpec``.
          name: unused.

        Returns:
          A Dataset of unknown cardinality.

        Raises:
          TypeError: if no signature is given, or (while iterating) an element has
            the wrong structure or a dtype that cannot be converted.
          InvalidArgumentError: (while iterating) an element of the wrong shape.

        >>> def gen():
        ...     yield from ([1, 2], [3, 4])
        >>> ds = gt.data.Dataset.from_generator(gen, output_signature=gt.TensorSpec([2], gt.int32))
        >>> [x.numpy().tolist() for x in ds]
        [[1, 2], [3, 4]]
        """
        if not callable(generator):
            raise TypeError(f"Dataset.from_generator: `generator` must be a callable, got {generator!r}")
        if output_signature is None:
            if output_types is None:
                raise TypeError("Dataset.from_generator: the `output_signature` argument must be set.")
            if output_shapes is None:
                output_shapes = nest.map_structure(lambda _: None, output_types)
            output_signature = nest.map_structure(
                lambda t, s: _spec(s.value, t), output_types, _lift(output_shapes, output_types)
            )
        elif output_types is not None or output_shapes is not None:
            raise TypeError(
                "Dataset.from_generator: pass `output_signature` or the deprecated output_types/shapes, not both."
            )
        specs = nest.flatten(output_signature)
        for s in specs:
            if not hasattr(s, "shape") or not hasattr(s, "dtype"):
                raise TypeError(
                    f"Dataset.from_generator: `output_signature` must contain gt.TensorSpec objects, got {s!r}"
                )
        call_args = tuple(np.asarray(a) for a in (args or ()))

        def run() -> Iterator[Any]:
            for item in generator(*call_args):
                yield _check_generated(item, output_signature, specs)

        return Dataset(run, output_signature, _UNK)

    # ----- properties ------------------------------------------------------------------
    @property
    def element_spec(self) -> Any:
        """The structure of ``gt.TensorSpec`` describing one element.

        For ``map`` outputs this is read from the function's result on the first
        element (TF traces the function instead).
        """
        return self._spec_structure

    def cardinality(self) -> Tensor:
        """The number of elements as an int64 scalar, or INFINITE_CARDINALITY / UNKNOWN_CARDINALITY."""
        return constant(np.int64(self._card))

    def __bool__(self) -> bool:
        return True  # as TF: truthiness must not call __len__, which raises for infinite datasets

    def __len__(self) -> int:
        if self._card == _INF:
            raise TypeError("The dataset is infinite.")
        if self._card == _UNK:
            raise TypeError("The dataset length is unknown.")
        return self._card

    def __iter__(self) -> OwnedIterator:
        return OwnedIterator(self)

    def as_numpy_iterator(self) -> Iterator[Any]:
        """Iterates the elements as NumPy arrays (same structure).

        >>> list(gt.data.Dataset.range(3).as_numpy_iterator())
        [np.int64(0), np.int64(1), np.int64(2)]
        """
        for element in self._raw():
            yield nest.map_structure(_numpy_value, element)

    def __repr__(self) -> str:
        return f"<Dataset element_spec={self.element_spec!r}>"

    # ----- transformations -------------------------------------------------------------
    def batch(
        self,
        batch_size: int,
        drop_remainder: bool = False,
        num_parallel_calls: Any = None,
        deterministic: Any = None,
        name: str | None = None,
    ) -> Dataset:
        """Stacks ``batch_size`` consecutive elements into one (the last may be smaller).

        Raises:
          InvalidArgumentError: if ``batch_size`` is not positive, or (while
            iterating) elements in one batch have different shapes.

        >>> [b.numpy().tolist() for b in gt.data.Dataset.range(5).batch(2, drop_remainder=True)]
        [[0, 1], [2, 3]]
        """
        bs = _check_count(batch_size, "batch_size", "batch")
        if bs <= 0:
            raise errors.InvalidArgumentError(
                f"Dataset.batch: batch_size must be greater than zero, got {bs}."
            )
        card = _batched_card(self._card, bs, drop_remainder)
        spec = lambda: nest.map_structure(  # noqa: E731
            lambda s: _spec([bs if drop_remainder else None, *s.shape.as_list()], s.dtype),
            self._spec_structure,
        )
        if self._plan is not None:
            arrays, indices = self._plan
            leaves = nest.flatten(arrays)

            def gathered() -> Iterator[Any]:
                # One fancy index per component per batch: the same rows as stacking the elements.
                for chunk in _chunks(indices(), bs, drop_remainder):
                    idx = np.asarray(chunk, dtype=np.intp)
                    yield nest.pack_as(arrays, [a[idx] for a in leaves])

            return Dataset(gathered, spec, card)

        def stacked() -> Iterator[Any]:
            for chunk in _chunks(self._raw(), bs, drop_remainder):
                yield _stack(chunk, "batch")

        return Dataset(stacked, spec, card)

    def padded_batch(
        self,
        batch_size: int,
        padded_shapes: Any = None,
        padding_values: Any = None,
        drop_remainder: bool = False,
        name: str | None = None,
    ) -> Dataset:
        """Batches elements of different shapes, padding each component to a common shape.

        Args:
          batch_size: elements per batch.
          padded_shapes: a shape per component (None dims pad to the batch's
            longest); by default every dim pads to the batch's longest.
          padding_values: a scalar per component (0 by default).
          drop_remainder: drop a last, smaller batch.

        >>> ds = gt.data.Dataset.from_generator(lambda: ([1], [1, 2]), output_signature=gt.TensorSpec([None], gt.int32))
        >>> [b.numpy().tolist() for b in ds.padded_batch(2)]
        [[[1, 0], [1, 2]]]
        """
        bs = _check_count(batch_size, "batch_size", "padded_batch")
        if bs <= 0:
            raise errors.InvalidArgumentError(
                f"Dataset.padded_batch: batch_size must be greater than zero, got {bs}."
            )
        flat_shapes = (
            None if padded_shapes is None else [_shape_list(s) for s in _flatten_like(padded_shapes, self)]
        )
        flat_pads = None if padding_values is None else _flatten_like(padding_values, self)

        def run() -> Iterator[Any]:
            for chunk in _chunks(self._raw(), bs, drop_remainder):
                flats = [[_as_numpy(x) for x in nest.flatten(e)] for e in chunk]
                out = []
                for j in range(len(flats[0])):
                    parts = [f[j] for f in flats]
                    target = [max(p.shape[d] for p in parts) for d in range(parts[0].ndim)]
                    if flat_shapes is not None:
                        for d, want in enumerate(flat_shapes[j]):
                            if want is not None:
                                if want < target[d]:
                                    raise errors.InvalidArgumentError(
                                        f"Dataset.padded_batch: component {j} has size {target[d]} in dim {d}, larger "
                                        f"than its padded shape {flat_shapes[j]}."
                                    )
                                target[d] = want
                    pad = 0 if flat_pads is None else np.asarray(flat_pads[j])
                    batch = np.full([len(parts), *target], pad, dtype=parts[0].dtype)
                    for i, p in enumerate(parts):
                        batch[(i, *(slice(0, s) for s in p.shape))] = p
                    out.append(batch)
                yield nest.pack_as(chunk[0], out)

        spec = lambda: nest.map_structure(  # noqa: E731
            lambda s: _spec([bs if drop_remainder else None] + [None] * len(s.shape.as_list()), s.dtype),
            self._spec_structure,
        )
        return Dataset(run, spec, _batched_card(self._card, bs, drop_remainder))

    def unbatch(self, name: str | None = None) -> Dataset:
        """Splits each element into its rows (the inverse of ``batch``).

        >>> [int(x) for x in gt.data.Dataset.range(4).batch(3).unbatch()]
        [0, 1, 2, 3]
        """

        def run() -> Iterator[Any]:
            for element in self._raw():
                leaves = [_as_numpy(x) for x in nest.flatten(element)]
                sizes = {leaf.shape[0] if leaf.ndim else None for leaf in leaves}
                if None in sizes or len(sizes) != 1:
                    raise errors.InvalidArgumentError(
                        "Dataset.unbatch: every component needs the same first dimension, got shapes "
                        f"{[leaf.shape for leaf in leaves]}."
                    )
                for i in range(sizes.pop()):
                    yield nest.pack_as(element, [leaf[i] for leaf in leaves])

        def spec() -> Any:
            return nest.map_structure(lambda s: _spec(s.shape.as_list()[1:], s.dtype), self._spec_structure)

        return Dataset(run, spec, _UNK if self._card != _INF else _INF)

    def shuffle(
        self,
        buffer_size: int,
        seed: int | None = None,
        reshuffle_each_iteration: bool = True,
        name: str | None = None,
    ) -> Dataset:
        """Shuffles elements with TF's buffer algorithm.

        The first ``buffer_size`` elements fill a buffer; each output is drawn
        uniformly from the buffer and its slot is refilled with the next input.
        With a ``seed`` (or ``gt.random.set_seed``) the order is reproducible;
        ``reshuffle_each_iteration`` gives each pass a new order.

        Raises:
          InvalidArgumentError: if ``buffer_size`` is not positive.

        >>> sorted(int(x) for x in gt.data.Dataset.range(5).shuffle(5, seed=1))
        [0, 1, 2, 3, 4]
        """
        size = _check_count(buffer_size, "buffer_size", "shuffle")
        if size == AUTOTUNE:
            size = 1 << 62
        if size <= 0:
            raise errors.InvalidArgumentError(
                f"Dataset.shuffle: buffer_size must be greater than zero, got {size}."
            )
        from gputensor.ops.random_ops import _seeds  # the global/op seed rules of every random op

        # Only the key: two datasets built with the same seeds must shuffle alike (TF), unlike random ops.
        key, _ = _seeds.key_offset(seed, "Dataset.shuffle")
        passes = itertools.count()

        def rng() -> np.random.Generator:
            # Each pass takes the next stream; without reshuffling every pass reuses the first.
            return np.random.default_rng([key, next(passes) if reshuffle_each_iteration else 0])

        if self._plan is not None:
            arrays, indices = self._plan
            return Dataset(
                None, self._spec_value, self._card, plan=(arrays, lambda: _shuffled(indices(), size, rng()))
            )
        return Dataset(lambda: _shuffled(self._raw(), size, rng()), lambda: self._spec_structure, self._card)

    def map(
        self,
        map_func: Callable[..., Any],
        num_parallel_calls: Any = None,
        deterministic: Any = None,
        name: str | None = None,
    ) -> Dataset:
        """Applies ``map_func`` to each element, in order.

        A tuple element is passed as separate arguments (``map_func(x, y)``), any
        other element as one argument, as TF does. As in TF, ``map_func`` is traced
        into a graph (a ``gt.function``, AutoGraph included): its Python side effects
        run when it is traced, its tensor ops at every element, and elements of a new
        shape trace it again with that dim relaxed to None. ``num_parallel_calls`` is
        accepted and the calls run one after another (results are identical).

        >>> [int(x) for x in gt.data.Dataset.range(3).map(lambda x: x + 1)]
        [1, 2, 3]
        """
        if not callable(map_func):
            raise TypeError(f"Dataset.map: `map_func` must be callable, got {map_func!r}")
        traced = _traced(map_func)

        def run() -> Iterator[Any]:
            for element in self._raw():
                yield _normalize_structure(_call(traced, element), list_is_tuple=True)

        def spec() -> Any:
            for element in run():
                return nest.map_structure(_leaf_spec, element)
            raise errors.OutOfRangeError(
                "Dataset.map: element_spec is read from the first element and this dataset is empty."
            )

        return Dataset(run, spec, self._card)

    def filter(self, predicate: Callable[..., Any], name: str | None = None) -> Dataset:
        """Keeps the elements for which ``predicate`` returns a scalar True (traced like ``map``'s function).

        Raises:
          ValueError: (while iterating) if ``predicate`` does not return a scalar bool.

        >>> [int(x) for x in gt.data.Dataset.range(6).filter(lambda x: x % 2 == 0)]
        [0, 2, 4]
        """

        traced = _traced(predicate)

        def run() -> Iterator[Any]:
            for element in self._raw():
                keep = _call(traced, element)
                arr = np.asarray(keep)
                if arr.shape != () or arr.dtype != np.bool_:
                    raise ValueError(
                        "Dataset.filter: `predicate` must return a scalar bool tensor, but it returned "
                        f"shape {arr.shape} and dtype {arr.dtype}."
                    )
                if bool(arr):
                    yield element

        return Dataset(run, lambda: self._spec_structure, _UNK if self._card != _INF else _INF)

    def prefetch(self, buffer_size: int, name: str | None = None) -> Dataset:
        """Produces elements ahead of use on a background thread (``AUTOTUNE`` picks the depth).

        Upstream work (including ``map`` functions) runs on that thread while the
        consumer uses earlier elements; errors surface at the element that failed.
        """
        size = _check_count(buffer_size, "buffer_size", "prefetch")
        if size == AUTOTUNE:
            size = 4
        if size < 0:
            raise errors.InvalidArgumentError(
                f"Dataset.prefetch: buffer_size must be >= 0 or AUTOTUNE, got {size}."
            )
        if size == 0:
            return Dataset(self._raw, lambda: self._spec_structure, self._card)
        return Dataset(lambda: _Prefetcher(self._raw(), size), lambda: self._spec_structure, self._card)

    def repeat(self, count: int | None = None, name: str | None = None) -> Dataset:
        """Repeats the dataset ``count`` times (forever when None or -1); each pass restarts it.

        >>> [int(x) for x in gt.data.Dataset.range(2).repeat(2)]
        [0, 1, 0, 1]
        """
        n = -1 if count is None else _check_count(count, "count", "repeat")
        if n < 0:
            card = 0 if self._card == 0 else _INF
        elif n == 0 or self._card == 0:
            card = 0
        else:
            card = self._card if self._card in (_INF, _UNK) else self._card * n
        passes = (lambda: itertools.count()) if n < 0 else (lambda: range(n))
        if self._plan is not None:
            arrays, indices = self._plan
            chained = lambda: itertools.chain.from_iterable(indices() for _ in passes())  # noqa: E731
            return Dataset(None, self._spec_value, card, plan=(arrays, chained))

        def run() -> Iterator[Any]:
            for _ in passes():
                empty = True
                for element in self._raw():
                    empty = False
                    yield element
                if empty:  # an empty input repeated forever is empty, not a hang
                    return

        return Dataset(run, lambda: self._spec_structure, card)

    def take(self, count: int, name: str | None = None) -> Dataset:
        """The first ``count`` elements (all of them when ``count`` is -1)."""
        n = _check_count(count, "count", "take")
        if n < 0:
            return self
        card = min(self._card, n) if self._card >= 0 else (n if self._card == _INF else _UNK)
        if self._plan is not None:
            arrays, indices = self._plan
            return Dataset(
                None, self._spec_value, card, plan=(arrays, lambda: itertools.islice(indices(), n))
            )
        return Dataset(lambda: itertools.islice(self._raw(), n), lambda: self._spec_structure, card)

    def skip(self, count: int, name: str | None = None) -> Dataset:
        """All but the first ``count`` elements (none when ``count`` is -1)."""
        n = _check_count(count, "count", "skip")
        if n < 0:
            return Dataset(lambda: iter(()), lambda: self._spec_structure, 0)
        card = max(self._card - n, 0) if self._card >= 0 else self._card
        if self._plan is not None:
            arrays, indices = self._plan
            return Dataset(
                None, self._spec_value, card, plan=(arrays, lambda: itertools.islice(indices(), n, None))
            )
        return Dataset(lambda: itertools.islice(self._raw(), n, None), lambda: self._spec_structure, card)

    def cache(self, filename: str = "", name: str | None = None) -> Dataset:
        """Keeps the elements in memory after the first complete pass; later passes replay them."""
        if filename:
            raise errors.UnimplementedError(
                f"Dataset.cache: only the in-memory cache is available here; call cache() without filename={filename!r}."
            )
        stored: list[list[Any]] = []

        def run() -> Iterator[Any]:
            if stored:
                yield from stored[0]
                return
            seen = []
            for element in self._raw():
                seen.append(element)
                yield element
            stored.append(seen)  # only a complete pass becomes the cache

        return Dataset(run, lambda: self._spec_structure, self._card)

    def concatenate(self, dataset: Dataset, name: str | None = None) -> Dataset:
        """This dataset's elements followed by ``dataset``'s (the structures and dtypes must match).

        Raises:
          TypeError: if the element structures or dtypes differ.
        """
        if not isinstance(dataset, Dataset):
            raise TypeError(f"Dataset.concatenate: expected a Dataset, got {type(dataset).__name__}")
        a, b = self._spec_structure, dataset._spec_structure
        if not nest.same_structure(a, b) or [s.dtype for s in nest.flatten(a)] != [
            s.dtype for s in nest.flatten(b)
        ]:
            raise TypeError(
                f"Dataset.concatenate: the datasets have incompatible element specs {a!r} and {b!r}; "
                "they need the same structure and dtypes."
            )
        spec = nest.map_structure(lambda x, y: x.most_specific_common_supertype([y]), a, b)
        cards = (self._card, dataset._card)
        card = _INF if _INF in cards else (_UNK if _UNK in cards else sum(cards))
        return Dataset(lambda: itertools.chain(self._raw(), dataset._raw()), spec, card)

    def enumerate(self, start: int = 0, name: str | None = None) -> Dataset:
        """Pairs each element with its int64 position: ``(i, element)``."""
        first = _check_count(start, "start", "enumerate")

        def run() -> Iterator[Any]:
            for i, element in enumerate(self._raw(), first):
                yield (np.asarray(i, np.int64), element)

        return Dataset(run, lambda: (_spec((), dtypes.int64), self._spec_structure), self._card)

    def reduce(
        self, initial_state: Any, reduce_func: Callable[[Any, Any], Any], name: str | None = None
    ) -> Any:
        """Folds the elements into a state: ``state = reduce_func(state, element)``.

        >>> int(gt.data.Dataset.range(5).reduce(gt.constant(0, gt.int64), lambda s, x: s + x))
        10
        """
        state = nest.map_structure(_to_tensor, _normalize_structure(initial_state))
        for element in self._raw():
            state = reduce_func(state, nest.map_structure(_to_tensor, element))
        return nest.map_structure(_to_tensor, _normalize_structure(state))


# ----- helpers ----------------------------------------------------------------------------
def _lift(shapes: Any, types: Any) -> Any:
    """Deprecated output_shapes: a shape given as a list/tuple for a single dtype is one leaf."""
    if not isinstance(types, (tuple, dict)):
        return _Leaf(shapes)
    if isinstance(types, dict):
        return {k: _lift(shapes[k], v) for k, v in types.items()}
    return tuple(_lift(s, t) for s, t in zip(shapes, types, strict=True))


class _Leaf:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _shape_list(shape: Any) -> list:
    if shape is None:
        return None
    if hasattr(shape, "as_list"):
        return shape.as_list()
    return list(shape)


def _flatten_like(values: Any, ds: Dataset) -> list:
    spec = ds._spec_structure
    if isinstance(spec, (tuple, dict)):
        return nest.flatten(values if not isinstance(values, list) else tuple(values))
    return [values]


def _check_generated(item: Any, signature: Any, specs: list) -> Any:
    if isinstance(item, list) and isinstance(signature, tuple):
        item = tuple(item)
    if not nest.same_structure(item, signature) or len(nest.flatten(item)) != len(specs):
        raise TypeError(
            f"Dataset.from_generator: `generator` yielded an element that did not match the expected structure. "
            f"The expected structure was {signature!r}, but the yielded element was {item!r}."
        )
    out = []
    for value, spec in zip(nest.flatten(item), specs, strict=True):
        arr = np.asarray(value.numpy() if isinstance(value, (Tensor, Variable)) else value)
        want = np.dtype(spec.dtype.as_numpy_dtype)
        if arr.dtype != want:
            ok = np.can_cast(arr.dtype, want, "same_kind") or (
                arr.dtype.kind in "biu" and want.kind in "biuf"
            )
            if not ok:
                raise TypeError(
                    f"Dataset.from_generator: `generator` yielded an element of dtype {arr.dtype} that could not be "
                    f"converted to the expected type {spec.dtype.name}: {value!r}"
                )
            arr = arr.astype(want)
        if not spec.shape.is_compatible_with(arr.shape):
            raise errors.InvalidArgumentError(
                f"Dataset.from_generator: `generator` yielded an element of shape {arr.shape} where an element of "
                f"shape {tuple(spec.shape.as_list()) if spec.shape.rank is not None else None} was expected."
            )
        out.append(arr)
    return nest.pack_as(signature, out)


def _traced(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` as tf.data runs dataset functions: a gt.function, relaxing dims that vary between
    elements to None instead of tracing once per shape."""
    from gputensor.graph.polymorphic_function import function  # graphs load lazily

    return function(fn, reduce_retracing=True)


def _call(fn: Callable[..., Any], element: Any) -> Any:
    args = nest.map_structure(_to_tensor, element)
    if isinstance(args, tuple) and not hasattr(type(args), "_fields"):
        return fn(*args)
    return fn(args)


def _chunks(items: Iterator[Any], size: int, drop_remainder: bool) -> Iterator[list]:
    while True:
        chunk = list(itertools.islice(items, size))
        if not chunk or (drop_remainder and len(chunk) < size):
            return
        yield chunk


def _stack(chunk: list, op: str) -> Any:
    flats = [[_as_numpy(x) for x in nest.flatten(e)] for e in chunk]
    out = []
    for j in range(len(flats[0])):
        parts = [f[j] for f in flats]
        shapes = {p.shape for p in parts}
        if len(shapes) > 1:
            name = nest.component_names(chunk[0])[j]
            raise errors.InvalidArgumentError(
                f"Dataset.{op}: cannot batch component {name} because its elements have different shapes "
                f"{sorted(shapes)}; use padded_batch or make the shapes equal in a map."
            )
        out.append(np.stack(parts))
    return nest.pack_as(chunk[0], out)


def _batched_card(card: int, bs: int, drop_remainder: bool) -> int:
    if card < 0:
        return card
    return card // bs if drop_remainder else -(-card // bs)


def _shuffled(items: Iterator[Any], buffer_size: int, rng: np.random.Generator) -> Iterator[Any]:
    """TF's shuffle buffer: fill, then emit a uniformly drawn slot and refill it; drain at the end."""
    it = iter(items)
    buf = list(itertools.islice(it, buffer_size))
    draws = rng.random(1024)
    k = 0
    for item in it:
        if k == 1024:
            draws, k = rng.random(1024), 0
        j = int(draws[k] * len(buf))
        k += 1
        yield buf[j]
        buf[j] = item
    while buf:
        if k == 1024:
            draws, k = rng.random(1024), 0
        j = int(draws[k] * len(buf))
        k += 1
        buf[j], buf[-1] = buf[-1], buf[j]
        yield buf.pop()


class OwnedIterator:
    """An iterator over a Dataset (``iter(dataset)``), checkpointable as ``tf.data``'s.

    ``gt.train.Checkpoint(iterator=it)`` saves its position (an int64 ``[1]`` array under
    ``iterator/.ATTRIBUTES/ITERATOR_STATE``, TF's key). Restoring starts the dataset afresh
    and skips that many elements on the next ``next()``, so the iteration continues where the
    saved one was, given a deterministic pipeline (a ``shuffle`` without a seed, or a
    ``from_generator`` whose generator differs between runs, continues with other elements;
    TF instead stores its buffers).
    """

    def __init__(self, dataset: Dataset) -> None:
        self._dataset = dataset
        self._source: Iterator[Any] | None = None
        self._position = 0  # elements returned so far
        self._skip = 0  # elements to drop from a fresh source (after a restore)

    @property
    def element_spec(self) -> Any:
        """The dataset's ``element_spec``."""
        return self._dataset.element_spec

    def __iter__(self) -> OwnedIterator:
        return self

    def __next__(self) -> Any:
        if self._source is None:
            self._source = iter(self._dataset._raw())
            for _ in range(self._skip):
                next(self._source)  # StopIteration: the restored position is past the end
            self._skip = 0
        element = next(self._source)
        self._position += 1
        return nest.map_structure(_to_tensor, element)

    def get_next(self) -> Any:
        """The next element (``next(iterator)``); raises OutOfRangeError at the end, as TF."""
        try:
            return next(self)
        except StopIteration:
            raise errors.OutOfRangeError("Iterator.get_next: end of sequence") from None

    def _serialize_to_tensors(self) -> dict[str, np.ndarray]:
        return {"ITERATOR_STATE": np.array([self._position], np.int64)}

    def _restore_from_tensors(self, tensors: dict[str, np.ndarray]) -> None:
        position = int(np.asarray(tensors["ITERATOR_STATE"]).reshape(-1)[0])
        self._source, self._position, self._skip = None, position, position


class _Prefetcher:
    """Runs an iterator on a daemon thread ahead of the consumer through a bounded queue.

    The thread holds only the queue and a stop flag (not this object), so an
    abandoned iteration frees the iterator, whose ``__del__`` stops the thread.
    """

    def __init__(self, source: Iterator[Any], size: int) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=size)
        self._stop = threading.Event()
        self._done = False
        threading.Thread(
            target=_prefetch_fill,
            args=(source, self._queue, self._stop),
            daemon=True,
            name="gt.data.prefetch",
        ).start()

    def __iter__(self) -> _Prefetcher:
        return self

    def __next__(self) -> Any:
        if self._done:
            raise StopIteration
        kind, value = self._queue.get()
        if kind == "item":
            return value
        self._done = True
        if kind == "error":
            raise value
        raise StopIteration

    def __del__(self) -> None:
        self._stop.set()


def _prefetch_fill(source: Iterator[Any], out: queue.Queue, stop: threading.Event) -> None:
    def put(item: tuple) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    try:
        for element in source:
            if not put(("item", element)):
                return
        put(("end", None))
    except BaseException as e:  # noqa: BLE001 - re-raised on the consumer's thread
        put(("error", e))
