"""gt.data.Dataset against plain-Python/NumPy references of tf.data's semantics."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import gputensor as gt
from gputensor import data as gt_data
from gputensor import errors

Dataset = gt_data.Dataset


def as_lists(ds):
    return [np.asarray(x).tolist() for x in ds]


def test_from_tensor_slices_yields_rows_as_gt_tensors_with_source_dtypes():
    x = np.arange(12, dtype=np.float64).reshape(4, 3)
    elements = list(Dataset.from_tensor_slices(x))
    assert all(isinstance(e, gt.Tensor) for e in elements)
    assert elements[0].dtype == gt.float64
    np.testing.assert_array_equal(np.stack([e.numpy() for e in elements]), x)
    # Python lists take TF's default dtypes and are one tensor, not a tuple.
    assert Dataset.from_tensor_slices([1.0, 2.0]).element_spec.dtype == gt.float32
    assert Dataset.from_tensor_slices([1, 2]).element_spec.dtype == gt.int32


def test_nested_tuple_and_dict_structures_are_preserved():
    x, y = np.arange(6).reshape(3, 2), np.array([0.5, 1.5, 2.5], np.float32)
    ds = Dataset.from_tensor_slices(({"a": x, "b": y}, y))
    elements = list(ds)
    assert isinstance(elements[0], tuple) and set(elements[0][0]) == {"a", "b"}
    for i, (d, label) in enumerate(elements):
        np.testing.assert_array_equal(d["a"].numpy(), x[i])
        assert float(d["b"]) == y[i] == float(label)
    spec = ds.element_spec
    assert spec[0]["a"].shape.as_list() == [2] and spec[0]["a"].dtype == gt.int64
    assert spec[1].shape.as_list() == [] and spec[1].dtype == gt.float32


def test_from_tensor_slices_does_not_see_later_edits_of_the_source():
    x = np.arange(4)
    ds = Dataset.from_tensor_slices(x)
    x[:] = -1
    assert as_lists(ds) == [0, 1, 2, 3]


def test_mismatched_first_dimensions_name_the_components_and_sizes():
    with pytest.raises(errors.InvalidArgumentError, match=r"\[0\] has 3.*\[1\] has 4"):
        Dataset.from_tensor_slices((np.zeros(3), np.zeros(4)))
    with pytest.raises(errors.InvalidArgumentError, match="scalar"):
        Dataset.from_tensor_slices(np.float32(1))


def test_from_tensors_range_and_cardinality():
    assert as_lists(Dataset.from_tensors([1, 2])) == [[1, 2]]
    assert as_lists(Dataset.range(2, 11, 3)) == list(range(2, 11, 3))
    assert Dataset.range(5).element_spec.dtype == gt.int64
    assert int(Dataset.range(10).cardinality()) == 10
    assert len(Dataset.range(7).batch(3)) == 3
    assert len(Dataset.range(7).batch(3, drop_remainder=True)) == 2
    assert int(Dataset.range(3).repeat().cardinality()) == gt_data.INFINITE_CARDINALITY
    assert int(Dataset.range(3).filter(lambda x: x > 0).cardinality()) == gt_data.UNKNOWN_CARDINALITY
    assert int(Dataset.range(3).repeat().take(5).cardinality()) == 5
    assert int(Dataset.range(10).skip(4).cardinality()) == 6
    with pytest.raises(TypeError, match="infinite"):
        len(Dataset.range(3).repeat())
    with pytest.raises(TypeError, match="unknown"):
        len(Dataset.range(3).filter(lambda x: x > 0))


def test_batch_matches_numpy_reshape_and_spec_has_unknown_batch_dim():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    batches = [b.numpy() for b in Dataset.from_tensor_slices(x).batch(4)]
    np.testing.assert_array_equal(batches[0], x[:4])
    np.testing.assert_array_equal(batches[2], x[8:])
    assert Dataset.from_tensor_slices(x).batch(4).element_spec.shape.as_list() == [None, 2]
    assert Dataset.from_tensor_slices(x).batch(4, drop_remainder=True).element_spec.shape.as_list() == [4, 2]
    # The generic stacking path (after map) gives the same batches.
    mapped = [b.numpy() for b in Dataset.from_tensor_slices(x).map(lambda r: r).batch(4)]
    for a, b in zip(batches, mapped, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad", [0, -3])
def test_batch_size_must_be_positive(bad):
    with pytest.raises(errors.InvalidArgumentError, match="batch_size must be greater than zero"):
        Dataset.range(3).batch(bad)


def test_batch_of_different_shapes_names_component_and_suggests_padded_batch():
    ds = Dataset.from_generator(lambda: iter([[1], [1, 2]]), output_signature=gt.TensorSpec([None], gt.int32))
    with pytest.raises(errors.InvalidArgumentError, match="padded_batch"):
        list(ds.batch(2))
    assert as_lists(ds.padded_batch(2)) == [[[1, 0], [1, 2]]]
    assert as_lists(ds.padded_batch(2, padded_shapes=[4], padding_values=-1)) == [
        [[1, -1, -1, -1], [1, 2, -1, -1]]
    ]


def test_unbatch_inverts_batch():
    assert as_lists(Dataset.range(7).batch(3).unbatch()) == list(range(7))
    assert Dataset.range(7).batch(3).unbatch().element_spec.shape.as_list() == []


def reference_shuffle(items, buffer_size, draws):
    """TF's buffer algorithm on a list, with the uniform draws given."""
    buf, out, it, k = [], [], iter(items), 0
    for item in it:
        buf.append(item)
        if len(buf) == buffer_size:
            break
    for item in it:
        j = int(draws[k] * len(buf))
        k += 1
        out.append(buf[j])
        buf[j] = item
    while buf:
        j = int(draws[k] * len(buf))
        k += 1
        buf[j], buf[-1] = buf[-1], buf[j]
        out.append(buf.pop())
    return out


def test_shuffle_is_a_seeded_permutation_with_a_bounded_buffer():
    order = [int(v) for v in Dataset.range(100).shuffle(10, seed=7)]
    assert sorted(order) == list(range(100))
    assert order != list(range(100))
    # A buffer of 10 can only emit element i once i - 9 earlier ones were read.
    assert all(v <= i + 9 for i, v in enumerate(order))
    assert order == [int(v) for v in Dataset.range(100).shuffle(10, seed=7)]  # a new dataset, same first pass


def test_shuffle_reshuffles_each_pass_reproducibly():
    ds = Dataset.range(50).shuffle(50, seed=3)
    first, second = as_lists(ds), as_lists(ds)
    assert first != second and sorted(first) == sorted(second) == list(range(50))
    again = Dataset.range(50).shuffle(50, seed=3)
    assert as_lists(again) == first and as_lists(again) == second
    fixed = Dataset.range(50).shuffle(50, seed=3, reshuffle_each_iteration=False)
    assert as_lists(fixed) == as_lists(fixed)
    gt.random.set_seed(11)
    a = as_lists(Dataset.range(30).shuffle(30))
    gt.random.set_seed(11)
    assert as_lists(Dataset.range(30).shuffle(30)) == a
    gt.random.set_seed(None)


def test_shuffle_follows_the_buffer_algorithm():
    from gputensor.data.dataset import _shuffled

    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    got = list(_shuffled(iter(range(40)), 8, rng_a))
    assert got == reference_shuffle(range(40), 8, rng_b.random(1024))


def test_sliced_shuffle_batch_fast_path_equals_element_by_element_batching():
    x = np.random.default_rng(0).normal(size=(103, 5)).astype(np.float32)
    y = np.arange(103)
    fast = Dataset.from_tensor_slices((x, y)).shuffle(64, seed=9).repeat(2).batch(16)
    assert fast._plan is None  # batched output
    slow = Dataset.from_tensor_slices((x, y)).shuffle(64, seed=9).repeat(2).map(lambda a, b: (a, b)).batch(16)
    fast_batches, slow_batches = list(fast), list(slow)
    assert len(fast_batches) == len(slow_batches) == 13
    for (fa, fb), (sa, sb) in zip(fast_batches, slow_batches, strict=True):
        np.testing.assert_array_equal(fa.numpy(), sa.numpy())
        np.testing.assert_array_equal(fb.numpy(), sb.numpy())
        np.testing.assert_array_equal(fa.numpy(), x[fb.numpy()])  # rows stay paired with labels


def test_fast_path_gathers_with_fancy_indexing_not_per_row_stacking(monkeypatch):
    calls = []
    real_stack = np.stack
    monkeypatch.setattr(np, "stack", lambda *a, **k: calls.append(1) or real_stack(*a, **k))
    list(Dataset.from_tensor_slices(np.zeros((64, 3))).shuffle(64, seed=1).batch(8))
    assert calls == []


def test_map_passes_tuple_components_as_arguments_and_dicts_whole():
    ds = Dataset.from_tensor_slices((np.arange(3), np.arange(3) * 10)).map(lambda a, b: a + b)
    assert as_lists(ds) == [0, 11, 22]
    ds = Dataset.from_tensor_slices({"a": np.arange(3)}).map(lambda d: d["a"] * 2)
    assert as_lists(ds) == [0, 2, 4]
    pair = Dataset.range(3).map(lambda x: [x, gt.cast(x, gt.float32) / 2])
    assert isinstance(pair.element_spec, tuple) and pair.element_spec[1].dtype == gt.float32
    assert Dataset.range(3).map(lambda x: x, num_parallel_calls=gt_data.AUTOTUNE).cardinality() == 3


def test_filter_keeps_true_elements_and_rejects_non_scalar_predicates():
    assert as_lists(Dataset.range(10).filter(lambda x: x % 3 == 0)) == [0, 3, 6, 9]
    with pytest.raises(ValueError, match="scalar bool"):
        list(Dataset.from_tensor_slices(np.zeros((2, 2))).filter(lambda x: x > 0))


def test_repeat_take_skip_concatenate_enumerate_zip():
    assert as_lists(Dataset.range(3).repeat(2)) == [0, 1, 2, 0, 1, 2]
    assert as_lists(Dataset.range(3).repeat().take(7)) == [0, 1, 2, 0, 1, 2, 0]
    assert as_lists(Dataset.range(5).skip(2).take(2)) == [2, 3]
    assert as_lists(Dataset.range(5).take(-1)) == list(range(5))
    assert as_lists(Dataset.range(5).skip(-1)) == []
    assert as_lists(Dataset.range(2).concatenate(Dataset.range(5, 7))) == [0, 1, 5, 6]
    with pytest.raises(TypeError, match="incompatible"):
        Dataset.range(2).concatenate(Dataset.from_tensor_slices(np.zeros(2, np.float32)))
    assert [(int(i), int(v)) for i, v in Dataset.range(10, 13).enumerate(start=1)] == [
        (1, 10),
        (2, 11),
        (3, 12),
    ]
    z = Dataset.zip((Dataset.range(3), Dataset.range(10, 20)))
    assert [(int(a), int(b)) for a, b in z] == [(0, 10), (1, 11), (2, 12)] and len(z) == 3
    z = Dataset.zip({"a": Dataset.range(2), "b": Dataset.range(5).repeat()})
    assert [{k: int(v) for k, v in e.items()} for e in z] == [{"a": 0, "b": 0}, {"a": 1, "b": 1}]
    assert as_lists(Dataset.from_tensor_slices(np.arange(4)).repeat(2).skip(3).take(3)) == [3, 0, 1]


def test_repeat_of_an_empty_dataset_ends():
    assert as_lists(Dataset.range(0).map(lambda x: x).repeat()) == []


def test_cache_replays_the_first_complete_pass():
    calls = []

    def gen():
        calls.append(1)
        yield from range(3)

    ds = Dataset.from_generator(gen, output_signature=gt.TensorSpec([], gt.int64)).cache()
    assert as_lists(ds) == as_lists(ds) == [0, 1, 2]
    assert len(calls) == 1


def test_from_generator_checks_signature_and_supports_deprecated_arguments():
    def gen(n):
        for i in range(int(n)):
            yield i, [float(i)] * 2

    sig = (gt.TensorSpec([], gt.int32), gt.TensorSpec([2], gt.float32))
    out = [
        (int(a), b.numpy().tolist()) for a, b in Dataset.from_generator(gen, args=(3,), output_signature=sig)
    ]
    assert out == [(0, [0.0, 0.0]), (1, [1.0, 1.0]), (2, [2.0, 2.0])]
    old = Dataset.from_generator(
        gen, output_types=(gt.int32, gt.float32), output_shapes=((), (2,)), args=(2,)
    )
    assert [int(a) for a, _ in old] == [0, 1]
    assert int(old.cardinality()) == gt_data.UNKNOWN_CARDINALITY
    bad_shape = Dataset.from_generator(
        lambda: iter([[1, 2, 3]]), output_signature=gt.TensorSpec([2], gt.int32)
    )
    with pytest.raises(errors.InvalidArgumentError, match=r"shape \(3,\).*shape \(2,\)"):
        list(bad_shape)
    bad_type = Dataset.from_generator(lambda: iter([1.5]), output_signature=gt.TensorSpec([], gt.int32))
    with pytest.raises(TypeError, match="float64.*int32"):
        list(bad_type)
    with pytest.raises(TypeError, match="output_signature"):
        Dataset.from_generator(gen)


def test_prefetch_runs_ahead_on_a_thread_and_reraises_errors():
    threads = set()

    def record(x):
        threads.add(threading.get_ident())
        return x

    ds = Dataset.range(20).map(record).prefetch(gt_data.AUTOTUNE)
    assert as_lists(ds) == list(range(20))
    assert threading.get_ident() not in threads

    def broken():
        yield 1
        raise RuntimeError("generator failed")

    ds = Dataset.from_generator(broken, output_signature=gt.TensorSpec([], gt.int32)).prefetch(2)
    it = iter(ds)
    assert int(next(it)) == 1
    with pytest.raises(RuntimeError, match="generator failed"):
        next(it)


def test_as_numpy_iterator_and_reduce():
    out = list(Dataset.from_tensor_slices((np.arange(2), np.ones((2, 2)))).as_numpy_iterator())
    assert isinstance(out[0][0], np.integer) and isinstance(out[0][1], np.ndarray)
    assert int(Dataset.range(5).reduce(np.int64(0), lambda s, x: s + x)) == 10


def test_elements_are_usable_in_a_training_loop():
    x = np.random.default_rng(1).normal(size=(64, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    w = gt.Variable(gt.zeros([3, 1]))
    for _ in range(40):
        for xb, yb in Dataset.from_tensor_slices((x, y)).shuffle(64, seed=0).batch(16):
            with gt.GradientTape() as tape:
                loss = gt.reduce_mean((gt.matmul(xb, w) - yb) ** 2)
            w.assign_sub(0.1 * tape.gradient(loss, w))
    np.testing.assert_allclose(w.numpy().ravel(), [1.0, -2.0, 0.5], atol=1e-3)


def test_abandoned_prefetch_iteration_stops_its_thread():
    import gc
    import time

    before = {t for t in threading.enumerate() if t.name == "gt.data.prefetch"}
    it = iter(Dataset.range(10**6).prefetch(2))
    next(it)
    del it
    gc.collect()
    deadline = time.time() + 5
    while time.time() < deadline:
        alive = {t for t in threading.enumerate() if t.name == "gt.data.prefetch"} - before
        if not alive:
            break
        time.sleep(0.05)
    assert not alive


def test_an_infinite_dataset_is_truthy():
    assert bool(Dataset.range(2).repeat())


def test_map_functions_are_traced_like_tf_data():
    calls = []

    def f(x):
        calls.append(1)  # a Python side effect: runs when the function is traced
        if x % 2 == 0:  # a tensor condition: AutoGraph makes it graph control flow
            return x * 10
        return -x

    assert as_lists(Dataset.range(6).map(f)) == [0, -1, 20, -3, 40, -5]
    assert len(calls) == 1


def test_map_over_elements_of_varying_shape_relaxes_the_dim_instead_of_tracing_each():
    calls = []

    def gen():
        for n in range(1, 7):
            yield np.arange(n, dtype=np.float32)

    def total(x):
        calls.append(1)
        return gt.reduce_sum(x)

    ds = Dataset.from_generator(gen, output_signature=gt.TensorSpec([None], gt.float32)).map(total)
    assert as_lists(ds) == [sum(range(n)) for n in range(1, 7)]
    assert len(calls) == 2  # the first shape, then once with the dim relaxed to None


def test_iter_gives_an_iterator_with_get_next_and_element_spec():
    ds = gt.data.Dataset.range(2)
    it = iter(ds)
    assert iter(it) is it
    assert it.element_spec == ds.element_spec
    assert int(it.get_next()) == 0
    assert int(next(it)) == 1
    with pytest.raises(gt.errors.OutOfRangeError, match="end of sequence"):
        it.get_next()
    with pytest.raises(StopIteration):
        next(it)
    # Each iter() starts afresh, as TF's.
    assert [int(x) for x in ds] == [0, 1] and [int(x) for x in iter(ds)] == [0, 1]
