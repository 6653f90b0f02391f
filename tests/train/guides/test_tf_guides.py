"""TensorFlow's guides on modules, training loops and checkpoints run with ``tf`` -> ``gt`` print
what TensorFlow prints (fixtures/*.txt, from scripts/make_tf_guide_fixtures.py with
tensorflow-cpu 2.21)."""

from __future__ import annotations

import pytest

from tests.guide_output import check_guide
from tests.train.guides import guide_checkpoint, guide_modules, guide_training_loops


@pytest.mark.parametrize(
    "module",
    [guide_modules, guide_training_loops, guide_checkpoint],
    ids=["modules", "training_loops", "checkpoint"],
)
def test_guide_prints_what_tensorflow_prints(module, capsys):
    check_guide(module, capsys)
