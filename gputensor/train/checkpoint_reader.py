"""Reading checkpoints without a model: ``gt.train.load_checkpoint`` and ``gt.train.list_variables``.

Keys are the object-graph paths the checkpoint was written with
(``model/dense_1/w/.ATTRIBUTES/VARIABLE_VALUE``). As in TF, the listing also holds
``_CHECKPOINTABLE_OBJECT_GRAPH``, the entry that describes the object graph: TF stores a
serialized proto there, gputensor's file holds a JSON index, which `get_tensor` returns as
UTF-8 bytes. gputensor has no string dtype, so that entry is absent from the dtype map.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from gputensor import errors
from gputensor.framework import dtypes
from gputensor.train.checkpoint import FILE_SUFFIX, _read_file, read_index

OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"


def _prefix_of(ckpt_dir_or_file: str, api: str) -> str:
    """The checkpoint prefix: a directory's newest checkpoint, or the path itself."""
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        from gputensor.train.checkpoint_manager import latest_checkpoint

        prefix = latest_checkpoint(path)
        if prefix is None:
            raise ValueError(
                f"{api}: couldn't find a 'checkpoint' state file (or the checkpoint it names) in the "
                f"directory {path!r}. Pass a checkpoint prefix such as 'ckpt-1', or save into the directory first."
            )
        return prefix
    if not os.path.isfile(path if path.endswith(FILE_SUFFIX) else path + FILE_SUFFIX):
        raise errors.NotFoundError(
            f"{api}: unsuccessful reading of the checkpoint {path!r}: no file {path + FILE_SUFFIX!r} "
            "(pass the prefix that Checkpoint.save/write returned, or its directory)."
        )
    return path


class CheckpointReader:
    """The values of one checkpoint file, by key (TF's ``py_checkpoint_reader``).

    Made by `load_checkpoint`.
    """

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._values = _read_file(prefix)
        self._index = read_index(prefix)

    def get_variable_to_shape_map(self) -> dict[str, list[int]]:
        """``{key: shape as a list of ints}`` for every entry, the object graph's included."""
        shapes = {key: list(value.shape) for key, value in self._values.items()}
        shapes[OBJECT_GRAPH_KEY] = []
        return shapes

    def get_variable_to_dtype_map(self) -> dict[str, dtypes.DType]:
        """``{key: gt.DType}`` for every value (not the object graph: gputensor has no string dtype)."""
        return {key: dtypes.as_dtype(value.dtype) for key, value in self._values.items()}

    def has_tensor(self, key: str) -> bool:
        """Whether the checkpoint holds ``key``."""
        return key in self._values or key == OBJECT_GRAPH_KEY

    def get_tensor(self, key: str) -> Any:
        """The saved value of ``key`` as a NumPy array (the object graph: its JSON as bytes).

        Raises:
          NotFoundError: if the checkpoint has no such key.
        """
        if key == OBJECT_GRAPH_KEY:
            return json.dumps(self._index).encode()
        if key not in self._values:
            close = sorted(k for k in self._values if key.split("/")[0] in k)[:5]
            raise errors.NotFoundError(
                f"CheckpointReader.get_tensor: key {key!r} not found in checkpoint {self._prefix!r}. "
                f"List the keys with get_variable_to_shape_map(){'; similar keys: ' + str(close) if close else ''}."
            )
        value = self._values[key]
        return value.copy() if isinstance(value, np.ndarray) else value


def load_checkpoint(ckpt_dir_or_file: str) -> CheckpointReader:
    """A `CheckpointReader` for a checkpoint prefix, or for a directory's newest checkpoint.

    Args:
      ckpt_dir_or_file: a prefix from ``Checkpoint.save``/``write`` or a directory with a
        ``checkpoint`` state file.

    Returns:
      A `CheckpointReader`.

    Raises:
      ValueError: if a directory has no checkpoint.
      NotFoundError: if there is no checkpoint at the path.

    >>> import os, tempfile
    >>> path = gt.train.Checkpoint(v=gt.Variable([1.0, 2.0])).write(os.path.join(tempfile.mkdtemp(), "c"))
    >>> gt.train.load_checkpoint(path).get_tensor("v/.ATTRIBUTES/VARIABLE_VALUE")
    array([1., 2.], dtype=float32)
    """
    return CheckpointReader(_prefix_of(ckpt_dir_or_file, "load_checkpoint"))


def list_variables(ckpt_dir_or_file: str) -> list[tuple[str, list[int]]]:
    """The ``(key, shape)`` pairs of a checkpoint, sorted by key, as ``tf.train.list_variables``.

    Args:
      ckpt_dir_or_file: a checkpoint prefix or a directory with a ``checkpoint`` state file.

    Returns:
      A list of ``(key, shape as a list of ints)``, ``_CHECKPOINTABLE_OBJECT_GRAPH`` included.

    >>> import os, tempfile
    >>> path = gt.train.Checkpoint(v=gt.Variable([1.0, 2.0])).write(os.path.join(tempfile.mkdtemp(), "c"))
    >>> gt.train.list_variables(path)
    [('_CHECKPOINTABLE_OBJECT_GRAPH', []), ('v/.ATTRIBUTES/VARIABLE_VALUE', [2])]
    """
    reader = CheckpointReader(_prefix_of(ckpt_dir_or_file, "list_variables"))
    return sorted(reader.get_variable_to_shape_map().items())
