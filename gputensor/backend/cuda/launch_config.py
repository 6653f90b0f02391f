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
