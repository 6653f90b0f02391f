"""``keras.mixed_precision``: Keras 3's legacy names for dtype policies and loss scaling.

``set_global_policy("mixed_float16")`` makes layers created afterwards compute in float16 with
float32 variables; ``Model.compile`` then wraps the optimizer in a `LossScaleOptimizer`. See
docs/keras.md, "Mixed precision".
"""

from __future__ import annotations

from gputensor.keras.dtype_policies import DTypePolicy, dtype_policy, set_dtype_policy
from gputensor.keras.optimizers.loss_scale_optimizer import LossScaleOptimizer

Policy = DTypePolicy
global_policy = dtype_policy
set_global_policy = set_dtype_policy

__all__ = [
    "DTypePolicy",
    "Policy",
    "LossScaleOptimizer",
    "dtype_policy",
    "global_policy",
    "set_dtype_policy",
    "set_global_policy",
]
