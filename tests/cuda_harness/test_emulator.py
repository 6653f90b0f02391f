"""Tests of the CUDA emulator itself, on the small kernels of test_kernels/emu_checks.cu.

References are NumPy formulas of what the CUDA Programming Guide specifies (shuffle
source lanes, vote masks, IEEE half/bfloat16 rounding as NumPy and ml_dtypes do it).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from tests.cuda_harness import build

pytestmark = pytest.mark.skipif(build.compiler() is None, reason="the CPU harness needs g++")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def k():
    """k(name, schedule="forward") -> launch function of a test kernel."""
    from tests.cuda_harness.test_kernels import CHECKS, launcher_for

    return lambda name, schedule="forward": launcher_for(schedule=schedule).unit_kernel(CHECKS, name)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


# ------------------------------------------------------------------ barriers
@pytest.mark.parametrize("schedule", ["forward", "reverse", "random"])
@pytest.mark.parametrize("block,n", [(32, 1), (64, 1000), (256, 100003), (1024, 5000), (128, 0)])
def test_tree_reduction_with_barriers_matches_numpy_sum(k, rng, schedule, block, n):
    x = rng.random(n).astype(np.float32)
    grid = 7
    partial = np.zeros(grid, np.float32)
    k("tree_sum", schedule)((grid, 1, 1), (block, 1, 1), (x, partial, np.int64(n)))
    np.testing.assert_allclose(partial.sum(dtype=np.float64), x.sum(dtype=np.float64), rtol=1e-5)


@pytest.mark.parametrize("schedule", ["forward", "random"])
def test_tree_reduction_missing_barrier_gives_wrong_sum(k, rng, schedule):
    x = rng.random(64 * 256).astype(np.float32) + 1.0
    partial = np.zeros(64, np.float32)
    k("tree_sum_racy", schedule)((64, 1, 1), (256, 1, 1), (x, partial, np.int64(x.size)))
    assert abs(partial.sum(dtype=np.float64) - x.sum(dtype=np.float64)) > 0.1 * x.sum()


@pytest.mark.parametrize("schedule", ["forward", "reverse", "random"])
def test_neighbour_read_after_barrier_sees_neighbours_store(k, rng, schedule):
    n, block = 1000, 128
    x = rng.integers(-1000, 1000, n).astype(np.int32)
    y = np.zeros(n, np.int32)
    k("neighbour_shift", schedule)(
        ((n + block - 1) // block, 1, 1), (block, 1, 1), (x, y, np.int32(n), np.int32(1))
    )
    padded = np.zeros(8 * block, np.int32)
    padded[:n] = x
    want = np.roll(padded.reshape(8, block), -1, axis=1).ravel()[:n]
    np.testing.assert_array_equal(y, want)


def test_neighbour_read_without_barrier_sees_stale_shared_memory(k, rng):
    n, block = 1024, 128
    x = rng.integers(1, 1000, n).astype(np.int32)
    y = np.zeros(n, np.int32)
    k("neighbour_shift")((n // block, 1, 1), (block, 1, 1), (x, y, np.int32(n), np.int32(0)))
    want = np.roll(x.reshape(-1, block), -1, axis=1).ravel()
    assert (y != want).mean() > 0.5


@pytest.mark.parametrize("n", [1, 100, 255, 256])
def test_threads_that_returned_do_not_hold_up_a_barrier(k, rng, n):
    x = rng.integers(0, 1000, 256).astype(np.int32)
    y = np.full(256, -1, np.int32)
    k("early_exit_barrier")((1, 1, 1), (256, 1, 1), (x, y, np.int32(n)))
    np.testing.assert_array_equal(y[:n], np.roll(x[:n], -1))
    assert (y[n:] == -1).all()


def test_random_schedule_is_reproducible_per_seed_and_varies_between_launches(rng):
    from tests.cuda_harness.launcher import EmulatedLauncher
    from tests.cuda_harness.test_kernels import CHECKS

    x = rng.random(8 * 256).astype(np.float32)

    def racy_sums(seed):
        launch = EmulatedLauncher(schedule="random", seed=seed).unit_kernel(CHECKS, "tree_sum_racy")
        out = []
        for _ in range(3):
            partial = np.zeros(8, np.float32)
            launch((8, 1, 1), (256, 1, 1), (x, partial, np.int64(x.size)))
            out.append(partial)
        return np.array(out)

    first, again, other = racy_sums(1), racy_sums(1), racy_sums(2)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first[0], first[1]) and not np.array_equal(first, other)


def test_syncthreads_count_and_or_reduce_the_predicate_over_the_block(k):
    for pred in (np.zeros(96, np.int32), np.ones(96, np.int32), (np.arange(96) % 3 == 0).astype(np.int32)):
        out = np.zeros(3, np.int32)
        k("syncthreads_reductions")((1, 1, 1), (96, 1, 1), (pred, out))
        np.testing.assert_array_equal(out, [np.count_nonzero(pred), pred.all(), pred.any()])


def test_syncthreads_in_divergent_code_is_reported_as_deadlock(k):
    from tests.cuda_harness.launcher import EmulatedLaunchError

    with pytest.raises(
        EmulatedLaunchError,
        match=r"(?s)deadlock.*16 thread.*__syncthreads \(.*emu_checks\.cu:(\d+)\).*16 thread.*emu_checks\.cu:(?!\1)\d+",
    ):
        k("divergent_barrier")((1, 1, 1), (32, 1, 1), (np.zeros(32, np.int32),))


# ------------------------------------------------------------------ warp collectives
def _shfl_reference(x: np.ndarray, delta: int, width: int) -> np.ndarray:
    """Source lane of each shuffle kind per the CUDA Programming Guide, applied to x."""
    lane = np.arange(x.size) % 32
    base = np.arange(x.size) - lane
    seg = lane - lane % width
    idx = seg + delta % width
    up = np.where(lane % width >= delta, lane - delta, lane)
    down = np.where(lane % width + delta < width, lane + delta, lane)
    xor = lane ^ delta
    xor = np.where(xor < seg + width, xor, lane)  # later segments are out of reach
    sums = np.repeat(x.reshape(-1, 32).sum(axis=1).astype(np.int32), 32)  # int32 adds wrap
    return np.stack([x[base + idx], x[base + up], x[base + down], x[base + xor], sums])


SHUFFLE_CASES = [(1, 32), (3, 32), (31, 32), (0, 32), (2, 16), (5, 8), (1, 4), (1, 2), (17, 32), (6, 16)]


@pytest.mark.parametrize("delta,width", SHUFFLE_CASES)
def test_shuffles_read_the_lane_cuda_specifies(k, rng, delta, width):
    x = rng.integers(-(2**31), 2**31 - 1, 64, dtype=np.int64).astype(np.int32)
    out = np.zeros((5, 64), np.int32)
    k("shuffles")((1, 1, 1), (64, 1, 1), (x, out, np.int32(delta), np.int32(width)))
    np.testing.assert_array_equal(out, _shfl_reference(x, delta, width))


def test_shuffles_move_64_bit_and_half_values_bit_exactly(k, rng):
    d = rng.standard_normal(32)
    h = rng.standard_normal(32).astype(np.float16)
    dout, hout = np.zeros(32), np.zeros(32, np.float16)
    k("shuffle_wide")((1, 1, 1), (32, 1, 1), (d, h, dout, hout))
    np.testing.assert_array_equal(dout, np.append(d[1:], d[31]))
    np.testing.assert_array_equal(hout.view(np.uint16), h.view(np.uint16).reshape(16, 2)[:, ::-1].ravel())


@pytest.mark.parametrize("pattern", ["zeros", "ones", "alternate", "random"])
def test_votes_and_match_any_follow_the_lane_predicates(k, rng, pattern):
    n = 64
    x = {
        "zeros": np.zeros(n, np.int32),
        "ones": np.ones(n, np.int32),
        "alternate": (np.arange(n) % 2).astype(np.int32),
        "random": rng.integers(0, 3, n).astype(np.int32),
    }[pattern]
    out = np.zeros((5, n), np.uint32)
    k("votes")((1, 1, 1), (n, 1, 1), (x, out))
    warps = (x != 0).reshape(-1, 32)
    ballot = (warps * (1 << np.arange(32, dtype=np.uint64))).sum(axis=1).astype(np.uint32)
    np.testing.assert_array_equal(out[0], np.repeat(ballot, 32))
    np.testing.assert_array_equal(out[1], np.repeat(warps.any(axis=1), 32))
    np.testing.assert_array_equal(out[2], np.repeat(warps.all(axis=1), 32))
    xw = x.reshape(-1, 32)
    match = [
        sum(1 << m for m in range(32) if xw[w, m] == xw[w, lane])
        for w in range(n // 32)
        for lane in range(32)
    ]
    np.testing.assert_array_equal(out[3], np.array(match, dtype=np.uint64).astype(np.uint32))
    np.testing.assert_array_equal(out[4], np.repeat(xw.sum(axis=1), 32).astype(np.uint32))


@pytest.mark.parametrize("spread", [0, 999, 5000], ids=["all equal", "same thousand", "mixed"])
def test_match_all_reductions_and_activemask_follow_their_definitions(k, rng, spread):
    x = (
        (rng.integers(-spread, spread + 1, 64) + 3000).astype(np.int32)
        if spread
        else np.full(64, 7, np.int32)
    )
    out = np.zeros((8, 64), np.int32)
    k("more_collectives")((1, 1, 1), (64, 1, 1), (x, out))
    w = x.reshape(2, 32)
    same = (w // 1000 == w[:, :1] // 1000).all(axis=1)
    np.testing.assert_array_equal(out[0], np.repeat(np.where(same, -1, 0), 32))  # 0xffffffff or 0
    np.testing.assert_array_equal(out[1], np.repeat(same, 32))
    np.testing.assert_array_equal(out[2], np.repeat(w.min(axis=1), 32))
    np.testing.assert_array_equal(out[3], np.repeat(w.max(axis=1), 32))
    u = w.view(np.uint32)
    np.testing.assert_array_equal(out[4].view(np.uint32), np.repeat(np.bitwise_and.reduce(u, axis=1), 32))
    np.testing.assert_array_equal(out[5].view(np.uint32), np.repeat(np.bitwise_or.reduce(u, axis=1), 32))
    np.testing.assert_array_equal(out[6].view(np.uint32), np.repeat(np.bitwise_xor.reduce(u, axis=1), 32))
    np.testing.assert_array_equal(out[7], -1)


def test_atomic_cas_loop_and_half_atomic_add(k, rng):
    x = rng.standard_normal(3001).astype(np.float32)
    mx, hsum = np.array([-np.inf], np.float32), np.zeros(1, np.float16)
    k("cas_float_max")((4, 1, 1), (128, 1, 1), (x, np.int32(x.size), mx, hsum))
    assert mx[0] == x.max()
    assert hsum[0] == np.float16(2048)  # 3001 increments of 1 stall where half spacing reaches 2


@pytest.mark.parametrize("block", [32, 96, 256, 1024])
def test_block_reduction_with_collectives_in_warp_zero_only(k, rng, block):
    x = rng.random(3001).astype(np.float32)
    out = np.zeros(1, np.float32)
    k("block_sum_warp0")((1, 1, 1), (block, 1, 1), (x, out, np.int32(x.size)))
    np.testing.assert_allclose(out[0], x.sum(dtype=np.float64), rtol=1e-5)


def test_shuffle_from_a_lane_that_does_not_exist_reads_garbage(k, rng):
    # A 48-thread block: lanes 16..31 of warp 1 do not exist, so the full-mask
    # shuffle-down reads undefined values there, as on a GPU; the emulator makes them NaN.
    x = rng.random(100).astype(np.float32)
    out = np.zeros(1, np.float32)
    k("block_sum_warp0")((1, 1, 1), (48, 1, 1), (x, out, np.int32(x.size)))
    assert np.isnan(out[0])


@pytest.mark.parametrize("live", [1, 5, 31, 32])
def test_lanes_that_returned_do_not_hold_up_a_full_mask_shuffle(k, rng, live):
    x = rng.integers(0, 100, 32).astype(np.int32)
    out = np.full(32, -7, np.int32)
    k("shuffle_after_exit")((1, 1, 1), (32, 1, 1), (x, out, np.int32(live)))
    np.testing.assert_array_equal(out, np.where(np.arange(32) < live, x[0], -7))


@pytest.mark.parametrize("mode", [1, 2], ids=["default mask", "full mask"])
def test_syncwarp_orders_shared_memory_exchange_within_a_warp(k, rng, mode):
    x = rng.integers(0, 1000, 64).astype(np.int32)
    y = np.zeros(64, np.int32)
    k("warp_exchange")((1, 1, 1), (64, 1, 1), (x, y, np.int32(mode)))
    np.testing.assert_array_equal(y, x[np.arange(64) ^ 1])


def test_warp_exchange_without_syncwarp_reads_stale_values(k, rng):
    x = rng.integers(1000, 2000, 64).astype(np.int32)
    y = np.zeros(64, np.int32)
    k("warp_exchange")((1, 1, 1), (64, 1, 1), (x, y, np.int32(0)))
    assert (y != x[np.arange(64) ^ 1]).any()


def test_collective_waiting_for_lanes_at_a_barrier_is_reported_as_deadlock(k):
    from tests.cuda_harness.launcher import EmulatedLaunchError

    pattern = r"(?s)deadlock.*16 thread.*__shfl_sync mask 0xffffffff.*16 thread.*__syncthreads"
    with pytest.raises(EmulatedLaunchError, match=pattern):
        k("collective_vs_barrier")((1, 1, 1), (32, 1, 1), (np.zeros(32, np.int32),))


def test_collective_whose_mask_excludes_the_caller_is_an_error(k):
    from tests.cuda_harness.launcher import EmulatedLaunchError

    with pytest.raises(
        EmulatedLaunchError, match=r"__shfl_sync: the calling lane 1 is not in mask 0x00000001"
    ):
        k("bad_mask")((1, 1, 1), (32, 1, 1), (np.zeros(32, np.int32),))


# ------------------------------------------------------------------ atomics, shared memory, grids
def test_atomics_of_every_width_return_old_values_and_accumulate(k, rng):
    n = 5003
    x = rng.integers(0, 1_000_000, n).astype(np.int32)
    hist, mx, mn = np.zeros(16, np.int32), np.array([-1], np.int32), np.array([2**32 - 1], np.uint32)
    fsum, dsum, usum = np.zeros(1, np.float32), np.zeros(1), np.zeros(1, np.uint64)
    lmax, winner, exch = np.array([-(2**62)], np.int64), np.array([-1], np.int32), np.zeros(1, np.int32)
    args = (x, np.int32(n), hist, mx, mn, fsum, dsum, usum, lmax, winner, exch)
    k("atomics")((5, 1, 1), (128, 1, 1), args)
    np.testing.assert_array_equal(hist, np.bincount(x % 16, minlength=16))
    assert mx[0] == x.max() and mn[0] == x.min() and usum[0] == x.astype(np.uint64).sum()
    assert dsum[0] == x.astype(np.float64).sum()
    np.testing.assert_allclose(fsum[0], x.astype(np.float64).sum(), rtol=1e-5)
    assert lmax[0] == x.astype(np.int64).max() * 1000000007
    assert 0 <= winner[0] < n and exch[0] == 7


@pytest.mark.parametrize("n,block", [(1000, 128), (1, 64), (4096, 1024), (129, 32)])
def test_dynamic_shared_memory_holds_a_block_tile(k, rng, n, block):
    x = rng.standard_normal(n).astype(np.float32)
    y = np.zeros(n, np.float32)
    grid = (n + block - 1) // block
    k("reverse_in_blocks")((grid, 1, 1), (block, 1, 1), (x, y, np.int32(n)), block * 4)
    want = np.concatenate([x[i : i + block][::-1] for i in range(0, n, block)])
    np.testing.assert_array_equal(y, want)


@pytest.mark.parametrize(
    "grid,block,n",
    [
        ((3, 2, 2), (8, 4, 2), 10007),
        ((1, 1, 1), (1, 1, 1), 5),
        ((2, 1, 1), (32, 2, 1), 0),
        ((5, 3, 1), (7, 3, 5), 999),
    ],
)
def test_grid_stride_loop_over_3d_grid_and_block_visits_each_element_once(k, rng, grid, block, n):
    x, y = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    want = np.float32(1.5) * x + y
    k("saxpy_2d")(grid, block, (np.float32(1.5), x, y, np.int64(n)))
    np.testing.assert_array_equal(y, want)


def test_threads_of_two_os_threads_launch_concurrently_without_interference(k, rng):
    xs = [rng.random(50_000).astype(np.float32) for _ in range(4)]
    outs = [np.zeros(16, np.float32) for _ in range(4)]

    def run(i):
        k("tree_sum")((16, 1, 1), (256, 1, 1), (xs[i], outs[i], np.int64(xs[i].size)))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for x, out in zip(xs, outs):
        np.testing.assert_allclose(out.sum(dtype=np.float64), x.sum(dtype=np.float64), rtol=1e-5)


# ------------------------------------------------------------------ types and intrinsics
SPECIAL_FLOATS = np.array(
    [0.0, -0.0, 1.0, -1.0, 65504.0, 65519.99, 65520.0, 1e6, np.inf, -np.inf, np.nan, 6.1e-5, 5.96e-8, 2.98e-8,
     2.99e-8, 1e-10, 1.0009765625, 1.00048828125, 1.00146484375, 3.0e38, 1.1754944e-38, 0.1, 1 / 3],
    dtype=np.float32,
)  # fmt: skip


def test_half_and_bfloat16_conversions_round_like_numpy_and_ml_dtypes(k, rng):
    import ml_dtypes

    x = np.concatenate([SPECIAL_FLOATS, rng.standard_normal(4000).astype(np.float32) * 1000,
                        rng.standard_normal(1000).astype(np.float32) * 1e-6])  # fmt: skip
    n = x.size
    h, b = np.zeros(n, np.float16), np.zeros(n, ml_dtypes.bfloat16)
    back_h, back_b = np.zeros(n, np.float32), np.zeros(n, np.float32)
    k("conversions")((4, 1, 1), (256, 1, 1), (x, h, b, back_h, back_b, np.int32(n)))
    with np.errstate(over="ignore"):  # 1e6 and 3e38 overflow to inf in half, as they should
        want_h, want_b = x.astype(np.float16), x.astype(ml_dtypes.bfloat16)
    finite = ~np.isnan(x)
    np.testing.assert_array_equal(h.view(np.uint16)[finite], want_h.view(np.uint16)[finite])
    np.testing.assert_array_equal(b.view(np.uint16)[finite], want_b.view(np.uint16)[finite])
    assert np.isnan(h[~finite]).all() and np.isnan(b[~finite].astype(np.float32)).all()
    np.testing.assert_array_equal(back_h, want_h.astype(np.float32))
    np.testing.assert_array_equal(back_b[finite], want_b.astype(np.float32)[finite])


def test_float4_vector_loads_and_make_float4(k, rng):
    x = rng.standard_normal(4 * 301).astype(np.float32)
    y = np.zeros_like(x)
    k("scale_float4")((2, 1, 1), (128, 1, 1), (x, y, np.float32(-2.5), np.int32(301)))
    np.testing.assert_array_equal(y, np.float32(-2.5) * x)


def test_float_intrinsics_match_their_definitions(k, rng):
    ties = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.49, -3.51], np.float32)
    x = np.concatenate([ties, rng.uniform(-20, 20, 500).astype(np.float32)])
    y = np.concatenate([np.ones(ties.size, np.float32), rng.uniform(0.5, 4, 500).astype(np.float32)])
    n = x.size
    out, iout = np.zeros((5, n), np.float32), np.zeros((4, n), np.int32)
    k("float_intrinsics")((2, 1, 1), (256, 1, 1), (x, y, out, iout, np.int32(n)))
    np.testing.assert_allclose(out[0], np.exp(x.astype(np.float64)), rtol=2e-6)
    np.testing.assert_allclose(out[1], x / y, rtol=2e-7)
    np.testing.assert_array_equal(out[2], (x.astype(np.float64) * y + 1).astype(np.float32))  # one rounding
    np.testing.assert_array_equal(out[3], np.clip(x, 0, 1))
    np.testing.assert_array_equal(out[4], np.maximum(x, y))
    np.testing.assert_array_equal(iout[0], np.rint(x))  # ties to even
    np.testing.assert_array_equal(iout[1], np.trunc(x))
    np.testing.assert_array_equal(iout[2], np.floor(x))
    np.testing.assert_array_equal(iout[3], np.minimum(np.ceil(x), 7))


def test_mul64hi_gives_the_high_half_of_the_128_bit_product(k, rng):
    edge = [0, 1, -1, 2**63 - 1, -(2**63), 3037000500, -3037000500]
    a = np.array(edge + list(rng.integers(-(2**63), 2**63 - 1, 200, dtype=np.int64)), np.int64)
    b = np.array(edge[::-1] + list(rng.integers(-(2**63), 2**63 - 1, 200, dtype=np.int64)), np.int64)
    hi, uhi = np.zeros_like(a), np.zeros(a.size, np.uint64)
    k("mul64hi")((1, 1, 1), (256, 1, 1), (a, b, hi, uhi, np.int32(a.size)))
    np.testing.assert_array_equal(hi, [(int(p) * int(q)) >> 64 for p, q in zip(a, b)])
    np.testing.assert_array_equal(uhi, [((int(p) % 2**64) * (int(q) % 2**64)) >> 64 for p, q in zip(a, b)])


def _brev(v: np.ndarray) -> np.ndarray:
    bits = np.unpackbits(v.astype(">u4").view(np.uint8)).reshape(-1, 32)[:, ::-1]
    return np.packbits(bits, axis=1).view(">u4").ravel().astype(np.uint32)


def test_integer_intrinsics_match_their_definitions(k, rng):
    x = np.concatenate([[0, 1, 2**31, 2**32 - 1, 0x80000001], rng.integers(0, 2**32, 2000)]).astype(np.uint32)
    y = np.concatenate([[5, 0, 2**32 - 1, 2**32 - 1, 3], rng.integers(0, 2**32, 2000)]).astype(np.uint32)
    out = np.zeros((x.size, 6), np.uint32)
    k("int_intrinsics")((3, 1, 1), (256, 1, 1), (x, y, out, np.int32(x.size)))
    big = x.astype(object) * y.astype(object)
    np.testing.assert_array_equal(
        out[:, 0], np.array([int(v) >> 32 for v in big], dtype=np.uint64).astype(np.uint32)
    )
    np.testing.assert_array_equal(out[:, 1], _brev(x))
    np.testing.assert_array_equal(out[:, 2], [bin(int(v)).count("1") for v in x])
    np.testing.assert_array_equal(out[:, 3], [32 - int(v).bit_length() for v in x])
    np.testing.assert_array_equal(out[:, 4], [(int(v) & -int(v)).bit_length() for v in x])
    rs = (1 / np.sqrt((x | 1).astype(np.float32).astype(np.float64))).astype(np.float32)
    np.testing.assert_allclose(out[:, 5].view(np.float32), rs, rtol=2e-7)


# ------------------------------------------------------------------ launch and argument errors
def test_trap_stops_the_launch_with_an_error(k):
    from tests.cuda_harness.launcher import EmulatedLaunchError

    with pytest.raises(EmulatedLaunchError, match=r"traps: the kernel called __trap\(\)"):
        k("traps")((1, 1, 1), (32, 1, 1), (np.zeros(32, np.int32),))


LAUNCH_ERRORS = [
    ("zero block", (1, 1, 1), (0, 1, 1), 0, "a grid or block dimension is 0"),
    ("zero grid", (0, 1, 1), (32, 1, 1), 0, "a grid or block dimension is 0"),
    ("2048 threads", (1, 1, 1), (1024, 2, 1), 0, "exceeds 1024 threads"),
    ("block z 65", (1, 1, 1), (1, 1, 65), 0, "exceeds 1024 threads or the per-dimension limits"),
    ("grid y 65536", (1, 65536, 1), (32, 1, 1), 0, "grid exceeds"),
    ("too much shared", (1, 1, 1), (32, 1, 1), 1 << 20, "dynamic shared memory of 1048576 bytes"),
]


@pytest.mark.parametrize(
    "grid,block,smem,message", [c[1:] for c in LAUNCH_ERRORS], ids=[c[0] for c in LAUNCH_ERRORS]
)
def test_launch_configuration_a_gpu_rejects_raises(k, grid, block, smem, message):
    from tests.cuda_harness.launcher import EmulatedLaunchError

    x, y = np.zeros(4, np.float32), np.zeros(4, np.float32)
    with pytest.raises(EmulatedLaunchError, match=message):
        k("reverse_in_blocks")(grid, block, (x, y, np.int32(4)), smem)


ARG_ERRORS = [
    ("int64 for int", lambda x, y: (x, y, np.int64(4)), "takes a int32 by value but got int64"),
    ("python int", lambda x, y: (x, y, 4), "got int"),
    ("float64 array", lambda x, y: (x.astype(np.float64), y, np.int32(4)), "pointer to float32 but got an array of float64"),
    ("strided array", lambda x, y: (np.zeros(8, np.float32)[::2], y, np.int32(4)), "not C-contiguous"),
    ("scalar for pointer", lambda x, y: (np.float32(1), y, np.int32(4)), "takes a pointer"),
    ("array for scalar", lambda x, y: (x, y, np.zeros(1, np.int32)), "by value but got an array"),
    ("missing argument", lambda x, y: (x, y), "takes 3 arguments"),
]  # fmt: skip


@pytest.mark.parametrize("make,message", [c[1:] for c in ARG_ERRORS], ids=[c[0] for c in ARG_ERRORS])
def test_arguments_a_gpu_would_misread_raise_type_error(k, make, message):
    x, y = np.zeros(4, np.float32), np.zeros(4, np.float32)
    with pytest.raises(TypeError, match=message):
        k("reverse_in_blocks")((1, 1, 1), (32, 1, 1), make(x, y), 128)


# ------------------------------------------------------------------ build cache
def test_library_is_cached_by_content_and_rebuilt_when_code_changes(tmp_path):
    from tests.cuda_harness.test_kernels import CHECKS

    first = build.build(CHECKS)
    mtime = first.stat().st_mtime_ns
    assert build.build(CHECKS) == first and first.stat().st_mtime_ns == mtime
    changed = build.Unit(CHECKS.key, CHECKS.code + "\n// edited\n", CHECKS.names, CHECKS.include_dir)
    assert build.library_path(changed, False) != first
    assert build.library_path(CHECKS, True) != first


def test_extern_shared_declarations_are_found_in_code_and_included_headers(tmp_path):
    (tmp_path / "h.cuh").write_text('#include "g.cuh"\nextern __shared__ __align__(16) double hbuf[];')
    (tmp_path / "g.cuh").write_text("template <class T> __device__ void f() { extern __shared__ T gbuf[]; }")
    (tmp_path / "unused.cuh").write_text("extern __shared__ float unused[];")
    code = '#include "h.cuh"\nextern __shared__ float tile[];\nextern  __shared__ unsigned char raw [ ];'
    unit = build.Unit("x", code, (), str(tmp_path))
    assert build.dynamic_shared_names(unit) == ["gbuf", "hbuf", "raw", "tile"]
    assert [p.name for p in build.included_headers(unit)] == ["g.cuh", "h.cuh"]


def test_library_hash_follows_only_the_headers_the_code_includes(tmp_path):
    (tmp_path / "used.cuh").write_text("// v1")
    (tmp_path / "other.cuh").write_text("// v1")
    unit = build.Unit("x", '#include "used.cuh"\n', (), str(tmp_path))
    before = build.library_path(unit, False)
    (tmp_path / "other.cuh").write_text("// v2")
    assert build.library_path(unit, False) == before
    (tmp_path / "used.cuh").write_text("// v2")
    assert build.library_path(unit, False) != before


def test_compile_error_names_the_source_and_the_emulator(tmp_path):
    unit = build.Unit("broken", 'extern "C" __global__ void broken(int* p) { p[0] = undefined_thing; }', ("broken",),
                      str(tmp_path))  # fmt: skip
    with pytest.raises(build.BuildError, match=r"(?s)'broken'.*cuda_emu\.h.*undefined_thing"):
        build.build(unit)


# ------------------------------------------------------------------ mutation table
def _mutations():
    from tests.cuda_harness.mutation import MUTATIONS

    return [name for name, spec in MUTATIONS.items() if spec is not None]


@pytest.mark.parametrize("name", _mutations())
def test_each_recorded_mutation_still_applies_to_the_kernels(tmp_path, name):
    from tests.cuda_harness.mutation import MUTATIONS, apply

    path = MUTATIONS[name][0]
    (tmp_path / path).parent.mkdir(parents=True)
    (tmp_path / path).write_text((ROOT / path).read_text())
    apply(tmp_path, name)
    assert (tmp_path / path).read_text() != (ROOT / path).read_text()


# ------------------------------------------------------------------ sanitizers (subprocess)
@pytest.mark.parametrize(
    "kernel,report", [("off_by_one", "heap-buffer-overflow"), ("smem_overflow", "use-after-poison")]
)
def test_out_of_bounds_access_in_a_kernel_is_caught_by_address_sanitizer(kernel, report):
    proc = subprocess.run(
        [sys.executable, "-m", "tests.cuda_harness.sanitize", "--selftest", kernel],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode not in (0, 2), proc.stdout + proc.stderr
    assert "ERROR: AddressSanitizer: " + report in proc.stderr
    assert "emu_checks.cu" in proc.stderr  # the report points at the kernel's source line


# ------------------------------------------------------------------ the emulated device
@pytest.fixture(scope="module")
def emu():
    from tests.cuda_harness import emulated_device

    dev = emulated_device()
    if dev is None:
        pytest.skip("the CUDA backend (gputensor/backend/cuda) is not importable")
    return dev


def test_emulated_device_is_a_gpu_device_running_the_cuda_backend(emu):
    import gputensor as gt

    assert emu.short_name == "/EMU_GPU:0" and emu.is_gpu and emu.backend.xp is np
    x = np.arange(-500, 501, dtype=np.float32)
    with gt.device(emu):
        y = gt.add(gt.constant(x), gt.constant(x[::-1].copy()))
    assert y.device == emu.name
    np.testing.assert_array_equal(y.numpy(), x + x[::-1])
    assert emu.backend.launcher.launch_counts["gt_add_float32_flat"] >= 1


def test_every_backend_kernel_source_compiles_under_the_emulator(emu):
    failures = emu.backend.launcher.build_failures
    assert not failures, "\n\n".join(f"{key}: {exc}" for key, exc in failures.items())


def test_cuda_emu_0_disables_the_emulated_device(monkeypatch):
    from tests.cuda_harness import emulated_device

    monkeypatch.setenv("CUDA_EMU", "0")
    assert emulated_device() is None


def test_every_elementwise_kernel_under_sanitizers_matches_the_numpy_backend(emu):
    """The sweep of sanitize.py: every elementwise kernel, dtype and layout, sizes 0, 1, 255, 257, large."""
    proc = subprocess.run(
        [sys.executable, "-m", "tests.cuda_harness.sanitize"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-8000:]
