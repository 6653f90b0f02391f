"""gt.saved_model: what a saved model computes after load (here and in a fresh process without the
source) against the original; the format's refusals and failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import gputensor as gt

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Model(gt.Module):
    def __init__(self):
        super().__init__()
        self.w = gt.Variable(np.arange(6, dtype=np.float32).reshape(3, 2) / 10)
        self.b = gt.Variable(np.ones(2, np.float32), trainable=False)

    @gt.function
    def __call__(self, x):
        return {"y": gt.nn.relu(gt.matmul(x, self.w) + self.b), "n": 3, "pair": (x * 2.0, [x - 1.0])}

    @gt.function
    def train(self, x, lr):
        with gt.GradientTape() as tape:
            loss = gt.reduce_sum(gt.square(gt.matmul(x, self.w)))
        self.w.assign_sub(lr * tape.gradient(loss, self.w))
        return loss


def _traced(tmp_path):
    m = Model()
    x = gt.constant(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))
    m(x)
    m.train(x, 0.01)
    path = str(tmp_path / "model")
    gt.saved_model.save(m, path)
    return m, x, path


def test_a_loaded_model_computes_what_the_original_computes(tmp_path):
    m, x, path = _traced(tmp_path)
    loaded = gt.saved_model.load(path)
    want, got = m(x), loaded(x)
    np.testing.assert_allclose(got["y"].numpy(), want["y"].numpy(), rtol=1e-6)
    assert got["n"] == 3
    np.testing.assert_allclose(got["pair"][0].numpy(), x.numpy() * 2.0)
    np.testing.assert_allclose(got["pair"][1][0].numpy(), x.numpy() - 1.0)
    assert [v.trainable for v in loaded.variables] == [True, False]
    assert len(loaded.trainable_variables) == 1
    for _ in range(2):  # the loaded train step writes the loaded variable, as the original does
        np.testing.assert_allclose(float(loaded.train(x, 0.01)), float(m.train(x, 0.01)), rtol=1e-6)
    np.testing.assert_allclose(loaded.variables[0].numpy(), m.w.numpy(), rtol=1e-6)


def test_a_fresh_process_runs_it_without_the_source(tmp_path):
    m, x, path = _traced(tmp_path)
    code = (
        "import sys, numpy as np, gputensor as gt\n"
        "m = gt.saved_model.load(sys.argv[1])\n"
        "x = gt.constant(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))\n"
        "print(repr(m(x)['y'].numpy().tolist()), float(m.train(x, 0.01)))\n"
    )
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run(
        [sys.executable, "-c", code, path],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=str(tmp_path),
    )
    y_text, loss = out.stdout.rsplit(" ", 1)
    np.testing.assert_allclose(np.array(eval(y_text)), m(x)["y"].numpy(), rtol=1e-6)  # noqa: S307 - our own repr
    np.testing.assert_allclose(float(loss), float(m.train(x, 0.01)), rtol=1e-6)


def test_a_gt_function_saves_too_and_unknown_signatures_are_refused(tmp_path):
    @gt.function
    def f(x, scale):
        return gt.exp(x) * scale

    x = gt.constant([0.0, 1.0])
    f(x, 2.0)
    path = str(tmp_path / "f")
    gt.saved_model.save(f, path)
    loaded = gt.saved_model.load(path)
    np.testing.assert_allclose(loaded(x, 2.0).numpy(), f(x, 2.0).numpy())
    np.testing.assert_allclose(loaded(np.array([0.0, 1.0], np.float32), 2.0).numpy(), f(x, 2.0).numpy())
    with pytest.raises(ValueError, match="no saved signature matches.*float32\\[2\\], 2.0"):
        loaded(x, 3.0)
    with pytest.raises(ValueError, match="no saved signature matches"):
        loaded(gt.constant([0.0, 1.0, 2.0]), 2.0)


def test_saving_over_a_model_replaces_it_and_a_failed_save_leaves_it(tmp_path, monkeypatch):
    m, x, path = _traced(tmp_path)
    m.w.assign(m.w * 0.0)
    gt.saved_model.save(m, path)
    assert float(gt.reduce_sum(gt.saved_model.load(path).variables[0])) == 0.0
    m.w.assign(m.w + 5.0)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        gt.saved_model.save(m, path)
    monkeypatch.undo()
    assert float(gt.reduce_sum(gt.saved_model.load(path).variables[0])) == 0.0  # the old model
    assert sorted(os.listdir(tmp_path)) == ["model"]  # no temporary directory left


class Looper(gt.Module):
    """Control flow: a cond that writes a variable, a while loop, and their gradients inside."""

    def __init__(self):
        super().__init__()
        self.w = gt.Variable(np.array([0.5, -1.5], np.float32))
        self.calls = gt.Variable(0.0, trainable=False)

    @gt.function
    def __call__(self, x, n):
        def body(i, s):
            return i + 1, gt.cond(gt.reduce_sum(s) > 4.0, lambda: s * 0.5, lambda: s * x + self.w)

        with gt.GradientTape() as tape:
            tape.watch(x)
            _, s = gt.while_loop(lambda i, s: i < n, body, (0, x), maximum_iterations=8)
            loss = gt.reduce_sum(s * s)
        dx, dw = tape.gradient(loss, [x, self.w])
        y = gt.cond(loss > 3.0, lambda: self._count(loss), lambda: -loss)
        return y, dx, dw

    def _count(self, loss):
        self.calls.assign_add(1.0)  # a write inside a branch: only when it runs
        return loss


CF_CODE = (
    "import sys, numpy as np, gputensor as gt\n"
    "m = gt.saved_model.load(sys.argv[1])\n"
    "for n in (0, 2, 5, 20):\n"
    "    y, dx, dw = m(gt.constant(np.array([0.9, 1.3], np.float32)), gt.constant(n))\n"
    "    print(repr([float(y)] + dx.numpy().tolist() + dw.numpy().tolist()))\n"
    "print(float(m.variables[1].numpy()))\n"
)


def test_control_flow_and_its_gradients_save_and_run_in_a_fresh_process(tmp_path):
    m = Looper()
    x = gt.constant(np.array([0.9, 1.3], np.float32))
    m(x, gt.constant(3))
    path = str(tmp_path / "looper")
    gt.saved_model.save(m, path)
    meta = json.load(open(os.path.join(path, "saved_model.json")))
    assert meta["version"] == 4
    assert {"If", "While"} <= {n["type"] for n in meta["functions"]["__call__"][0]["nodes"]}
    saved_calls = float(m.calls.numpy())
    m.calls.assign(0.0)
    want = []
    for n in (0, 2, 5, 20):
        y, dx, dw = m(x, gt.constant(n))
        want.append([float(y)] + dx.numpy().tolist() + dw.numpy().tolist())
    loaded = gt.saved_model.load(path)
    for n, row in zip((0, 2, 5, 20), want):
        y, dx, dw = loaded(x, gt.constant(n))
        np.testing.assert_allclose([float(y)] + dx.numpy().tolist() + dw.numpy().tolist(), row, rtol=1e-5)
    ran = sum(row[0] > 0 for row in want)  # y = loss where the writing branch ran, else -loss
    assert 0 < ran < 4 and float(m.calls.numpy()) == ran
    assert float(loaded.variables[1].numpy()) == saved_calls + ran
    out = subprocess.run(
        [sys.executable, "-c", CF_CODE, path],
        env=dict(os.environ, PYTHONPATH=ROOT),
        capture_output=True,
        text=True,
        check=True,
        cwd=str(tmp_path),
    )
    lines = out.stdout.strip().splitlines()
    for line, row in zip(lines, want):
        np.testing.assert_allclose(eval(line), row, rtol=1e-5)  # noqa: S307 - our own repr
    assert float(lines[-1]) == saved_calls + ran


def test_refusals_and_damaged_files(tmp_path):
    with pytest.raises(ValueError, match="no traced gt.function"):
        gt.saved_model.save(Model(), str(tmp_path / "untraced"))

    @gt.function
    def loud(x):
        gt.print(x)
        return x

    loud(gt.constant(1.0))
    with pytest.raises(gt.errors.UnimplementedError, match="gt.print"):
        gt.saved_model.save(loud, str(tmp_path / "loud"))
    assert not (tmp_path / "loud").exists()

    with pytest.raises(gt.errors.NotFoundError, match="no saved model"):
        gt.saved_model.load(str(tmp_path / "missing"))

    _, _, path = _traced(tmp_path)
    meta_path = os.path.join(path, "saved_model.json")
    meta = json.load(open(meta_path))
    meta["version"] = 99
    json.dump(meta, open(meta_path, "w"))
    with pytest.raises(ValueError, match="format version 99, newer"):
        gt.saved_model.load(path)
    open(meta_path, "w").write("{not json")
    with pytest.raises(gt.errors.DataLossError, match="not a readable saved model"):
        gt.saved_model.load(path)
    meta["version"] = 1
    meta["functions"]["train"][0]["nodes"][1]["type"] = "no_such_op"
    json.dump(meta, open(meta_path, "w"))
    with pytest.raises(gt.errors.DataLossError, match="unknown op type 'no_such_op'"):
        gt.saved_model.load(path)
    os.remove(os.path.join(path, "variables.npz"))
    meta["functions"]["train"][0]["nodes"][1]["type"] = "ReadVariable"
    json.dump(meta, open(meta_path, "w"))
    with pytest.raises(gt.errors.DataLossError, match="corrupted"):
        gt.saved_model.load(path)


class Scaled(gt.Module):
    def __init__(self):
        super().__init__()
        self.w = gt.Variable(3.0)

    @gt.function(input_signature=[gt.TensorSpec(None)])
    def f(self, x):
        return x * x * self.w


def test_a_tape_differentiates_through_a_loaded_function_of_unknown_rank(tmp_path):
    m = Scaled()
    m.f(gt.constant(1.0))
    path = str(tmp_path / "scaled")
    gt.saved_model.save(m, path, options=gt.saved_model.SaveOptions(experimental_custom_gradients=True))
    loaded = gt.saved_model.load(path, options=gt.saved_model.LoadOptions())
    # TensorSpec(None) saves as unknown rank: any shape runs.
    np.testing.assert_allclose(loaded.f(gt.constant([1.0, 2.0])).numpy(), [3.0, 12.0])
    v = gt.Variable(2.0)
    with gt.GradientTape() as tape:
        y = loaded.f(v * v)  # 3 v^4
    dv, dw = tape.gradient(y, [v, loaded.trainable_variables[0]])
    assert float(y) == 48.0
    assert float(dv) == pytest.approx(12 * 2.0**3)  # d(3 v^4)/dv
    assert float(dw) == pytest.approx(2.0**4)  # d(w v^4)/dw
    with gt.GradientTape() as tape:  # the same as the original function's gradient
        y = m.f(v * v)
    assert float(tape.gradient(y, v)) == pytest.approx(float(dv))


def test_options_must_be_the_options_classes(tmp_path):
    m = Scaled()
    m.f(gt.constant(1.0))
    with pytest.raises(TypeError, match="SaveOptions"):
        gt.saved_model.save(m, str(tmp_path / "a"), options={"experimental_custom_gradients": True})
    gt.saved_model.save(m, str(tmp_path / "a"))
    with pytest.raises(TypeError, match="LoadOptions"):
        gt.saved_model.load(str(tmp_path / "a"), options=gt.saved_model.SaveOptions())
    with pytest.raises(TypeError, match="function_aliases"):
        gt.saved_model.SaveOptions(function_aliases=["f"])
    assert gt.saved_model.SaveOptions().experimental_custom_gradients is True  # TF's default
