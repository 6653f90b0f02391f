"""gt.function: tracing per signature, the graph IR, variables, tapes, errors. References: the
same Python run eagerly (NumPy for the plain math)."""

from __future__ import annotations

import gc
import warnings

import numpy as np
import pytest

import gputensor as gt


def _f32(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def test_a_traced_function_computes_what_it_computes_eagerly(device, rng):
    a, b = _f32(rng, 3, 4), _f32(rng, 4, 2)

    @gt.function
    def f(x, y):
        return gt.nn.relu(gt.matmul(x, y) + 1.0), gt.reduce_sum(x, axis=0)

    out, s = f(gt.constant(a), gt.constant(b))
    np.testing.assert_allclose(out.numpy(), np.maximum(a @ b + 1.0, 0.0), rtol=1e-5)
    np.testing.assert_allclose(s.numpy(), a.sum(0), rtol=1e-5)
    assert out.backing_device == device.name


def test_one_trace_per_signature(rng):
    calls = []

    @gt.function
    def f(x, scale):
        calls.append(1)  # a Python side effect: runs at trace time only
        return x * scale

    x3, x4 = gt.constant(_f32(rng, 3)), gt.constant(_f32(rng, 4))
    f(x3, 2.0)
    f(x3 + 1.0, 2.0)  # same shape and dtype, same Python value
    assert f.experimental_get_tracing_count() == 1 and len(calls) == 1
    f(x4, 2.0)  # a new shape
    f(x3, 3.0)  # a new Python value
    f(gt.cast(x3, gt.float64), 2.0)  # a new dtype
    assert f.experimental_get_tracing_count() == 4 and len(calls) == 4
    np.testing.assert_allclose(f(x3, 3.0).numpy(), x3.numpy() * 3.0)
    assert f.experimental_get_tracing_count() == 4


def test_the_graph_can_be_inspected(rng):
    @gt.function
    def f(x):
        return gt.exp(x) * 2.0 + x

    concrete = f.get_concrete_function(gt.TensorSpec([2, 3], gt.float32))
    types = [op.type for op in concrete.graph.get_operations()]
    assert types == ["Placeholder", "exp", "Const", "multiply", "add"]
    text = concrete.graph.as_text()
    assert "exp(x:0)" in text and "float32[2, 3]" in text
    x = _f32(rng, 2, 3)
    np.testing.assert_allclose(concrete(gt.constant(x)).numpy(), np.exp(x) * 2.0 + x, rtol=1e-6)


def test_variables_are_captured_by_reference_and_assigned_in_order(rng):
    v = gt.Variable([1.0, 2.0])

    @gt.function
    def f(x):
        before = v * 1.0
        v.assign_add(x)
        return before, v.read_value()

    before, after = f(gt.constant([0.5, 0.5]))
    np.testing.assert_allclose(before.numpy(), [1.0, 2.0])
    np.testing.assert_allclose(after.numpy(), [1.5, 2.5])
    v.assign([10.0, 20.0])  # changed outside: the graph reads the new value
    before, after = f(gt.constant([1.0, 1.0]))
    np.testing.assert_allclose(before.numpy(), [10.0, 20.0])
    np.testing.assert_allclose(v.numpy(), [11.0, 21.0])
    assert f.experimental_get_tracing_count() == 1


def _train_step(x, w, b):
    with gt.GradientTape() as tape:
        loss = gt.reduce_mean(gt.square(gt.nn.relu(gt.matmul(x, w) + b) - 1.0))
    gw, gb = tape.gradient(loss, [w, b])
    w.assign_sub(0.1 * gw)
    b.assign_sub(0.1 * gb)
    return loss


def test_a_training_step_with_a_tape_inside_matches_the_eager_step(device, rng):
    x = gt.constant(_f32(rng, 8, 5))
    w0, b0 = _f32(rng, 5, 3), _f32(rng, 3)
    w, b = gt.Variable(w0), gt.Variable(b0)
    we, be = gt.Variable(w0), gt.Variable(b0)
    step = gt.function(_train_step)
    for _ in range(5):
        np.testing.assert_allclose(float(step(x, w, b)), float(_train_step(x, we, be)), rtol=1e-5)
    np.testing.assert_allclose(w.numpy(), we.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b.numpy(), be.numpy(), rtol=1e-5, atol=1e-6)
    assert step.experimental_get_tracing_count() == 1


def test_a_tape_around_a_function_differentiates_through_it(rng):
    w = gt.Variable(_f32(rng, 3))
    xv = _f32(rng, 3)

    @gt.function
    def f(x):
        return gt.reduce_sum(gt.sin(x) * w)

    x = gt.constant(xv)
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    gx, gw = tape.gradient(y, [x, w])
    np.testing.assert_allclose(gx.numpy(), np.cos(xv) * w.numpy(), rtol=1e-6)
    np.testing.assert_allclose(gw.numpy(), np.sin(xv), rtol=1e-6)


def test_module_methods_trace_with_their_variables(rng):
    class Dense(gt.Module):
        def __init__(self):
            super().__init__()
            self.w = gt.Variable(_f32(rng, 4, 2))

        @gt.function
        def __call__(self, x):
            return gt.matmul(x, self.w)

    layer, other = Dense(), Dense()
    x = gt.constant(_f32(rng, 3, 4))
    np.testing.assert_allclose(layer(x).numpy(), x.numpy() @ layer.w.numpy(), rtol=1e-5)
    np.testing.assert_allclose(other(x).numpy(), x.numpy() @ other.w.numpy(), rtol=1e-5)
    layer.w.assign(layer.w * 2.0)
    np.testing.assert_allclose(layer(x).numpy(), x.numpy() @ layer.w.numpy(), rtol=1e-5)


def test_input_signature_checks_and_accepts_any_size_for_none_dims(rng):
    @gt.function(input_signature=[gt.TensorSpec([None, 2], gt.float32)])
    def f(x):
        return x * 2.0

    np.testing.assert_allclose(f([[1.0, 2.0]]).numpy(), [[2.0, 4.0]])  # converted to the spec's dtype
    np.testing.assert_allclose(f(gt.zeros([3, 2])).numpy(), np.zeros((3, 2)))
    with pytest.raises(TypeError, match="does not match its input_signature"):
        f(gt.zeros([3, 3]))
    with pytest.raises(TypeError, match="does not match its input_signature"):
        f(gt.zeros([3, 2], gt.float64))
    with pytest.raises(TypeError, match="input_signature has 1"):
        f(gt.zeros([1, 2]), gt.zeros([1, 2]))


def test_reading_a_symbolic_value_in_python_is_a_clear_error():
    @gt.function(autograph=False)
    def f(x):
        if gt.reduce_sum(x) > 0:  # a Python `if` on a tensor, not converted
            return x
        return -x

    line = f.python_function.__code__.co_firstlineno + 2
    with pytest.raises(TypeError, match=f'test_function.py", line {line}: using symbolic tensor .* gt.cond'):
        f(gt.constant([1.0, 2.0]))

    @gt.function
    def g(x):
        return float(x) * 2.0

    with pytest.raises(TypeError, match="is not known while the function is traced"):
        g(gt.constant(1.0))


def test_variables_may_be_created_on_the_first_trace_only():
    made = []

    @gt.function
    def f(x, scale):
        if not made:  # the first trace makes it; TF's second trace of that call captures it
            made.append(gt.Variable(lambda: gt.ones([2]) * scale))  # an initializer runs eagerly, once
        return x * made[0]

    np.testing.assert_allclose(f(gt.constant([2.0, 3.0]), 1.0).numpy(), [2.0, 3.0])
    assert len(made) == 1 and isinstance(made[0].numpy(), np.ndarray)  # concrete, not symbolic
    np.testing.assert_allclose(f(gt.constant([2.0, 3.0]), 2.0).numpy(), [2.0, 3.0])  # a retrace reuses it

    later = []

    @gt.function
    def grows(x, scale):
        if scale > 1.0:
            later.append(gt.Variable(scale))
        return x

    grows(gt.constant(1.0), 1.0)
    with pytest.raises(ValueError, match="only variables created on the first call"):
        grows(gt.constant(1.0), 2.0)

    @gt.function
    def every_call(x):  # the tf.function guide's example: a new variable at every trace
        v = gt.Variable(1.0)  # a Python initial value is lifted out of the trace, as TF's
        return x * v

    with pytest.raises(ValueError, match="at every trace.*only variables created on the first call"):
        every_call(gt.constant(1.0))

    @gt.function
    def g(x):
        return gt.Variable(x * 2.0)

    with pytest.raises(ValueError, match="not known until the function runs"):
        g(gt.constant([1.0]))


def test_stateful_random_ops_draw_anew_at_every_call_and_repeat_under_the_same_global_seed(device):
    def program():
        return gt.random.normal([4]) + gt.random.uniform([4], seed=7) + gt.random.normal([4], seed=7)

    gt.random.set_seed(3)
    f = gt.function(program)
    first = [f().numpy() for _ in range(3)]
    assert all(np.all(a != b) for a, b in zip(first, first[1:]))  # new numbers at every call
    gt.random.set_seed(3)
    g = gt.function(program)  # the same program traced again under the same seed
    for want in first:
        np.testing.assert_array_equal(g().numpy(), want)
    # Distributions: each call's draws are fresh samples of the op's distribution.
    h = gt.function(lambda: (gt.random.normal([20000], mean=1.0, stddev=2.0), gt.random.uniform([20000])))
    z, u = (np.concatenate(v) for v in zip(*[[t.numpy() for t in h()] for _ in range(3)]))
    assert abs(z.mean() - 1.0) < 0.05 and abs(z.std() - 2.0) < 0.05
    assert 0.0 <= u.min() and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.01


def test_stateful_random_ops_in_a_function_keep_drawing_when_saved_loaded_or_recorded(tmp_path):
    class Noisy(gt.Module):
        @gt.function(input_signature=[gt.TensorSpec([3], gt.float32)])
        def __call__(self, x):
            return x * gt.random.uniform([3])

    m = Noisy()
    x = gt.constant([1.0, 2.0, 3.0])
    m(x)
    gt.saved_model.save(m, str(tmp_path / "noisy"))
    loaded = gt.saved_model.load(str(tmp_path / "noisy"))
    a, b = loaded(x).numpy(), loaded(x).numpy()
    assert np.all(a != b)
    # A tape around the call runs the nodes one by one: still new numbers, and the gradient
    # is the numbers that call drew.
    with gt.GradientTape() as tape:
        tape.watch(x)
        y = m(x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), (y / x).numpy(), rtol=1e-6)
    with gt.GradientTape() as tape:
        tape.watch(x)
        y2 = m(x)
    assert np.all(y2.numpy() != y.numpy())


def test_stateful_random_ops_draw_inside_control_flow_and_are_refused_by_onnx_export(tmp_path):
    @gt.function
    def branchy(x):
        if gt.reduce_sum(x) > 0:
            x = x + gt.random.normal([2])
        return x

    ones = gt.constant([1.0, 1.0])
    a, b = branchy(ones).numpy(), branchy(ones).numpy()  # new numbers at every call
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(branchy(-ones).numpy(), -ones.numpy())
    with pytest.raises(gt.errors.UnimplementedError, match=r"draws random numbers \(random_normal\)"):
        gt.onnx.export(
            gt.function(lambda x: x + gt.random.normal([2])),
            str(tmp_path / "m.onnx"),
            [gt.TensorSpec([2], gt.float32)],
        )


def test_stateless_random_ops_in_a_function_replay_their_seed():
    @gt.function
    def seeded(x):
        return x + gt.random.stateless_normal([2], seed=[1, 2])

    want = gt.random.stateless_normal([2], seed=[1, 2]).numpy()
    for _ in range(2):
        np.testing.assert_allclose(seeded(gt.constant([0.0, 0.0])).numpy(), want)


def test_a_concrete_function_refuses_another_signature():
    @gt.function
    def f(x):
        return x + 1.0

    concrete = f.get_concrete_function(gt.constant([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"shape \(3,\).*does not match TensorSpec\(shape=\(2,\)"):
        concrete(gt.constant([1.0, 2.0, 3.0]))


def test_run_functions_eagerly_runs_the_python_every_call():
    calls = []

    @gt.function
    def f(x):
        calls.append(1)
        return x + 1.0

    gt.config.run_functions_eagerly(True)
    try:
        assert gt.config.functions_run_eagerly()
        f(gt.constant(1.0))
        f(gt.constant(1.0))
    finally:
        gt.config.run_functions_eagerly(False)
    assert len(calls) == 2 and f.experimental_get_tracing_count() == 0


def test_frequent_retracing_warns_naming_the_argument():
    @gt.function
    def f(x, n):
        return x * n

    x = gt.constant([1.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(7):
            f(x, n)
    messages = [str(w.message) for w in caught if "traced" in str(w.message)]
    assert len(messages) == 1
    assert "argument 1 (4 -> 5)" in messages[0] and "input_signature" in messages[0]


def test_outputs_keep_their_structure_and_python_values():
    @gt.function
    def f(x):
        return {"double": x * 2.0, "pair": (x, 7), "name": "f"}

    out = f(gt.constant([1.0]))
    assert set(out) == {"double", "pair", "name"} and out["name"] == "f" and out["pair"][1] == 7
    np.testing.assert_allclose(out["double"].numpy(), [2.0])
    np.testing.assert_allclose(out["pair"][0].numpy(), [1.0])


def test_repeated_calls_do_not_grow_memory(rng):
    w = gt.Variable(_f32(rng, 4, 4))
    x = gt.constant(_f32(rng, 2, 4))
    step = gt.function(lambda x: gt.reduce_sum(gt.matmul(x, w)))
    for _ in range(3):
        step(x)
    gc.collect()
    before = gt.memory()["num_tensors"], gt.memory()["num_bytes"]
    for _ in range(50):
        step(x)
    gc.collect()
    assert (gt.memory()["num_tensors"], gt.memory()["num_bytes"]) == before


def test_tensor_spec():
    spec = gt.TensorSpec([None, 3], gt.float32, name="x")
    assert repr(spec) == "TensorSpec(shape=(None, 3), dtype=gt.float32, name='x')"
    assert spec.is_compatible_with(gt.zeros([5, 3]))
    assert not spec.is_compatible_with(gt.zeros([5, 4]))
    assert not spec.is_compatible_with(gt.zeros([5, 3], gt.int32))
    assert gt.TensorSpec.from_tensor(gt.zeros([2, 3])) == gt.TensorSpec([2, 3], gt.float32)
    assert gt.TensorSpec([2], gt.float32) != gt.TensorSpec([2], gt.float64)
    assert len({gt.TensorSpec([2]), gt.TensorSpec([2])}) == 1
    common = gt.TensorSpec([2, 3]).most_specific_common_supertype([gt.TensorSpec([4, 3])])
    assert common == gt.TensorSpec([None, 3])


def test_the_compiled_program_matches_the_interpreted_one(rng):
    from gputensor.graph import executor

    v = gt.Variable(_f32(rng, 3))

    @gt.function
    def f(x):
        values, indices = gt.math.top_k(x * v, k=2)
        v.assign_add(gt.ones([3]))
        q, r = gt.linalg.qr(gt.reshape(gt.concat([x, v.read_value(), x * 2.0], 0), [3, 3]))
        return values, indices, gt.reduce_sum(q @ r)

    x = gt.constant(_f32(rng, 3))
    concrete = f.get_concrete_function(x)
    v.assign(np.zeros(3, np.float32))
    compiled = executor.run(concrete._program, [x._data])
    v.assign(np.zeros(3, np.float32))
    interpreted = executor.interpret(concrete._program, [x._data])
    for c, i in zip(compiled, interpreted):
        np.testing.assert_array_equal(c.numpy(), i.numpy())
    source = concrete._program.compiled.source
    assert source.count("\n") >= len(concrete.graph.get_operations())


@pytest.mark.parametrize("fusion", ["1", "0"], ids=["fused", "unfused"])
def test_elementwise_chains_reuse_their_buffers_without_touching_views_or_variables(rng, monkeypatch, fusion):
    monkeypatch.setenv("GPUTENSOR_FUSION", fusion)
    with gt.device("/CPU:0"):  # buffer reuse is the CPU executor's (NumPy ufuncs)
        _chains_reuse_buffers(rng, fusion)


def _chains_reuse_buffers(rng, fusion):
    v = gt.Variable(np.ones(6, np.float32))
    xv = _f32(rng, 6)

    @gt.function
    def f(x):
        t = x * 2.0 + 1.0  # the add may write into the multiply's buffer
        kept = gt.reshape(t, [2, 3])  # a view of t: t's buffer is no longer free to overwrite
        v.assign(t * 1.0)  # the variable keeps this buffer
        u = gt.exp(t) - 1.0
        return kept, u, gt.reshape(v.read_value(), [3, 2])

    x = gt.constant(xv)
    concrete = f.get_concrete_function(x)
    kept, u, var_view = f(x)
    t = xv * 2.0 + 1.0
    np.testing.assert_allclose(kept.numpy(), t.reshape(2, 3), rtol=1e-6)
    np.testing.assert_allclose(u.numpy(), np.exp(t) - 1.0, rtol=1e-5)
    np.testing.assert_allclose(v.numpy(), t, rtol=1e-6)
    np.testing.assert_allclose(var_view.numpy(), t.reshape(3, 2), rtol=1e-6)
    types = [step[0].type for step in concrete._program.steps]
    if fusion == "1":  # x * 2.0 + 1.0 and exp(t) - 1.0 are chains
        assert types.count("Fused") == 2
    else:  # the add and the subtract write into the buffers of their first inputs
        assert "Fused" not in types
        assert concrete._program.compiled.source.count("out=") == 2


def test_tracing_devices_do_not_show_in_memory_reports():
    @gt.function
    def f(x):
        return x + 1.0

    f(gt.constant([1.0]))
    assert not [name for name in gt.memory()["devices"] if "tracing" in name]


def test_a_function_called_inside_another_is_inlined_and_reads_variables_at_run_time():
    v = gt.Variable(2.0)

    @gt.function
    def inner(x):
        return x * v

    @gt.function
    def outer(x):
        return inner(x) + 1.0

    x = gt.constant([1.0, 2.0])
    np.testing.assert_allclose(outer(x).numpy(), [3.0, 5.0])
    v.assign(10.0)
    np.testing.assert_allclose(outer(x).numpy(), [11.0, 21.0])
    types = [op.type for op in outer.get_concrete_function(x).graph.get_operations()]
    assert "ReadVariable" in types and outer.experimental_get_tracing_count() == 1


def test_instances_with_traced_methods_are_freed():
    import weakref

    class Layer(gt.Module):
        def __init__(self):
            super().__init__()
            self.w = gt.Variable(2.0)

        @gt.function
        def __call__(self, x):
            return x * self.w

    layer = Layer()
    assert float(layer(gt.constant(3.0))) == 6.0
    ref = weakref.ref(layer)
    del layer
    gc.collect()
    assert ref() is None


def test_random_shapes_may_come_from_gt_shape_known_or_not_while_tracing(tmp_path):
    @gt.function
    def noisy(x):
        batch, dim = gt.shape(x)[0], gt.shape(x)[1]
        return x + gt.random.normal(shape=(batch, dim)) + gt.random.uniform(gt.shape(x))

    x = gt.zeros([2, 3])
    a, b = noisy(x).numpy(), noisy(x).numpy()
    assert a.shape == (2, 3) and np.all(a != b)
    # A None dim: the shape is read when the graph runs (a dynamic_random node), as in TF.
    spec = [gt.TensorSpec([None, 3], gt.float32)]
    dynamic = gt.function(lambda x: x + gt.random.normal(gt.shape(x)), input_signature=spec)
    ints = gt.function(
        lambda x: gt.random.uniform((gt.shape(x)[0], 4), 0, 10, dtype=gt.int32), input_signature=spec
    )
    assert dynamic.get_concrete_function().graph.outputs[0].shape == (None, 3)
    for n in (1, 4):
        z = dynamic(gt.zeros([n, 3])).numpy()
        assert z.shape == (n, 3) and np.all(z != dynamic(gt.zeros([n, 3])).numpy())
        k = ints(gt.zeros([n, 3])).numpy()
        assert k.shape == (n, 4) and k.dtype == np.int32 and k.min() >= 0 and k.max() < 10
    # Saved and loaded, it keeps drawing for any batch size.
    module = gt.Module()
    module.f = dynamic
    gt.saved_model.save(module, str(tmp_path / "m"))
    loaded = gt.saved_model.load(str(tmp_path / "m"))
    assert loaded.f(gt.zeros([5, 3])).shape == (5, 3)
    assert np.all(loaded.f(gt.zeros([2, 3])).numpy() != loaded.f(gt.zeros([2, 3])).numpy())


def test_gradients_of_gathers_along_an_axis_trace_when_their_indices_are_constants():
    # gt.repeat gathers along axis 1 with constant indices; its gradient reads them while tracing.
    x = gt.constant(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    w = gt.constant(np.arange(12.0, dtype=np.float32).reshape(2, 6))

    def grad(x):
        with gt.GradientTape() as tape:
            tape.watch(x)
            y = gt.reduce_sum(gt.repeat(x, 2, axis=1) * w)
        return tape.gradient(y, x)

    want = w.numpy().reshape(2, 3, 2).sum(-1)
    np.testing.assert_array_equal(gt.function(grad)(x).numpy(), want)
    np.testing.assert_array_equal(grad(x).numpy(), want)


def test_a_traced_print_shows_the_graph_tensor_as_tf_does(capsys):
    # The tf.function guide's first example prints its argument while tracing.
    @gt.function
    def double(a):
        print("Tracing with", a)
        return a + a

    assert double(gt.constant(1)).numpy() == 2
    assert capsys.readouterr().out == 'Tracing with Tensor("a:0", shape=(), dtype=int32)\n'

    @gt.function(input_signature=[gt.TensorSpec([None, 3], gt.float32, name="batch"), gt.TensorSpec([2])])
    def two(x, pair):
        print(x, repr(pair))
        return x

    two.get_concrete_function()
    want = (
        "Tensor(\"batch:0\", shape=(None, 3), dtype=float32) <gt.Tensor 'pair:0' shape=(2,) dtype=float32>\n"
    )
    assert capsys.readouterr().out == want

    @gt.function
    def nested(items, *rest, scale):
        print(*items, *rest, scale)
        return scale

    nested([gt.constant(1.0), gt.constant(2.0)], gt.constant([1]), scale=gt.constant(3.0))
    out = capsys.readouterr().out
    assert 'Tensor("items_0:0"' in out and 'Tensor("items_1:0"' in out
    assert 'Tensor("rest_0:0", shape=(1,), dtype=int32)' in out and 'Tensor("scale:0"' in out


def test_a_concrete_function_binds_its_call_as_tf_does():
    @gt.function
    def power(a, b):
        return a**b

    square = power.get_concrete_function(a=gt.TensorSpec(None, gt.float32), b=2)
    assert float(square(gt.constant(10.0))) == 100.0  # b keeps its traced Python value
    assert float(square(a=gt.constant(3.0))) == 9.0
    assert float(square(gt.constant(3.0), b=2)) == 9.0
    with pytest.raises(TypeError, match="traced as the Python value 2"):
        square(gt.constant(10.0), b=3)
    with pytest.raises(TypeError, match="missing tensor argument 'a'"):
        square(b=2)
    with pytest.raises(TypeError, match="unexpected or repeated argument 'c'"):
        square(gt.constant(1.0), c=1)
    with pytest.raises(gt.errors.InvalidArgumentError, match="does not match"):
        square(gt.constant(1, gt.int32))  # TF's class for a tensor of another dtype


def test_signatures_print_as_tf_lays_them_out():
    v = gt.Variable(1.0, name="scale")

    @gt.function
    def f(x, n, pair=None):
        return x * v, [n]

    concrete = f.get_concrete_function(gt.TensorSpec([None], gt.float32), 3, pair=(1, 2))
    assert str(concrete) == (
        "ConcreteFunction Input Parameters:\n"
        "  x (POSITIONAL_OR_KEYWORD): TensorSpec(shape=(None,), dtype=gt.float32, name=None)\n"
        "  n (POSITIONAL_OR_KEYWORD): Literal[3]\n"
        "  pair (POSITIONAL_OR_KEYWORD): Tuple[Literal[1], Literal[2]]\n"
        "Output Type:\n"
        "  Tuple[TensorSpec(shape=(None,), dtype=gt.float32, name=None), List[Literal[3]]]\n"
        "Captures:\n"
        "  scale:0: Variable(shape=(), dtype=gt.float32, name=None)"
    )
    f(gt.constant([1.0, 2.0]), 4)
    printed = f.pretty_printed_concrete_signatures()
    assert printed.count("Input Parameters:") == 2 and "\n\nInput Parameters:" in printed
    assert "  n (POSITIONAL_OR_KEYWORD): Literal[4]" in printed


def test_returned_variables_and_assignments_come_back_as_values():
    v = gt.Variable(1.0)

    @gt.function
    def read():
        return v

    @gt.function
    def chained():
        return v.assign(5.0).assign_add(1.0)

    first = read()
    assert isinstance(first, gt.Tensor) and not isinstance(first, gt.Variable) and float(first) == 1.0
    assert float(chained()) == 6.0 and float(v) == 6.0
    assert float(read()) == 6.0


def test_a_leaked_symbolic_tensor_raises_attribute_error_as_tf():
    leaked = []

    @gt.function
    def leaky(a):
        leaked.append(a + 1)
        return a + 2

    assert int(leaky(gt.constant(1))) == 3
    with pytest.raises(AttributeError, match="leaked out through a Python side effect"):
        leaked[0].numpy()


def test_multi_line_values_print_on_their_own_line_as_tf():
    assert str(gt.ones([2, 2])) == "gt.Tensor(\n[[1. 1.]\n [1. 1.]], shape=(2, 2), dtype=float32)"
    assert str(gt.constant([1, 2])) == "gt.Tensor([1 2], shape=(2,), dtype=int32)"


def test_tensor_only_calls_find_the_trace_the_full_signature_finds():
    # Tensor-only calls take a shortcut to the key (_concrete_for); it must be the same key.
    from gputensor.graph import polymorphic_function as pf

    @gt.function
    def f(a, b):
        return a + gt.cast(b, a.dtype)

    x, y = gt.constant([1.0, 2.0]), gt.constant([3, 4])
    for args in [(x, y), (x, y), (gt.constant([5.0, 6.0]), y)]:
        np.testing.assert_array_equal(f(*args).numpy(), args[0].numpy() + args[1].numpy())
    assert f.experimental_get_tracing_count() == 1
    f(x, 2)  # a Python value: the full signature
    f(gt.constant([1.0, 2.0, 3.0]), gt.constant([1, 2, 3]))  # a new shape: traced
    f(x, y)
    assert f.experimental_get_tracing_count() == 3
    for args in [(x,), (x, y), ()]:
        flat = pf.nest.flatten((args, {}))
        assert pf._signature((args, {}), flat)[0] == pf._positional_structure(len(args))
