"""gt.Module: naming, tracking order, name scopes, and training the seed example with GradientTape."""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt


# The seed's example, with tf replaced by gt.
class Dense(gt.Module):
    def __init__(self, in_units, out_units, name=None):
        super().__init__(name=name)
        w_init = gt.random.normal([in_units, out_units])
        b_init = gt.zeros([out_units])
        self.w = gt.Variable(w_init, name="w")
        self.b = gt.Variable(b_init, name="b")

    def __call__(self, x):
        y = gt.matmul(x, self.w) + self.b
        return y


class SequentialModel(gt.Module):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.dense_1 = Dense(3, 3)
        self.dense_2 = Dense(3, 2)

    def __call__(self, x):
        x = self.dense_1(x)
        x = gt.nn.relu(x)
        return gt.nn.softmax(self.dense_2(x))


def test_seed_example_runs_and_names_variables_as_tf():
    model = SequentialModel()
    out = model(gt.constant([[2.0, 2.0, 2.0]]))
    assert out.shape == (1, 2)
    np.testing.assert_allclose(out.numpy().sum(), 1.0, rtol=1e-6)
    assert model.name == "sequential_model"
    assert [v.name for v in model.variables] == ["b:0", "w:0", "b:0", "w:0"]
    assert model.submodules == (model.dense_1, model.dense_2)
    assert model.trainable_variables == (model.dense_1.b, model.dense_1.w, model.dense_2.b, model.dense_2.w)
    assert model.dense_1.name == "dense"


def test_training_the_seed_example_with_sgd_fits_a_separable_problem():
    gt.random.set_seed(7)
    rng = np.random.default_rng(0)
    n = 64
    labels = rng.integers(0, 2, n)
    centres = np.array([[-1.5, -1.0, -0.5], [1.5, 1.0, 0.5]])
    x = gt.constant((centres[labels] + 0.3 * rng.standard_normal((n, 3))).astype(np.float32))
    y = gt.constant(np.eye(2, dtype=np.float32)[labels])
    model = SequentialModel()
    for _ in range(300):
        with gt.GradientTape() as tape:
            p = model(x)
            loss = -gt.reduce_mean(gt.reduce_sum(y * gt.math.log(p + 1e-7), axis=1))
        grads = tape.gradient(loss, model.trainable_variables)
        for v, g in zip(model.trainable_variables, grads):
            v.assign_sub(0.2 * g)
    accuracy = np.mean(np.argmax(model(x).numpy(), axis=1) == labels)
    assert accuracy == 1.0
    assert float(loss) < 0.1


# ------------------------------------------------------------------ naming
@pytest.mark.parametrize(
    "cls_name, expected",
    [("SequentialModel", "sequential_model"), ("MLPBlock", "mlp_block"), ("Dense2D", "dense2_d"), ("x", "x")],
)
def test_default_name_is_class_name_in_snake_case(cls_name, expected):
    cls = type(cls_name, (gt.Module,), {})
    assert cls().name == expected


@pytest.mark.parametrize("name", ["has space", "1starts_with_digit", "dash-ed", ""])
def test_invalid_module_name_raises(name):
    with pytest.raises(ValueError, match="not a valid module name"):
        gt.Module(name=name)


def test_name_scope_includes_enclosing_scopes():
    with gt.name_scope("outer"):
        m = gt.Module(name="inner")
    assert m.name == "inner"
    assert m.name_scope.name == "outer/inner/"


class Built(gt.Module):
    def __init__(self, units, name=None):
        super().__init__(name=name)
        self.units = units
        self.w = None

    @gt.Module.with_name_scope
    def __call__(self, x):
        if self.w is None:
            self.w = gt.Variable(gt.ones([x.shape[-1], self.units]), name="w")
        return gt.matmul(x, self.w)


def test_with_name_scope_names_variables_made_in_the_method():
    m = Built(2, name="lazy")
    m(gt.ones([1, 3]))
    assert m.w.name == "lazy/w:0"
    assert m.variables == (m.w,)


def test_variables_made_in_init_are_not_in_the_module_scope():
    assert [v.name for v in Dense(2, 2, name="dense_x").variables] == ["b:0", "w:0"]


# ---------------------------------------------------------------- tracking
class Container(gt.Module):
    def __init__(self):
        super().__init__()
        self.z_list = [
            gt.Variable(1.0, name="l0"),
            (gt.Variable(2.0, name="t0"), Dense(1, 1, name="in_tuple")),
        ]
        self.a_dict = {"y": gt.Variable(3.0, name="dy"), "x": gt.Variable(4.0, name="dx", trainable=False)}
        self.m_child = Dense(1, 1, name="child")
        self.not_tracked = 5.0


def test_tracking_order_is_sorted_attributes_then_submodules_depth_first():
    m = Container()
    names = [v.name for v in m.variables]
    # own attributes sorted (a_dict by key, m_child skipped as a module, z_list in order), then submodules
    assert names == ["dx:0", "dy:0", "l0:0", "t0:0", "b:0", "w:0", "b:0", "w:0"]
    assert m.submodules == (m.m_child, m.z_list[1][1])
    assert [v.name for v in m.non_trainable_variables] == ["dx:0"]
    assert len(m.trainable_variables) == 7


def test_shared_variables_and_modules_are_listed_once():
    m = gt.Module()
    child = Dense(1, 1)
    m.first = child
    m.second = child
    m.again = [child.w]
    assert m.submodules == (child,)
    assert len(m.variables) == 2


def test_cycles_between_modules_terminate():
    a, b = gt.Module(name="a"), gt.Module(name="b")
    a.other, b.other = b, a
    a.v = gt.Variable(1.0)
    assert a.submodules == (b,)
    assert a.variables == (a.v,)


def test_flatten_with_path_reports_attribute_paths():
    m = Container()
    paths = [p for p, _ in m._flatten(predicate=lambda x: isinstance(x, gt.Variable), with_path=True)]
    assert ("a_dict", "x") in paths
    assert ("m_child", "w") in paths
    assert ("z_list", 1, 1, "b") in paths


def test_module_variables_train_with_gradient_tape():
    m = Dense(2, 1)
    x = gt.constant([[1.0, 2.0]])
    with gt.GradientTape() as tape:
        y = gt.reduce_sum(m(x))
    gb, gw = tape.gradient(y, m.trainable_variables)
    np.testing.assert_allclose(gb.numpy(), [1.0])
    np.testing.assert_allclose(gw.numpy(), [[1.0], [2.0]])


# ------------------------------------------- tensorflow.org/guide/intro_to_modules
class SimpleModule(gt.Module):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.a_variable = gt.Variable(5.0, name="train_me")
        self.non_trainable_variable = gt.Variable(5.0, trainable=False, name="do_not_train_me")

    def __call__(self, x):
        return self.a_variable * x + self.non_trainable_variable


def test_guide_simple_module():
    m = SimpleModule(name="simple")
    assert m(gt.constant(5.0)).numpy() == 30.0
    assert [v.name for v in m.trainable_variables] == ["train_me:0"]
    assert [v.name for v in m.variables] == ["train_me:0", "do_not_train_me:0"]


class FlexibleDenseModule(gt.Module):
    def __init__(self, out_features, name=None):
        super().__init__(name=name)
        self.is_built = False
        self.out_features = out_features

    def __call__(self, x):
        if not self.is_built:
            self.w = gt.Variable(gt.random.normal([x.shape[-1], self.out_features]), name="w")
            self.b = gt.Variable(gt.zeros([self.out_features]), name="b")
            self.is_built = True
        return gt.nn.relu(gt.matmul(x, self.w) + self.b)


class MySequentialModule(gt.Module):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.dense_1 = FlexibleDenseModule(out_features=3)
        self.dense_2 = FlexibleDenseModule(out_features=2)

    def __call__(self, x):
        return self.dense_2(self.dense_1(x))


def test_guide_modules_that_build_variables_on_first_call():
    m = MySequentialModule(name="the_model")
    assert m.variables == ()
    assert m(gt.constant([[2.0, 2.0, 2.0]])).shape == (1, 2)
    assert [tuple(v.shape) for v in m.variables] == [(3,), (3, 3), (2,), (3, 2)]
    assert m.submodules == (m.dense_1, m.dense_2)
    assert m.dense_1.name == "flexible_dense_module"


def test_guide_basic_training_loop_fits_a_line():
    class MyModel(gt.Module):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.w = gt.Variable(5.0)
            self.b = gt.Variable(0.0)

        def __call__(self, x):
            return self.w * x + self.b

    gt.random.set_seed(3)
    x = gt.random.normal(shape=[200])
    y = x * 3.0 + 2.0
    model = MyModel()
    assert [v.numpy() for v in model.variables] == [0.0, 5.0]  # b, w: sorted by attribute
    for _ in range(100):
        with gt.GradientTape() as t:
            current_loss = gt.reduce_mean(gt.square(y - model(x)))
        dw, db = t.gradient(current_loss, [model.w, model.b])
        model.w.assign_sub(0.1 * dw)
        model.b.assign_sub(0.1 * db)
    assert model.w.numpy() == pytest.approx(3.0, abs=1e-3)
    assert model.b.numpy() == pytest.approx(2.0, abs=1e-3)


def test_name_scope_context_names_variables():
    m = gt.Module(name="scoped")
    with m.name_scope:
        v = gt.Variable(1.0, name="v")
    assert v.name == "scoped/v:0"


def test_modules_built_inside_a_scoped_method_nest_their_scopes():
    class Outer(gt.Module):
        @gt.Module.with_name_scope
        def build(self):
            self.inner = Built(1, name="inner")
            self.inner(gt.ones([1, 2]))

    outer = Outer(name="outer")
    outer.build()
    assert outer.inner.name_scope.name == "outer/inner/"
    assert outer.inner.w.name == "outer/inner/w:0"


def test_flatten_without_recursion_lists_only_own_attributes():
    m = Container()
    own = list(m._flatten(recursive=False, predicate=lambda x: isinstance(x, gt.Variable)))
    assert [v.name for v in own] == ["dx:0", "dy:0", "l0:0", "t0:0"]
