"""``gt.train``: checkpoints of Variables and Modules (``Checkpoint``, ``CheckpointManager``).

Public names: ``Checkpoint``, ``CheckpointManager``, ``latest_checkpoint``,
``get_checkpoint_state``, ``CheckpointLoadStatus``, ``load_checkpoint``, ``list_variables``,
``CheckpointReader``.
"""

from gputensor.train.checkpoint import Checkpoint, CheckpointLoadStatus
from gputensor.train.checkpoint_manager import CheckpointManager, get_checkpoint_state, latest_checkpoint
from gputensor.train.checkpoint_reader import CheckpointReader, list_variables, load_checkpoint

__all__ = [
    "Checkpoint",
    "CheckpointLoadStatus",
    "CheckpointManager",
    "CheckpointReader",
    "get_checkpoint_state",
    "latest_checkpoint",
    "list_variables",
    "load_checkpoint",
]
