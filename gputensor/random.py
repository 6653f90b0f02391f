"""``gt.random``: seeded random tensors and ``gt.random.Generator``."""

from gputensor.ops.random_ops import *  # noqa: F403
