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

