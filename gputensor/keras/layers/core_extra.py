"""Lambda, Identity and TimeDistributed, as Keras 3's.

A ``Lambda`` config stores its function as Keras 3 does: a Python lambda as its marshalled
bytecode (``{"class_name": "__lambda__", "config": {"code", "defaults", "closure"}}``), any
other function by module and name. Loading a lambda runs code from the file, so it is refused
unless ``safe_mode=False`` is given to the loader (or
``gputensor.keras.config.enable_unsafe_deserialization()`` was called), as Keras 3 refuses it.
"""

from __future__ import annotations

import codecs
import contextlib
import importlib
import inspect
import marshal
import threading
import types
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

import gputensor as gt
from gputensor.keras.layers.base import Layer, _nest_flatten, _nest_map, _shape_of

__all__ = ["Lambda", "Identity", "TimeDistributed", "safe_mode_scope", "enable_unsafe_deserialization"]


class _SafeMode(threading.local):
    def __init__(self) -> None:
        self.value: bool | None = None


_SAFE = _SafeMode()
_UNSAFE_GLOBAL = [False]


def enable_unsafe_deserialization() -> None:
    """Lets every later load deserialize Python lambdas (``keras.config.enable_unsafe_deserialization``)."""
    _UNSAFE_GLOBAL[0] = True


@contextlib.contextmanager
def safe_mode_scope(safe_mode: bool | None) -> Iterator[None]:
    """Within the block, `Lambda.from_config` refuses lambdas unless ``safe_mode`` is False
    (Keras's ``SafeModeScope``; None keeps the enclosing setting)."""
    before = _SAFE.value
    if safe_mode is not None:
        _SAFE.value = bool(safe_mode)
    try:
        yield
    finally:
        _SAFE.value = before


def _in_safe_mode() -> bool:
    if _UNSAFE_GLOBAL[0]:
        return False
    return _SAFE.value is not False


def _func_dump(fn: Any) -> tuple:
    # Keras's python_utils.func_dump: base64 of the marshalled code object.
    code = codecs.encode(marshal.dumps(fn.__code__), "base64").decode("ascii")
    closure = tuple(c.cell_contents for c in fn.__closure__) if fn.__closure__ else None
    return code, fn.__defaults__, closure


def _lambda_globals() -> dict:
    # A Keras lambda refers to keras.ops as `ops` or to NumPy; gt's stand-ins answer those names.
    from gputensor.keras import ops

    return {"__builtins__": __builtins__, "ops": ops, "np": np, "numpy": np, "gt": gt, "tf": gt}


def _func_load(config: dict) -> Any:
    raw = codecs.decode(config["code"].encode("ascii"), "base64")
    try:
        code = marshal.loads(raw)
    except (ValueError, EOFError, TypeError) as exc:
        raise ValueError(
            "Lambda: the saved Python lambda cannot be loaded by this Python version (marshalled bytecode is "
            "tied to the version that wrote it); rebuild the Lambda layer in code instead"
        ) from exc
    defaults = (
        tuple(config["defaults"]) if isinstance(config.get("defaults"), list) else config.get("defaults")
    )
    closure = config.get("closure")
    if closure is not None:
        closure = tuple(types.CellType(v) for v in closure)
    return types.FunctionType(code, _lambda_globals(), name=code.co_name, argdefs=defaults, closure=closure)


def _raise_for_lambda() -> None:
    raise ValueError(
        "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda. This carries a "
        "potential risk of arbitrary code execution and thus it is disallowed by default. If you trust the "
        "source of the artifact, you can override this error by passing `safe_mode=False` to the loading "
        "function, or calling `gputensor.keras.config.enable_unsafe_deserialization()`."
    )


def _serialize_fn(fn: Any) -> Any:
    if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
        code, defaults, closure = _func_dump(fn)
        return {
            "class_name": "__lambda__",
            "config": {"code": code, "defaults": defaults, "closure": closure},
        }
    if callable(fn):
        # Keras's serialize_keras_object of a plain function.
        return {
            "module": getattr(fn, "__module__", None),
            "class_name": "function",
            "config": getattr(fn, "__name__", repr(fn)),
            "registered_name": "function",
        }
    raise ValueError(f"Invalid input type for serialization. Received: {fn} of type {type(fn)}.")


def _deserialize_fn(config: Any, custom_objects: dict | None, safe_mode: bool) -> Any:
    if not isinstance(config, dict):
        return config
    if config.get("class_name") == "__lambda__":
        if safe_mode:
            _raise_for_lambda()
        return _func_load(config["config"])
    if config.get("class_name") == "function":
        name, module = config["config"], config.get("module")
        custom = custom_objects or {}
        if name in custom:
            return custom[name]
        if module:
            try:
                fn = getattr(importlib.import_module(module), name)
            except (ImportError, AttributeError):
                fn = None
            if fn is not None:
                return fn
        from gputensor.keras import activations

        try:
            return activations.get(name)
        except ValueError:
            pass
        raise ValueError(
            f"Lambda: could not locate function {name!r} (module {module!r}); pass it in "
            f"custom_objects={{{name!r}: {name}}}"
        )
    return config


class Lambda(Layer):
    """Wraps an expression ``function(inputs, **arguments)`` as a layer (``keras.layers.Lambda``).

    Args:
      function: called with the input (and ``mask=``/``training=`` when it names them).
      output_shape: the output shape without the batch dim, or a function of the input shape;
        default: inferred by running the function.
      mask: None (the layer drops masks), a function ``(inputs, mask) -> mask``, or a fixed mask.
      arguments: keyword arguments for ``function``.

    Raises:
      ValueError: loading a config whose function is a Python lambda in safe mode (see the module).

    >>> Lambda(lambda x: x * 2.0)(gt.constant([1.0, 2.0])).numpy()
    array([2., 4.], dtype=float32)
    """

    def __init__(
        self, function: Any, output_shape: Any = None, mask: Any = None, arguments: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(
                f"Lambda: `function` must be callable, got {type(function).__name__} {function!r}"
            )
        self.arguments = dict(arguments or {})
        self.function = function
        self.supports_masking = mask is not None
        self.mask = mask
        self._output_shape = output_shape
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):
            params = {}
        self._fn_expects_training_arg = "training" in params
        self._fn_expects_mask_arg = "mask" in params

    def call(self, inputs: Any, mask: Any = None, training: Any = None) -> Any:
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """``mask(inputs, previous_mask)`` for a function, the fixed mask, or None."""
        if callable(self.mask):
            return self.mask(inputs, previous_mask)
        return self.mask

    def compute_output_shape(self, input_shape: Any) -> Any:
        """``output_shape`` (with the input's batch dim), its function's value, or inferred."""
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        batch = _nest_flatten(input_shape)[0] if input_shape else None
        shape = self._output_shape
        if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
            return [(batch, *tuple(s)) for s in shape]
        return (batch, *tuple(shape))

    def get_config(self) -> dict:
        """Keras 3's config: the function serialized (a lambda as bytecode), ``output_shape``,
        ``mask`` and ``arguments``."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self._dtype_config()}
        config["function"] = _serialize_fn(self.function)
        if self._output_shape is not None:
            config["output_shape"] = (
                _serialize_fn(self._output_shape)
                if callable(self._output_shape)
                else list(self._output_shape)
            )
        if self.mask is not None:
            config["mask"] = (
                _serialize_fn(self.mask) if callable(self.mask) else np.asarray(self.mask).tolist()
            )
        config["arguments"] = dict(self.arguments)
        return config

    @classmethod
    def from_config(
        cls, config: dict, custom_objects: dict | None = None, safe_mode: bool | None = None
    ) -> Lambda:
        """A Lambda from `get_config`'s (or Keras's) dict.

        Raises:
          ValueError: a Python lambda in safe mode (the default): pass ``safe_mode=False`` if the
            file is trusted.
        """
        safe = _in_safe_mode() if safe_mode is None else safe_mode is not False
        config = dict(config)
        config["function"] = _deserialize_fn(config["function"], custom_objects, safe)
        for key in ("output_shape", "mask"):
            if isinstance(config.get(key), dict):
                config[key] = _deserialize_fn(config[key], custom_objects, safe)
        if isinstance(config.get("output_shape"), list):
            config["output_shape"] = tuple(config["output_shape"])
        args = config.get("arguments")
        if isinstance(args, dict) and args.get("class_name") == "__numpy__":
            config["arguments"] = args.get("config", {}).get("value")
        return cls(**config)


class Identity(Layer):
    """Returns its input (a tensor or a nest of tensors) unchanged, passing masks on."""

    supports_masking = True

    def call(self, inputs: Any) -> Any:
        return _nest_map(gt.identity, inputs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The input shape."""
        return input_shape


class TimeDistributed(Layer):
    """Applies ``layer`` to every timestep (axis 1) of a ``(batch, time, ...)`` input.

    As Keras 3, the layer runs once per timestep and the results are stacked (so a training
    BatchNormalization sees each step's batch), the wrapped layer gets the step's slice of the
    mask when its ``call`` takes ``mask``, and the output keeps the input's mask. With an
    unknown number of timesteps the steps run as one merged batch instead. The weights are the
    wrapped layer's (weight files key them ``layers/time_distributed/layer/vars``, as Keras).

    Raises:
      ValueError: ``layer`` is not a Layer; at call, an input of rank < 3, or a mask whose
        batch or time size differs from the input's.
    """

    supports_masking = True

    def __init__(self, layer: Any, **kwargs: Any) -> None:
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Please initialize `TimeDistributed` layer with a `keras.layers.Layer` instance. Received: {layer}"
            )
        super().__init__(**kwargs)
        self.layer = layer

    def _child_shape(self, input_shape: Any) -> tuple:
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError(
                f"`TimeDistributed` Layer ({self.name!r}) should be passed an `input_shape` with at least 3 "
                f"dimensions, received: {input_shape}"
            )
        return (input_shape[0], *input_shape[2:])

    def build(self, input_shape: Any) -> None:
        child = self._child_shape(tuple(input_shape))
        if not self.layer.built:
            self.layer._build_input_shape = child
            with self.layer.name_scope:
                self.layer.build(child)
            self.layer.built = True
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """``(batch, time, *layer's output shape without its batch)``."""
        child_out = self.layer.compute_output_shape(self._child_shape(tuple(input_shape)))
        return (child_out[0], input_shape[1], *child_out[1:])

    def call(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        shape = _shape_of(inputs)
        self._child_shape(shape)
        if mask is not None:
            mshape = _shape_of(mask)
            if len(mshape) < 2:
                raise ValueError(
                    "The `mask` passed to the `TimeDistributed` layer must be at least 2D (e.g., "
                    f"`(batch_size, timesteps)`), but it has {len(mshape)} dimension(s) with shape {mshape}."
                )
            if any(a is not None and b is not None and a != b for a, b in zip(mshape[:2], shape[:2])):
                raise ValueError(
                    f"The `mask` passed to the `TimeDistributed` layer has a shape {mshape} that is incompatible "
                    f"with the input shape {shape}. The first two dimensions of the mask (batch size and "
                    f"timesteps) must match the input's first two dimensions. Expected mask shape prefix: "
                    f"({shape[0]}, {shape[1]})."
                )
        from gputensor.keras import masks as _masks

        kwargs: dict = {}
        if "training" in inspect.signature(self.layer.call).parameters:
            kwargs["training"] = training
        takes_mask = _masks.call_has_mask_arg(self.layer)
        with warnings.catch_warnings():
            # Keras runs the wrapped layer's `call` directly: its own mask handling (and the
            # warning of a layer that takes a step's mask but passes none on) does not apply.
            warnings.filterwarnings(
                "ignore", message=".*was passed an input with a mask", category=UserWarning
            )
            return self._run(inputs, shape, kwargs, takes_mask, mask)

    def _run(self, inputs: Any, shape: tuple, kwargs: dict, takes_mask: bool, mask: Any) -> Any:
        steps = shape[1]
        if steps is not None:
            outs = []
            for i in range(steps):
                kw = dict(kwargs)
                if takes_mask and mask is not None:
                    kw["mask"] = mask[:, i]
                outs.append(self.layer(inputs[:, i], **kw))
            return gt.stack(outs, axis=1)
        # Unknown length: fold time into the batch (the same numbers for per-example layers).
        dyn = gt.shape(inputs, out_type=gt.int32)
        merged = gt.reshape(inputs, gt.concat([[-1], dyn[2:]], axis=0))
        if takes_mask and mask is not None:
            kwargs["mask"] = gt.reshape(
                mask, gt.concat([[-1], gt.shape(mask, out_type=gt.int32)[2:]], axis=0)
            )
        out = self.layer(merged, **kwargs)
        out_dyn = gt.shape(out, out_type=gt.int32)
        return gt.reshape(out, gt.concat([dyn[:2], out_dyn[1:]], axis=0))

    def get_config(self) -> dict:
        """Keras 3's config: the wrapped layer serialized under ``layer``."""
        from gputensor.keras.layers import serialize

        return {"name": self.name, "trainable": self.trainable, "dtype": self._dtype_config(),
                "layer": serialize(self.layer)}  # fmt: skip

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> TimeDistributed:
        """A TimeDistributed from `get_config`'s (or Keras's) dict."""
        from gputensor.keras.layers import deserialize

        config = dict(config)
        layer = deserialize(config.pop("layer"), custom_objects)
        return cls(layer, **config)

    def _keras_saving_children(self) -> dict:
        """Keras 3's weight files key the wrapped layer by its attribute name ``layer``."""
        return {"layer": self.layer}
