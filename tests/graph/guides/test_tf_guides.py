"""TensorFlow's tf.function guides run with ``tf`` -> ``gt`` print what TensorFlow prints
(fixtures/*.txt, from scripts/make_tf_guide_fixtures.py with tensorflow-cpu 2.21)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import gputensor as gt
from tests.graph.guides import guide_function, guide_graphs

FIXTURES = Path(__file__).parent / "fixtures"
GUIDES = {"function": guide_function, "graphs": guide_graphs}
_NUMBER = re.compile(r"-?\d+\.\d*(?:e[-+]?\d+)?|-?\d+")


def normalized(line: str) -> str:
    """TF's names for its own classes become gt's (``tf.Tensor(`` -> ``gt.Tensor(``)."""
    return line.replace("tf.Tensor", "gt.Tensor").replace("dtype=tf.", "dtype=gt.")


def _skeleton(line: str) -> str:
    """The line without its numbers and NumPy's alignment padding."""
    return re.sub(r"\s+", " ", _NUMBER.sub("#", line))


def assert_same_lines(got: list[str], want: list[str]) -> None:
    """Line by line: the words exactly, the numbers to float32 rounding (TF's tanh is an
    approximation that differs from NumPy's in the last digits)."""
    assert len(got) == len(want), f"{len(got)} lines printed, TF printed {len(want)}:\n" + "\n".join(got)
    for k, (g, w) in enumerate(zip(got, want)):
        assert _skeleton(g) == _skeleton(w), f"line {k + 1}: {g!r} != {w!r}"
        for a, b in zip(_NUMBER.findall(g), _NUMBER.findall(w)):
            assert float(a) == pytest.approx(float(b), rel=1e-5, abs=1e-6), f"line {k + 1}: {g!r} != {w!r}"


@pytest.mark.parametrize("name", sorted(GUIDES))
def test_guide_prints_what_tensorflow_prints(name, capsys):
    GUIDES[name].run(gt)
    got = capsys.readouterr().out.splitlines()
    want = [normalized(line) for line in (FIXTURES / f"{name}.txt").read_text().splitlines()]
    assert_same_lines(got, want)
