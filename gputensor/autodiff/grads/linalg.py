"""Gradients of the linalg primitives (formulas as TensorFlow's linalg_grad.py)."""

from __future__ import annotations

import string

from gputensor.autodiff.grads._util import conj, shape, unbroadcast
from gputensor.autodiff.registry import register_gradient, skip_input
from gputensor.framework.op_table import OPS, execute
from gputensor.ops import array_ops, linalg_ops, math_ops

_MATMUL = OPS["matmul"]


def _mm(a, b, ta=False, tb=False):
    # The primitive directly: the public function's checks cost more than the product here.
    return execute(_MATMUL, (a, b), {"transpose_a": ta, "transpose_b": tb})


def _adj(x):
    return linalg_ops.matrix_transpose(x, conjugate=True)


# (transpose_a, transpose_b) -> (grad of a, grad of b), each as (left, right, transpose_left,
# transpose_right) of one matmul over dz and the conjugated inputs (TF's _MatMulGrad).
_MATMUL_GRADS = {
    (False, False): (("dz", "b", False, True), ("a", "dz", True, False)),
    (False, True): (("dz", "b", False, False), ("dz", "a", True, False)),
    (True, False): (("b", "dz", False, True), ("a", "dz", False, False)),
    (True, True): (("b", "dz", True, True), ("dz", "a", True, True)),
}


@register_gradient("matmul", replayable=True)
def _matmul(inputs, attrs, z, dz):
    a, b = inputs
    operands = {"dz": dz, "a": conj(a), "b": conj(b)}
    rules = _MATMUL_GRADS[attrs["transpose_a"], attrs["transpose_b"]]
    grads = [
        None if skip_input(i) else _mm(operands[left], operands[right], ta, tb)
        for i, (left, right, ta, tb) in enumerate(rules)
    ]
    return unbroadcast(grads[0], a), unbroadcast(grads[1], b)


# ------------------------------------------------------------------ einsum
def _explicit(equation: str, ranks: list[int]) -> tuple[list[str], str]:
    """Input terms and output of ``equation`` with ``...`` spelled out and the output explicit."""
    lhs, arrow, out = equation.partition("->")
    terms = lhs.split(",")
    used = set(equation)
    spare = [ch for ch in string.ascii_uppercase + string.ascii_lowercase if ch not in used]
    n_ell = max((r - len(t.replace("...", "")) for t, r in zip(terms, ranks) if "..." in t), default=0)
    ell = "".join(spare[:n_ell])
    full = []
    for t, r in zip(terms, ranks):
        if "..." in t:
            k = r - len(t.replace("...", ""))
            t = t.replace("...", ell[n_ell - k :])
        full.append(t)
    if not arrow:
        counts = {ch: sum(t.count(ch) for t in full) for ch in set("".join(full))}
        out = ell + "".join(sorted(ch for ch, n in counts.items() if n == 1 and ch not in ell))
    else:
        out = out.replace("...", ell)
    return full, out


@register_gradient("einsum", replayable=True)
def _einsum(inputs, attrs, z, dz):
    terms, out = _explicit(attrs["equation"], [len(shape(t)) for t in inputs])
    grads = []
    for i, x in enumerate(inputs):
        if skip_input(i):
            grads.append(None)
            continue
        term = terms[i]
        others = [conj(t) for j, t in enumerate(inputs) if j != i]
        other_terms = [t for j, t in enumerate(terms) if j != i]
        available = set(out).union(*other_terms) if other_terms else set(out)
        kept = "".join(ch for ch in dict.fromkeys(term) if ch in available)
        g = execute(OPS["einsum"], (dz, *others), {"equation": f"{','.join([out, *other_terms])}->{kept}"})
        sizes = {ch: shape(x)[p] for p, ch in enumerate(term)}
        labels = "".join(dict.fromkeys(term))
        if kept != labels:
            # Labels summed only within this operand: the gradient is constant along them.
            g = array_ops.reshape(g, [sizes[ch] if ch in kept else 1 for ch in labels])
            g = array_ops.broadcast_to(g, [sizes[ch] for ch in labels])
        if labels != term:
            # A label repeated in one term (a diagonal): put the result back on that diagonal.
            g = _undiagonal(g, labels, term, sizes)
        grads.append(g)
    return tuple(grads)


def _undiagonal(g, labels: str, term: str, sizes: dict):
    """Spreads ``g`` (distinct ``labels``) onto labels ``term`` (with repeats), zero off the diagonal."""
    spare = iter(ch for ch in string.ascii_letters if ch not in term)
    eye_terms, eyes, renamed, seen = [], [], [], set()
    for ch in term:
        if ch in seen:
            new = next(spare)
            eye_terms.append(ch + new)
            eyes.append(linalg_ops.eye(sizes[ch], dtype=g.dtype))
            renamed.append(new)
        else:
            seen.add(ch)
            renamed.append(ch)
    equation = f"{','.join([labels, *eye_terms])}->{''.join(renamed)}"
    return execute(OPS["einsum"], (g, *eyes), {"equation": equation})


# ------------------------------------------------------------ decompositions
def _expand2(t):
    return array_ops.expand_dims(array_ops.expand_dims(t, -1), -1)


@register_gradient("matrix_inverse", replayable=True)
def _matrix_inverse(inputs, attrs, y, dy):
    # y = inv(x): dx = -y^H dy y^H; with adjoint=True the roles transpose.
    if attrs["adjoint"]:
        return (-linalg_ops.matmul(y, linalg_ops.matmul(dy, y, adjoint_a=True)),)
    return (-linalg_ops.matmul(y, linalg_ops.matmul(dy, y, adjoint_b=True), adjoint_a=True),)


@register_gradient("matrix_determinant", replayable=True)
def _matrix_determinant(inputs, attrs, det, g):
    (x,) = inputs
    return (_expand2(g * det) * linalg_ops.inv(x, adjoint=True),)


@register_gradient("log_matrix_determinant", replayable=True)
def _log_matrix_determinant(inputs, attrs, outputs, g_sign, g_logdet):
    (x,) = inputs
    if g_logdet is None:
        return (None,)
    return (_expand2(g_logdet) * linalg_ops.inv(x, adjoint=True),)


def _set_half_diag(m):
    """m with its main diagonal halved."""
    return m - linalg_ops.diag(linalg_ops.diag_part(m) * 0.5)


@register_gradient("cholesky", replayable=True)
def _cholesky(inputs, attrs, chol, g):
    l_inv = linalg_ops.inv(chol)
    middle = linalg_ops.band_part(_set_half_diag(linalg_ops.matmul(chol, g, adjoint_a=True)), -1, 0)
    grad = linalg_ops.matmul(linalg_ops.matmul(l_inv, middle, adjoint_a=True), l_inv)
    return ((grad + _adj(grad)) * 0.5,)


@register_gradient("matrix_solve", replayable=True)
def _matrix_solve(inputs, attrs, c, g):
    a, _ = inputs
    adjoint = attrs["adjoint"]
    gb = linalg_ops.solve(a, g, adjoint=not adjoint)
    if skip_input(0):
        return None, gb
    ga = -linalg_ops.matmul(c, gb, adjoint_b=True) if adjoint else -linalg_ops.matmul(gb, c, adjoint_b=True)
    return ga, gb


def _tri_solve(x, r):
    """x @ inv(r)^H (r upper triangular)."""
    return linalg_ops.matmul(x, linalg_ops.inv(r), adjoint_b=True)


def _qr_square_or_tall(q, r, dq, dr):
    qdq = linalg_ops.matmul(q, dq, adjoint_a=True)
    qdq_ = qdq - _adj(qdq)
    rdr = linalg_ops.matmul(r, dr, adjoint_b=True)
    rdr_ = rdr - _adj(rdr)
    tril = linalg_ops.band_part(qdq_ + rdr_, -1, 0)
    grad_a = linalg_ops.matmul(q, dr + _tri_solve(tril, r))
    grad_b = _tri_solve(dq - linalg_ops.matmul(q, qdq), r)
    return grad_a + grad_b


@register_gradient("qr", replayable=True)
def _qr(inputs, attrs, outputs, dq, dr):
    (a,) = inputs
    q, r = outputs
    dq = array_ops.zeros_like(q) if dq is None else dq
    dr = array_ops.zeros_like(r) if dr is None else dr
    m, n = shape(a)[-2:]
    if m >= n:
        if attrs["full_matrices"] and m > n:
            raise ValueError(
                "qr gradient: defined only for full_matrices=False when the matrix has more rows than "
                f"columns (input {shape(a)}); TensorFlow has the same restriction"
            )
        return (_qr_square_or_tall(q, r, dq, dr),)
    # Wide matrices: a = [x | y] with x square, as TF's QrGrad.
    y = a[..., :, m:]
    u = r[..., :, :m]
    dv = dr[..., :, m:]
    du = dr[..., :, :m]
    dy = linalg_ops.matmul(q, dv)
    dx = _qr_square_or_tall(q, u, dq + linalg_ops.matmul(y, dv, adjoint_b=True), du)
    return (array_ops.concat([dx, dy], axis=-1),)


def _safe_reciprocal(x, eps=1e-20):
    return x * math_ops.reciprocal(x * x + eps)


def _off_diagonal_inverse_gaps(e):
    """f[i, j] = 1 / (e[j] - e[i]) off the diagonal, 0 on it."""
    gaps = array_ops.expand_dims(e, -2) - array_ops.expand_dims(e, -1)
    f = _safe_reciprocal(gaps)
    return f - linalg_ops.diag(linalg_ops.diag_part(f))


@register_gradient("self_adjoint_eig", replayable=True)
def _self_adjoint_eig(inputs, attrs, outputs, grad_e, grad_v):
    e, v = outputs
    inner = 0.0
    if grad_e is not None:
        inner = linalg_ops.diag(math_ops.cast(grad_e, v.dtype))
    if grad_v is not None:
        f = math_ops.cast(_off_diagonal_inverse_gaps(e), v.dtype)
        inner = inner + f * linalg_ops.matmul(v, grad_v, adjoint_a=True)
    grad_a = linalg_ops.matmul(v, linalg_ops.matmul(inner, v, adjoint_b=True))
    # The kernel reads the lower triangle only.
    grad_a = linalg_ops.band_part(grad_a + _adj(grad_a), -1, 0)
    return (_set_half_diag(grad_a),)


@register_gradient("svd", replayable=True)
def _svd(inputs, attrs, outputs, grad_s, grad_u, grad_v):
    (a,) = inputs
    s, u, v = outputs
    grad_s = array_ops.zeros_like(s) if grad_s is None else grad_s
    if grad_u is None and grad_v is None:
        # Only singular values used: a = u s v^H gives u diag(ds) v^H.
        k = shape(s)[-1]
        return (
            linalg_ops.matmul(
                u[..., :, :k] * math_ops.cast(array_ops.expand_dims(grad_s, -2), u.dtype),
                v[..., :, :k],
                adjoint_b=True,
            ),
        )
    grad_u = array_ops.zeros_like(u) if grad_u is None else grad_u
    grad_v = array_ops.zeros_like(v) if grad_v is None else grad_v
    m, n = shape(a)[-2:]
    if attrs["full_matrices"] and m != n:
        raise ValueError(
            f"svd gradient: defined only for full_matrices=False or square matrices (input {shape(a)})"
        )
    if m > n:  # work on the adjoint so that m <= n
        m, n = n, m
        u, v = v, u
        grad_u, grad_v = grad_v, grad_u
    s_mat = linalg_ops.diag(math_ops.cast(s, u.dtype))
    grad_s_mat = linalg_ops.diag(math_ops.cast(grad_s, u.dtype))
    f = math_ops.cast(_off_diagonal_inverse_gaps(math_ops.square(s)), u.dtype)
    v1, grad_v1 = v[..., :, :m], grad_v[..., :, :m]
    f_u = f * linalg_ops.matmul(u, grad_u, adjoint_a=True)
    f_v = f * linalg_ops.matmul(v1, grad_v1, adjoint_a=True)
    term1_nouv = (
        grad_s_mat + linalg_ops.matmul(f_u + _adj(f_u), s_mat) + linalg_ops.matmul(s_mat, f_v + _adj(f_v))
    )
    grad_a = linalg_ops.matmul(u, linalg_ops.matmul(term1_nouv, v1, adjoint_b=True))
    if m != n:
        gv1t = _adj(grad_v1)
        term2_nous = gv1t - linalg_ops.matmul(linalg_ops.matmul(gv1t, v1), v1, adjoint_b=True)
        s_inv = linalg_ops.diag(math_ops.cast(_safe_reciprocal(s), u.dtype))
        grad_a = grad_a + linalg_ops.matmul(linalg_ops.matmul(u, s_inv), term2_nous)
    if shape(a)[-2] > shape(a)[-1]:
        grad_a = _adj(grad_a)
    return (grad_a,)


# ---------------------------------------------------------------- structure
@register_gradient("matrix_diag", replayable=True)
def _matrix_diag(inputs, attrs, y, g):
    return (execute(OPS["matrix_diag_part"], (g,), {"k": attrs["k"]}),)


@register_gradient("matrix_diag_part", replayable=True)
def _matrix_diag_part(inputs, attrs, y, g):
    rows, cols = shape(inputs[0])[-2:]
    pad = g.dtype.np_dtype.type(0).item()
    return (
        execute(
            OPS["matrix_diag"],
            (g,),
            {"k": attrs["k"], "num_rows": rows, "num_cols": cols, "padding_value": pad},
        ),
    )


@register_gradient("matrix_band_part", replayable=True)
def _matrix_band_part(inputs, attrs, y, g):
    return (execute(OPS["matrix_band_part"], (g,), attrs),)
