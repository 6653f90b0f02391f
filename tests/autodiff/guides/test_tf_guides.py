"""TensorFlow's autodiff guides run with ``tf`` -> ``gt`` print what TensorFlow prints
(fixtures/*.txt, from scripts/make_tf_guide_fixtures.py with tensorflow-cpu 2.21)."""

from __future__ import annotations

import pytest

from tests.autodiff.guides import guide_advanced_autodiff, guide_autodiff
from tests.guide_output import check_guide


@pytest.mark.parametrize(
    "module", [guide_autodiff, guide_advanced_autodiff], ids=["autodiff", "advanced_autodiff"]
)
def test_guide_prints_what_tensorflow_prints(module, capsys):
    check_guide(module, capsys)
