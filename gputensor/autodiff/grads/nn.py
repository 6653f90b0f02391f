"""Gradients of the nn primitives: softmax, cross-entropy, convolution and pooling.

The convolution and pooling gradients run the backward primitives declared in
nn_ops, whose own gradients are here too (so second derivatives work), as in TF.
"""

from __future__ import annotations

from typing import Any

from gputensor.autodiff.grads._util import shape
from gputensor.autodiff.registry import register_gradient, skip_input
from gputensor.backend.geometry import SAME
from gputensor.errors import UnimplementedError
from gputensor.framework.op_table import OPS, execute
from gputensor.ops import array_ops, math_ops, nn_ops


def _conv_attrs(attrs: dict) -> dict:
    return {"strides": attrs["strides"], "padding": attrs["padding"], "dilations": attrs["dilations"]}


def _sized_by(x: Any, strides: tuple) -> tuple:
    """The extra inputs of an input gradient kernel that writes x's size: ``(x,)`` where a None
    height or width has a stride over 1, else none. With stride 1 the kernel fills a None size
    from the gradient's; with a larger stride several sizes convolve or pool to the same output,
    so the kernel reads x's size at run time (as TF's ``input_sizes`` tensor;
    backend/geometry.py)."""
    sizes = shape(x)
    if sizes is not None and any(sizes[a] is None and strides[a - 1] != 1 for a in (1, 2)):
        return (x,)
    return ()


# ---------------------------------------------------------------- softmax & co
@register_gradient("softmax", replayable=True)
def _softmax(inputs, attrs, y, dy):
    axis = attrs["axis"]
    return ((dy - math_ops.reduce_sum(dy * y, axis=axis, keepdims=True)) * y,)


@register_gradient("log_softmax", replayable=True)
def _log_softmax(inputs, attrs, y, dy):
    axis = attrs["axis"]
    return (dy - math_ops.exp(y) * math_ops.reduce_sum(dy, axis=axis, keepdims=True),)


def _xent_logits_grad(logits, backprop, grad_loss, grad_backprop):
    """d/dlogits of (loss, backprop) given their upstream gradients, as TF's _SoftmaxCrossEntropyWithLogitsGrad."""
    g = None
    if grad_loss is not None:
        g = array_ops.expand_dims(grad_loss, -1) * backprop
    if grad_backprop is not None:
        # backprop = softmax(logits) - labels: its Jacobian is the softmax one.
        p = nn_ops.softmax(logits, axis=-1)
        extra = (grad_backprop - math_ops.reduce_sum(grad_backprop * p, axis=-1, keepdims=True)) * p
        g = extra if g is None else g + extra
    return g


@register_gradient("softmax_xent", replayable=True)
def _softmax_xent(inputs, attrs, outputs, grad_loss, grad_backprop):
    labels, logits = inputs
    _, backprop = outputs
    g_logits = _xent_logits_grad(logits, backprop, grad_loss, grad_backprop)
    g_labels = None
    if not skip_input(0):
        g_labels = 0.0
        if grad_loss is not None:
            g_labels = array_ops.expand_dims(grad_loss, -1) * -nn_ops.log_softmax(logits, axis=-1)
        if grad_backprop is not None:
            g_labels = g_labels - grad_backprop
        if isinstance(g_labels, float):
            g_labels = None
    return g_labels, g_logits


@register_gradient("sparse_softmax_xent", replayable=True)
def _sparse_softmax_xent(inputs, attrs, outputs, grad_loss, grad_backprop):
    labels, logits = inputs
    _, backprop = outputs
    return None, _xent_logits_grad(logits, backprop, grad_loss, grad_backprop)


# ----------------------------------------------------------------- convolution
@register_gradient("conv2d", replayable=True)
def _conv2d(inputs, attrs, y, dy):
    x, w = inputs
    a = _conv_attrs(attrs)
    dx = (
        None
        if skip_input(0)
        else execute(
            OPS["conv2d_backprop_input"],
            (w, dy, *_sized_by(x, a["strides"])),
            {"input_sizes": shape(x), **a},
        )
    )
    dw = (
        None
        if skip_input(1)
        else execute(OPS["conv2d_backprop_filter"], (x, dy), {"filter_sizes": shape(w), **a})
    )
    return dx, dw


@register_gradient("conv2d_backprop_input", replayable=True)
def _conv2d_backprop_input(inputs, attrs, y, g):
    w, dy, *sized_by = inputs  # sized_by: the forward input, read for its size only
    a = _conv_attrs(attrs)
    dw = (
        None
        if skip_input(0)
        else execute(OPS["conv2d_backprop_filter"], (g, dy), {"filter_sizes": shape(w), **a})
    )
    ddy = None if skip_input(1) else execute(OPS["conv2d"], (g, w), a)
    return (dw, ddy, *(None for _ in sized_by))


@register_gradient("conv2d_backprop_filter", replayable=True)
def _conv2d_backprop_filter(inputs, attrs, y, g):
    x, dy = inputs
    a = _conv_attrs(attrs)
    dx = (
        None
        if skip_input(0)
        else execute(
            OPS["conv2d_backprop_input"],
            (g, dy, *_sized_by(x, a["strides"])),
            {"input_sizes": shape(x), **a},
        )
    )
    ddy = None if skip_input(1) else execute(OPS["conv2d"], (x, g), a)
    return dx, ddy


@register_gradient("depthwise_conv2d", replayable=True)
def _depthwise_conv2d(inputs, attrs, y, dy):
    x, w = inputs
    a = _conv_attrs(attrs)
    dx = (
        None
        if skip_input(0)
        else execute(
            OPS["depthwise_conv2d_backprop_input"],
            (w, dy, *_sized_by(x, a["strides"])),
            {"input_sizes": shape(x), **a},
        )
    )
    dw = (
        None
        if skip_input(1)
        else execute(OPS["depthwise_conv2d_backprop_filter"], (x, dy), {"filter_sizes": shape(w), **a})
    )
    return dx, dw


@register_gradient("depthwise_conv2d_backprop_input", replayable=True)
def _depthwise_conv2d_backprop_input(inputs, attrs, y, g):
    w, dy, *sized_by = inputs  # sized_by: the forward input, read for its size only
    a = _conv_attrs(attrs)
    dw = (
        None
        if skip_input(0)
        else execute(OPS["depthwise_conv2d_backprop_filter"], (g, dy), {"filter_sizes": shape(w), **a})
    )
    ddy = None if skip_input(1) else execute(OPS["depthwise_conv2d"], (g, w), a)
    return (dw, ddy, *(None for _ in sized_by))


@register_gradient("depthwise_conv2d_backprop_filter", replayable=True)
def _depthwise_conv2d_backprop_filter(inputs, attrs, y, g):
    x, dy = inputs
    a = _conv_attrs(attrs)
    dx = (
        None
        if skip_input(0)
        else execute(
            OPS["depthwise_conv2d_backprop_input"],
            (g, dy, *_sized_by(x, a["strides"])),
            {"input_sizes": shape(x), **a},
        )
    )
    ddy = None if skip_input(1) else execute(OPS["depthwise_conv2d"], (x, g), a)
    return dx, ddy


# --------------------------------------------------------------------- pooling
def _pool_attrs(attrs: dict) -> dict:
    return {"ksize": attrs["ksize"], "strides": attrs["strides"], "padding": attrs["padding"]}


@register_gradient("avg_pool2d", replayable=True)
def _avg_pool2d(inputs, attrs, y, dy):
    (x,) = inputs
    grad_inputs = (dy, *_sized_by(x, attrs["strides"]))
    return (
        execute(OPS["avg_pool2d_grad"], grad_inputs, {"orig_input_shape": shape(x), **_pool_attrs(attrs)}),
    )


@register_gradient("avg_pool2d_grad", replayable=True)
def _avg_pool2d_grad(inputs, attrs, y, g):
    # avg_pool2d_grad is linear in its input and the transpose of avg_pool2d; its optional
    # second input, the forward input, gives only a size.
    return (execute(OPS["avg_pool2d"], (g,), _pool_attrs(attrs)), *(None for _ in inputs[1:]))


@register_gradient("max_pool2d", replayable=True)
def _max_pool2d(inputs, attrs, y, dy):
    (x,) = inputs
    return (execute(OPS["max_pool2d_grad"], (x, y, dy), _pool_attrs(attrs)),)


@register_gradient("max_pool2d_grad", replayable=True)
def _max_pool2d_grad(inputs, attrs, y, g):
    # max_pool2d_grad(x, y, dy) scatters dy to each window's first maximum: linear in dy, and
    # piecewise constant in x and y. Its transpose picks g at each window's first maximum:
    # walk the window offsets in row-major order and take g where x equals the window's
    # maximum and no earlier offset did.
    x, out, dy = inputs
    if skip_input(2):
        return None, None, None
    if SAME in attrs["padding"]:
        raise UnimplementedError(
            "the second derivative of max_pool2d with padding='SAME' and a stride over 1 along a "
            f"size unknown (None) while tracing (input shape {shape(x)}, strides {attrs['strides']}) "
            "needs that size: give it in the input_signature, or use padding='VALID'",
            "max_pool2d_grad",
        )
    (kh, kw), (sh, sw), ((top, bottom), (left, right)) = attrs["ksize"], attrs["strides"], attrs["padding"]
    lowest = float("-inf") if x._dtype.kind == "f" else x._dtype.min
    pad = [[0, 0], [top, bottom], [left, right], [0, 0]]
    xp = array_ops.pad(x, pad, constant_values=lowest)
    gp = array_ops.pad(g, pad)
    ho, wo = shape(out)[1:3]
    picked = None
    taken = None
    for i in range(kh):
        for j in range(kw):
            xs = array_ops.strided_slice(
                xp,
                [0, i, j, 0],
                [shape(xp)[0], i + (ho - 1) * sh + 1, j + (wo - 1) * sw + 1, shape(xp)[3]],
                [1, sh, sw, 1],
            )
            gs = array_ops.strided_slice(
                gp,
                [0, i, j, 0],
                [shape(gp)[0], i + (ho - 1) * sh + 1, j + (wo - 1) * sw + 1, shape(gp)[3]],
                [1, sh, sw, 1],
            )
            hit = math_ops.equal(xs, out)
            if taken is not None:
                hit = math_ops.logical_and(hit, math_ops.logical_not(taken))
            value = math_ops.select(hit, gs, 0)
            picked = value if picked is None else picked + value
            taken = hit if taken is None else math_ops.logical_or(taken, hit)
    return None, None, picked
