"""Kernel sources, NVRTC options and the on-disk cubin cache.

Everything that decides what is compiled lives here, so the CUDA backend, the
build check in the test suite, ``python -m gputensor.precompile`` and the CPU
execution harness (tests/cuda_harness) all see the same sources and options.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# cuda_kernels/ sits beside the package in a source checkout and is installed as
# package data (gputensor/cuda_kernels) in a wheel.
_PKG = Path(__file__).resolve().parents[2]
INCLUDE_DIR = next(
    (p for p in (_PKG / "cuda_kernels", _PKG.parent / "cuda_kernels") if p.is_dir()),
    _PKG.parent / "cuda_kernels",
)

ARCHS = ("sm_80", "sm_90")


@dataclass(frozen=True)
class KernelSource:
    """One compilation unit.

    Attributes:
      family: the kernel family ("elementwise", "reduce", ...), a file in cuda_kernels/.
      key: unique name of this unit (e.g. "ew_add").
      code: the full CUDA C++ source; it may ``#include`` headers from cuda_kernels/.
      names: the ``extern "C"`` ``__global__`` kernels it defines (unique across all units).
    """

    family: str
    key: str
    code: str
    names: tuple[str, ...]


def cuda_include_dirs() -> list[str]:
    """Directories holding cuda_fp16.h/cuda_bf16.h: the nvidia-cuda-runtime wheel, CUDA_PATH, /usr/local/cuda."""
    found = []
    for base in sys.path:
        for sub in ("nvidia/cu13/include", "nvidia/cuda_runtime/include", "nvidia/cu12/include"):
            p = Path(base) / sub
            if (p / "cuda_fp16.h").is_file():
                found.append(str(p))
    for env in ("CUDA_PATH", "CUDA_HOME"):
        if os.environ.get(env):
            found.append(os.path.join(os.environ[env], "include"))
    found.append("/usr/local/cuda/include")
    return [d for d in dict.fromkeys(found) if os.path.isfile(os.path.join(d, "cuda_fp16.h"))]


def nvrtc_options(arch: str) -> tuple[str, ...]:
    """NVRTC options for one target architecture (e.g. "sm_90")."""
    opts = [f"--gpu-architecture={arch}", "-std=c++17", "-DGT_NVRTC=1", f"-I{INCLUDE_DIR}"]
    opts += [f"-I{d}" for d in cuda_include_dirs()[:1]]
    return tuple(opts)


def _headers_digest() -> str:
    h = hashlib.sha256()
    for p in sorted(INCLUDE_DIR.glob("*.cuh")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def cache_key(source: KernelSource, arch: str) -> str:
    """Covers the source, every header in cuda_kernels/, the options, the arch and NVRTC's version."""
    h = hashlib.sha256()
    for part in (source.code, _headers_digest(), " ".join(nvrtc_options(arch)), arch, str(nvrtc_version())):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


def nvrtc_version() -> tuple[int, int]:
    from cupy_backends.cuda.libs import nvrtc

    return tuple(nvrtc.getVersion())


def cache_dir() -> Path | None:
    """``GPUTENSOR_CACHE_DIR``, else ``~/.cache/gputensor/kernels``; None when not writable."""
    root = os.environ.get("GPUTENSOR_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gputensor", "kernels"
    )
    try:
        os.makedirs(root, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=root, delete=True)
        probe.close()
    except OSError:
        return None  # read-only home or container: cache in memory only
    return Path(root)


class CompileError(RuntimeError):
    """NVRTC rejected a source; the message carries NVRTC's log."""


def compile_cubin(source: KernelSource, arch: str) -> bytes:
    """Compiles ``source`` for ``arch`` with NVRTC (no GPU needed) and returns the cubin."""
    from cupy_backends.cuda.libs import nvrtc

    prog = nvrtc.createProgram(source.code, f"{source.key}.cu", [], [])
    try:
        try:
            nvrtc.compileProgram(prog, list(nvrtc_options(arch)))
        except Exception as exc:
            log = nvrtc.getProgramLog(prog)
            raise CompileError(f"NVRTC failed on {source.key} for {arch}: {exc}\n{log}") from None
        log = nvrtc.getProgramLog(prog).strip()
        if log and "warning" in log:
            raise CompileError(f"NVRTC warnings in {source.key} for {arch} (treated as errors):\n{log}")
        return nvrtc.getCUBIN(prog)
    finally:
        nvrtc.destroyProgram(prog)


_memory_cache: dict[str, bytes] = {}


def cached_cubin(source: KernelSource, arch: str) -> bytes:
    """The cubin for ``source``, from memory, the disk cache, or a fresh NVRTC compile."""
    key = cache_key(source, arch)
    hit = _memory_cache.get(key)
    if hit is not None:
        return hit
    root = cache_dir()
    path = None if root is None else root / f"{source.key}-{arch}-{key}.cubin"
    if path is not None and path.is_file():
        data = path.read_bytes()
    else:
        data = compile_cubin(source, arch)
        if path is not None:
            # Write to a temporary name and rename, so a crash never leaves half a cubin.
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
    _memory_cache[key] = data
    return data


def all_sources(ops=None) -> list[KernelSource]:
    """Every compilation unit the CUDA backend can launch, with every dtype instantiation.

    Args:
      ops: the op declarations; by default every op of the op table (imported here, at
        call time, since the backend layer does not import the layers above it at import).
    """
    from gputensor.backend.cuda import families

    if ops is None:
        import gputensor  # noqa: F401  (declares every op)
        from gputensor.framework.op_table import OPS

        ops = OPS.values()
    ops = list(ops)
    out: list[KernelSource] = []
    for fam in families.ALL:
        out.extend(fam.sources(ops))
    names = [n for s in out for n in s.names]
    dup = {n for n in names if names.count(n) > 1}
    assert not dup, f"kernel names defined twice: {sorted(dup)}"
    return out


_PTXAS_ENTRY = re.compile(r"Compiling entry function '(\w+)'")
_PTXAS_FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
_PTXAS_USED = re.compile(r"Used (\d+) registers(?:.*?(\d+) bytes smem)?")


def resource_usage(source: KernelSource, arch: str) -> list[dict]:
    """Per kernel of ``source``: registers, static shared memory, stack and spill bytes.

    Compiles with the backend's NVRTC options plus ``--ptxas-options=-v`` (no GPU and no
    cuobjdump needed) and parses ptxas's report from the program log.
    """
    from cupy_backends.cuda.libs import nvrtc

    prog = nvrtc.createProgram(source.code, f"{source.key}.cu", [], [])
    try:
        nvrtc.compileProgram(prog, [*nvrtc_options(arch), "--ptxas-options=-v"])
        log = nvrtc.getProgramLog(prog)
    finally:
        nvrtc.destroyProgram(prog)
    rows: list[dict] = []
    for line in log.splitlines():
        if m := _PTXAS_ENTRY.search(line):
            rows.append({"kernel": m.group(1), "registers": 0, "shared_bytes": 0, "stack_bytes": 0,
                         "spill_store_bytes": 0, "spill_load_bytes": 0})  # fmt: skip
        elif rows and (m := _PTXAS_FRAME.search(line)):
            rows[-1].update(stack_bytes=int(m[1]), spill_store_bytes=int(m[2]), spill_load_bytes=int(m[3]))
        elif rows and (m := _PTXAS_USED.search(line)):
            rows[-1].update(registers=int(m[1]), shared_bytes=int(m[2] or 0))
    return rows
