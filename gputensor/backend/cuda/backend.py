"""The CUDA backend: kernels from cuda_kernels/ launched through a Launcher.

A Launcher owns the array module and kernel loading: `CupyLauncher` runs on a real
GPU through CuPy; tests/cuda_harness has an emulated one that runs the same
kernels, compiled with g++, on the CPU. Everything here allocates through
`self.xp` and launches through `self.launcher`, so the same glue runs on both.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import numpy as np

from gputensor.errors import InvalidArgumentError, ResourceExhaustedError, UnimplementedError

_MISSING = object()
_COMPLEX = frozenset({np.dtype(np.complex64), np.dtype(np.complex128)})


class CudaBackend:
    """Runs ops on one physical GPU (or the CPU-emulated one in tests)."""

    name = "cuda"

    def __init__(self, launcher: Any, device_id: int) -> None:
        self.launcher = launcher
        self.xp = launcher.xp
        self.device_id = device_id
        self._kernels: dict[str, Callable] = {}
        self._constants: dict[bytes, Any] = {}

    # ------------------------------------------------------------- kernel table
    def kernel_table(self) -> dict[str, Callable]:
        return self._kernels

    def make_kernel(self, op: Any) -> Callable:
        from gputensor.backend.cuda import families

        fn = self._device_kernel(op)
        if op.name in families.COMPLEX_ON_DEVICE:
            return fn
        if op.dtypes is None or any(d.is_complex for d in op.dtypes):
            return self._with_host_fallback(op, fn)
        return fn

    def _device_kernel(self, op: Any) -> Callable:
        from gputensor.backend.cuda import families

        if op.cuda is not None:
            return families.elementwise.make(op, self)
        for fam in families.ALL:
            factory = fam.KERNELS.get(op.name)
            if factory is not None:
                return factory(self)
        raise UnimplementedError(
            f"{op.name}: no CUDA kernel is registered for this op; run it on the CPU with "
            "`with gt.device('/CPU:0'):`",
            op.name,
        )

    def _with_host_fallback(self, op: Any, device_fn: Callable) -> Callable:
        """Runs complex-dtype calls of ``op`` with the NumPy kernel on host copies.

        The kernels in cuda_kernels/ cover the real dtypes only. As TF's soft device
        placement runs an op without a GPU kernel on the CPU, a complex call here copies
        its inputs to the host, runs the CPU backend's kernel and uploads the result, so
        the tensor stays on this device (docs/ARCHITECTURE.md, "Complex dtypes on GPU").
        """
        from gputensor.backend.cpu import CpuBackend

        host_fn = CpuBackend().kernel_table().get(op.name)
        if host_fn is None:
            return device_fn

        def run(*arrays: Any, **attrs: Any) -> Any:
            for a in arrays:
                if getattr(a, "dtype", None) in _COMPLEX:
                    break
            else:
                if not (attrs and _any_complex(attrs.values())):
                    return device_fn(*arrays, **attrs)
            out = host_fn(*(self._to_host_arg(a) for a in arrays), **attrs)
            if isinstance(out, tuple):
                return tuple(self._from_host_result(o) for o in out)
            return self._from_host_result(out)

        return run

    def _to_host_arg(self, value: Any) -> Any:
        return (
            value
            if isinstance(value, (np.ndarray, np.generic)) or not hasattr(value, "dtype")
            else self.to_host(value)
        )

    def _from_host_result(self, value: Any) -> Any:
        if isinstance(value, (np.ndarray, np.generic)):
            return self.from_host(np.asarray(value))
        return value

    def launch(self, source: Any, name: str, config: tuple, args: tuple, shared_mem: int = 0) -> None:
        grid, block = config
        self.launcher.activate()
        self.launcher.kernel(source, name)(grid, block, args, shared_mem)

    # ------------------------------------------------------------------ memory
    def empty(self, shape: Any, dtype: Any) -> Any:
        """Allocates on the device; on out-of-memory frees cached blocks, collects, retries once."""
        try:
            return self.xp.empty(shape, dtype=dtype)
        except MemoryError:
            pass
        except Exception as exc:  # cupy.cuda.memory.OutOfMemoryError is not a MemoryError
            if "OutOfMemory" not in type(exc).__name__:
                raise
        self.launcher.free_cached_blocks()
        gc.collect()
        try:
            return self.xp.empty(shape, dtype=dtype)
        except Exception as exc:
            if not isinstance(exc, MemoryError) and "OutOfMemory" not in type(exc).__name__:
                raise
            requested = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
            info = self.launcher.memory_info()
            raise ResourceExhaustedError(
                f"OOM when allocating tensor with shape {tuple(np.atleast_1d(shape))} and type "
                f"{np.dtype(dtype).name} on GPU:{self.device_id}: requested {requested} bytes, "
                f"{info.get('free_bytes', 'unknown')} bytes free, pool holds "
                f"{info.get('pool_total_bytes', 'unknown')} bytes. Free tensors (dispose(), gt.tidy) "
                "or use a smaller batch",
                requested_bytes=requested,
                free_bytes=info.get("free_bytes"),
            ) from None

    def aligned(self, arrays: tuple, nbytes: int) -> bool:
        """True when every array's data pointer is a multiple of ``nbytes``."""
        address = self.launcher.address
        return all(address(a) % nbytes == 0 for a in arrays)

    def contiguous(self, array: Any) -> Any:
        # RawKernel ignores strides (CuPy issue 9233): every kernel input is made C-contiguous.
        # (ascontiguousarray would also turn a 0-d array into 1-d, so it is called only when needed.)
        if isinstance(array, np.generic):
            array = np.asarray(array)
        return array if array.flags.c_contiguous else self.xp.ascontiguousarray(array)

    def device_array(self, value: Any) -> Any:
        """A C-contiguous device array for a kernel input (uploading host scalars)."""
        if isinstance(value, (np.generic, np.ndarray)) and self.xp is not np:
            return self.launcher.upload(_host_contiguous(value))
        return self.contiguous(value)

    def constant_array(self, host: np.ndarray) -> Any:
        """A small read-only device array (shape/stride tables), uploaded once per distinct value."""
        key = host.dtype.str.encode() + host.tobytes()
        arr = self._constants.get(key)
        if arr is None:
            if len(self._constants) > 4096:
                self._constants.clear()
            arr = self.launcher.upload(_host_contiguous(host))
            self._constants[key] = arr
        return arr

    # ---------------------------------------------------------------- transfer
    def from_host(self, array: np.ndarray) -> Any:
        if array.dtype == object:
            # String tensors live on the CPU only; execute() catches this and runs the op there.
            raise InvalidArgumentError("string tensors cannot be copied to a GPU; they live on the CPU")
        self.launcher.activate()
        return self.launcher.upload(_host_contiguous(array))

    def to_host(self, array: Any) -> Any:
        if isinstance(array, (np.ndarray, np.generic)):
            return array
        return self.launcher.download(array)

    def transfer(self, array: Any, source_backend: Any) -> Any:
        if source_backend is self:
            return array
        if isinstance(array, np.generic):
            return array  # Python-scalar operands stay host scalars; kernels take them by value
        host = source_backend.to_host(array)
        return self.from_host(np.asarray(host))

    def scalar(self, value: Any, np_dtype: np.dtype) -> Any:
        return np_dtype.type(value)

    def memory_info(self, physical_index: int) -> dict[str, int]:
        return self.launcher.memory_info()

    # ------------------------------------------------------------------ fusion
    def fusable(self, node: Any) -> bool:
        """Whether graph node ``node`` may join a fused elementwise chain (graph/fusion.py)."""
        from gputensor.backend.cuda.families import fused

        return fused.fusable(node)

    def fused_kernel(self, chain: Any) -> Callable:
        """One generated kernel running a fused chain (graph/fusion.py FusedChain)."""
        from gputensor.backend.cuda.families import fused

        return fused.fused_kernel(self, chain)


def _any_complex(values: Any) -> bool:
    """True when an array among ``values`` is complex, or a dtype attribute names a complex type."""
    for v in values:
        dt = v if isinstance(v, np.dtype) or hasattr(v, "as_numpy_dtype") else getattr(v, "dtype", None)
        if dt is None:
            continue
        try:
            if np.dtype(getattr(dt, "as_numpy_dtype", dt)).kind == "c":
                return True
        except TypeError:
            continue
    return False


def _host_contiguous(value: Any) -> np.ndarray:
    arr = np.asarray(value)
    return arr if arr.flags.c_contiguous else np.ascontiguousarray(arr)
