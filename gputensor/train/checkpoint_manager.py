"""``gt.train.CheckpointManager`` and the ``checkpoint`` state file that TF writes beside checkpoints.

The state file is TF's text format, with paths relative to its directory::

    model_checkpoint_path: "ckpt-3"
    all_model_checkpoint_paths: "ckpt-2"
    all_model_checkpoint_paths: "ckpt-3"
    all_model_checkpoint_timestamps: 1700000000.5
    all_model_checkpoint_timestamps: 1700000100.25
    last_preserved_timestamp: 1699999000.0
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from typing import Any

from gputensor.train.checkpoint import FILE_SUFFIX, Checkpoint

STATE_FILE = "checkpoint"
_LINE = re.compile(r'^\s*(\w+)\s*:\s*(?:"((?:[^"\\]|\\.)*)"|(\S+))\s*$')


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _relative(directory: str, path: str) -> str:
    absolute = os.path.abspath(path)
    if os.path.dirname(absolute) == os.path.abspath(directory):
        return os.path.basename(absolute)
    return absolute


def update_checkpoint_state(
    directory: str,
    model_checkpoint_path: str,
    all_model_checkpoint_paths: list[str],
    all_model_checkpoint_timestamps: list[float] | None = None,
    last_preserved_timestamp: float | None = None,
) -> None:
    """Writes ``directory/checkpoint`` atomically (temporary file, then rename)."""
    os.makedirs(directory, exist_ok=True)
    lines = [f"model_checkpoint_path: {_quote(_relative(directory, model_checkpoint_path))}"]
    lines += [
        f"all_model_checkpoint_paths: {_quote(_relative(directory, p))}" for p in all_model_checkpoint_paths
    ]
    lines += [f"all_model_checkpoint_timestamps: {t!r}" for t in all_model_checkpoint_timestamps or ()]
    if last_preserved_timestamp is not None:
        lines.append(f"last_preserved_timestamp: {last_preserved_timestamp!r}")
    fd, tmp = tempfile.mkstemp(prefix=STATE_FILE + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(tmp, os.path.join(directory, STATE_FILE))
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def get_checkpoint_state(checkpoint_dir: str) -> dict[str, Any] | None:
    """The parsed state file of ``checkpoint_dir`` (absolute paths), or None when there is none.

    Returns:
      A dict with ``model_checkpoint_path``, ``all_model_checkpoint_paths``,
      ``all_model_checkpoint_timestamps`` and ``last_preserved_timestamp``.
    """
    state_path = os.path.join(os.fspath(checkpoint_dir), STATE_FILE)
    if not os.path.isfile(state_path):
        return None
    state: dict[str, Any] = {
        "model_checkpoint_path": None,
        "all_model_checkpoint_paths": [],
        "all_model_checkpoint_timestamps": [],
        "last_preserved_timestamp": None,
    }
    with open(state_path) as f:
        for line in f:
            match = _LINE.match(line)
            if not match:
                continue
            key, quoted, bare = match.groups()
            if key in ("model_checkpoint_path", "all_model_checkpoint_paths"):
                path = _unquote(quoted if quoted is not None else bare)
                if not os.path.isabs(path):
                    path = os.path.join(os.fspath(checkpoint_dir), path)
                if key == "model_checkpoint_path":
                    state[key] = path
                else:
                    state[key].append(path)
            elif key == "all_model_checkpoint_timestamps":
                state[key].append(float(bare))
            elif key == "last_preserved_timestamp":
                state[key] = float(bare)
    return state


def latest_checkpoint(checkpoint_dir: str, latest_filename: str | None = None) -> str | None:
    """The prefix of the newest checkpoint recorded in ``checkpoint_dir``, or None.

    Returns None when there is no state file or its newest checkpoint's file is gone.
    """
    state = get_checkpoint_state(checkpoint_dir)
    if state is None or state["model_checkpoint_path"] is None:
        return None
    path = state["model_checkpoint_path"]
    return path if os.path.isfile(path + FILE_SUFFIX) else None


class CheckpointManager:
    """Saves numbered checkpoints in a directory and deletes all but the newest few.

    Args:
      checkpoint: the `Checkpoint` to save.
      directory: where checkpoints and the ``checkpoint`` state file go.
      max_to_keep: how many recent checkpoints to keep (None keeps all).
      keep_checkpoint_every_n_hours: additionally keep one checkpoint per this
        many hours of those that rotate out.
      checkpoint_name: the file name prefix (``ckpt`` gives ``ckpt-1``, ...).
      step_counter: a Variable used for checkpoint numbers and intervals.
      checkpoint_interval: with ``step_counter``, save only when the step has
        advanced at least this much since the last save.
      init_fn: called by `restore_or_initialize` when there is nothing to restore.

    Raises:
      ValueError: if ``max_to_keep`` is not positive, or ``checkpoint_interval``
        is given without ``step_counter``.

    >>> import tempfile
    >>> manager = gt.train.CheckpointManager(gt.train.Checkpoint(v=gt.Variable(1.0)), tempfile.mkdtemp(), 2)
    >>> for _ in range(3):
    ...     _ = manager.save()
    >>> [p.rsplit("-", 1)[1] for p in manager.checkpoints]
    ['2', '3']
    """

    def __init__(
        self,
        checkpoint: Checkpoint,
        directory: str,
        max_to_keep: int | None,
        keep_checkpoint_every_n_hours: float | None = None,
        checkpoint_name: str = "ckpt",
        step_counter: Any = None,
        checkpoint_interval: int | None = None,
        init_fn: Any = None,
    ) -> None:
        if not isinstance(checkpoint, Checkpoint):
            raise TypeError(
                f"CheckpointManager: expected a gt.train.Checkpoint, got {type(checkpoint).__name__}"
            )
        if max_to_keep is not None and max_to_keep <= 0:
            raise ValueError(
                f"CheckpointManager: expected a positive integer or None for max_to_keep, got {max_to_keep}."
            )
        if checkpoint_interval is not None and step_counter is None:
            raise ValueError(
                "CheckpointManager: `step_counter` should be passed if `checkpoint_interval` is not None."
            )
        self._checkpoint = checkpoint
        self._directory = os.fspath(directory)
        self._max_to_keep = max_to_keep
        self._keep_seconds = (
            None if keep_checkpoint_every_n_hours is None else keep_checkpoint_every_n_hours * 3600.0
        )
        self._prefix = os.path.join(self._directory, checkpoint_name)
        self._step_counter = step_counter
        self._interval = checkpoint_interval
        self._last_step: int | None = None
        self._init_fn = init_fn
        state = get_checkpoint_state(self._directory)
        self._last_preserved = time.time()
        self._kept: list[tuple[str, float]] = []  # (path, timestamp), oldest first
        if state is not None:
            paths = state["all_model_checkpoint_paths"]
            stamps = state["all_model_checkpoint_timestamps"]
            if len(stamps) != len(paths):
                stamps = [self._last_preserved] * len(paths)
            self._kept = [
                (p, t) for p, t in zip(paths, stamps, strict=True) if os.path.isfile(p + FILE_SUFFIX)
            ]
            if state["last_preserved_timestamp"] is not None:
                self._last_preserved = state["last_preserved_timestamp"]
        self._latest = self._kept[-1][0] if self._kept else None

    @property
    def directory(self) -> str:
        """The directory of the checkpoints."""
        return self._directory

    @property
    def checkpoint(self) -> Checkpoint:
        """The managed Checkpoint."""
        return self._checkpoint

    @property
    def latest_checkpoint(self) -> str | None:
        """The newest checkpoint's prefix, or None before the first save."""
        return self._latest

    @property
    def checkpoints(self) -> list[str]:
        """The kept checkpoints' prefixes, oldest first."""
        return [p for p, _ in self._kept]

    @property
    def checkpoint_interval(self) -> int | None:
        return self._interval

    def save(
        self, checkpoint_number: int | None = None, check_interval: bool = True, options: Any = None
    ) -> str | None:
        """Writes a new checkpoint, updates the state file and deletes rotated-out ones.

        Args:
          checkpoint_number: the number in the file name; by default the
            checkpoint's ``save_counter`` (or ``step_counter``) after this save.
          check_interval: honour ``checkpoint_interval`` (when set).

        Returns:
          The new checkpoint's prefix, or None when the interval skipped it.
        """
        if self._interval is not None and check_interval:
            step = int(self._step_counter.numpy())
            if self._last_step is not None and step < self._last_step + self._interval:
                return None
            self._last_step = step
        counter = self._checkpoint.save_counter
        counter.assign_add(1)
        if checkpoint_number is None:
            checkpoint_number = (
                int(self._step_counter.numpy()) if self._step_counter is not None else int(counter.numpy())
            )
        path = self._checkpoint.write(f"{self._prefix}-{int(checkpoint_number)}")
        now = time.time()
        self._kept = [(p, t) for p, t in self._kept if p != path] + [(path, now)]
        self._latest = path
        self._sweep()
        update_checkpoint_state(
            self._directory,
            path,
            [p for p, _ in self._kept],
            [t for _, t in self._kept],
            self._last_preserved,
        )
        return path

    def _sweep(self) -> None:
        if self._max_to_keep is None:
            return
        while len(self._kept) > self._max_to_keep:
            path, stamp = self._kept.pop(0)
            if self._keep_seconds is not None and stamp - self._keep_seconds >= self._last_preserved:
                self._last_preserved = stamp  # preserved: no longer managed, never deleted
                continue
            try:
                os.remove(path + FILE_SUFFIX)
            except FileNotFoundError:
                pass

    def restore_or_initialize(self) -> str | None:
        """Restores the latest checkpoint, or calls ``init_fn`` when there is none.

        Returns:
          The restored path, or None.
        """
        if self._latest is not None:
            self._checkpoint.restore(self._latest)
            return self._latest
        if self._init_fn is not None:
            self._init_fn()
        return None
