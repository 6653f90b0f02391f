"""Window geometry the CPU and CUDA kernels share: the input size a gradient kernel writes.

A gradient traced with None dims (a batch, or the height and width of a fully convolutional
net's images) records its input's size as an attribute with those None dims. The kernels fill
them from the output gradient they receive: the batch is dy's; along a spatial axis with
stride 1 the size is fixed by dy's, ``out + (k - 1) * dilation - pad_before - pad_after``.
With a larger stride several sizes give the same output size, so the gradient refuses those
when it is traced (autodiff/grads/nn.py), and they never reach a kernel.
"""

from __future__ import annotations

Pair = tuple[int, int]


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
