"""Comparing what a TensorFlow guide's code prints with gputensor against what it printed with
TensorFlow (a fixture made by scripts/make_tf_guide_fixtures.py).

A guide module (``tests/<area>/guides/guide_<name>.py``) holds the guide's code in ``run(tf)``;
its fixture is ``fixtures/<name>.txt`` beside it.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import pytest

_NUMBER = re.compile(r"-?\d+\.\d*(?:e[-+]?\d+)?|-?\d+")


def normalized(line: str) -> str:
    """TF's names for its own classes become gt's (``tf.Tensor(`` -> ``gt.Tensor(``)."""
    return (
        line.replace("tf.Tensor", "gt.Tensor")
        .replace("tf.Variable", "gt.Variable")
        .replace("dtype=tf.", "dtype=gt.")
    )


def _skeleton(line: str) -> str:
    """The line without its numbers and NumPy's alignment padding (also the padding before a
    closing bracket: ``0.6652409 ]`` and ``0.66524094]`` differ only in the last digit)."""
    return re.sub(r"\s+\]", "]", re.sub(r"\s+", " ", _NUMBER.sub("#", line))).strip()


def assert_same_lines(got: list[str], want: list[str], rel: float = 1e-5, abs_: float = 1e-6) -> None:
    """Line by line: the words exactly, the numbers to float32 rounding (TF's kernels, e.g. its
    tanh approximation, differ from NumPy's in the last digits)."""
    assert len(got) == len(want), f"{len(got)} lines printed, TF printed {len(want)}:\n" + "\n".join(got)
    for k, (g, w) in enumerate(zip(got, want)):
        assert _skeleton(g) == _skeleton(w), f"line {k + 1}: {g!r} != {w!r}"
        for a, b in zip(_NUMBER.findall(g), _NUMBER.findall(w)):
            assert float(a) == pytest.approx(float(b), rel=rel, abs=abs_), f"line {k + 1}: {g!r} != {w!r}"


def check_guide(module: ModuleType, capsys: pytest.CaptureFixture, **tolerance: float) -> None:
    """Runs ``module.run(gt)`` and compares its stdout with the module's TF fixture."""
    import gputensor as gt

    name = Path(module.__file__).stem.removeprefix("guide_")
    module.run(gt)
    got = capsys.readouterr().out.splitlines()
    fixture = Path(module.__file__).parent / "fixtures" / f"{name}.txt"
    want = [normalized(line) for line in fixture.read_text().splitlines()]
    assert_same_lines(got, want, **tolerance)
