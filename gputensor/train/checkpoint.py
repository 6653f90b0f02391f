"""``gt.train.Checkpoint``: saves and restores the Variables reachable from named objects.

Object graph. A Checkpoint's keyword arguments are the roots. Their
dependencies, walked breadth first as TF's object graph is, are:

* ``gt.Variable``: a leaf; its value is saved.
* ``gt.Module``: every attribute (and the items of lists, tuples and dicts in
  attributes) that is itself trackable, named by attribute path
  (``model/layers/0/w``).
* ``Checkpoint``: its own keyword arguments plus ``save_counter``.
* lists, tuples and dicts of trackables: items named by index or key.
* any object with a ``_checkpoint_dependencies()`` method: the hook returns a
  dict ``{name: trackable}`` (this is how Keras optimizers expose their slot
  variables and step counter, and how any class opts in);
* any object with ``_serialize_to_tensors()``/``_restore_from_tensors()`` (TF's
  Trackable hooks; a dataset iterator saves its position so): a leaf whose
  arrays are saved under ``<path>/.ATTRIBUTES/<name>``;
* otherwise any object with a ``variables`` attribute (a sequence, or a method
  returning one): item ``i`` is named ``variables/i``.

Every attribute of a Checkpoint that holds a trackable is a dependency, private
names included (TF's); a list or dict assigned to a Checkpoint is tracked even
when empty (TF's ListWrapper). An object reached twice is saved once, under its
first (shortest) path; the index records the other paths as aliases, so a value
restores through any of them. Each variable's key is its path plus
``/.ATTRIBUTES/VARIABLE_VALUE``, as in TF.

File format (version 1). ``save``/``write`` produce one file,
``<prefix>.gtckpt``: a NumPy ``.npz`` (zip) archive with members ``v0, v1, ...``
holding the values and a member ``__index__`` holding UTF-8 JSON::

    {"format": "gputensor-checkpoint", "version": 1,
     "variables": {"<key>": {"member": "v0", "dtype": "float32", "shape": [2, 3]}, ...},
     "aliases": {"<later path>": "<first path>", ...}}

Dtypes NumPy cannot name (bfloat16) are stored as same-width unsigned integers
and viewed back. The file is written under a temporary name in the same
directory and renamed into place, so an interrupted save leaves the previous
file intact; the zip CRCs make truncation and corruption detectable
(``gt.errors.DataLossError``).

Deferred restoration. Checkpoint values whose variable does not exist yet stay
pending on the restore status. When the deepest existing object on such a
value's path is a ``gt.Module`` or a ``Checkpoint``, assigning an attribute on
it later (as layers do when they build their weights) restores the pending
values that the new attribute provides, as TF restores variables on creation;
so does appending to (or setting an item of) a list or dict held by a
Checkpoint. Variables appended in place to a plain list held by a Module are
not seen until the status is asked again: ``status.assert_consumed()`` and the
other assertions first retry pending values against the current objects.
"""

from __future__ import annotations

import json
import os
import tempfile
import weakref
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from gputensor import errors
from gputensor.framework import dtypes
from gputensor.framework.variable import Variable
from gputensor.module import Module

FILE_SUFFIX = ".gtckpt"
_VALUE_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"
_FORMAT = "gputensor-checkpoint"
_VERSION = 1


# ----- the object graph ---------------------------------------------------------------------
def _escape(name: Any) -> str:
    # TF's escaping of local names: "." doubles and "/" becomes ".S", so a name never splits a path.
    return str(name).replace(".", "..").replace("/", ".S")


def _is_trackable(obj: Any) -> bool:
    if isinstance(obj, (Variable, Module, Checkpoint, _TrackedList, _TrackedDict)):
        return True
    if isinstance(obj, (dict, list, tuple)):
        return any(_is_trackable(v) for v in (obj.values() if isinstance(obj, dict) else obj))
    if isinstance(obj, (str, bytes, int, float, np.ndarray, type)) or obj is None:
        return False  # a class has `variables` too (a property object), but nothing to save
    if callable(getattr(obj, "_checkpoint_dependencies", None)) or callable(
        getattr(obj, "_serialize_to_tensors", None)
    ):
        return True
    found = getattr(obj, "variables", None)
    return isinstance(found, (list, tuple)) or callable(found)


def _structure_items(value: Any, path: tuple) -> Iterator[tuple[tuple, Any]]:
    """(path, leaf) pairs of the trackable leaves inside lists, tuples and dicts."""
    if isinstance(value, dict):
        for key in value:
            yield from _structure_items(value[key], path + (key,))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _structure_items(item, path + (i,))
    elif _is_trackable(value):
        yield path, value


def _children(obj: Any) -> list[tuple[str, Any]]:
    """The named direct dependencies of a trackable object (names already escaped and joined)."""
    if isinstance(obj, Variable):
        return []
    if isinstance(obj, Checkpoint):
        pairs = list(obj._dependencies.items())
        if obj._save_counter is not None:
            pairs.append(("save_counter", obj._save_counter))
        raw = [(name, value) for name, value in pairs]
    elif callable(getattr(obj, "_checkpoint_dependencies", None)):
        raw = list(dict(obj._checkpoint_dependencies()).items())
    elif isinstance(obj, Module):
        raw = [(name, value) for name, value in sorted(vars(obj).items()) if name not in _MODULE_SKIP]
    elif isinstance(obj, (dict, list, tuple)):
        raw = list(obj.items()) if isinstance(obj, dict) else list(enumerate(obj))
    elif callable(getattr(obj, "_serialize_to_tensors", None)):
        return []  # a leaf whose values are its own tensors (an iterator's position)
    else:
        found = obj.variables
        found = found() if callable(found) else found
        raw = [("variables", list(found))]
    out = []
    for name, value in raw:
        for path, leaf in _structure_items(value, (name,)):
            out.append(("/".join(_escape(p) for p in path), leaf))
    return out


_MODULE_SKIP = frozenset(
    ("_self_unconditional_checkpoint_dependencies", "_self_unconditional_dependency_names")
)


def _walk(root: Any, prefix: str = "") -> tuple[dict[str, Variable], dict[str, Any]]:
    """Breadth-first walk: ({variable key: Variable}, {node path: object}) with first paths winning."""
    variables, nodes, _ = _walk_with_aliases(root, prefix)
    return variables, nodes


def _walk_with_aliases(
    root: Any, prefix: str = ""
) -> tuple[dict[str, Variable], dict[str, Any], dict[str, str]]:
    """`_walk` plus ``{later path: first path}`` for every object reached twice (TF's object
    graph keeps every edge, so a value saved under ``listed/1`` restores through ``mapped/two``)."""
    variables: dict[str, Variable] = {}
    nodes: dict[str, Any] = {prefix: root}
    aliases: dict[str, str] = {}
    first_path = {id(root): prefix}
    frontier = [(prefix, root)]
    while frontier:
        next_frontier = []
        for path, obj in frontier:
            for name, child in _children(obj):
                child_path = f"{path}/{name}" if path else name
                if id(child) in first_path:
                    if first_path[id(child)] != child_path:
                        aliases[child_path] = first_path[id(child)]
                    continue
                first_path[id(child)] = child_path
                nodes[child_path] = child
                if isinstance(child, Variable):
                    variables[child_path + _VALUE_SUFFIX] = child
                elif callable(getattr(child, "_serialize_to_tensors", None)):
                    for name in child._serialize_to_tensors():
                        variables[f"{child_path}/.ATTRIBUTES/{name}"] = _SavedTensor(child, name)
                else:
                    next_frontier.append((child_path, child))
        frontier = next_frontier
    return variables, nodes, aliases


def _expand_aliases(values: dict[str, np.ndarray], aliases: dict[str, str]) -> dict[str, str]:
    """Adds each value under its alias paths too; returns ``{key: the key it was saved under}``."""
    canonical = {key: key for key in values}
    for _ in range(len(aliases) + 1):  # an alias may lead into another alias's subtree
        added = False
        for alias, target in aliases.items():
            for key in list(canonical):
                if key.startswith(target + "/"):
                    new_key = alias + key[len(target) :]
                    if new_key not in canonical:
                        canonical[new_key] = canonical[key]
                        values[new_key] = values[key]
                        added = True
        if not added:
            break
    return canonical


class _SavedTensor:
    """One tensor of an object that saves its own state (``_serialize_to_tensors``, as TF's
    Trackable API; a dataset iterator's position), seen as a variable by the file code."""

    def __init__(self, owner: Any, name: str) -> None:
        self._owner, self._name = owner, name
        self.name = f"{type(owner).__name__}.{name}"

    def numpy(self) -> np.ndarray:
        return np.asarray(self._owner._serialize_to_tensors()[self._name])

    @property
    def dtype(self) -> dtypes.DType:
        return dtypes.as_dtype(self.numpy().dtype)

    @property
    def shape(self) -> Any:
        from gputensor.framework.tensor_shape import TensorShape

        return TensorShape(self.numpy().shape)

    def assign(self, value: np.ndarray) -> None:
        self._owner._restore_from_tensors({self._name: value})


# ----- the file -----------------------------------------------------------------------------
def _file_for(prefix: str) -> str:
    prefix = os.fspath(prefix)
    return prefix if prefix.endswith(FILE_SUFFIX) else prefix + FILE_SUFFIX


def _write_file(prefix: str, variables: dict[str, Variable], aliases: dict[str, str] | None = None) -> str:
    path = _file_for(prefix)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    index: dict[str, Any] = {}
    for i, (key, var) in enumerate(variables.items()):
        arr = np.array(var.numpy(), order="C")  # not ascontiguousarray: it makes 0-d arrays 1-d
        if arr.dtype.kind == "V" or arr.dtype.type.__module__ != "numpy":
            arr = arr.view(f"u{arr.dtype.itemsize}")  # e.g. bfloat16: keep the bits
        arrays[f"v{i}"] = arr
        index[key] = {"member": f"v{i}", "dtype": var.dtype.name, "shape": list(arr.shape)}
    header = json.dumps(
        {"format": _FORMAT, "version": _VERSION, "variables": index, "aliases": aliases or {}}
    ).encode()
    arrays["__index__"] = np.frombuffer(header, dtype=np.uint8)
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic: readers see the old file or the whole new one
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return (
        os.fspath(prefix)[: -len(FILE_SUFFIX)]
        if os.fspath(prefix).endswith(FILE_SUFFIX)
        else os.fspath(prefix)
    )


def _read_file(prefix: str) -> dict[str, np.ndarray]:
    """{key: array} from a checkpoint file; DataLossError when it is damaged."""
    return _read_file_and_index(prefix)[0]


def read_index(prefix: str) -> dict[str, Any]:
    """The JSON index of a checkpoint file (its object-graph description)."""
    return _read_file_and_index(prefix)[1]


def _read_file_and_index(prefix: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    path = _file_for(prefix)
    if not os.path.isfile(path):
        hint = ""
        if os.path.isdir(os.fspath(prefix)):
            hint = " It is a directory: pass gt.train.latest_checkpoint(directory) to restore its newest checkpoint."
        raise errors.NotFoundError(
            f"Checkpoint.restore: failed to find a checkpoint at {prefix!r} (no file {path!r}).{hint}"
        )
    try:
        with np.load(path, allow_pickle=False) as archive:
            header = json.loads(bytes(archive["__index__"]).decode())
            if header.get("format") != _FORMAT or header.get("version") != _VERSION:
                raise ValueError(f"unknown format {header.get('format')!r} version {header.get('version')!r}")
            values = {}
            for key, meta in header["variables"].items():
                arr = archive[meta["member"]]
                want = np.dtype(dtypes.as_dtype(meta["dtype"]).as_numpy_dtype)
                if arr.dtype != want:
                    arr = arr.view(want)
                if list(arr.shape) != meta["shape"]:
                    raise ValueError(f"{key} has shape {arr.shape} but the index says {meta['shape']}")
                values[key] = arr
    except PermissionError:
        raise  # not damage: the file is fine, the process may not read it
    except (zipfile.BadZipFile, ValueError, KeyError, EOFError, OSError, zlib.error, TypeError) as e:
        raise errors.DataLossError(
            f"Checkpoint.restore: the checkpoint file {path!r} is truncated or corrupted ({type(e).__name__}: {e}). "
            "Restore an earlier checkpoint or save this one again."
        ) from None
    return values, header


def _check_value(key: str, var: Variable, value: np.ndarray) -> None:
    if tuple(var.shape.as_list()) != value.shape:
        raise errors.InvalidArgumentError(
            f"Checkpoint.restore: received a value of shape {value.shape} for variable {key!r} "
            f"({getattr(var, 'path', var.name)}) of shape {tuple(var.shape.as_list())}; the checkpoint was written for a different model."
        )
    if np.dtype(var.dtype.as_numpy_dtype) != value.dtype:
        raise errors.InvalidArgumentError(
            f"Checkpoint.restore: received a value of dtype {dtypes.as_dtype(value.dtype).name} for variable {key!r} "
            f"({getattr(var, 'path', var.name)}) of dtype {var.dtype.name}; the checkpoint was written for a different model."
        )


# ----- deferred restoration -----------------------------------------------------------------
# A Module with pending values gets a subclass whose __setattr__ notifies its statuses. The
# statuses live in the module's own __dict__ (not a global table), so a status stays alive
# exactly as long as the module it waits on, and module -> status -> checkpoint cycles are
# ordinary garbage.
_WATCH_ATTR = "_gt_checkpoint_watchers"
_HOOKED_CLASSES: dict[type, type] = {}


def _hooked_class(cls: type) -> type:
    sub = _HOOKED_CLASSES.get(cls)
    if sub is None:

        def setattr_then_restore(self: Any, name: str, value: Any) -> None:
            cls.__setattr__(self, name, value)
            for status in list(self.__dict__.get(_WATCH_ATTR, {}).values()):
                status._restore_all()

        sub = type(cls.__name__, (cls,), {"__setattr__": setattr_then_restore, "__module__": cls.__module__})
        sub.__qualname__ = cls.__qualname__
        sub._gt_unhooked_class = cls
        _HOOKED_CLASSES[cls] = sub
    return sub


def _watch(module: Module | Checkpoint, status: CheckpointLoadStatus) -> None:
    # A Checkpoint notifies its watchers from its own __setattr__; a Module gets a hooked class.
    if not isinstance(module, Checkpoint) and not hasattr(type(module), "_gt_unhooked_class"):
        module.__class__ = _hooked_class(type(module))
    module.__dict__.setdefault(_WATCH_ATTR, {})[id(status)] = status


def _unwatch(module: Module | Checkpoint, status: CheckpointLoadStatus) -> None:
    watchers = module.__dict__.get(_WATCH_ATTR)
    if watchers is not None:
        watchers.pop(id(status), None)
        if not watchers:
            del module.__dict__[_WATCH_ATTR]
            if not isinstance(module, Checkpoint):
                module.__class__ = type(module)._gt_unhooked_class


# ----- statuses -----------------------------------------------------------------------------
class CheckpointLoadStatus:
    """What a ``restore``/``read`` matched, with TF's assertions.

    Returned by `Checkpoint.restore`. Values without a variable yet stay pending
    and are restored when the variable appears (see the module docstring).
    """

    def __init__(
        self,
        checkpoint: Checkpoint,
        save_path: str,
        values: dict[str, np.ndarray],
        aliases: dict[str, str] | None = None,
    ) -> None:
        self._checkpoint = checkpoint
        self._save_path = save_path
        self._values = values
        # {key: the key its value was saved under}: aliases name the same value.
        self._canonical = _expand_aliases(values, aliases or {})
        self._consumed: set[str] = set()  # saved keys restored
        self._restored: set[str] = set()  # keys (saved or alias) restored
        self._watched: list[Module | Checkpoint] = []

    def _restore(self, variables: dict[str, Variable]) -> None:
        todo = [(k, v) for k, v in variables.items() if k in self._values and k not in self._restored]
        for key, var in todo:  # check everything first: a mismatch restores nothing
            _check_value(key, var, self._values[key])
        for key, var in todo:
            var.assign(self._values[key])
            self._restored.add(key)
            self._consumed.add(self._canonical[key])

    def _restore_all(self) -> None:
        variables, nodes = _walk(self._checkpoint)
        self._restore(variables)
        self._watch_pending(nodes)

    def _watch_pending(self, nodes: dict[str, Any]) -> None:
        for module in self._watched:
            _unwatch(module, self)
        self._watched = []
        pending = [
            k.rsplit("/.ATTRIBUTES/", 1)[0] for k in self._values if self._canonical[k] not in self._consumed
        ]
        for key_path in pending:
            parts = key_path.split("/")
            for cut in range(len(parts) - 1, -1, -1):
                owner = nodes.get("/".join(parts[:cut]))
                if owner is not None:
                    if isinstance(owner, (Module, Checkpoint)) and not any(owner is m for m in self._watched):
                        _watch(owner, self)
                        self._watched.append(owner)
                    break

    def _refresh(self) -> tuple[list[str], list[str]]:
        """(checkpoint keys with no variable, variables with no checkpoint value) after a retry."""
        variables, nodes = _walk(self._checkpoint)
        self._restore(variables)
        self._watch_pending(nodes)
        unused = sorted({self._canonical[k] for k in self._values} - self._consumed)
        missing = sorted(k for k in variables if k not in self._values)
        return unused, missing

    def assert_consumed(self) -> CheckpointLoadStatus:
        """Raises AssertionError unless every value was restored and every variable got a value.

        Returns:
          self, for chaining.
        """
        unused, missing = self._refresh()
        if unused or missing:
            lines = []
            if unused:
                lines.append(f"values in the checkpoint with no matching variable: {unused}")
            if missing:
                lines.append(f"variables with no value in the checkpoint: {missing}")
            raise AssertionError(
                f"Checkpoint {self._save_path!r} was not fully consumed; " + "; ".join(lines)
            )
        return self

    def assert_existing_objects_matched(self) -> CheckpointLoadStatus:
        """Raises AssertionError if an existing variable has no value in the checkpoint.

        Unused checkpoint values are allowed (they may belong to variables created later).
        """
        _, missing = self._refresh()
        if missing:
            raise AssertionError(
                f"Checkpoint {self._save_path!r}: these existing variables have no value in the checkpoint: {missing}"
            )
        return self

    def assert_nontrivial_match(self) -> CheckpointLoadStatus:
        """Raises AssertionError unless at least one variable besides ``save_counter`` was restored."""
        self._refresh()
        if not any(not k.startswith("save_counter/") for k in self._consumed):
            raise AssertionError(
                f"Checkpoint {self._save_path!r}: nothing except the save counter was matched."
            )
        return self

    def expect_partial(self) -> CheckpointLoadStatus:
        """Marks a partial restore as intended (gputensor emits no warnings for unused values)."""
        return self

    def run_restore_ops(self, session: Any = None) -> None:
        """Restores pending values whose variables exist now (eager restores already ran)."""
        self._refresh()


class InitializationOnlyStatus:
    """The status of ``restore(None)``: nothing is restored and every assertion fails, as in TF."""

    def assert_consumed(self) -> InitializationOnlyStatus:
        raise AssertionError("No checkpoint specified (save_path=None); nothing is being restored.")

    assert_existing_objects_matched = assert_consumed
    assert_nontrivial_match = assert_consumed

    def expect_partial(self) -> InitializationOnlyStatus:
        return self

    def run_restore_ops(self, session: Any = None) -> None:
        return None


# ----- lists and dicts assigned to a Checkpoint ------------------------------------------------
class _TrackedList(list):
    """A list attribute of a Checkpoint (TF's ListWrapper): tracked even when empty, and a
    variable appended later gets a value that a pending restore holds for it."""

    def __init__(self, items: Any, owner: Checkpoint) -> None:
        super().__init__(items)
        self._owner = weakref.ref(owner)

    def _changed(self) -> None:
        owner = self._owner()
        if owner is not None:
            owner._restore_pending()

    def append(self, item: Any) -> None:
        super().append(item)
        self._changed()

    def extend(self, items: Any) -> None:
        super().extend(items)
        self._changed()

    def insert(self, index: Any, item: Any) -> None:
        super().insert(index, item)
        self._changed()

    def __setitem__(self, index: Any, item: Any) -> None:
        super().__setitem__(index, item)
        self._changed()

    def __iadd__(self, items: Any) -> _TrackedList:
        super().__iadd__(items)
        self._changed()
        return self

    def __repr__(self) -> str:
        return f"ListWrapper({list.__repr__(self)})"


class _TrackedDict(dict):
    """A dict attribute of a Checkpoint (TF's _DictWrapper), as `_TrackedList`."""

    def __init__(self, items: Any, owner: Checkpoint) -> None:
        super().__init__(items)
        self._owner = weakref.ref(owner)

    def _changed(self) -> None:
        owner = self._owner()
        if owner is not None:
            owner._restore_pending()

    def __setitem__(self, key: Any, item: Any) -> None:
        super().__setitem__(key, item)
        self._changed()

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self._changed()

    def setdefault(self, key: Any, default: Any = None) -> Any:
        out = super().setdefault(key, default)
        self._changed()
        return out


# ----- Checkpoint ---------------------------------------------------------------------------
class Checkpoint:
    """Groups trackable objects (Variables, Modules, optimizers, Checkpoints) for saving.

    Args:
      root: optional object whose dependencies become this checkpoint's own.
      **kwargs: the objects to track, by name (the names are the first elements
        of every saved key).

    Raises:
      ValueError: if an argument is not trackable.

    >>> import tempfile, os
    >>> v = gt.Variable(1.0)
    >>> ckpt = gt.train.Checkpoint(v=v)
    >>> path = ckpt.save(os.path.join(tempfile.mkdtemp(), "ckpt"))
    >>> _ = v.assign(5.0)
    >>> _ = ckpt.restore(path).assert_consumed()
    >>> float(v)
    1.0
    """

    def __init__(self, root: Any = None, **kwargs: Any) -> None:
        object.__setattr__(self, "_dependencies", {})
        object.__setattr__(self, "_save_counter", None)
        if root is not None:
            if not _is_trackable(root):
                raise ValueError(_not_trackable("root", root))
            for name, child in _children(root):
                self._dependencies[name] = child
        for name, value in kwargs.items():
            if name == "save_counter":
                raise ValueError("Checkpoint: 'save_counter' is reserved for the checkpoint's own counter.")
            if not _is_trackable(value):
                raise ValueError(_not_trackable(name, value))
            setattr(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        if type(value) is list:
            value = _TrackedList(value, self)
        elif type(value) is dict:
            value = _TrackedDict(value, self)
        object.__setattr__(self, name, value)
        # Any attribute holding a trackable is a dependency, private names too, as TF's
        # (a Keras 3 Dense saves its kernel as `_kernel`); gputensor's own state is set with
        # object.__setattr__ and never passes here.
        if name != _WATCH_ATTR and _is_trackable(value):
            self._dependencies[name] = value
            self._restore_pending()

    def _restore_pending(self) -> None:
        # A restore waiting on this checkpoint (delayed restoration) gets the new values.
        for status in list(self.__dict__.get(_WATCH_ATTR, {}).values()):
            status._restore_all()

    @property
    def save_counter(self) -> Variable:
        """An int64 Variable counting ``save`` calls (created on first save or restore)."""
        if self._save_counter is None:
            object.__setattr__(
                self, "_save_counter", Variable(np.int64(0), trainable=False, name="save_counter")
            )
        return self._save_counter

    def write(self, file_prefix: str, options: Any = None) -> str:
        """Writes the tracked values to ``<file_prefix>.gtckpt`` (no counter, no state file).

        Returns:
          ``file_prefix``, the path to pass to `read` or `restore`.
        """
        variables, _, aliases = _walk_with_aliases(self)
        return _write_file(os.fspath(file_prefix), variables, aliases)

    def save(self, file_prefix: str, options: Any = None) -> str:
        """Increments ``save_counter`` and writes ``<file_prefix>-<counter>``.

        Also records the new path in the directory's ``checkpoint`` state file, so
        `latest_checkpoint` finds it.

        Returns:
          The path of the checkpoint (``file_prefix-N``).
        """
        from gputensor.train.checkpoint_manager import update_checkpoint_state

        counter = self.save_counter
        counter.assign_add(np.int64(1))
        path = self.write(f"{os.fspath(file_prefix)}-{int(counter.numpy())}")
        update_checkpoint_state(os.path.dirname(os.path.abspath(path)), path, [path])
        return path

    def read(self, save_path: str, options: Any = None) -> CheckpointLoadStatus:
        """Restores from ``save_path`` (written by `write` or `save`); the same as `restore`."""
        return self.restore(save_path, options)

    def restore(self, save_path: str | None, options: Any = None) -> CheckpointLoadStatus:
        """Assigns the saved values to the tracked variables, by object path.

        Args:
          save_path: a path from `save`/`write`/``latest_checkpoint``, or None
            (restores nothing).

        Returns:
          A status with ``assert_consumed``, ``assert_existing_objects_matched``,
          ``assert_nontrivial_match`` and ``expect_partial``.

        Raises:
          NotFoundError: if there is no checkpoint at ``save_path``.
          DataLossError: if the file is truncated or corrupted.
          InvalidArgumentError: if a saved value's shape or dtype differs from its
            variable's (nothing is restored then).
        """
        if save_path is None:
            return InitializationOnlyStatus()
        values, header = _read_file_and_index(os.fspath(save_path))
        if "save_counter" + _VALUE_SUFFIX in values:
            self.save_counter  # noqa: B018 - created now so that it is restored too, as in TF
        status = CheckpointLoadStatus(self, os.fspath(save_path), values, header.get("aliases"))
        status._restore_all()
        return status

    def __repr__(self) -> str:
        return f"<gt.train.Checkpoint tracking {sorted(self._dependencies)}>"


def _not_trackable(name: str, value: Any) -> str:
    return (
        f"Checkpoint was expecting {name} to be a trackable object (a gt.Variable, gt.Module, Checkpoint, an "
        f"object with `variables` or `_checkpoint_dependencies()`, or a list/dict of them), got {type(value).__name__}: "
        f"{value!r}. Wrap plain values in gt.Variable to checkpoint them."
    )
