"""Window geometry the CPU and CUDA kernels share: run-time padding and input sizes.

Padding arrives as ((top, bottom), (left, right)), resolved by the public functions
(gputensor/ops/nn_ops.py) where the sizes are known while tracing. Along a height or width
that is None while tracing (a serving signature ``[None, None, None, 3]``), SAME padding with a
stride over 1 depends on the size modulo the stride, so that axis's pair is the marker
`SAME` instead and the kernel resolves it from the input it receives, with TF's rule
(`resolve_padding`).

A gradient traced with None dims records its input's size as an attribute with those None
dims. The kernels fill them (`input_size`): from the forward input, passed as an extra input
where a None spatial size has a stride over 1 (several sizes then give the same output size,
so only the input tells; TF passes ``input_sizes`` as a tensor for the same reason), else from
the output gradient: the batch is dy's, and along a spatial axis with stride 1 the size is
``out + (k - 1) * dilation - pad_before - pad_after``.
"""

from __future__ import annotations

from typing import Any

Pair = tuple[int, int]
Padding = tuple[Pair, Pair]

SAME = "SAME"  # an axis's padding resolved at run time by TF's SAME rule


def same_padding(size: int, k: int, stride: int, dilation: int = 1) -> Pair:
    """TF's SAME padding of one axis: ceil(size / stride) outputs, the odd row at the end."""
    total = max((-(-size // stride) - 1) * stride + (k - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def resolve_padding(
    padding: Any, in_hw: tuple, ksize: Pair, strides: Pair, dilations: Pair = (1, 1)
) -> Padding:
    """``padding`` with each `SAME` marker replaced by its pair for input size ``in_hw``."""
    if SAME not in padding:
        return padding
    return tuple(
        same_padding(size, k, s, d) if p == SAME else tuple(p)
        for p, size, k, s, d in zip(padding, in_hw, ksize, strides, dilations)
    )


def known_input_size(
    sizes: tuple, dy_shape: tuple, ksize: Pair, strides: Pair, padding: tuple, dilations: Pair = (1, 1)
) -> tuple:
    """``sizes`` (N, H, W, C) with None dims filled from ``dy_shape`` (N, Ho, Wo, ...)."""
    if None not in tuple(sizes):
        return tuple(sizes)
    n, h, w, c = sizes
    spatial = []
    for axis, size in enumerate((h, w)):
        if size is None:
            (lo, hi), out = padding[axis], dy_shape[1 + axis]
            size = (out - 1) * strides[axis] + (ksize[axis] - 1) * dilations[axis] + 1 - lo - hi
        spatial.append(size)
    return (dy_shape[0] if n is None else n, spatial[0], spatial[1], c)


def input_size(
    sizes: tuple,
    dy_shape: tuple,
    ksize: Pair,
    strides: Pair,
    padding: tuple,
    dilations: Pair = (1, 1),
    x: Any = None,
) -> tuple[tuple, Padding]:
    """The (N, H, W, C) a gradient kernel writes and its padding resolved for that size.

    ``x``: the forward input, passed where a None size cannot be told from dy's; its shape is
    the size.
    """
    if x is not None:
        sizes = tuple(x.shape)
    else:
        sizes = known_input_size(sizes, dy_shape, ksize, strides, padding, dilations)
    return sizes, resolve_padding(padding, sizes[1:3], ksize, strides, dilations)
