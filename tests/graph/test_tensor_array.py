"""gt.TensorArray (eager, traced, as a loop variable, gradients) and gt.init_scope."""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt
from gputensor.autodiff import nest

GUIDE = [
    [[0, 1, 2, 3], [4, 6, 8, 10], [12, 15, 18, 21]],
    [[12, 13, 14, 15], [28, 30, 32, 34], [48, 51, 54, 57]],
]


def _dynamic_rnn(rnn_step, input_data, initial_state):
    # The tf.function guide's "Accumulating values in a loop" example, unchanged but for tf -> gt.
    input_data = gt.transpose(input_data, [1, 0, 2])
    max_seq_len = input_data.shape[0]
    states = gt.TensorArray(gt.float32, size=max_seq_len)
    state = initial_state
    for i in gt.range(max_seq_len):
        state = rnn_step(input_data[i], state)
        states = states.write(i, state)
    return gt.transpose(states.stack(), [1, 0, 2])


def _guide_args():
    return (lambda inp, state: inp + state, gt.reshape(gt.range(24.0), [2, 3, 4]), gt.zeros([2, 4]))


def test_the_function_guides_dynamic_rnn_prints_tfs_numbers(device):
    traced = gt.function(_dynamic_rnn)(*_guide_args())
    eager = _dynamic_rnn(*_guide_args())
    np.testing.assert_array_equal(traced.numpy(), np.array(GUIDE, np.float32))
    np.testing.assert_array_equal(eager.numpy(), np.array(GUIDE, np.float32))
    assert traced.shape == (2, 3, 4) and traced.dtype == gt.float32
    # NumPy reference: the running sum over the time axis.
    ref = np.cumsum(np.arange(24.0, dtype=np.float32).reshape(2, 3, 4), axis=1)
    np.testing.assert_array_equal(traced.numpy(), ref)


def test_the_guide_example_is_one_while_node_not_an_unrolled_loop():
    f = gt.function(_dynamic_rnn)
    graph = f.get_concrete_function(*_guide_args()).graph
    types = [op.type for op in graph.get_operations()]
    assert types.count("While") == 1
    assert "tensor_scatter_nd_update" not in types  # the writes live in the body


def test_eager_write_read_stack_size_match_numpy():
    ref = np.arange(12, dtype=np.float32).reshape(4, 3)
    ta = gt.TensorArray(gt.float32, size=4)
    assert ta.element_shape.rank is None and ta.dtype == gt.float32
    for i in range(4):
        ta = ta.write(i, ref[i])
    assert ta.element_shape.as_list() == [3]
    assert int(ta.size()) == 4 and ta.size().dtype == gt.int32
    np.testing.assert_array_equal(ta.stack().numpy(), ref)
    np.testing.assert_array_equal(ta.read(2).numpy(), ref[2])
    np.testing.assert_array_equal(ta.gather([3, 0]).numpy(), ref[[3, 0]])
    np.testing.assert_array_equal(ta.concat().numpy(), ref.reshape(-1))


def test_eager_write_updates_in_place_as_tfs_eager_tensor_array():
    ta = gt.TensorArray(gt.int32, size=2)
    ta.write(0, 5)  # the result is not used: eagerly the array still holds it (TF's eager too)
    ta.write(1, 7)
    np.testing.assert_array_equal(ta.stack().numpy(), [5, 7])


def test_unwritten_elements_read_as_zeros_and_element_shape_fixes_them():
    ta = gt.TensorArray(gt.float32, size=3, element_shape=[2])
    ta = ta.write(1, [1.0, 2.0])
    np.testing.assert_array_equal(ta.stack().numpy(), [[0, 0], [1, 2], [0, 0]])
    empty = gt.TensorArray(gt.float32, size=2, element_shape=[2])
    np.testing.assert_array_equal(empty.stack().numpy(), np.zeros((2, 2)))
    assert gt.TensorArray(gt.float32, size=0, dynamic_size=True).stack().shape == (0,)


def test_unstack_scatter_gather_concat_match_numpy():
    x = np.random.default_rng(0).standard_normal((5, 2, 3)).astype(np.float32)
    ta = gt.TensorArray(gt.float32, size=5).unstack(x)
    np.testing.assert_array_equal(ta.stack().numpy(), x)
    np.testing.assert_array_equal(ta.gather([4, 1, 1]).numpy(), x[[4, 1, 1]])
    np.testing.assert_array_equal(ta.concat().numpy(), x.reshape(10, 3))
    sc = gt.TensorArray(gt.float32, size=5).scatter([4, 0], x[:2])
    want = np.zeros_like(x)
    want[[4, 0]] = x[:2]
    np.testing.assert_array_equal(sc.stack().numpy(), want)
    sp = gt.TensorArray(gt.float32, size=3).split(np.arange(6.0, dtype=np.float32), [2, 2, 2])
    np.testing.assert_array_equal(sp.stack().numpy(), np.arange(6.0).reshape(3, 2))


def test_dynamic_size_grows_eagerly_and_with_python_indices_in_a_function():
    ta = gt.TensorArray(gt.float32, size=0, dynamic_size=True)
    for i in range(3):
        ta = ta.write(i, float(i * i))
    ta = ta.write(5, 1.0)
    np.testing.assert_array_equal(ta.stack().numpy(), [0, 1, 4, 0, 0, 1])
    assert int(ta.size()) == 6

    @gt.function
    def f(x):
        t = gt.TensorArray(gt.float32, size=0, dynamic_size=True)
        for i in range(3):  # a Python loop: unrolled, each index known at trace time
            t = t.write(i, x * i)
        return t.stack()

    np.testing.assert_array_equal(f(gt.constant(2.0)).numpy(), [0, 2, 4])


def _accumulate(x):
    ta = gt.TensorArray(gt.float32, size=x.shape[0])
    acc = gt.zeros_like(x[0])
    for i in gt.range(x.shape[0]):
        acc = acc * 0.5 + x[i]
        ta = ta.write(i, gt.tanh(acc))
    return ta.stack()


def _accumulate_plain(x):
    rows, acc = [], gt.zeros_like(x[0])
    for i in range(x.shape[0]):
        acc = acc * 0.5 + x[i]
        rows.append(gt.tanh(acc))
    return gt.stack(rows)


def test_traced_loop_equals_eager_and_plain_tensors():
    x = gt.constant(np.random.default_rng(1).standard_normal((6, 3)).astype(np.float32))
    traced = gt.function(_accumulate)(x)
    np.testing.assert_allclose(traced.numpy(), _accumulate(x).numpy(), rtol=1e-6)
    np.testing.assert_allclose(traced.numpy(), _accumulate_plain(x).numpy(), rtol=1e-6)


def test_gradients_through_write_and_stack_eager_and_with_a_tape_around_and_inside(device):
    x = gt.constant(np.random.default_rng(2).standard_normal((5, 2)).astype(np.float32))
    w = gt.constant(np.linspace(-1, 1, 10).reshape(5, 2).astype(np.float32))
    with gt.GradientTape() as tape:
        tape.watch(x)
        want = tape.gradient(gt.reduce_sum(_accumulate_plain(x) * w), x)
    for run in (_accumulate, gt.function(_accumulate)):
        with gt.GradientTape() as tape:
            tape.watch(x)
            loss = gt.reduce_sum(run(x) * w)
        np.testing.assert_allclose(tape.gradient(loss, x).numpy(), want.numpy(), rtol=1e-5, atol=1e-6)

    @gt.function
    def inside(x):
        with gt.GradientTape() as tape:
            tape.watch(x)
            loss = gt.reduce_sum(_accumulate(x) * w)
        return tape.gradient(loss, x)

    np.testing.assert_allclose(inside(x).numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


def test_gradients_through_read_and_unstack():
    x = gt.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])

    def f(x):
        ta = gt.TensorArray(gt.float32, size=3).unstack(x * x)
        return ta.read(0) * 3.0 + ta.read(2)

    with gt.GradientTape() as tape:
        tape.watch(x)
        y = gt.reduce_sum(f(x))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [[6, 12], [0, 0], [10, 12]])

    @gt.function
    def g(x):
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = gt.reduce_sum(f(x))
        return tape.gradient(y, x)

    np.testing.assert_allclose(g(x).numpy(), [[6, 12], [0, 0], [10, 12]])


def test_a_tensor_array_is_a_loop_variable_of_while_loop_eager_and_traced():
    def run(n):
        ta = gt.TensorArray(gt.int32, size=n)
        _, ta = gt.while_loop(
            lambda i, t: i < n, lambda i, t: (i + 1, t.write(i, i * i)), (gt.constant(0), ta)
        )
        return ta.stack()

    np.testing.assert_array_equal(run(4).numpy(), [0, 1, 4, 9])
    np.testing.assert_array_equal(gt.function(run)(4).numpy(), [0, 1, 4, 9])


def test_a_none_leading_dim_sizes_the_array_at_run_time(device):
    @gt.function(input_signature=[gt.TensorSpec([None, 3])])
    def f(x):
        n = gt.shape(x)[0]
        ta = gt.TensorArray(gt.float32, size=n)
        for i in gt.range(n):
            ta = ta.write(i, x[i] * gt.cast(i, gt.float32))
        return ta.stack(), ta.size()

    for rows in (1, 4):
        x = np.arange(rows * 3, dtype=np.float32).reshape(rows, 3)
        out, size = f(x)
        np.testing.assert_array_equal(out.numpy(), x * np.arange(rows, dtype=np.float32)[:, None])
        assert int(size) == rows
    assert f.experimental_get_tracing_count() == 1


def test_nest_sees_a_tensor_array_as_its_buffer():
    ta = gt.TensorArray(gt.float32, size=2).write(0, [1.0, 2.0])
    leaves = nest.flatten({"a": ta, "b": 3})
    assert len(leaves) == 2 and leaves[0].shape == (2, 2)
    back = nest.pack_sequence_as({"a": ta, "b": 3}, [leaves[0] * 2.0, 4])
    np.testing.assert_array_equal(back["a"].stack().numpy(), [[2, 4], [0, 0]])
    assert nest.flatten(gt.TensorArray(gt.float32, size=2)) == []


def test_a_tensor_array_is_a_function_argument_and_return_value():
    @gt.function
    def double(ta):
        return ta.stack() * 2.0

    np.testing.assert_array_equal(
        double(gt.TensorArray(gt.float32, size=2).write(0, [1.0])).numpy(), [[2], [0]]
    )
    np.testing.assert_array_equal(
        double(gt.TensorArray(gt.float32, size=2).write(1, [5.0])).numpy(), [[0], [10]]
    )
    assert double.experimental_get_tracing_count() == 1  # traced as its tensor, not frozen

    @gt.function
    def make(x):
        return gt.TensorArray(gt.float32, size=2).write(1, x)

    out = make(gt.constant([3.0]))
    assert isinstance(out, gt.TensorArray)
    np.testing.assert_array_equal(out.stack().numpy(), [[0], [3]])


def test_bad_writes_and_reads_raise_tfs_errors():
    ta = gt.TensorArray(gt.float32, size=2)
    with pytest.raises(
        gt.errors.InvalidArgumentError, match="dtype is float32 but Op is trying to write dtype int32"
    ):
        ta.write(0, gt.constant([1, 2]))
    ta = ta.write(0, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"Incompatible shape for value \(\(3,\)\), expected \(\(2,\)\)"):
        ta.write(1, [1.0, 2.0, 3.0])
    with pytest.raises(gt.errors.InvalidArgumentError, match="not resizeable and size is: 2"):
        ta.write(2, [1.0, 2.0])
    with pytest.raises(gt.errors.InvalidArgumentError, match="array size is: 2"):
        ta.read(5)
    ta.read(0)
    with pytest.raises(gt.errors.InvalidArgumentError, match="twice"):
        ta.read(0)
    with pytest.raises(ValueError, match="size must be given"):
        gt.TensorArray(gt.float32)
    with pytest.raises(ValueError, match="Cannot unstack 3 tensors into a TensorArray of static size 2"):
        gt.TensorArray(gt.float32, size=2).unstack(gt.zeros([3]))
    with pytest.raises(gt.errors.InvalidArgumentError, match="element shape is not fully defined"):
        gt.TensorArray(gt.float32, size=2).read(0)
    with pytest.raises(gt.errors.InvalidArgumentError, match="scalar"):
        gt.TensorArray(gt.float32, size=1).write(0, 1.0).concat()


def test_bad_writes_raise_while_traced_too():
    @gt.function
    def wrong_shape(x):
        ta = gt.TensorArray(gt.float32, size=3)
        for i in gt.range(3):
            ta = ta.write(i, x)
        return ta.write(0, gt.concat([x, x], 0)).stack()

    with pytest.raises(ValueError, match="Incompatible shape"):
        wrong_shape(gt.constant([1.0]))


def _grow(x, n):
    ta = gt.TensorArray(gt.float32, size=0, dynamic_size=True)
    for i in gt.range(n):
        ta = ta.write(i, x * gt.cast(i + 1, gt.float32))
    return ta.stack(), ta.size()


def test_dynamic_size_grows_in_a_graph_loop_at_run_time_indices(device):
    f = gt.function(_grow)
    x = gt.constant([1.0, 2.0])
    for n in (0, 1, 4):
        got, size = f(x, gt.constant(n))
        want = np.arange(1, n + 1, dtype=np.float32)[:, None] * np.array([1.0, 2.0], np.float32)
        np.testing.assert_array_equal(got.numpy().reshape(-1, 2), want)
        assert int(size) == n
        eager, _ = _grow(x, gt.constant(n))
        np.testing.assert_array_equal(eager.numpy().reshape(-1, 2), want)
    assert f.experimental_get_tracing_count() == 1
    assert f.get_concrete_function(x, gt.constant(1)).structured_outputs[0].shape.as_list() == [None, 2]

    @gt.function
    def w(n):
        ta = gt.TensorArray(gt.int32, size=1, dynamic_size=True, element_shape=[])
        _, ta = gt.while_loop(
            lambda i, t: i < n, lambda i, t: (i + 1, t.write(i, i * i)), (gt.constant(0), ta)
        )
        return ta.stack()

    np.testing.assert_array_equal(w(gt.constant(5)).numpy(), [0, 1, 4, 9, 16])


def test_a_growing_array_differentiates_with_a_tape_around_the_call_and_inside():
    x = gt.constant([1.0, 2.0, 3.0])
    f = gt.function(_grow)
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = gt.reduce_sum(f(x, gt.constant(3))[0])
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [6.0, 6.0, 6.0])  # 1 + 2 + 3

    @gt.function
    def inside(x):
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = gt.reduce_sum(_grow(x, gt.constant(3))[0])
        return tape.gradient(y, x)

    # More cases: tests/graph/test_tensor_array_growth_grad.py.
    np.testing.assert_allclose(inside(x).numpy(), [6.0, 6.0, 6.0])


# ------------------------------------------------------------------ init_scope
def test_init_scope_runs_eagerly_once_per_trace_and_pauses_tapes():
    made = []

    @gt.function
    def f(x):
        assert not gt.executing_eagerly()
        with gt.init_scope():
            assert gt.executing_eagerly()
            c = gt.constant(3.0) * 2.0  # an eager value: it becomes a constant of the graph
            made.append(c.numpy())
        return x * c

    assert gt.executing_eagerly()
    np.testing.assert_allclose(f(gt.constant(1.0)).numpy(), 6.0)
    np.testing.assert_allclose(f(gt.constant(2.0)).numpy(), 12.0)
    assert made == [6.0]  # traced once: the scope ran once
    x = gt.constant(2.0)
    with gt.GradientTape(persistent=True) as tape:
        tape.watch(x)
        with gt.init_scope():
            y = x * x  # not recorded
        z = x * 3.0
    assert tape.gradient(y, x) is None
    assert float(tape.gradient(z, x)) == 3.0


def test_init_scope_creates_a_variable_once_inside_a_function():
    holder = {}

    @gt.function
    def f(x):
        if "v" not in holder:
            with gt.init_scope():
                holder["v"] = gt.Variable(gt.ones([2]))
        holder["v"].assign_add(x)
        return holder["v"].read_value()

    np.testing.assert_allclose(f(gt.constant([1.0, 2.0])).numpy(), [2, 3])
    np.testing.assert_allclose(f(gt.constant([1.0, 2.0])).numpy(), [3, 5])
