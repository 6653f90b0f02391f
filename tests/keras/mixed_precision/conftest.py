"""Every test here starts and ends with the float32 global policy, so no other test sees a
mixed one (the global dtype policy is process-wide, as Keras's)."""

from __future__ import annotations

import pytest

from gputensor.keras import mixed_precision


@pytest.fixture(autouse=True)
def _float32_policy_around_each_test():
    mixed_precision.set_global_policy("float32")
    yield
    mixed_precision.set_global_policy("float32")
