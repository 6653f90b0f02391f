"""``Model``, ``Sequential``, functional models and ``Input``/``KerasTensor``.

Three ways to write a model, as Keras 3:

- ``Sequential([layers...])`` runs its layers in order;
- ``Model(inputs, outputs)`` over symbolic ``KerasTensor``s from ``Input``: each
  layer call on a KerasTensor records a node, and the model replays the graph of
  nodes on real tensors (multiple inputs/outputs, shared layers, merges);
- a subclass of ``Model`` with its own ``__init__`` and ``call``.

The training loop (``compile``/``fit``/...) builds on this class; the hooks it
uses are ``model(x, training=...)``, ``trainable_variables``, ``weights``,
``layers``, ``losses``, ``build``, ``summary``, ``get_weights``/``set_weights``
and ``count_params``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import gputensor as gt
from gputensor.keras import masks as _masks
from gputensor.keras.layers.base import Layer, _nest_flatten, _nest_map, _shape_of, unique_name
from gputensor.keras.layers.core import InputLayer
from gputensor.keras.trainer import Trainer

__all__ = ["KerasTensor", "Input", "Model", "Functional", "Sequential", "Node"]


class KerasTensor:
    """A symbolic tensor: a shape (None for unknown dims), a dtype and the layer call that made it.

    Calling a layer on KerasTensors records a `Node` and returns new KerasTensors;
    ``Model(inputs, outputs)`` turns the recorded graph into a model. The
    operators ``+ - * /`` and unary ``-`` record small anonymous layers.
    """

    def __init__(self, shape: Any, dtype: Any = "float32", name: str | None = None, node: Any = None) -> None:
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self._dtype = gt.as_dtype(dtype)
        self.name = name
        self._node = node  # the Node that produced this tensor; None for an Input
        self._keras_history: tuple | None = None

    @property
    def dtype(self) -> str:
        """The dtype's name (``"float32"``), a string as in Keras 3."""
        return self._dtype.name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __bool__(self) -> bool:
        raise TypeError(
            "A symbolic KerasTensor has no value: it cannot be used as a Python bool. "
            "Use layers (or gt.cond inside a layer's call) instead."
        )

    def _binary(self, other: Any, fn: Callable, sym: str, reverse: bool = False) -> KerasTensor:
        layer = _OpLayer(fn, name=unique_name(sym))
        if isinstance(other, KerasTensor):
            return layer([other, self] if reverse else [self, other])
        const = other
        return _OpLayer((lambda a: fn(const, a)) if reverse else (lambda a: fn(a, const)), name=layer.name)(
            self
        )

    def __add__(self, o: Any) -> KerasTensor:
        return self._binary(o, gt.add, "add")

    def __radd__(self, o: Any) -> KerasTensor:
        return self._binary(o, gt.add, "add", True)

    def __sub__(self, o: Any) -> KerasTensor:
        return self._binary(o, gt.subtract, "subtract")

    def __rsub__(self, o: Any) -> KerasTensor:
        return self._binary(o, gt.subtract, "subtract", True)

    def __mul__(self, o: Any) -> KerasTensor:
        return self._binary(o, gt.multiply, "multiply")

    def __rmul__(self, o: Any) -> KerasTensor:
        return self._binary(o, gt.multiply, "multiply", True)

    def __truediv__(self, o: Any) -> KerasTensor:
        return self._binary(o, gt.truediv, "true_divide")

    def __neg__(self) -> KerasTensor:
        return _OpLayer(gt.negative, name=unique_name("negative"))(self)


class _OpLayer(Layer):
    """An anonymous weightless layer applying ``fn`` (from KerasTensor operators)."""

    def __init__(self, fn: Callable, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fn = fn

    def call(self, inputs: Any) -> Any:
        if isinstance(inputs, (list, tuple)):
            return self.fn(*inputs)
        return self.fn(inputs)


class Node:
    """One recorded layer call: the layer, its arguments (with KerasTensors) and outputs."""

    def __init__(self, layer: Layer, args: tuple, kwargs: dict, outputs: Any) -> None:
        self.layer, self.args, self.kwargs, self.outputs = layer, args, kwargs, outputs
        self.input_tensors = [t for t in _nest_flatten((args, kwargs)) if isinstance(t, KerasTensor)]


def Input(  # noqa: N802 - Keras's name
    shape: Any = None,
    batch_size: int | None = None,
    dtype: Any = None,
    name: str | None = None,
    batch_shape: Any = None,
    **kwargs: Any,
) -> KerasTensor:
    """A symbolic input of ``shape`` (without the batch dim), as ``keras.Input``.

    Args:
      shape: a tuple; None entries are unknown dims.
      batch_size: an optional fixed batch size.
      dtype: default float32.
      name: the InputLayer's name (default ``input_layer``, made unique).
      batch_shape: the full shape including the batch dim, instead of ``shape``.

    Returns:
      A `KerasTensor` to call layers on and pass to ``Model(inputs, outputs)``.

    Raises:
      ValueError: if neither ``shape`` nor ``batch_shape`` is given.
    """
    if shape is None and batch_shape is None:
        raise ValueError("Input: pass `shape` (e.g. Input(shape=(28, 28, 1))) or `batch_shape`")
    layer = InputLayer(
        shape=shape, batch_size=batch_size, dtype=dtype, name=name or unique_name("input_layer"),
        batch_shape=batch_shape, **kwargs,
    )  # fmt: skip
    return _input_tensor(layer)


def _input_tensor(layer: InputLayer) -> KerasTensor:
    kt = KerasTensor(layer.batch_shape, layer.dtype, name=layer.name)
    kt._keras_history = (layer, 0, 0)
    layer._output_shape_seen = layer.batch_shape
    layer._keras_tensor = kt
    return kt


# [depth, batch unknown]: depth > 0 while a model runs layers on zeros to find shapes or build
# (stateful RNNs keep their states, and refuse a batch size the model does not fix).
_PROBING = [0, False]


def _zeros_for(kt: KerasTensor, batch: int, free: int) -> gt.Tensor:
    dims = [(batch if i == 0 else free) if d is None else d for i, d in enumerate(kt.shape)]
    return gt.zeros(dims, dtype=kt._dtype)


def _symbolic_call(layer: Layer, args: tuple, kwargs: dict) -> Any:
    """Records ``layer(*args, **kwargs)`` on KerasTensors and returns its symbolic outputs.

    The output shapes come from running the layer eagerly on zeros: once with the
    batch dim 1 when only batch dims are unknown (output dim 0 is the batch), else
    twice with different sizes for the unknown dims, the output dims that differ
    being unknown. That builds the layer's weights as a side effect, as Keras does.
    """
    flat = [t for t in _nest_flatten((args, kwargs)) if isinstance(t, KerasTensor)]
    only_batch = all(d is not None for t in flat for d in t.shape[1:])
    probe_kwargs = {k: v for k, v in kwargs.items() if k != "training"}

    def run(batch: int, free: int) -> Any:
        def sub(v: Any) -> Any:
            if not isinstance(v, KerasTensor):
                return v
            value = _zeros_for(v, batch, free)
            if v._dtype == gt.bool:  # a mask given as mask=: keep every step in the probe
                value = gt.logical_not(value)
            mask = getattr(v, "_keras_mask", None)
            if mask is not None:  # the probe carries the input's mask (all steps kept)
                dims = [(batch if i == 0 else free) if d is None else d for i, d in enumerate(mask.shape)]
                _masks.set_keras_mask(value, gt.ones(dims, dtype=gt.bool))
            return value

        a = _nest_map(sub, args)
        kw = _nest_map(sub, probe_kwargs)
        outer = _PROBING[1]
        _PROBING[0] += 1
        _PROBING[1] = any(t.shape[0] is None for t in flat)
        try:
            return layer._eager_call(a, {**kw, "training": False})
        finally:
            _PROBING[0] -= 1
            _PROBING[1] = outer

    first = run(1 if only_batch else 2, 32)
    flat_first = _nest_flatten(first)
    shapes = [list(_shape_of(t)) for t in flat_first]
    if only_batch:
        batch_unknown = any(t.shape[0] is None for t in flat)
        shapes = [tuple([None if batch_unknown else s[0], *s[1:]]) if s else () for s in shapes]
    else:
        second = [list(_shape_of(t)) for t in _nest_flatten(run(3, 33))]
        shapes = [tuple(x if x == y else None for x, y in zip(s1, s2)) for s1, s2 in zip(shapes, second)]
    node = Node(layer, args, dict(kwargs), None)
    outs_flat = []
    for i, (s, t) in enumerate(zip(shapes, flat_first)):
        kt = KerasTensor(s, t.dtype, name=f"{layer.name}_{len(layer._inbound_nodes)}_{i}", node=node)
        kt._keras_history = (layer, len(layer._inbound_nodes), i)
        mask = _masks.get_keras_mask(t)
        if mask is not None:  # Keras keeps the output's mask on the KerasTensor
            mask_shape = _shape_of(mask)
            kt._keras_mask = KerasTensor(
                tuple(s[: len(mask_shape)]) if len(s) >= len(mask_shape) else (None, *mask_shape[1:]), "bool"
            )
        outs_flat.append(kt)
    it = iter(outs_flat)
    outputs = _nest_map(lambda _: next(it), first)
    node.outputs = outputs
    layer._inbound_nodes.append(node)
    layer._output_shape_seen = _nest_map(lambda t: t.shape, outputs)
    return outputs


# ------------------------------------------------------------------------ Model
class Model(Trainer, Layer):
    """A layer with training hooks: ``Model(inputs, outputs)`` or a subclass with ``call``.

    ``Model(inputs, outputs, name=None)`` builds a functional model (see
    `Functional`); subclasses define layers in ``__init__`` and the forward
    pass in ``call(inputs, training=None)``.

    Args:
      name: the model's name.
      trainable: whether its weights train.
    """

    # A model's outputs get their masks from the layers inside it (masks.after_call).
    _propagates_masks_itself = True

    def __new__(cls, *args: Any, **kwargs: Any) -> Model:
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            return object.__new__(Functional)
        # Keras 3's functional_init_arguments: what makes a subclass call functional.
        functional_args = (
            len(args) == 2
            or (len(args) == 1 and "outputs" in kwargs)
            or ("inputs" in kwargs and "outputs" in kwargs)
        )
        if functional_args and not issubclass(cls, (Functional, Sequential)):
            # Keras 3: a Model subclass called with inputs/outputs (the usual way to override
            # train_step/test_step on a functional model) is a functional model that keeps the
            # subclass's methods. Keras swaps Model for Functional in the class's bases; a
            # cached subclass of (cls, Functional) gives the same method resolution.
            variant = cls.__dict__.get("_functional_variant")
            if variant is None:
                variant = type(cls.__name__, (cls, Functional), {"__module__": cls.__module__})
                variant.__qualname__ = cls.__qualname__
                cls._functional_variant = variant
            return object.__new__(variant)
        return object.__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or "inputs" in kwargs:
            raise TypeError(
                f"{type(self).__name__}: a subclassed Model takes keyword arguments (name, trainable, dtype), "
                "not inputs/outputs; for a functional model call Model(inputs, outputs)"
            )
        super().__init__(**kwargs)

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Model:
        """A model from its config: a functional config (``layers``, ``input_layers``,
        ``output_layers``) rebuilds the graph (user layer classes through ``custom_objects``),
        as ``keras.Model.from_config``; otherwise ``cls(**config)`` (a subclassed model).
        """
        if "input_layers" in config and "layers" in config and cls in (Model, Functional):
            return Functional.from_config(config, custom_objects)
        return cls(**config)

    def save_weights(self, filepath: str, overwrite: bool = True) -> None:
        """Writes the weights: ``.weights.h5`` (Keras 3 layout), ``.h5`` (legacy) or ``.npz``
        (docs/keras.md, "Weight files"); to a temporary file renamed into place."""
        from gputensor.keras import saving

        saving.save_weights(self, filepath, overwrite=overwrite)

    def save(self, filepath: str, overwrite: bool = True) -> None:
        """Saves the whole model (config, compile arguments, weights) as a ``.keras`` archive;
        `gt.keras.models.load_model` reads it back."""
        from gputensor.keras import saving

        saving.save_model(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: str, skip_mismatch: bool = False) -> None:
        """Reads weights saved by `save_weights` or by Keras for the same architecture.

        Raises:
          ValueError: a layer or shape of the file does not match the model (named).
          gt.errors.DataLossError: a truncated or foreign file.
        """
        from gputensor.keras import saving

        saving.load_weights(self, filepath, skip_mismatch=skip_mismatch)

    @property
    def layers(self) -> list:
        """The model's direct layers, in the order they were added or assigned."""
        return [x for x in self._layers if isinstance(x, Layer)]

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or index.

        Raises:
          ValueError: if no layer matches (listing the names).
        """
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"Model {self.name!r}: index {index} out of range for {len(layers)} layers")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: {[layer.name for layer in layers]}")

    def _maybe_build(self, inputs: Any) -> None:
        # A model builds its layers by running them: each builds lazily on its first call.
        if not self.built:
            first = _nest_flatten(inputs)
            shapes = _nest_map(_shape_of, inputs) if len(first) > 1 else _shape_of(first[0])
            self._build_input_shape = shapes
            if type(self).build is not Model.build and not isinstance(self, (Sequential, Functional)):
                with self.name_scope:
                    self.build(shapes)  # a subclass's own build creates its weights, as Keras
            self.built = True

    def build(self, input_shape: Any) -> None:
        """Builds every layer by running the model once on zeros of ``input_shape`` (None dims -> 1).

        Args:
          input_shape: a shape (with the batch dim), or a list of them for several inputs.
        """
        is_multi = (
            isinstance(input_shape, (list, tuple))
            and input_shape
            and isinstance(input_shape[0], (list, tuple))
        )
        shapes = list(input_shape) if is_multi else [input_shape]
        dummies = [gt.zeros([1 if d is None else int(d) for d in s], dtype=self.dtype) for s in shapes]
        self._build_input_shape = tuple(input_shape) if not is_multi else [tuple(s) for s in shapes]
        self.built = True
        outer = _PROBING[1]
        _PROBING[0] += 1
        _PROBING[1] = any(not s or s[0] is None for s in shapes)
        try:
            self._eager_call((dummies if is_multi else dummies[0],), {"training": False})
        finally:
            _PROBING[0] -= 1
            _PROBING[1] = outer
        for layer in self._flatten_layers(include_self=False):
            if isinstance(layer, Layer) and layer._output_shape_seen is not None:
                layer._output_shape_seen = _nest_map(_unknown_batch, layer._output_shape_seen)

    def summary(
        self,
        line_length: int | None = None,
        positions: Any = None,
        print_fn: Callable[[str], Any] | None = None,
        expand_nested: bool = False,
        show_trainable: bool = False,
    ) -> None:
        """Prints a table of layers (name (type), output shape, param #) and parameter totals.

        Args:
          line_length: the table width (default 65, wider for functional models).
          positions: column end positions as fractions or characters.
          print_fn: called with each line (default ``print``).
          expand_nested: also list the layers of nested models, indented.
          show_trainable: add a column saying whether each layer trains.
        """
        text = self._summary_text(line_length, positions, expand_nested, show_trainable)
        emit = print_fn or print
        for line in text.split("\n"):
            emit(line)

    def _summary_text(
        self, line_length: Any, positions: Any, expand_nested: bool, show_trainable: bool
    ) -> str:
        functional = isinstance(self, Functional)
        line_length = line_length or (98 if functional else 65)
        positions = positions or ([0.33, 0.55, 0.67, 1.0] if functional else [0.45, 0.85, 1.0])
        if positions[-1] <= 1:
            positions = [int(line_length * p) for p in positions]
        headers = [" Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if functional else [])
        if show_trainable:
            headers.append("Trainable")
            positions = [*positions, positions[-1] + 11]
            line_length = positions[-1]

        def row(fields: list) -> str:
            line = ""
            for i, field in enumerate(fields):
                if i > 0:
                    line = line[:-1] + " "
                # Keras 3 wraps a long name inside its column; this plain table never cuts it
                # (a cut name cannot be looked up): the next columns move right instead.
                line += str(field)
                line += " " * max(positions[i] - len(line), 1)
            return line

        lines = [f'Model: "{self.name}"', "_" * line_length, row(headers), "=" * line_length]
        entries = self._summary_entries(expand_nested, "")
        for i, (prefix, layer) in enumerate(entries):
            shape = layer._output_shape_seen
            shape_text = "?" if shape is None else str(_shape_text(shape))
            params = layer.count_params() if (layer.built or layer.weights) else 0
            count = f"{params:,}" if layer.built else f"{params:,} (unbuilt)"  # as Keras 3
            fields = [f" {prefix}{layer.name} ({type(layer).__name__})", shape_text, count]
            if functional:
                fields.append(self._connections(layer))
            if show_trainable:
                fields.append("Y" if layer.trainable else "N")
            lines.append(row(fields))
            lines.append(("=" if i == len(entries) - 1 else "_") * line_length)
        if not entries:
            lines.append("=" * line_length)
        trainable = sum(_size(v) for v in self.trainable_weights)
        non_trainable = sum(_size(v) for v in self.non_trainable_weights)
        nbytes = lambda ws: sum(_size(v) * v.dtype.size for v in ws)  # noqa: E731
        # Keras 3 counts a built optimizer's variables (slots, iteration, learning rate) in the
        # total and lists them on their own line.
        optimizer = getattr(self, "optimizer", None)
        opt_vars = list(optimizer.variables) if getattr(optimizer, "built", False) else []
        opt_count = sum(_size(v) for v in opt_vars)
        total = trainable + non_trainable + opt_count
        total_bytes = nbytes(self.weights) + nbytes(opt_vars)
        lines.append(f"Total params: {total:,} ({_bytes(total_bytes)})")
        lines.append(f"Trainable params: {trainable:,} ({_bytes(nbytes(self.trainable_weights))})")
        lines.append(
            f"Non-trainable params: {non_trainable:,} ({_bytes(nbytes(self.non_trainable_weights))})"
        )
        if opt_vars:
            lines.append(f"Optimizer params: {opt_count:,} ({_bytes(nbytes(opt_vars))})")
        lines.append("_" * line_length)
        return "\n".join(lines)

    def _summary_entries(self, expand_nested: bool, prefix: str) -> list:
        out = []
        for layer in self.layers:
            out.append((prefix, layer))
            if expand_nested and isinstance(layer, Model):
                out.extend(layer._summary_entries(True, prefix + "  "))
        return out

    def _connections(self, layer: Layer) -> str:
        return ""


def _unknown_batch(shape: Any) -> Any:
    if isinstance(shape, tuple) and all(d is None or isinstance(d, int) for d in shape):
        return (None, *shape[1:]) if shape else shape
    return shape


def _shape_text(shape: Any) -> Any:
    if isinstance(shape, list) and len(shape) == 1:
        return shape[0]
    return shape


def _size(v: Any) -> int:
    return int(math.prod(v.shape.as_list()))


def _bytes(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n:.2f} B"


def _keras_layer_order(flat_in: list, flat_out: list) -> list:
    """A functional model's layers in Keras 3's order (``keras.src.ops.function.map_graph``):
    by decreasing depth from the outputs, ties in the order a depth-first walk from the
    outputs first meets them; Inputs count as layers. ``model.layers``, ``weights``, summaries
    and weight files follow it."""
    input_ids = {id(t) for t in flat_in}
    parents: dict = {}  # node key -> (layer, parent node keys)
    finished: list = []  # node keys in the walk's post-order
    first_seen: dict = {}  # id(layer) -> order of first visit

    def key_of(t: KerasTensor) -> tuple:
        return ("node", id(t._node)) if t._node is not None and id(t) not in input_ids else ("in", id(t))

    def visit(t: KerasTensor) -> None:
        layer = t._keras_history[0]
        key = key_of(t)
        if key in parents:
            return
        first_seen.setdefault(id(layer), len(first_seen))
        inbound = t._node.input_tensors if key[0] == "node" else []
        parents[key] = (layer, [key_of(p) for p in inbound])
        for p in inbound:
            visit(p)
        finished.append(key)

    for t in flat_out:
        visit(t)
    node_depth: dict = {}
    layer_depth: dict = {}
    layers_by_id: dict = {}
    for key in reversed(finished):
        layer, inbound = parents[key]
        depth = max(node_depth.setdefault(key, 0), layer_depth.get(id(layer), 0))
        layer_depth[id(layer)] = depth
        layers_by_id[id(layer)] = layer
        node_depth[key] = depth
        for parent in inbound:
            node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    for t in flat_in:  # an Input no output depends on: depth 0, first among its depth
        layer = t._keras_history[0]
        if id(layer) not in layer_depth:
            layer_depth[id(layer)] = 0
            layers_by_id[id(layer)] = layer
            first_seen[id(layer)] = -1
    ordered = sorted(layer_depth, key=lambda i: (-layer_depth[i], first_seen[i]))
    return [layers_by_id[i] for i in ordered]


# ------------------------------------------------------------------- Functional
class Functional(Model):
    """A model defined by a graph of layer calls from ``Input`` to ``outputs``.

    Args:
      inputs: a KerasTensor from ``Input``, or a list/dict of them.
      outputs: KerasTensors computed from ``inputs``, a list/dict of them.
      name: the model's name.

    Raises:
      ValueError: if ``inputs`` are not Input tensors, or an output depends on an
        Input not in ``inputs`` ("Graph disconnected").

    >>> from gputensor.keras import layers
    >>> a, b = Input((3,)), Input((5,))
    >>> merged = layers.Concatenate()([layers.Dense(4)(a), b])
    >>> merged.shape
    (None, 9)
    >>> model = Model([a, b], layers.Dense(1)(merged))
    >>> model([gt.ones([2, 3]), gt.ones([2, 5])]).shape
    TensorShape([2, 1])
    """

    def _input_dt(self) -> Any:
        # Keras 3: a functional model converts each input to its Input's dtype (in call), not
        # to the compute dtype of a mixed policy.
        return None

    def __init__(
        self, inputs: Any, outputs: Any, name: str | None = None, trainable: bool = True, **kwargs: Any
    ) -> None:
        Layer.__init__(self, name=name or unique_name("functional"), trainable=trainable, **kwargs)
        flat_in = _nest_flatten(inputs)
        for t in flat_in:
            if not isinstance(t, KerasTensor) or t._node is not None:
                raise ValueError(
                    f"Model {self.name!r}: every input must be a tensor made by keras.Input(...), got {t!r}"
                )
        flat_out = _nest_flatten(outputs)
        for t in flat_out:
            if not isinstance(t, KerasTensor):
                raise ValueError(
                    f"Model {self.name!r}: every output must be a KerasTensor from layer calls, got {t!r}"
                )
        self._inputs_struct, self._outputs_struct = inputs, outputs
        self._flat_inputs, self._flat_outputs = flat_in, flat_out
        input_ids = {id(t) for t in flat_in}
        order: list = []
        seen: set = set()

        def visit(t: KerasTensor, path: list) -> None:
            node = t._node
            if node is None:
                if id(t) not in input_ids:
                    raise ValueError(
                        f"Graph disconnected: cannot obtain value for tensor {t!r} at layer "
                        f"{path[-1] if path else '?'!r}. The following previous layers were accessed without issue: "
                        f"{[n.layer.name for n in order]}. Pass that Input in `inputs`."
                    )
                return
            if id(node) in seen:
                return
            for parent in node.input_tensors:
                visit(parent, [*path, node.layer.name])
            seen.add(id(node))
            order.append(node)

        for t in flat_out:
            visit(t, [])
        self._nodes = order
        # Keras walks the outputs as its tree.flatten gives them (a dict's keys sorted).
        from gputensor.autodiff import nest

        self._functional_layers = _keras_layer_order(flat_in, nest.flatten(outputs))
        self.built = True
        self._build_input_shape = [t.shape for t in flat_in] if len(flat_in) > 1 else flat_in[0].shape
        self._output_shape_seen = _nest_map(lambda t: t.shape, outputs)

    @property
    def inputs(self) -> list:
        """The model's Input KerasTensors."""
        return list(self._flat_inputs)

    @property
    def outputs(self) -> list:
        """The model's output KerasTensors."""
        return list(self._flat_outputs)

    @property
    def output_names(self) -> list:
        """The names of the layers making the outputs, in flattened order (a dict's keys
        sorted), as Keras 3; losses and metrics of list outputs are logged under them."""
        from gputensor.autodiff import nest

        return [t._keras_history[0].name for t in nest.flatten(self._outputs_struct)]

    @property
    def input(self) -> Any:
        """The Input KerasTensor(s) in the structure given to the constructor."""
        return self._inputs_struct

    @property
    def output(self) -> Any:
        """The output KerasTensor(s) in the structure given to the constructor."""
        return self._outputs_struct

    @property
    def input_shape(self) -> Any:
        shapes = [t.shape for t in self._flat_inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def _maybe_build(self, inputs: Any) -> None:
        return

    def _check_input_spec(self, inputs: Any) -> None:
        return

    def _flat_call_inputs(self, inputs: Any) -> list:
        expected = self._inputs_struct
        if isinstance(expected, dict):
            if not isinstance(inputs, dict):
                raise ValueError(f"Model {self.name!r} expects a dict of inputs with keys {sorted(expected)}")
            missing = [k for k in expected if k not in inputs]
            if missing:
                raise ValueError(
                    f"Model {self.name!r}: missing inputs {missing}; expected keys {sorted(expected)}"
                )
            flat = _nest_flatten({k: inputs[k] for k in expected})
        elif isinstance(inputs, dict):
            flat = [inputs[t.name] if t.name in inputs else None for t in self._flat_inputs]
            if any(v is None for v in flat):
                raise ValueError(
                    f"Model {self.name!r}: a dict of inputs must use the Input names "
                    f"{[t.name for t in self._flat_inputs]}, got keys {sorted(inputs)}"
                )
        else:
            flat = _nest_flatten(inputs) if len(self._flat_inputs) > 1 else [inputs]
        if len(flat) != len(self._flat_inputs):
            raise ValueError(
                f'Layer "{self.name}" expects {len(self._flat_inputs)} input(s), but it received {len(flat)} '
                f"input tensors. Inputs received: {[_shape_of(x) if hasattr(x, 'shape') else x for x in flat]}"
            )
        return flat

    def call(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        flat = self._flat_call_inputs(inputs)
        flat_masks = _nest_flatten(mask) if mask is not None else []
        values: dict = {}
        for kt, value in zip(self._flat_inputs, flat):
            value = kt._keras_history[0]._convert_input(value)
            shape = _shape_of(value)
            if len(shape) != len(kt.shape) or any(
                a is not None and b is not None and a != b for a, b in zip(shape, kt.shape)
            ):
                raise ValueError(
                    f'Input {kt.name!r} of model "{self.name}" is incompatible with the layer: expected shape='
                    f"{kt.shape}, found shape={shape}"
                )
            if value.dtype != kt._dtype:
                value = gt.cast(value, kt._dtype)  # Keras converts inputs to the Input's dtype
            values[id(kt)] = value
        for value, m in zip(values.values(), flat_masks):
            if m is not None:  # Keras: a mask given to the model rides on its input
                _masks.set_keras_mask(value, m)
        sub = lambda v: values[id(v)] if isinstance(v, KerasTensor) else v  # noqa: E731
        for node in self._nodes:
            args = _nest_map(sub, node.args)
            kwargs = _nest_map(sub, node.kwargs)
            out = node.layer(*args, **kwargs)
            for kt, value in zip(_nest_flatten(node.outputs), _nest_flatten(out)):
                values[id(kt)] = value
        return _nest_map(sub, self._outputs_struct)

    def get_config(self) -> dict:
        """Keras 3's functional config: each layer with its ``inbound_nodes`` (arguments with
        ``__keras_tensor__`` references ``[layer name, node index, tensor index]``), and
        ``input_layers``/``output_layers``."""
        from gputensor.keras.layers import serialize

        local: dict = {}  # id(node) -> (layer name, index among this model's nodes of that layer)
        per_layer: dict = {}
        for node in self._nodes:
            i = per_layer.get(id(node.layer), 0)
            per_layer[id(node.layer)] = i + 1
            local[id(node)] = i

        def ref(t: KerasTensor) -> list:
            layer, _, tensor_index = t._keras_history
            return [layer.name, 0 if t._node is None else local[id(t._node)], tensor_index]

        def encode(v: Any) -> Any:
            if isinstance(v, KerasTensor):
                return {
                    "class_name": "__keras_tensor__",
                    "config": {"shape": list(v.shape), "dtype": v.dtype, "keras_history": ref(v)},
                }
            if isinstance(v, (list, tuple)):
                return [encode(x) for x in v]
            if isinstance(v, dict):
                return {k: encode(x) for k, x in v.items()}
            return v

        layer_configs = []
        for layer in self._functional_layers:
            entry = serialize(layer)
            entry["name"] = layer.name
            entry["inbound_nodes"] = [
                {"args": encode(list(node.args)), "kwargs": encode(node.kwargs)}
                for node in self._nodes
                if node.layer is layer
            ]
            layer_configs.append(entry)
        return {
            "name": self.name,
            "trainable": self.trainable,
            "layers": layer_configs,
            "input_layers": _nest_map(ref, self._inputs_struct),
            "output_layers": _nest_map(ref, self._outputs_struct),
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Functional:
        """Rebuilds the layer graph from `get_config`'s dict.

        Raises:
          ValueError: for a reference to a layer or node the config does not define.
        """
        from gputensor.keras.layers import deserialize

        created: dict = {}
        tensors: dict = {}  # (layer name, node index, tensor index) -> KerasTensor
        pending = []
        for entry in config["layers"]:
            layer = deserialize(entry, custom_objects)
            # References use the entry's name, as Keras: a user layer whose get_config leaves
            # out "name" gets a fresh name when rebuilt.
            key = entry.get("name", layer.name)
            created[key] = layer
            if isinstance(layer, InputLayer):
                tensors[(key, 0, 0)] = _input_tensor(layer)
            pending.extend((layer, key, i, node) for i, node in enumerate(entry.get("inbound_nodes", [])))

        def is_ref(v: Any) -> bool:
            return isinstance(v, dict) and v.get("class_name") == "__keras_tensor__"

        def decode(v: Any) -> Any:
            if is_ref(v):
                return tensors[tuple(v["config"]["keras_history"])]
            if isinstance(v, list):
                return [decode(x) for x in v]
            if isinstance(v, dict):
                return {k: decode(x) for k, x in v.items()}
            return v

        def ready(v: Any) -> bool:
            if is_ref(v):
                return tuple(v["config"]["keras_history"]) in tensors
            if isinstance(v, list):
                return all(ready(x) for x in v)
            if isinstance(v, dict):
                return all(ready(x) for x in v.values())
            return True

        while pending:  # Keras's order: a node runs once every tensor it reads exists
            progressed = False
            for item in list(pending):
                layer, key, index, node = item
                if ready(node["args"]) and ready(node["kwargs"]):
                    out = layer(*decode(node["args"]), **decode(node["kwargs"]))
                    for j, t in enumerate(_nest_flatten(out)):
                        tensors[(key, index, j)] = t
                    pending.remove(item)
                    progressed = True
            if not progressed:
                names = sorted({key for _, key, _, _ in pending})
                raise ValueError(f"Functional config: cannot resolve the inputs of layers {names}")

        def get_ref(r: Any) -> Any:
            if isinstance(r, list) and len(r) == 3 and isinstance(r[0], str):
                key = tuple(r)
                if key not in tensors:
                    raise ValueError(f"Functional config: no tensor {list(key)} (layer, node, index)")
                return tensors[key]
            if isinstance(r, dict):
                return {k: get_ref(v) for k, v in r.items()}
            return [get_ref(v) for v in r]

        inputs, outputs = get_ref(config["input_layers"]), get_ref(config["output_layers"])
        return cls(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True))

    def _connections(self, layer: Layer) -> str:
        names = []
        for node in self._nodes:
            if node.layer is layer:
                for t in node.input_tensors:
                    src, node_index, tensor_index = t._keras_history
                    names.append(f"{src.name}[{node_index}][{tensor_index}]")
        return ", ".join(names) if names else "-"


# ------------------------------------------------------------------- Sequential
class Sequential(Model):
    """A stack of layers, each fed the previous one's output.

    Args:
      layers: the initial layers; the first may be an ``Input(shape)`` (or an
        ``InputLayer``) fixing the input shape, which builds the model at once.
      name: the model's name (default ``sequential``, made unique).
      trainable: whether its weights train.

    Raises:
      TypeError: when adding something that is not a Layer.
      ValueError: when adding a layer whose name is already used in the model.

    >>> from gputensor.keras import layers
    >>> model = Sequential([Input((4,)), layers.Dense(8, activation="relu"), layers.Dense(2)])
    >>> model.count_params()
    58
    >>> model(gt.ones([5, 4])).shape
    TensorShape([5, 2])
    """

    _NOT_TRACKED = Layer._NOT_TRACKED | {"_input_layer", "_symbolic_input", "_symbolic_output"}

    def _input_dt(self) -> Any:
        # Keras 3: a Sequential converts inputs to its InputLayer's dtype (float32), not to the
        # compute dtype of a mixed policy; the first layer casts them itself.
        if self._input_layer is not None:
            return self._input_layer.dtype
        return super()._input_dt()

    @property
    def input(self) -> KerasTensor:
        """The symbolic input of the built model (for ``Model(seq.input, seq.layers[i].output)``).

        Raises:
          AttributeError: if the model was not built from a shape or an Input.
        """
        if getattr(self, "_symbolic_input", None) is None:
            raise AttributeError(
                f"Sequential model {self.name!r} has no defined input: give it an Input first or call build(shape)"
            )
        return self._symbolic_input

    @property
    def output(self) -> KerasTensor:
        """The symbolic output of the built model.

        Raises:
          AttributeError: if the model was not built from a shape or an Input.
        """
        self.input  # noqa: B018 - raises the same error when unbuilt
        return self._symbolic_output

    @property
    def inputs(self) -> list:
        """``[model.input]``, as Keras (for ``Model(inputs=seq.inputs, outputs=...)``)."""
        return [self.input]

    @property
    def outputs(self) -> list:
        """``[model.output]``, as Keras."""
        return [self.output]

    def __init__(
        self, layers: Any = None, name: str | None = None, trainable: bool = True, **kwargs: Any
    ) -> None:
        Layer.__init__(self, name=name, trainable=trainable, **kwargs)
        self._seq_layers: list = []
        self._input_layer: InputLayer | None = None
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_build_from_input()

    @property
    def layers(self) -> list:
        return list(self._seq_layers)

    def add(self, layer: Any, rebuild: bool = True) -> None:
        """Appends ``layer`` (an ``Input(...)`` tensor or InputLayer only as the first entry).

        Raises:
          TypeError: for a value that is not a layer.
          ValueError: for a duplicate layer name or an Input after the first layer.
        """
        if isinstance(layer, KerasTensor):
            layer = layer._keras_history[0]
        if isinstance(layer, InputLayer):
            if self._seq_layers or self._input_layer is not None:
                raise ValueError(f"Sequential model {self.name!r}: an Input may only be the first entry")
            self._input_layer = layer
        elif not isinstance(layer, Layer):
            raise TypeError(
                f"Sequential.add: only instances of `keras.Layer` can be added to a Sequential model, "
                f"got {layer!r} (of type {type(layer).__name__})"
            )
        else:
            if any(existing.name == layer.name for existing in self._seq_layers):
                raise ValueError(
                    f"All layers added to a Sequential model should have unique names. Name {layer.name!r} is already "
                    f"the name of a layer in this model. Update the `name` argument to pass a unique name."
                )
            self._seq_layers.append(layer)
        self.built = False
        if rebuild:
            self._maybe_build_from_input()

    def pop(self) -> Layer:
        """Removes and returns the last layer.

        Raises:
          ValueError: for an empty model.
        """
        if not self._seq_layers:
            raise ValueError(f"Sequential model {self.name!r} has no layers to pop")
        layer = self._seq_layers.pop()
        self.built = False
        self._maybe_build_from_input()
        return layer

    def _maybe_build_from_input(self) -> None:
        shape = None
        if self._input_layer is not None:
            shape = self._input_layer.batch_shape
        elif self._seq_layers and self._seq_layers[0]._batch_input_shape is not None:
            shape = self._seq_layers[0]._batch_input_shape
        if shape is not None and self._seq_layers:
            self.build(shape)

    def build(self, input_shape: Any = None) -> None:
        """Builds every layer for ``input_shape`` (with the batch dim) by a symbolic pass.

        Raises:
          ValueError: without a shape when the model has no Input.
        """
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError(
                    f"Sequential model {self.name!r}: build() needs an input_shape (or an Input first)"
                )
            input_shape = self._input_layer.batch_shape
        input_shape = tuple(input_shape)
        source = self._input_layer
        if source is None or tuple(source.batch_shape) != input_shape:
            # Keras makes an InputLayer for a Sequential built from a shape (not one of its layers).
            source = InputLayer(batch_shape=input_shape, dtype=self.dtype, name=unique_name("input_layer"))
        x = self._symbolic_input = _input_tensor(source)
        for layer in self._seq_layers:
            x = layer(x)
        self._symbolic_output = x
        self._build_input_shape = input_shape
        self._output_shape_seen = x.shape if isinstance(x, KerasTensor) else None
        self.built = True

    def get_config(self) -> dict:
        """``{"name", "trainable", "dtype", "layers": [serialized layers]}`` (an InputLayer first if any)."""
        from gputensor.keras.layers import serialize

        entries = [serialize(self._input_layer)] if self._input_layer is not None else []
        entries.extend(serialize(layer) for layer in self._seq_layers)
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": self._dtype_config(),
            "layers": entries,
        }
        if self._input_layer is None and self._build_input_shape is not None:
            config["build_input_shape"] = list(self._build_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Sequential:
        """A new (unbuilt unless it had an Input) Sequential from `get_config`'s dict."""
        from gputensor.keras.layers import deserialize

        config = dict(config)
        entries = config.pop("layers")
        build_shape = config.pop("build_input_shape", None)
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for entry in entries:
            model.add(deserialize(entry, custom_objects))
        if build_shape is not None and not model.built:
            model.build(tuple(build_shape))
        return model

    def call(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        x = inputs
        if mask is not None and _masks.get_keras_mask(x) is None:
            _masks.set_keras_mask(x, mask)  # Keras: a mask given to the model rides on its input
        for layer in self._seq_layers:
            x = layer(x)
        return x

    @property
    def input_shape(self) -> Any:
        """The built input shape (batch dim included).

        Raises:
          AttributeError: before the model is built.
        """
        if self._build_input_shape is None:
            raise AttributeError(
                f"Sequential model {self.name!r} has no input shape until it is built or called"
            )
        return self._build_input_shape


def load_model(
    filepath: str, custom_objects: dict | None = None, compile: bool = True, safe_mode: bool = True
) -> Model:
    """Loads a model saved with `Model.save` (a ``.keras`` archive), compiled again if it was.

    ``safe_mode=False`` allows `Lambda` layers holding a saved Python lambda (trusted files only).

    Raises:
      gt.errors.DataLossError: not a readable ``.keras`` archive.
      ValueError: an unknown layer class (pass it in ``custom_objects``), or a Python lambda
        in safe mode.
    """
    from gputensor.keras import saving

    return saving.load_model(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)
