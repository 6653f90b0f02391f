"""Attention layers as Keras 3.15's: ``MultiHeadAttention``, ``Attention``,
``AdditiveAttention``, and the ``Softmax`` layer (with Keras's masked form).

``MultiHeadAttention`` holds four ``EinsumDense`` projections (``query``, ``key``, ``value``,
``attention_output``) built from the first call's shapes, Keras's einsum equations for any
``attention_axes``, a ``Softmax`` and a ``Dropout`` sublayer; weight files key them
``query_dense``, ``key_dense``, ``value_dense``, ``output_dense`` (Keras 3's paths), so
``.weights.h5`` files and ``.keras`` archives move both ways. Masks follow Keras 3: the
query's mask, the value's and the key's (given or carried) and ``use_causal_mask`` are
ANDed into an attention mask, masked logits are replaced by a large negative number, and the
output carries the query's mask.
"""

from __future__ import annotations

import math
import string
from typing import Any

import numpy as np

import gputensor as gt
from gputensor.keras import initializers as _initializers
from gputensor.keras import masks as _masks
from gputensor.keras.layers.base import Layer, _serialize_value, _shape_of
from gputensor.keras.layers.core import Dropout, fresh_seed, hashed_uniform, next_draw
from gputensor.keras.layers.einsum_dense import EinsumDense

__all__ = ["MultiHeadAttention", "Attention", "AdditiveAttention", "Softmax"]


def _large_negative(dtype: Any) -> float:
    # Keras's Softmax layer: -1e9, or -3e4 where float16 cannot hold it.
    return -3e4 if dtype == gt.float16 else -1e9


def _dim(x: Any, axis: int) -> Any:
    """``x``'s size on ``axis``: a Python int when static, else a scalar tensor."""
    size = _shape_of(x)[axis]
    return size if size is not None else gt.shape(x)[axis]


def _positions(n: Any, shape: list) -> Any:
    """``0 .. n-1`` reshaped to ``shape`` (one -1 entry), int32; ``n`` may be a tensor."""
    if isinstance(n, int):
        return gt.reshape(gt.constant(np.arange(n, dtype=np.int32)), shape)
    return gt.reshape(gt.cumsum(gt.ones(gt.reshape(n, [1]), dtype=gt.int32)) - 1, shape)


def _softmax_over(x: Any, axes: tuple) -> Any:
    if len(axes) == 1:
        return gt.nn.softmax(x, axis=axes[0])
    # Keras: exp(x - logsumexp(x, axes)) for several axes.
    return gt.exp(x - gt.reduce_logsumexp(x, axis=list(axes), keepdims=True))


class Softmax(Layer):
    """``softmax(inputs)`` over ``axis`` (an int or a tuple of axes), as ``keras.layers.Softmax``.

    With ``mask`` (True = keep, broadcastable to the input), masked entries are replaced by a
    large negative number before the softmax (-1e9; -3e4 in float16) and set to 0 after it, as
    Keras 3.15: a row with no kept entry comes out all zeros.

    Args:
      axis: the axis or axes the softmax normalizes over (default -1).

    Raises:
      ValueError: a mask of higher rank than the input or not broadcastable to it.
    """

    supports_masking = True

    def __init__(self, axis: Any = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = tuple(axis) if isinstance(axis, list) else axis

    def call(self, inputs: Any, mask: Any = None) -> Any:
        axes = self.axis if isinstance(self.axis, tuple) else (self.axis,)
        if mask is not None:
            mask = gt.convert_to_tensor(mask)
            in_shape, m_shape = _shape_of(inputs), _shape_of(mask)
            if len(m_shape) > len(in_shape) or any(
                m is not None and i is not None and m != 1 and m != i
                for m, i in zip(m_shape[::-1], in_shape[::-1])
            ):
                raise ValueError(
                    f"Softmax layer {self.name!r}: the `mask` must be broadcastable to `inputs`. Received: "
                    f"inputs.shape={in_shape}, mask.shape={m_shape}"
                )
            if mask.dtype != gt.bool:
                mask = mask > gt.cast(0.5, mask.dtype)
            mask = gt.broadcast_to(mask, gt.shape(inputs))
            inputs = gt.where(
                mask, inputs, gt.fill(gt.shape(inputs), gt.cast(_large_negative(inputs.dtype), inputs.dtype))
            )
        outputs = _softmax_over(inputs, axes)
        if mask is not None:
            outputs = gt.where(mask, outputs, gt.zeros_like(outputs))
        return outputs

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": self._dtype_config()}
        config["axis"] = list(self.axis) if isinstance(self.axis, tuple) else self.axis
        return config


# ------------------------------------------------------------------ einsum equations (Keras's)
def _letter(i: int) -> str:
    return string.ascii_lowercase[i]


def _build_attention_equation(rank: int, attn_axes: tuple) -> tuple:
    """``(dot_product_equation, combine_equation, scores_rank)`` for projected tensors of
    ``rank`` (``(batch, <non-attention>, <attention>, heads, channels)``), as Keras's."""
    target = "".join(_letter(i) for i in range(rank))
    batch_dims = tuple(np.delete(range(rank), attn_axes + (rank - 1,)))
    offset = rank
    source = ""
    for i in range(rank):
        if i in batch_dims or i == rank - 1:
            source += target[i]
        else:
            source += _letter(offset)
            offset += 1
    product = "".join(
        [target[i] for i in batch_dims] + [target[i] for i in attn_axes] + [source[i] for i in attn_axes]
    )
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)


def _build_proj_equation(free_dims: int, bound_dims: int, output_dims: int) -> tuple:
    """``(equation, bias_axes, output_rank)`` of a projection, as Keras's."""
    input_str = kernel_str = output_str = bias_axes = ""
    for i in range(free_dims):
        input_str += _letter(i)
        output_str += _letter(i)
    for i in range(bound_dims):
        char = _letter(free_dims + i)
        input_str += char
        kernel_str += char
    for i in range(output_dims):
        char = _letter(free_dims + bound_dims + i)
        kernel_str += char
        output_str += char
        bias_axes += char
    return f"{input_str},{kernel_str}->{output_str}", bias_axes, len(output_str)


def _output_shape(output_rank: int, known_last_dims: Any) -> list:
    return [None] * (output_rank - len(known_last_dims)) + list(known_last_dims)


def _positive_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0


class MultiHeadAttention(Layer):
    """Multi-head attention ("Attention is all you need"), as ``keras.layers.MultiHeadAttention``.

    ``query`` ``(B, T, dim)`` and ``value``/``key`` ``(B, S, dim)`` (or more axes, see
    ``attention_axes``) are projected per head, ``softmax(q k^T / sqrt(key_dim))`` weighs the
    values, and the heads are projected back to the query's last dim (or ``output_shape``).

    Args:
      num_heads: the number of heads.
      key_dim: the size of each head for query and key.
      value_dim: the size of each head for value (default ``key_dim``).
      dropout: the drop rate of the attention probabilities in training.
      use_bias: whether the projections have biases.
      output_shape: the output's shape besides the batch and sequence dims (an int or a
        tuple); default the query's last dim.
      attention_axes: the axes attention runs over (default all but batch, heads and
        features: axis 1 of a 3-D input).
      sliding_window: a positive int restricting each query position to keys within
        ``sliding_window - 1`` positions (composes with ``use_causal_mask``).
      flash_attention: accepted as Keras; gputensor computes the same attention either way
        (True with ``dropout > 0`` raises, as Keras).
      kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
      activity_regularizer, kernel_constraint, bias_constraint: for the four projections.
      use_gate: a sigmoid gate (a projection of the query) multiplies the heads' outputs
        before the output projection (Keras 3.15's gated attention).
      seed: the dropout's seed.

    Call arguments:
      query, value, key: the inputs (``key`` defaults to ``value``).
      query_mask, value_mask, key_mask: ``(B, T)``/``(B, S)`` padding masks; the value's and
        key's default to the masks those tensors carry. As Keras 3.15, the query's mask is the
        one ``query`` carries (``query_mask=`` passed alone is not used).
      attention_mask: a boolean ``(B, T, S)`` mask (True = attend), broadcast over heads.
      return_attention_scores: also return the ``(B, heads, T, S)`` attention probabilities.
      training: applies ``dropout``.
      use_causal_mask: position ``t`` attends only to positions ``<= t``.

    Raises:
      ValueError: bad constructor arguments (as Keras), ``value`` and ``key`` whose shapes
        differ except in the last dim, or scores requested with ``flash_attention=True``.

    >>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
    >>> out, scores = mha(gt.ones([1, 3, 8]), gt.ones([1, 5, 6]), return_attention_scores=True)
    >>> out.shape, scores.shape
    (TensorShape([1, 3, 8]), TensorShape([1, 2, 3, 5]))
    >>> [tuple(w.shape) for w in mha.weights]
    [(8, 2, 4), (2, 4), (6, 2, 4), (2, 4), (6, 2, 4), (2, 4), (2, 4, 8), (8,)]
    """

    def __init__(
        self,
        num_heads: int,
        key_dim: int,
        value_dim: int | None = None,
        dropout: float = 0.0,
        use_bias: bool = True,
        output_shape: Any = None,
        attention_axes: Any = None,
        sliding_window: int | None = None,
        flash_attention: bool | None = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        use_gate: bool = False,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        if not _positive_int(num_heads):
            raise ValueError(
                "Received an invalid value for argument `num_heads`, expected a positive integer. "
                f"Received: num_heads={num_heads}"
            )
        if not _positive_int(key_dim):
            raise ValueError(
                "Received an invalid value for argument `key_dim`, expected a positive integer. "
                f"Received: key_dim={key_dim}"
            )
        if value_dim is not None and not _positive_int(value_dim):
            raise ValueError(
                "Received an invalid value for argument `value_dim`, expected a positive integer or `None`. "
                f"Received: value_dim={value_dim}"
            )
        super().__init__(**kwargs)
        self.supports_masking = True
        self._num_heads, self._key_dim = int(num_heads), int(key_dim)
        self._value_dim = int(value_dim) if value_dim else int(key_dim)
        self._dropout = float(dropout)
        self._use_bias, self._use_gate = bool(use_bias), bool(use_gate)
        if output_shape:
            if isinstance(output_shape, (int, np.integer)):
                output_shape = (int(output_shape),)
            try:
                output_shape = tuple(output_shape)
            except TypeError:
                raise ValueError(
                    f"Invalid `output_shape`: {output_shape}. When specified, the `output_shape` should be of "
                    "type tuple, list, or int."
                ) from None
        self._output_shape = output_shape or None
        self._flash_attention = bool(flash_attention)
        self._kernel_initializer = _initializers.get(kernel_initializer)
        self._bias_initializer = _initializers.get(bias_initializer)
        self._kernel_regularizer, self._bias_regularizer = kernel_regularizer, bias_regularizer
        self._activity_regularizer = activity_regularizer
        self._kernel_constraint, self._bias_constraint = kernel_constraint, bias_constraint
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(
                f"`attention_axes` must be an int, list, or tuple.Received: attention_axes={attention_axes}"
            )
        self._attention_axes = tuple(attention_axes) if attention_axes else None
        if sliding_window is not None and not _positive_int(sliding_window):
            raise ValueError(
                f"`sliding_window` must be `None` or a positive integer. Received: sliding_window={sliding_window}"
            )
        self._sliding_window = sliding_window
        self.seed = seed
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self._key_dim))
        if self._flash_attention and self._dropout > 0.0:
            raise ValueError(
                "Dropout is not supported when flash attention is enabled. Please set dropout to 0.0 to use "
                "flash attention."
            )
        self._projections_built = False

    num_heads = property(lambda self: self._num_heads, doc="The number of heads.")
    key_dim = property(lambda self: self._key_dim, doc="The size of each query/key head.")
    value_dim = property(lambda self: self._value_dim, doc="The size of each value head.")
    dropout = property(lambda self: self._dropout, doc="The attention dropout rate.")
    use_bias = property(lambda self: self._use_bias, doc="Whether the projections have biases.")
    attention_axes = property(
        lambda self: self._attention_axes, doc="The attention axes (resolved at build)."
    )
    query_dense = property(lambda self: self._query_dense, doc="The query projection (EinsumDense).")
    key_dense = property(lambda self: self._key_dense, doc="The key projection (EinsumDense).")
    value_dense = property(lambda self: self._value_dense, doc="The value projection (EinsumDense).")
    output_dense = property(lambda self: self._output_dense, doc="The output projection (EinsumDense).")

    def _common_kwargs(self) -> dict:
        # Each projection gets its own copy of the initializers, as Keras.
        return dict(
            kernel_regularizer=self._kernel_regularizer,
            bias_regularizer=self._bias_regularizer,
            activity_regularizer=self._activity_regularizer,
            kernel_constraint=self._kernel_constraint,
            bias_constraint=self._bias_constraint,
            dtype=self.dtype_policy,
            kernel_initializer=_initializers.get(_initializers.serialize(self._kernel_initializer)),
            bias_initializer=_initializers.get(_initializers.serialize(self._bias_initializer)),
        )

    def _projection(self, rank: int, bound: int, out_dims: list, name: str, **extra: Any) -> EinsumDense:
        equation, bias_axes, output_rank = _build_proj_equation(
            rank - 1, bound_dims=bound, output_dims=len(out_dims)
        )
        return EinsumDense(
            equation,
            output_shape=_output_shape(output_rank - 1, out_dims),
            bias_axes=bias_axes if self._use_bias else None,
            name=name,
            **extra,
            **self._common_kwargs(),
        )

    def build(self, query_shape: Any, value_shape: Any = None, key_shape: Any = None) -> None:
        """Creates the projections for the inputs' shapes (Keras's ``build``).

        Raises:
          ValueError: ``value`` and ``key`` shapes that differ except in the last dim.
        """
        if value_shape is None:
            raise ValueError(
                f"MultiHeadAttention layer {self.name!r}: build needs query_shape and value_shape "
                "(call the layer on query and value, or build(query_shape, value_shape))"
            )
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be equal. "
                f"Received: value_shape={value_shape} and key_shape={key_shape}"
            )
        with self.name_scope:
            heads = [self._num_heads, self._key_dim]
            self._query_dense = self._projection(len(query_shape), 1, heads, "query")
            self._query_dense.build(query_shape)
            self._query_dense.built = True
            self._key_dense = self._projection(len(key_shape), 1, heads, "key")
            self._key_dense.build(key_shape)
            self._key_dense.built = True
            if self._use_gate:
                gate = [self._num_heads, self._value_dim]
                self._gate_dense = self._projection(len(query_shape), 1, gate, "gate", activation="sigmoid")
                self._gate_dense.build(query_shape)
                self._gate_dense.built = True
            self._value_dense = self._projection(
                len(value_shape), 1, [self._num_heads, self._value_dim], "value"
            )
            self._value_dense.build(value_shape)
            self._value_dense.built = True
            output_rank = len(value_shape) + 1  # the projected tensors' rank
            if self._attention_axes is None:
                self._attention_axes = tuple(range(1, output_rank - 2))
            else:
                self._attention_axes = tuple(
                    a if a >= 0 else (output_rank - 1) + a for a in self._attention_axes
                )
            self._dot_product_equation, self._combine_equation, scores_rank = _build_attention_equation(
                output_rank, self._attention_axes
            )
            norm_axes = tuple(range(scores_rank - len(self._attention_axes), scores_rank))
            self._softmax = Softmax(axis=norm_axes, dtype=self.dtype_policy)
            self._dropout_layer = Dropout(rate=self._dropout, dtype=self.dtype_policy, seed=self.seed)
            out_dims = list(self._output_shape) if self._output_shape else [query_shape[-1]]
            self._output_dense = self._projection(len(query_shape), 2, out_dims, "attention_output")
            self._output_dense.build((*query_shape[:-1], self._num_heads, self._value_dim))
            self._output_dense.built = True
        self._projections_built = True
        self.built = True

    def _maybe_build(self, inputs: Any) -> None:
        # The projections need the value's and key's shapes too: `call` builds from all three.
        return

    def _keras_saving_children(self) -> dict:
        """The sublayers Keras 3's weight files key by attribute (``.../query_dense/vars/0``)."""
        children = {"query_dense": self._query_dense, "key_dense": self._key_dense}
        if self._use_gate:
            children["_gate_dense"] = self._gate_dense
        children.update(
            {
                "value_dense": self._value_dense,
                "output_dense": self._output_dense,
                "_softmax": self._softmax,
                "_dropout_layer": self._dropout_layer,
            }
        )
        return children if self._projections_built else {}

    # ------------------------------------------------------------------ masks
    def _compute_causal_mask(self, query: Any, value: Any = None) -> Any:
        """The ``(1, T, S)`` lower-triangular mask (True where ``s <= t``)."""
        t = _dim(query, 1)
        s = t if value is None else _dim(value, 1)
        return _positions(t, [1, -1, 1]) >= _positions(s, [1, 1, -1])

    def _compute_sliding_window_mask(self, query: Any, value: Any = None) -> Any:
        t = _dim(query, 1)
        s = t if value is None else _dim(value, 1)
        return gt.abs(_positions(t, [1, -1, 1]) - _positions(s, [1, 1, -1])) < self._sliding_window

    def _compute_attention_mask(
        self,
        query: Any,
        value: Any,
        query_mask: Any = None,
        value_mask: Any = None,
        key_mask: Any = None,
        attention_mask: Any = None,
        use_causal_mask: bool = False,
    ) -> Any:
        """The boolean ``(B, T, S)`` mask: the query's ``[B, T, 1]``, the value's and key's
        ``[B, 1, S]``, the causal ``[1, T, S]`` and sliding-window masks and ``attention_mask``,
        ANDed (Keras's ``_compute_attention_mask``)."""
        auto = None

        def both(a: Any, b: Any) -> Any:
            return b if a is None else gt.logical_and(a, b)

        if query_mask is not None:
            auto = gt.expand_dims(gt.cast(query_mask, gt.bool), -1)
        if value_mask is not None:
            auto = both(auto, gt.expand_dims(gt.cast(value_mask, gt.bool), -2))
        if key_mask is not None:
            auto = both(auto, gt.expand_dims(gt.cast(key_mask, gt.bool), -2))
        if use_causal_mask:
            auto = both(auto, self._compute_causal_mask(query, value))
        if self._sliding_window is not None:
            auto = both(auto, self._compute_sliding_window_mask(query, value))
        if attention_mask is not None:
            attention_mask = gt.cast(attention_mask, gt.bool)
        if auto is not None:
            attention_mask = auto if attention_mask is None else gt.logical_and(attention_mask, auto)
        return attention_mask

    def _compute_attention(
        self,
        query: Any,
        key: Any,
        value: Any,
        attention_mask: Any = None,
        training: Any = None,
        return_attention_scores: bool = False,
    ) -> tuple:
        """``(attention_output, attention_scores)`` from the projected tensors."""
        if self._flash_attention and return_attention_scores:
            raise ValueError(
                "Returning attention scores is not supported when flash attention is enabled. Please disable "
                "flash attention to access attention scores."
            )
        # Keras runs ops.dot_product_attention where it can (no dropout, no scores asked, 4-D
        # projections) and its Softmax layer otherwise: the two differ only for a query row
        # with no key to attend to, uniform weights in the first and zeros in the second.
        fused = not (self._dropout > 0.0 or return_attention_scores or len(_shape_of(query)) != 4)
        query = query * gt.cast(self._inverse_sqrt_key_dim, query.dtype)
        scores = gt.einsum(self._dot_product_equation, key, query)
        if attention_mask is not None:
            while len(_shape_of(attention_mask)) < len(_shape_of(scores)):
                attention_mask = gt.expand_dims(attention_mask, -len(self._attention_axes) * 2 - 1)
        if fused:
            if attention_mask is not None:
                mask = gt.broadcast_to(attention_mask, gt.shape(scores))
                big = -0.7 * (65500.0 if scores.dtype == gt.float16 else 3.38953e38)
                scores = gt.where(mask, scores, gt.fill(gt.shape(scores), gt.cast(big, scores.dtype)))
            probs = _softmax_over(scores, self._softmax.axis)
        else:
            probs = self._softmax(scores, mask=attention_mask)
        final = self._dropout_layer(probs, training=training) if self._dropout > 0.0 else probs
        output = gt.einsum(self._combine_equation, final, value)
        return output, probs

    def call(
        self,
        query: Any,
        value: Any,
        key: Any = None,
        query_mask: Any = None,
        value_mask: Any = None,
        key_mask: Any = None,
        attention_mask: Any = None,
        return_attention_scores: bool = False,
        training: Any = None,
        use_causal_mask: bool = False,
    ) -> Any:
        # Keras 3's Layer.__call__ fills value_mask/key_mask from the tensors' masks; its call
        # then takes the query's mask from the query itself.
        query_mask = _masks.get_keras_mask(query)
        if value_mask is None:
            value_mask = _masks.get_keras_mask(value)
        if key is not None and key_mask is None:
            key_mask = _masks.get_keras_mask(key)
        value = self._convert_input(value)
        key = value if key is None else self._convert_input(key)
        if not self._projections_built:
            self.build(_shape_of(query), _shape_of(value), _shape_of(key))
        attention_mask = self._compute_attention_mask(
            query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask
        )
        # Keras clears the inputs' masks before projecting (EinsumDense does not take them);
        # gputensor sets them back afterwards, as the caller's tensors may feed other layers.
        carried = [(t, _masks.get_keras_mask(t)) for t in (query, value, key)]
        for t, m in carried:
            if m is not None:
                _masks.set_keras_mask(t, None)
        try:
            gate = self._gate_dense(query) if self._use_gate else None
            q = self._query_dense(query)
            k = self._key_dense(key)
            v = self._value_dense(value)
        finally:
            for t, m in carried:
                if m is not None:
                    _masks.set_keras_mask(t, m)
        output, scores = self._compute_attention(q, k, v, attention_mask, training, return_attention_scores)
        if gate is not None:
            output = output * gate
        output = self._output_dense(output)
        if query_mask is not None:
            _masks.set_keras_mask(output, query_mask)
        if return_attention_scores:
            return output, scores
        return output

    def compute_output_shape(self, query_shape: Any, value_shape: Any = None, key_shape: Any = None) -> tuple:
        """The query's shape with ``output_shape`` for its last dim.

        Raises:
          ValueError: ``value`` and ``key`` shapes that differ except in the last dim.
        """
        query_shape = tuple(query_shape)
        value_shape = query_shape if value_shape is None else tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be equal. "
                f"Received: value_shape={value_shape} and key_shape={key_shape}"
            )
        if self._output_shape:
            return query_shape[:-1] + tuple(self._output_shape)
        return query_shape

    def get_config(self) -> dict:
        """Keras 3.15's MultiHeadAttention config."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self._dtype_config()}
        config.update(
            {
                "num_heads": self._num_heads,
                "key_dim": self._key_dim,
                "value_dim": self._value_dim,
                "dropout": self._dropout,
                "use_bias": self._use_bias,
                "use_gate": self._use_gate,
                "output_shape": self._output_shape,
                "attention_axes": self._attention_axes,
                "sliding_window": self._sliding_window,
                "kernel_initializer": _serialize_value(self._kernel_initializer),
                "bias_initializer": _serialize_value(self._bias_initializer),
                "kernel_regularizer": _serialize_value(self._kernel_regularizer),
                "bias_regularizer": _serialize_value(self._bias_regularizer),
                "activity_regularizer": _serialize_value(self._activity_regularizer),
                "kernel_constraint": _serialize_value(self._kernel_constraint),
                "bias_constraint": _serialize_value(self._bias_constraint),
                "seed": self.seed,
            }
        )
        return config


class Attention(Layer):
    """Dot-product (Luong-style) attention, as ``keras.layers.Attention``.

    ``scores = query @ key^T`` (``score_mode="dot"``, times a learned scalar ``scale`` with
    ``use_scale``) or ``concat_score_weight * sum(tanh(scale * (query + key)), -1)``
    (``score_mode="concat"``); ``softmax(scores) @ value``.

    Args:
      use_scale: learn a scalar ``scale`` (initialized to 1).
      score_mode: ``"dot"`` or ``"concat"``.
      dropout: the drop rate of the attention weights in training.
      seed: the dropout's seed.

    Call arguments:
      inputs: the list ``[query, value]`` or ``[query, value, key]`` (``key`` defaults to
        ``value``): ``(B, Tq, dim)``, ``(B, Tv, dim)``.
      mask: ``[query_mask, value_mask]`` (default the masks the inputs carry): masked values
        get ``score - 1e9`` and masked query steps output zeros; the output carries the query's
        mask.
      return_attention_scores: also return the ``(B, Tq, Tv)`` weights (after dropout, as Keras).
      use_causal_mask: query step ``i`` attends only to value steps ``<= i``.

    Raises:
      ValueError: a bad ``score_mode``, or inputs/mask that are not lists of 2 or 3.
    """

    def __init__(
        self,
        use_scale: bool = False,
        score_mode: str = "dot",
        dropout: float = 0.0,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.use_scale, self.score_mode = bool(use_scale), score_mode
        self.dropout, self.seed = float(dropout), seed
        self._seed_state = None
        self._dropout_seed = int(fresh_seed() if seed is None else seed) if self.dropout > 0 else None
        if score_mode not in ("dot", "concat"):
            raise ValueError(
                "Invalid value for argument score_mode. Expected one of {'dot', 'concat'}. "
                f"Received: score_mode={score_mode}"
            )
        self.scale = None
        self.concat_score_weight = None

    def build(self, input_shape: Any) -> None:
        self._validate_inputs(input_shape)
        if self.use_scale:
            self.scale = self.add_weight("scale", (), initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight("concat_score_weight", (), initializer="ones")
        self.built = True

    def _calculate_scores(self, query: Any, key: Any) -> Any:
        if self.score_mode == "dot":
            scores = gt.matmul(query, key, transpose_b=True)
            return scores * self.scale if self.scale is not None else scores
        q = gt.expand_dims(query, -2)
        k = gt.expand_dims(key, -3)
        inner = q + k if self.scale is None else self.scale * (q + k)
        return self.concat_score_weight * gt.reduce_sum(gt.tanh(inner), axis=-1)

    def _apply_scores(self, scores: Any, value: Any, scores_mask: Any = None, training: Any = None) -> tuple:
        if scores_mask is not None:
            padding = gt.logical_not(scores_mask)
            if len(_shape_of(padding)) == 2:
                padding = gt.expand_dims(padding, -2)
            big = 65504.0 if scores.dtype == gt.float16 else 1.0e9
            padding = gt.broadcast_to(padding, gt.shape(scores))
            scores = gt.where(padding, scores - big, scores)
        weights = gt.nn.softmax(scores, axis=-1)
        if training and self.dropout > 0:
            counter = next_draw(self)
            keep = hashed_uniform(weights, self._dropout_seed, counter) >= self.dropout
            weights = gt.where(keep, weights * (1.0 / (1.0 - self.dropout)), gt.zeros_like(weights))
        return gt.matmul(weights, value), weights

    def _calculate_score_mask(self, scores: Any, v_mask: Any, use_causal_mask: bool) -> Any:
        if not use_causal_mask:
            return v_mask
        causal = _positions(_dim(scores, -2), [1, -1, 1]) >= _positions(_dim(scores, -1), [1, 1, -1])
        if v_mask is not None:
            return gt.logical_and(gt.expand_dims(gt.cast(v_mask, gt.bool), -2), causal)
        return causal

    def call(
        self,
        inputs: Any,
        mask: Any = None,
        training: Any = None,
        return_attention_scores: bool = False,
        use_causal_mask: bool = False,
    ) -> Any:
        self._validate_inputs(inputs, mask)
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask else None
        if v_mask is not None:
            v_mask = gt.cast(v_mask, gt.bool)
        scores = self._calculate_scores(q, k)
        scores_mask = self._calculate_score_mask(scores, v_mask, use_causal_mask)
        output, weights = self._apply_scores(scores, v, scores_mask, training)
        if q_mask is not None:
            keep = gt.broadcast_to(gt.expand_dims(gt.cast(q_mask, gt.bool), -1), gt.shape(output))
            output = gt.where(keep, output, gt.zeros_like(output))
        if return_attention_scores:
            return output, weights
        return output

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """The query's mask (``mask[0]``), as Keras."""
        if previous_mask is None or not isinstance(previous_mask, (list, tuple)) or previous_mask[0] is None:
            return None
        return gt.convert_to_tensor(previous_mask[0])

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return (*tuple(input_shape[0])[:-1], tuple(input_shape[1])[-1])

    def _validate_inputs(self, inputs: Any, mask: Any = None) -> None:
        name = type(self).__name__
        if not isinstance(inputs, list):
            raise ValueError(
                f"{name} layer must be called on a list of inputs, namely [query, value] or [query, value, key]. "
                f"Received: inputs={inputs}."
            )
        if len(inputs) < 2 or len(inputs) > 3:
            raise ValueError(
                f"{name} layer accepts inputs list of length 2 or 3, namely [query, value] or [query, value, key]. "
                f"Received length: {len(inputs)}."
            )
        if mask is not None:
            if not isinstance(mask, list):
                raise ValueError(
                    f"{name} layer mask must be a list, namely [query_mask, value_mask]. Received: mask={mask}."
                )
            if len(mask) < 2 or len(mask) > 3:
                raise ValueError(
                    f"{name} layer accepts mask list of length 2 or 3. Received: inputs={inputs}, mask={mask}."
                )

    def get_config(self) -> dict:
        """Keras 3.15's Attention config."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self._dtype_config()}
        config.update(
            {
                "use_scale": self.use_scale,
                "score_mode": self.score_mode,
                "dropout": self.dropout,
                "seed": self.seed,
            }
        )
        return config


class AdditiveAttention(Attention):
    """Additive (Bahdanau-style) attention, as ``keras.layers.AdditiveAttention``:
    ``scores = sum(scale * tanh(query + key), -1)`` with a learned ``(dim,)`` ``scale``
    (glorot_uniform) when ``use_scale`` (the default); the rest as `Attention`.

    Args:
      use_scale: learn the per-feature ``scale``.
      dropout: the drop rate of the attention weights in training.
      seed: the dropout's seed.
    """

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, **kwargs: Any) -> None:
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape: Any) -> None:
        self._validate_inputs(input_shape)
        dim = input_shape[0][-1]
        if self.use_scale:
            self.scale = self.add_weight("scale", (dim,), initializer="glorot_uniform")
        self.built = True

    def _calculate_scores(self, query: Any, key: Any) -> Any:
        q = gt.expand_dims(query, -2)
        k = gt.expand_dims(key, -3)
        t = gt.tanh(q + k)
        return gt.reduce_sum(self.scale * t if self.use_scale else t, axis=-1)

    def get_config(self) -> dict:
        """Keras 3.15's AdditiveAttention config (no ``score_mode``)."""
        config = super().get_config()
        del config["score_mode"]
        return config
