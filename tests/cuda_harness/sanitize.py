"""Every CUDA kernel of the backend, run on the CPU under AddressSanitizer and UBSan.

Usage (from the repository root)::

    python -m tests.cuda_harness.sanitize              # sweep: every elementwise kernel
    python -m tests.cuda_harness.sanitize --pytest     # also the op test suite on /EMU_GPU:0
    python -m tests.cuda_harness.sanitize --no-sweep --pytest -- tests/ops/test_math_ops.py
    python -m tests.cuda_harness.sanitize --schedule reverse --require-coverage

Kernels are built with ``-fsanitize=address,undefined`` and loaded into this Python
process, which therefore needs libasan preloaded; the module re-executes itself with
``LD_PRELOAD`` and ``ASAN_OPTIONS`` set when it is not. An out-of-bounds access or
undefined behaviour in a kernel ends the process with the sanitizer's report (exit
status 1); a result that differs from the NumPy backend is listed and exits with 1
as well.

The sweep runs each elementwise op of the op table, for every dtype the CUDA backend
instantiates and every layout it launches (flat, broadcast, scalar on either side), on
sizes around the block size (0, 1, 255, 257), a large odd size, and one size past the
grid limit so the grid-stride loop wraps; ``--pytest`` adds every test that takes the
``device`` fixture, on the emulated device, which reaches the other kernel families.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SIZES = (0, 1, 255, 257, 4099)
_ATTR_VALUES = {"alpha": (0.2,), "approximate": (False, True)}
_TOL = {
    "float16": (2e-3, 1e-3),
    "bfloat16": (1.6e-2, 1e-2),
    "float32": (2e-6, 1e-6),
    "float64": (1e-13, 1e-13),
}


def sanitizer_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a process needs to load ASan-built kernel libraries."""
    env = dict(os.environ if base is None else base)
    cxx = os.environ.get("CXX", "g++")
    libasan = subprocess.run(
        [cxx, "-print-file-name=libasan.so"], capture_output=True, text=True
    ).stdout.strip()
    env["LD_PRELOAD"] = " ".join(p for p in (libasan, env.get("LD_PRELOAD", "")) if p)
    # Python never frees some objects by design (detect_leaks=0); pymalloc hides
    # heap errors from ASan (PYTHONMALLOC=malloc); fibers switch stacks, which the
    # use-after-return detector does not follow.
    env["ASAN_OPTIONS"] = "detect_leaks=0:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=0"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    env["PYTHONMALLOC"] = "malloc"
    env["PYTHONUNBUFFERED"] = "1"  # what was printed before a sanitizer ends the process stays visible
    env["CUDA_EMU_SANITIZE"] = "1"
    return env


def _preloaded() -> bool:
    return "libasan" in os.environ.get("LD_PRELOAD", "")


# ------------------------------------------------------------------ the sweep
@dataclass
class Case:
    op: Any
    dtype: str
    layout: str
    inputs: tuple
    attrs: dict = field(default_factory=dict)

    def __str__(self) -> str:
        shapes = ", ".join(
            f"{np.shape(x)} {np.asarray(x).dtype.name}" + (" scalar" if isinstance(x, np.generic) else "")
            for x in self.inputs
        )
        return f"{self.op.name}[{self.dtype}, {self.layout}]({shapes}){' ' + str(self.attrs) if self.attrs else ''}"


def _np_dtype(name: str) -> np.dtype:
    if name == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def random_array(
    rng: np.random.Generator, dtype: str, shape: tuple, op_name: str = "", role: int = 0
) -> np.ndarray:
    """Random values of ``dtype`` inside the domain where op ``op_name`` is defined on both backends."""
    dt = _np_dtype(dtype)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dt.kind in "iu":
        lo, hi = (0, 100) if dt.kind == "u" else (-50, 50)
        if op_name == "pow":
            lo, hi = (0, 4) if role == 1 else ((0, 6) if dt.kind == "u" else (-5, 6))
        a = rng.integers(lo, hi, size=shape).astype(dt)
        if op_name in ("floordiv", "floormod") and role == 1:
            a[a == 0] = 1  # integer division by zero raises on the CPU and yields 0 on a GPU
        return a
    return (rng.standard_normal(shape) * 3).astype(dt)


def elementwise_cases(ops: list, rng: np.random.Generator, sizes: tuple = SIZES) -> Iterator[Case]:
    """One case per (op, dtype, layout, attribute value, size) the backend instantiates."""
    from gputensor.backend.cuda.ctypes_map import C_TYPE, GPU_DTYPES

    for op in ops:
        if op.cuda is None or op.kind not in ("unary", "binary", "ternary"):
            continue
        dtypes = GPU_DTYPES if op.dtypes is None else sorted(d.name for d in op.dtypes if d.name in C_TYPE)
        for attrs in _attr_choices(op):
            for dtype in dtypes:
                yield from _layouts(op, dtype, attrs, rng, sizes)


def _attr_choices(op: Any) -> list[dict]:
    from gputensor.backend.cuda.ctypes_map import GPU_DTYPES

    choices: list[dict] = [{}]
    for a in op.attrs:
        values = tuple(_np_dtype(d) for d in GPU_DTYPES) if a == "dtype" else _ATTR_VALUES[a]
        choices = [{**c, a: v} for c in choices for v in values]
    return choices


def _layouts(op: Any, dtype: str, attrs: dict, rng: np.random.Generator, sizes: tuple) -> Iterator[Case]:
    n_in = {"unary": 1, "binary": 2, "ternary": 3}[op.kind]

    def arr(shape: tuple, role: int) -> np.ndarray:
        if op.kind == "ternary" and role == 0:
            return random_array(rng, "bool", shape)
        return random_array(rng, dtype, shape, op.name, role)

    for n in sizes:
        yield Case(op, dtype, "flat", tuple(arr((n,), r) for r in range(n_in)), attrs)
    if n_in == 1:
        return
    for rows, cols in ((1, 1), (3, 85), (17, 61)):
        shapes = [(rows, 1), (1, cols), (rows, cols)][:n_in]
        yield Case(op, dtype, "bcast", tuple(arr(s, r) for r, s in enumerate(shapes)), attrs)
    if op.kind == "binary":
        for n in sizes:
            yield Case(op, dtype, "sr", (arr((n,), 0), arr((), 1)[()]), attrs)
            yield Case(op, dtype, "sl", (arr((), 0)[()], arr((n,), 1)), attrs)


def compare(case: Case, got: np.ndarray, want: np.ndarray) -> str | None:
    """None when the emulated GPU's result matches the NumPy backend's, else what differs."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape or got.dtype != want.dtype:
        return f"{case}: GPU gave {got.shape} {got.dtype}, NumPy backend {want.shape} {want.dtype}"
    if got.dtype.kind in "biu":
        bad = np.flatnonzero(got.ravel() != want.ravel())
    else:
        rtol, atol = _TOL.get(got.dtype.name, (0, 0))
        g, w = got.astype(np.float64).ravel(), want.astype(np.float64).ravel()
        close = np.isclose(g, w, rtol=rtol, atol=atol, equal_nan=True) | (g == w)
        bad = np.flatnonzero(~close)
    if bad.size == 0:
        return None
    i = int(bad[0])
    ins = ", ".join(str(np.asarray(x).ravel()[i % max(1, np.size(x))]) for x in case.inputs)
    return (
        f"{case}: {bad.size} of {got.size} elements differ; first at flat index {i}: GPU {got.ravel()[i]!r}, "
        f"NumPy backend {want.ravel()[i]!r} (inputs there: {ins})"
    )


def run_cases(gpu: Any, cpu: Any, cases: Iterator[Case], verbose: bool = False) -> tuple[int, list[str]]:
    """Runs each case on both devices; returns (cases run, failure messages)."""
    failures, count = [], 0
    for case in cases:
        count += 1
        if verbose:
            print(case, flush=True)
        with np.errstate(all="ignore"):
            want = cpu.kernel(case.op)(*case.inputs, **case.attrs)
            try:
                out = gpu.kernel(case.op)(*(_to_device(gpu, x) for x in case.inputs), **case.attrs)
            except Exception as exc:  # reported with the case, the sweep goes on
                failures.append(f"{case}: the CUDA backend raised {type(exc).__name__}: {exc}")
                continue
        msg = compare(case, gpu.backend.to_host(out), want)
        if msg:
            failures.append(msg)
    return count, failures


def _to_device(gpu: Any, x: Any) -> Any:
    return x if isinstance(x, np.generic) else gpu.backend.from_host(np.asarray(x))


def grid_stride_cases(ops: list, rng: np.random.Generator) -> Iterator[Case]:
    """add/float32 and cast/int8 on a size past the largest grid, so every thread loops."""
    from gputensor.backend.cuda import launch_config

    n = launch_config.MAX_GRID * launch_config.ELEMENTWISE_BLOCK + 4097
    by_name = {op.name: op for op in ops}
    yield Case(by_name["add"], "float32", "flat", (random_array(rng, "float32", (n,)),) * 2)
    yield Case(
        by_name["cast"], "int8", "flat", (random_array(rng, "int8", (n,)),), {"dtype": np.dtype("float16")}
    )


# ----------------------------------------------------------------- self-test
def selftest(kernel: str) -> None:
    """Launches one deliberately faulty kernel of test_kernels/ (the sanitizer must stop it)."""
    from tests.cuda_harness.test_kernels import CHECKS, launcher_for

    launch = launcher_for(sanitize=True).unit_kernel(CHECKS, kernel)
    if kernel == "off_by_one":
        n = 1000
        x, y = np.ones(n, np.float32), np.empty(n, np.float32)
        launch((4, 1, 1), (256, 1, 1), (x, y, np.int64(n)))
    elif kernel == "smem_overflow":
        launch((1, 1, 1), (64, 1, 1), (np.empty(64, np.float32),), 64 * 4)
    else:
        raise SystemExit(f"unknown self-test kernel {kernel!r}")
    print(f"selftest {kernel}: the fault was NOT detected")


# ----------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.cuda_harness.sanitize", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--schedule", choices=("forward", "reverse", "random"), default=None)
    parser.add_argument("--pytest", action="store_true", help="also run the op tests on /EMU_GPU:0")
    parser.add_argument("--no-sweep", action="store_true", help="skip the elementwise sweep")
    parser.add_argument("--ops", default="", help="comma-separated op names to sweep (default: all)")
    parser.add_argument("--require-coverage", action="store_true", help="fail if a kernel was never launched")
    parser.add_argument(
        "--selftest", default="", help="launch a faulty test kernel (off_by_one, smem_overflow)"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("pytest_args", nargs="*", help="with --pytest: test paths/options (default: tests)")
    args = parser.parse_args(argv)

    if not _preloaded():
        env = sanitizer_env()
        if args.schedule:
            env["CUDA_EMU_SCHEDULE"] = args.schedule
        cmd = [sys.executable, "-m", "tests.cuda_harness.sanitize", *(sys.argv[1:] if argv is None else argv)]
        return subprocess.run(cmd, env=env, check=False).returncode
    if args.schedule:
        os.environ["CUDA_EMU_SCHEDULE"] = args.schedule
    # The device is made without the blanket pre-build; below, only what this run launches is built.
    os.environ["CUDA_EMU_PREBUILD"] = "0"
    if args.selftest:
        selftest(args.selftest)
        return 2

    import gputensor  # noqa: F401  (declares every op)
    from gputensor.backend import registry
    from gputensor.framework.op_table import OPS
    from tests.cuda_harness import all_sources, emulated_device

    gpu = emulated_device(sanitize=True)
    if gpu is None:
        print("sanitize: no emulated GPU (g++ or gputensor/backend/cuda missing)", file=sys.stderr)
        return 1
    launcher = gpu.backend.launcher
    from gputensor.backend.cuda.compile import INCLUDE_DIR

    sources = all_sources()
    if not args.pytest:
        sources = [s for s in sources if s.family == "elementwise"]
    if args.ops:
        sources = [s for s in sources if any(s.key.endswith("_" + o) for o in args.ops.split(","))]
    launcher.prebuild(sources, INCLUDE_DIR)
    if launcher.build_failures:
        for key, exc in sorted(launcher.build_failures.items()):
            print(f"BUILD FAILED {key}: {exc}", file=sys.stderr)
        return 1
    cpu = registry.lookup("/CPU:0")
    ops = [op for op in OPS.values() if not args.ops or op.name in args.ops.split(",")]
    rng = np.random.default_rng(20261125)
    failures: list[str] = []
    if not args.no_sweep:
        count, failures = run_cases(gpu, cpu, elementwise_cases(ops, rng), args.verbose)
        if not args.ops:
            c2, f2 = run_cases(gpu, cpu, grid_stride_cases(ops, rng), args.verbose)
            count, failures = count + c2, failures + f2
        print(f"sanitize: {count} elementwise cases, {len(failures)} mismatches")
    rc = 0
    if args.pytest:
        import pytest

        # Without arguments: every test, on the emulated device only; with them, exactly what was asked.
        targets = args.pytest_args or ["tests", "--ignore=tests/cuda_harness", "-k", "EMU_GPU"]
        # --capture=sys: pytest must leave file descriptor 2 alone, or a sanitizer report
        # (written straight to it just before the process exits) would vanish with it.
        rc = pytest.main([*targets, "-q", "-p", "no:cacheprovider", "--capture=sys"])
        rc = 0 if rc in (0, 5) else 1  # 5: no test selected
    names = sorted(n for s in (all_sources() if args.pytest else sources) for n in s.names)
    missed = [n for n in names if launcher.launch_counts[n] == 0]
    print(f"sanitize: {len(names) - len(missed)} of {len(names)} kernels launched")
    if missed and (args.verbose or args.require_coverage):
        print("never launched: " + ", ".join(missed))
    for msg in failures:
        print("MISMATCH " + msg)
    if failures or rc or (missed and args.require_coverage):
        return 1
    print("sanitize: OK (no sanitizer report, results match the NumPy backend)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
