"""gt.TensorArray with elements of differing shapes (infer_shape=False, split into unequal
lengths): eagerly, traced, as a graph loop variable, and gradients.

Every expected value below is what TensorFlow 2.21 printed for the same program (tf -> gt),
captured as literals; errors are TF's classes.
"""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt
from gputensor.errors import InvalidArgumentError


def _three(**kw):
    """Elements [1, 2], [3], [4, 5, 6]."""
    ta = gt.TensorArray(gt.float32, size=3, infer_shape=False, clear_after_read=False, **kw)
    return ta.write(0, [1.0, 2.0]).write(1, [3.0]).write(2, [4.0, 5.0, 6.0])


def _split_2d():
    value = gt.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    return gt.TensorArray(gt.float32, size=3, infer_shape=False, clear_after_read=False).split(
        value, [1, 0, 2]
    )


def _two_2d(second):
    ta = gt.TensorArray(gt.float32, size=2, infer_shape=False)
    return ta.write(0, gt.ones([2, 3])).write(1, second)


# (id, build the array, read it, TF's result: a literal, or (error class, words in the message))
CASES = [
    ("concat", _three, lambda t: t.concat(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
    ("read", _three, lambda t: t.read(1), [3.0]),
    ("read_last", _three, lambda t: t.read(2), [4.0, 5.0, 6.0]),
    ("size", _three, lambda t: t.size(), 3),
    ("gather_one", _three, lambda t: t.gather([1]), [[3.0]]),
    ("gather_repeated", _three, lambda t: t.gather([0, 0]), [[1.0, 2.0], [1.0, 2.0]]),
    ("gather_differing", _three, lambda t: t.gather([0, 2]), (InvalidArgumentError, "Shapes of all inputs")),
    ("stack_differing", _three, lambda t: t.stack(), (InvalidArgumentError, "use concat()")),
    (
        "stack_agreeing",
        lambda: gt.TensorArray(gt.float32, size=2, infer_shape=False).write(0, [1.0, 2.0]).write(1, [3.0, 4.0]),
        lambda t: t.stack(),
        [[1.0, 2.0], [3.0, 4.0]],
    ),
    ("split_concat", _split_2d, lambda t: t.concat(), [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),
    ("split_empty_piece", _split_2d, lambda t: t.read(1), np.zeros((0, 2), np.float32)),
    ("split_last_piece", _split_2d, lambda t: t.read(2), [[3.0, 4.0], [5.0, 6.0]]),
    ("concat_2d", lambda: _two_2d(gt.zeros([1, 3])), lambda t: t.concat(), [[1.0] * 3, [1.0] * 3, [0.0] * 3]),
    ("stack_2d_differing", lambda: _two_2d(gt.zeros([1, 3])), lambda t: t.stack(), (InvalidArgumentError, "(1, 3)")),
    ("concat_trailing_differ", lambda: _two_2d(gt.zeros([1, 2])), lambda t: t.concat(), (InvalidArgumentError, "first")),
    ("concat_rank_differ", lambda: _two_2d(gt.zeros([3])), lambda t: t.concat(), (InvalidArgumentError, "rank")),
    (
        "concat_scalars",
        lambda: gt.TensorArray(gt.float32, size=2, infer_shape=False).write(0, 1.0).write(1, [2.0, 3.0]),
        lambda t: t.concat(),
        (InvalidArgumentError, "scalar shape at index 0"),
    ),
    (
        "unstack_then_write_longer",
        lambda: gt.TensorArray(gt.float32, size=3, infer_shape=False)
        .unstack(gt.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
        .write(1, [7.0, 8.0, 9.0]),
        lambda t: t.concat(),
        [1.0, 2.0, 7.0, 8.0, 9.0, 5.0, 6.0],
    ),
    (
        "scatter_after_write",
        lambda: gt.TensorArray(gt.float32, size=3, infer_shape=False)
        .write(0, [1.0])
        .scatter([1, 2], gt.constant([[1.0, 2.0], [3.0, 4.0]])),
        lambda t: t.concat(),
        [1.0, 1.0, 2.0, 3.0, 4.0],
    ),
    (
        "unwritten_with_element_shape",
        lambda: gt.TensorArray(gt.float32, size=3, infer_shape=False, element_shape=[2]).write(0, [1.0, 2.0]),
        lambda t: t.concat(),
        [1.0, 2.0, 0.0, 0.0, 0.0, 0.0],
    ),
    (
        "element_shape_none_dim",
        lambda: gt.TensorArray(gt.float32, size=2, infer_shape=False, element_shape=[None])
        .write(0, [1.0, 2.0])
        .write(1, [3.0]),
        lambda t: t.concat(),
        [1.0, 2.0, 3.0],
    ),
    (
        "split_dynamic_size",
        lambda: gt.TensorArray(gt.float32, size=0, dynamic_size=True, infer_shape=False).split(
            gt.constant([1.0, 2.0, 3.0, 4.0]), [1, 3]
        ),
        lambda t: (t.size(), t.read(1)),
        (2, [2.0, 3.0, 4.0]),
    ),
    (
        # infer_shape=True too: split into unequal lengths gives differing shapes, and a later
        # write is checked against nothing (TF's split does not fix the element shape)
        "split_unequal_infer_shape",
        lambda: gt.TensorArray(gt.float32, size=2).split(gt.constant([1.0, 2.0, 3.0]), [1, 2]).write(0, [5.0, 6.0, 7.0]),
        lambda t: t.concat(),
        [5.0, 6.0, 7.0, 2.0, 3.0],
    ),
]  # fmt: skip


def _check(got, want):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            _check(g, w)
        return
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want, dtype=np.asarray(got).dtype))


def _is_error(want):
    return isinstance(want, tuple) and isinstance(want[0], type) and issubclass(want[0], Exception)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_eager_matches_tf(case):
    _, build, read, want = case
    if _is_error(want):
        with pytest.raises(want[0], match=want[1].replace("(", r"\(").replace(")", r"\)")):
            read(build())
        return
    _check(read(build()), want)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_traced_matches_tf(case):
    _, build, read, want = case
    f = gt.function(lambda: read(build()))
    if _is_error(want):
        with pytest.raises(want[0]):
            f()
        return
    _check(f(), want)


def test_element_shape_is_reported_as_tf_does():
    assert _three().element_shape.rank is None  # TF: <unknown>, not merged from the writes
    ta = gt.TensorArray(gt.float32, size=2, infer_shape=False).unstack(gt.constant([[1.0, 2.0], [3.0, 4.0]]))
    assert ta.element_shape.rank is None
    given = gt.TensorArray(gt.float32, size=2, infer_shape=False, element_shape=[None, 2])
    assert given.element_shape.as_list() == [None, 2]
    with pytest.raises(ValueError, match="Incompatible shape"):
        given.write(0, [[1.0, 2.0, 3.0]])


def test_infer_shape_true_still_fixes_the_shape_at_the_first_write():
    ta = gt.TensorArray(gt.float32, size=2)
    with pytest.raises(ValueError, match="Incompatible shape"):
        ta.write(0, [1.0, 2.0]).write(1, [3.0])


@pytest.mark.parametrize(
    "lengths, value, error",
    [
        ([1, 2], [1.0, 2.0, 3.0, 4.0], "sum of lengths is 3"),
        ([1, 2], 1.0, "at least a vector"),
        ([[1, 2]], [1.0, 2.0, 3.0], "lengths to be a vector"),
        ([1, 1, 1, 1], [1.0, 2.0, 3.0, 4.0], r"size of lengths \(2 vs. 4\)"),
    ],
)
def test_split_errors_are_tfs(lengths, value, error):
    with pytest.raises(InvalidArgumentError, match=error):
        gt.TensorArray(gt.float32, size=2, infer_shape=False).split(gt.constant(value), lengths)


def test_unwritten_element_of_unknown_shape_raises_eagerly_as_tf():
    ta = gt.TensorArray(gt.float32, size=3, infer_shape=False).write(0, [1.0, 2.0])
    with pytest.raises(ValueError, match="never written"):
        ta.read(1)


def test_unwritten_elements_read_as_zeros_of_the_written_shape_in_a_trace():
    # TF's TensorList reads them as zeros of the shape the written elements share.
    f = gt.function(
        lambda: gt.TensorArray(gt.float32, size=3, infer_shape=False).write(0, [1.0, 2.0]).concat()
    )
    _check(f(), [1.0, 2.0, 0.0, 0.0, 0.0, 0.0])


# ---------------------------------------------------------------- graph loops
def _counting(i):
    """``[i, i, ..., i]`` (i + 1 values) for a traced int32 ``i``."""
    return gt.fill(gt.reshape(i + 1, [1]), gt.cast(i, gt.float32))


@gt.function
def _loop(n):
    ta = gt.TensorArray(gt.float32, size=n, infer_shape=False)
    for i in gt.range(n):
        ta = ta.write(i, _counting(i))
    return ta.concat(), ta.size(), ta.read(2), ta.gather([1]), ta.gather([2, 2])


@gt.function
def _loop_growing(n):
    ta = gt.TensorArray(gt.float32, size=0, dynamic_size=True, infer_shape=False)
    for i in gt.range(n):
        ta = ta.write(i, gt.ones(gt.stack([i, 2])) * gt.cast(i, gt.float32))
    return ta.concat(), ta.size()


@gt.function
def _loop_stack(n, same):
    ta = gt.TensorArray(gt.float32, size=n, infer_shape=False)
    for i in gt.range(n):
        length = gt.where(same, n, i + 1)
        ta = ta.write(i, gt.fill(gt.reshape(length, [1]), gt.cast(i, gt.float32)))
    return ta.stack()


@gt.function
def _while(n):
    ta = gt.TensorArray(gt.float32, size=n, infer_shape=False)
    _, ta = gt.while_loop(lambda i, ta: i < n, lambda i, ta: (i + 1, ta.write(i, _counting(i))), (0, ta))
    return ta.concat()


def test_a_loop_writing_elements_of_growing_length():
    concat, size, third, one, twice = _loop(gt.constant(4))
    _check(concat, [0.0, 1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 3.0])
    _check((size, third, one, twice), (4, [2.0, 2.0, 2.0], [[1.0, 1.0]], [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]))
    _check(_loop(gt.constant(3))[0], [0.0, 1.0, 1.0, 2.0, 2.0, 2.0])  # the same trace, another n


def test_a_dynamic_size_loop_writing_2d_elements():
    concat, size = _loop_growing(gt.constant(4))
    _check(concat, [[1.0, 1.0], [2.0, 2.0], [2.0, 2.0], [3.0, 3.0], [3.0, 3.0], [3.0, 3.0]])
    _check(size, 4)


def test_stack_after_a_loop_works_when_the_shapes_agree_and_raises_when_not():
    _check(_loop_stack(gt.constant(3), gt.constant(True)), [[0.0] * 3, [1.0] * 3, [2.0] * 3])
    with pytest.raises(InvalidArgumentError, match=r"TensorArray.stack.*\[1\], \[2\], \[3\]"):
        _loop_stack(gt.constant(3), gt.constant(False))


def test_gather_of_differing_elements_after_a_loop_raises():
    @gt.function
    def g(n):
        ta = gt.TensorArray(gt.float32, size=n, infer_shape=False)
        for i in gt.range(n):
            ta = ta.write(i, _counting(i))
        return ta.gather([1, 2])

    with pytest.raises(InvalidArgumentError, match="TensorArray.gather"):
        g(gt.constant(4))


def test_while_loop_carries_the_array():
    _check(_while(gt.constant(3)), [0.0, 1.0, 1.0, 2.0, 2.0, 2.0])


def test_split_with_lengths_known_at_run_time():
    @gt.function
    def f(v, lengths):
        ta = gt.TensorArray(gt.float32, size=3, infer_shape=False).split(v, lengths)
        return ta.read(0), ta.read(2), ta.concat(), ta.size()

    v = gt.constant([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    _check(f(v, gt.constant([1, 2, 3])), ([1.0], [4.0, 5.0, 6.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 3))
    _check(f(v, gt.constant([3, 0, 3]))[1], [4.0, 5.0, 6.0])


def test_an_array_returned_from_a_function_is_a_list_again():
    @gt.function
    def f(n):
        ta = gt.TensorArray(gt.float32, size=n, infer_shape=False)
        for i in gt.range(n):
            ta = ta.write(i, _counting(i))
        return ta

    ta = f(gt.constant(3))
    _check(ta.read(2), [2.0, 2.0, 2.0])
    _check(ta.concat(), [0.0, 1.0, 1.0, 2.0, 2.0, 2.0])
    with pytest.raises(InvalidArgumentError, match="Shapes of all inputs"):
        ta.stack()


def test_an_element_never_written_in_a_loop_raises_naming_the_fix():
    @gt.function
    def f(n):
        ta = gt.TensorArray(gt.float32, size=n + 1, infer_shape=False)
        for i in gt.range(n):
            ta = ta.write(i, _counting(i))
        return ta.concat()

    with pytest.raises(InvalidArgumentError, match="never written.*element_shape="):
        f(gt.constant(2))


# ---------------------------------------------------------------- gradients
X = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
# TF's numbers for _read_back_loss are for x = [1, -2] (its first two values here):
X_READ_BACK = [1.0, -2.0, 3.0, 4.0, 5.0, 6.0]


def _split_loss(x):
    w = gt.constant([1.0, -1.0, 2.0, 0.5, 3.0, -2.0])
    ta = gt.TensorArray(gt.float32, size=3, infer_shape=False, clear_after_read=False).split(x, [1, 2, 3])
    ta = ta.write(1, ta.read(1) * 3.0)
    return gt.reduce_sum(ta.concat() * w) + gt.reduce_sum(ta.read(2) ** 2)


def _prefix(x, i):
    return gt.gather(x, gt.cumsum(gt.ones(gt.reshape(i + 1, [1]), gt.int32), exclusive=True))


def _loop_loss(x, n):
    ta = gt.TensorArray(x.dtype, size=n, infer_shape=False)
    for i in gt.range(n):
        ta = ta.write(i, _prefix(x, i) * gt.cast(i + 1, x.dtype))
    return gt.reduce_sum(ta.concat() ** 2) + gt.reduce_sum(ta.read(1))


def _growing_loss(x, n):
    ta = gt.TensorArray(gt.float32, size=0, dynamic_size=True, infer_shape=False)
    for i in gt.range(n):
        ta = ta.write(
            i, gt.sin(gt.gather(x, i + gt.cumsum(gt.ones(gt.reshape(i + 1, [1]), gt.int32), exclusive=True)))
        )
    c = ta.concat()
    return gt.reduce_sum(c * gt.cumsum(gt.ones_like(c), exclusive=True))


def _read_back_loss(x, n):
    # each element one longer than the one before, computed from it (read back in the loop)
    ta = gt.TensorArray(gt.float32, size=n, infer_shape=False, clear_after_read=False)
    ta = ta.write(0, gt.gather(x, [0, 1]))
    for i in gt.range(1, n):
        prev = ta.read(i - 1)
        ta = ta.write(i, gt.concat([prev * 0.5, gt.sin(prev[0:1])], 0))
    return gt.reduce_sum(ta.concat() ** 2)


def _taped(loss_fn, *args):
    def run(x, *rest):
        with gt.GradientTape() as tape:
            tape.watch(x)
            loss = loss_fn(x, *rest)
        return loss, gt.convert_to_tensor(tape.gradient(loss, x))  # a gather's is IndexedSlices

    return run


GRADS = [
    # (id, loss, extra args, TF's loss, TF's gradient)
    ("split_write_concat", _split_loss, (), 95.0, [1.0, -3.0, 6.0, 8.5, 13.0, 10.0]),
    ("loop_concat_read", _loop_loss, (4,), 633.0, [62.0, 118.0, 150.0, 128.0, 0.0, 0.0]),
    (
        "growing_loop",
        _growing_loss,
        (3,),
        -6.206934,
        [0.0, -0.416146844625473, -4.949962615966797, -2.614574432373047, 1.4183109998703003, 0.0],
    ),
    ("loop_reading_back", _read_back_loss, (4,), 7.9184914, [4.495478630065918, -5.3125, 0.0, 0.0, 0.0, 0.0]),
]


@pytest.mark.parametrize("case", GRADS, ids=[c[0] for c in GRADS])
def test_gradients_in_a_function_match_tf(case):
    _, loss_fn, extra, tf_loss, tf_grad = case
    f = gt.function(_taped(loss_fn))
    x = X_READ_BACK if loss_fn is _read_back_loss else X
    loss, grad = f(gt.constant(x), *[gt.constant(e) for e in extra])
    np.testing.assert_allclose(loss.numpy(), tf_loss, rtol=1e-5)
    np.testing.assert_allclose(grad.numpy(), tf_grad, rtol=1e-5, atol=1e-6)


def test_eager_gradient_matches_tf():
    loss, grad = _taped(_split_loss)(gt.constant(X))
    np.testing.assert_allclose(loss.numpy(), 95.0)
    np.testing.assert_allclose(grad.numpy(), [1.0, -3.0, 6.0, 8.5, 13.0, 10.0])


def test_loop_gradient_matches_finite_differences():
    f = gt.function(_loop_loss)
    x0 = np.array([0.3, -1.2, 0.7, 2.0, 0.5, -0.4])
    _, grad = gt.function(_taped(_loop_loss))(gt.constant(x0, gt.float64), gt.constant(4))
    eps = 1e-6
    numeric = [
        (float(f(gt.constant(x0 + eps * e, gt.float64), gt.constant(4)))
         - float(f(gt.constant(x0 - eps * e, gt.float64), gt.constant(4)))) / (2 * eps)
        for e in np.eye(6)
    ]  # fmt: skip
    np.testing.assert_allclose(grad.numpy(), numeric, rtol=1e-6, atol=1e-6)


def test_cond_and_function_arguments_carry_the_array():
    @gt.function
    def branch(flag):
        ta = gt.TensorArray(gt.float32, size=2, infer_shape=False).write(0, [1.0, 2.0])
        ta = gt.cond(flag, lambda: ta.write(1, [3.0]), lambda: ta.write(1, [4.0]))
        return ta.concat()

    _check(branch(gt.constant(True)), [1.0, 2.0, 3.0])
    _check(branch(gt.constant(False)), [1.0, 2.0, 4.0])

    @gt.function
    def twice(ta):
        return ta.concat() * 2.0

    ta = gt.TensorArray(gt.float32, size=2, infer_shape=False).write(0, [1.0, 2.0]).write(1, [3.0])
    _check(twice(ta), [2.0, 4.0, 6.0])


def test_cond_branches_writing_different_total_lengths_are_refused_by_name():
    # gt.cond's branches return tensors of one shape; the flat values differ in length here
    @gt.function
    def branch(flag):
        ta = gt.TensorArray(gt.float32, size=2, infer_shape=False).write(0, [1.0, 2.0])
        ta = gt.cond(flag, lambda: ta.write(1, [3.0]), lambda: ta.write(1, [4.0, 5.0]))
        return ta.concat()

    with pytest.raises(ValueError, match="same shapes"):
        branch(gt.constant(True))
