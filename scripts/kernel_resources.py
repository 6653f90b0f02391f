"""Registers, shared memory, stack and spills of every CUDA kernel, from ptxas's report.

    python scripts/kernel_resources.py --arch sm_90            # every unit
    python scripts/kernel_resources.py --arch sm_80 reduce_sum softmax

Compiles through NVRTC with the backend's options (no GPU needed); kernels that spill
are listed first. Arguments after the options keep only units whose name contains one.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arch", default="sm_90")
    parser.add_argument("units", nargs="*", help="substrings of unit names (e.g. ew_add, reduce_sum)")
    args = parser.parse_args(argv)
    from gputensor.backend.cuda import compile as kcompile

    sources = [s for s in kcompile.all_sources() if not args.units or any(u in s.key for u in args.units)]
    rows = []
    for src in sources:
        rows += [(src.key, r) for r in kcompile.resource_usage(src, args.arch)]
    rows.sort(
        key=lambda kr: (-(kr[1]["spill_store_bytes"] + kr[1]["spill_load_bytes"]), kr[0], kr[1]["kernel"])
    )
    print(f"{'unit':22} {'kernel':48} {'regs':>5} {'smem':>7} {'stack':>6} {'spill st':>9} {'spill ld':>9}")
    for key, r in rows:
        print(
            f"{key:22} {r['kernel']:48} {r['registers']:5d} {r['shared_bytes']:7d} {r['stack_bytes']:6d} "
            f"{r['spill_store_bytes']:9d} {r['spill_load_bytes']:9d}"
        )
    spilling = sum(1 for _, r in rows if r["spill_store_bytes"] or r["spill_load_bytes"])
    print(f"\n{len(rows)} kernels in {len(sources)} units for {args.arch}; {spilling} spill")
    return 0


if __name__ == "__main__":
    sys.exit(main())
