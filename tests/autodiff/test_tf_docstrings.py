"""The ``>>>`` examples of TensorFlow's autodiff API docstrings (tf.GradientTape,
tf.custom_gradient, tf.recompute_grad, tf.autodiff.ForwardAccumulator, tf.IndexedSlices; the
fixture fixtures/tf_docstrings.json is written by scripts/make_tf_docstring_fixtures.py from
TensorFlow 2.21) run with ``tf`` -> ``gt`` and print what they say (``tf.`` read as ``gt.``)."""

from __future__ import annotations

import contextlib
import doctest
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import gputensor as gt

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "tf_docstrings.json").read_text())["docstrings"]

# Examples left out, by (symbol, a piece of their source): what gt does not have.
# Examples left out (docstring, a piece of the example's source: "" for all of it), and why.
LEFT_OUT = {
    ("tf.GradientTape.gradient", ""): "tf.ragged (RaggedTensor) is not built",
}


class _Checker(doctest.OutputChecker):
    def check_output(self, want: str, got: str, optionflags: int) -> bool:
        return super().check_output(want.replace("tf.", "gt."), got, optionflags)


class _ToStdout:
    """tf.print (and gt.print) write to stderr; TF's doctests read that output with stdout's."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@pytest.mark.parametrize("name", sorted(n for n in FIXTURE if (n, "") not in LEFT_OUT))
def test_tf_docstring_examples(name):
    test = doctest.DocTestParser().get_doctest(FIXTURE[name], {"tf": gt, "np": np}, name, name, 0)
    kept = [e for e in test.examples if not any(n == name and piece in e.source for n, piece in LEFT_OUT)]
    test.examples = kept
    failures: list[str] = []
    runner = doctest.DocTestRunner(
        checker=_Checker(), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    with contextlib.redirect_stderr(_ToStdout()):
        result = runner.run(test, out=failures.append)
    assert result.failed == 0, "".join(failures)
    assert result.attempted > 0
