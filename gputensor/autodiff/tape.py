"""``gt.GradientTape``: records ops on watched tensors and runs them backwards, as TF's tape.

How it works. While a tape is active, `execute` calls `_record` after every op.
An op is recorded when one of its inputs is watched (a watched constant, a read
of a watched variable, or the output of an earlier recorded op); its floating
outputs then become watched. `gradient` walks the records backwards from the
targets, calling each op's registered gradient (written with public ops, so an
outer tape records the backward pass and differentiates it again).

Tensors are keyed by ``id``: a record holds its inputs and outputs, so the ids
of everything the tape knows stay valid while the tape lives. A non-persistent
tape drops its records after `gradient`, which frees the intermediates.

Besides the records, the tape notes where a watched value stopped being
followed (a non-differentiable op, a cast to an integer type, ``stop_gradient``,
``stop_recording``, ``.numpy()``), which `GradientTape.explain` reports.
"""

from __future__ import annotations

import contextlib
import enum
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from gputensor.autodiff import nest, replay
from gputensor.autodiff.indexed_slices import IndexedSlices, aggregate, densify
from gputensor.autodiff.registry import run_gradient, skipping
from gputensor.backend import registry
from gputensor.framework import context, variable
from gputensor.framework.context import state
from gputensor.framework.tensor import Tensor, convert_to_tensor, wrap
from gputensor.framework.variable import Variable


class UnconnectedGradients(enum.Enum):
    """What `GradientTape.gradient` returns for sources the target does not depend on.

    ``NONE`` gives None (the default); ``ZERO`` gives zeros of the source's shape.
    """

    NONE = "none"
    ZERO = "zero"


_NO_SKIP: frozenset = frozenset()
_DIFFERENTIABLE_KINDS = "fc"  # gradients flow through floating and complex tensors only
_NON_PERSISTENT_USED = (
    "A non-persistent GradientTape can only be used to compute one set of gradients (or "
    "jacobians); create the tape with gt.GradientTape(persistent=True) to call it more than once"
)


class _Pause(threading.local):
    """Per-thread recording state besides the tapes themselves.

    ``depth`` counts open ``stop_recording`` blocks (and recompute_grad forwards);
    ``watchers`` are lists collecting the variables read inside custom_gradient and
    recompute_grad functions.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.watchers: list[list] = []


pause = _Pause()


def _trainable(t: Any) -> bool:
    return t._dtype.kind in _DIFFERENTIABLE_KINDS


class GradientTape:
    """Records operations for automatic differentiation, as ``tf.GradientTape``.

    Operations run inside the ``with`` block on watched tensors are recorded;
    `gradient` then computes gradients of a target with respect to sources.
    Trainable variables are watched when read (unless
    ``watch_accessed_variables=False``); constants only after `watch`.

    Args:
      persistent: allow more than one `gradient`/`jacobian` call; the records are
        kept until the tape is deleted or `reset`.
      watch_accessed_variables: watch trainable variables read inside the block.

    >>> x = gt.constant(3.0)
    >>> with gt.GradientTape() as g:
    ...     g.watch(x)
    ...     y = x * x
    >>> float(g.gradient(y, x))
    6.0
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        self._persistent = bool(persistent)
        self._watch_accessed = bool(watch_accessed_variables)
        self._recording = False
        self._clear()

    def _clear(self) -> None:
        self._drop_records()
        self._watched_vars: dict[int, Variable] = {}  # variable uid -> variable, watch order
        self._used = False
        self._post_mortem: dict[int, Any] | None = None  # reasons kept after records are freed

    def _drop_records(self) -> None:
        self._ids: set[int] = set()  # ids of watched tensors and of recorded outputs
        self._watched: list[Tensor] = []  # keeps watched tensors (and so their ids) alive
        # One tuple per recorded op (plain tuples: this is the hot path), fields in order:
        # op, inputs, attrs, outputs (as the op returned them), outputs as a tuple,
        # input ids, output ids, ids of the floating outputs (those gradients flow through).
        self._records: list[tuple] = []
        self._var_tensors: dict[int, list[Tensor]] = {}  # variable uid -> tensors read from it
        self._breaks: list[tuple] = []  # (kind, op name, input ids) where watched values stopped

    # ------------------------------------------------------------ context protocol
    def __enter__(self) -> GradientTape:
        if self._recording:
            raise ValueError(
                "Tape is still recording. This can happen if you try to re-enter an already-active tape."
            )
        if self._used:
            self._clear()  # as TF: a used non-persistent tape starts afresh when re-entered
        self._push()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._recording:
            self._pop()

    def _push(self) -> None:
        state.tapes = state.tapes + (self,)
        self._recording = True

    def _pop(self) -> None:
        tapes = state.tapes
        state.tapes = tapes[:-1] if tapes[-1] is self else tuple(t for t in tapes if t is not self)
        self._recording = False

    # ------------------------------------------------------------------ watching
    def watch(self, tensor: Any) -> None:
        """Ensures ``tensor`` (a Tensor, Variable, or nested list/dict of them) is traced.

        Raises:
          ValueError: when an element is not a Tensor or Variable.
        """
        for t in nest.flatten(tensor):
            if isinstance(t, Variable):
                self._watched_vars.setdefault(t._unique_id, t)
                self._watch_variable_tensor(t, t._value)
                continue
            if isinstance(t, IndexedSlices):
                t = t.values
            if not isinstance(t, Tensor):
                raise ValueError(
                    f"GradientTape.watch: passed in object of type {type(t).__name__}, not gt.Tensor "
                    "or gt.Variable; convert it first with gt.constant(value)"
                )
            if not _trainable(t):
                warnings.warn(
                    f"The dtype of the watched tensor must be floating (e.g. gt.float32), got "
                    f"gt.{t._dtype.name}; its gradient will be None",
                    stacklevel=2,
                )
                continue
            self._watch_tensor(t)

    def _watch_tensor(self, t: Tensor) -> None:
        k = id(t)
        if k not in self._ids:
            self._ids.add(k)
            self._watched.append(t)

    def _watch_variable_tensor(self, var: Variable, t: Tensor) -> None:
        if not _trainable(t):
            return
        reads = self._var_tensors.get(var._unique_id)
        if reads is None:
            self._var_tensors[var._unique_id] = [t]
        elif not any(r is t for r in reads):
            reads.append(t)
        self._watch_tensor(t)

    def watched_variables(self) -> tuple:
        """The variables watched so far, in the order they were first watched."""
        return tuple(self._watched_vars.values())

    @contextlib.contextmanager
    def stop_recording(self) -> Iterator[None]:
        """Temporarily stops recording on all tapes, as TF's (e.g. to log a metric cheaply).

        Raises:
          ValueError: when the tape is not recording (outside its ``with`` block).
        """
        if not self._recording:
            raise ValueError("Tape must be recording: stop_recording is used inside the tape's `with` block")
        pause.depth += 1
        try:
            yield
        finally:
            pause.depth -= 1

    def reset(self) -> None:
        """Clears everything recorded, as if the ``with`` block were re-entered on a new tape."""
        recording = self._recording
        self._clear()
        self._recording = recording

    # ----------------------------------------------------------------- recording
    def _add(self, op: Any, inputs: tuple, in_ids: tuple, attrs: dict, outputs: Any) -> None:
        if not op.differentiable:
            self._breaks.append(("non_differentiable", op.name, in_ids))
            return
        if type(outputs) is tuple:
            outs = outputs
            out_ids = tuple(map(id, outs))
            float_ids = tuple(id(o) for o in outs if o._dtype.kind in _DIFFERENTIABLE_KINDS)
        elif outputs._dtype.kind in _DIFFERENTIABLE_KINDS:
            outs = (outputs,)
            out_ids = float_ids = (id(outputs),)
        else:
            float_ids = ()
        if float_ids:
            self._ids.update(float_ids)
            self._records.append((op, inputs, attrs, outputs, outs, in_ids, out_ids, float_ids))
        else:
            self._breaks.append(("integer_output", op.name, in_ids))

    def _note_break(self, kind: str, name: str, inputs: tuple) -> None:
        ids = self._ids
        if any(id(t) in ids for t in inputs):
            self._breaks.append((kind, name, tuple(map(id, inputs))))

    # ------------------------------------------------------------------ backprop
    def _check_usable(self, what: str) -> None:
        if self._used:
            raise RuntimeError(_NON_PERSISTENT_USED)
        if self._recording:
            if not self._persistent:
                self._pop()  # as TF: a non-persistent tape stops recording here
            else:
                warnings.warn(
                    f"Calling GradientTape.{what} on a persistent tape inside its context is "
                    "significantly less efficient than calling it outside the context (it causes the "
                    "gradient ops to be recorded on the tape, leading to increased CPU and memory "
                    "usage). Only call it inside the context if you actually want to trace the "
                    "gradient in order to compute higher order derivatives.",
                    stacklevel=3,
                )

    def _source_key(self, s: Any) -> tuple:
        """(kind, key) for a flat source: a variable's reads or a tensor's id."""
        if isinstance(s, Variable):
            return ("var", s._unique_id)
        if isinstance(s, Tensor):
            return ("tensor", id(s))
        if isinstance(s, IndexedSlices):
            return ("tensor", id(s.values))
        raise ValueError(
            f"GradientTape.gradient: a source is of type {type(s).__name__}, not gt.Tensor or "
            "gt.Variable; sources must be the tensors or variables the target was computed from"
        )

    def _source_ids(self, key: tuple) -> list[int]:
        kind, k = key
        if kind == "var":
            return [id(t) for t in self._var_tensors.get(k, ())]
        return [k] if k in self._ids else []

    def _backward(self, targets: list, target_grads: list, source_ids: set) -> dict[int, Any]:
        """Gradients of ``sum(targets * target_grads)`` for every tensor between sources and targets."""
        reach = set(source_ids)
        path = []
        for rec in self._records:
            if not reach.isdisjoint(rec[5]):
                reach.update(rec[7])
                path.append(rec)
        grads: dict[int, Any] = {}
        for t, g in zip(targets, target_grads):
            k = id(t)
            if k in reach:
                grads[k] = g if k not in grads else aggregate(grads[k], g)
        saved_device = state.device
        default = registry.default_device()
        placed = saved_device
        try:
            for op, inputs, attrs, outputs, outs, in_ids, out_ids, _ in reversed(path):
                if len(out_ids) == 1:
                    k = out_ids[0]
                    g = grads.get(k) if k in source_ids else grads.pop(k, None)
                    if g is None:
                        continue
                    out_grads = (g if type(g) is Tensor else densify(g),)
                else:
                    out_grads = tuple(
                        densify(grads.get(k) if k in source_ids else grads.pop(k, None)) for k in out_ids
                    )
                    if all(g is None for g in out_grads):
                        continue
                if op.grad is None:
                    raise LookupError(
                        f"No gradient defined for operation '{op.name}'; register one with "
                        f"@gputensor.autodiff.register_gradient({op.name!r})"
                    )
                skip = _NO_SKIP
                if len(in_ids) > 1 and not reach.issuperset(in_ids):
                    skip = frozenset(i for i, k in enumerate(in_ids) if k not in reach)
                # The backward op runs where the forward one ran. Ops follow their inputs there;
                # a device scope is needed only for constants made inside gradient functions.
                device = outs[0]._device
                wanted = None if saved_device is None and device is default else device
                if wanted is not placed:
                    state.device = placed = wanted
                if skip or skipping.indices:
                    in_grads = run_gradient(op.grad, skip, inputs, attrs, outputs, out_grads)
                else:
                    in_grads = op.grad(inputs, attrs, outputs, *out_grads)
                for k, g in zip(in_ids, in_grads):
                    if g is not None and k in reach:
                        old = grads.get(k)
                        grads[k] = g if old is None else aggregate(old, g)
        finally:
            if placed is not saved_device:
                state.device = saved_device
        return grads

    def _gradients(self, targets: list, target_grads: list, source_ids: set) -> dict[int, Any]:
        """`_backward`, replayed from a plan when this pass was seen before (see replay.py).

        Only a pass that nothing records (no tape active, as after a non-persistent
        tape's exit) is replayed: an outer tape must see the gradient ops.
        """
        if (
            replay.ENABLED
            and not state._tapes
            and not pause.depth
            and not skipping.indices
            and state.graph is None  # while tracing, the backward ops must become graph nodes
        ):
            try:
                grads = replay.match(self._records, target_grads, targets, source_ids)
            except Exception:  # noqa: BLE001 - the normal pass raises the op's own error
                grads = None
            if grads is not None:
                return grads
            sig = replay.signature(self._records, target_grads, targets, source_ids)
            if sig is not None:
                key, tensors = sig
                entry = replay.lookup(key)
                if replay.is_plan(entry):
                    try:
                        return replay.replay(entry, tensors)
                    except Exception:  # noqa: BLE001 - the normal pass raises the op's own error
                        pass
                elif entry is None:
                    return replay.capture(
                        key,
                        tensors,
                        lambda: self._backward(targets, target_grads, source_ids),
                        (self._records, target_grads, targets, source_ids),
                    )
        return self._backward(targets, target_grads, source_ids)

    def _result(self, grads: dict, ids: list, source: Any, unconnected: UnconnectedGradients) -> Any:
        found = None
        for k in ids:
            g = grads.get(k)
            if g is not None:
                found = g if found is None else aggregate(found, g)
        if found is None and unconnected is UnconnectedGradients.ZERO:
            return _zeros_like(source)
        return found

    def _variable_target(self, var: Variable) -> Tensor:
        """A variable as target (``result = v``) is its value, read as if accessed: its
        gradient with respect to itself is one, as TF's handle-based tape gives."""
        t = var._value
        if var._unique_id in self._watched_vars or (var._trainable and self._watch_accessed):
            self._watched_vars.setdefault(var._unique_id, var)
            self._watch_variable_tensor(var, t)
        return t

    def _targets(self, target: Any, output_gradients: Any) -> tuple[list, list]:
        if (
            type(target) is Tensor
            and output_gradients is None
            and target._dtype.kind in _DIFFERENTIABLE_KINDS
        ):
            return [target], [_ones_like(target)]
        flat = nest.flatten(target)
        if output_gradients is None:
            flat_og = [None] * len(flat)
        else:
            flat_og = nest.flatten(output_gradients)
            if len(flat_og) != len(flat):
                raise ValueError(
                    f"GradientTape.gradient: output_gradients has {len(flat_og)} entries but target "
                    f"has {len(flat)}; give one output gradient (or None) per target"
                )
        targets, seeds = [], []
        for t, og in zip(flat, flat_og):
            if isinstance(t, Variable):
                t = self._variable_target(t)
            if not isinstance(t, Tensor):
                raise ValueError(
                    f"GradientTape.gradient: the target is of type {type(t).__name__}, not gt.Tensor; "
                    "compute the target with gt ops inside the tape's `with` block"
                )
            if not _trainable(t):
                continue  # integer targets carry no gradient, as in TF
            if og is None:
                og = _ones_like(t)
            else:
                og = convert_to_tensor(og, dtype=t._dtype)
                if tuple(og._data.shape) != tuple(t._data.shape):
                    raise ValueError(
                        f"GradientTape.gradient: an output gradient has shape {og.shape} but its target "
                        f"has shape {t.shape}; they must match"
                    )
            targets.append(t)
            seeds.append(og)
        return targets, seeds

    def gradient(
        self,
        target: Any,
        sources: Any,
        output_gradients: Any = None,
        unconnected_gradients: UnconnectedGradients | str = UnconnectedGradients.NONE,
    ) -> Any:
        """Computes the gradient of ``target`` with respect to ``sources``.

        Args:
          target: a Tensor (or nested list/dict of Tensors) to differentiate; a
            non-scalar target (or several) is summed, as in TF.
          sources: a Tensor or Variable, or a nested list/dict of them.
          output_gradients: the gradient of some loss with respect to each target
            (same structure as ``target``); ones when None.
          unconnected_gradients: ``UnconnectedGradients.NONE`` (None for sources the
            target does not depend on) or ``.ZERO`` (zeros), or "none"/"zero".

        Returns:
          Gradients with the structure of ``sources``: Tensors, IndexedSlices (for
          gather-like ops) or None.

        Raises:
          RuntimeError: on a second call on a non-persistent tape.
          ValueError: when a target or source is not a tensor or variable.
          LookupError: when a recorded op has no registered gradient.
        """
        unconnected = (
            unconnected_gradients
            if unconnected_gradients is UnconnectedGradients.NONE
            else _unconnected(unconnected_gradients)
        )
        if self._used or self._recording:
            self._check_usable("gradient")
        flat_sources = _flatten(sources)
        keys = []
        for s in flat_sources:
            keys.append(self._source_key(s))
        targets, seeds = self._targets(target, output_gradients)  # may watch a variable target
        groups = []
        source_ids = set()
        for key in keys:
            group = self._source_ids(key)
            groups.append(group)
            source_ids.update(group)
        grads = self._gradients(targets, seeds, source_ids) if source_ids and targets else {}
        results, missing = [], []
        for s, group in zip(flat_sources, groups):
            g = None
            for k in group:
                gk = grads.get(k)
                if gk is not None:
                    g = gk if g is None else aggregate(g, gk)
            if g is None:
                missing.append(s)
                if unconnected is UnconnectedGradients.ZERO:
                    g = _zeros_like(s)
            results.append(g)
        if missing:
            self._remember_reasons(target, missing)
        if not self._persistent:
            self._release()
        return results if flat_sources is sources else _pack(sources, results)

    def _release(self) -> None:
        """Frees the records of a used non-persistent tape."""
        self._drop_records()  # the watched variables and kept explanations stay readable (as TF)
        self._used = True

    def _remember_reasons(self, target: Any, sources: list) -> None:
        from gputensor.autodiff import explain

        reports = explain.analyse(self, target, sources, grads=None)
        if self._post_mortem is None:
            self._post_mortem = {}
        for s, r in zip(sources, reports):
            self._post_mortem[id(s)] = r
            if isinstance(s, Variable):
                explain.remember_variable_reason(s, r)

    # ------------------------------------------------------------------ jacobians
    def jacobian(
        self,
        target: Any,
        sources: Any,
        unconnected_gradients: UnconnectedGradients | str = UnconnectedGradients.NONE,
        parallel_iterations: int | None = None,
        experimental_use_pfor: bool = True,
    ) -> Any:
        """Computes the Jacobian of ``target`` with respect to each source.

        Args:
          target: a Tensor.
          sources: a Tensor or Variable, or a nested list/dict of them.
          unconnected_gradients: as in `gradient`.
          parallel_iterations, experimental_use_pfor: accepted for TF compatibility.

        Returns:
          Per source, a Tensor of shape ``target.shape + source.shape`` (or None
          when unconnected and ``unconnected_gradients`` is NONE).

        Raises:
          RuntimeError: on a second call on a non-persistent tape.
        """
        unconnected = _unconnected(unconnected_gradients)
        self._check_usable("jacobian")
        t = self._variable_target(target) if isinstance(target, Variable) else _as_target(target, "jacobian")
        flat_sources = nest.flatten(sources)
        rows = self._rows(t, flat_sources, np.eye(_size(t), dtype=t._data.dtype).reshape((-1,) + _shape(t)))
        results = [_assemble(r, _shape(t), s, unconnected, batch=False) for r, s in zip(rows, flat_sources)]
        if not self._persistent:
            self._release()
        return nest.pack_sequence_as(sources, results)

    def batch_jacobian(
        self,
        target: Any,
        source: Any,
        unconnected_gradients: UnconnectedGradients | str = UnconnectedGradients.NONE,
        parallel_iterations: int | None = None,
        experimental_use_pfor: bool = True,
    ) -> Tensor | None:
        """Per-example Jacobians: ``result[i] = d target[i] / d source[i]``, as TF's.

        Assumes example ``i`` of the target depends only on example ``i`` of the source.

        Args:
          target: a Tensor of rank >= 2, shape ``[b, y...]``.
          source: a Tensor or Variable of shape ``[b, x...]``.
          unconnected_gradients: as in `gradient`.
          parallel_iterations, experimental_use_pfor: accepted for TF compatibility.

        Returns:
          A Tensor of shape ``[b, y..., x...]`` (or None when unconnected).

        Raises:
          ValueError: when the ranks are below 2 or the batch sizes differ.
        """
        unconnected = _unconnected(unconnected_gradients)
        t = _as_target(target, "batch_jacobian")
        src_shape = tuple(source.shape)
        if len(_shape(t)) < 1 or len(src_shape) < 1 or _shape(t)[0] != src_shape[0]:
            raise ValueError(
                f"batch_jacobian: need first dimension of target shape {_shape(t)} and source shape "
                f"{src_shape} to match (the batch dimension)"
            )
        self._check_usable("batch_jacobian")
        batch, inner = _shape(t)[0], _shape(t)[1:]
        n = int(np.prod(inner, dtype=np.int64))
        eye = np.eye(n, dtype=t._data.dtype).reshape((n, 1) + inner)
        seeds = np.broadcast_to(eye, (n, batch) + inner)
        (rows,) = self._rows(t, [source], seeds)
        result = _assemble(rows, inner, source, unconnected, batch=True)
        if not self._persistent:
            self._release()
        return result

    def _rows(self, t: Tensor, flat_sources: list, seeds: np.ndarray) -> list[list]:
        """For each seed (an output gradient of ``t``), the gradient of every source."""
        keys = [self._source_key(s) for s in flat_sources]
        source_ids = {k for key in keys for k in self._source_ids(key)}
        rows: list[list] = [[] for _ in flat_sources]
        if not _trainable(t) or not source_ids:
            return [[None] * len(seeds) for _ in flat_sources]
        device = t._device
        for seed in seeds:
            og = wrap(device.backend.from_host(np.ascontiguousarray(seed)), device)
            grads = self._gradients([t], [og], source_ids)
            for j, (key, s) in enumerate(zip(keys, flat_sources)):
                g = self._result(grads, self._source_ids(key), s, UnconnectedGradients.NONE)
                rows[j].append(densify(g))
        return rows

    # --------------------------------------------------------------- diagnostics
    def explain(self, target: Any, sources: Any) -> Any:
        """Says, per source, why the gradient of ``target`` with respect to it is None or zero.

        TensorFlow's most asked question is "why is my gradient None?". This
        method answers it: an unwatched constant, an integer dtype, a
        ``trainable=False`` variable, a path cut by ``stop_recording`` /
        ``stop_gradient`` / a non-differentiable op / ``.numpy()`` (naming the op),
        or no path at all. It works on a persistent tape, and on a
        non-persistent one after a `gradient` call that returned None.

        Args:
          target: the target given (or to be given) to `gradient`.
          sources: the sources, as for `gradient`.

        Returns:
          An `Explanation`: ``print`` it, or iterate over its per-source
          `SourceReport`s (``.source``, ``.status``, ``.reason``, ``.op``).

        Raises:
          RuntimeError: when a non-persistent tape already freed its records and
            kept no explanation for a source (its gradient was not None).
        """
        from gputensor.autodiff import explain

        flat = nest.flatten(sources)
        if self._used:
            pm = self._post_mortem or {}
            missing = [s for s in flat if id(s) not in pm]
            if missing:
                raise RuntimeError(
                    "GradientTape.explain: this non-persistent tape freed its records in gradient(), "
                    "and the gradients asked about were not None. Use gt.GradientTape(persistent=True) "
                    "to explain any gradient"
                )
            return explain.Explanation([pm[id(s)] for s in flat])
        return explain.Explanation(explain.analyse(self, target, flat, grads=True))


# -------------------------------------------------------------------- helpers
def _is_flat(items: list) -> bool:
    for item in items:
        if isinstance(item, (list, tuple, dict)):
            return False
    return True


def _flatten(structure: Any) -> list:
    if type(structure) is list and _is_flat(structure):
        return structure
    return nest.flatten(structure)


def _pack(structure: Any, leaves: list) -> Any:
    if type(structure) is list and len(structure) == len(leaves) and _is_flat(structure):
        return leaves
    return nest.pack_sequence_as(structure, leaves)


def _unconnected(value: Any) -> UnconnectedGradients:
    if value is UnconnectedGradients.NONE:
        return value
    try:
        return UnconnectedGradients(value.value if isinstance(value, UnconnectedGradients) else value)
    except ValueError:
        raise ValueError(
            f"Unknown value for unconnected_gradients: {value!r}; use gt.UnconnectedGradients.NONE "
            "or .ZERO ('none' or 'zero')"
        ) from None


def _as_target(target: Any, what: str) -> Tensor:
    if isinstance(target, Variable):
        return target._value
    if not isinstance(target, Tensor):
        raise ValueError(f"GradientTape.{what}: the target must be a gt.Tensor, got {type(target).__name__}")
    return target


def _shape(t: Tensor) -> tuple:
    return tuple(t._data.shape)


def _size(t: Tensor) -> int:
    return int(np.prod(_shape(t), dtype=np.int64))


def _ones_like(t: Tensor) -> Tensor:
    dev = t._device
    ones = np.empty(t._data.shape, t._data.dtype)
    ones.fill(1)  # np.ones is a Python function: this seeds every gradient call
    return wrap(dev.backend.from_host(ones), dev)


def _zeros_like(source: Any) -> Tensor:
    t = source._value if isinstance(source, Variable) else source
    if isinstance(t, IndexedSlices):
        t = t.values
    dev = t._device
    shape = t._data.shape
    if shape is None or None in shape:  # a symbol with None dims (a loop gradient's stack): sized at run time
        from gputensor.ops import array_ops

        return array_ops.zeros_like(t)
    return wrap(dev.backend.from_host(np.zeros(shape, t._data.dtype)), dev)


def _assemble(rows: list, lead: tuple, source: Any, unconnected: UnconnectedGradients, batch: bool) -> Any:
    """Stacks per-seed gradient rows into a Jacobian of shape ``lead + source.shape``."""
    from gputensor.ops import array_ops

    src = source._value if isinstance(source, Variable) else source
    src_shape = _shape(src)
    if all(r is None for r in rows):
        if unconnected is UnconnectedGradients.NONE:
            return None
    zero = None
    filled = []
    for r in rows:
        if r is None:
            if zero is None:
                zero = _zeros_like(src)
            r = zero
        filled.append(r)
    if batch:
        # each row is (b, x...); the result is (b, y..., x...)
        if not filled:
            return _zeros_shaped(src, (src_shape[0],) + lead + src_shape[1:])
        stacked = array_ops.stack(filled, axis=1)
        return array_ops.reshape(stacked, (src_shape[0],) + lead + src_shape[1:])
    if not filled:
        return _zeros_shaped(src, lead + src_shape)
    return array_ops.reshape(array_ops.stack(filled, axis=0), lead + src_shape)


def _zeros_shaped(like: Tensor, shape: tuple) -> Tensor:
    dev = like._device
    return wrap(dev.backend.from_host(np.zeros(shape, like._data.dtype)), dev)


# --------------------------------------------------------------- the hooks
def _record(op: Any, inputs: tuple, attrs: dict, outputs: Any) -> None:
    """Called by `execute` after each op while a tape is active."""
    if pause.depth:
        for tape in state.tapes:
            tape._note_break("stop_recording", op.name, inputs)
        return
    in_ids = tuple(map(id, inputs))
    for tape in state._tapes:
        if not tape._ids.isdisjoint(in_ids):
            tape._add(op, inputs, in_ids, attrs, outputs)


def _read_variable(var: Variable, t: Tensor) -> None:
    """Called when a variable is read while a tape is active: watches trainable variables."""
    for watcher in pause.watchers:
        watcher.append(var)
    if pause.depth or t._dtype.kind not in _DIFFERENTIABLE_KINDS:
        return
    vid = var._unique_id
    for tape in state._tapes:
        reads = tape._var_tensors.get(vid)
        if reads is None:
            # First read of this variable on this tape (the common case, inlined).
            if vid in tape._watched_vars or (var._trainable and tape._watch_accessed):
                tape._watched_vars.setdefault(vid, var)
                tape._var_tensors[vid] = [t]
                k = id(t)
                if k not in tape._ids:
                    tape._ids.add(k)
                    tape._watched.append(t)
        elif reads[-1] is t:
            continue  # read again: already watched
        elif vid in tape._watched_vars:
            tape._watch_variable_tensor(var, t)


def notify_break(kind: str, name: str, inputs: tuple) -> None:
    """Tells active tapes that ``inputs`` stop being followed here (e.g. ``stop_gradient``)."""
    for tape in state.tapes:
        tape._note_break(kind, name, inputs)


def install() -> None:
    """Connects the tape to op dispatch and variable reads."""
    context.recorder = _record
    variable.variable_reader = _read_variable
    _install_leak_hooks()


def _leak_hook(method: Any, how: str) -> Any:
    """Wraps a Tensor method that copies the value out of the tape's reach (for `explain`)."""
    if method.__name__ == "__array__":

        def hooked(self: Tensor, dtype: Any = None, copy: Any = None) -> Any:
            if not state.fast and state.tapes:  # `fast` is a plain attribute: False under a tape
                notify_break("left_tape", how, (self,))
            return method(self, dtype, copy)

    else:

        def hooked(self: Tensor) -> Any:
            if not state.fast and state.tapes:
                notify_break("left_tape", how, (self,))
            return method(self)

    hooked.__name__ = method.__name__
    hooked.__doc__ = method.__doc__
    hooked.__wrapped__ = method
    return hooked


def _install_leak_hooks() -> None:
    for name, how in (
        ("numpy", ".numpy()"),
        ("__float__", "float()"),
        ("__int__", "int()"),
        ("__array__", "np.asarray (a NumPy function called on the tensor)"),
    ):
        method = getattr(Tensor, name)
        if not hasattr(method, "__wrapped__"):
            setattr(Tensor, name, _leak_hook(method, how))
