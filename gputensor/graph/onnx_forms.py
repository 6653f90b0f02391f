"""ONNX forms of the ops that take more than a one-to-one mapping: cross-entropy, integer and
float division, the linear-algebra ops ONNX has, index ops, the convolution, pooling and slice
gradients, and cumprod (a Scan: ONNX has no CumProd).

Each form is a function ``(writer, node, input names, input dtypes) -> output names`` in
`FORMS`, keyed by op type; `onnx_export._emit` looks an op up here after its one-to-one
tables. A form refuses (UnimplementedError naming the op and the attribute) the attribute
values it cannot express rather than writing a model that computes something else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gputensor.errors import UnimplementedError

NHWC_TO_NCHW, NCHW_TO_NHWC, HWIO_TO_OIHW = [0, 3, 1, 2], [0, 2, 3, 1], [3, 2, 0, 1]

Form = Callable[[Any, Any, list, list], list]
FORMS: dict[str, Form] = {}


def _form(*op_types: str) -> Callable[[Form], Form]:
    def register(fn: Form) -> Form:
        for t in op_types:
            FORMS[t] = fn
        return fn

    return register


def _refuse(op: str, why: str) -> UnimplementedError:
    return UnimplementedError(f"gt.onnx.export: op {op!r} {why} has no ONNX form in this exporter", op)


def onnx_dtype(dtype: Any) -> int:
    import onnx

    return onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def _scalar(w: Any, value: Any, dtype: Any) -> str:
    return w.constant(np.asarray(value, np.dtype(dtype)))


# ------------------------------------------------------------------ elementwise
@_form("bitwise_and", "bitwise_or", "bitwise_xor")
def _bitwise(w, node, ins, dtypes):
    op = {"bitwise_and": "BitwiseAnd", "bitwise_or": "BitwiseOr", "bitwise_xor": "BitwiseXor"}[node.type]
    return [w.one(op, ins)]


@_form("invert")
def _invert(w, node, ins, dtypes):
    return [w.one("BitwiseNot", ins)]


@_form("floordiv")
def _floordiv(w, node, ins, dtypes):
    if np.dtype(dtypes[0]).kind == "f":
        return [w.one("Floor", [w.one("Div", ins)])]
    # ONNX's integer Div truncates; x - floormod(x, y) is an exact multiple of y.
    rest = w.one("Mod", ins, fmod=0)
    return [w.one("Div", [w.one("Sub", [ins[0], rest]), ins[1]])]


@_form("floormod")
def _floormod(w, node, ins, dtypes):
    if np.dtype(dtypes[0]).kind != "f":
        return [w.one("Mod", ins, fmod=0)]  # the divisor's sign, as Python and TF
    # Floats need fmod=1 (the dividend's sign); a nonzero remainder whose sign differs from
    # the divisor's moves by one divisor, as Python's % does.
    x, y = ins
    r = w.one("Mod", [x, y], fmod=1)
    zero = _scalar(w, 0, dtypes[0])
    nonzero = w.one("Not", [w.one("Equal", [r, zero])])
    differ = w.one("Xor", [w.one("Less", [r, zero]), w.one("Less", [y, zero])])
    return [w.one("Where", [w.one("And", [nonzero, differ]), w.one("Add", [r, y]), r])]


@_form("atan2")
def _atan2(w, node, ins, dtypes):
    """atan(y / x), moved by pi into the left half-plane; x == y == 0 gives 0 (signed zeros
    are not told apart: atan2(-0.0, -1.0) is pi here, -pi in NumPy)."""
    y, x = ins
    dt = dtypes[0]
    zero = _scalar(w, 0, dt)
    base = w.one("Atan", [w.one("Div", [y, x])])
    pi = w.one("Where", [w.one("Less", [y, zero]), _scalar(w, -np.pi, dt), _scalar(w, np.pi, dt)])
    left = w.one("Add", [base, pi])
    origin = w.one("And", [w.one("Equal", [x, zero]), w.one("Equal", [y, zero])])
    right = w.one("Where", [origin, zero, base])
    return [w.one("Where", [w.one("Less", [x, zero]), left, right])]


# ------------------------------------------------------------------ reductions
@_form("reduce_all", "reduce_any")
def _reduce_bool(w, node, ins, dtypes):
    a = node.attrs
    as_int = w.one("Cast", ins, to=onnx_dtype(np.int32))
    axes = [] if a["axis"] is None else [w.ints(a["axis"])]
    op = "ReduceMin" if node.type == "reduce_all" else "ReduceMax"
    reduced = w.one(op, [as_int, *axes], keepdims=int(bool(a["keepdims"])))
    return [w.one("Cast", [reduced], to=onnx_dtype(np.bool_))]


@_form("sum_to")
def _sum_to(w, node, ins, dtypes):
    """The gradient of a broadcast: summed over the axes the broadcast added or stretched."""
    g_shape, target = node.inputs[0].shape, node.attrs["static_shape"]
    lead = len(g_shape) - len(target) if target is not None else -1
    known = target is not None and lead >= 0 and None not in target
    if not known or any(d == 1 and e is None for d, e in zip(target, g_shape[lead:])):
        raise _refuse("sum_to", f"from shape {g_shape} to {target} (a None dim decides which axes sum)")
    axes = list(range(lead)) + [lead + i for i, d in enumerate(target) if d == 1 and g_shape[lead + i] != 1]
    g = ins[0]
    if axes:
        g = w.one("ReduceSum", [g, w.ints(axes)], keepdims=1)
    return [w.one("Reshape", [g, w.ints(target)])]


# ------------------------------------------------------------------ cross-entropy
def _xent(w: Any, log_p: str, logits: str, labels: str) -> list[str]:
    backprop = w.one("Sub", [w.one("Softmax", [logits], axis=-1), labels])
    return [
        w.one("Neg", [w.one("ReduceSum", [w.one("Mul", [labels, log_p]), w.ints([-1])], keepdims=0)]),
        backprop,
    ]


@_form("softmax_xent")
def _softmax_xent(w, node, ins, dtypes):
    labels, logits = ins
    return _xent(w, w.one("LogSoftmax", [logits], axis=-1), logits, labels)


@_form("sparse_softmax_xent")
def _sparse_softmax_xent(w, node, ins, dtypes):
    """The loss picks the label's log-probability (GatherElements), so a -inf log-probability
    elsewhere in the row does not reach it as 0 * inf. Labels outside [0, K) give a zero
    one-hot row here; gputensor's CPU kernel raises for them."""
    labels, logits = ins
    classes = node.inputs[1].shape[-1]
    if classes is None:
        raise _refuse("sparse_softmax_xent", "with a None class dim")
    labels = w.one("Cast", [labels], to=onnx_dtype(np.int64))  # the index type onnxruntime's OneHot takes
    index = w.one("Unsqueeze", [labels, w.ints([-1])])
    log_p = w.one("LogSoftmax", [logits], axis=-1)
    picked = w.one("Squeeze", [w.one("GatherElements", [log_p, index], axis=-1), w.ints([-1])])
    depth, values = w.ints([classes]), w.constant(np.asarray([0, 1], dtypes[1]))
    one_hot = w.one("OneHot", [labels, depth, values], axis=-1)
    backprop = w.one("Sub", [w.one("Softmax", [logits], axis=-1), one_hot])
    return [w.one("Neg", [picked]), backprop]


# ------------------------------------------------------------------ linear algebra
@_form("einsum")
def _einsum(w, node, ins, dtypes):
    return [w.one("Einsum", ins, equation=node.attrs["equation"].replace(" ", ""))]


@_form("matrix_determinant")
def _determinant(w, node, ins, dtypes):
    return [w.one("Det", ins)]


@_form("matrix_band_part")
def _band_part(w, node, ins, dtypes):
    """Trilu twice: keep j >= i - num_lower, then j <= i + num_upper (a negative bound keeps all)."""
    lower, upper = node.attrs["num_lower"], node.attrs["num_upper"]
    x = ins[0]
    if lower >= 0:
        x = w.one("Trilu", [x, w.constant(np.asarray(-lower, np.int64))], upper=1)
    if upper >= 0:
        x = w.one("Trilu", [x, w.constant(np.asarray(upper, np.int64))], upper=0)
    return [x if x != ins[0] else w.one("Identity", [x])]


def _main_diagonal_only(node: Any) -> None:
    a = node.attrs
    k = a["k"]
    if (k if isinstance(k, int) else tuple(k)) not in (0, (0, 0)):
        raise _refuse(node.type, f"with k={k} (only the main diagonal, k=0)")


@_form("matrix_diag_part")
def _diag_part(w, node, ins, dtypes):
    """The main diagonal as a strided slice of the flattened matrices: element (i, i) of an
    (m, n) matrix is entry i * (n + 1)."""
    _main_diagonal_only(node)
    shape = node.inputs[0].shape
    m, n = shape[-2], shape[-1]
    if m is None or n is None or None in shape[:-2]:
        raise _refuse(node.type, f"of shape {shape} (None dims)")
    d = min(m, n)
    flat = w.one("Reshape", [ins[0], w.ints([*shape[:-2], m * n])])
    if d == 0:
        return [w.one("Reshape", [flat, w.ints([*shape[:-2], 0])])]
    end = (d - 1) * (n + 1) + 1
    return [w.one("Slice", [flat, w.ints([0]), w.ints([end]), w.ints([-1]), w.ints([n + 1])])]


@_form("matrix_diag")
def _diag(w, node, ins, dtypes):
    """``out[..., i, j] = x[..., i] if i == j else padding_value``, a Where against an
    identity mask (exact for inf and NaN, where a product with the identity is not)."""
    _main_diagonal_only(node)
    a = node.attrs
    n = node.inputs[0].shape[-1]
    rows, cols = a["num_rows"], a["num_cols"]
    if n is None or rows not in (-1, n) or cols not in (-1, n):
        raise _refuse(node.type, f"with num_rows={rows}, num_cols={cols} for {n} diagonal entries")
    eye = w.constant(np.eye(n, dtype=np.bool_))
    column = w.one("Unsqueeze", [ins[0], w.ints([-1])])
    return [w.one("Where", [eye, column, _scalar(w, a["padding_value"], dtypes[0])])]


# ------------------------------------------------------------------ index ops
@_form("where")
def _where_indices(w, node, ins, dtypes):
    return [w.one("Transpose", [w.one("NonZero", ins)], perm=[1, 0])]


@_form("tensor_scatter_nd")
def _scatter(w, node, ins, dtypes):
    reduction = {"update": "none", "add": "add", "max": "max", "min": "min"}[node.attrs["reduction"]]
    indices = w.one("Cast", [ins[1]], to=onnx_dtype(np.int64))
    return [w.one("ScatterND", [ins[0], indices, ins[2]], reduction=reduction)]


@_form("unique")
def _unique(w, node, ins, dtypes):
    x = ins[0]
    widen = np.dtype(dtypes[0]).kind in "iub" and np.dtype(dtypes[0]) not in (np.int64, np.int8)
    if widen:  # onnxruntime's Unique takes int64 and int8 of the integer types
        x = w.one("Cast", [x], to=onnx_dtype(np.int64))
    y, _, inverse, _ = w.node("Unique", [x], n_out=4, sorted=0)  # order of first occurrence
    if widen:
        y = w.one("Cast", [y], to=onnx_dtype(dtypes[0]))
    return [y, w.one("Cast", [inverse], to=onnx_dtype(node.attrs["out_idx"]))]


@_form("sort")
def _sort(w, node, ins, dtypes):
    """TopK over the whole last axis; ONNX's TopK puts equal elements in index order, which
    is the stable order sort promises."""
    dims = w.one("Shape", ins)
    k = w.one("Slice", [dims, w.ints([-1]), w.ints([2**62]), w.ints([0])])
    values, indices = w.node(
        "TopK", [ins[0], k], n_out=2, axis=-1, largest=int(bool(node.attrs["descending"]))
    )
    return [values, w.one("Cast", [indices], to=onnx_dtype(np.int32))]


# ------------------------------------------------------------------ convolutions
def _pads(a: dict) -> list[int]:
    (top, bottom), (left, right) = a["padding"]
    return [top, left, bottom, right]


def _depthwise_weight(w: Any, f: str, node_filter: Any) -> str:
    """[kh, kw, C, M] as ONNX's grouped weight (C*M, 1, kh, kw): group c makes outputs c*M + m."""
    kh, kw, c, m = node_filter.shape
    return w.one("Reshape", [w.one("Transpose", [f], perm=[2, 3, 0, 1]), w.ints([c * m, 1, kh, kw])])


@_form("depthwise_conv2d")
def _depthwise(w, node, ins, dtypes):
    a = node.attrs
    channels = node.inputs[1].shape[2]
    x = w.one("Transpose", [ins[0]], perm=NHWC_TO_NCHW)
    f = _depthwise_weight(w, ins[1], node.inputs[1])
    y = w.one(
        "Conv",
        [x, f],
        group=channels,
        pads=_pads(a),
        strides=list(a["strides"]),
        dilations=list(a["dilations"]),
    )
    return [w.one("Transpose", [y], perm=NCHW_TO_NHWC)]


def _transposed(w: Any, node: Any, dy: str, f: str, group: int) -> str:
    """ConvTranspose, the adjoint of Conv, with output_padding making up the rows and columns
    the forward convolution's strides dropped (so the result has ``input_sizes``)."""
    a = node.attrs
    (top, bottom), (left, right) = a["padding"]
    _, h, wd, _ = a["input_sizes"]
    kh, kw = node.inputs[0].shape[:2]
    _, ho, wo, _ = node.inputs[1].shape
    if None in (h, wd, ho, wo):
        raise _refuse(node.type, "with None spatial dims")
    (sh, sw), (dh, dw) = a["strides"], a["dilations"]
    extra = [
        h - (sh * (ho - 1) + (kh - 1) * dh + 1 - top - bottom),
        wd - (sw * (wo - 1) + (kw - 1) * dw + 1 - left - right),
    ]
    x = w.one("Transpose", [dy], perm=NHWC_TO_NCHW)
    y = w.one(
        "ConvTranspose",
        [x, f],
        group=group,
        pads=[top, left, bottom, right],
        strides=[sh, sw],
        dilations=[dh, dw],
        output_padding=extra,
    )
    return w.one("Transpose", [y], perm=NCHW_TO_NHWC)


@_form("conv2d_backprop_input")
def _conv_input_grad(w, node, ins, dtypes):
    # ConvTranspose's weight is (in = O, out = C, kh, kw): the forward's OIHW transpose.
    return [_transposed(w, node, ins[1], w.one("Transpose", [ins[0]], perm=HWIO_TO_OIHW), 1)]


@_form("depthwise_conv2d_backprop_input")
def _depthwise_input_grad(w, node, ins, dtypes):
    channels = node.inputs[0].shape[2]
    return [_transposed(w, node, ins[1], _depthwise_weight(w, ins[0], node.inputs[0]), channels)]


@_form("conv2d_backprop_filter")
def _conv_filter_grad(w, node, ins, dtypes):
    """``dW[i, j, c, o] = sum over n, ho, wo of x[n, ho*s + i*d, wo*s + j*d, c] * dy[n, ho, wo, o]``
    is a Conv of x with channels and batch swapped (C, N, H, W) by dy as the weight
    (O, N, Ho, Wo), its strides the forward's dilations and its dilations the forward's
    strides; the result (C, O, kh', kw') is cut to the filter size."""
    a = node.attrs
    kh, kw, _, _ = a["filter_sizes"]
    (sh, sw), (dh, dw) = a["strides"], a["dilations"]
    x = w.one("Transpose", [ins[0]], perm=[3, 0, 1, 2])
    dy = w.one("Transpose", [ins[1]], perm=[3, 0, 1, 2])
    full = w.one("Conv", [x, dy], pads=_pads(a), strides=[dh, dw], dilations=[sh, sw])
    cut = w.one("Slice", [full, w.ints([0, 0]), w.ints([kh, kw]), w.ints([2, 3])])
    return [w.one("Transpose", [cut], perm=[2, 3, 0, 1])]


@_form("depthwise_conv2d_backprop_filter")
def _depthwise_filter_grad(w, node, ins, dtypes):
    """As `_conv_filter_grad` per channel: x as one image of C*N channels (c-major), dy as the
    weight (C*M, N, Ho, Wo), grouped by channel, gives (1, C*M, kh', kw')."""
    a = node.attrs
    kh, kw, c, m = a["filter_sizes"]
    n, h, wd, _ = node.inputs[0].shape
    if None in (n, h, wd):
        raise _refuse(node.type, f"with None dims in its input {node.inputs[0].shape}")
    (sh, sw), (dh, dw) = a["strides"], a["dilations"]
    x = w.one("Transpose", [ins[0]], perm=[3, 0, 1, 2])  # C N H W
    x = w.one("Reshape", [x, w.ints([1, c * n, h, wd])])
    dy = w.one("Transpose", [ins[1]], perm=[3, 0, 1, 2])  # C*M N Ho Wo
    full = w.one("Conv", [x, dy], group=c, pads=_pads(a), strides=[dh, dw], dilations=[sh, sw])
    cut = w.one("Slice", [full, w.ints([0, 0]), w.ints([kh, kw]), w.ints([2, 3])])
    per_channel = w.one("Reshape", [cut, w.ints([c, m, kh, kw])])
    return [w.one("Transpose", [per_channel], perm=[2, 3, 0, 1])]


# ------------------------------------------------------------------ scans
@_form("cumprod")
def _cumprod(w, node, ins, dtypes):
    """ONNX has CumSum but no CumProd: a Scan along the axis carrying the running product (the
    rest of the shape; ones at first), which each step multiplies by its slice, so the products
    are exact (exp(cumsum(log x)) is not, and fails for x <= 0). Its scan output is the product
    before the step's multiply (exclusive) or after; reverse scans and writes back to front."""
    import onnx

    a = node.attrs
    axis, rank, dtype = a["axis"], node.inputs[0].ndim, np.dtype(dtypes[0])
    dims = w.one("Shape", ins)
    before = w.one("Slice", [dims, w.ints([0]), w.ints([axis])])
    after = w.one("Slice", [dims, w.ints([axis + 1]), w.ints([rank])])
    rest = w.one("Concat", [before, after], axis=0)  # empty for 1-D x: a scalar product
    ones = w.one("ConstantOfShape", [rest], value=onnx.numpy_helper.from_array(np.ones([1], dtype)))
    body = w.child()
    product, item = body.fresh("product"), body.fresh("item")
    new = body.one("Mul", [product, item])
    carried, scanned = body.fresh("product_out"), body.fresh("cumprod_out")
    body.nodes.append(onnx.helper.make_node("Identity", [new], [carried]))
    body.nodes.append(onnx.helper.make_node("Identity", [product if a["exclusive"] else new], [scanned]))
    elem = onnx_dtype(dtype)
    graph = onnx.helper.make_graph(
        body.nodes,
        w.fresh("cumprod_body"),
        [onnx.helper.make_tensor_value_info(v, elem, None) for v in (product, item)],
        [onnx.helper.make_tensor_value_info(v, elem, None) for v in (carried, scanned)],
    )
    direction = int(bool(a["reverse"]))
    shape = node.inputs[0].shape
    if None not in shape and 0 not in shape:
        return [_scan(w, ones, ins[0], graph, axis, direction)]
    # onnxruntime's Scan dies (SIGFPE) on an empty input: an empty x is its own cumprod.
    empty = w.one("Equal", [w.one("Size", ins), w.constant(np.asarray(0, np.int64))])
    branches = []
    for label in ("empty", "scan"):
        sub = w.child()
        result = ins[0] if label == "empty" else _scan(sub, ones, ins[0], graph, axis, direction)
        out = sub.fresh(f"{label}_out")
        sub.nodes.append(onnx.helper.make_node("Identity", [result], [out]))
        info = onnx.helper.make_tensor_value_info(out, elem, None)
        branches.append(onnx.helper.make_graph(sub.nodes, w.fresh(label), [], [info]))
    return [w.one("If", [empty], then_branch=branches[0], else_branch=branches[1])]


def _scan(w: Any, init: str, x: str, body: Any, axis: int, direction: int) -> str:
    _, out = w.node(
        "Scan",
        [init, x],
        n_out=2,
        body=body,
        num_scan_inputs=1,
        scan_input_axes=[axis],
        scan_output_axes=[axis],
        scan_input_directions=[direction],
        scan_output_directions=[direction],
    )
    return out


# ------------------------------------------------------------------ slice gradients
@_form("dynamic_strided_slice_grad")
def _dynamic_slice_grad(w, node, ins, dtypes):
    """The gradient of a slice along None dims: the flat positions 0 .. size(x) - 1, shaped as
    x, are sliced as the forward sliced x (the same ONNX Slice, so the bounds clamp alike on
    each run's shape), and dy is scattered to the positions taken, in zeros of x's size. A
    strided slice takes each position at most once, so nothing is added twice."""
    import onnx

    from gputensor.graph.onnx_export import _dynamic_slice  # onnx_export imports this module

    x, dy = ins
    dims = w.one("Shape", [x])
    size = w.one("ReduceProd", [dims], keepdims=1)
    count = w.one("Squeeze", [size, w.ints([0])])
    zero, one = (w.constant(np.asarray(v, np.int64)) for v in (0, 1))
    positions = w.one("Reshape", [w.one("Range", [zero, count, one]), dims])
    taken = w.one("Reshape", [_dynamic_slice(w, positions, node.attrs), w.ints([-1])])
    value = onnx.numpy_helper.from_array(np.zeros([1], np.dtype(dtypes[1])))
    zeros = w.one("ConstantOfShape", [size], value=value)
    flat = w.one("Reshape", [dy, w.ints([-1])])
    scattered = w.one("ScatterElements", [zeros, taken, flat], axis=0, reduction="add")
    return [w.one("Reshape", [scattered, dims])]


# ------------------------------------------------------------------ pooling gradients
def _pool_geometry(node: Any, x_shape: tuple, y_shape: tuple) -> tuple:
    """(H, W, Ho, Wo) of a pooling gradient; refused by name when one is None."""
    h, wd = x_shape[1:3]
    ho, wo = y_shape[1:3]
    if None in (h, wd, ho, wo):
        raise _refuse(
            node.type,
            f"with None spatial dims (input {x_shape}, pooled {y_shape}; the model fixes each window's "
            "place and size: give H and W in the TensorSpec)",
        )
    return h, wd, ho, wo


def _pool_taps(a: dict) -> list[tuple[int, int]]:
    """The window offsets (i, j) in row-major order, the order the CPU kernels take them in."""
    kh, kw = a["ksize"]
    return [(i, j) for i in range(kh) for j in range(kw)]


def _spread(w: Any, parts: list[str], a: dict, h: int, wd: int, ho: int, wo: int) -> str:
    """The sum over window taps of ``parts[t]`` (N, Ho, Wo, C) put where tap t of every window
    reads the padded input: window (p, q) of tap (i, j) reads row i + p * sh, column j + q * sw.
    Each part is spread to the stride (a unit axis zero-padded to sh, sw, then merged), padded
    to its offset, and the sum is cut to the input's rows and columns (padding takes nothing)."""
    (sh, sw), ((top, bottom), (left, right)) = a["strides"], a["padding"]
    hp, wp = h + top + bottom, wd + left + right
    span_h, span_w = sh * (ho - 1) + 1, sw * (wo - 1) + 1
    placed = []
    for g, (i, j) in zip(parts, _pool_taps(a)):
        if (sh, sw) != (1, 1):
            g = w.one("Unsqueeze", [g, w.ints([2, 4])])  # N Ho 1 Wo 1 C
            g = w.one("Pad", [g, w.ints([0] * 6 + [0, 0, sh - 1, 0, sw - 1, 0])])
            g = w.one("Reshape", [g, w.ints([0, ho * sh, wo * sw, -1])])
            g = w.one("Slice", [g, w.ints([0, 0]), w.ints([span_h, span_w]), w.ints([1, 2])])
        pads = [0, i, j, 0, 0, hp - i - span_h, wp - j - span_w, 0]
        placed.append(w.one("Pad", [g, w.ints(pads)]))
    total = placed[0] if len(placed) == 1 else w.one("Sum", placed)
    return w.one("Slice", [total, w.ints([top, left]), w.ints([top + h, left + wd]), w.ints([1, 2])])


@_form("max_pool2d_grad")
def _max_pool_grad(w, node, ins, dtypes):
    """As the CPU kernel: tap by tap in row-major order, a window's gradient goes to the input
    under the tap that equals the window's maximum (``orig_output``; NaN matches NaN) where no
    earlier tap did; the last tap takes what is left. The input is padded with the dtype's
    lowest value, as for the forward, and the padding's share is cut away."""
    x, y, dy = ins
    a = node.attrs
    dtype = np.dtype(dtypes[0])
    h, wd, ho, wo = _pool_geometry(node, node.inputs[0].shape, node.inputs[2].shape)
    (sh, sw), ((top, bottom), (left, right)) = a["strides"], a["padding"]
    lowest = -np.inf if dtype.kind == "f" else np.iinfo(dtype).min
    xp = w.one("Pad", [x, w.ints([0, top, left, 0, 0, bottom, right, 0]), _scalar(w, lowest, dtype)])
    nan_max = w.one("IsNaN", [y]) if dtype.kind == "f" else None
    taps = _pool_taps(a)
    parts, left_over = [], None  # left_over: the windows no tap has taken yet (None: all)
    for t, (i, j) in enumerate(taps):
        if t == len(taps) - 1 and left_over is not None:
            hit = left_over
        else:
            ends = [i + sh * (ho - 1) + 1, j + sw * (wo - 1) + 1]
            view = w.one("Slice", [xp, w.ints([i, j]), w.ints(ends), w.ints([1, 2]), w.ints([sh, sw])])
            hit = w.one("Equal", [view, y])
            if nan_max is not None:
                hit = w.one("Or", [hit, w.one("And", [nan_max, w.one("IsNaN", [view])])])
            if left_over is not None:
                hit = w.one("And", [hit, left_over])
        parts.append(w.one("Mul", [dy, w.one("Cast", [hit], to=onnx_dtype(dtype))]))
        left_over = w.one("Not", [hit]) if left_over is None else w.one("Xor", [left_over, hit])
    return [_spread(w, parts, a, h, wd, ho, wo)]


def _window_counts(a: dict, h: int, wd: int, ho: int, wo: int) -> np.ndarray:
    """How many real (not padding) inputs each window covers, (Ho, Wo, 1): TF's average divides
    by these, not by kh * kw, at the borders of padded pools."""
    (kh, kw), (sh, sw), ((top, _), (left, _)) = a["ksize"], a["strides"], a["padding"]

    def along(n: int, k: int, s: int, before: int, out: int) -> np.ndarray:
        start = np.arange(out) * s - before
        return np.minimum(start + k, n) - np.maximum(start, 0)

    return np.outer(along(h, kh, sh, top, ho), along(wd, kw, sw, left, wo))[:, :, None]


@_form("avg_pool2d_grad")
def _avg_pool_grad(w, node, ins, dtypes):
    """Each window's gradient over its count of real inputs (known when exporting), added onto
    every input the window covers (tap by tap, as the CPU kernel)."""
    a = node.attrs
    dtype = np.dtype(dtypes[0])
    h, wd, ho, wo = _pool_geometry(node, tuple(a["orig_input_shape"]), node.inputs[0].shape)
    counts = w.constant(_window_counts(a, h, wd, ho, wo).astype(dtype), "window_counts")
    share = w.one("Div", [ins[0], counts])
    return [_spread(w, [share] * len(_pool_taps(a)), a, h, wd, ho, wo)]
