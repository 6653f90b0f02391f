"""Launch configurations, one function per kernel family.

The CUDA backend and the CPU execution harness both launch through these, so a
kernel is always tested with the grid and block it runs with on a GPU.
"""

from __future__ import annotations

ELEMENTWISE_BLOCK = 256
# Enough blocks to fill every SM of an H100 (132 SMs x 16 resident blocks of 256)
# several times over; beyond that the grid-stride loop does the rest.
MAX_GRID = 8192


def elementwise(n: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(grid, block) for a grid-stride elementwise kernel over n elements."""
    blocks = max(1, min(MAX_GRID, (n + ELEMENTWISE_BLOCK - 1) // ELEMENTWISE_BLOCK))
    return (blocks, 1, 1), (ELEMENTWISE_BLOCK, 1, 1)


# Threads that share one reduction in the conv family's per-block reductions (a multiple of
# 32, as gt::block_sum requires; 256 keeps 8 warps busy on a reduction of a few thousand terms).
CONV_REDUCE_BLOCK = 256


def conv(n: int, block_reduction: bool = False) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(grid, block) for the conv family: a grid-stride loop over n elements, or one block per
    reduction for each of n reductions (block_reduction; blocks stride over the reductions)."""
    if block_reduction:
        return (max(1, min(MAX_GRID, n)), 1, 1), (CONV_REDUCE_BLOCK, 1, 1)
    return elementwise(n)


def pool(n: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(grid, block) for the pool family: a grid-stride loop over n output (or input) elements."""
    return elementwise(n)


def copy(n: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(grid, block) for the copy family and the global-memory sort stages: grid-stride over n elements."""
    return elementwise(n)


# Elements per compaction tile: one per thread of a block, so a tile's flags are scanned
# by one block_exclusive_scan.
INDEX_TILE = 256
# The tile-offset scan runs in one block; 1024 threads (the most a block has) take the
# fewest passes over the tile counts.
INDEX_SCAN_BLOCK = 1024


def index(n: int, tiles: bool = False) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(grid, block) for the index family: grid-stride over n elements, or (tiles) one block
    per INDEX_TILE-element tile of n elements, blocks striding over the tiles."""
    if tiles:
        return (max(1, min(MAX_GRID, -(-n // INDEX_TILE))), 1, 1), (INDEX_TILE, 1, 1)
    return elementwise(n)


def index_scan() -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(grid, block) of the single-block scan of tile counts."""
    return (1, 1, 1), (INDEX_SCAN_BLOCK, 1, 1)


# Longest (power-of-two padded) row sorted in shared memory: 4096 * (8-byte key + 4-byte
# index) = 48 KiB, the dynamic shared memory a kernel gets without opting in to more.
SHARED_SORT_LIMIT = 4096
# unique also keeps a slot per element: 2048 * (8 + 4 + 4) bytes fits the same 48 KiB.
UNIQUE_LIMIT = 2048


def sort(rows: int, padded: int, key_bytes: int, int_arrays: int = 1) -> tuple[tuple, int]:
    """((grid, block), dynamic shared bytes) for the shared-memory sort: a block per row
    (blocks stride over rows), one thread per compare-exchange pair up to 1024. Shared
    memory holds ``int_arrays`` int32 arrays of ``padded`` entries, then the keys from the
    next 8-byte boundary (sort.cu shared_keys)."""
    threads = min(1024, max(32, padded // 2))
    ints = -(-padded * 4 * int_arrays // 8) * 8
    return ((max(1, min(MAX_GRID, rows)), 1, 1), (threads, 1, 1)), ints + padded * key_bytes


# ------------------------------------------------------------ reduce and softmax families
# Threads per block of every reduction layout; must equal GT_REDUCE_THREADS in
# cuda_kernels/gt_reduce.cuh (the kernels size their shared scratch with it).
REDUCE_BLOCK = 256
# Rows up to this long go one warp per row: a block per row would leave most of its
# 256 threads without an element.
WARP_ROW_LIMIT = 1024
Config = tuple[tuple[int, int, int], tuple[int, int, int]]


def reduction_layout(reduced: int, inner: int) -> str:
    """The layout for an (outer, reduced, inner) reduction: "block", "warp" or "cols"."""
    if inner > 1:
        return "cols"
    return "warp" if reduced <= WARP_ROW_LIMIT else "block"


def reduction_transposes(outer: int, reduced: int, inner: int) -> bool:
    """True when an (outer, reduced, inner) reduction is faster after a transpose to (outer*inner, reduced).

    A 32-column tile with only a few real columns idles most lanes and reads short
    segments, and a handful of tiles over long columns leaves most SMs idle; for long
    columns one gather pass plus a (split) row reduction wins.
    """
    if inner <= 1:
        return False
    few_tiles = outer * -(-inner // 32) < SPLIT_BELOW_ROWS // 4
    return (inner < 32 and reduced >= 256) or (few_tiles and reduced >= SEGMENT_MIN)


# Fewer rows than this, each at least two segments long, split into segments reduced by
# a block each (stage 1) and combined per row (stage 2): a block per row would leave most
# SMs of a GPU idle (a full reduction is a single row).
SPLIT_BELOW_ROWS = 256
# Elements per stage-1 block: enough work per block to pay for the second launch.
SEGMENT_MIN = 16384
# Stage 1 aims at this many blocks in all (several per SM on current GPUs).
SPLIT_TARGET_BLOCKS = 1024
# Bytes of one stage-1 partial (the largest accumulator: an ArgAcc<double>).
PARTIAL_BYTES = 16


def reduction_segments(outer: int, reduced: int, inner: int) -> int:
    """Segments per row of a two-stage row reduction; 1 means a single stage."""
    if inner != 1 or outer >= SPLIT_BELOW_ROWS or reduced < 2 * SEGMENT_MIN:
        return 1
    return max(1, min(-(-reduced // SEGMENT_MIN), -(-SPLIT_TARGET_BLOCKS // outer)))


def reduction(layout: str, outer: int, reduced: int, inner: int) -> Config:
    """(grid, block) for a reduction layout of gt_reduce.cuh; blocks stride over what is left."""
    if layout in ("block", "segments"):
        units = outer
    elif layout == "warp":
        units = -(-outer // (REDUCE_BLOCK // 32))
    else:
        units = outer * -(-inner // 32)
    return (max(1, min(MAX_GRID, units)), 1, 1), (REDUCE_BLOCK, 1, 1)


def scan_transposes(outer: int, reduced: int, inner: int) -> bool:
    """True when a scan along a middle axis should run on transposed rows instead.

    The column kernel walks each column with one thread: with few columns and long
    ones, that is a long chain of dependent loads on a few threads; two gathers and a
    block-parallel row scan are far faster.
    """
    return inner > 1 and outer * inner < 4 * REDUCE_BLOCK and reduced >= REDUCE_BLOCK


def random(units: int) -> Config:
    """(grid, block) of a random kernel: a grid-stride loop over ``units`` Philox blocks or elements."""
    return elementwise(units)


def linalg(n: int) -> Config:
    """(grid, block) of the structural linalg kernels: a grid-stride loop over n output words."""
    return elementwise(n)
