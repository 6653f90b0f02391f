"""gt.print against the text TF 2.21's tf.print wrote for the same values (captured once)."""

from __future__ import annotations

import io

import numpy as np
import pytest

import gputensor as gt

# (values, what tf.print wrote), captured with tensorflow-cpu 2.21.0.
TF_OUTPUT = [
    (lambda: [gt.constant([1, 2, 3]), gt.constant(2.5), "hi"], "[1 2 3] 2.5 hi\n"),
    (lambda: [gt.constant([[1.5, 2.0], [3.25, 4.0]])], "[[1.5 2]\n [3.25 4]]\n"),
    (lambda: [gt.range(10), gt.constant([0.1, 1e-8, 3.0]), gt.constant(True), 7], "[0 1 2 ... 7 8 9] [0.1 1e-08 3] 1 7\n"),
    (lambda: [gt.constant(np.pi, gt.float32), gt.constant(np.pi, gt.float64), gt.constant(123456789.0)],
     "3.14159274 3.1415926535897931 123456792\n"),
    (lambda: [gt.constant(1e20), gt.constant(-0.0), gt.constant(np.nan), gt.constant(np.inf), gt.constant([True, False])],
     "1e+20 -0 nan inf [1 0]\n"),
    (lambda: [gt.zeros([0, 3]), gt.constant([[[1, 2], [3, 4]], [[5, 6], [7, 8]]])],
     "[] [[[1 2]\n  [3 4]]\n\n [[5 6]\n  [7 8]]]\n"),
    (lambda: [gt.reshape(gt.range(100), [10, 10])],
     "[[0 1 2 ... 7 8 9]\n [10 11 12 ... 17 18 19]\n [20 21 22 ... 27 28 29]\n ...\n"
     " [70 71 72 ... 77 78 79]\n [80 81 82 ... 87 88 89]\n [90 91 92 ... 97 98 99]]\n"),
]  # fmt: skip


@pytest.mark.parametrize("case", range(len(TF_OUTPUT)))
def test_eager_print_writes_what_tf_print_writes(case):
    make, want = TF_OUTPUT[case]
    out = io.StringIO()
    gt.print(*make(), output_stream=out)
    assert out.getvalue() == want


def test_summarize_sep_end_and_file_streams(tmp_path):
    out = io.StringIO()
    gt.print(gt.range(10), summarize=2, output_stream=out)
    gt.print("a", "b", sep=",", end="!\n", output_stream=out)
    gt.print(gt.range(10), summarize=-1, output_stream=out)
    assert out.getvalue() == "[0 1 ... 8 9]\na,b!\n[0 1 2 3 4 5 6 7 8 9]\n"
    path = tmp_path / "log.txt"
    gt.print(gt.constant([1.5]), output_stream=f"file://{path}")
    gt.print("again", output_stream=f"file://{path}")
    assert path.read_text() == "[1.5]\nagain\n"
    with pytest.raises(ValueError, match="file://"):
        gt.print("x", output_stream="stdout")


def test_inside_a_function_it_prints_every_call_with_that_calls_values():
    out = io.StringIO()
    v = gt.Variable(1.0)

    @gt.function
    def f(x):
        gt.print("x", x, "v", v, output_stream=out)
        gt.print("x", x, "v", v, output_stream=out)  # a twin: both print (not merged)
        v.assign_add(1.0)
        return x * 2.0

    f(gt.constant([1.0, 2.0]))
    f(gt.constant([3.0, 4.0]))
    assert out.getvalue() == "x [1 2] v 1\n" * 2 + "x [3 4] v 2\n" * 2
    with gt.GradientTape() as tape:  # the recorded executor prints too
        x = gt.constant([5.0, 6.0])
        tape.watch(x)
        y = f(x)
    assert out.getvalue().endswith("x [5 6] v 3\n")
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [2.0, 2.0])
