"""``gt.math``: elementwise math, comparisons and reductions."""

from gputensor.ops.array_ops import top_k  # noqa: F401
from gputensor.ops.linalg_ops import *  # noqa: F403
from gputensor.ops.math_ops import *  # noqa: F403
from gputensor.ops.math_ops import real  # noqa: F401
