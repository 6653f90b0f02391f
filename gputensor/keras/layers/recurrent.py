"""Keras 3's recurrent layers: ``SimpleRNN``, ``LSTM``, ``GRU``, their cells and ``RNN``.

Each layer holds its weights in a ``cell`` sublayer (``SimpleRNNCell``, ``LSTMCell``,
``GRUCell``), as Keras 3 does, so ``.weights.h5`` files key them ``layers/lstm/cell/vars/0``
and real Keras files load. The weights are laid out as Keras's: the gates are column blocks
of one kernel, in the order i, f, c, o (LSTM) and z, r, h (GRU).

The time loop runs in Python over the (static) sequence length, so inside ``gt.function``
(``fit`` traces per batch shape) it unrolls into one graph. A mask (``(batch, time)``,
from ``Embedding(mask_zero=True)``/``Masking`` or ``mask=``) skips steps as Keras 3's
backend does: a masked step keeps the states and repeats the previous output.
``stateful=True`` keeps the last states between calls in non-trainable variables. ``dropout``/``recurrent_dropout`` follow
Keras 3: one mask per call, the same at every timestep, scaled by ``1 / (1 - rate)``; with
``recurrent_dropout`` LSTM and GRU draw a mask per gate (Keras's ``implementation=1``). The
masks are hashes of the cell's seed and a call counter, as ``Dropout``'s (they work inside
``gt.function`` and differ from Keras's numbers).
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

import gputensor as gt
from gputensor.keras import activations as _activations
from gputensor.keras import initializers as _initializers
from gputensor.keras.layers.base import InputSpec, Layer, _shape_of

__all__ = ["RNN", "SimpleRNNCell", "LSTMCell", "GRUCell", "SimpleRNN", "LSTM", "GRU"]


def _probing(batch_unknown: bool = False) -> bool:
    """Whether a model is running the layer on zeros to find shapes (models._symbolic_call,
    Model.build): a stateful layer then leaves its states alone. With ``batch_unknown``:
    whether the probe's batch size stands for an unknown one."""
    models = sys.modules.get("gputensor.keras.models")
    if models is None or not models._PROBING[0]:
        return False
    return bool(models._PROBING[1]) if batch_unknown else True


def _check_rate(who: str, name: str, rate: float) -> float:
    if not 0 <= rate < 1:
        raise ValueError(f"{who}: {name} must be a float in the range [0, 1), got {rate}")
    return float(rate)


class _Cell(Layer):
    """The weights and the one-step update shared by the three cells."""

    # The gate blocks per kernel: 1 (SimpleRNN), 4 (LSTM), 3 (GRU).
    _gates = 1
    _promotes_integers = True

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"{type(self).__name__}: units must be a positive integer, got {units!r}")
        self.dropout = _check_rate(type(self).__name__, "dropout", dropout)
        self.recurrent_dropout = _check_rate(type(self).__name__, "recurrent_dropout", recurrent_dropout)
        self.units = int(units)
        self.activation = _activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = _initializers.get(kernel_initializer)
        self.recurrent_initializer = _initializers.get(recurrent_initializer)
        self.bias_initializer = _initializers.get(bias_initializer)
        self.kernel_regularizer, self.recurrent_regularizer = kernel_regularizer, recurrent_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint, self.recurrent_constraint = kernel_constraint, recurrent_constraint
        self.bias_constraint = bias_constraint
        if seed is None and (self.dropout or self.recurrent_dropout):
            from gputensor.keras.layers.core import fresh_seed

            seed = fresh_seed()
        self.seed = seed
        self._seed_state = None

    @property
    def state_size(self) -> list:
        """The size of each state carried between steps."""
        return [self.units]

    def _bias_shape(self) -> tuple:
        return (self._gates * self.units,)

    def _bias_initializer(self) -> Any:
        return self.bias_initializer

    def build(self, input_shape: Any) -> None:
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: the last dimension of the input must be known to "
                f"build, got input shape {tuple(input_shape)}"
            )
        width = self._gates * self.units
        self.kernel = self.add_weight(
            "kernel", (in_dim, width), initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
        )  # fmt: skip
        self.recurrent_kernel = self.add_weight(
            "recurrent_kernel", (self.units, width), initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint,
        )  # fmt: skip
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                "bias", self._bias_shape(), initializer=self._bias_initializer(),
                regularizer=self.bias_regularizer, constraint=self.bias_constraint,
            )  # fmt: skip
        self.built = True

    def _mask_count(self) -> int:
        # Keras 3 switches LSTM/GRU to implementation 1 (a mask per gate) with recurrent dropout.
        return self._gates if self.recurrent_dropout and self._gates > 1 else 1

    def dropout_masks(self, step_input: Any, state: Any, training: Any) -> tuple:
        """``(input_masks, recurrent_masks)`` for one call (lists, or None when off): values 0 or
        ``1 / (1 - rate)`` shaped like one step's input and state, reused at every timestep."""
        if not training or not (self.dropout or self.recurrent_dropout):
            return None, None
        from gputensor.keras.layers.core import hashed_uniform, next_draw

        counter = next_draw(self)
        n = self._mask_count()

        def masks(like: Any, rate: float, offset: int) -> Any:
            if not rate:
                return None
            out = []
            for k in range(n):
                keep = hashed_uniform(like, self.seed + offset + k, counter) >= rate
                out.append(gt.where(keep, gt.ones_like(like) * (1.0 / (1.0 - rate)), gt.zeros_like(like)))
            return out

        return masks(step_input, self.dropout, 0), masks(state, self.recurrent_dropout, 7919)

    def _project(self, inputs: Any, weight: Any) -> Any:
        rank = len(_shape_of(inputs))
        if rank == 2:
            return gt.matmul(inputs, weight)
        return gt.tensordot(inputs, weight, [[rank - 1], [0]])

    def input_projection(self, inputs: Any, masks: Any = None) -> Any:
        """``inputs @ kernel`` over the last axis (all timesteps at once: one large matmul); with
        dropout ``masks`` (shaped like one step), ``(inputs * mask_k) @ kernel_k`` per gate k."""
        if masks is None:
            return self._project(inputs, self.kernel)
        expand = len(_shape_of(inputs)) == 3
        masks = [gt.expand_dims(m, 1) if expand else m for m in masks]
        if len(masks) == 1:
            return self._project(inputs * masks[0], self.kernel)
        u = self.units
        return gt.concat(
            [self._project(inputs * m, self.kernel[:, k * u : (k + 1) * u]) for k, m in enumerate(masks)],
            axis=-1,
        )

    def _recurrent(self, h: Any, masks: Any, gates: range) -> list:
        """``h @ recurrent_kernel`` for the gate blocks in ``gates`` (one tensor); with recurrent
        dropout masks, ``(h * mask_k) @ recurrent_kernel_k`` per gate (Keras's implementation 1)."""
        u, rk = self.units, self.recurrent_kernel
        if masks is None:
            return gt.matmul(h, rk if len(gates) == self._gates else rk[:, gates.start * u : gates.stop * u])
        blocks = [gt.matmul(h * masks[k], rk[:, k * u : (k + 1) * u]) for k in gates]
        return blocks[0] if len(blocks) == 1 else gt.concat(blocks, axis=-1)

    def step(self, x_proj: Any, states: list, recurrent_masks: Any = None) -> tuple:
        """One timestep from the projected input ``x @ kernel``: ``(output, new_states)``."""
        raise TypeError(f"{type(self).__name__} is not a concrete cell")  # only subclasses run

    def call(self, inputs: Any, states: Any, training: Any = None) -> tuple:
        """One timestep, as Keras's cells: ``(output, new_states)`` for ``inputs`` (batch, dim)
        (dropout masks are drawn per call here; the recurrent layers draw them once per sequence)."""
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        in_masks, rec_masks = self.dropout_masks(inputs, states[0], training)
        return self.step(self.input_projection(inputs, in_masks), states, rec_masks)


class SimpleRNNCell(_Cell):
    """``h = activation(x @ kernel + h_prev @ recurrent_kernel + bias)``, as Keras's cell."""

    def step(self, x_proj: Any, states: list, recurrent_masks: Any = None) -> tuple:
        z = x_proj + self._recurrent(states[0], recurrent_masks, range(1))
        if self.bias is not None:
            z = z + self.bias
        h = self.activation(z)
        return h, [h]


class LSTMCell(_Cell):
    """The LSTM step with gates i, f, c, o in the kernels' column blocks (Keras 3's order).

    Args:
      recurrent_activation: the gates' activation (default ``"sigmoid"``).
      unit_forget_bias: start the forget gate's bias at 1 (Keras's default True).
      others: as ``SimpleRNNCell``.
    """

    _gates = 4

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        unit_forget_bias: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = _activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias

    @property
    def state_size(self) -> list:
        return [self.units, self.units]

    def _bias_initializer(self) -> Any:
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, units = self.bias_initializer, self.units

        def forget_ones(shape: Any, dtype: Any = None) -> Any:
            return gt.concat(
                [init((units,), dtype), gt.ones((units,), dtype), init((2 * units,), dtype)], axis=0
            )

        return forget_ones

    def step(self, x_proj: Any, states: list, recurrent_masks: Any = None) -> tuple:
        h_prev, c_prev = states
        z = x_proj + self._recurrent(h_prev, recurrent_masks, range(4))
        if self.bias is not None:
            z = z + self.bias
        zi, zf, zc, zo = gt.split(z, 4, axis=-1)
        i = self.recurrent_activation(zi)
        f = self.recurrent_activation(zf)
        c = f * c_prev + i * self.activation(zc)
        o = self.recurrent_activation(zo)
        h = o * self.activation(c)
        return h, [h, c]


class GRUCell(_Cell):
    """The GRU step with gates z, r, h in the kernels' column blocks (Keras 3's order).

    With ``reset_after=True`` (Keras 3's default, cuDNN's form) the reset gate multiplies
    ``h_prev @ recurrent_kernel_h + recurrent_bias_h`` and the bias is ``(2, 3 * units)``
    (input bias, recurrent bias); with False it multiplies ``h_prev`` first and the bias is
    ``(3 * units,)``.

    Args:
      recurrent_activation: the gates' activation (default ``"sigmoid"``).
      reset_after: see above.
      others: as ``SimpleRNNCell``.
    """

    _gates = 3

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        reset_after: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = _activations.get(recurrent_activation)
        self.reset_after = reset_after

    def _bias_shape(self) -> tuple:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def step(self, x_proj: Any, states: list, recurrent_masks: Any = None) -> tuple:
        h_prev = states[0]
        u = self.units
        if self.bias is not None:
            x_proj = x_proj + (self.bias[0] if self.reset_after else self.bias)
        xz, xr, xh = gt.split(x_proj, 3, axis=-1)
        if self.reset_after:
            inner = self._recurrent(h_prev, recurrent_masks, range(3))
            if self.bias is not None:
                inner = inner + self.bias[1]
            rz, rr, rh = gt.split(inner, 3, axis=-1)
            z = self.recurrent_activation(xz + rz)
            r = self.recurrent_activation(xr + rr)
            hh = self.activation(xh + r * rh)
        else:
            rz, rr = gt.split(self._recurrent(h_prev, recurrent_masks, range(2)), 2, axis=-1)
            z = self.recurrent_activation(xz + rz)
            r = self.recurrent_activation(xr + rr)
            h_h = h_prev if recurrent_masks is None else h_prev * recurrent_masks[2]
            hh = self.activation(xh + gt.matmul(r * h_h, self.recurrent_kernel[:, 2 * u :]))
        # The carry uses the unmasked state, as Keras.
        h = z * h_prev + (1.0 - z) * hh
        return h, [h]


class RNN(Layer):
    """Runs a cell over the time axis of ``(batch, time, features)`` inputs, as ``keras.layers.RNN``.

    Args:
      cell: a cell layer with ``state_size`` and ``call(inputs, states) -> (output, states)``
        (``SimpleRNNCell``, ``LSTMCell``, ``GRUCell`` or a user cell).
      return_sequences: return every step's output ``(batch, time, units)``, else the last.
      return_state: also return the final states (``[output, *states]``).
      go_backwards: run over time from the end; the returned sequence is in the order run,
        as Keras.
      stateful: keep the last states of each batch as the next batch's initial states
        (in non-trainable ``states`` variables, not weights, as Keras); needs a fixed batch
        size (``Input(shape, batch_size=...)`` or ``batch_input_shape=``); ``reset_states()``
        zeros them.
      unroll: accepted; the loop is always unrolled (the sequence length is static).
      zero_output_for_mask: masked steps output zeros instead of repeating the last
        unmasked step's output (Keras's default False; `Bidirectional` sets it to
        ``return_sequences``).

    Call arguments:
      inputs: ``(batch, time, features)`` with a known time length.
      initial_state: an optional list of state tensors (zeros by default).
      mask: an optional ``(batch, time)`` boolean tensor, by default the input's mask (from
        ``Embedding(mask_zero=True)`` or ``Masking``): at a masked step the states are
        carried over unchanged and the output repeats the previous one (Keras 3).

    Raises:
      ValueError: an input that is not rank 3 or has an unknown time length; with
        ``stateful=True``, an unknown batch size or a batch of another size.
    """

    _promotes_integers = True
    supports_masking = True
    # Keras does not track a stateful layer's state variables: they are not weights.
    _NOT_TRACKED = Layer._NOT_TRACKED | {"states"}

    def __init__(
        self,
        cell: Any,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        zero_output_for_mask: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(cell, dict):
            from gputensor.keras.layers import deserialize

            cell = deserialize(cell)
        self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = bool(stateful)
        self.states: Any = None  # stateful: one non-trainable Variable per state, not a weight (Keras)
        self.unroll = unroll
        self.zero_output_for_mask = zero_output_for_mask
        self.input_spec = InputSpec(ndim=3)

    def _state_sizes(self) -> list:
        size = self.cell.state_size
        return list(size) if isinstance(size, (list, tuple)) else [size]

    def build(self, input_shape: Any) -> None:
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (list, tuple)):
            input_shape = input_shape[0]
        if len(input_shape) != 3:  # checked before the cell builds for a wrong feature size
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected ndim=3 '
                f"(batch, time, features), found ndim={len(input_shape)}. Full shape received: "
                f"{tuple(input_shape)}"
            )
        if not self.cell.built:
            with self.cell.name_scope:
                self.cell.build((input_shape[0], input_shape[-1]))
            self.cell.built = True
        self.input_spec = InputSpec(ndim=3, axes={-1: input_shape[-1]})
        if self.stateful:
            if self.states is not None:
                self.reset_states()
            else:
                if input_shape[0] is None or _probing(batch_unknown=True):
                    raise ValueError(
                        "When using `stateful=True` in a RNN, the batch size must be static. Found dynamic "
                        f"batch size: sequence.shape={(None, *tuple(input_shape)[1:])}. Give the Input a batch_size "
                        "(keras.Input(shape, batch_size=...)) or the layer batch_input_shape=."
                    )
                batch = int(input_shape[0])
                with self.name_scope:
                    self.states = [
                        gt.Variable(
                            np.zeros((batch, n), self.dtype.as_numpy_dtype), trainable=False, name="rnn_state"
                        )
                        for n in self._state_sizes()
                    ]
        self.built = True

    def reset_states(self, states: Any = None) -> None:
        """Sets a stateful layer's states to zeros (or to ``states``, a list of arrays), as Keras's
        ``reset_state``; a layer that is not stateful has none to reset."""
        if self.states is None:
            if not self.stateful:
                raise AttributeError(f"{type(self).__name__} {self.name!r}: Layer must be stateful.")
            return
        values = [None] * len(self.states) if states is None else list(states)
        if len(values) != len(self.states):
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: reset_states got {len(values)} states, the layer keeps "
                f"{len(self.states)}"
            )
        for var, value in zip(self.states, values):
            var.assign(np.zeros(var.shape.as_list(), var.dtype.as_numpy_dtype) if value is None else value)

    reset_state = reset_states  # Keras 3's name

    def call(self, inputs: Any, initial_state: Any = None, mask: Any = None, training: Any = None) -> Any:
        shape = _shape_of(inputs)
        if len(shape) != 3 or shape[1] is None:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: the input must be (batch, time, features) with a "
                f"known time length, got shape {shape}"
            )
        if self.stateful and self.states is not None:
            batch = self.states[0].shape.as_list()[0]
            if shape[0] is not None and shape[0] != batch:
                raise ValueError(
                    "If an RNN is stateful, the batch size of the input sequences must be the same as the batch "
                    f"size of the initial state. \n- Expected batch size: {batch}\n- Received batch size: {shape[0]}"
                )
        if initial_state is None and self.stateful and self.states is not None:
            states = [gt.identity(v.read_value()) for v in self.states]
        elif initial_state is None:
            if shape[0] is not None:
                states = [gt.zeros((shape[0], n), dtype=inputs.dtype) for n in self._state_sizes()]
            else:  # a batch dim unknown while tracing: broadcast keeps the state dim static
                column = gt.zeros_like(inputs[:, 0, :1])
                states = [column + gt.zeros((n,), dtype=inputs.dtype) for n in self._state_sizes()]
        else:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            if len(states) != len(self._state_sizes()):
                raise ValueError(
                    f"{type(self).__name__} {self.name!r}: initial_state has {len(states)} tensors, the "
                    f"cell carries {len(self._state_sizes())} states (sizes {self._state_sizes()})"
                )
        cell = self.cell
        fused = isinstance(cell, _Cell)
        if fused:
            # One set of dropout masks for the whole sequence; every timestep's input is
            # projected in one matmul before the loop.
            in_masks, rec_masks = cell.dropout_masks(inputs[:, 0], states[0], training)
            steps = gt.unstack(cell.input_projection(inputs, in_masks), axis=1)
        else:
            steps = gt.unstack(inputs, axis=1)
        step_masks = self._step_masks(mask, len(steps))
        if self.go_backwards:
            steps = steps[::-1]
        outputs = []
        for t, x_t in enumerate(steps):
            if fused:
                out, new_states = cell.step(x_t, states, rec_masks)
            elif cell._call_accepts_training:
                out, new_states = cell(x_t, states, training=training)
            else:
                out, new_states = cell(x_t, states)
            new_states = list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
            if step_masks is not None:
                # Keras 3: a masked step keeps the states and repeats the previous output
                # (zeros before any step, or always with zero_output_for_mask).
                keep = step_masks[t]
                fallback = gt.zeros_like(out) if self.zero_output_for_mask or not outputs else outputs[-1]
                out = gt.where(keep, out, fallback)
                new_states = [gt.where(keep, new, old) for new, old in zip(new_states, states)]
            states = new_states
            outputs.append(out)
        if self.stateful and self.states is not None and not _probing():
            for var, value in zip(self.states, states):
                var.assign(value)  # the next batch starts here (Keras); probes that build models do not
        output = gt.stack(outputs, axis=1) if self.return_sequences else outputs[-1]
        if self.return_state:
            return [output, *states]
        return output

    def _step_masks(self, mask: Any, steps: int) -> Any:
        """The mask as one ``(batch, 1)`` boolean per step, in the order run, or None."""
        if mask is None:
            return None
        if isinstance(mask, (list, tuple)):  # called on [inputs, *states]: the inputs' mask
            mask = mask[0]
            if mask is None:
                return None
        if mask.dtype != gt.bool:
            mask = gt.cast(mask, gt.bool)
        mask_shape = _shape_of(mask)
        if len(mask_shape) == 3:  # Keras also takes (batch, time, 1)
            mask = gt.squeeze(mask, axis=-1)
        elif len(mask_shape) != 2 or mask_shape[1] not in (None, steps):
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: the mask must be (batch, timesteps) = (batch, {steps}), "
                f"got shape {mask_shape}"
            )
        per_step = gt.unstack(gt.expand_dims(mask, -1), axis=1)
        return per_step[::-1] if self.go_backwards else per_step

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """The input's mask for ``return_sequences=True`` (None otherwise), and None for
        each state with ``return_state``, as Keras 3."""
        mask = previous_mask
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None for _ in self._state_sizes()]
        return output_mask

    def get_config(self) -> dict:
        config = super().get_config()
        # Keras lists these for every recurrent layer, defaults included.
        for key in (
            "return_sequences",
            "return_state",
            "go_backwards",
            "stateful",
            "unroll",
            "zero_output_for_mask",
        ):
            config[key] = getattr(self, key)
        if type(self) is RNN:
            from gputensor.keras.layers import serialize

            config["cell"] = serialize(self.cell)
        return config

    def _keras_saving_children(self) -> dict:
        """Sublayers Keras 3's weight files key by attribute name (``layers/lstm/cell/vars``)."""
        return {"cell": self.cell}


_CELL_ARGS = (
    "units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
    "recurrent_initializer", "bias_initializer", "unit_forget_bias", "kernel_regularizer",
    "recurrent_regularizer", "bias_regularizer", "kernel_constraint", "recurrent_constraint",
    "bias_constraint", "dropout", "recurrent_dropout", "reset_after", "seed",
)  # fmt: skip


class _Recurrent(RNN):
    """A layer building its own cell from the cell's arguments (SimpleRNN, LSTM, GRU)."""

    _cell_class: Any = None
    _cell_name = ""

    def _init_layer(self, units: int, cell_kwargs: dict, kwargs: dict) -> None:
        rnn_kwargs = {k: v for k, v in kwargs.items() if k not in _CELL_ARGS}
        cell = self._cell_class(
            units, name=self._cell_name, dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True), **cell_kwargs,
        )  # fmt: skip
        super().__init__(cell, **rnn_kwargs)
        self.units = int(units)

    def __getattr__(self, name: str) -> Any:
        # Keras exposes the cell's settings on the layer (lstm.recurrent_activation, lstm.kernel...).
        cell = self.__dict__.get("cell")
        if cell is not None and not name.startswith("_"):
            return getattr(cell, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


class SimpleRNN(_Recurrent):
    """A fully connected RNN, as ``keras.layers.SimpleRNN``.

    Args:
      units: the output and state size.
      activation: default ``"tanh"``.
      use_bias, kernel_initializer (``"glorot_uniform"``), recurrent_initializer
        (``"orthogonal"``), bias_initializer (``"zeros"``), the regularizers and
        constraints: as Keras.
      dropout: the drop rate of the inputs, recurrent_dropout: of the state (one mask per
        call, the same at every step; Keras 3's), in training only.
      seed: an int for repeatable dropout masks.
      return_sequences, return_state, go_backwards, stateful, unroll: as `RNN`.

    >>> layer = SimpleRNN(4)
    >>> layer(gt.ones([2, 5, 3])).shape
    TensorShape([2, 4])
    """

    _cell_class = SimpleRNNCell
    _cell_name = "simple_rnn_cell"

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        **kwargs: Any,
    ) -> None:
        cell_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in _CELL_ARGS}
        cell_kwargs.update(
            activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            dropout=dropout, recurrent_dropout=recurrent_dropout,
        )  # fmt: skip
        self._init_layer(units, cell_kwargs, kwargs)


class LSTM(_Recurrent):
    """Long short-term memory, as ``keras.layers.LSTM`` (Hochreiter & Schmidhuber, 1997).

    Args:
      units: the output and state size.
      activation: default ``"tanh"``; recurrent_activation: default ``"sigmoid"``.
      unit_forget_bias: start the forget gate's bias at 1 (default True).
      others: as `SimpleRNN`. ``return_state=True`` returns ``[output, h, c]``.

    >>> layer = LSTM(4, return_sequences=True)
    >>> layer(gt.ones([2, 5, 3])).shape
    TensorShape([2, 5, 4])
    >>> [tuple(w.shape) for w in layer.weights]
    [(3, 16), (4, 16), (16,)]
    """

    _cell_class = LSTMCell
    _cell_name = "lstm_cell"

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        unit_forget_bias: bool = True,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        **kwargs: Any,
    ) -> None:
        cell_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in _CELL_ARGS}
        cell_kwargs.update(
            activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
            dropout=dropout, recurrent_dropout=recurrent_dropout,
        )  # fmt: skip
        self._init_layer(units, cell_kwargs, kwargs)


class GRU(_Recurrent):
    """Gated recurrent unit, as ``keras.layers.GRU`` (Cho et al., 2014).

    Args:
      units: the output and state size.
      activation: default ``"tanh"``; recurrent_activation: default ``"sigmoid"``.
      reset_after: apply the reset gate after the recurrent matmul (default True, Keras 3's
        and cuDNN's form; the bias is then ``(2, 3 * units)``).
      others: as `SimpleRNN`.

    >>> layer = GRU(3)
    >>> layer(gt.ones([2, 5, 4])).shape
    TensorShape([2, 3])
    >>> [tuple(w.shape) for w in layer.weights]
    [(4, 9), (3, 9), (2, 9)]
    """

    _cell_class = GRUCell
    _cell_name = "gru_cell"

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        reset_after: bool = True,
        **kwargs: Any,
    ) -> None:
        cell_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in _CELL_ARGS}
        cell_kwargs.update(
            activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, dropout=dropout,
            recurrent_dropout=recurrent_dropout, reset_after=reset_after,
        )  # fmt: skip
        self._init_layer(units, cell_kwargs, kwargs)
