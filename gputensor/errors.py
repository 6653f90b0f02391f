"""Exception classes with TensorFlow's names (``gt.errors``).

This module imports nothing from gputensor, so every layer may raise these.
``except`` clauses written for ``tf.errors`` work with the same names here.
"""

from __future__ import annotations


class OpError(Exception):
    """Base class for errors raised while running an op (as ``tf.errors.OpError``)."""

    def __init__(self, message: str, op: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.op = op


class InvalidArgumentError(OpError, ValueError):
    """An op received an argument it cannot accept (bad shape, dtype or value)."""


class NotFoundError(OpError):
    """A named entity (device, file, checkpoint key) does not exist."""


class AlreadyExistsError(OpError):
    """An entity that should be created already exists."""


class FailedPreconditionError(OpError):
    """The system is not in a state the op needs (for example, use after dispose)."""


class OutOfRangeError(OpError):
    """An iteration or index went past the valid range."""


class UnimplementedError(OpError):
    """The op exists but this combination of inputs is not supported."""


class InternalError(OpError):
    """An invariant of the runtime was broken."""


class UnknownError(OpError):
    """An error that fits no other class."""


class DataLossError(OpError):
    """Stored data (a saved model, a checkpoint) is corrupted or unreadable."""


class ResourceExhaustedError(OpError):
    """A device ran out of memory.

    Attributes:
      requested_bytes: bytes the failed allocation asked for (or None).
      free_bytes: bytes the device reported free at the time (or None).
    """

    def __init__(
        self,
        message: str,
        op: str | None = None,
        requested_bytes: int | None = None,
        free_bytes: int | None = None,
    ) -> None:
        super().__init__(message, op)
        self.requested_bytes = requested_bytes
        self.free_bytes = free_bytes


__all__ = [
    "OpError",
    "InvalidArgumentError",
    "NotFoundError",
    "AlreadyExistsError",
    "FailedPreconditionError",
    "OutOfRangeError",
    "UnimplementedError",
    "InternalError",
    "UnknownError",
    "ResourceExhaustedError",
    "DataLossError",
]
