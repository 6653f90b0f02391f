"""Compiles CUDA kernel sources with g++ into shared libraries that run on the CPU.

A source's code is compiled unchanged, with ``cuda_emu.h`` force-included and the
stand-in CUDA headers of ``include/`` first on the include path, together with two
generated translation units: one that ``#include``s the code and adds an ``extern "C"``
trampoline and signature per kernel name, and one that defines the buffers behind
``extern __shared__`` arrays. Libraries are cached under ``build/`` by a hash of
everything that goes into them, so a test run compiles only what changed.
"""

from __future__ import annotations

import concurrent.futures
import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = HERE / "cuda_emu.h"
STUB_INCLUDE = HERE / "include"
BUILD_DIR = HERE / "build"

# -fwrapv: signed overflow wraps, as the GPU's integer units and NumPy's do; without it
# g++ may assume it never happens and fold comparisons differently from NVCC's code.
COMMON_FLAGS = ("-std=c++17", "-shared", "-fPIC", "-fwrapv", "-fno-strict-aliasing", "-pthread")
FAST_FLAGS = ("-O1",)
# signed-integer-overflow is left out: it is defined (wrapping) under -fwrapv and in
# TensorFlow's integer semantics. Every other UBSan finding aborts the process.
# -O0: these builds exist to find bad accesses, and compile in half the time of -O1.
SANITIZE_FLAGS = (
    "-O0",
    "-g",
    "-fno-omit-frame-pointer",
    "-fsanitize=address,undefined",
    "-fno-sanitize=signed-integer-overflow",
    "-fno-sanitize-recover=all",
)

_EXTERN_SHARED = re.compile(r"extern\s+__shared__\s[^;{}]*?\b([A-Za-z_]\w*)\s*\[\s*\]\s*;")


class BuildError(RuntimeError):
    """g++ rejected a kernel source; the message carries the compiler's output."""


@dataclass(frozen=True)
class Unit:
    """What one library is built from: a kernel source's key, code and kernel names."""

    key: str
    code: str
    names: tuple[str, ...]
    include_dir: str


def compiler() -> str | None:
    """The C++ compiler (``$CXX``, else g++), or None when there is none."""
    return shutil.which(os.environ.get("CXX", "g++"))


@functools.cache
def _compiler_version(cxx: str) -> str:
    return subprocess.run([cxx, "--version"], capture_output=True, text=True, check=False).stdout


def _digest_dir(path: Path) -> bytes:
    h = hashlib.sha256()
    if path.is_dir():
        for p in sorted(path.iterdir()):
            if p.is_file() and p.suffix in (".h", ".cuh", ".hpp", ".inc"):
                h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.digest()


_INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.MULTILINE)


def included_headers(unit: Unit) -> list[Path]:
    """The headers of ``unit.include_dir`` the code includes, directly or through each other."""
    inc, seen, todo = Path(unit.include_dir), {}, [unit.code]
    while todo:
        for name in _INCLUDE.findall(todo.pop()):
            p = inc / name
            if name not in seen and p.is_file():
                seen[name] = p
                todo.append(p.read_text(errors="replace"))
    return [seen[n] for n in sorted(seen)]


def dynamic_shared_names(unit: Unit) -> list[str]:
    """Names declared ``extern __shared__ T name[]`` in the code or a header it includes."""
    texts = [unit.code] + [p.read_text(errors="replace") for p in included_headers(unit)]
    return sorted({m.group(1) for t in texts for m in _EXTERN_SHARED.finditer(t)})


def flags(sanitize: bool) -> tuple[str, ...]:
    return COMMON_FLAGS + (SANITIZE_FLAGS if sanitize else FAST_FLAGS)


def library_path(unit: Unit, sanitize: bool) -> Path:
    """Where the library for ``unit`` is cached; the name changes with anything it is built from."""
    cxx = compiler() or "g++"
    h = hashlib.sha256()
    for part in (
        unit.code.encode(),
        "\0".join(unit.names).encode(),
        # Only the headers the code reaches: an edit to another family's header must not
        # rebuild every library.
        *(p.name.encode() + b"\0" + p.read_bytes() for p in included_headers(unit)),
        HEADER.read_bytes(),
        _digest_dir(STUB_INCLUDE),
        " ".join(flags(sanitize)).encode(),
        _compiler_version(cxx).encode(),
        _kernels_tu(unit).encode(),
        _smem_tu(unit).encode(),
    ):
        h.update(part)
        h.update(b"\0")
    variant = "asan" if sanitize else "fast"
    safe_key = re.sub(r"[^A-Za-z0-9_.-]", "_", unit.key)
    return BUILD_DIR / f"{safe_key}-{variant}-{h.hexdigest()[:20]}.so"


def _kernels_tu(unit: Unit) -> str:
    lines = [f'#include "{_safe(unit.key)}.cu"', ""]
    for name in unit.names:
        lines.append(f'extern "C" void cuda_emu_k_{name}(void** a) {{ ::cuda_emu::invoke({name}, a); }}')
        lines.append(
            f'extern "C" const char* cuda_emu_sig_{name}() {{ return ::cuda_emu::signature({name}); }}'
        )
    lines += [
        'extern "C" int cuda_emu_launch(const char* kernel, void (*entry)(void**), const unsigned* grid,',
        "                               const unsigned* block, size_t shared_mem, void** args, int schedule,",
        "                               unsigned long long seed, char* err, size_t errlen) {",
        "  return ::cuda_emu::launch(kernel, entry, grid, block, shared_mem, args, schedule, seed, err, errlen);",
        "}",
        'extern "C" void cuda_emu_set_stack_kib(unsigned long long kib) { ::cuda_emu::g_stack_kib = kib; }',
        "",
    ]
    return "\n".join(lines)


def _smem_tu(unit: Unit) -> str:
    names = dynamic_shared_names(unit)
    # A separate translation unit: the code declares these with its own element type,
    # which would clash with a definition as bytes in the same unit.
    lines = [f"alignas(256) thread_local unsigned char {n}[CUDA_EMU_MAX_DYNAMIC_SMEM];" for n in names]
    lines.append('extern "C" int cuda_emu_dynamic_smem(unsigned char** out, int max) {')
    lines.append("  int n = 0;")
    for n in names:
        lines.append(f"  if (n < max) out[n++] = {n};")
    lines += ["  return n;", "}", ""]
    return "\n".join(lines)


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _safe(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", key)


def build(unit: Unit, sanitize: bool = False) -> Path:
    """Returns the path of the library for ``unit``, compiling it unless it is cached.

    Raises:
      BuildError: when g++ is missing or rejects the code (the message has its output).
    """
    out = library_path(unit, sanitize)
    if out.is_file():
        return out
    cxx = compiler()
    if cxx is None:
        raise BuildError("cuda_harness: no C++ compiler (g++ or $CXX) found")
    # The generated sources stay beside the library, so file:line in a sanitizer report or an
    # emulator error still points at readable code after the build.
    work = out.with_suffix("")
    work.mkdir(parents=True, exist_ok=True)
    for fname, text in (
        (f"{_safe(unit.key)}.cu", unit.code),
        ("kernels.cpp", _kernels_tu(unit)),
        ("smem.cpp", _smem_tu(unit)),
    ):
        _write_atomic(work / fname, text)
    fd, tmp_name = tempfile.mkstemp(dir=BUILD_DIR, suffix=".so.tmp")
    os.close(fd)
    tmp_out = Path(tmp_name)
    cmd = [
        cxx,
        *flags(sanitize),
        f"-I{STUB_INCLUDE}",
        f"-I{unit.include_dir}",
        "-include",
        str(HEADER),
        str(work / "kernels.cpp"),
        str(work / "smem.cpp"),
        "-o",
        str(tmp_out),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise BuildError(
                f"cuda_harness: g++ could not compile kernel source {unit.key!r} under the CPU emulation "
                f"(cuda_emu.h). Either the kernel uses a CUDA feature the emulator lacks (add it to "
                f"tests/cuda_harness/cuda_emu.h) or the code is wrong. Command: {' '.join(cmd)}\n"
                f"{proc.stderr[-6000:]}"
            )
        # Rename into place, so a crash or a parallel run never sees half a library.
        os.replace(tmp_out, out)
    finally:
        tmp_out.unlink(missing_ok=True)
    return out


def build_all(
    units: Sequence[Unit], sanitize: bool = False, jobs: int | None = None
) -> dict[str, BaseException]:
    """Builds every unit (in parallel, ``jobs`` at a time); returns the failures by key."""
    todo = [u for u in units if not library_path(u, sanitize).is_file()]
    failures: dict[str, BaseException] = {}
    if not todo:
        return failures
    jobs = jobs or max(1, min(len(todo), os.cpu_count() or 1))
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        futures = {pool.submit(build, u, sanitize): u.key for u in todo}
        for fut in concurrent.futures.as_completed(futures):
            exc = fut.exception()
            if exc is not None:
                failures[futures[fut]] = exc
    return failures


def units_from_sources(sources: Iterable, include_dir: str | os.PathLike) -> list[Unit]:
    """Units for KernelSource objects (anything with key, code and names)."""
    return [Unit(s.key, s.code, tuple(s.names), str(include_dir)) for s in sources]
