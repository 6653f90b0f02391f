"""What code converted by AutoGraph calls at trace time (as ``ag__`` in the generated source).

Each helper decides when it runs: a condition that is a symbolic tensor of the
graph being traced becomes a ``gt.cond`` or ``gt.while_loop`` node, anything else
(Python values, eager tensors) runs as the plain Python statement would. The
statement's variables arrive as arguments and leave as results (the generated
branch and body functions take and return them), so a node's outputs and loop
variables are exactly the variables the statement changes and later code reads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gputensor.autodiff import nest
from gputensor.framework import dtypes
from gputensor.framework.context import state
from gputensor.framework.tensor import Tensor, convert_to_tensor

_RETURN = "ag__retval"  # the generated names of a lowered `return`'s value and flags
_probing = [0]  # > 0 while a loop body is traced only to learn its return value's type


class Undefined:
    """The value of a variable not yet assigned where a converted statement starts.

    It flows through branches and loops like any value; AutoGraph refuses it where a
    graph needs a value (a branch output, a loop variable), naming the variable.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<undefined {self.name}>"

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise UnboundLocalError(
            f"local variable '{self.name}' is used where it is not assigned on every path (a converted "
            "`if` or loop assigns it only sometimes)"
        )

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):  # protocol probes (copy, pickle, numpy) see a plain object
            raise AttributeError(attr)
        return self._refuse()

    __bool__ = __call__ = __getitem__ = __iter__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = _refuse
    __lt__ = __le__ = __gt__ = __ge__ = __neg__ = __float__ = __int__ = __index__ = _refuse


def checked_return(value: Any) -> Any:
    """A converted function's return value, refused when a variable in it is unassigned
    (where the original function would have raised UnboundLocalError)."""
    if isinstance(value, Undefined):
        value._refuse()
    for leaf in nest.flatten(value) if isinstance(value, (list, tuple, dict)) else ():
        if isinstance(leaf, Undefined):
            leaf._refuse()
    return value


def is_symbolic(value: Any) -> bool:
    """Whether ``value`` is a tensor whose value is known only when a graph being traced runs."""
    if state.graph is None or not isinstance(value, Tensor):
        return False
    from gputensor.graph.graph import Symbol

    return type(value._data) is Symbol


def _where(site: tuple) -> str:
    return f'File "{site[0]}", line {site[1]}'


# ------------------------------------------------------------------ booleans
def and_(a: Callable, b: Callable) -> Any:
    """``a and b``: logical_and of tensors when ``a()`` is symbolic, else Python's lazy ``and``."""
    x = a()
    if is_symbolic(x):
        from gputensor.ops.math_ops import logical_and

        return logical_and(x, _as_bool(b()))
    return x and b()


def or_(a: Callable, b: Callable) -> Any:
    """``a or b``: logical_or of tensors when ``a()`` is symbolic, else Python's lazy ``or``."""
    x = a()
    if is_symbolic(x):
        from gputensor.ops.math_ops import logical_or

        return logical_or(x, _as_bool(b()))
    return x or b()


def not_(x: Any) -> Any:
    """``not x``: logical_not of a symbolic tensor, else Python's ``not``."""
    if is_symbolic(x):
        from gputensor.ops.math_ops import logical_not

        return logical_not(x)
    return not x


def _as_bool(x: Any) -> Tensor:
    t = convert_to_tensor(x)
    if t.dtype is not dtypes.bool_:
        from gputensor.ops.math_ops import cast

        t = cast(t, dtypes.bool_)
    return t


# ------------------------------------------------------------------------ if
class ConversionError(ValueError):
    """A converted statement whose variables cannot become a graph node (names the line)."""


def _dynamic(value: Any) -> bool:
    """Whether a branch output or loop variable goes through the graph node (tensors,
    numbers and nests of them) rather than staying a Python value."""
    leaves = nest.flatten(value)
    return bool(leaves) and all(
        isinstance(x, (Tensor, bool, int, float, complex, np.generic, np.ndarray)) or _is_variable(x)
        for x in leaves
    )


def _is_variable(x: Any) -> bool:
    from gputensor.framework.variable import Variable

    return isinstance(x, Variable)


def _check_predicate(pred: Any, what: str, site: tuple) -> None:
    if pred.dtype is not dtypes.bool_ or tuple(pred.shape) != ():
        raise ConversionError(
            f"{_where(site)}: the condition of this `{what}` is a {pred.dtype.name} tensor of shape "
            f"{list(pred.shape)}; a tensor condition must be a scalar bool (reduce it with gt.reduce_any "
            "or gt.reduce_all, or compare it)"
        )


def if_stmt(
    pred: Any, true_fn: Callable, false_fn: Callable, values: tuple, names: tuple, live: tuple, site: tuple
) -> tuple:
    """A converted ``if``: Python when ``pred`` is not symbolic, else a ``gt.cond`` node.

    Args:
      pred: the condition's value.
      true_fn, false_fn: take the statement's variables (``names``), return them changed.
      values: their values before the statement (`Undefined` when unassigned).
      live: the names read after the statement: only those become the node's outputs.
      site: (file, line) of the statement, for errors.
    """
    if not is_symbolic(pred):
        return true_fn(*values) if pred else false_fn(*values)
    _check_predicate(pred, "if", site)
    if _probing[0]:
        # Only the types of what the branches give matter here: either defined one does.
        a, b = true_fn(*values), false_fn(*values)
        return tuple(y if isinstance(x, Undefined) else x for x, y in zip(a, b))
    from gputensor.graph.control_flow import cond

    outs = [i for i, n in enumerate(names) if n in live]
    results: dict[str, list] = {}

    def branch(fn: Callable, label: str) -> Callable:
        def run() -> list:
            got = fn(*values)
            picked = []
            for i in outs:
                v = got[i]
                if isinstance(v, Undefined):
                    other = "else" if label == "if" else "if"
                    if names[i].startswith(_RETURN):
                        raise ConversionError(
                            f"{_where(site)}: a `return` inside this `if`, whose condition is a tensor, "
                            "sits in a loop over Python values; iterate over gt.range(...) (or a tensor) "
                            "so the whole loop becomes a graph loop"
                        )
                    raise ConversionError(
                        f"{_where(site)}: '{names[i]}' must also be initialized in the {label} branch: it "
                        f"is assigned in the {other} branch and read after this `if`, whose condition is "
                        f"a tensor, so both branches must give it a value (or assign it before the `if`)"
                    )
                picked.append(v)
            results[label] = picked
            if len(results) == 2:
                _check_branches(results["if"], results["else"], [names[i] for i in outs], site)
            return [v for v in picked if _dynamic(v)]

        return run

    node_out = cond(pred, branch(true_fn, "if"), branch(false_fn, "else"))
    it = iter(node_out if isinstance(node_out, (list, tuple)) else [node_out])
    final = list(values)
    for i, v in zip(outs, results["if"]):
        final[i] = next(it) if _dynamic(v) else v
    return tuple(final)


def _check_branches(a: list, b: list, names: list, site: tuple) -> None:
    for name, x, y in zip(names, a, b):
        if _dynamic(x) != _dynamic(y):
            kind = [type(v).__name__ if not _dynamic(v) else "tensor" for v in (x, y)]
            raise ConversionError(
                f"{_where(site)}: '{name}' is a {kind[0]} in the if branch and a {kind[1]} in the else "
                "branch of this `if`, whose condition is a tensor; give it a tensor in both branches"
            )
        if not _dynamic(x):
            if x is not y and not _same_python_value(x, y):
                raise ConversionError(
                    f"{_where(site)}: '{name}' is the Python value {x!r} in the if branch and {y!r} in the "
                    "else branch of this `if`, whose condition is a tensor; a variable the branches set "
                    "differently must be a tensor (or a number, which becomes one)"
                )
            continue
        fx, fy = nest.flatten(x), nest.flatten(y)
        sx = repr(nest.pack_sequence_as(x, [None] * len(fx)))
        sy = repr(nest.pack_sequence_as(y, [None] * len(fy)))
        if sx != sy:
            raise ConversionError(
                f"{_where(site)}: '{name}' has structure {sx} in the if branch and {sy} in the else branch; "
                "both branches of a tensor `if` must give it the same structure"
            )
        for u, v in zip(fx, fy):
            tu, tv = convert_to_tensor(u), convert_to_tensor(v)
            if tu.dtype != tv.dtype or tuple(tu.shape) != tuple(tv.shape):
                raise ConversionError(
                    f"{_where(site)}: '{name}' is {tu.dtype.name}{list(tu.shape)} in the if branch but "
                    f"{tv.dtype.name}{list(tv.shape)} in the else branch of this `if`, whose condition is a "
                    "tensor; both branches must give it the same dtype and shape (cast or reshape it)"
                )


def _same_python_value(x: Any, y: Any) -> bool:
    try:
        return type(x) is type(y) and bool(x == y)
    except Exception:  # an == that is elementwise or refuses: treat as different
        return False


# --------------------------------------------------------------------- loops
def while_stmt(
    test: Callable, body: Callable, values: tuple, names: tuple, live: tuple, site: tuple
) -> tuple:
    """A converted ``while``: Python while its condition is not symbolic, else a While node.

    Args:
      test: takes the loop's variables (``names``) and returns the condition.
      body: takes them and returns them changed.
      values: their values before the loop (`Undefined` when unassigned).
      live: the names read by the condition, by the body before it assigns them, or after
        the loop: those are the While node's loop variables.
      site: (file, line) of the statement.
    """
    values = tuple(values)
    pred = test(*values)
    if not is_symbolic(pred):
        while True:
            if is_symbolic(pred):
                raise ConversionError(
                    f"{_where(site)}: the condition of this `while` became a tensor after an iteration that "
                    "ran in Python; make it a tensor from the start (e.g. start its counter as "
                    "gt.constant(0)) so the whole loop becomes a graph loop"
                )
            if not pred:
                return values
            values = tuple(body(*values))
            pred = test(*values)
    _check_predicate(pred, "while", site)
    return _graph_loop(test, body, values, names, live, site, "while")


def _graph_loop(
    test: Callable, body: Callable, values: tuple, names: tuple, live: tuple, site: tuple, what: str
) -> tuple:
    """A While node over the ``live`` variables; the others keep their values on entry."""
    from gputensor.graph.control_flow import while_loop

    loop = [i for i, n in enumerate(names) if n in live]
    values = list(values)
    undefined = [i for i in loop if isinstance(values[i], Undefined)]
    if undefined:
        _define_by_probe(body, values, undefined, names, site, what)
    from gputensor.graph.tensor_array import materialize, relax_specs

    # A TensorArray first written in the loop enters with a buffer of the shape written.
    values = materialize(body, values, loop)
    entry = {}
    for i in loop:
        v = values[i]
        if not _dynamic(v):
            raise ConversionError(
                f"{_where(site)}: '{names[i]}' is a {type(v).__name__} and this `{what}` loop, whose "
                "condition is a tensor, changes it; a loop variable of a graph loop must be a tensor "
                "(or a number, which becomes one), or a list/tuple/dict of them"
            )
        v = _tensors(v)
        values[i] = v
        entry[i] = relax_specs(v, [(tuple(t.shape), t.dtype) for t in nest.flatten(v)])

    def full(loop_values: tuple) -> list:
        cur = list(values)
        for i, v in zip(loop, loop_values):
            cur[i] = v
        return cur

    def cond_fn(*loop_values: Any) -> Any:
        c = test(*full(loop_values))
        return _as_bool(c) if not isinstance(c, Tensor) else c

    def body_fn(*loop_values: Any) -> tuple:
        got = body(*full(loop_values))
        out = []
        for i in loop:
            v = got[i]
            if isinstance(v, Undefined) or not _dynamic(v):
                raise ConversionError(
                    f"{_where(site)}: '{names[i]}' enters this `{what}` loop as a tensor but the body makes "
                    f"it a {type(v).__name__}; a loop variable of a graph loop must stay a tensor"
                )
            flat = nest.flatten(v)
            if len(flat) != len(entry[i]):
                raise ConversionError(
                    f"{_where(site)}: '{names[i]}' changes structure in this `{what}` loop, whose condition "
                    "is a tensor; a loop variable must keep its structure"
                )
            fixed = []
            for t, (shape, dtype) in zip(flat, entry[i]):
                t = t if isinstance(t, Tensor) else convert_to_tensor(t, dtype=dtype)
                if tuple(t.shape) != shape or t.dtype != dtype:
                    raise ConversionError(
                        f"{_where(site)}: '{names[i]}' enters this `{what}` loop as {dtype.name}{list(shape)} "
                        f"but an iteration makes it {t.dtype.name}{list(t.shape)}; a loop variable of a "
                        "graph loop must keep its dtype and shape (cast or reshape it in the body, or "
                        "give it the right dtype before the loop, e.g. 0.0 rather than 0)"
                    )
                fixed.append(t)
            out.append(nest.pack_sequence_as(v, fixed))
        return tuple(out)

    results = while_loop(cond_fn, body_fn, tuple(values[i] for i in loop))
    final = list(values)
    for i, v in zip(loop, results):
        final[i] = v
    return tuple(final)


def _to_tensor(x: Any) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if _is_variable(x):
        return x.value()
    return convert_to_tensor(x)


def _tensors(v: Any) -> Any:
    return nest.pack_sequence_as(v, [_to_tensor(x) for x in nest.flatten(v)])


def _define_by_probe(
    body: Callable, values: list, undefined: list, names: tuple, site: tuple, what: str
) -> None:
    """Gives a lowered `return`'s value, unassigned before a graph loop, a zero of the type
    the body gives it, found by tracing the body once into a scratch graph (as TF does)."""
    for i in undefined:
        if not names[i].startswith(_RETURN):
            raise ConversionError(
                f"{_where(site)}: '{names[i]}' must be defined before this `{what}` loop: the loop's "
                "condition is a tensor, and the variable is assigned in the loop and read after it (or "
                "in the next iteration); assign it an initial value of the same dtype and shape before "
                "the loop"
            )
    from gputensor.framework.tensor import wrap
    from gputensor.graph.graph import Graph
    from gputensor.ops.array_ops import zeros

    outer = state.graph
    probe = Graph(outer.target, name="autograph_probe")
    probe.parent = outer
    _probing[0] += 1
    with probe.building():
        args = []
        for v in values:
            if isinstance(v, Undefined) or not _dynamic(v):
                args.append(v)
            else:
                leaves = [_to_tensor(x) for x in nest.flatten(v)]
                args.append(
                    nest.pack_sequence_as(
                        v, [wrap(probe.placeholder(tuple(t.shape), t.dtype), probe.device) for t in leaves]
                    )
                )
        try:
            got = body(*args)
        finally:
            _probing[0] -= 1
    for i in undefined:
        v = got[i]
        if isinstance(v, Undefined) or not _dynamic(v):
            raise ConversionError(
                f"{_where(site)}: the value this `{what}` loop returns is a {type(v).__name__}; inside a "
                "loop whose condition is a tensor, `return` needs a tensor"
            )
        leaves = [_to_tensor(x) for x in nest.flatten(v)]
        values[i] = nest.pack_sequence_as(v, [zeros(list(t.shape), t.dtype) for t in leaves])


class RangeArgs:
    """The arguments of a ``gt.range`` call that a converted ``for`` iterates over: a graph
    loop counts them without building the range, so symbolic bounds work."""

    def __init__(self, args: tuple, kwargs: dict) -> None:
        self.args, self.kwargs = args, kwargs

    def tensor(self) -> Tensor:
        from gputensor.ops.array_ops import range as gt_range

        return gt_range(*self.args, **self.kwargs)


def for_iterable(fn: Any, args: tuple, kwargs: dict) -> Any:
    """The iterable of ``for x in fn(*args, **kwargs)``: a call of ``gt.range`` stays
    unevaluated (`RangeArgs`), anything else is called (converted when user code)."""
    from gputensor.ops.array_ops import range as gt_range

    if fn is gt_range:
        return RangeArgs(args, kwargs)
    from gputensor.graph.autograph.api import converted_call

    return converted_call(fn, args, kwargs)


def for_stmt(
    iterable: Any,
    extra_test: Callable | None,
    body: Callable,
    values: tuple,
    names: tuple,
    live: tuple,
    site: tuple,
) -> tuple:
    """A converted ``for``: a While node over ``gt.range`` or a tensor while a graph is traced,
    else a Python loop (Python iterables are unrolled at trace time, as in TF).

    Args:
      iterable: what the loop iterates over (`RangeArgs` for a ``gt.range(...)`` call).
      extra_test: None, or the loop's `break`/`return` flags' test on its variables.
      body: takes the element then the variables, returns the variables.
      values, names, live, site: as `while_stmt`.
    """
    graph = state.graph
    values = tuple(values)
    if graph is not None and (isinstance(iterable, RangeArgs) or isinstance(iterable, Tensor)):
        return _tensor_for(iterable, extra_test, body, values, names, live, site)
    if isinstance(iterable, RangeArgs):
        iterable = iterable.tensor()
    for item in iterable:
        if extra_test is not None:
            go = extra_test(*values)
            if is_symbolic(go):
                raise ConversionError(
                    f"{_where(site)}: this `for` loop iterates over a Python {type(iterable).__name__}, but "
                    "a `break` or `return` in it depends on a tensor; iterate over gt.range(...) (or a "
                    "tensor) so the loop becomes a graph loop"
                )
            if not go:
                break
        values = tuple(body(item, *values))
    return values


def _tensor_for(
    iterable: Any,
    extra_test: Callable | None,
    body: Callable,
    values: tuple,
    names: tuple,
    live: tuple,
    site: tuple,
) -> tuple:
    from gputensor.ops.array_ops import gather, where
    from gputensor.ops.math_ops import cast, greater, less, logical_and

    if isinstance(iterable, RangeArgs):
        start, limit, delta, dtype = _range_bounds(iterable)
        counter = cast(start, dtype)

        def element(i: Tensor) -> Tensor:
            return i

        def more(i: Tensor) -> Tensor:
            if isinstance(delta, (int, float)):
                return less(i, limit) if delta > 0 else greater(i, limit)
            return where(greater(delta, cast(0, dtype)), less(i, limit), greater(i, limit))

        step = delta
    else:
        if iterable.ndim == 0:
            raise ConversionError(f"{_where(site)}: this `for` loop iterates over a scalar tensor")
        n = int(iterable.shape[0])
        counter = convert_to_tensor(0)

        def element(i: Tensor) -> Tensor:
            return gather(iterable, i)

        def more(i: Tensor) -> Tensor:
            return less(i, n)

        step = 1
    counter_name = "ag__for_counter"

    def test(i: Tensor, *vals: Any) -> Any:
        go = more(i)
        if extra_test is not None:
            go = logical_and(go, _as_bool(extra_test(*vals)))
        return go

    def step_body(i: Tensor, *vals: Any) -> tuple:
        return (i + step, *body(element(i), *vals))

    out = _graph_loop(
        test, step_body, (counter, *values), (counter_name, *names), (counter_name, *live), site, "for"
    )
    return tuple(out[1:])


def _range_bounds(r: RangeArgs) -> tuple:
    from gputensor.ops.array_ops import _RANGE_ORDER
    from gputensor.ops.math_ops import cast

    args = list(r.args)
    kwargs = dict(r.kwargs)
    names = ["start", "limit", "delta", "dtype"]
    for k in list(kwargs):
        if k in names and k != "name":
            while len(args) < names.index(k):
                args.append(None)
            if len(args) == names.index(k):
                args.append(kwargs.pop(k))
    start, limit, delta, dtype = (args + [None] * 4)[:4]
    if limit is None:
        start, limit = 0, start
    delta = 1 if delta is None else delta
    bounds = [start, limit, delta]
    if dtype is None:
        dtype = max((convert_to_tensor(v).dtype for v in bounds), key=_RANGE_ORDER.index)
    dtype = dtypes.as_dtype(dtype)
    conv = [v if isinstance(v, (int, float)) and not isinstance(v, bool) else cast(v, dtype) for v in bounds]
    return conv[0], conv[1], conv[2], dtype
