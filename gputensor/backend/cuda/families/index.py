"""Gather, scatter and compaction kernels (cuda_kernels/index.cu)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from gputensor.backend.cuda import launch_config
from gputensor.backend.cuda.compile import KernelSource
from gputensor.backend.cuda.ctypes_map import C_TYPE, c_type
from gputensor.backend.cuda.families.common import family_file
from gputensor.backend.cuda.families.copy import NUMERIC_DTYPES, WIDTHS

INDEX_DTYPES = {"int32": "int", "int64": "long long"}
SCATTER_OPS = ("add", "sub", "min", "max")


@functools.cache
def source() -> KernelSource:
    """The index compilation unit."""
    lines, names = [family_file("index.cu")], ["gt_index_scan_tiles", "gt_index_unravel"]
    for iname, itype in INDEX_DTYPES.items():
        for size, w in WIDTHS.items():
            lines.append(f"GT_INDEX_MOVE_KERNELS(b{size}, {w}, {iname}, {itype})")
            names += [f"gt_index_{k}_b{size}_{iname}" for k in ("gather", "gather_nd", "scatter_update")]
        for d in NUMERIC_DTYPES:
            lines.append(f"GT_INDEX_SCATTER_KERNELS({d}, {c_type(d)}, {iname}, {itype})")
            names += [f"gt_index_scatter_{op}_{d}_{iname}" for op in SCATTER_OPS]
    for d in C_TYPE:
        lines.append(f"GT_INDEX_COMPACT_KERNELS({d}, {c_type(d)})")
        names += [f"gt_index_count_{d}", f"gt_index_compact_{d}"]
    return KernelSource("index", "index", "\n".join(lines) + "\n", tuple(names))


def sources(ops: list) -> list[KernelSource]:
    return [source()]


def launch(backend: Any, name: str, n: int, args: tuple, tiles: bool = False) -> None:
    if n > 0:
        backend.launch(source(), name, launch_config.index(n, tiles=tiles), args)


def nonzero_positions(backend: Any, x: Any) -> Any:
    """The flat positions (int64, ascending) of the non-zero elements of ``x``.

    Three passes (index.cu): per-tile counts, one block scanning them into tile
    offsets and the total, then each tile writing its positions. The total is read
    back to size the result, as TF's where() must too.
    """
    x = backend.device_array(x)
    n = int(x.size)
    name = np.dtype(x.dtype).name
    tile = launch_config.INDEX_TILE
    tiles = max(1, -(-n // tile))
    offsets = backend.empty((tiles,), np.int64)
    total = backend.empty((1,), np.int64)
    if n == 0:
        return backend.empty((0,), np.int64)
    launch(backend, f"gt_index_count_{name}", n, (x, offsets, np.int64(n)), tiles=True)
    backend.launch(
        source(), "gt_index_scan_tiles", launch_config.index_scan(), (offsets, np.int64(tiles), total)
    )
    count = int(np.asarray(backend.to_host(total))[0])
    positions = backend.empty((count,), np.int64)
    if count:
        launch(backend, f"gt_index_compact_{name}", n, (x, offsets, positions, np.int64(n)), tiles=True)
    return positions
