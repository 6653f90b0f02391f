"""CPU kernels of the nn family: softmax, cross-entropy, convolution and pooling.

Images are NHWC, filters HWIO (depthwise: HWCM). ``strides``, ``dilations`` and
``ksize`` arrive as ``(height, width)`` pairs and ``padding`` as resolved
``((top, bottom), (left, right))`` pairs: the public functions in
gputensor/ops/nn_ops.py validate everything and apply TF's SAME rule, except along a size
unknown while tracing with a stride over 1, whose pair is the SAME marker each kernel resolves
from its input (backend/geometry.py).

Convolutions are im2col: `numpy.lib.stride_tricks.sliding_window_view` gives
every receptive field as a view, one copy lays it out as a column matrix, and one
BLAS product does the arithmetic. The input gradient of conv2d is one small product
per filter tap added onto the pixels that tap read. Depthwise convolutions need no
columns: per filter tap, the tap's strided view of the batch times that tap's
per-channel weights. Pooling runs over the window taps the same way. Every loop here
is over filter taps, its body vectorised over every pixel. float16/bfloat16 accumulate in float32, as TF's kernels do.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from gputensor.backend.cpu import blas, reduction
from gputensor.backend.geometry import input_size, resolve_padding
from gputensor.errors import InvalidArgumentError

Pair = tuple[int, int]
Padding = tuple[Pair, Pair]
_NO_DILATION = (1, 1)


def _wide(dtype: np.dtype) -> np.dtype:
    """The dtype arithmetic runs in: float32 for the 2-byte floats, else the dtype itself."""
    return np.dtype(np.float32) if dtype.itemsize == 2 and dtype.kind in "fV" else dtype


def _pad(x: np.ndarray, padding: Padding, value: Any = 0) -> np.ndarray:
    if padding == ((0, 0), (0, 0)):
        return x
    return np.pad(x, ((0, 0), padding[0], padding[1], (0, 0)), constant_values=value)


def _padded_shape(shape: tuple, padding: Padding) -> tuple:
    (pt, pb), (pl, pr) = padding
    return (shape[0], shape[1] + pt + pb, shape[2] + pl + pr, shape[3])


def _windows(xp: np.ndarray, ksize: Pair, strides: Pair, dilations: Pair) -> np.ndarray:
    """The (N, Ho, Wo, C, kh, kw) view of every receptive field of padded NHWC ``xp``."""
    (kh, kw), (sh, sw), (dh, dw) = ksize, strides, dilations
    span = ((kh - 1) * dh + 1, (kw - 1) * dw + 1)
    return sliding_window_view(xp, span, axis=(1, 2))[:, ::sh, ::sw, :, ::dh, ::dw]


# --------------------------------------------------------------------- softmax
def _shifted(x: np.ndarray, axis: int) -> np.ndarray:
    # Subtracting the max keeps exp() finite for any logits; the result is unchanged.
    z = x.astype(_wide(x.dtype), copy=False)
    return z - np.max(z, axis=axis, keepdims=True)


def _log_softmax_wide(x: np.ndarray, axis: int) -> np.ndarray:
    z = _shifted(x, axis)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def _softmax(logits: np.ndarray, axis: int) -> np.ndarray:
    if logits.size == 0:
        return logits.copy()
    e = np.exp(_shifted(logits, axis))
    return (e / np.sum(e, axis=axis, keepdims=True)).astype(logits.dtype, copy=False)


def _log_softmax(logits: np.ndarray, axis: int) -> np.ndarray:
    if logits.size == 0:
        return logits.copy()
    return _log_softmax_wide(logits, axis).astype(logits.dtype, copy=False)


def _softmax_xent(labels: np.ndarray, logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Loss ``-sum(labels * log_softmax(logits))`` over the last axis and its logits gradient."""
    if logits.shape[-1] == 0:
        return np.zeros(logits.shape[:-1], logits.dtype), logits.copy()
    log_p = _log_softmax_wide(logits, -1)
    wide_labels = labels.astype(log_p.dtype, copy=False)
    loss = -np.sum(wide_labels * log_p, axis=-1)
    backprop = np.exp(log_p) - wide_labels
    return loss.astype(logits.dtype, copy=False), backprop.astype(logits.dtype, copy=False)


@functools.lru_cache(maxsize=64)
def _row_starts(rows: int, classes: int) -> np.ndarray:
    """``arange(rows) * classes`` (read-only: cached across calls of one batch size)."""
    starts = np.arange(rows) * classes
    starts.flags.writeable = False
    return starts


def check_label_shape(labels_shape: tuple, logits_shape: tuple) -> None:
    """Labels of another shape than the logits less their class axis raise, as TF's kernel: the
    public function checks the sizes known while tracing; a None batch is checked here."""
    if tuple(labels_shape) != tuple(logits_shape[:-1]):
        raise InvalidArgumentError(
            "sparse_softmax_cross_entropy_with_logits: logits and labels must have the same first "
            f"dimensions, got logits shape {tuple(logits_shape)} and labels shape {tuple(labels_shape)}; "
            "give one label per row of logits",
            "sparse_softmax_xent",
        )


def _check_labels(labels: np.ndarray, logits: np.ndarray) -> None:
    """Bad shapes and class indices raise, as TF's CPU kernel."""
    check_label_shape(labels.shape, logits.shape)
    classes = logits.shape[-1]
    # One cheap reduction instead of a mask on every call: seen as unsigned, a negative label
    # is larger than any class count.
    unsigned = labels.view(labels.dtype.str.replace("i", "u")) if labels.dtype.kind == "i" else labels
    if labels.size and np.maximum.reduce(unsigned, axis=None) >= classes:
        bad = (labels < 0) | (labels >= classes)
        first = int(labels[bad].flat[0])
        raise InvalidArgumentError(
            f"sparse_softmax_cross_entropy_with_logits: Received a label value of {first} which is "
            f"outside the valid range of [0, {classes}). Label values: "
            f"{' '.join(str(v) for v in labels.ravel()[:20])}; labels must be class indices "
            f"in [0, {classes}) for logits of shape {logits.shape}",
            "sparse_softmax_xent",
        )


def _shifted_exp(labels: np.ndarray, logits: np.ndarray) -> tuple:
    """The softmax's parts for the sparse cross-entropy: ``z`` (the logits less each row's
    maximum, in the arithmetic dtype), ``e = exp(z)``, the row sums of e, and ``at``: each row's
    label as one flat index into the (rows, classes) layout."""
    z = logits.astype(_wide(logits.dtype), copy=False)
    z = z - np.maximum.reduce(z, axis=-1, keepdims=True)  # `_shifted`, without np.max's wrapper
    e = np.exp(z)
    sums = np.add.reduce(e, axis=-1, keepdims=True)
    return z, e, sums, _row_starts(labels.size, logits.shape[-1]) + labels.reshape(-1)


def _sparse_softmax_xent(labels: np.ndarray, logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """As `_softmax_xent` with one-hot labels given as class indices; bad indices raise, as TF's CPU kernel."""
    _check_labels(labels, logits)
    if logits.size == 0:
        return np.zeros(logits.shape[:-1], logits.dtype), logits.copy()
    z, e, sums, at = _shifted_exp(labels, logits)
    loss = (np.log(sums).reshape(-1) - z.reshape(-1)[at]).reshape(labels.shape)
    backprop = np.divide(e, sums, out=e)
    backprop.reshape(-1)[at] -= 1
    return loss.astype(logits.dtype, copy=False), backprop.astype(logits.dtype, copy=False)


def sparse_softmax_xent_mean(labels: np.ndarray, logits: np.ndarray, scale: np.ndarray) -> tuple:
    """``(mean of the sparse cross-entropy, its backprop times scale)`` in one pass over the
    logits (graph/lowering.py's `xent_mean` rule), for float32/float64 logits (rows, classes),
    labels (rows,) and ``scale`` (rows, 1) or a scalar: the loss's gradient reaching each row.

    The mean is ``(sum(log(sums)) - sum(z[labels])) / rows`` and the backprop ``e * (scale /
    sums) - scale`` at the labels: the values of the three ops it replaces, rounded in another
    order (the last bit may differ).
    """
    rows, classes = logits.shape
    if rows == 0 or classes == 0 or scale.shape not in ((), (rows, 1)):
        loss, backprop = _sparse_softmax_xent(labels, logits)
        return reduction._mean(loss, None, False), np.multiply(scale, backprop)
    _check_labels(labels, logits)
    z, e, sums, at = _shifted_exp(labels, logits)
    total = np.add.reduce(np.log(sums), axis=None) - np.add.reduce(z.reshape(-1)[at])
    mean = logits.dtype.type(total / logits.dtype.type(rows))
    backprop = np.multiply(e, np.true_divide(scale, sums), out=e)
    backprop.reshape(-1)[at] -= scale.reshape(-1) if scale.ndim else scale
    return mean, backprop


# ----------------------------------------------------------------- convolution
def _out_size(size: int, k: int, stride: int, dilation: int) -> int:
    return (size - (k - 1) * dilation - 1) // stride + 1


def _tap(i: int, j: int, out_hw: Pair, strides: Pair, dilations: Pair) -> tuple[slice, slice]:
    """The (rows, columns) of the padded input that filter tap (i, j) reads for every output pixel."""
    (ho, wo), (sh, sw), (dh, dw) = out_hw, strides, dilations
    return slice(i * dh, i * dh + (ho - 1) * sh + 1, sh), slice(j * dw, j * dw + (wo - 1) * sw + 1, sw)


def _filter_taps(ksize: Pair, out_hw: Pair, strides: Pair, dilations: Pair) -> list:
    """Per filter tap (row-major), ``(i, j, rows, columns)``: the padded input it reads for every output."""
    return [(i, j, *_tap(i, j, out_hw, strides, dilations)) for i in range(ksize[0]) for j in range(ksize[1])]


def _im2col(
    xp: np.ndarray, ksize: Pair, strides: Pair, dilations: Pair, ones: bool = False
) -> tuple[np.ndarray, Pair]:
    """Every receptive field of padded NHWC ``xp`` as a matrix (N*Ho*Wo, kh*kw*C), and (Ho, Wo);
    with ``ones``, one more column of ones (a product with it then adds a bias row).

    One copy of the window view, ordered so that its innermost run is contiguous in the
    input: (kw, C) rows of a pixel's neighbours (kw*C elements) rather than `_windows`'
    (C, kh, kw) order, whose copy runs an inner loop of kw elements. With few channels the
    matrix is stored tap-major (its transpose is contiguous): each run is then a whole image
    row. BLAS takes either layout without a copy.
    """
    win = _windows(xp, ksize, strides, dilations)  # N Ho Wo C kh kw
    n, ho, wo, c, kh, kw = win.shape
    k, pixels = kh * kw * c, n * ho * wo
    if c < 4:
        cols = np.empty((k + ones, pixels), xp.dtype)
        np.copyto(cols[:k].reshape(kh, kw, c, n, ho, wo), win.transpose(4, 5, 3, 0, 1, 2))
        if ones:
            cols[k] = 1
        return cols.T, (ho, wo)
    cols = np.empty((pixels, k + ones), xp.dtype)
    np.copyto(cols[:, :k].reshape(n, ho, wo, kh, kw, c), win.transpose(0, 1, 2, 4, 5, 3))
    if ones:
        cols[:, k] = 1
    return cols, (ho, wo)


def conv2d_keeping_columns(
    x: np.ndarray,
    filters: np.ndarray,
    strides: Pair,
    padding: Padding,
    dilations: Pair,
    bias: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`_conv2d` (plus a per-channel ``bias``, added by the product itself through a ones
    column) and the column matrix it multiplied, for `filter_gradient_from_columns`."""
    wide = _wide(x.dtype)
    kh, kw, _, o = filters.shape
    padding = resolve_padding(padding, x.shape[1:3], (kh, kw), strides, dilations)
    ones = bias is not None
    cols, (ho, wo) = _im2col(_pad(x.astype(wide, copy=False), padding), (kh, kw), strides, dilations, ones)
    w = filters.astype(wide, copy=False).reshape(-1, o)
    if ones:
        w = np.concatenate([w, bias.astype(wide, copy=False).reshape(1, o)])
    out = np.matmul(cols, w)
    return out.reshape(x.shape[0], ho, wo, o).astype(x.dtype, copy=False), cols


def _conv2d(
    x: np.ndarray, filters: np.ndarray, strides: Pair, padding: Padding, dilations: Pair
) -> np.ndarray:
    return conv2d_keeping_columns(x, filters, strides, padding, dilations)[0]


def _conv2d_backprop_input(
    filters: np.ndarray,
    dy: np.ndarray,
    x: np.ndarray | None = None,
    *,
    input_sizes: tuple,
    strides: Pair,
    padding: Padding,
    dilations: Pair,
) -> np.ndarray:
    """The adjoint of `_conv2d` in x: per filter tap, one product dy @ W[tap]^T added onto the
    input pixels that tap read. A (pixels, C) block per tap stays in cache, where the whole
    (pixels, kh*kw*C) column matrix followed by a scatter would not. ``x``: the forward input,
    passed only for its size (backend/geometry.py)."""
    n = dy.shape[0]
    input_sizes, padding = input_size(
        input_sizes, dy.shape, filters.shape[:2], strides, padding, dilations, x
    )
    if tuple(strides) == (1, 1):
        rows = _conv2d_backprop_input_by_rows(filters, dy, input_sizes, padding, dilations)
        if rows is not None:
            return rows
    wide = _wide(dy.dtype)
    kh, kw, c, o = filters.shape
    _, ho, wo, _ = dy.shape
    grad = dy.astype(wide, copy=False)
    w = filters.astype(wide, copy=False)
    out = np.zeros(_padded_shape(input_sizes, padding), wide)
    part = np.empty((n * ho * wo, c), wide)
    for i, j, rows, columns in _filter_taps((kh, kw), (ho, wo), strides, dilations):
        np.matmul(grad.reshape(-1, o), w[i, j].T, out=part)
        out[:, rows, columns, :] += part.reshape(n, ho, wo, c)
    (pt, _), (pl, _) = padding
    return out[:, pt : pt + input_sizes[1], pl : pl + input_sizes[2], :].astype(dy.dtype, copy=False)


def _conv2d_backprop_filter(
    x: np.ndarray, dy: np.ndarray, filter_sizes: tuple, strides: Pair, padding: Padding, dilations: Pair
) -> np.ndarray:
    wide = _wide(x.dtype)
    padding = resolve_padding(padding, x.shape[1:3], filter_sizes[:2], strides, dilations)
    cols, _ = _im2col(_pad(x.astype(wide, copy=False), padding), filter_sizes[:2], strides, dilations)
    return filter_gradient_from_columns(cols, dy, filter_sizes).astype(x.dtype, copy=False)


def filter_gradient_from_columns(cols: np.ndarray, dy: np.ndarray, filter_sizes: tuple) -> np.ndarray:
    """The filter gradient from x's column matrix (`_im2col`): one product cols^T @ dy (in cols'
    dtype). Columns with a ones column give ``(filter gradient, bias gradient)``: the product's
    last row sums dy over every pixel."""
    grad = np.matmul(cols.T, dy.astype(cols.dtype, copy=False).reshape(-1, filter_sizes[3]))  # kh*kw*C, O
    k = int(np.prod(filter_sizes[:3]))
    if cols.shape[1] == k:
        return grad.reshape(filter_sizes)
    return grad[:k].reshape(filter_sizes), grad[k]


def _conv2d_backprop_input_by_rows(
    filters: np.ndarray, dy: np.ndarray, input_sizes: tuple, padding: Padding, dilations: Pair
) -> np.ndarray | None:
    """`_conv2d_backprop_input` for stride 1 as kh*kw accumulating products over whole row ranges
    (`blas.gemm_accumulate`), or None where NumPy's BLAS cannot accumulate.

    With dy zero-extended to the padded input's (Hp, Wp) grid and both flattened to pixel
    rows, tap (i, j) adds ``dy[p] @ W[i, j]^T`` to input pixel ``p + i*dh*Wp + j*dw``: one
    contiguous range of rows for the whole batch. Rows that wrap past an image's right or
    bottom edge come from dy's zero extension, so they add nothing. No product is stored and
    no strided add runs; the extension costs (Hp*Wp)/(Ho*Wo) times the multiply-adds.
    """
    kh, kw, c, o = filters.shape
    n, ho, wo, _ = dy.shape
    if dy.size == 0 or filters.dtype != dy.dtype or blas.gemm_function(dy.dtype) is None:
        return None
    _, hp, wp, _ = _padded_shape(input_sizes, padding)
    # Measured on the 2-core machines here: below 4 input channels the per-tap products are
    # too thin for BLAS, and past half again as many rows the extension's extra work costs
    # more than the strided adds it saves (a 5x5 filter on a 14x14 input: 1.96x the rows).
    if c < 4 or hp * wp > 1.5 * ho * wo:
        return None
    total = n * hp * wp
    grad = np.zeros((n, hp, wp, o), dy.dtype)
    grad[:, :ho, :wo] = dy
    grad = grad.reshape(total, o)
    out = np.zeros((total, c), dy.dtype)
    for i in range(kh):
        for j in range(kw):
            at = i * dilations[0] * wp + j * dilations[1]
            if not blas.gemm_accumulate(out[at:], grad[: total - at], filters[i, j], False, True, 1.0):
                return None
    (pt, _), (pl, _) = padding
    return out.reshape(n, hp, wp, c)[:, pt : pt + input_sizes[1], pl : pl + input_sizes[2], :]


def _depthwise_conv2d(
    x: np.ndarray, filters: np.ndarray, strides: Pair, padding: Padding, dilations: Pair
) -> np.ndarray:
    """Per channel multiplier k and filter tap, the tap's strided view of the whole batch times
    the tap's per-channel weights, summed: 2*kh*kw passes over the output, each with C-long
    inner runs (no column matrix: each output reads only kh*kw inputs of its own channel)."""
    wide = _wide(x.dtype)
    kh, kw, c, m = filters.shape
    padding = resolve_padding(padding, x.shape[1:3], (kh, kw), strides, dilations)
    xp = _pad(x.astype(wide, copy=False), padding)
    w = filters.astype(wide, copy=False)
    out_hw = (
        _out_size(xp.shape[1], kh, strides[0], dilations[0]),
        _out_size(xp.shape[2], kw, strides[1], dilations[1]),
    )
    out = np.empty((x.shape[0], *out_hw, c, m), wide)
    part = np.empty((x.shape[0], *out_hw, c), wide)
    taps = _filter_taps((kh, kw), out_hw, strides, dilations)
    for k in range(m):
        total = out[..., k]
        for t, (i, j, rows, columns) in enumerate(taps):
            if t == 0:
                np.multiply(xp[:, rows, columns, :], w[i, j, :, k], out=total)
            else:
                np.multiply(xp[:, rows, columns, :], w[i, j, :, k], out=part)
                total += part
    return out.reshape(x.shape[0], *out_hw, c * m).astype(x.dtype, copy=False)


def _depthwise_conv2d_backprop_input(
    filters: np.ndarray,
    dy: np.ndarray,
    x: np.ndarray | None = None,
    *,
    input_sizes: tuple,
    strides: Pair,
    padding: Padding,
    dilations: Pair,
) -> np.ndarray:
    """Per channel multiplier and filter tap, dy times the tap's weights added onto the pixels it
    read. ``x``: the forward input, passed only for its size (backend/geometry.py)."""
    wide = _wide(dy.dtype)
    kh, kw, c, m = filters.shape
    n, ho, wo, _ = dy.shape
    input_sizes, padding = input_size(input_sizes, dy.shape, (kh, kw), strides, padding, dilations, x)
    grad = dy.astype(wide, copy=False).reshape(n, ho, wo, c, m)
    w = filters.astype(wide, copy=False)
    out = np.zeros(_padded_shape(input_sizes, padding), wide)
    part = np.empty((n, ho, wo, c), wide)
    for i, j, rows, columns in _filter_taps((kh, kw), (ho, wo), strides, dilations):
        for k in range(m):
            np.multiply(grad[..., k], w[i, j, :, k], out=part)
            out[:, rows, columns, :] += part
    (pt, _), (pl, _) = padding
    return out[:, pt : pt + input_sizes[1], pl : pl + input_sizes[2], :].astype(dy.dtype, copy=False)


def _depthwise_conv2d_backprop_filter(
    x: np.ndarray, dy: np.ndarray, filter_sizes: tuple, strides: Pair, padding: Padding, dilations: Pair
) -> np.ndarray:
    """Per tap and multiplier, the sum over every output pixel of input times gradient, channel by
    channel (the pixel sum is one BLAS product with a ones vector)."""
    wide = _wide(x.dtype)
    kh, kw, c, m = filter_sizes
    n, ho, wo, _ = dy.shape
    padding = resolve_padding(padding, x.shape[1:3], (kh, kw), strides, dilations)
    xp = _pad(x.astype(wide, copy=False), padding)
    grad = dy.astype(wide, copy=False).reshape(n, ho, wo, c, m)
    ones = np.ones(n * ho * wo, wide)
    part = np.empty((n, ho, wo, c), wide)
    out = np.empty(filter_sizes, wide)
    for i, j, rows, columns in _filter_taps((kh, kw), (ho, wo), strides, dilations):
        for k in range(m):
            np.multiply(xp[:, rows, columns, :], grad[..., k], out=part)
            out[i, j, :, k] = ones @ part.reshape(-1, c)
    return out.astype(x.dtype, copy=False)


# --------------------------------------------------------------------- pooling
def _lowest(dtype: np.dtype) -> Any:
    return np.iinfo(dtype).min if dtype.kind in "iu" else -np.inf


def _pool_taps(padded_shape: tuple, ksize: Pair, strides: Pair) -> list[tuple[slice, slice]]:
    """Per window tap (row-major), the (rows, columns) of the padded input it reads for every window."""
    out_hw = (
        _out_size(padded_shape[1], ksize[0], strides[0], 1),
        _out_size(padded_shape[2], ksize[1], strides[1], 1),
    )
    return [(rows, columns) for _, _, rows, columns in _filter_taps(ksize, out_hw, strides, _NO_DILATION)]


def _max_pool2d(x: np.ndarray, ksize: Pair, strides: Pair, padding: Padding) -> np.ndarray:
    """The maximum over each window, separably: first over the kh window rows (each a strided
    view of whole image rows, so NumPy's inner loop runs along W*C elements), then over the kw
    columns of that (N, Ho, W, C) result. Taking the kh*kw taps one by one would run every
    pass over C-element pieces, which costs several times more per element for small C."""
    padding = resolve_padding(padding, x.shape[1:3], ksize, strides)
    xp = _pad(x, padding, _lowest(x.dtype))
    (kh, kw), (sh, sw) = ksize, strides
    ho, wo = _out_size(xp.shape[1], kh, sh, 1), _out_size(xp.shape[2], kw, sw, 1)
    rows = [slice(i, i + (ho - 1) * sh + 1, sh) for i in range(kh)]
    columns = [slice(j, j + (wo - 1) * sw + 1, sw) for j in range(kw)]
    by_row = xp[:, rows[0]].copy() if kh == 1 else np.maximum(xp[:, rows[0]], xp[:, rows[1]])
    for r in rows[2:]:
        np.maximum(by_row, xp[:, r], out=by_row)
    out = by_row[:, :, columns[0]].copy()
    for c in columns[1:]:
        np.maximum(out, by_row[:, :, c], out=out)
    return out


def _tiled_max_pool_grad(
    x: np.ndarray, y: np.ndarray, grad: np.ndarray, kh: int, kw: int
) -> np.ndarray | None:
    """`_max_pool2d_grad` for windows that tile the input (stride = ksize, no padding) when no
    window holds its maximum twice; None when one does (or holds a NaN), for the general route.

    y and the gradient are repeated kw times along W (whole-pixel copies), so the comparison
    with x and the product with the gradient run along whole image rows, broadcasting over the
    kh window rows, instead of over C-element pieces per tap. Each window's maximum is one of
    its elements, so exactly one hit per window (a hit count equal to the window count, and no
    NaN maximum) means no ties: each gradient then goes to its one maximum, as TF routes it.
    A NaN or infinite gradient also takes the general route (a 0/1 mask times NaN is NaN).
    """
    n, ho, wo, c = y.shape
    h, w = ho * kh, wo * kw
    if (y.dtype.kind == "f" and np.isnan(y).any()) or not _all_finite(grad):
        return None
    # Splitting the H axis of the (possibly cropped) input is a view: no copy of x.
    rows = x[:, :h, :w].reshape(n, ho, kh, w, c)
    hit = rows == np.repeat(y, kw, axis=2)[:, :, None]
    if np.count_nonzero(hit) != y.size:
        return None
    out = np.empty(x.shape, grad.dtype) if (h, w) == x.shape[1:3] else np.zeros(x.shape, grad.dtype)
    target = out[:, :h, :w].reshape(n, ho, kh, w, c)
    # The mask as 0/1 floats, then a float product: faster than NumPy's bool-times-float loop.
    np.copyto(target, hit, casting="unsafe")
    np.multiply(target, np.repeat(grad, kw, axis=2)[:, :, None], out=target)
    return out


def _all_finite(a: np.ndarray) -> bool:
    """Whether a float array holds no NaN or infinity: a finite sum says so (an overflowing sum
    of finite values only sends the caller to its slower exact route)."""
    return a.dtype.kind != "f" or bool(np.isfinite(np.add.reduce(a, axis=None)))


def _max_pool2d_grad(
    x: np.ndarray, y: np.ndarray, dy: np.ndarray, ksize: Pair, strides: Pair, padding: Padding
) -> np.ndarray:
    """Routes each output gradient to the first maximum of its window (row-major), as TF's CPU kernel.

    One pass per window tap (kh * kw of them, each over whole arrays): an output's gradient
    goes to the input under that tap when it equals the window's maximum (or both are NaN)
    and no earlier tap took it; the last tap takes what is left. This is the argmax route
    without materialising the windows. Windows that do not overlap (stride >= ksize) write
    their share straight into the result instead of adding it.
    """
    (kh, kw), (sh, sw) = ksize, strides
    padding = resolve_padding(padding, x.shape[1:3], ksize, strides)
    grad = dy.astype(_wide(dy.dtype), copy=False)
    if (sh, sw) == (kh, kw) and not any(padding[0] + padding[1]):
        routed = _tiled_max_pool_grad(x, y, grad, kh, kw)
        if routed is not None:
            return routed.astype(dy.dtype, copy=False)
    xp = _pad(x, padding, _lowest(x.dtype))
    ho, wo = dy.shape[1:3]
    if (sh, sw) == (kh, kw):
        # Windows tile the input: every tap writes its whole share below (zeros where it did
        # not take the gradient), so only the rows and columns no window covers need zeros.
        out = np.empty(xp.shape, grad.dtype)
        out[:, ho * sh :] = 0
        out[:, : ho * sh, wo * sw :] = 0
    else:
        out = np.zeros(xp.shape, grad.dtype)
    nan_max = np.isnan(y) if y.dtype.kind == "f" else None
    if nan_max is not None and not nan_max.any():
        nan_max = None
    overlapping = sh < kh or sw < kw
    taps = _pool_taps(xp.shape, ksize, strides)
    finite = _all_finite(grad)  # else a product with the mask would spread NaN (0 * NaN)

    left = None  # windows whose gradient no tap has taken yet (None: all of them)
    for t, (rows, columns) in enumerate(taps):
        view, target = xp[:, rows, columns], out[:, rows, columns]
        if t == len(taps) - 1 and left is not None:
            hit = left
        else:
            hit = np.equal(view, y)
            if nan_max is not None:
                hit |= nan_max & np.isnan(view)
            if left is not None:
                hit &= left
        share = grad * hit if finite else np.where(hit, grad, grad.dtype.type(0))
        if overlapping:
            target += share
        else:
            np.copyto(target, share)
        if left is None:
            left = ~hit
        else:
            left ^= hit
    (pt, _), (pl, _) = padding
    return out[:, pt : pt + x.shape[1], pl : pl + x.shape[2], :].astype(dy.dtype, copy=False)


def _window_counts(
    input_hw: Pair, ksize: Pair, strides: Pair, padding: Padding, dtype: np.dtype
) -> np.ndarray:
    """How many real (not padding) inputs each window covers, as (Ho, Wo, 1): the avg-pool divisor."""
    ones = _pad(np.ones((1, *input_hw, 1), dtype), padding)
    return np.sum(_windows(ones, ksize, strides, _NO_DILATION), axis=(4, 5))[0]


def _avg_pool2d(x: np.ndarray, ksize: Pair, strides: Pair, padding: Padding) -> np.ndarray:
    """Window sums over the kh*kw taps (strided views of the whole batch), over the real-input counts."""
    wide = _wide(x.dtype)
    padding = resolve_padding(padding, x.shape[1:3], ksize, strides)
    xp = _pad(x.astype(wide, copy=False), padding)
    taps = _pool_taps(xp.shape, ksize, strides)
    total = xp[:, taps[0][0], taps[0][1]].copy()
    for rows, columns in taps[1:]:
        np.add(total, xp[:, rows, columns], out=total)
    total /= _window_counts(x.shape[1:3], ksize, strides, padding, wide)
    return total.astype(x.dtype, copy=False)


def _avg_pool2d_grad(
    dy: np.ndarray,
    x: np.ndarray | None = None,
    *,
    orig_input_shape: tuple,
    ksize: Pair,
    strides: Pair,
    padding: Padding,
) -> np.ndarray:
    """Each window's share (its gradient over its real-input count) added onto every input it
    covers. ``x``: the forward input, passed only for its size (backend/geometry.py)."""
    wide = _wide(dy.dtype)
    orig_input_shape, padding = input_size(orig_input_shape, dy.shape, ksize, strides, padding, x=x)
    share = dy.astype(wide, copy=False) / _window_counts(orig_input_shape[1:3], ksize, strides, padding, wide)
    out = np.zeros(_padded_shape(orig_input_shape, padding), wide)
    for rows, columns in _pool_taps(out.shape, ksize, strides):
        out[:, rows, columns] += share
    (pt, _), (pl, _) = padding
    h, w = orig_input_shape[1:3]
    return out[:, pt : pt + h, pl : pl + w, :].astype(dy.dtype, copy=False)


KERNELS = {
    "softmax": _softmax,
    "log_softmax": _log_softmax,
    "softmax_xent": _softmax_xent,
    "sparse_softmax_xent": _sparse_softmax_xent,
    "conv2d": _conv2d,
    "conv2d_backprop_input": _conv2d_backprop_input,
    "conv2d_backprop_filter": _conv2d_backprop_filter,
    "depthwise_conv2d": _depthwise_conv2d,
    "depthwise_conv2d_backprop_input": _depthwise_conv2d_backprop_input,
    "depthwise_conv2d_backprop_filter": _depthwise_conv2d_backprop_filter,
    "max_pool2d": _max_pool2d,
    "max_pool2d_grad": _max_pool2d_grad,
    "avg_pool2d": _avg_pool2d,
    "avg_pool2d_grad": _avg_pool2d_grad,
}
