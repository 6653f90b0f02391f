"""Shared fixtures: every op test runs on every available device.

`device` is parametrised over the logical devices gputensor sees (GPU:0 on a
machine with a GPU, CPU:0 everywhere), plus the emulated CUDA device of
tests/cuda_harness when g++ is available, so the CUDA backend's glue and kernels
run on CPU-only machines too.
"""

from __future__ import annotations

import numpy as np
import pytest

import gputensor as gt
from tests import devices as _devices


def pytest_generate_tests(metafunc):
    if "device" in metafunc.fixturenames:
        params = _devices.test_devices()
        metafunc.parametrize("device", params, ids=[d.short_name for d in params], indirect=True)


@pytest.fixture
def device(request):
    """Runs the test body with ops placed on one device; yields that Device."""
    with gt.device(request.param):
        yield request.param


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
