"""Dtype policies (mixed precision), as Keras 3's ``keras.dtype_policies``.

A `DTypePolicy` names a layer's *compute* dtype (its inputs are cast to it, its float
variables are read in it inside ``call``, its outputs come in it) and its *variable* dtype
(the dtype its weights are created and stored in). ``"mixed_float16"`` computes in float16
and keeps float32 variables, ``"mixed_bfloat16"`` likewise with bfloat16; a plain dtype name
(``"float32"``, ``"float16"``, ``"bfloat16"``, ``"float64"``, ...) uses that dtype for both.

The global policy (`set_dtype_policy`, also ``keras.mixed_precision.set_global_policy`` and
``keras.config.set_dtype_policy``) is what layers created without ``dtype=`` take, as in
Keras 3. It is process-wide, as Keras's global state.
"""

from __future__ import annotations

from typing import Any

import gputensor as gt

__all__ = [
    "DTypePolicy",
    "FloatDTypePolicy",
    "dtype_policy",
    "set_dtype_policy",
    "get",
    "serialize",
    "deserialize",
]

_MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}


class DTypePolicy:
    """A layer's compute and variable dtypes, as ``keras.DTypePolicy`` (Keras 3).

    Args:
      name: ``"mixed_float16"`` (compute float16, variables float32), ``"mixed_bfloat16"``
        (compute bfloat16, variables float32), or a dtype name such as ``"float32"``,
        ``"float16"`` or ``"bfloat16"`` (both dtypes that one). Default: the global policy's
        name.

    Raises:
      TypeError: ``name`` is not a string.
      ValueError: ``name`` is neither a mixed policy nor a dtype name.

    >>> p = DTypePolicy("mixed_float16")
    >>> p.compute_dtype, p.variable_dtype
    ('float16', 'float32')
    """

    def __init__(self, name: str | None = None) -> None:
        if name is None:
            name = dtype_policy().name
        if not isinstance(name, str):
            raise TypeError(
                f"DTypePolicy: 'name' must be a string, such as 'mixed_float16'. Received: name={name!r} "
                f"(of type {type(name).__name__})"
            )
        self._name = name
        if name in _MIXED:
            self._compute_dtype, self._variable_dtype = _MIXED[name], "float32"
        else:
            try:
                dtype = gt.as_dtype(name).name
            except (TypeError, ValueError, KeyError):
                raise ValueError(
                    f"DTypePolicy: cannot convert {name!r} to a mixed precision DTypePolicy. Valid policies "
                    "include 'mixed_float16', 'mixed_bfloat16', and the name of any float dtype such as "
                    "'float32'."
                ) from None
            self._compute_dtype = self._variable_dtype = dtype

    @property
    def name(self) -> str:
        """The policy's name (``"mixed_float16"``, ``"float32"``, ...)."""
        return self._name

    @property
    def compute_dtype(self) -> str:
        """The dtype layers compute in (inputs and float variables are cast to it in ``call``)."""
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype layers create their variables in."""
        return self._variable_dtype

    @property
    def quantization_mode(self) -> None:
        """None: quantized policies are not built."""
        return None

    @property
    def is_mixed(self) -> bool:
        """Whether the compute dtype differs from the variable dtype."""
        return self._compute_dtype != self._variable_dtype

    def get_config(self) -> dict:
        return {"name": self._name}

    @classmethod
    def from_config(cls, config: dict) -> DTypePolicy:
        return cls(**config)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DTypePolicy) and other._name == self._name

    def __hash__(self) -> int:
        return hash(("DTypePolicy", self._name))

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self._name}">'


FloatDTypePolicy = DTypePolicy  # Keras 3 keeps the name as an alias

_GLOBAL: list[DTypePolicy] = []


def dtype_policy() -> DTypePolicy:
    """The global dtype policy (``float32`` unless `set_dtype_policy` changed it)."""
    if not _GLOBAL:
        _GLOBAL.append(DTypePolicy("float32"))
    return _GLOBAL[0]


def set_dtype_policy(policy: Any) -> None:
    """Sets the global dtype policy that layers created afterwards without ``dtype=`` take.

    Args:
      policy: a `DTypePolicy` or a policy name (``"mixed_float16"``, ``"float32"``, ...).

    Raises:
      ValueError: for anything else.
    """
    if isinstance(policy, str):
        policy = DTypePolicy(policy)
    elif not isinstance(policy, DTypePolicy):
        raise ValueError(
            "set_dtype_policy: invalid `policy` argument. Expected the string name of a policy (such as "
            f"'mixed_float16') or a `DTypePolicy` instance. Received: policy={policy!r} "
            f"(of type {type(policy).__name__})"
        )
    _GLOBAL[:] = [policy]


def get(identifier: Any) -> DTypePolicy:
    """A `DTypePolicy` from None (the global policy), a name, a serialized dict, a policy or a
    dtype (``gt.float16``, ``np.float16``), as ``keras.dtype_policies.get``.

    Raises:
      ValueError: the identifier cannot be interpreted.
    """
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    try:
        return DTypePolicy(gt.as_dtype(identifier).name)
    except (TypeError, ValueError, KeyError):
        raise ValueError(
            "Cannot interpret `dtype` argument. Expected a string or an instance of DTypePolicy. "
            f"Received: dtype={identifier!r}"
        ) from None


def serialize(policy: DTypePolicy) -> dict:
    """Keras 3's serialized form: ``{"module": "keras", "class_name": "DTypePolicy",
    "config": {"name": ...}, "registered_name": None}``."""
    return {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": policy.get_config(),
        "registered_name": None,
    }


def deserialize(config: dict, custom_objects: dict | None = None) -> DTypePolicy:
    """A `DTypePolicy` from `serialize`'s dict (also Keras 3's ``FloatDTypePolicy`` entries).

    Raises:
      ValueError: another class (Keras's quantized policies are not built).
    """
    name = config.get("class_name")
    if name not in ("DTypePolicy", "FloatDTypePolicy"):
        raise ValueError(
            f"dtype_policies.deserialize: unsupported dtype policy class {name!r} (only DTypePolicy: "
            "quantized policies are not built)"
        )
    return DTypePolicy.from_config(config.get("config", {}))
