"""``gt.nn``: activations, convolution, pooling, normalisation and losses."""

from gputensor.ops.math_ops import gelu, leaky_relu, sigmoid, tanh  # noqa: F401
from gputensor.ops.nn_ops import *  # noqa: F403
