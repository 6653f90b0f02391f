"""``Layer``: the Keras 3 layer on top of ``gt.Module``, and ``InputSpec``.

A layer builds its weights lazily from the first input shape (``build``), runs
``call`` under ``__call__`` (which converts inputs, checks ``input_spec``,
propagates ``training`` to nested layers and, given symbolic ``KerasTensor``
inputs, records a node of a functional graph), and lists its weights in Keras's
order: its own, in creation order, then each sublayer's in assignment order.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

import gputensor as gt
from gputensor.framework.variable import autocast as _autocast
from gputensor.keras import initializers as _initializers
from gputensor.keras import masks as _masks
from gputensor.keras import regularizers as _regularizers
from gputensor.keras.serialization import to_snake_case
from gputensor.keras.variables import _PATHS, KerasVariable, current_path, name_scope, path_of
from gputensor.module import Module

__all__ = ["Layer", "InputSpec"]

# Keras's global name counter: dense, dense_1, dense_2, ...
_NAME_COUNTS: dict[str, int] = {}


def unique_name(base: str) -> str:
    """``base`` the first time, then ``base_1``, ``base_2``, ... (Keras's auto names)."""
    n = _NAME_COUNTS.get(base, 0)
    _NAME_COUNTS[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def reset_uids() -> None:
    """Restarts the automatic names (``keras.backend.clear_session``'s naming part)."""
    _NAME_COUNTS.clear()


class _CallContext(threading.local):
    def __init__(self) -> None:
        self.depth = 0
        self.training: bool | None = None


_CTX = _CallContext()


class InputSpec:
    """What a built layer accepts: ``ndim``/``min_ndim`` and fixed sizes per axis.

    Args:
      ndim: the exact rank, or None.
      min_ndim: the least rank, or None.
      axes: ``{axis: size}`` sizes that must match (negative axes count from the end).
    """

    def __init__(
        self, ndim: int | None = None, min_ndim: int | None = None, axes: dict | None = None
    ) -> None:
        self.ndim, self.min_ndim, self.axes = ndim, min_ndim, dict(axes or {})

    def __repr__(self) -> str:
        return f"InputSpec(ndim={self.ndim}, min_ndim={self.min_ndim}, axes={self.axes})"


def _shape_of(x: Any) -> tuple:
    if type(x) is gt.Tensor and x._data is not None:
        # The hot path (every eager layer call): the array's own shape tuple, without a
        # TensorShape (a symbolic tensor's holds None for unknown dims, as as_list() does).
        shape = x._data.shape
        return shape if type(shape) is tuple else tuple(shape)
    shape = x.shape
    return tuple(shape.as_list()) if hasattr(shape, "as_list") else tuple(shape)


_KERAS_TENSOR: list = []
# Layers holding add_loss values from the current outermost call (cleared at the next one).
_PENDING_LOSSES: dict = {}


def _is_keras_tensor(x: Any) -> bool:
    if not _KERAS_TENSOR:
        from gputensor.keras.models import KerasTensor

        _KERAS_TENSOR.append(KerasTensor)
    return isinstance(x, _KERAS_TENSOR[0])


def _nest_flatten(x: Any) -> list:
    if isinstance(x, dict):
        return [leaf for k in x for leaf in _nest_flatten(x[k])]
    if isinstance(x, (list, tuple)):
        return [leaf for v in x for leaf in _nest_flatten(v)]
    return [x]


def _nest_map(fn: Any, x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _nest_map(fn, v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_nest_map(fn, v) for v in x)
    return fn(x)


def _accepts(fn: Any, arg: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return arg in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def _scoped_build(build: Any) -> Any:
    """Wraps a Layer subclass's ``build`` to run inside the layer's Keras path scope (as
    Keras 3's build wrapper), so weights made there get ``<parents>/<layer>/<name>`` paths
    however ``build`` is reached (``__call__``, a parent's ``build``, a direct call)."""
    if getattr(build, "_keras_path_scoped", False):
        return build

    @functools.wraps(build)
    def build_in_scope(self: Layer, *args: Any, **kwargs: Any) -> Any:
        with self._open_path_scope():
            return build(self, *args, **kwargs)

    build_in_scope._keras_path_scoped = True  # type: ignore[attr-defined]
    return build_in_scope


def _record_init_args(init: Any) -> Any:
    """Wraps a Layer subclass's ``__init__`` to keep the outermost call's arguments for get_config."""
    try:
        sig = inspect.signature(init)
    except (TypeError, ValueError):
        return init

    @functools.wraps(init)
    def __init__(self: Layer, *args: Any, **kwargs: Any) -> None:  # noqa: N807
        if "_init_config" not in self.__dict__:
            config: dict = {}
            try:
                bound = sig.bind(self, *args, **kwargs)
            except TypeError:
                bound = None
            if bound is not None:
                bound.apply_defaults()  # Keras configs list every argument
                for key, value in list(bound.arguments.items())[1:]:
                    kind = sig.parameters[key].kind
                    if kind is inspect.Parameter.VAR_KEYWORD:
                        config.update(value)
                    elif kind is not inspect.Parameter.VAR_POSITIONAL:
                        config[key] = value
            self.__dict__["_init_config"] = config
        init(self, *args, **kwargs)

    return __init__


def _serialize_value(value: Any) -> Any:
    from gputensor.keras import activations as _activations

    if isinstance(value, _initializers.Initializer):
        return _initializers.serialize(value)
    if isinstance(value, _regularizers.Regularizer):
        return _regularizers.serialize(value)
    if isinstance(value, Layer):
        from gputensor.keras.layers import serialize

        return serialize(value)
    if isinstance(value, (list, tuple)):
        return [_serialize_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _serialize_value(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, gt.DType):
        return value.name
    if callable(value) and not isinstance(value, type):
        return _activations.serialize(value)
    return value


def _is_shape(value: Any) -> bool:
    """Whether ``value`` is one shape (dims that are ints or None), not a nest of shapes."""
    if isinstance(value, gt.TensorShape):
        return True
    return isinstance(value, (tuple, list)) and all(
        d is None or isinstance(d, (int, np.integer)) for d in value
    )


def _is_float(t: Any) -> bool:
    return gt.is_tensor(t) and not isinstance(t, gt.Variable) and t.dtype.is_floating


_UNBUILT_FEATURES = ("quantization_config", "lora_rank", "lora_alpha")


def _policy_of(dtype: Any) -> Any:
    """A layer's `DTypePolicy` from its ``dtype=`` argument: None (the global policy), a
    policy name, a ``DTypePolicy``, a dtype, or a serialized policy dict from a Keras 3 config
    (``{"class_name": "DTypePolicy", "config": {"name": "mixed_float16"}}``)."""
    from gputensor.keras import dtype_policies

    if isinstance(dtype, dict):
        # Keras's quantized policies (other class names) are refused by deserialize.
        return dtype_policies.deserialize({"class_name": "DTypePolicy", **dtype})
    return dtype_policies.get(dtype)


def _keep_masks(before: Any, after: Any) -> None:
    for a, b in zip(_nest_flatten(before), _nest_flatten(after)):
        if a is not b:
            mask = _masks.get_keras_mask(a)
            if mask is not None:
                _masks.set_keras_mask(b, mask)


class Layer(Module):
    """The base class of Keras layers, as ``keras.layers.Layer``.

    Subclasses create weights in ``build(input_shape)`` with `add_weight` and
    compute in ``call(inputs, training=None)``. The first call builds.

    Args:
      trainable: whether the layer's weights are trained (see `trainable`).
      name: the layer's name; default the class name in snake_case, made unique
        (``dense``, ``dense_1``, ...).
      dtype: the layer's dtype policy: a policy name (``"mixed_float16"``), a
        ``DTypePolicy`` or a dtype (default: the global policy, float32 unless
        ``keras.mixed_precision.set_global_policy`` changed it). Weights are created in its
        variable dtype; ``call`` computes in its compute dtype (see `compute_dtype`).
      autocast: False keeps float inputs and variables in their own dtypes in ``call``.
      input_shape: an optional input shape without the batch dim (for the first
        layer of a ``Sequential``); ``batch_input_shape`` with it.

    Raises:
      TypeError: for an unknown keyword argument.
    """

    # Layers doing float math (Dense, convolutions, normalizations) take int and bool inputs
    # cast to their dtype, as Keras's promoting ops give; the others keep the input's dtype.
    _promotes_integers = False
    # Layers that Keras 3 runs in float32 under a mixed policy (inputs upcast, variables read
    # in float32, output cast to the compute dtype): the normalizations.
    _float32_internal = False
    _autocast_inputs = True
    _NOT_TRACKED = frozenset(
        (
            "_layer_weights",
            "_call_losses",
            "_inbound_nodes",
            "_outbound_nodes",
            "_output_shape_seen",
            "input_spec",
            "_build_input_shape",
            "_batch_input_shape",
            "_call_accepts_training",
            "_self_setattr_tracking",
            "_seed_state",
            "_init_config",
            "_keras_tensor",
            "_input_layer",
        )
    )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None:
            cls.__init__ = _record_init_args(init)
        build = cls.__dict__.get("build")
        if build is not None:
            cls.build = _scoped_build(build)

    def __init__(
        self,
        trainable: bool = True,
        name: str | None = None,
        dtype: Any = None,
        *,
        input_shape: Any = None,
        batch_input_shape: Any = None,
        input_dim: int | None = None,
        **kwargs: Any,
    ) -> None:
        for key in kwargs:
            if key in _UNBUILT_FEATURES:  # in Keras 3.15 configs; accepted when off
                if kwargs[key]:
                    raise ValueError(
                        f"{type(self).__name__}: {key}={kwargs[key]!r} is not supported (LoRA and "
                        "quantized layers are not built); load the model without it"
                    )
            elif key not in ("autocast", "activity_regularizer"):
                raise TypeError(f"{type(self).__name__}: unrecognized keyword argument {key!r}")
        if name is None:
            name = unique_name(to_snake_case(type(self).__name__))
        super().__init__(name=name)
        # The Keras path around this layer, recorded the first time its scope opens (Keras 3's
        # _parent_path): its weights' paths start with it wherever the layer is called from.
        self._parent_path: str | None = None
        self._trainable = bool(trainable)
        self.built = False
        self.dtype_policy = dtype
        self._autocast = bool(kwargs.get("autocast", True))
        self._layer_weights: list = []
        self._call_losses: list = []
        self._inbound_nodes: list = []
        self._outbound_nodes: list = []
        self._output_shape_seen: Any = None
        self._build_input_shape: Any = None
        self.input_spec: Any = None
        self.activity_regularizer = _regularizers.get(kwargs.get("activity_regularizer"))
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            self._batch_input_shape = tuple(batch_input_shape)
        elif input_shape is not None:
            self._batch_input_shape = (None, *tuple(input_shape))
        else:
            self._batch_input_shape = None
        self._call_accepts_training = _accepts(self.call, "training")

    # ------------------------------------------------------------------- dtypes
    @property
    def dtype_policy(self) -> Any:
        """The layer's `DTypePolicy` (gputensor/keras/dtype_policies.py); settable with a
        policy, a name or a dtype."""
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value: Any) -> None:
        policy = _policy_of(value)
        self.__dict__["_dtype_policy"] = policy
        self.__dict__["_compute_dt"] = gt.as_dtype(policy.compute_dtype)
        self.__dict__["_variable_dt"] = gt.as_dtype(policy.variable_dtype)
        self.__dict__["_mixed"] = policy.is_mixed  # read on every call

    @property
    def dtype(self) -> Any:
        """The variable dtype (a ``gt.DType``), as Keras 3's ``layer.dtype``; setting it sets
        the policy."""
        return self._variable_dt

    @dtype.setter
    def dtype(self, value: Any) -> None:
        self.dtype_policy = value

    @property
    def compute_dtype(self) -> str:
        """The dtype ``call`` computes in: float inputs are cast to it and float variables
        read in it (Keras 3's autocast), e.g. ``"float16"`` under ``"mixed_float16"``."""
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype weights are created in, e.g. ``"float32"`` under ``"mixed_float16"``."""
        return self._dtype_policy.variable_dtype

    # ------------------------------------------------------------------ weights
    def add_weight(self, *args: Any, **kwargs: Any) -> gt.Variable:
        """Creates a weight of this layer, as Keras's ``add_weight``.

        Takes Keras 3's order ``add_weight(shape, initializer, dtype, trainable, ...,
        name=...)`` and TF-Keras 2's ``add_weight(name, shape, dtype, initializer,
        regularizer, trainable, constraint)`` (told apart by a string first argument),
        or keywords.

        Args:
          name: the weight's name (``kernel``, ``bias``, ...).
          shape: its shape (default scalar).
          dtype: default the layer's dtype.
          initializer: a name, Initializer or callable ``(shape, dtype)``; default
            glorot_uniform.
          regularizer: a name, Regularizer or callable adding to `losses`.
          trainable: False for statistics such as BatchNormalization's moving mean.
          constraint: a callable applied by optimizers after each update
            (kept as ``variable._keras_constraint``).

        Returns:
          The new weight, a `KerasVariable` (a ``gt.Variable``) named as Keras 3's:
          ``name`` is ``name`` (``"kernel"``), ``path`` adds the open Keras scopes
          (``"sequential/dense/kernel"``); see gputensor/keras/variables.py.

        Raises:
          TypeError: for an unknown or repeated argument.
          ValueError: for a name containing ``/``.
        """
        if args and isinstance(args[0], str):
            order = ("name", "shape", "dtype", "initializer", "regularizer", "trainable", "constraint")
        else:
            order = ("shape", "initializer", "dtype", "trainable", "autocast", "regularizer", "constraint")
        if len(args) > len(order):
            raise TypeError(f"add_weight: too many positional arguments ({len(args)})")
        known = {"name", "shape", "dtype", "initializer", "regularizer", "trainable", "constraint", "autocast",
                 "aggregation", "synchronization", "overwrite_with_gradient", "use_resource", "experimental_autocast"}  # fmt: skip
        for key, value in zip(order, args):
            if key in kwargs:
                raise TypeError(f"add_weight: got multiple values for argument {key!r}")
            kwargs[key] = value
        unknown = set(kwargs) - known
        if unknown:
            raise TypeError(f"add_weight: unexpected keyword arguments {sorted(unknown)}")
        name = kwargs.get("name")
        shape = kwargs.get("shape") or ()
        initializer = kwargs.get("initializer")
        regularizer, constraint = kwargs.get("regularizer"), kwargs.get("constraint")
        trainable = kwargs.get("trainable", True)
        trainable = True if trainable is None else bool(trainable)
        dtype = gt.as_dtype(kwargs.get("dtype") or self._variable_dt)
        init = _initializers.get(initializer if initializer is not None else "glorot_uniform")
        shape = tuple(int(d) for d in shape)
        with name_scope(self.name, caller=self):
            # A callable initial value runs eagerly once, so layers may build inside gt.function.
            var = KerasVariable(lambda: gt.cast(init(shape, dtype), dtype), trainable=trainable, name=name)
        if kwargs.get("autocast") is False:
            var._keras_autocast = False  # read in its own dtype under a mixed policy (Keras 3)
        var._keras_regularizer = _regularizers.get(regularizer)
        var._keras_constraint = constraint
        self._layer_weights.append(var)
        return var

    def _checkpoint_dependencies(self) -> dict[str, Any]:
        """What ``gt.train.Checkpoint`` saves of a layer: its attributes that hold variables,
        layers or other trackables, by attribute name (not Keras's internal weight lists), as
        Keras 3's layers under ``tf.train.Checkpoint``."""
        from gputensor.train.checkpoint import _is_trackable

        return {
            name: value
            for name, value in sorted(vars(self).items())
            if name not in self._NOT_TRACKED and not name.startswith("__") and _is_trackable(value)
        }

    def _tracked(self) -> Iterator[Any]:
        """Layers, Modules and Variables held in attributes, in assignment order."""
        seen: set = set()
        for name, value in list(vars(self).items()):
            if name in self._NOT_TRACKED or name.startswith("__"):
                continue
            for leaf in _nest_flatten(value):
                if isinstance(leaf, (Module, gt.Variable)) and id(leaf) not in seen and leaf is not self:
                    seen.add(id(leaf))
                    yield leaf

    @property
    def _layers(self) -> list:
        """The direct sublayers (and plain Modules), in assignment order."""
        return [x for x in self._tracked() if isinstance(x, Module)]

    def _flatten_layers(self, include_self: bool = True) -> list:
        out, seen, stack = [], set(), [self] if include_self else list(reversed(self._layers))
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            out.append(layer)
            if isinstance(layer, Layer):
                stack.extend(reversed(layer._layers))
        return out

    def _all_weights(self) -> list:
        out, seen = [], set()

        def add(v: Any) -> None:
            if id(v) not in seen:
                seen.add(id(v))
                out.append(v)

        for v in self._layer_weights:
            add(v)
        for x in self._tracked():
            if isinstance(x, gt.Variable):
                add(x)
        for sub in self._layers:
            for v in sub.weights if isinstance(sub, Layer) else sub.variables:
                add(v)
        return out

    @property
    def weights(self) -> list:
        """All weights: this layer's (creation order), then each sublayer's."""
        return self._all_weights()

    @property
    def trainable_weights(self) -> list:
        """The weights a trainer updates: none when ``trainable`` is False."""
        if not self.trainable:
            return []
        out = [v for v in self._own_weights() if v.trainable]
        seen = {id(v) for v in out}
        for sub in self._layers:
            for v in sub.trainable_weights if isinstance(sub, Layer) else sub.trainable_variables:
                if id(v) not in seen:  # a layer shared by two sublayers counts once
                    seen.add(id(v))
                    out.append(v)
        return out

    @property
    def non_trainable_weights(self) -> list:
        """The other weights (all of them when ``trainable`` is False)."""
        if not self.trainable:
            return self.weights
        trainable = {id(v) for v in self.trainable_weights}
        return [v for v in self.weights if id(v) not in trainable]

    def _own_weights(self) -> list:
        own = list(self._layer_weights)
        ids = {id(v) for v in own}
        own.extend(x for x in self._tracked() if isinstance(x, gt.Variable) and id(x) not in ids)
        return own

    @property
    def variables(self) -> tuple:
        return tuple(self.weights)

    @property
    def trainable_variables(self) -> tuple:
        return tuple(self.trainable_weights)

    @property
    def non_trainable_variables(self) -> tuple:
        return tuple(self.non_trainable_weights)

    @property
    def trainable(self) -> bool:
        """Whether the layer trains; setting it sets every nested layer too (Keras)."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for sub in self._layers:
            if isinstance(sub, Layer):
                sub.trainable = value

    def count_params(self) -> int:
        """The number of scalars in all weights.

        Raises:
          ValueError: if the layer is not built yet.
        """
        if not self.built and not self.weights:
            raise ValueError(
                f"You tried to call `count_params` on layer {self.name!r}, but the layer isn't built. "
                "Call the layer on an input (or build(input_shape)) first."
            )
        return int(sum(int(np.prod(v.shape.as_list())) for v in self.weights))

    def get_weights(self) -> list:
        """The weights' values as NumPy arrays, in `weights` order."""
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights: list) -> None:
        """Assigns NumPy arrays to `weights`, in order.

        Raises:
          ValueError: for the wrong number of arrays or a shape mismatch (naming the weight).
        """
        params = self.weights
        if len(weights) != len(params):
            raise ValueError(
                f"Layer {self.name!r} expected {len(params)} weights, but received {len(weights)} "
                f"input weights (expected weights: {[path_of(v) for v in params]})"
            )
        for v, w in zip(params, weights):
            w = np.asarray(w)
            if tuple(w.shape) != tuple(v.shape.as_list()):
                raise ValueError(
                    f"Layer {self.name!r} weight {path_of(v)} has shape {tuple(v.shape.as_list())}, "
                    f"but the given value has shape {tuple(w.shape)}"
                )
        for v, w in zip(params, weights):
            v.assign(np.asarray(w, dtype=v.dtype.as_numpy_dtype))

    # ------------------------------------------------------------------- losses
    def add_loss(self, loss: Any) -> None:
        """Adds a loss tensor computed in ``call`` (cleared at the next outermost call)."""
        self._call_losses.append(loss)
        _PENDING_LOSSES[id(self)] = self

    @property
    def losses(self) -> list:
        """Losses from ``add_loss`` in the last call plus weight-regularization penalties.

        The penalties are computed on access, so read ``losses`` inside a
        GradientTape to differentiate them.
        """
        out = []
        for layer in self._flatten_layers():
            if isinstance(layer, Layer):
                out.extend(layer._call_losses)
        for v in self.trainable_weights:  # Keras 3: frozen weights add no penalty
            reg = getattr(v, "_keras_regularizer", None)
            if reg is not None:
                out.append(reg(v))
        return out

    # -------------------------------------------------------------------- build
    @property
    def path(self) -> str | None:
        """Where the layer lives, as Keras 3's ``layer.path``: ``"sequential/dense"`` for a
        Dense built inside a Sequential (its weights' paths less their names); None until built."""
        if not self.built:
            return None
        parent = self.__dict__.get("_parent_path")
        return f"{parent}/{self.name}" if parent else self.name

    def _open_path_scope(self) -> name_scope:
        """This layer's Keras path scope (Keras 3's ``_open_name_scope``): records the path
        around it the first time (``_parent_path``), then always starts from that path."""
        if self.__dict__.get("_parent_path") is None:
            self.__dict__["_parent_path"] = current_path()
        return name_scope(self.name, caller=self)

    def build(self, input_shape: Any) -> None:
        """Creates the weights for ``input_shape``; the default only marks the layer built."""
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The output shape for ``input_shape``, found by running on symbolic inputs."""
        from gputensor.keras.models import KerasTensor

        def symbolic(shape: Any) -> Any:
            if _is_shape(shape):
                return KerasTensor(tuple(shape), self._compute_dt)
            if isinstance(shape, dict):
                return {k: symbolic(v) for k, v in shape.items()}
            return type(shape)(symbolic(s) for s in shape)

        out = self(symbolic(input_shape))
        return _nest_map(lambda t: tuple(t.shape), out)

    def _maybe_build(self, inputs: Any) -> None:
        if self.built:
            return
        first = _nest_flatten(inputs)
        shapes = _nest_map(_shape_of, inputs) if len(first) > 1 else _shape_of(first[0])
        self._build_input_shape = shapes
        with self.name_scope:
            self.build(shapes)
        self.built = True

    def _check_input_spec(self, inputs: Any) -> None:
        spec = self.input_spec
        if spec is None or not isinstance(spec, InputSpec):
            return
        x = _nest_flatten(inputs)[0]
        shape = _shape_of(x)
        rank = len(shape)
        if spec.ndim is not None and rank != spec.ndim:
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected ndim={spec.ndim}, '
                f"found ndim={rank}. Full shape received: {shape}"
            )
        if spec.min_ndim is not None and rank < spec.min_ndim:
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected min_ndim='
                f"{spec.min_ndim}, found ndim={rank}. Full shape received: {shape}"
            )
        for axis, size in spec.axes.items():
            got = shape[axis] if -rank <= axis < rank else None
            if size is not None and got is not None and got != size:
                raise ValueError(
                    f'Input 0 of layer "{self.name}" is incompatible with the layer: expected axis {axis} of '
                    f"input shape to have value {size}, but received input with shape {shape}"
                )

    # --------------------------------------------------------------------- call
    def call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """The computation; subclasses override it. The base layer returns its input."""
        return inputs

    def _convert_input(self, x: Any) -> Any:
        if _is_keras_tensor(x) or isinstance(x, gt.Variable):
            return x
        if isinstance(x, (np.ndarray, list, float, int, np.generic)) or not gt.is_tensor(x):
            if isinstance(x, (dict, tuple)) or x is None:
                return x
            arr = np.asarray(x)
            if arr.dtype.kind == "f":
                return gt.constant(arr, dtype=self._input_dt() or self._variable_dt)
            return gt.constant(arr)
        dtype = self._input_dt()
        if x.dtype.is_floating and self._autocast and dtype is not None and x.dtype != dtype:
            return gt.cast(x, dtype)  # Keras autocasts float inputs to the compute dtype
        return x

    def _input_dt(self) -> Any:
        # The dtype float inputs are cast to; None keeps them (LayerNormalization under a mixed
        # policy: Keras 3 turns its autocast off and upcasts inside).
        if self._mixed and not self._autocast_inputs:
            return None
        return self._compute_dt

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not args and "inputs" in kwargs:
            args = (kwargs.pop("inputs"),)
        if not args:
            raise ValueError(
                f"Layer {self.name!r}: __call__ needs an input as its first argument (or inputs=)"
            )
        first = args[0]
        if (
            type(first) is gt.Tensor
            and not first.dtype.is_floating
            or (type(first) is gt.Tensor and first.dtype == self._input_dt())
        ):
            return self._eager_call(args, kwargs)  # the common case: one tensor, nothing to convert
        inputs = _nest_map(self._convert_input, first)
        if _masks._TABLE:
            _keep_masks(first, inputs)  # Keras: a converted input keeps its mask
        args = (inputs, *args[1:])
        if any(_is_keras_tensor(t) for t in _nest_flatten(inputs)):
            from gputensor.keras.models import _symbolic_call

            return _symbolic_call(self, args, kwargs)
        return self._eager_call(args, kwargs)

    def _eager_call(self, args: tuple, kwargs: dict) -> Any:
        inputs = args[0]
        previous_mask = _masks.before_call(self, inputs, kwargs)
        if type(inputs) is not gt.Tensor or (
            inputs.dtype is not self._compute_dt
            and inputs.dtype.is_floating
            and inputs.dtype != self._input_dt()
        ):
            # Symbolic calls and models reach here with inputs __call__ did not convert.
            inputs = _nest_map(self._convert_input, inputs)
            args = (inputs, *args[1:])
        float32_internal = self._mixed and self._float32_internal
        if float32_internal:
            # Keras 3's normalizations upcast float16/bfloat16 inputs and compute in float32.
            variable_dt = self._variable_dt
            inputs = _nest_map(lambda t: gt.cast(t, variable_dt) if _is_float(t) else t, inputs)
            args = (inputs, *args[1:])
        if self._promotes_integers and type(inputs) is gt.Tensor and not inputs.dtype.is_floating:
            # Keras's ops promote int and bool inputs of float math (Dense on int features) to float.
            inputs = gt.cast(inputs, self._variable_dt if float32_internal else self._compute_dt)
            args = (inputs, *args[1:])
        training = kwargs.pop("training", None)
        outer = _CTX.training
        if training is None:
            training = outer  # Keras: an outer call's training flag reaches nested layers
        if _CTX.depth == 0 and _PENDING_LOSSES:
            # Keras clears the losses of the last call when a new outermost call starts.
            for layer in _PENDING_LOSSES.values():
                layer._call_losses = []
            _PENDING_LOSSES.clear()
        # This layer's Keras path scope around build and call (Keras 3's _open_name_scope), so
        # the weights of layers first built inside (a subclassed model's) get its path. A
        # tuple push, not a context manager: this runs on every eager layer call. A built layer
        # without sublayers skips it (its own add_weight starts from its recorded path; Keras 3
        # locks a built layer's state), so a Dense call pays one dict lookup.
        state = self.__dict__
        if state.get("_path_leaf"):
            pushed = False
        else:
            paths = _PATHS.stack
            pushed = not (paths and paths[-1][1] is self)
            if pushed:
                parent = state.get("_parent_path")
                if parent is None:
                    parent = state["_parent_path"] = current_path()
                paths.append((self._name, self, parent))
        try:
            self._maybe_build(inputs)
            self._check_input_spec(inputs)
            if self._call_accepts_training:
                kwargs["training"] = training
            _CTX.depth += 1
            _CTX.training = training
            scope = _autocast.dtype
            if scope is not None or self._mixed:
                _autocast.dtype = self._autocast_scope(scope)
            try:
                outputs = self.call(*args, **kwargs)
            finally:
                _CTX.depth -= 1
                _CTX.training = outer
                _autocast.dtype = scope
        finally:
            if pushed:
                paths.pop()
        if "_path_leaf" not in state and self.built:
            state["_path_leaf"] = not any(isinstance(x, Module) for x in self._tracked())
        if float32_internal:
            # Keras 3: computed in float32, returned in the compute dtype.
            compute = self._compute_dt
            outputs = _nest_map(lambda t: gt.cast(t, compute) if _is_float(t) else t, outputs)
        if self.activity_regularizer is not None:
            for out in _nest_flatten(outputs):
                batch = gt.cast(gt.shape(out)[0], out.dtype)
                self.add_loss(self.activity_regularizer(out) / batch)
        _masks.after_call(self, inputs, outputs, previous_mask)
        self._output_shape_seen = _nest_map(lambda t: (None, *_shape_of(t)[1:]), outputs)
        return outputs

    # ------------------------------------------------------------------ masking
    @property
    def supports_masking(self) -> bool:
        """Whether the layer passes masks on (through `compute_mask`); by default True when
        the class overrides ``compute_mask``, as Keras 3. A layer given a mask that does not
        support masking drops it with a warning."""
        value = self.__dict__.get("_supports_masking")
        return _masks._makes_masks(self) if value is None else value

    @supports_masking.setter
    def supports_masking(self, value: bool) -> None:
        self.__dict__["_supports_masking"] = bool(value)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """The mask of the outputs for ``inputs`` carrying ``previous_mask``; the base layer
        passes ``previous_mask`` on (when it `supports_masking`)."""
        return previous_mask if self.supports_masking else None

    def _autocast_scope(self, current: Any) -> Any:
        """The autocast dtype for this layer's ``call`` given the enclosing one (Keras 3's
        rule): none for ``autocast=False`` layers and non-float policies, the compute dtype
        where a scope is open or where the policy is mixed."""
        if not self._autocast or self._mixed and self._float32_internal:
            return None
        compute = self._compute_dt
        if current is not None:
            return compute if compute.is_floating else None
        return compute if compute is not self._variable_dt else None

    # --------------------------------------------------------------- reporting
    @property
    def output_shape(self) -> Any:
        """The output shape of the last call (batch dim None).

        Raises:
          AttributeError: before the layer has been called.
        """
        if self._output_shape_seen is None:
            raise AttributeError(
                f"The layer {self.name!r} has never been called and thus has no defined output shape."
            )
        return self._output_shape_seen

    @property
    def output(self) -> Any:
        """The symbolic output of this layer's (only) call on KerasTensors.

        Raises:
          AttributeError: if the layer was never called on KerasTensors, or several times.
        """
        nodes = self._inbound_nodes
        if not nodes:
            if hasattr(self, "_keras_tensor"):
                return self._keras_tensor
            raise AttributeError(
                f"Layer {self.name!r} has no symbolic output: it was never called on a KerasTensor"
            )
        if len(nodes) > 1:
            raise AttributeError(
                f"Layer {self.name!r} has been called {len(nodes)} times on KerasTensors (a shared layer), so its "
                "output is ambiguous; keep the tensor each call returned instead"
            )
        return nodes[0].outputs

    @property
    def input(self) -> Any:
        """The symbolic input of this layer's (only) call on KerasTensors.

        Raises:
          AttributeError: as `output`.
        """
        nodes = self._inbound_nodes
        if not nodes and hasattr(self, "_keras_tensor"):
            return self._keras_tensor
        self.output  # noqa: B018 - the same checks and errors
        return nodes[0].args[0]

    def _dtype_config(self) -> Any:
        """The config's ``dtype``: Keras 3's DTypePolicy dict for a mixed policy; a plain
        dtype keeps its name (Keras reads both)."""
        policy = self._dtype_policy
        if not policy.is_mixed:
            return policy.name
        from gputensor.keras import dtype_policies

        return dtype_policies.serialize(policy)

    def get_config(self) -> dict:
        """The constructor arguments, JSON-friendly (initializers, regularizers and
        activations serialized), recorded from the outermost ``__init__`` call."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self._dtype_config()}
        for key, value in getattr(self, "_init_config", {}).items():
            if key not in config:
                config[key] = _serialize_value(value)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        """A new layer from `get_config`'s dict (``cls(**config)``)."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
