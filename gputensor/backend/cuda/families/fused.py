"""Fused elementwise chains on the GPU: one generated kernel per chain (graph/fusion.py).

The kernel is written from the op table's CUDA expressions, the same ones the
elementwise family compiles one op at a time: each thread loads its element of every
input once, evaluates the members in order in the compute type (float for
half/bfloat16, so a fused chain rounds to the storage type once, at the end, where
the unfused ops round after each op), and stores the result once. Memory traffic is
one read per input and one write, whatever the chain's length.

Inputs are indexed by how they broadcast to the output: the output's shape (``x[i]``),
one element (``x[0]``), a trailing block of the output's dims (``x[i % m]``, a bias
row), or a host scalar passed by value. Other broadcasts do not fuse (``fusable``).
A ``_v`` twin moves four elements per aligned Vec4 load/store for outputs of at least
``elementwise.VEC_MIN`` elements whose full-shape operands are all aligned.

Each distinct chain source is one compilation unit, compiled with NVRTC and cached
on disk like every kernel (compile.py); under the CPU harness, with g++.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from gputensor.backend.cuda import launch_config
from gputensor.backend.cuda.compile import KernelSource
from gputensor.backend.cuda.ctypes_map import C_TYPE, c_compute, c_type, compute_np
from gputensor.backend.cuda.families.elementwise import _ATTR_C, _VARS, VEC_MIN, _dtype_names


def _broadcast_kind(shape: tuple, out_shape: tuple) -> str | None:
    """How an input of ``shape`` is indexed in an output of ``out_shape``: full, one, mod or None."""
    if tuple(shape) == tuple(out_shape):
        return "full"
    if math.prod(shape) == 1:
        return "one"
    core = list(shape)
    while core and core[0] == 1:
        core.pop(0)
    if tuple(core) == tuple(out_shape[len(out_shape) - len(core) :]):
        return "mod"
    return None


def fusable(node: Any) -> bool:
    """A unary/binary op with a CUDA expression, one dtype throughout, whose inputs broadcast
    as whole trailing blocks (or scalars) of its output."""
    op = node.op
    if op.cuda is None or op.kind not in ("unary", "binary") or op.name == "cast":
        return False
    out = node.outputs[0]
    name = np.dtype(out.dtype).name
    if name not in C_TYPE or name not in _dtype_names(op) or any(k not in _ATTR_C for k in node.attrs):
        return False
    return all(s.dtype == out.dtype and _broadcast_kind(s.shape, out.shape) for s in node.inputs)


def _host_scalar(symbol: Any) -> bool:
    return symbol.node.type == "Const" and isinstance(symbol.node.value, np.generic)


def _literal(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    return repr(float(value))


def chain_source(chain: Any) -> tuple[KernelSource, list[str]]:
    """The compilation unit of ``chain`` and each input's kind (full, one, mod, scalar)."""
    dtype = np.dtype(chain.dtype).name
    s, t = c_type(dtype), c_compute(dtype)
    kinds = ["scalar" if _host_scalar(x) else _broadcast_kind(x.shape, chain.shape) for x in chain.inputs]
    params = []
    for k, kind in enumerate(kinds):
        params.append(f"{t} x{k}" if kind == "scalar" else f"const {s}* __restrict__ x{k}")
    params.append(f"{s}* __restrict__ out")
    params.append("long long n")
    params += [f"long long m{k}" for k, kind in enumerate(kinds) if kind == "mod"]

    def members() -> str:
        lines = []
        for j, (m, refs) in enumerate(zip(chain.members, chain.operands)):
            binds = [
                f"const T {_VARS[p]} = {'v' if kind == 'x' else 't'}{i};" for p, (kind, i) in enumerate(refs)
            ]
            binds += [f"const {_ATTR_C[a]} {a} = {_literal(v)};" for a, v in m.attrs.items()]
            lines.append(f"T t{j}; {{ {' '.join(binds)} t{j} = static_cast<T>({m.op.cuda}); }}")
        return "\n      ".join(lines)

    def load(k: int, kind: str, index: str, vec: bool) -> str:
        if kind == "scalar":
            return f"const T v{k} = x{k};"
        if kind == "full" and vec:
            return f"const T v{k} = gt::to_c(l{k}.v[k]);"
        where = {"full": index, "one": "0", "mod": f"{index} % m{k}"}[kind]
        return f"const T v{k} = gt::to_c(x{k}[{where}]);"

    last = f"t{len(chain.members) - 1}"
    body = members()
    scalar_loads = " ".join(load(k, kind, "i", False) for k, kind in enumerate(kinds))
    digest = hashlib.sha256()
    digest.update(f"{dtype}|{kinds}|{body}".encode())
    name = f"gt_fused_{digest.hexdigest()[:16]}"
    head = f"({', '.join(params)}) {{\n  typedef {t} T;\n"
    scalar = (
        f'extern "C" __global__ void {name}{head}'
        f"  GT_GRID_STRIDE(i, n) {{\n      {scalar_loads}\n      {body}\n"
        f"      out[i] = gt::from_c<{s}>({last});\n  }}\n}}\n"
    )
    vec_arrays = " ".join(
        f"const gt::Vec4<{s}> l{k} = *reinterpret_cast<const gt::Vec4<{s}>*>(x{k} + 4 * q);"
        for k, kind in enumerate(kinds)
        if kind == "full"
    )
    vec_loads = " ".join(load(k, kind, "i", True) for k, kind in enumerate(kinds))
    vector = (
        f'extern "C" __global__ void {name}_v{head}'
        f"  GT_VEC4_STRIDE(q, n) {{\n    {vec_arrays}\n    gt::Vec4<{s}> r;\n#pragma unroll\n"
        f"    for (int k = 0; k < 4; ++k) {{\n      const long long i = 4 * q + k;\n      (void)i;\n"
        f"      {vec_loads}\n      {body}\n      r.v[k] = gt::from_c<{s}>({last});\n    }}\n"
        f"    *reinterpret_cast<gt::Vec4<{s}>*>(out + 4 * q) = r;\n  }}\n"
        f"  GT_VEC4_TAIL(i, n) {{\n      {scalar_loads}\n      {body}\n"
        f"      out[i] = gt::from_c<{s}>({last});\n  }}\n}}\n"
    )
    code = '#include "elementwise.cuh"\n\n' + scalar + "\n" + vector
    return KernelSource("fused", name, code, (name, f"{name}_v")), kinds


def fused_kernel(backend: Any, chain: Any) -> Callable:
    """A function of the chain's input arrays returning its output array, on ``backend``'s GPU."""
    source, kinds = chain_source(chain)
    name = source.names[0]
    dtype = np.dtype(chain.dtype)
    shape = tuple(chain.shape)
    n = math.prod(shape)
    scalar_type = compute_np(dtype.name).type
    mods = tuple(np.int64(math.prod(x.shape)) for x, kind in zip(chain.inputs, kinds) if kind == "mod")
    full = [k for k, kind in enumerate(kinds) if kind == "full"]
    align = 4 * dtype.itemsize
    vector = n >= VEC_MIN
    n64 = np.int64(n)

    def run(*arrays: Any) -> Any:
        out = backend.empty(shape, dtype)
        if n == 0:
            return out
        args = [
            scalar_type(a) if kind == "scalar" else backend.device_array(a) for a, kind in zip(arrays, kinds)
        ]
        if vector and backend.aligned((out, *(args[k] for k in full)), align):
            backend.launch(
                source, f"{name}_v", launch_config.elementwise(-(-n // 4)), (*args, out, n64, *mods)
            )
        else:
            backend.launch(source, name, launch_config.elementwise(n), (*args, out, n64, *mods))
        return out

    run.source = source
    return run
