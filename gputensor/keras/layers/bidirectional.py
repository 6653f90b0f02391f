"""``Bidirectional``: runs a recurrent layer forwards and a copy backwards, as Keras 3."""

from __future__ import annotations

from typing import Any

import gputensor as gt
from gputensor.keras.layers.base import Layer

__all__ = ["Bidirectional"]

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _removeprefix(name: str, prefix: str) -> str:
    return name[len(prefix) :] if name.startswith(prefix) else name


class Bidirectional(Layer):
    """The bidirectional wrapper for recurrent layers, as ``keras.layers.Bidirectional``.

    The wrapped layer is copied twice from its config, as Keras 3 does: ``forward_<name>``
    and ``backward_<name>`` (the latter with ``go_backwards=True``), so the given layer's
    own weights are not used. The backward layer's sequence output is flipped back into
    time order before merging. With ``return_sequences=True`` both copies output zeros at
    masked steps (Keras forces ``zero_output_for_mask``). The weights are the forward
    layer's then the backward layer's; ``.weights.h5`` files key them
    ``layers/bidirectional/forward_layer/cell/vars/0..`` and ``.../backward_layer/...``
    as Keras 3, so Keras's files load.

    Args:
      layer: a recurrent layer (``LSTM``, ``GRU``, ``SimpleRNN``, ``RNN``, or a layer with
        ``go_backwards``, ``return_sequences`` and ``return_state`` attributes and a config).
      merge_mode: how the two outputs combine: ``"concat"`` (default, along the last
        axis), ``"sum"``, ``"mul"``, ``"ave"``, or None for the list ``[forward, backward]``.
      weights: optional initial weights: the forward layer's then the backward layer's.
      backward_layer: an optional layer for the backward direction; it must have the
        other ``go_backwards`` value and the same ``return_sequences``,
        ``return_state`` and ``stateful``.

    Call arguments:
      inputs: ``(batch, time, features)``.
      initial_state: states for both directions: the first half goes to the forward
        layer, the second half to the backward layer.
      mask: a ``(batch, time)`` mask, by default the input's.
      training: passed on to both layers.

    Raises:
      ValueError: ``layer`` or ``backward_layer`` not a layer, ``layer`` not recurrent, an
        unknown ``merge_mode``, or a ``backward_layer`` that does not match ``layer``.

    >>> from gputensor.keras.layers import LSTM
    >>> bi = Bidirectional(LSTM(4, return_sequences=True))
    >>> bi(gt.ones([2, 5, 3])).shape
    TensorShape([2, 5, 8])
    >>> [w.shape.as_list() for w in bi.weights][:3]
    [[3, 16], [4, 16], [16]]
    """

    supports_masking = True

    def __init__(
        self,
        layer: Any,
        merge_mode: str | None = "concat",
        weights: Any = None,
        backward_layer: Any = None,
        **kwargs: Any,
    ) -> None:
        from gputensor.keras.layers import deserialize, serialize

        if isinstance(layer, dict):
            layer = deserialize(layer)
        if isinstance(backward_layer, dict):
            backward_layer = deserialize(backward_layer)
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Please initialize `Bidirectional` layer with a `keras.layers.Layer` instance. Received: {layer!r}"
            )
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(
                f"`backward_layer` need to be a `keras.layers.Layer` instance. Received: {backward_layer!r}"
            )
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                f"Invalid merge mode. Received: {merge_mode!r}. Merge mode should be one of "
                '{"sum", "mul", "ave", "concat", None}'
            )
        missing = [a for a in ("go_backwards", "return_sequences", "return_state") if not hasattr(layer, a)]
        if missing:
            raise ValueError(
                f"Bidirectional: the wrapped layer {layer.name!r} ({type(layer).__name__}) is not a recurrent "
                f"layer: it has no {', '.join(missing)} attribute(s). Wrap an RNN layer (LSTM, GRU, SimpleRNN, "
                "RNN(cell)) or a sequence layer with go_backwards, return_sequences and return_state."
            )
        super().__init__(**kwargs)
        # Fresh copies from the config, as Keras: the given layer's weights are not reused.
        config = serialize(layer)
        config["config"] = dict(config["config"], name="forward_" + _removeprefix(layer.name, "forward_"))
        self.forward_layer = deserialize(config)
        if backward_layer is None:
            config = serialize(layer)
            config["config"] = dict(
                config["config"], go_backwards=True, name="backward_" + _removeprefix(layer.name, "backward_")
            )
            self.backward_layer = deserialize(config)
        else:
            self.backward_layer = backward_layer
        self._verify_layer_config()
        for sub in (self.forward_layer, self.backward_layer):
            if getattr(sub, "zero_output_for_mask", None) is not None:
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self._initial_weights = list(weights) if weights else None
        self.stateful = getattr(layer, "stateful", False)
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.input_spec = layer.input_spec

    def _verify_layer_config(self) -> None:
        fwd, bwd = self.forward_layer, self.backward_layer
        if not hasattr(bwd, "go_backwards") or fwd.go_backwards == bwd.go_backwards:
            raise ValueError(
                "Forward layer and backward layer should have different `go_backwards` value. Received: "
                f"forward_layer.go_backwards {fwd.go_backwards}, "
                f"backward_layer.go_backwards={getattr(bwd, 'go_backwards', None)}"
            )
        for attr in ("stateful", "return_sequences", "return_state"):
            f, b = getattr(fwd, attr, False), getattr(bwd, attr, False)
            if f != b:
                raise ValueError(
                    f'Forward layer and backward layer are expected to have the same value for attribute "{attr}", '
                    f'got "{f}" for forward layer and "{b}" for backward layer'
                )

    def build(self, input_shape: Any) -> None:
        shape = input_shape
        if isinstance(shape, list) and shape and isinstance(shape[0], (list, tuple)):
            shape = shape[0]
        for sub in (self.forward_layer, self.backward_layer):
            if not sub.built:
                sub._build_input_shape = tuple(shape)
                with sub.name_scope:
                    sub.build(tuple(shape))
                sub.built = True
        if self._initial_weights is not None:
            n = len(self._initial_weights)
            self.forward_layer.set_weights(self._initial_weights[: n // 2])
            self.backward_layer.set_weights(self._initial_weights[n // 2 :])
            self._initial_weights = None
        self.built = True

    def call(self, inputs: Any, initial_state: Any = None, mask: Any = None, training: Any = None) -> Any:
        kwargs: dict = {}
        if self.forward_layer._call_accepts_training:
            kwargs["training"] = training
        if mask is not None:
            kwargs["mask"] = mask
        forward_state = backward_state = None
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            half = len(states) // 2
            forward_state, backward_state = states[:half], states[half:]
        y = self.forward_layer(inputs, initial_state=forward_state, **kwargs)
        y_rev = self.backward_layer(inputs, initial_state=backward_state, **kwargs)
        states: tuple = ()
        if self.return_state:
            states = tuple(y[1:]) + tuple(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = gt.reverse(y_rev, axis=[1])  # back into time order
        if self.merge_mode == "concat":
            output: Any = gt.concat([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            output = y + y_rev
        elif self.merge_mode == "ave":
            output = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            output = y * y_rev
        else:
            output = (y, y_rev)
        if self.return_state:
            return output + states if self.merge_mode is None else (output, *states)
        return output

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """The input's mask for each output with ``return_sequences=True``, else None (Keras 3)."""
        mask = previous_mask
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        if self.return_sequences:
            output_mask: Any = (mask, mask) if not self.merge_mode else mask
        else:
            output_mask = (None, None) if not self.merge_mode else None
        # Keras 3 adds None for the states only when they are kept (stateful); its zip then
        # gives the mask to the output(s) alone.
        return output_mask

    @property
    def states(self) -> Any:
        """The forward then the backward layer's state variables when they are stateful, else None."""
        fwd, bwd = getattr(self.forward_layer, "states", None), getattr(self.backward_layer, "states", None)
        return tuple(fwd) + tuple(bwd) if fwd and bwd else None

    def reset_states(self) -> None:
        """Zeros both layers' states (stateful layers only), as Keras's ``reset_state``.

        Raises:
          AttributeError: if the layer is not stateful.
        """
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    reset_state = reset_states

    def get_config(self) -> dict:
        """Keras 3's config: ``merge_mode`` and both layers serialized (``layer`` is the forward one)."""
        from gputensor.keras.layers import serialize

        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": self.dtype.name,
            "merge_mode": self.merge_mode,
            "layer": serialize(self.forward_layer),
            "backward_layer": serialize(self.backward_layer),
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Bidirectional:
        """A Bidirectional from `get_config`'s dict (Keras's too)."""
        from gputensor.keras.layers import deserialize

        config = dict(config)
        config["layer"] = deserialize(config["layer"], custom_objects)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize(config["backward_layer"], custom_objects)
        return cls(**config)

    def _keras_saving_children(self) -> dict:
        """Keras 3's weight files key the two layers by attribute name."""
        return {"forward_layer": self.forward_layer, "backward_layer": self.backward_layer}
