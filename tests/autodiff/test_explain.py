"""tape.explain: why a gradient is None or zero, one case per reason."""

from __future__ import annotations

import pytest

import gputensor as gt
from gputensor.autodiff import reason_for_variable


def _explain_one(build):
    """Runs ``build(tape) -> (target, source)`` on a persistent tape; returns (gradient, report)."""
    with gt.GradientTape(persistent=True) as tape:
        target, source = build(tape)
    return tape.gradient(target, source), tape.explain(target, [source])[0]


def unwatched_constant(tape):
    x = gt.constant(2.0)
    return x * x, x


def integer_source(tape):
    x = gt.constant(2)
    return gt.cast(x, gt.float32) * 2.0, x


def non_trainable_variable(tape):
    v = gt.Variable(2.0, trainable=False, name="frozen")
    return v * 2.0, v


def variable_read_before_the_tape(tape):
    v = gt.Variable(2.0, name="early")
    return gt.constant(1.0) * 2.0, v


def stop_gradient_on_the_path(tape):
    x = gt.constant(2.0)
    tape.watch(x)
    return gt.stop_gradient(x * 2.0) * 3.0, x


def stop_recording_on_the_path(tape):
    x = gt.constant(2.0)
    tape.watch(x)
    with tape.stop_recording():
        y = gt.exp(x)
    return y * 2.0, x


def non_differentiable_op(tape):
    x = gt.constant([1.0, 3.0, 2.0])
    tape.watch(x)
    return gt.cast(gt.argmax(x), gt.float32) * 2.0, x


def cast_to_integer(tape):
    x = gt.constant([1.0, 3.0])
    tape.watch(x)
    return gt.cast(gt.cast(x * 2.0, gt.int32), gt.float32), x


def left_through_numpy(tape):
    x = gt.constant([1.0, 2.0])
    tape.watch(x)
    y = gt.sin(x)
    return gt.constant(y.numpy() * 2.0), x


def left_through_float(tape):
    x = gt.constant(1.5)
    tape.watch(x)
    y = gt.exp(x)
    return gt.constant(float(y)) * 2.0, x


def not_on_the_path(tape):
    x, z = gt.constant(1.0), gt.constant(2.0)
    tape.watch([x, z])
    _ = x * 3.0
    return z * 2.0, x


def integer_target(tape):
    x = gt.constant(1.0)
    tape.watch(x)
    return gt.constant(3) * 2, x


def zero_gradient(tape):
    x = gt.constant([-1.0, -2.0])
    tape.watch(x)
    return gt.nn.relu(x) * 2.0, x


def connected(tape):
    x = gt.constant([1.0, 2.0])
    tape.watch(x)
    return x * x, x


REASONS = [
    (unwatched_constant, "none", "not_watched", "tape.watch", None),
    (integer_source, "none", "integer_dtype", "int32", None),
    (non_trainable_variable, "none", "not_trainable", "trainable=False", None),
    (
        variable_read_before_the_tape,
        "none",
        "variable_not_read",
        "not read while the tape was recording",
        None,
    ),
    (stop_gradient_on_the_path, "none", "stop_gradient", "stop_gradient", None),
    (stop_recording_on_the_path, "none", "stop_recording", "stop_recording", "exp"),
    (non_differentiable_op, "none", "non_differentiable", "'argmax'", "argmax"),
    (cast_to_integer, "none", "integer_output", "op 'cast'", "cast"),
    (left_through_numpy, "none", "left_tape", ".numpy()", "sin"),
    (left_through_float, "none", "left_tape", "float()", "exp"),
    (not_on_the_path, "none", "not_connected", "does not depend on it", None),
    (integer_target, "none", "integer_target", "int32", None),
    (zero_gradient, "zero", "zero_gradient", "every element of its gradient is 0", None),
    (connected, "connected", "connected", "connected", None),
]


@pytest.mark.parametrize("build, status, code, text, op", REASONS, ids=[r[0].__name__ for r in REASONS])
def test_explain_names_the_reason(build, status, code, text, op):
    gradient, report = _explain_one(build)
    assert (report.status, report.code) == (status, code), str(report)
    assert text in report.reason
    assert report.op == op
    if status == "none":
        assert gradient is None
    else:
        assert gradient is not None


def test_explain_after_a_non_persistent_gradient_returned_none():
    v = gt.Variable(1.0, name="lonely")
    w = gt.Variable(2.0, name="used")
    with gt.GradientTape() as tape:
        loss = w * 3.0
    gv, gw = tape.gradient(loss, [v, w])
    assert gv is None and gw is not None
    report = tape.explain(loss, [v])[0]
    assert report.code == "variable_not_read"
    assert "lonely" in str(tape.explain(loss, [v]))
    with pytest.raises(RuntimeError, match="persistent=True"):
        tape.explain(loss, [w])


def test_reason_is_remembered_for_optimizer_warnings():
    v = gt.Variable(1.0, trainable=False)
    with gt.GradientTape() as tape:
        loss = v * 2.0
    assert tape.gradient(loss, v) is None
    assert "trainable=False" in reason_for_variable(v)


def test_explain_names_another_active_tape():
    x = gt.constant(2.0)
    with gt.GradientTape() as outer:
        outer.watch(x)
        with gt.GradientTape(persistent=True) as inner:
            y = x * x
            report = inner.explain(y, [x])[0]
    assert report.code == "other_tape"
    assert outer.gradient(y, x) is not None


def test_explanation_prints_one_line_per_source():
    x, y = gt.constant(1.0), gt.constant(2.0)
    with gt.GradientTape(persistent=True) as tape:
        tape.watch(x)
        z = x * 2.0 + y
    text = str(tape.explain(z, {"a": x, "b": y}))
    lines = text.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("tensor of shape () and dtype float32: connected")
    assert "tape.watch" in lines[1]
