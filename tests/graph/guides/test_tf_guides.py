"""TensorFlow's tf.function guides run with ``tf`` -> ``gt`` print what TensorFlow prints
(fixtures/*.txt, from scripts/make_tf_guide_fixtures.py with tensorflow-cpu 2.21)."""

from __future__ import annotations

import pytest

from tests.graph.guides import guide_function, guide_graphs
from tests.guide_output import check_guide


@pytest.mark.parametrize("module", [guide_function, guide_graphs], ids=["function", "graphs"])
def test_guide_prints_what_tensorflow_prints(module, capsys):
    check_guide(module, capsys)
