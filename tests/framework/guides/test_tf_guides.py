"""TensorFlow's guides on tensors, variables and random numbers run with ``tf`` -> ``gt`` print
what TensorFlow prints (fixtures/*.txt, from scripts/make_tf_guide_fixtures.py with
tensorflow-cpu 2.21)."""

from __future__ import annotations

import pytest

from tests.framework.guides import guide_basics, guide_random_numbers, guide_tensor, guide_variable
from tests.guide_output import check_guide

GUIDES = {
    "basics": guide_basics,
    "random_numbers": guide_random_numbers,
    "tensor": guide_tensor,
    "variable": guide_variable,
}


@pytest.mark.parametrize("module", GUIDES.values(), ids=GUIDES.keys())
def test_guide_prints_what_tensorflow_prints(module, capsys):
    check_guide(module, capsys)
