"""``gt.saved_model``: write traced graphs and variables to a directory; load and run them anywhere.

The format (version 4; version 3 lacked IndexedSlices results, version 2 also CustomGradient
nodes and the ops of random draws in control flow, version 1 also If and While nodes; all
still load) is data
only, no pickled code, so a fresh process without the original Python source runs
the loaded functions:

- ``saved_model.json``: ``{"format": "gputensor.saved_model", "version": 4,
  "functions": {name: [concrete, ...]}, "variables": [{"name", "dtype", "shape",
  "trainable"}]}``. A concrete function is ``{"structure": <repr of its arguments'
  nesting>, "signature": [per flat argument {"tensor": {"shape", "dtype"}} or
  {"python": value}], "nodes": [...], "outputs": [[node, index]], "structured_outputs":
  value}`` (an IndexedSlices result is ``{"indexed_slices": [values, indices],
  "dense_shape": list or null}``); a node is ``{"type", "inputs": [[node, index]], "attrs", "outputs":
  [{"shape", "dtype"}]}`` plus ``"arg"`` (Placeholder: its argument position),
  ``"const"`` (Const) or ``"variable"`` (ReadVariable, AssignVariable). An ``If`` node
  (inputs: the condition, then the captured tensors) adds ``"then"`` and ``"else"``,
  each a sub-graph ``{"nodes", "outputs"}`` whose placeholders are captured inputs,
  and ``"then_at"``/``"else_at"``: per placeholder of that branch, its position among
  the node's captured inputs. A ``While`` node (inputs: the loop variables, then the
  captured tensors) adds ``"cond"`` and ``"body"`` (sub-graphs whose first
  placeholders are the loop variables), ``"cond_at"``/``"body_at"`` (per further
  placeholder, its position among the captured inputs) and ``"maximum_iterations"``
  (an int or null); a gradient's forward loop, whose outputs are the loop variables and
  then the stacked entry values of some of them, adds ``"stack"``: their positions (and
  ``"kept"``: how many values the body outputs after the loop variables, stacked after
  those, when the loop writes a variable and reads it again under a tape; an If whose
  branches output kept values after the node's own adds ``"kept"``: ``[then's, else's]``;
  a gradient's replay of such a loop, whose captures from ``"sliced_from"`` on are kept
  stacks it reads a row of per iteration, adds that position, and ``"sliced_lengths"``
  (pairs of capture positions: a padded kept stack of a loop nested inside, and its row
  counts, the row cut to the count) where the loop held a keeping loop; a loop carrying the buffer
  of a dynamic_size TensorArray adds ``"growing"``: the positions of such loop variables,
  whose stacks are padded to the longest entry and followed, after all the stacks, by one
  int32 vector of each one's per-iteration lengths (in position order, together with those
  of ``"measured"``: growing variables of which only the lengths are stacked); see
  graph/control_flow.py);
  a stateful random node (a new draw at every run) has ``"random": true``. A
  ``CustomGradient`` node (inputs: the results, the arguments, then the captured
  tensors; outputs: the results) adds ``"backward"`` (the traced ``grad_fn``: its first
  placeholders are the upstream gradients) and ``"custom"``: ``{"name", "n_out",
  "n_args", "backward_at", "connected"}`` (see graph/custom_gradient.py); a tape around
  a loaded function's call differentiates with it. Op types are the op table's names.
- ``variables.npz``: ``v0, v1, ...``, the variables' values; ``constants.npz``:
  ``c0, c1, ...``, the graphs' constants. A string constant (an object array of bytes,
  which NumPy would pickle) is stored as ``c<i>.bytes`` (uint8, the strings one after
  another) and ``c<i>.lengths`` (int64, in the constant's shape) instead.

Attr values and Python values are JSON with tags for what JSON lacks: ``{"tuple":
[...]}``, ``{"dtype": "float32"}``, ``{"scalar": value, "dtype": name}``, ``{"float":
"nan"}``. A model is written to a temporary directory that replaces ``export_dir``
only when complete.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from typing import Any

import numpy as np

from gputensor.autodiff import nest
from gputensor.autodiff.indexed_slices import IndexedSlices
from gputensor.backend import registry
from gputensor.errors import DataLossError, NotFoundError, UnimplementedError
from gputensor.framework import dtypes
from gputensor.framework.context import state
from gputensor.framework.device_scope import device as device_scope
from gputensor.framework.op_table import OPS
from gputensor.framework.tensor import Tensor, array_on, convert_to_tensor, wrap
from gputensor.framework.variable import Variable
from gputensor.graph import executor
from gputensor.graph.graph import Graph, Operation, Symbol, index_adding, string_kernel
from gputensor.graph.polymorphic_function import PolymorphicFunction
from gputensor.ops import string_ops  # noqa: F401  (declares the string ops saved graphs may name)
from gputensor.ops.random_ops import RandomStream

FORMAT = "gputensor.saved_model"
# 2: If and While nodes; 3: CustomGradient nodes, random_seeded/random_fold_seed/
# generator_random ops, string ops and string constants (c<i>.bytes/.lengths): a reader of
# version 2 would fail on them as unknown, so it refuses the file as newer instead; 4:
# IndexedSlices results (a sparse gradient returned) in structured_outputs.
VERSION = 4


# ------------------------------------------------------------------ values
def _encode(value: Any) -> Any:
    """A JSON value for an attr or Python value (tagged where JSON has no such type)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, tuple):
        return {"tuple": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: _encode(v) for k, v in value.items()}}
    if isinstance(value, bytes):  # string op attrs (a separator, a pattern): bytes as code points
        return {"bytes": value.decode("latin-1")}
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return {"dtype": dtypes.from_numpy(np.dtype(value)).name}
    if isinstance(value, dtypes.DType):
        return {"gt_dtype": value.name}
    if isinstance(value, np.generic):
        return {"scalar": _encode(value.item()), "dtype": dtypes.from_numpy(value.dtype).name}
    raise UnimplementedError(
        f"gt.saved_model.save: a value of type {type(value).__name__} ({value!r}) cannot be saved; "
        "graphs may keep ints, floats, bools, strings, bytes, None, tuples, lists, dicts and dtypes"
    )


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "tuple" in value:
        return tuple(_decode(v) for v in value["tuple"])
    if "dict" in value:
        return {k: _decode(v) for k, v in value["dict"].items()}
    if "float" in value:
        return float(value["float"])
    if "bytes" in value:
        return value["bytes"].encode("latin-1")
    if "dtype" in value and "scalar" not in value:
        return dtypes.as_dtype(value["dtype"]).np_dtype
    if "gt_dtype" in value:
        return dtypes.as_dtype(value["gt_dtype"])
    if "scalar" in value:
        return dtypes.as_dtype(value["dtype"]).np_dtype.type(_decode(value["scalar"]))
    raise DataLossError(f"gt.saved_model.load: unknown tagged value {value!r}")


def _spec(shape: Any, np_dtype: Any) -> dict:
    # None: unknown rank (a TensorSpec(None) argument and the values computed from it).
    return {
        "shape": None if shape is None else list(shape),
        "dtype": dtypes.from_numpy(np.dtype(np_dtype)).name,
    }


class SaveOptions:
    """Options for `save`, as ``tf.saved_model.SaveOptions``.

    gt's format is data only (graphs as JSON, values as npz), so these options
    change nothing in what is written: the function graphs and variables are
    always saved, without debug info or a separate checkpoint. In particular
    custom gradients (a ``gt.custom_gradient`` traced into a gt.function, its
    CustomGradient node) are always saved, as with TF's default
    ``experimental_custom_gradients=True``; False does not leave them out.

    Args:
      namespace_whitelist, save_debug_info, function_aliases,
      experimental_debug_stripper, experimental_io_device,
      experimental_variable_policy, experimental_custom_gradients,
      experimental_image_format, experimental_skip_saver,
      experimental_sharding_callback, extra_tags: TF's options, kept as attributes.
    """

    __slots__ = (
        "namespace_whitelist", "save_debug_info", "function_aliases", "experimental_debug_stripper",
        "experimental_io_device", "experimental_variable_policy", "experimental_custom_gradients",
        "experimental_image_format", "experimental_skip_saver", "experimental_sharding_callback", "extra_tags",
    )  # fmt: skip

    def __init__(
        self,
        namespace_whitelist: Any = None,
        save_debug_info: bool = False,
        function_aliases: dict | None = None,
        experimental_debug_stripper: bool = False,
        experimental_io_device: str | None = None,
        experimental_variable_policy: Any = None,
        experimental_custom_gradients: bool = True,
        experimental_image_format: bool = False,
        experimental_skip_saver: bool = False,
        experimental_sharding_callback: Any = None,
        extra_tags: Any = None,
    ) -> None:
        if function_aliases is not None and not isinstance(function_aliases, dict):
            raise TypeError(
                f"SaveOptions: function_aliases must be a dict of alias name -> function, got "
                f"{type(function_aliases).__name__}"
            )
        self.namespace_whitelist = list(namespace_whitelist or [])
        self.save_debug_info = bool(save_debug_info)
        self.function_aliases = dict(function_aliases or {})
        self.experimental_debug_stripper = bool(experimental_debug_stripper)
        self.experimental_io_device = experimental_io_device
        self.experimental_variable_policy = experimental_variable_policy
        self.experimental_custom_gradients = bool(experimental_custom_gradients)
        self.experimental_image_format = bool(experimental_image_format)
        self.experimental_skip_saver = bool(experimental_skip_saver)
        self.experimental_sharding_callback = experimental_sharding_callback
        self.extra_tags = extra_tags


class LoadOptions:
    """Options for `load`, as ``tf.saved_model.LoadOptions``; gt's loader reads every
    variable from the saved npz, so they change nothing in what is loaded.

    Args:
      allow_partial_checkpoint, experimental_io_device, experimental_skip_checkpoint,
      experimental_variable_policy, experimental_load_function_aliases: TF's options,
        kept as attributes.
    """

    __slots__ = (
        "allow_partial_checkpoint", "experimental_io_device", "experimental_skip_checkpoint",
        "experimental_variable_policy", "experimental_load_function_aliases",
    )  # fmt: skip

    def __init__(
        self,
        allow_partial_checkpoint: bool = False,
        experimental_io_device: str | None = None,
        experimental_skip_checkpoint: bool = False,
        experimental_variable_policy: Any = None,
        experimental_load_function_aliases: bool = False,
    ) -> None:
        self.allow_partial_checkpoint = bool(allow_partial_checkpoint)
        self.experimental_io_device = experimental_io_device
        self.experimental_skip_checkpoint = bool(experimental_skip_checkpoint)
        self.experimental_variable_policy = experimental_variable_policy
        self.experimental_load_function_aliases = bool(experimental_load_function_aliases)


def _check_options(options: Any, cls: type, what: str) -> None:
    if options is not None and not isinstance(options, cls):
        raise TypeError(
            f"gt.saved_model.{what}: options must be a gt.saved_model.{cls.__name__} (or None), got "
            f"{type(options).__name__}"
        )


# -------------------------------------------------------------------- save
def _functions_of(obj: Any) -> dict[str, PolymorphicFunction]:
    """The gt.functions of ``obj``: itself, or its attributes (methods included)."""
    if isinstance(obj, PolymorphicFunction):
        return {"__call__": obj}
    found = {}
    for name in sorted(set(dir(type(obj))) | set(vars(obj) if hasattr(obj, "__dict__") else ())):
        if name.startswith("__") and name != "__call__":
            continue
        attr = getattr(type(obj), name, None)
        if isinstance(attr, PolymorphicFunction) or isinstance(vars(obj).get(name), PolymorphicFunction):
            found[name] = getattr(obj, name)
    return found


def save(obj: Any, export_dir: str, signatures: Any = None, options: Any = None) -> None:
    """Writes ``obj``'s traced gt.functions and the variables they use to ``export_dir``.

    Every concrete function traced so far is saved (call the function, or
    ``get_concrete_function``, for each signature to keep); a function with an
    ``input_signature`` not called yet is traced for it. Variables are saved
    with their values; the loaded functions read and write the loaded copies.

    Args:
      obj: a gt.function, or a Module (or any object) with gt.function attributes.
      export_dir: the directory to write (replaced if it exists).
      signatures: accepted for TF compatibility (every traced signature is saved).
      options: a `SaveOptions` or None.

    Raises:
      ValueError: when ``obj`` has no traced gt.function.
      TypeError: when ``options`` is not a `SaveOptions`.
      UnimplementedError: for graphs this format cannot hold (gt.print nodes,
        attrs of other types).
    """
    _check_options(options, SaveOptions, "save")
    functions = _functions_of(obj)
    for fn in functions.values():
        if not fn._concrete and fn.input_signature is not None:
            fn.get_concrete_function()  # as TF: a function with an input_signature is traced to save it
    functions = {name: fn for name, fn in functions.items() if fn._concrete}
    if not functions:
        raise ValueError(
            f"gt.saved_model.save: {type(obj).__name__} has no traced gt.function; call it (or "
            "get_concrete_function) once for each input signature to save"
        )
    variables: list[Variable] = []
    constants: list[np.ndarray] = []
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "functions": {
            name: [_save_concrete(c, key, variables, constants) for key, c in fn._concrete.items()]
            for name, fn in functions.items()
        },
        "variables": [
            # A Keras weight is saved under its path ("sequential/dense/kernel"), the name TF's
            # loaded variable has, not its bare Keras name ("kernel").
            {
                "name": getattr(v, "path", v.name),
                "dtype": v.dtype.name,
                "shape": list(v.shape),
                "trainable": v.trainable,
            }
            for v in variables
        ],
    }
    for v in variables:
        if v.dtype.is_string:
            raise UnimplementedError(
                f"gt.saved_model.save: variable {v.name} holds strings, which saved models do not "
                "keep yet (variables.npz holds numbers only); pass the strings as an argument or "
                "keep them in a constant"
            )
    _write(export_dir, meta, variables, constants)


def _unfused(steps: list) -> Any:
    """(node, placeholder index) per step, a Fused or Lowered node as its members: the file
    holds the graph before fusion and lowering, which the loading process redoes for its device."""
    for node, _, _, _, arg in steps:
        if node.type in ("Fused", "Lowered"):
            yield from ((member, None) for member in node.value.members)
        else:
            yield node, arg


def _save_program(program: executor.Program, variables: list, constants: list) -> dict:
    """``{"nodes", "outputs"}`` of a program (an If or While node holds its sub-programs)."""
    target = program.graph.target
    where: dict[int, list] = {}
    nodes = []
    for k, (node, arg) in enumerate(_unfused(program.steps)):
        for j, sym in enumerate(node.outputs):
            where[id(sym)] = [k, j]
        entry: dict[str, Any] = {
            "type": node.type,
            "inputs": [where[id(s)] for s in node.inputs],
            "attrs": {name: _encode(v) for name, v in node.attrs.items()},
            "outputs": [_spec(s.shape, s.dtype) for s in node.outputs],
        }
        if isinstance(node.value, RandomStream):  # a stateful random op: new numbers at every run
            entry["random"] = True
        if node.type == "Placeholder":
            entry["arg"] = arg
        elif node.type == "Const":
            entry["const"] = len(constants)
            constants.append(np.asarray(target.backend.to_host(node.value)))
        elif node.type in ("ReadVariable", "AssignVariable"):
            entry["variable"] = index_adding(variables, node.value)
        elif node.type == "If":
            v = node.value
            entry["then"] = _save_program(v.true, variables, constants)
            entry["else"] = _save_program(v.false, variables, constants)
            entry["then_at"], entry["else_at"] = v.true_at, v.false_at
            if v.n_hidden:  # values kept for a gradient, output after the node's own
                entry["kept"] = list(v.kept)
        elif node.type == "While":
            v = node.value
            entry["cond"] = _save_program(v.cond, variables, constants)
            entry["body"] = _save_program(v.body, variables, constants)
            entry["cond_at"], entry["body_at"] = v.cond_at, v.body_at
            entry["maximum_iterations"] = v.maximum
            if v.stack is not None:  # a gradient's forward loop: also outputs these variables' stacks
                entry["stack"] = list(v.stack)
            if v.growing:  # variables that may grow (their stacks come with their lengths)
                entry["growing"] = list(v.growing)
            if v.measured:  # growing variables whose lengths alone are stacked
                entry["measured"] = list(v.measured)
            if v.n_kept:  # and the stacks of the values kept for a gradient
                entry["kept"] = v.n_kept
            if v.sliced_from is not None:  # a gradient's replay of such a loop
                entry["sliced_from"] = v.sliced_from
            if v.sliced_lengths:  # its padded sliced captures: [capture, its row counts' capture]
                entry["sliced_lengths"] = [[k, c] for k, c in v.sliced_lengths.items()]
        elif node.type == "CustomGradient":  # its traced grad_fn: the loaded model differentiates with it
            v = node.value
            entry["backward"] = _save_program(v.backward, variables, constants)
            entry["custom"] = {
                "name": v.name,
                "n_out": v.n_out,
                "n_args": v.n_args,
                "backward_at": v.backward_at,
                "connected": v.connected,
            }
        elif node.type == "Print":
            raise UnimplementedError(
                f"gt.saved_model.save: {program.graph.name} calls gt.print, which this format cannot "
                "hold yet; save a version of the function without it"
            )
        nodes.append(entry)
    return {"nodes": nodes, "outputs": [where[id(s)] for s in program.output_symbols]}


def _save_concrete(concrete: Any, key: tuple, variables: list, constants: list) -> dict:
    program = concrete._program
    saved = _save_program(program, variables, constants)
    flat_signature = []
    for part in key[1]:
        if part[0] == "tensor":
            # A None dim (a graph traced for any size there) is null; an unknown rank null too.
            shape = None if part[1] is None else list(part[1])
            flat_signature.append({"tensor": {"shape": shape, "dtype": part[2].name}})
        elif part[0] == "python":
            flat_signature.append({"python": _encode(part[2])})
        else:
            raise UnimplementedError(
                "gt.saved_model.save: a variable passed as an argument cannot be saved yet"
            )
    outputs = {id(s): i for i, s in enumerate(program.graph.outputs)}
    return {
        "structure": key[0],
        "signature": flat_signature,
        "nodes": saved["nodes"],
        "outputs": saved["outputs"],
        "structured_outputs": _encode_outputs(concrete.structured_outputs, outputs),
    }


def _encode_outputs(value: Any, outputs: dict) -> Any:
    """The returned structure: containers tagged, a graph output as {"output": i}, else {"value": v}."""
    if isinstance(value, Tensor) and id(value._data) in outputs:
        return {"output": outputs[id(value._data)]}
    if isinstance(value, (list, tuple)):
        items = [_encode_outputs(v, outputs) for v in value]
        return {"tuple": items} if isinstance(value, tuple) else {"list": items}
    if isinstance(value, dict):
        return {"dict": {str(k): _encode_outputs(v, outputs) for k, v in value.items()}}
    if isinstance(value, IndexedSlices):  # a sparse gradient: its parts, the dense shape as a list
        shape = None if value._shape is None else list(value._shape)
        parts = [_encode_outputs(v, outputs) for v in value._gt_components()]
        return {"indexed_slices": parts, "dense_shape": shape}
    return {"value": _encode(value)}


def _constant_arrays(constants: list) -> dict:
    """The arrays constants.npz holds: string constants as bytes + lengths (no pickles)."""
    out = {}
    for i, c in enumerate(constants):
        if c.dtype == np.dtype(object):
            flat = [bytes(b) for b in c.reshape(-1)]
            out[f"c{i}.bytes"] = np.frombuffer(b"".join(flat), dtype=np.uint8)
            out[f"c{i}.lengths"] = np.asarray([len(b) for b in flat], dtype=np.int64).reshape(c.shape)
        else:
            out[f"c{i}"] = c
    return out


def _constant(constants: Any, i: int) -> np.ndarray:
    """Constant ``i`` of constants.npz, a string one rebuilt from its bytes and lengths."""
    key = f"c{i}"
    if key in constants:
        return np.asarray(constants[key])
    data = constants[f"{key}.bytes"].tobytes()
    lengths = np.asarray(constants[f"{key}.lengths"])
    ends = np.cumsum(lengths.reshape(-1))
    out = np.empty(lengths.size, dtype=object)
    out[:] = [data[e - n : e] for e, n in zip(ends.tolist(), lengths.reshape(-1).tolist())]
    return out.reshape(lengths.shape)


def _write(export_dir: str, meta: dict, variables: list, constants: list) -> None:
    """Writes into a sibling temporary directory, then swaps it in: never a half-written model."""
    export_dir = os.path.abspath(os.fspath(export_dir))
    parent = os.path.dirname(export_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".saved_model-", dir=parent)
    try:
        with open(os.path.join(tmp, "saved_model.json"), "w", encoding="utf-8") as f:
            json.dump(meta, f)
        np.savez(os.path.join(tmp, "variables.npz"), **{f"v{i}": v.numpy() for i, v in enumerate(variables)})
        np.savez(os.path.join(tmp, "constants.npz"), **_constant_arrays(constants))
        if os.path.exists(export_dir):
            old = tempfile.mkdtemp(prefix=".saved_model-old-", dir=parent)
            os.replace(export_dir, os.path.join(old, "model"))
            os.replace(tmp, export_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, export_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# -------------------------------------------------------------------- load
class _LoadedFunction:
    """A saved gt.function: runs the saved concrete function whose signature a call matches."""

    def __init__(self, name: str, concretes: list) -> None:
        self._name = name
        self._concretes = concretes

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        flat = nest.flatten((args, kwargs), expand_composites=True)
        structure = repr(nest.pack_sequence_as((args, kwargs), [None] * len(flat), expand_composites=True))
        for c in self._concretes:
            tensors = c.match(structure, flat)
            if tensors is not None:
                return c.run(tensors)
        saved = "; ".join(c.describe() for c in self._concretes)
        raise ValueError(
            f"loaded function {self._name}: no saved signature matches these arguments; saved: {saved}. "
            "Trace the function for this signature before saving"
        )


_GRAPH_NODES = ("Placeholder", "Const", "ReadVariable", "AssignVariable", "If", "While", "CustomGradient")


def _load_program(entry: dict, variables: list, constants: Any, target: Any, name: str) -> executor.Program:
    """The program `_save_program` wrote (If and While nodes with their sub-programs)."""
    from gputensor.graph import control_flow

    graph = Graph(target, name=name)
    symbols: list[list[Symbol]] = []
    ops: list[Operation] = []
    args: dict[int, Symbol] = {}
    for k, n in enumerate(entry["nodes"]):
        kind = n["type"]
        op = None if kind in _GRAPH_NODES else OPS.get(kind)
        if op is None and kind not in _GRAPH_NODES:
            raise DataLossError(f"gt.saved_model.load: unknown op type {kind!r} in the saved graph")
        node = Operation(kind, f"{kind}_{k}", op, tuple(symbols[i][j] for i, j in n["inputs"]), {})
        node.attrs = {name: _decode(v) for name, v in n["attrs"].items()}
        node.outputs = tuple(
            Symbol(
                None if o["shape"] is None else tuple(o["shape"]),
                dtypes.as_dtype(o["dtype"]).np_dtype,
                node,
                j,
            )
            for j, o in enumerate(n["outputs"])
        )
        if op is not None:
            if any(s.dtype == np.dtype(object) for s in node.inputs + node.outputs):
                node.kernel = string_kernel(op, target)  # string ops run on the host
            else:
                node.kernel = target.kernels.get(op.name) or target.kernel(op)
            if n.get("random"):
                node.value = RandomStream(node.attrs["offset"])
        elif kind == "Const":
            value = _constant(constants, n["const"])
            node.value = value if value.dtype == np.dtype(object) else target.backend.from_host(value)
        elif kind in ("ReadVariable", "AssignVariable"):
            node.value = variables[n["variable"]]
        elif kind == "If":
            node.value = control_flow._If(
                _load_program(n["then"], variables, constants, target, "loaded_then"),
                _load_program(n["else"], variables, constants, target, "loaded_else"),
                n["then_at"],
                n["else_at"],
                tuple(n.get("kept", (0, 0))),
            )
            node.kernel = node.value.run_arrays
        elif kind == "While":
            body = _load_program(n["body"], variables, constants, target, "loaded_body")
            node.value = control_flow._While(
                _load_program(n["cond"], variables, constants, target, "loaded_cond"),
                body,
                n["cond_at"],
                n["body_at"],
                # The body outputs the loop variables, then the values kept for a gradient.
                len(body.output_symbols) - n.get("kept", 0),
                n["maximum_iterations"],
                n.get("stack"),
                n.get("kept", 0),
                n.get("sliced_from"),
                tuple(n.get("growing", ())),
                tuple(n.get("measured", ())),
                {k: c for k, c in n.get("sliced_lengths", ())},
            )
            node.kernel = node.value.run_arrays
        elif kind == "CustomGradient":
            from gputensor.graph.custom_gradient import CustomGradient

            c = n["custom"]
            backward = _load_program(n["backward"], variables, constants, target, "loaded_grad")
            node.value = CustomGradient(
                c["name"], backward, c["n_out"], c["n_args"], c["backward_at"], c["connected"]
            )
            node.kernel = node.value.run_arrays
        if kind == "Placeholder":
            args[n.get("arg", len(args))] = node.outputs[0]
        symbols.append(list(node.outputs))
        ops.append(node)
    graph.operations = ops
    graph.inputs = [args[i] for i in range(len(args))]
    graph.outputs = [symbols[i][j] for i, j in entry["outputs"]]
    return executor.Program(graph)


def _shape_accepts(saved: list | None, shape: tuple) -> bool:
    """Whether a graph saved for ``saved`` (None dims: any size; None: any rank) takes ``shape``."""
    if saved is None:
        return True
    return len(saved) == len(shape) and all(d is None or d == n for d, n in zip(saved, shape))


class _LoadedConcrete:
    def __init__(self, entry: dict, variables: list, constants: Any, target: Any) -> None:
        self.structure = entry["structure"]
        self.signature = entry["signature"]
        self.program = _load_program(entry, variables, constants, target, "loaded")
        self.structured_outputs = entry["structured_outputs"]
        self.target = target

    def match(self, structure: str, flat: list) -> list | None:
        if structure != self.structure or len(flat) != len(self.signature):
            return None
        tensors = []
        for x, part in zip(flat, self.signature):
            if "tensor" in part:
                spec = part["tensor"]
                t = x if isinstance(x, Tensor) else convert_to_tensor(x, dtype=spec["dtype"])
                if t.dtype.name != spec["dtype"] or not _shape_accepts(spec["shape"], t._data.shape):
                    return None
                tensors.append(t)
            elif _decode(part["python"]) != x:
                return None
        return tensors

    def run(self, tensors: list) -> Any:
        target = self.target
        if state.tapes:
            # As a gt.function's call: op by op, so that the tapes record it and differentiate
            # through it (to the arguments and the loaded variables).
            tensors = [
                t if t._device is target or t.dtype.is_string else wrap(array_on(t, target), target)
                for t in tensors
            ]
            with device_scope(target):
                return _fill(self.structured_outputs, executor.run_recorded(self.program, tensors))
        arrays = [t._data if t.dtype.is_string else array_on(t, target) for t in tensors]
        results = executor.run(self.program, arrays)
        return _fill(self.structured_outputs, results)

    def describe(self) -> str:
        return ", ".join(
            f"{p['tensor']['dtype']}{p['tensor']['shape']}" if "tensor" in p else repr(_decode(p["python"]))
            for p in self.signature
        )


def _fill(value: dict, results: list) -> Any:
    """The returned structure of `_encode_outputs`, with this call's results."""
    if "output" in value:
        return results[value["output"]]
    if "tuple" in value:
        return tuple(_fill(v, results) for v in value["tuple"])
    if "list" in value:
        return [_fill(v, results) for v in value["list"]]
    if "dict" in value:
        return {k: _fill(v, results) for k, v in value["dict"].items()}
    if "indexed_slices" in value:
        values, indices = (_fill(v, results) for v in value["indexed_slices"])
        return IndexedSlices(values, indices, value["dense_shape"])
    return _decode(value["value"])


class _Loaded:
    """What `load` returns: the saved functions as attributes (and as the call), and the variables."""

    def __init__(self, functions: dict, variables: list) -> None:
        self._functions = functions
        self.variables = variables
        self.trainable_variables = [v for v in variables if v.trainable]
        for name, fn in functions.items():
            if name != "__call__":
                setattr(self, name, fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        fn = self._functions.get("__call__")
        if fn is None:
            raise TypeError(f"the loaded object is not callable; its functions: {sorted(self._functions)}")
        return fn(*args, **kwargs)


def load(export_dir: str, tags: Any = None, options: Any = None) -> Any:
    """Loads a model written by `save`; its functions run without the original Python source.

    Args:
      export_dir: the directory `save` wrote.
      tags: accepted for TF compatibility.
      options: a `LoadOptions` or None.

    Returns:
      An object whose attributes are the saved functions (calling it calls the
      saved ``__call__``; under a GradientTape the call is recorded, so gradients
      reach its arguments and the loaded variables), with ``variables`` and
      ``trainable_variables``.

    Raises:
      TypeError: when ``options`` is not a `LoadOptions`.
      NotFoundError: when ``export_dir`` holds no saved model.
      ValueError: for a model written by a newer version of the format.
      DataLossError: when the files are corrupted.
    """
    _check_options(options, LoadOptions, "load")
    path = os.path.join(os.fspath(export_dir), "saved_model.json")
    if not os.path.exists(path):
        raise NotFoundError(
            f"gt.saved_model.load: no saved model at {export_dir!r} (missing saved_model.json)"
        )
    try:
        with open(path, encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as exc:
        raise DataLossError(f"gt.saved_model.load: {path} is not a readable saved model ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DataLossError(f"gt.saved_model.load: {path} is not a gputensor saved model")
    if not isinstance(meta.get("version"), int) or meta["version"] > VERSION:
        raise ValueError(
            f"gt.saved_model.load: {export_dir!r} was written in format version {meta.get('version')}, "
            f"newer than this gputensor reads (version {VERSION}); upgrade gputensor to load it"
        )
    target = registry.default_device()
    try:
        with np.load(os.path.join(export_dir, "variables.npz")) as saved_vars:
            variables = [
                Variable(
                    np.asarray(saved_vars[f"v{i}"]), trainable=v["trainable"], name=v["name"].split(":")[0]
                )
                for i, v in enumerate(meta["variables"])
            ]
        with np.load(os.path.join(export_dir, "constants.npz")) as constants:
            functions = {
                name: _LoadedFunction(
                    name, [_LoadedConcrete(c, variables, constants, target) for c in entries]
                )
                for name, entries in meta["functions"].items()
            }
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise DataLossError(
            f"gt.saved_model.load: {export_dir!r} is corrupted ({type(exc).__name__}: {exc})"
        ) from None
    return _Loaded(functions, variables)
