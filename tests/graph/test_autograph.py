"""AutoGraph: Python control flow on tensors inside gt.function becomes If/While nodes.

Each case is a plain Python function and inputs that take each of its paths; the
gt.function of it must give what the same function gives run eagerly (Python
control flow on eager tensors), and its graph must hold If/While nodes exactly when
a condition is a tensor.
"""

from __future__ import annotations

import io
import traceback
import warnings

import numpy as np
import pytest

import gputensor as gt
from gputensor.graph.autograph import api, operators

SCALE = 3.0  # a global the converted functions read


# ---------------------------------------------------------------- the cases
def if_else(x):
    if gt.reduce_sum(x) > 0:
        y = x * 2.0
    else:
        y = -x
    return y


def if_elif_else(x):
    s = gt.reduce_sum(x)
    if s > 10.0:
        y = x - 10.0
    elif s > 0.0:
        y = x * 2.0
    elif s > -5.0:
        y = x * 0.0
    else:
        y = -x
    return y


def if_without_else(x):
    y = x
    if gt.reduce_max(x) > 1.0:
        y = y / gt.reduce_max(x)
    return y


def if_on_a_python_value(x, double):
    if double:
        x = x * 2.0
    return x


def temporaries_in_one_branch(x):
    if gt.reduce_sum(x) > 0:
        t = x * 2.0  # read only in this branch: not an output of the cond
        y = t + 1.0
    else:
        y = x
    return y


def boolean_operators(x, y):
    if gt.reduce_sum(x) > 0 and not gt.reduce_sum(y) > 0 or gt.reduce_max(x) > 5.0:
        z = x + y
    else:
        z = x - y
    return z


def lazy_python_and(x, n):
    if n is not None and n > 2:  # Python values: `n > 2` must not run when n is None
        x = x * n
    return x


def early_return(x):
    if gt.reduce_sum(x) > 0:
        return x * SCALE
    y = -x
    return y + 1.0


def nested_early_return(x):
    if gt.reduce_sum(x) > 0:
        if gt.reduce_max(x) > 2.0:
            return x * 0.5
        x = x + 1.0
    return x * 2.0


def while_tensor_condition(x):
    # tf.function guide, "AutoGraph transformations" (tf -> gt)
    while gt.reduce_sum(x) > 1:
        x = gt.tanh(x)
    return x


def while_with_python_counter(n):
    i = 0  # a Python int loop variable of a tensor loop becomes a tensor, as in TF
    total = 0
    while i < n:
        total += i * i
        i += 1
    return total, i


def while_with_break_and_continue(n):
    i = gt.constant(0)
    s = gt.constant(0)
    while i < n:
        i += 1
        if i % 3 == 0:
            continue
        if s > 20:
            break
        s += i
    return s


def for_over_range(n):
    s = 0
    for i in gt.range(n):
        if i % 2 == 0:
            continue
        if i > 7:
            break
        s += i
    return s


def for_over_range_with_start_and_delta(n):
    s = 0.0
    for i in gt.range(n, 0, -2):
        s = s * 0.5 + gt.cast(i, gt.float32)
    return s


def for_over_a_tensor(x):
    best = gt.zeros_like(x[0])
    for row in x:
        if gt.reduce_sum(row) > gt.reduce_sum(best):
            best = row
    return best


def for_with_return(x):
    for row in x:
        if gt.reduce_sum(row) > 2.0:
            return row * 10.0
    return gt.zeros_like(x[0])


def python_loop_with_tensor_if(x):
    for k in range(3):  # a Python loop: unrolled at trace time
        if gt.reduce_sum(x) > k:
            x = x - 1.0
    return x


def nested_loops(n):
    total = 0
    for i in gt.range(n):
        j = 0
        while j < i:
            if (i + j) % 2 == 0:
                total += j
            j += 1
    return total


def for_else(n):
    found = -1
    for i in gt.range(n):
        if i * i > 10:
            found = i
            break
    else:
        found = 100
    return found


def _helper(x):
    if gt.reduce_sum(x) > 0:  # user code called by the function: converted too
        return x + 1.0
    return x - 1.0


def calls_a_user_function(x):
    return _helper(x) * 2.0


_helper_function = gt.function(_helper)


def calls_a_gt_function(x):
    return _helper_function(x) * 2.0  # inlined into the caller's graph, converted


class _Clip:
    def __call__(self, x):
        if gt.reduce_max(x) > 1.0:  # a callable object's __call__ converts too
            x = x / gt.reduce_max(x)
        return x


_clip = _Clip()


def calls_a_callable_object(x):
    return _clip(x) + 1.0


def closure_and_global(x):
    offset = gt.constant(0.5)

    def inner(v):
        if gt.reduce_sum(v) > offset:
            v = v * SCALE + offset
        return v

    return inner(x)


CASES = [
    # (function, argument tuples taking each path, node types expected, node types not expected)
    (if_else, [(np.array([1.0, 2.0]),), (np.array([-1.0, -2.0]),)], {"If"}, set()),
    (if_elif_else, [(np.array([v, 1.0]),) for v in (20.0, 1.0, -3.0, -20.0)], {"If"}, set()),
    (if_without_else, [(np.array([0.5, 4.0]),), (np.array([0.5, 0.2]),)], {"If"}, set()),
    (if_on_a_python_value, [(np.array([1.0]), True), (np.array([1.0]), False)], set(), {"If"}),
    (temporaries_in_one_branch, [(np.array([1.0]),), (np.array([-1.0]),)], {"If"}, set()),
    (
        boolean_operators,
        [(np.array([1.0]), np.array([-1.0])), (np.array([1.0]), np.array([1.0])), (np.array([6.0]), np.array([1.0]))],
        {"If", "logical_and", "logical_or", "logical_not"},
        set(),
    ),
    (lazy_python_and, [(np.array([1.0]), None), (np.array([1.0]), 3), (np.array([1.0]), 1)], set(), {"If"}),
    (early_return, [(np.array([1.0]),), (np.array([-1.0]),)], {"If"}, set()),
    (nested_early_return, [(np.array([3.0]),), (np.array([1.0]),), (np.array([-1.0]),)], {"If"}, set()),
    (while_tensor_condition, [(np.array([5.0, 5.0]),), (np.array([0.1, 0.2]),)], {"While"}, set()),
    (while_with_python_counter, [(np.int32(0),), (np.int32(6),)], {"While"}, set()),
    (while_with_break_and_continue, [(np.int32(4),), (np.int32(30),)], {"While", "If"}, set()),
    (for_over_range, [(np.int32(0),), (np.int32(5),), (np.int32(20),)], {"While", "If"}, set()),
    (for_over_range_with_start_and_delta, [(np.int32(9),), (np.int32(1),)], {"While"}, set()),
    (for_over_a_tensor, [(np.array([[1.0, 0.0], [3.0, 1.0], [-5.0, 5.0]]),)], {"While", "If"}, set()),
    (for_with_return, [(np.array([[1.0, 0.0], [3.0, 1.0]]),), (np.array([[1.0, 0.0], [0.0, 1.0]]),)], {"While"}, set()),
    (python_loop_with_tensor_if, [(np.array([5.0]),), (np.array([0.5]),)], {"If"}, {"While"}),
    (nested_loops, [(np.int32(0),), (np.int32(7),)], {"While", "If"}, set()),
    (for_else, [(np.int32(3),), (np.int32(9),)], {"While", "If"}, set()),
    (calls_a_user_function, [(np.array([1.0]),), (np.array([-1.0]),)], {"If"}, set()),
    (calls_a_gt_function, [(np.array([1.0]),), (np.array([-1.0]),)], {"If"}, set()),
    (calls_a_callable_object, [(np.array([3.0]),), (np.array([0.5]),)], {"If"}, set()),
    (closure_and_global, [(np.array([1.0]),), (np.array([-1.0]),)], {"If"}, set()),
]  # fmt: skip


def _tensors(args: tuple) -> tuple:
    return tuple(gt.constant(a.astype(np.float32) if a.dtype == np.float64 else a) if isinstance(a, (np.ndarray, np.generic)) else a for a in args)  # fmt: skip


def _numpy(result):
    if isinstance(result, (tuple, list)):
        return [_numpy(r) for r in result]
    return np.asarray(result.numpy() if isinstance(result, gt.Tensor) else result)


def _node_types(concrete) -> set:
    types = set()
    todo = list(concrete.graph.get_operations())
    while todo:
        op = todo.pop()
        types.add(op.type)
        for branch in ("true", "false", "cond", "body"):  # ops inside If/While nodes
            b = getattr(op.value, branch, None)
            if b is not None and hasattr(b, "graph"):
                todo.extend(
                    b.graph.get_operations() if hasattr(b.graph, "get_operations") else b.graph.operations
                )
    return types


@pytest.mark.parametrize("fn, inputs, present, absent", CASES, ids=[c[0].__name__ for c in CASES])
def test_converted_function_matches_the_python_function_run_eagerly(fn, inputs, present, absent):
    compiled = gt.function(fn)
    for args in inputs:
        expected = _numpy(fn(*_tensors(args)))
        got = _numpy(compiled(*_tensors(args)))
        np.testing.assert_allclose(
            np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64), rtol=1e-6
        )
        types = _node_types(compiled.get_concrete_function(*_tensors(args)))
        assert present <= types, f"{fn.__name__}{args}: expected {present} among {types}"
        assert not absent & types, f"{fn.__name__}{args}: did not expect {absent & types}"


def test_run_functions_eagerly_runs_the_original_python():
    compiled = gt.function(if_else)
    gt.config.run_functions_eagerly(True)
    try:
        np.testing.assert_allclose(compiled(gt.constant([-1.0])).numpy(), [1.0])
    finally:
        gt.config.run_functions_eagerly(False)
    assert compiled.experimental_get_tracing_count() == 0


def test_graph_decides_at_every_call_without_retracing():
    compiled = gt.function(for_over_range)
    for n in (0, 3, 5, 11, 20):
        assert int(compiled(gt.constant(n))) == int(for_over_range(gt.constant(n)))
    assert compiled.experimental_get_tracing_count() == 1


# ------------------------------------------------------ printing (TF's guide)
def fizzbuzz(n, out):
    for i in gt.range(1, n + 1):
        print("Tracing for loop")
        if i % 15 == 0:
            gt.print("FizzBuzz", output_stream=out)
        elif i % 3 == 0:
            gt.print("Fizz", output_stream=out)
        elif i % 5 == 0:
            gt.print("Buzz", output_stream=out)
        else:
            gt.print(i, output_stream=out)


def test_fizzbuzz_prints_every_iteration_at_run_time_and_python_print_at_trace_time(capsys):
    out = io.StringIO()
    compiled = gt.function(fizzbuzz)
    compiled(gt.constant(15), out)
    assert capsys.readouterr().out == "Tracing for loop\n"  # the body is traced once
    expected = ["FizzBuzz" if i % 15 == 0 else "Fizz" if i % 3 == 0 else "Buzz" if i % 5 == 0 else str(i) for i in range(1, 16)]  # fmt: skip
    assert out.getvalue().split("\n")[:-1] == expected
    out.truncate(0), out.seek(0)
    compiled(gt.constant(5), out)
    assert out.getvalue().split("\n")[:-1] == expected[:5] and capsys.readouterr().out == ""


def printing_while(x, out):
    while gt.reduce_sum(x) > 1:
        gt.print(x, output_stream=out)
        x = gt.tanh(x)
    return x


def test_gt_print_in_a_while_loop_prints_each_iteration():
    out = io.StringIO()
    gt.function(printing_while)(gt.constant([5.0, 5.0]), out)
    eager = io.StringIO()
    printing_while(gt.constant([5.0, 5.0]), eager)
    assert out.getvalue() == eager.getvalue() and out.getvalue().count("\n") == 6


# ---------------------------------------------------------- methods, caching
class Gate(gt.Module):
    def __init__(self):
        super().__init__()
        self.w = gt.Variable([2.0, -1.0])

    @gt.function
    def __call__(self, x):
        if gt.reduce_sum(x * self.w) > 0:
            return x * self.w
        return super().__class__.__name__ and -x  # Python `and` on Python values

    def plain(self, x):
        y = x
        for _ in gt.range(3):
            y = y * self.w
        return y


def test_methods_convert_with_self_bound():
    gate = Gate()
    x, y = gt.constant([1.0, 0.0]), gt.constant([0.0, 1.0])
    np.testing.assert_allclose(gate(x).numpy(), [2.0, 0.0])
    np.testing.assert_allclose(gate(y).numpy(), [0.0, -1.0])
    assert "If" in _node_types(gate.__call__.get_concrete_function(x))
    bound = gt.function(gate.plain)
    np.testing.assert_allclose(bound(x).numpy(), gate.plain(x).numpy())
    assert "While" in _node_types(bound.get_concrete_function(x))


def test_conversion_is_cached_per_function():
    assert api.convert(if_else) is api.convert(if_else)
    code = api.convert(if_else).__code__
    compiled = gt.function(if_else)
    compiled(gt.constant([1.0]))
    compiled(gt.constant([1.0, 2.0]))  # a second trace does not parse again
    assert compiled._traced_function().__code__ is code
    assert api.convert(gt.reduce_sum) is gt.reduce_sum  # library code is not converted


def test_nonlocal_and_global_writes_in_converted_branches_reach_the_original_scopes():
    global SCALE
    traced = []

    def f(x):
        global SCALE
        if gt.reduce_sum(x) > 0:
            traced.append("if")  # Python side effects run as each branch is traced
            SCALE = 4.0
            y = x * 2.0
        else:
            y = -x
        return y

    try:
        np.testing.assert_allclose(gt.function(f)(gt.constant([-2.0])).numpy(), [2.0])
        assert traced == ["if"] and SCALE == 4.0
    finally:
        SCALE = 3.0


def test_autograph_false_leaves_python_if_unconverted():
    with pytest.raises(TypeError, match="as a Python bool"):
        gt.function(if_else, autograph=False)(gt.constant([1.0]))


def test_unreadable_source_runs_unconverted_with_one_warning():
    namespace: dict = {"gt": gt}
    exec("def made(x):\n    if x > 0:\n        return x\n    return -x\n", namespace)
    compiled = gt.function(namespace["made"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(TypeError, match="as a Python bool"):
            compiled(gt.constant(1.0))
        with pytest.raises(TypeError):
            gt.function(namespace["made"])(gt.constant([1.0]))
    assert len([w for w in caught if "could not convert" in str(w.message)]) == 1
    assert float(gt.function(namespace["made"])(2.0)) == 2.0  # Python values still work


def test_tracebacks_point_at_the_users_line():
    def bad(x):
        if gt.reduce_sum(x) > 0:
            y = gt.reshape(x, [7])  # fails while the branch is traced
        else:
            y = x
        return y

    line = bad.__code__.co_firstlineno + 2
    with pytest.raises(Exception) as info:
        gt.function(bad)(gt.constant([1.0, 2.0]))
    frames = [(f.filename, f.lineno) for f in traceback.extract_tb(info.value.__traceback__)]
    assert (__file__, line) in frames


# ------------------------------------------------------------------- errors
def only_in_one_branch(x):
    if gt.reduce_sum(x) > 0:
        y = x * 2.0
    return y


def changes_shape(x):
    while gt.reduce_sum(x) < 3.0:
        x = gt.concat([x, gt.ones([1])], 0)
    return x


def changes_dtype(n):
    s = gt.constant(0)
    for i in gt.range(n):
        s = gt.cast(s, gt.float32) + 1.0
    return s


def undefined_before_loop(n):
    i = 0
    while i < n:
        last = i * 2
        i += 1
    return last


def python_loop_with_tensor_break(x):
    for k in range(3):
        if gt.reduce_sum(x) > k:
            break
        x = x + 1.0
    return x


def vector_condition(x):
    if x > 0:
        x = -x
    return x


def different_python_values(x):
    if gt.reduce_sum(x) > 0:
        mode = "up"
    else:
        mode = "down"
    return x, mode


ERRORS = [
    # (function, argument, line offset from `def`, what the message must say)
    (only_in_one_branch, np.array([1.0]), 1, "'y' must also be initialized in the else branch"),
    (changes_shape, np.array([1.0]), 1, r"'x' enters this `while` loop as float32\[1\] but an iteration makes it float32\[2\]"),
    (changes_dtype, np.int32(3), 2, "'s' enters this `for` loop as int32.* makes it float32"),
    (undefined_before_loop, np.int32(3), 2, "'last' must be defined before this `while` loop"),
    (python_loop_with_tensor_break, np.array([1.0]), 1, r"iterate over gt.range"),
    (vector_condition, np.array([1.0, 2.0]), 1, "must be a scalar bool"),
    (different_python_values, np.array([1.0]), 1, "'mode' is the Python value 'up' in the if branch and 'down'"),
]  # fmt: skip


@pytest.mark.parametrize("fn, arg, offset, message", ERRORS, ids=[e[0].__name__ for e in ERRORS])
def test_unconvertible_statements_raise_naming_the_variable_and_line(fn, arg, offset, message):
    line = fn.__code__.co_firstlineno + offset
    with pytest.raises(operators.ConversionError, match=f'test_autograph.py", line {line}: .*{message}'):
        gt.function(fn)(*_tensors((arg,)))


def unassigned_on_a_python_path(x, flag):
    if flag:
        y = x
    return y


def test_a_variable_unassigned_on_the_python_path_taken_raises_as_python_would():
    with pytest.raises(UnboundLocalError):
        unassigned_on_a_python_path(gt.constant(1.0), False)
    compiled = gt.function(unassigned_on_a_python_path)
    assert float(compiled(gt.constant(1.0), True)) == 1.0
    with pytest.raises(UnboundLocalError, match="'y'"):
        compiled(gt.constant(1.0), False)


def test_a_tape_inside_differentiates_converted_if_and_while(rng):
    @gt.function
    def grad(x):
        with gt.GradientTape() as tape:
            tape.watch(x)
            if gt.reduce_sum(x) > 0:
                y = x * x
            else:
                y = -x
            i = gt.constant(0)
            while i < 3:
                y = gt.sin(y)
                i += 1
            s = gt.reduce_sum(y)
        return tape.gradient(s, x)

    def want(xv):  # d/dx sum(sin(sin(sin(g(x))))), g = x^2 or -x
        g, dg = (xv * xv, 2 * xv) if xv.sum() > 0 else (-xv, -np.ones_like(xv))
        d = dg
        for _ in range(3):
            d, g = d * np.cos(g), np.sin(g)
        return d

    for xv in (rng.standard_normal(3) + 2.0, rng.standard_normal(3) - 2.0):
        np.testing.assert_allclose(grad(gt.constant(xv)).numpy(), want(xv), rtol=1e-12)
    types = [op.type for op in grad.get_concrete_function(gt.constant(xv)).graph.get_operations()]
    assert "If" in types and "While" in types
    assert grad.experimental_get_tracing_count() == 1
