"""``gt.train``: checkpoints of Variables and Modules (``Checkpoint``, ``CheckpointManager``).

Public names: ``Checkpoint``, ``CheckpointManager``, ``latest_checkpoint``,
``get_checkpoint_state``, ``CheckpointLoadStatus``.
"""

from gputensor.train.checkpoint import Checkpoint, CheckpointLoadStatus
from gputensor.train.checkpoint_manager import CheckpointManager, get_checkpoint_state, latest_checkpoint

__all__ = [
    "Checkpoint",
    "CheckpointLoadStatus",
    "CheckpointManager",
    "get_checkpoint_state",
    "latest_checkpoint",
]
