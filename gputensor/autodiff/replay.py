"""Backward plans: a training loop's backward pass, captured once and replayed.

A training step records the same ops on the same shapes every time, and its
backward pass then runs the same gradient functions, which make the same
decisions (un-broadcasting, skipped inputs, reshapes) and launch the same
kernels. The first `GradientTape.gradient` call of such a step runs normally
while a `_Capture` notes each kernel the gradient functions launch (which
kernel, on which arrays, with which attrs). Later calls whose recorded ops have
the same *signature* replay those kernels on the new arrays directly: no
gradient-function logic, no Tensor objects for intermediates. This is what
``tf.function`` does for TF's backward pass; here it needs no tracing by the user.

The signature of a backward pass is everything the gradient functions may
depend on: per recorded op on the path from the sources, the op, its attrs and
which tensors it read and wrote (as slots: the same tensor, the same slot);
per tensor its shape, dtype and device; which slots are targets and sources;
the active device scope. Gradients registered with ``replayable=True`` promise
to depend on nothing else (no tensor value read to the host). Anything that
does not fit (a non-replayable gradient, IndexedSlices, an input on another
device, a value read during the capture, a large constant made inside a
gradient function) leaves that signature on the normal path for good.

``GPUTENSOR_GRADIENT_REPLAY=0`` turns plans off.
"""

from __future__ import annotations

import functools
import operator
import os
import threading
from collections.abc import Callable
from typing import Any

from gputensor.framework.context import state
from gputensor.framework.op_table import attrs_key
from gputensor.framework.tensor import Tensor, wrap

ENABLED = os.environ.get("GPUTENSOR_GRADIENT_REPLAY", "1") != "0"
MAX_PLANS = 256
MAX_CONST_BYTES = 1 << 20  # constants baked into one plan (zeros, position tables, scalars)
# Constants of all plans together: they are arrays (on the plans' devices) that no Tensor
# owns, so gt.memory() does not count them; the oldest plans go to stay under this.
MAX_TOTAL_CONST_BYTES = 16 << 20

MAX_MATCHERS = 8  # compiled plans tried per sequence of ops

_UNREPLAYABLE = object()  # cache value of a signature that must take the normal path
_plans: dict[tuple, Any] = {}
_matchers: dict[tuple, list] = {}  # (ops of the records, number of seeds, of targets) -> compiled plans
_op_of = operator.itemgetter(0)
_const_total = 0  # bytes of the constants of the plans in _plans
_lock = threading.Lock()  # stores and evictions (training threads share the plans)
stats = {"captured": 0, "replayed": 0, "refused": 0}


def clear() -> None:
    """Forgets every plan (and the counters)."""
    global _const_total
    with _lock:
        _plans.clear()
        _matchers.clear()
        _const_total = 0
    for k in stats:
        stats[k] = 0


class _Plan:
    """The kernels of one backward pass, in order, over numbered array slots.

    Slots ``0..n-1`` hold the signature's tensors (seeds, then the recorded ops'
    inputs and outputs); constants and step outputs take the slots after
    (``tail`` is that part of the slot list, with the constants in place). Each
    step is ``(kernel with its attrs bound, getter of its input arrays, whether
    it has one input, first output slot, number of outputs or 0 for a single
    array, slots last used by this step, input slots)``.
    """

    __slots__ = ("tail", "steps", "results", "peaks", "const_bytes", "matcher", "ops")

    def __init__(self, tail: list, steps: list, results: list, peaks: list, const_bytes: int) -> None:
        self.tail = tail
        self.steps = steps
        self.results = results  # (source slot, result slot, device)
        self.peaks = peaks  # (device, most bytes of intermediates alive at once)
        self.const_bytes = const_bytes
        self.matcher: Callable | None = None  # the compiled plan (matcher.py), if any
        self.ops: tuple | None = None  # its key in _matchers


def signature(records: list, seeds: list, targets: list, source_ids: set) -> tuple[tuple, list] | None:
    """The key of a backward pass and its tensors in slot order, or None when a
    recorded op on the path has no replayable gradient.

    ``records`` are a tape's, ``seeds`` the output gradients of ``targets``,
    ``source_ids`` the ids of the tensors whose gradients are wanted.
    """
    slot_of: dict[int, int] = {}
    tensors = list(seeds)
    n = len(tensors)
    flat: list = []  # per op: op, attrs, input count, input slots; outputs take the next slots
    reach = set(source_ids)
    for rec in records:
        in_ids = rec[5]
        if reach.isdisjoint(in_ids):
            continue
        op = rec[0]
        if not getattr(op, "replayable", False):  # op-likes of custom gradients have none
            return None
        reach.update(rec[7])
        attrs = rec[2]
        flat.append(op)
        flat.append(attrs_key(attrs) if attrs else None)
        flat.append(len(in_ids))
        for t, k in zip(rec[1], in_ids):
            s = slot_of.get(k)
            if s is None:
                s = slot_of[k] = n
                n += 1
                tensors.append(t)
            flat.append(s)
        for t, k in zip(rec[4], rec[6]):  # an op's outputs are new tensors
            slot_of[k] = n
            n += 1
            tensors.append(t)
    for t in targets:  # a target no op made (a source itself): a tensor of the pass too
        k = id(t)
        if k not in slot_of:
            slot_of[k] = n
            n += 1
            tensors.append(t)
    # Per tensor its shape, dtype and device; dtypes are singletons and a plan holds its
    # devices, so their ids stand for them.
    flat.append(n)
    try:
        for t in tensors:
            flat.append(t._data.shape)
            flat.append(id(t._dtype))
            flat.append(id(t._device))
    except AttributeError:
        return None  # a disposed tensor: the normal path reports it
    flat.append(len(seeds))
    for t in targets:
        flat.append(slot_of[id(t)])
    sources = tuple(sorted(slot_of[k] for k in source_ids if k in slot_of))
    flat.append(sources)
    # The gt.device scope is not part of the key: the backward pass runs each op on the
    # device of its forward op whatever the scope.
    key = tuple(flat)
    return key, tensors


def lookup(key: tuple) -> Any:
    """The plan of ``key``; None when there is none yet; _UNREPLAYABLE when there can be none."""
    try:
        return _plans.get(key)
    except TypeError:  # an unhashable attr (a list or an array): no plan for this pass
        return _UNREPLAYABLE


def is_plan(entry: Any) -> bool:
    return entry is not None and entry is not _UNREPLAYABLE


def replay(plan: _Plan, tensors: list) -> dict[int, Tensor]:
    """Runs ``plan`` on the arrays of ``tensors``; returns ``{id(source): gradient}``."""
    n = len(tensors)
    vals: list[Any] = [t._data for t in tensors]
    vals += plan.tail
    for device, extra in plan.peaks:
        # The intermediates' sizes are the capture's: count them as the normal pass would.
        if device.current_bytes + extra > device.peak_bytes:
            device.peak_bytes = device.current_bytes + extra
    for call, get, single, first, n_out, free, _ in plan.steps:
        out = call(get(vals)) if single else call(*get(vals))
        if n_out:
            vals[first : first + n_out] = out
        else:
            vals[first] = out
        for i in free:
            vals[i] = None
    grads = {}
    for source, result, dev in plan.results:
        grads[id(tensors[source])] = tensors[result] if result < n else wrap(vals[result], dev)
    stats["replayed"] += 1
    return grads


class _Capture:
    """Stands in ``state.tapes`` during one normal backward pass and notes its kernels.

    It quacks like a GradientTape for the hooks in `gputensor.autodiff.tape`:
    `_record` calls `_add` for every op that reads a tensor it knows (``_ids``),
    `notify_break` calls `_note_break` when a value leaves for the host.
    """

    _var_tensors: dict = {}
    _watched_vars: dict = {}
    _watch_accessed = False

    def __init__(self, tensors: list) -> None:
        self._slot = {id(t): i for i, t in enumerate(tensors)}  # tensor id -> slot
        self._ids = self._slot.keys()  # what `_record` tests inputs against
        self._keep = list(tensors)  # keeps every id above valid during the capture
        self._next = len(tensors)
        self._consts: list[tuple[int, Any]] = []
        self._const_bytes = 0
        self._steps: list[list] = []
        self._nbytes: dict[int, int] = {}  # output slot -> bytes
        self.ok = True

    def _const(self, t: Tensor) -> int:
        """A slot for a tensor no captured op made: a constant of the gradient functions."""
        s = self._next
        self._next += 1
        self._slot[id(t)] = s
        self._keep.append(t)
        self._consts.append((s, t._data))
        self._const_bytes += t._data.nbytes
        if self._const_bytes > MAX_CONST_BYTES:
            self.ok = False
        return s

    def _add(self, op: Any, inputs: tuple, in_ids: tuple, attrs: dict, outputs: Any) -> None:
        multi = type(outputs) is tuple
        outs = outputs if multi else (outputs,)
        device = outs[0]._device
        ins = []
        for t, k in zip(inputs, in_ids):
            s = self._slot.get(k)
            if s is None:
                s = self._const(t)
            if t._device is not device:
                self.ok = False  # a copy between devices: not a plain kernel launch
            ins.append(s)
        first = self._next
        for o in outs:
            self._slot[id(o)] = self._next
            self._nbytes[self._next] = o._data.nbytes
            self._next += 1
            self._keep.append(o)
        fn = device.kernels.get(op.name) or device.kernel(op)
        self._steps.append([fn, tuple(ins), dict(attrs), first, len(outs) if multi else 0, device])

    def _note_break(self, kind: str, name: str, inputs: tuple) -> None:
        self.ok = False  # a value read to the host, or recording paused: not replayable

    def plan(self, grads: dict, tensors: list, sources: tuple) -> _Plan | None:
        """The plan of the pass just captured, whose result was ``grads``."""
        n_inputs = len(tensors)
        results = []
        for s in sources:
            g = grads.get(id(tensors[s]))
            if g is None:
                continue
            if type(g) is not Tensor:
                return None  # IndexedSlices: a structure the plan does not hold
            r = self._slot.get(id(g))
            if r is None:
                r = self._const(g)
            results.append((s, r, g._device))
        if not self.ok:
            return None
        # Free each intermediate after its last use (results and inputs stay).
        keep = {r for _, r, _ in results} | {s for s, _ in self._consts}
        last: dict[int, int] = {}
        for i, (_, ins, _, first, n_out, _) in enumerate(self._steps):
            for s in ins:
                last[s] = i
            for s in range(first, first + max(n_out, 1)):
                last.setdefault(s, i)  # an output nobody reads dies at once
        frees: list[list[int]] = [[] for _ in self._steps]
        for s, i in last.items():
            if s >= n_inputs and s not in keep:
                frees[i].append(s)
        # The most bytes of intermediates alive at once, per device.
        live: dict[Any, int] = {}
        peaks: dict[Any, int] = {}
        for (_, _, _, first, n_out, device), free in zip(self._steps, frees):
            for s in range(first, first + max(n_out, 1)):
                live[device] = live.get(device, 0) + self._nbytes[s]
            peaks[device] = max(peaks.get(device, 0), live[device])
            for s in free:
                live[device] -= self._nbytes[s]
        tail: list[Any] = [None] * (self._next - n_inputs)
        for s, array in self._consts:
            tail[s - n_inputs] = array
        steps = []
        for (fn, ins, attrs, first, n_out, _), free in zip(self._steps, frees):
            call = functools.partial(fn, **attrs) if attrs else fn
            steps.append((call, operator.itemgetter(*ins), len(ins) == 1, first, n_out, tuple(free), ins))
        return _Plan(tail, steps, results, list(peaks.items()), self._const_bytes)


def match(records: list, seeds: list, targets: list, source_ids: set) -> dict[int, Tensor] | None:
    """The gradients by a compiled plan whose signature this pass has, else None."""
    candidates = _matchers.get((tuple(map(_op_of, records)), len(seeds), len(targets)))
    if candidates:
        for fn in candidates:
            grads = fn(records, seeds, targets, source_ids)
            if grads is not None:
                stats["replayed"] += 1
                return grads
    return None


def capture(
    key: tuple, tensors: list, run: Callable[[], dict], pass_: tuple[list, list, list, set] | None = None
) -> dict:
    """Runs the normal backward pass ``run`` while capturing it; stores its plan under ``key``.

    ``pass_`` is ``(records, seeds, targets, source_ids)`` of the pass, to compile the
    plan into a matcher (matcher.py) as well.

    Returns what ``run`` returned: ``{id(tensor): gradient}``.
    """
    cap = _Capture(tensors)
    saved = state.tapes
    state.tapes = saved + (cap,)
    try:
        grads = run()
    finally:
        state.tapes = saved
    plan = cap.plan(grads, tensors, key[-1])
    stats["captured" if plan is not None else "refused"] += 1
    if plan is None:
        _store(key, _UNREPLAYABLE)
        return grads
    if pass_ is not None:
        from gputensor.autodiff.matcher import compile_matcher  # on the first capture only

        records, seeds, targets, source_ids = pass_
        plan.matcher = compile_matcher(plan, records, seeds, targets, source_ids)
        plan.ops = (tuple(map(_op_of, records)), len(seeds), len(targets))
    _store(key, plan)
    return grads


def _store(key: tuple, entry: Any) -> None:
    """Keeps ``entry`` under ``key``, forgetting the oldest plans beyond the limits."""
    global _const_total
    extra = entry.const_bytes if is_plan(entry) else 0
    with _lock:
        while _plans and (len(_plans) >= MAX_PLANS or _const_total + extra > MAX_TOTAL_CONST_BYTES):
            old = _plans.pop(next(iter(_plans)))
            if is_plan(old):
                _const_total -= old.const_bytes
                candidates = _matchers.get(old.ops)
                if candidates and old.matcher in candidates:
                    candidates.remove(old.matcher)
                    if not candidates:
                        del _matchers[old.ops]
        _plans[key] = entry
        _const_total += extra
        if is_plan(entry) and entry.matcher is not None:
            candidates = _matchers.setdefault(entry.ops, [])
            candidates.insert(0, entry.matcher)  # the newest first: a changed shape tends to stay
            del candidates[MAX_MATCHERS:]
