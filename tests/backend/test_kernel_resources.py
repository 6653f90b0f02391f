"""The resource report of scripts/kernel_resources.py: ptxas's figures parsed per kernel."""

from __future__ import annotations

import pytest

pytest.importorskip("cupy_backends.cuda.libs.nvrtc", reason="NVRTC comes with the test extra (cupy)")

from gputensor.backend.cuda import compile as kcompile  # noqa: E402


def _unit(key: str):
    return next(s for s in kcompile.all_sources() if s.key == key)


def test_every_kernel_of_a_unit_is_reported_with_its_registers():
    src = _unit("ew_add")
    rows = kcompile.resource_usage(src, "sm_90")
    assert sorted(r["kernel"] for r in rows) == sorted(src.names)
    assert all(r["registers"] > 0 for r in rows)


def test_block_reductions_report_their_shared_scratch():
    rows = {r["kernel"]: r for r in kcompile.resource_usage(_unit("reduce_sum"), "sm_80")}
    # The block layout keeps one float per thread of the 256-thread block in shared memory.
    assert rows["gt_reduce_sum_float32_block"]["shared_bytes"] >= 256 * 4
    assert (
        rows["gt_reduce_sum_float32_warp"]["shared_bytes"]
        < rows["gt_reduce_sum_float32_block"]["shared_bytes"]
    )
