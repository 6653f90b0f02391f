"""`EmulatedLauncher`: the CUDA backend's Launcher protocol, running kernels on the CPU.

Arrays are NumPy arrays (``xp = numpy``); a kernel is the g++-built library of its
source (see build.py), called through ctypes with the grid, block, dynamic shared
memory and arguments the backend computed, exactly as ``CupyLauncher`` would pass
them to CuPy. Arguments are checked against the kernel's parameter types first,
because a GPU would take a wrong one without complaint and compute garbage.
"""

from __future__ import annotations

import collections
import ctypes
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tests.cuda_harness import build

SCHEDULES = {"forward": 0, "reverse": 1, "random": 2}
_ERRLEN = 4096


class EmulatedLaunchError(RuntimeError):
    """A launch the GPU would reject or that cannot finish (bad configuration, deadlock, __trap)."""


def _schedule_from_env() -> str:
    s = os.environ.get("CUDA_EMU_SCHEDULE", "forward").strip().lower()
    if s not in SCHEDULES:
        raise ValueError(f"CUDA_EMU_SCHEDULE={s!r}: expected one of {sorted(SCHEDULES)}")
    return s


class Library:
    """One loaded kernel library: launch entry point, trampolines and signatures."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.dll = ctypes.CDLL(str(path), mode=ctypes.RTLD_LOCAL)
        self.launch = self.dll.cuda_emu_launch
        self.launch.restype = ctypes.c_int
        self.launch.argtypes = [
            ctypes.c_char_p,
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_uint),
            ctypes.POINTER(ctypes.c_uint),
            ctypes.c_size_t,
            ctypes.POINTER(ctypes.c_void_p),
            ctypes.c_int,
            ctypes.c_ulonglong,
            ctypes.c_char_p,
            ctypes.c_size_t,
        ]
        # dlopen hands every launcher the same copy of a library, so per-launcher
        # settings (schedule, seed) go with each launch; the stack size is per process.
        set_stack = self.dll.cuda_emu_set_stack_kib
        set_stack.argtypes = [ctypes.c_ulonglong]
        set_stack(int(os.environ.get("CUDA_EMU_STACK_KIB", "0")))

    def entry(self, name: str) -> tuple[int, list[str]]:
        tramp = getattr(self.dll, f"cuda_emu_k_{name}", None)
        if tramp is None:
            raise EmulatedLaunchError(
                f'{name}: no such kernel in {self.path.name} (is it extern "C" __global__?)'
            )
        sig = getattr(self.dll, f"cuda_emu_sig_{name}")
        sig.restype = ctypes.c_char_p
        text = sig().decode()
        return ctypes.cast(tramp, ctypes.c_void_p).value, (text.split(",") if text else [])


def _check_arg(kernel: str, i: int, want: str, value: Any) -> None:
    where = f"{kernel}: argument {i}"
    if isinstance(value, np.ndarray):
        if not want.startswith("*"):
            raise TypeError(
                f"{where}: the kernel takes a {want} by value but got an array {value.dtype}{value.shape}"
            )
        pointee = want[1:]
        if pointee != value.dtype.name and pointee != "void" and not pointee.startswith(("struct", "*")):
            raise TypeError(
                f"{where}: the kernel takes a pointer to {pointee} but got an array of {value.dtype.name}; "
                f"on a GPU the kernel would reinterpret the bytes. Cast the array or launch the {value.dtype.name} "
                "instantiation"
            )
        if not value.flags.c_contiguous:
            raise TypeError(
                f"{where}: array of shape {value.shape} with strides {value.strides} is not C-contiguous; raw "
                "kernels ignore strides (CuPy issue 9233), so pass xp.ascontiguousarray(x)"
            )
        return
    if isinstance(value, np.generic):
        if want.startswith("*"):
            raise TypeError(
                f"{where}: the kernel takes a pointer ({want}) but got a scalar {value.dtype.name}"
            )
        if want != value.dtype.name:
            raise TypeError(
                f"{where}: the kernel takes a {want} by value but got {value.dtype.name}; a GPU would read "
                f"the wrong bytes. Pass np.{want}(...)"
                if not want.startswith("struct")
                else f"{where}: the kernel takes a {want[6:]}-byte struct by value, which the harness cannot build "
                f"from a {value.dtype.name} scalar"
            )
        return
    raise TypeError(
        f"{where}: expected a contiguous NumPy array or a NumPy scalar of the parameter's exact type "
        f"({want}), got {type(value).__name__}; CuPy would convert a Python {type(value).__name__} to a "
        "64-bit value, which is wrong for most parameters"
    )


class EmulatedLauncher:
    """Runs CUDA kernels of the backend on the CPU through g++-built libraries.

    Args:
      sanitize: build libraries with AddressSanitizer and UBSan (the process must have
        libasan preloaded; see sanitize.py).
      schedule: order in which a block's threads run between barriers: "forward",
        "reverse" or "random" (default: ``$CUDA_EMU_SCHEDULE`` or "forward").
      seed: seed of the "random" schedule.
    """

    xp = np

    def __init__(self, sanitize: bool = False, schedule: str | None = None, seed: int = 0) -> None:
        self.sanitize = sanitize
        self.schedule = schedule or _schedule_from_env()
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule {self.schedule!r}: expected one of {sorted(SCHEDULES)}")
        self.seed = seed
        self._libraries: dict[Path, Library] = {}
        self._kernels: dict[str, Callable] = {}
        self._lock = threading.Lock()
        self.launch_counts: collections.Counter[str] = collections.Counter()
        self.build_failures: dict[str, BaseException] = {}

    # ------------------------------------------------------------- protocol
    def activate(self) -> None:
        """Nothing to select: there is one emulated device."""

    def address(self, array: np.ndarray) -> int:
        """The host address of an array's first element (what the kernel receives)."""
        return array.ctypes.data

    def upload(self, host: np.ndarray) -> np.ndarray:
        # A copy, as a host-to-device transfer is: a kernel writing to it must not reach the caller's array.
        return np.array(host, copy=True, order="C")

    def download(self, array: np.ndarray) -> np.ndarray:
        return np.array(array, copy=True)

    def free_cached_blocks(self) -> None:
        """No memory pool to release: arrays are NumPy's."""

    def memory_info(self) -> dict[str, int]:
        page = os.sysconf("SC_PAGE_SIZE")
        return {
            "pool_used_bytes": 0,
            "pool_total_bytes": 0,
            "free_bytes": int(os.sysconf("SC_AVPHYS_PAGES") * page),
            "total_bytes": int(os.sysconf("SC_PHYS_PAGES") * page),
        }

    def prebuild(self, sources: list, include_dir: str | os.PathLike, jobs: int | None = None) -> None:
        """Compiles every source not yet in the cache, in parallel; failures surface at launch."""
        units = build.units_from_sources(sources, include_dir)
        self.build_failures.update(build.build_all(units, self.sanitize, jobs))

    def library(self, unit: build.Unit) -> Library:
        failure = self.build_failures.get(unit.key)
        if failure is not None:
            raise failure
        path = build.build(unit, self.sanitize)
        lib = self._libraries.get(path)
        if lib is None:
            lib = Library(path)
            self._libraries[path] = lib
        return lib

    def kernel(self, source: Any, name: str) -> Callable:
        """The launch function ``fn(grid, block, args, shared_mem=0)`` of kernel ``name`` in ``source``."""
        fn = self._kernels.get(name)
        if fn is not None:
            return fn
        from gputensor.backend.cuda.compile import INCLUDE_DIR

        return self.unit_kernel(
            build.Unit(source.key, source.code, tuple(source.names), str(INCLUDE_DIR)), name
        )

    def unit_kernel(self, unit: build.Unit, name: str) -> Callable:
        """As `kernel`, for a `build.Unit` (the harness's own test kernels use other include dirs)."""
        with self._lock:
            fn = self._kernels.get(name)
            if fn is not None:
                return fn
            if name not in unit.names:
                raise EmulatedLaunchError(f"{name}: not among the kernels source {unit.key!r} declares")
            fn = self._make_launch(self.library(unit), name)
            self._kernels[name] = fn
        return fn

    def _make_launch(self, lib: Library, name: str) -> Callable:
        entry, sig = lib.entry(name)
        cname = name.encode()
        counts = self.launch_counts
        schedule = SCHEDULES[self.schedule]

        def launch(grid: tuple, block: tuple, args: tuple, shared_mem: int = 0) -> None:
            if len(args) != len(sig):
                raise TypeError(
                    f"{name}: the kernel takes {len(sig)} arguments ({', '.join(sig)}), got {len(args)}"
                )
            keep, ptrs = [], (ctypes.c_void_p * max(1, len(args)))()
            for i, (want, value) in enumerate(zip(sig, args)):
                _check_arg(name, i, want, value)
                if isinstance(value, np.ndarray):
                    cell = ctypes.c_void_p(value.ctypes.data)
                    keep.append(cell)
                    ptrs[i] = ctypes.addressof(cell)
                else:
                    cell = np.array(value)  # 0-d: holds the scalar's bytes at its exact width
                    keep.append(cell)
                    ptrs[i] = cell.ctypes.data
            g = (ctypes.c_uint * 3)(*_dims(name, "grid", grid))
            b = (ctypes.c_uint * 3)(*_dims(name, "block", block))
            err = ctypes.create_string_buffer(_ERRLEN)
            counts[name] += 1
            # Each launch of the random schedule gets its own, reproducible, order.
            seed = (self.seed * 1_000_003 + counts.total()) % 2**64
            rc = lib.launch(cname, entry, g, b, int(shared_mem), ptrs, schedule, seed, err, _ERRLEN)
            if rc != 0:
                raise EmulatedLaunchError(err.value.decode(errors="replace"))

        return launch


def _dims(kernel: str, what: str, dims: Any) -> tuple[int, int, int]:
    t = tuple(int(d) for d in (dims if isinstance(dims, (tuple, list)) else (dims,)))
    if not 1 <= len(t) <= 3 or any(d < 0 or d >= 2**32 for d in t):
        raise EmulatedLaunchError(f"{kernel}: {what} {dims!r} must be 1 to 3 dimensions in [0, 2^32)")
    return t + (1,) * (3 - len(t))
