// gt_block.cuh: block-wide building blocks of the hand-written kernel families
// (conv, pool, index, sort): NaN tests, block sums and block scans.
//
// Every function here that takes part in a block-wide operation must be called by every
// thread of the block, blockDim.x a multiple of 32 (at most 1024).
#pragma once

#include "gt_common.cuh"

namespace gt {

// NaN test that is constant false for integer types (and so raises no self-comparison warning).
template <typename A> __device__ __forceinline__ bool is_nan(A) { return false; }
__device__ __forceinline__ bool is_nan(float v) { return v != v; }
__device__ __forceinline__ bool is_nan(double v) { return v != v; }

// Sum of v over the block, valid in thread 0. Warp shuffles first (no shared memory
// traffic), then one partial per warp. It ends with a barrier so it can be called again.
template <typename A> __device__ __forceinline__ A block_sum(A v) {
  __shared__ A partial[32];
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < (int)(blockDim.x >> 5) ? partial[lane] : A(0);
    for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  }
  __syncthreads();  // partial[] is rewritten by the next call
  return v;
}

// Exclusive prefix sum of v over the block in thread order; *total gets the block's sum
// (in every thread). Warp scans with __shfl_up_sync, then a scan of the warp totals.
template <typename A> __device__ __forceinline__ A block_exclusive_scan(A v, A* total) {
  __shared__ A warp_prefix[33];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (int)(blockDim.x >> 5);
  A incl = v;
  for (int off = 1; off < 32; off <<= 1) {
    const A y = __shfl_up_sync(0xffffffffu, incl, off);
    if (lane >= off) incl += y;
  }
  if (lane == 31) warp_prefix[warp] = incl;
  __syncthreads();
  if (warp == 0) {
    const A w = lane < warps ? warp_prefix[lane] : A(0);
    A wincl = w;
    for (int off = 1; off < 32; off <<= 1) {
      const A y = __shfl_up_sync(0xffffffffu, wincl, off);
      if (lane >= off) wincl += y;
    }
    if (lane < warps) warp_prefix[lane] = wincl - w;
    if (lane == warps - 1) warp_prefix[32] = wincl;
  }
  __syncthreads();
  const A result = warp_prefix[warp] + incl - v;
  *total = warp_prefix[32];
  __syncthreads();  // warp_prefix[] is rewritten by the next call
  return result;
}

}  // namespace gt
