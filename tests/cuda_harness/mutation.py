"""Mutation testing of the kernels: does the suite notice a planted bug?

Usage (from the repository root)::

    python -m tests.cuda_harness.mutation M2_reduce_block_missing_sync -- \\
        python -m pytest -q -x -k EMU_GPU tests/backend/test_cuda_reduce.py
    python -m tests.cuda_harness.mutation baseline -- python -m pytest ...   # same, unmutated

It exports the committed tree (``git archive HEAD``) into a throwaway directory,
applies one mutation there (a string replacement that must match exactly once) and
runs the command in that directory. Nothing in the repository is touched, so a
mutation can never be committed by accident. The harness's build cache is shared
through hard links (it only ever gains files), so only the sources a mutation
changes are rebuilt. The exit status is the command's; README.md records the runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# name -> (file, text before, text after)
MUTATIONS: dict[str, tuple[str, str, str] | None] = {
    "baseline": None,
    "M1_grid_stride_le": (
        "cuda_kernels/gt_common.cuh",
        "for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n);",
        "for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i <= (n);",
    ),
    "M2_reduce_block_missing_sync": (
        "cuda_kernels/gt_reduce.cuh",
        "    if (lane == 0) scratch[warp] = a;\n    __syncthreads();\n",
        "    if (lane == 0) scratch[warp] = a;\n",
    ),
    "M3_reduce_cols_missing_trailing_sync": (
        "cuda_kernels/gt_reduce.cuh",
        "r = f.combine(r, scratch[k * GT_WARP + lane]);\n    __syncthreads();\n",
        "r = f.combine(r, scratch[k * GT_WARP + lane]);\n",
    ),
    "M4_window_inside_le": (
        "cuda_kernels/window.cuh",
        "y >= 0 && y < h && x >= 0 && x < w",
        "y >= 0 && y <= h && x >= 0 && x < w",
    ),
    "M5_block_sum_missing_sync": (
        "cuda_kernels/gt_block.cuh",
        "  if (lane == 0) partial[warp] = v;\n  __syncthreads();\n",
        "  if (lane == 0) partial[warp] = v;\n",
    ),
    "M7_vec4_tail_le": (
        "cuda_kernels/gt_common.cuh",
        "for (long long i = (n) / 4 * 4 + (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n);",
        "for (long long i = (n) / 4 * 4 + (long long)blockIdx.x * blockDim.x + threadIdx.x; i <= (n);",
    ),
    "M6_scan_missing_trailing_sync": (
        "cuda_kernels/reduce.cuh",
        "    carry = chunk_total;\n    __syncthreads();  // warp_total is rewritten by the next chunk\n",
        "    carry = chunk_total;\n",
    ),
}


def export_tree(dest: Path) -> None:
    """The committed tree of the repository, plus hard links to the harness's build cache."""
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "HEAD"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    cache, theirs = ROOT / "tests/cuda_harness/build", dest / "tests/cuda_harness/build"
    theirs.mkdir(parents=True, exist_ok=True)
    for lib in cache.glob("*.so"):
        try:
            os.link(lib, theirs / lib.name)
        except OSError:
            pass  # renamed away meanwhile, or another file system: it is rebuilt if needed


def apply(tree: Path, name: str) -> None:
    """Applies mutation ``name`` inside ``tree``.

    Raises:
      ValueError: when the text to replace does not occur exactly once (the kernel changed).
    """
    spec = MUTATIONS[name]
    if spec is None:
        return
    path, before, after = spec
    f = tree / path
    text = f.read_text()
    if text.count(before) != 1:
        raise ValueError(
            f"{name}: expected the text to mutate exactly once in {path}, found it {text.count(before)} times; "
            "update MUTATIONS in tests/cuda_harness/mutation.py"
        )
    f.write_text(text.replace(before, after))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.cuda_harness.mutation", description=__doc__.split("\n")[0]
    )
    parser.add_argument("mutation", choices=sorted(MUTATIONS))
    parser.add_argument(
        "command", nargs=argparse.REMAINDER, help="-- then the command to run in the mutated tree"
    )
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    tree = Path(tempfile.mkdtemp(prefix=f"gt-mutation-{args.mutation}-"))
    try:
        export_tree(tree / "repo")
        apply(tree / "repo", args.mutation)
        env = dict(os.environ, CUDA_EMU_PREBUILD="0")  # rebuild only what the command launches
        print(f"[{args.mutation}] $ {' '.join(command)}", flush=True)
        return subprocess.run(command, cwd=tree / "repo", env=env, check=False).returncode
    finally:
        shutil.rmtree(tree, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
