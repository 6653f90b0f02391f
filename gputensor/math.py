"""``gt.math``: elementwise math, comparisons and reductions."""

from gputensor.ops.linalg_ops import *  # noqa: F403
from gputensor.ops.math_ops import *  # noqa: F403
from gputensor.ops.math_ops import real  # noqa: F401
