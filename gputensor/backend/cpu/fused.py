"""Fused elementwise chains on the CPU: the chain's ufuncs run in place, one row block at a time.

Run op by op, a chain of n elementwise ops over a large array streams the whole array
through memory n times. Here the output is cut into row blocks of about
`BLOCK_BYTES` each; every member ufunc runs on the block (``out=`` into a scratch
block, or into the block of an intermediate that dies there), so the block stays in
the core's cache across the chain and memory sees each input read and the output
written once. Outputs of `PARALLEL_BYTES` or more split their rows over
`threads()` threads (NumPy releases the GIL in ufunc loops), as TF's intra-op thread
pool does. Results are bit for bit those of the unfused program: the same ufuncs on
the same values in the same order.

We measured NumExpr against this on the 8-op benchmark chain (docs/graphs.md): it was
slower on the 2-core machines here, so the CPU path is plain NumPy.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

# Bytes of one block of one buffer: a few live buffers of this size fit in a core's L2.
BLOCK_BYTES = 512 * 1024
# Outputs of at least this many bytes split their rows over the worker threads (NumPy
# releases the GIL inside ufunc loops); below it a thread handoff costs more than it saves.
PARALLEL_BYTES = 1 << 20
_pool: Any = None
_pool_workers = 0
_pool_lock = threading.Lock()


def threads() -> int:
    """Threads a fused chain may use: ``$GPUTENSOR_CPU_THREADS``, else the cores this process may run on."""
    env = os.environ.get("GPUTENSOR_CPU_THREADS")
    if env:
        return max(1, int(env))
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _executor(n: int) -> Any:
    global _pool, _pool_workers
    with _pool_lock:
        if _pool is None or _pool_workers < n:
            from concurrent.futures import ThreadPoolExecutor

            _pool = ThreadPoolExecutor(n, thread_name_prefix="gputensor-fused")
            _pool_workers = n
        return _pool


def _run_split(part: Callable, arrays: tuple, out: np.ndarray, rows: int, n: int) -> None:
    """``part`` over ``n`` contiguous row ranges: n - 1 on the pool, one on this thread."""
    bounds = [rows * i // n for i in range(n + 1)]
    pool = _executor(n - 1)
    futures = [pool.submit(part, *arrays, out, bounds[i], bounds[i + 1]) for i in range(1, n)]
    part(*arrays, out, bounds[0], bounds[1])
    for f in futures:
        f.result()


def fusable(node: Any) -> bool:
    """A NumPy ufunc node with one output and no attrs whose inputs all have its output's dtype."""
    kernel = node.kernel
    if not isinstance(kernel, np.ufunc) or kernel.nout != 1 or node.attrs:
        return False
    out = node.outputs[0]
    return all(s.dtype == out.dtype for s in node.inputs)


def fused_kernel(chain: Any) -> Callable:
    """A function of the chain's input arrays returning its output array."""
    shape, dtype = tuple(chain.shape), np.dtype(chain.dtype)
    rows, inner = shape[0], math.prod(shape[1:])
    step = min(max(1, rows), max(1, BLOCK_BYTES // max(1, inner * dtype.itemsize)))
    env: dict[str, Any] = {"empty": np.empty, "SHAPE": shape, "DTYPE": dtype, "BLOCK": (step, *shape[1:])}
    n_in = len(chain.inputs)
    # Inputs with the output's leading dim are cut into blocks; the others broadcast whole.
    sliced = [len(s.shape) == len(shape) and s.shape[0] == rows and rows != 1 for s in chain.inputs]
    xs = ", ".join(f"x{k}" for k in range(n_in))
    lines = [f"def part({xs}, out, lo, hi):"]
    body, scratch = [], 0
    last = len(chain.members) - 1
    for j, (member, refs) in enumerate(zip(chain.members, chain.operands)):
        env[f"K{j}"] = member.kernel
        args = [f"s{i}" if kind == "x" and sliced[i] else f"{kind}{i}" for kind, i in refs]
        if j == last:
            target = "o"
        else:
            # An intermediate read only here (every intermediate is) takes the result in place.
            dying = [f"t{i}" for kind, i in refs if kind == "t"]
            if dying:
                target = dying[0]
            else:
                target = f"b{scratch}[:n]"
                scratch += 1
        body.append(f"        t{j} = K{j}({', '.join(args)}, out={target})")
    lines += [f"    b{i} = empty(BLOCK, DTYPE)" for i in range(scratch)]
    lines.append(f"    for r0 in range(lo, hi, {step}):")
    lines.append(f"        r1 = min(r0 + {step}, hi)")
    lines.append("        o = out[r0:r1]")
    lines.append("        n = r1 - r0")
    lines += [f"        s{k} = x{k}[r0:r1]" for k in range(n_in) if sliced[k]]
    lines += body
    workers = min(threads(), rows) if rows * inner * dtype.itemsize >= PARALLEL_BYTES else 1
    lines.append(f"def fused({xs}):")
    lines.append("    out = empty(SHAPE, DTYPE)")
    if workers > 1:
        env["split"] = _run_split
        lines.append(f"    split(part, ({xs}{',' if n_in == 1 else ''}), out, {rows}, {workers})")
    else:
        lines.append(f"    part({xs}, out, 0, {rows})")
    lines.append("    return out")
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<gputensor fused chain {chain.describe()}>", "exec"), env)  # noqa: S102 - generated here
    fn = env["fused"]
    fn.source = source
    return fn
