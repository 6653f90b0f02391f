"""Compile every CUDA kernel into the kernel cache ahead of time; no GPU needed.

    python -m gputensor.precompile --arch sm_80,sm_90

NVRTC runs on the CPU, so a Docker build stage or a workstation can pay the
compile time once instead of on the first training step. The cache lives in
``GPUTENSOR_CACHE_DIR`` (default ``~/.cache/gputensor/kernels``); its keys cover the
source, included headers, options, architecture and NVRTC version.
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gputensor.precompile", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--arch", default="sm_80,sm_90", help="comma-separated targets, e.g. sm_80,sm_90")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="compile this many units at once (processes)"
    )
    args = parser.parse_args(argv)
    from gputensor.backend.cuda import compile as kcompile

    if kcompile.cache_dir() is None:
        print(
            "precompile: the kernel cache directory is not writable; set GPUTENSOR_CACHE_DIR", file=sys.stderr
        )
        return 2
    sources = kcompile.all_sources()
    archs = [a.strip() for a in args.arch.split(",") if a.strip()]
    start = time.perf_counter()
    work = [(src, arch) for arch in archs for src in sources]
    if args.jobs > 1:
        # Processes, not threads: each unit is seconds of CPU-bound NVRTC work.
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(args.jobs) as pool:
            for i, key in enumerate(pool.map(_compile_one, work), 1):
                if not args.quiet:
                    print(f"[{i}/{len(work)}] {key}", flush=True)
    else:
        for i, item in enumerate(work, 1):
            key = _compile_one(item)
            if not args.quiet:
                print(f"[{i}/{len(work)}] {key}", flush=True)
    total = len(sources) * len(archs)
    print(f"precompiled {total} units into {kcompile.cache_dir()} in {time.perf_counter() - start:.1f}s")
    return 0


def _compile_one(item: tuple) -> str:
    from gputensor.backend.cuda import compile as kcompile

    source, arch = item
    kcompile.cached_cubin(source, arch)
    return f"{arch} {source.key}"


if __name__ == "__main__":
    sys.exit(main())
