"""Backward plans compiled to Python: check a tape against a plan and run it, in one function.

`replay.signature` builds a key for every gradient call: a loop over the records
with a dict from tensor ids to slots. For the usual pass, whose path covers every
recorded op, this module writes that work out as straight-line Python, once per
plan: the checks become comparisons on the records' id tuples (input j of record
i is output q of record p), shape tuples and dtype/device identities, and the
plan's kernels become one call each on local variables. On the benchmark step of
scripts/bench.py this leaves 3.3 us of Python around the kernels where the generic
signature, lookup and replay leave 7.8 us, and a training step takes it every
time. (JAX and TorchDynamo generate Python the same way.)

The function compiled for a plan returns ``{id(source): gradient}`` when the tape's
records, seeds, targets and sources have exactly the plan's signature, and None
otherwise; the caller then takes the generic path, which checks the signature the
long way. Everything written into the source text is generated here (slot
numbers, indices, attr names as literals); values live in the function's globals.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from gputensor.framework.tensor import wrap


def _float_zero_checks(i: int, attrs: dict) -> list[str]:
    """0.0 == -0.0 in a dict comparison; the sign of such an attr must match too."""
    lines = []
    for name, value in attrs.items():
        if type(value) is float and value == 0.0:
            sign = math.copysign(1.0, value)
            lines.append(f"if copysign(1.0, r{i}[2][{name!r}]) != {sign!r}: return None")
    return lines


def compile_matcher(plan: Any, records: list, seeds: list, targets: list, source_ids: set) -> Callable | None:
    """The straight-line function of ``plan``, captured from this pass; None when the
    pass is not one it can describe (an op off the path, a source not on the tape)."""
    env: dict[str, Any] = {"copysign": math.copysign, "wrap": wrap}
    checks: list[str] = []
    origin: dict[int, str] = {}  # slot -> expression of its Tensor
    ident: dict[int, str] = {}  # slot -> expression of its tensor's id
    distinct: list[str] = []  # ids that must all differ: tensors no op made, and outputs

    def constant(prefix: str, value: Any) -> str:
        name = f"{prefix}{len(env)}"
        env[name] = value
        return name

    def check_meta(expr: str, t: Any) -> None:
        shape = tuple(t._data.shape)
        checks.append(
            f"if {expr}._data.shape != {shape!r} or {expr}._dtype is not {constant('DT', t._dtype)} "
            f"or {expr}._device is not {constant('DV', t._device)}: return None"
        )

    slot_of: dict[int, int] = {}

    def new_slot(key: int, t: Any, tensor_expr: str, id_expr: str | None) -> None:
        """A slot for ``t``, found at ``tensor_expr``; ids of ones no op made must all differ."""
        s = len(origin)
        slot_of[key] = s
        origin[s] = tensor_expr
        check_meta(tensor_expr, t)
        if id_expr is not None:
            ident[s] = id_expr
            distinct.append(id_expr)

    for k, t in enumerate(seeds):
        new_slot(id(t), t, f"S[{k}]", None)  # seeds are new tensors: no record reads them
    reach = set(source_ids)
    for i, rec in enumerate(records):
        op, inputs, attrs, _, outs, in_ids, out_ids, float_ids = rec
        if reach.isdisjoint(in_ids):
            return None  # an op off the path: the generic signature handles such passes
        reach.update(float_ids)
        checks.append(f"r{i} = R[{i}]")
        if attrs:
            checks.append(f"if r{i}[2] != {constant('A', dict(attrs))}: return None")
            checks.extend(_float_zero_checks(i, attrs))
        else:
            checks.append(f"if r{i}[2]: return None")
        checks.append(f"if len(r{i}[5]) != {len(in_ids)}: return None")
        for j, (t, k) in enumerate(zip(inputs, in_ids)):
            s = slot_of.get(k)
            if s is None:  # a tensor no recorded op made
                new_slot(k, t, f"r{i}[1][{j}]", f"r{i}[5][{j}]")
            else:
                checks.append(f"if r{i}[5][{j}] != {ident[s]}: return None")
        for q, (t, k) in enumerate(zip(outs, out_ids)):
            new_slot(k, t, f"r{i}[4][{q}]", f"r{i}[6][{q}]")
    for k, t in enumerate(targets):
        s = slot_of.get(id(t))
        if s is None:  # a target no op made (a source itself)
            new_slot(id(t), t, f"T[{k}]", f"id(T[{k}])")
        else:
            checks.append(f"if T[{k}] is not {origin[s]}: return None")
    n = len(origin)
    if not source_ids.issubset(slot_of):
        return None  # a source the tape never saw: the generic path ignores it, this one cannot
    if distinct:
        checks.append(f"if len({{{', '.join(distinct)}}}) != {len(distinct)}: return None")
    wanted = sorted(slot_of[k] for k in source_ids)
    checks.append(f"if src != {{{', '.join(ident[s] for s in wanted)}}}: return None")

    # The run: load the arrays the steps read, call the kernels, free, wrap the results.
    body: list[str] = []
    used = {s for step in plan.steps for s in step[6]} | {r for _, r, _ in plan.results}
    for s in sorted(used):
        if s < n:
            body.append(f"v{s} = {origin[s]}._data")
    for s, array in enumerate(plan.tail, start=n):
        if array is not None and s in used:
            body.append(f"v{s} = {constant('C', array)}")
    for device, extra in plan.peaks:
        d = constant("D", device)
        body.append(
            f"if {d}.current_bytes + {extra} > {d}.peak_bytes: {d}.peak_bytes = {d}.current_bytes + {extra}"
        )
    for call, _, _, first, n_out, free, ins in plan.steps:
        args = ", ".join(f"v{s}" for s in ins)
        outs = ", ".join(f"v{s}" for s in range(first, first + n_out)) + "," if n_out else f"v{first}"
        body.append(f"{outs} = {constant('K', call)}({args})")
        for s in free:
            body.append(f"v{s} = None")
    results = []
    for source, result, device in plan.results:
        value = origin[result] if result < n else f"wrap(v{result}, {constant('D', device)})"
        results.append(f"{ident[source]}: {value}")
    body.append(f"return {{{', '.join(results)}}}")

    lines = ["def matched(R, S, T, src):", "    try:"]
    lines += [f"        {line}" for line in checks]
    lines += [
        "    except (AttributeError, IndexError):",
        "        return None  # a disposed tensor, a shorter tuple",
    ]
    lines += [f"    {line}" for line in body]
    source = "\n".join(lines) + "\n"
    code = compile(source, f"<gputensor backward plan {id(plan):x}>", "exec")
    exec(code, env)  # noqa: S102 - our own generated text, no user strings in it
    fn = env["matched"]
    fn.source = source  # for debugging: print(fn.source)
    return fn
