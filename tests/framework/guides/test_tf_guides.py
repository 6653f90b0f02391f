"""TensorFlow's guides on tensors, variables and random numbers run with ``tf`` -> ``gt`` print
what TensorFlow prints (fixtures/*.txt, from scripts/make_tf_guide_fixtures.py with
tensorflow-cpu 2.21)."""

from __future__ import annotations

import pytest

import gputensor as gt
from tests.framework.guides import guide_basics, guide_random_numbers, guide_tensor, guide_variable
from tests.guide_output import check_guide

GUIDES = {
    "basics": guide_basics,
    "random_numbers": guide_random_numbers,
    "tensor": guide_tensor,
    "variable": guide_variable,
}


@pytest.mark.parametrize("module", GUIDES.values(), ids=GUIDES.keys())
def test_guide_prints_what_tensorflow_prints(module, capsys, monkeypatch):
    # The fixtures come from TF on a CPU-only machine: on a GPU machine the guides run on the
    # CPU too (their own device scopes still apply) and see no GPU, so the basics guide's
    # "is TensorFlow using the GPU" line and the device strings are those of that machine.
    real = gt.config.list_physical_devices
    monkeypatch.setattr(
        gt.config, "list_physical_devices", lambda t=None: [d for d in real(t) if d.device_type != "GPU"]
    )
    with gt.device("/CPU:0"):
        check_guide(module, capsys)
