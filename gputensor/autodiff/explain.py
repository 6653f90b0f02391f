"""Why is my gradient None? The analysis behind `GradientTape.explain`.

The tape keeps, next to its records, the places where a watched value stopped
being followed. Given a target and sources, `analyse` walks the records from
each source forward and reports the first of these that applies:

- the source's dtype is not floating (integers carry no gradient);
- a variable with ``trainable=False``, or one never read under the tape;
- a constant tensor the tape never watched;
- values computed from the source went through ``stop_gradient``, were made
  under ``stop_recording``, through a non-differentiable op (named), were cast
  to an integer type, or left the tape through ``.numpy()``/``float()``;
- otherwise the target simply does not depend on the source.

Connected sources whose gradient is all zeros are reported too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gputensor.autodiff import nest
from gputensor.autodiff.indexed_slices import IndexedSlices, densify
from gputensor.framework.context import state
from gputensor.framework.tensor import Tensor
from gputensor.framework.variable import Variable

# The order in which reasons for a cut path are reported: the most deliberate first.
_BREAK_ORDER = ("stop_gradient", "stop_recording", "non_differentiable", "integer_output", "left_tape")

_VARIABLE_REASONS: dict[int, str] = {}


@dataclass(frozen=True)
class SourceReport:
    """Why one source's gradient is what it is.

    Attributes:
      source: a readable name of the source (a variable's name, or shape and dtype).
      status: "connected", "zero" (connected, but the gradient is all zeros) or "none".
      code: a short machine-readable reason: "connected", "zero_gradient",
        "integer_dtype", "not_trainable", "not_watched", "other_tape", "variable_not_read",
        "integer_target", "stop_gradient", "stop_recording", "non_differentiable",
        "integer_output", "left_tape" or "not_connected".
      reason: the explanation, with the fix.
      op: the op where the path broke, when there is one.
    """

    source: str
    status: str
    code: str
    reason: str
    op: str | None = None

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


class Explanation:
    """The per-source reports of `GradientTape.explain`; printing it gives one line per source."""

    def __init__(self, reports: list[SourceReport]) -> None:
        self.reports = list(reports)

    def __iter__(self):
        return iter(self.reports)

    def __len__(self) -> int:
        return len(self.reports)

    def __getitem__(self, i: int) -> SourceReport:
        return self.reports[i]

    def __str__(self) -> str:
        return "\n".join(str(r) for r in self.reports)

    def __repr__(self) -> str:
        return f"Explanation(\n  {str(self).replace(chr(10), chr(10) + '  ')}\n)"


def describe(source: Any) -> str:
    if isinstance(source, Variable):
        return f"variable {source.name!r}"
    if isinstance(source, IndexedSlices):
        source = source.values
    if isinstance(source, Tensor):
        return f"tensor of shape {source.shape} and dtype {source.dtype.name}"
    return repr(source)


def remember_variable_reason(var: Variable, report: SourceReport) -> None:
    _VARIABLE_REASONS[var._unique_id] = report.reason


def reason_for_variable(var: Variable) -> str | None:
    """Why the last `gradient` call that returned None for ``var`` did so (for optimizer warnings)."""
    return _VARIABLE_REASONS.get(var._unique_id)


def _unwatched(tape: Any, source: Any) -> tuple[str, str] | None:
    """(code, reason) when the tape never followed ``source`` at all."""
    t = source._value if isinstance(source, Variable) else source
    if isinstance(t, IndexedSlices):
        t = t.values
    if t._dtype.kind not in "fc":
        return (
            "integer_dtype",
            f"its dtype is {t._dtype.name}; gradients exist only for floating and complex dtypes. "
            f"Cast it before the computation, e.g. x = gt.cast(x, gt.float32), and watch the result",
        )
    if isinstance(source, Variable):
        if source._unique_id in tape._watched_vars:
            return None
        if not source.trainable:
            return (
                "not_trainable",
                "it is a Variable with trainable=False, which the tape never watches automatically; "
                "call tape.watch(variable) inside the tape, or create it with trainable=True",
            )
        if not tape._watch_accessed:
            return (
                "not_watched",
                "the tape has watch_accessed_variables=False and the variable was not passed to "
                "tape.watch(); call tape.watch(variable) inside the tape",
            )
        return (
            "variable_not_read",
            "the variable was not read while the tape was recording; use it inside the "
            "`with gt.GradientTape()` block (values read before the block are constants to the tape)",
        )
    if id(t) not in tape._ids:
        if any(other is not tape and id(t) in other._ids for other in state.tapes):
            return (
                "other_tape",
                "it is watched by another active GradientTape, not this one; take the gradient on "
                "that tape, or call watch() on this one too",
            )
        return (
            "not_watched",
            "it is a tensor the tape does not watch (only trainable Variables are watched "
            "automatically); call tape.watch(x) inside the tape before computing with x",
        )
    return None


def _reach(tape: Any, ids: set) -> set:
    reach = set(ids)
    for rec in tape._records:
        if not reach.isdisjoint(rec[5]):  # input ids, floating output ids (see GradientTape._clear)
            reach.update(rec[7])
    return reach


def _producer(tape: Any, tensor_id: int) -> str | None:
    for rec in tape._records:
        if tensor_id in rec[6]:  # output ids
            return rec[0].name
    return None


def _broken_path(tape: Any, reach: set) -> tuple[str, str, str | None] | None:
    """(code, reason, op) of the most telling place where values derived from a source stopped."""
    hits = [b for b in tape._breaks if any(k in reach for k in b[2])]
    if not hits:
        return None
    hits.sort(key=lambda b: _BREAK_ORDER.index(b[0]))
    kind, name, ids = hits[0]
    ops = sorted({b[1] for b in hits if b[0] == kind})
    if kind == "stop_gradient":
        return kind, "the path to the target goes through gt.stop_gradient, which blocks gradients", None
    if kind == "stop_recording":
        return (
            kind,
            f"values computed from it (by op '{name}') were made inside tape.stop_recording(), so "
            "the tape did not record them; compute them outside stop_recording()",
            name,
        )
    if kind == "non_differentiable":
        return (
            kind,
            f"the path goes through op {', '.join(repr(o) for o in ops)}, which is not differentiable "
            "(its gradient is None); use a differentiable formulation (e.g. softmax instead of "
            "argmax, a smooth surrogate for a comparison)",
            name,
        )
    if kind == "integer_output":
        return (
            kind,
            f"op '{name}' turned a value computed from it into an integer/bool tensor, which carries no "
            "gradient; keep the computation in floating point",
            name,
        )
    producer = next((p for p in (_producer(tape, k) for k in ids) if p), None)
    where = f"the output of op '{producer}'" if producer else "the watched value itself"
    return (
        kind,
        f"a value computed from it ({where}) left the tape through {name}: NumPy arrays and "
        "Python numbers are constants to the tape. Use gt ops (e.g. gt.math.sin, not np.sin) "
        "on tensors you want gradients through",
        producer,
    )


def analyse(tape: Any, target: Any, sources: list, grads: Any) -> list[SourceReport]:
    """One `SourceReport` per source; ``grads`` true computes gradients to spot all-zero ones."""
    targets = [t._value if isinstance(t, Variable) else t for t in nest.flatten(target)]
    integer_target = next((t for t in targets if isinstance(t, Tensor) and t._dtype.kind not in "fc"), None)
    reports = []
    for s in sources:
        name = describe(s)
        if integer_target is not None:
            reports.append(
                SourceReport(
                    name,
                    "none",
                    "integer_target",
                    f"the target has dtype {integer_target.dtype.name}; only floating targets have "
                    "gradients (cast the target to a float dtype)",
                )
            )
            continue
        why = _unwatched(tape, s)
        if why is not None:
            reports.append(SourceReport(name, "none", why[0], why[1]))
            continue
        ids = set(tape._source_ids(tape._source_key(s)))
        reach = _reach(tape, ids)
        if any(isinstance(t, Tensor) and id(t) in reach for t in targets):
            reports.append(_connected(tape, name, targets, s, ids) if grads else _connected_report(name))
            continue
        broken = _broken_path(tape, reach)
        if broken is not None:
            reports.append(SourceReport(name, "none", broken[0], broken[1], broken[2]))
            continue
        reports.append(
            SourceReport(
                name,
                "none",
                "not_connected",
                "the target does not depend on it: nothing computed from it under this tape reached "
                "the target (check that the target is computed from it inside the tape's block)",
            )
        )
    return reports


def _connected_report(name: str) -> SourceReport:
    return SourceReport(name, "connected", "connected", "connected: the gradient is computed")


def _connected(tape: Any, name: str, targets: list, source: Any, ids: set) -> SourceReport:
    from gputensor.autodiff.tape import UnconnectedGradients, _ones_like

    flat_targets = [t for t in targets if isinstance(t, Tensor) and t._dtype.kind in "fc"]
    saved = state.tapes
    state.tapes = ()  # the explanation's backward pass is not part of any computation
    try:
        g = tape._backward(flat_targets, [_ones_like(t) for t in flat_targets], ids)
        grad = tape._result(g, list(ids), source, UnconnectedGradients.NONE)
    finally:
        state.tapes = saved
    if grad is not None and not np.any(np.asarray(densify(grad).numpy())):
        return SourceReport(
            name,
            "zero",
            "zero_gradient",
            "connected, but every element of its gradient is 0 here: the path goes through ops whose "
            "derivative is 0 at these values (relu of negative inputs, clipped values, a max/min/where "
            "branch not taken, a multiplication by 0)",
        )
    return _connected_report(name)
