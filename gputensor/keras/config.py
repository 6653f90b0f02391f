"""``keras.config``: the global dtype policy (Keras 3's ``keras.config.set_dtype_policy``)."""

from __future__ import annotations

from gputensor.keras.dtype_policies import DTypePolicy, dtype_policy, set_dtype_policy

__all__ = ["DTypePolicy", "dtype_policy", "set_dtype_policy", "enable_unsafe_deserialization"]


def enable_unsafe_deserialization() -> None:
    """Lets later loads deserialize `Lambda` layers holding Python lambdas (Keras 3's switch)."""
    from gputensor.keras.layers.core_extra import enable_unsafe_deserialization as enable

    enable()
