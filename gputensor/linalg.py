"""``gt.linalg``: matrix products, norms and decompositions."""

from gputensor.ops.linalg_ops import *  # noqa: F403
