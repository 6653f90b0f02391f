// gt_reduce.cuh: cooperative row reductions shared by the reduce and softmax families.
//
// Every reduction here sees its input as a C-contiguous (outer, R, inner) array and
// produces one result per (outer, inner) pair by combining the R elements
// x[(o * R + r) * inner + c]. The host (gputensor/backend/cuda/families/reduce.py)
// reshapes or permutes any set of axes into that form. Three layouts, chosen by
// launch_config.reduction_layout, all with GT_REDUCE_THREADS threads per block:
//   block: inner == 1, long rows: one block per row (grid-stride over rows);
//   warp:  inner == 1, short rows: one warp per row, so a 4-element row does not
//          leave 252 threads idle;
//   cols:  inner > 1: a block takes 32 neighbouring columns of one outer index
//          (lane = column, so loads are coalesced) and splits R over its 8 warps.
// A "program" (what to compute per row: a reduction, softmax, cross-entropy) is
// written once against the Group interface below and runs under every layout:
//   g.rank / g.size: this thread's share of the row is r = rank, rank + size, ...;
//   g.extent(R):     R, or 0 for a thread whose column is past the end (cols layout),
//                    so such threads skip loads and stores but still join barriers;
//   g.leader:        the one thread that writes a per-row result;
//   g.allreduce(f, a): the combination of every group member's a, returned to all.
// Programs must call allreduce the same number of times from every thread of a
// block (it holds __syncthreads in the block and cols layouts).
#pragma once

#include "gt_common.cuh"

#define GT_REDUCE_THREADS 256
#define GT_WARP 32

namespace gt {

__device__ __forceinline__ float inf_of(float) { return __int_as_float(0x7f800000); }
__device__ __forceinline__ double inf_of(double) { return __longlong_as_double(0x7ff0000000000000LL); }
__device__ __forceinline__ float nan_of(float) { return __int_as_float(0x7fc00000); }
__device__ __forceinline__ double nan_of(double) { return __longlong_as_double(0x7ff8000000000000LL); }

// The largest and smallest values of each element type, widened to its accumulator:
// the results of an empty max/min reduction, as the CPU backend (and TF) return.
template <typename T> struct limits;
template <> struct limits<__half> {
  __device__ static float lowest() { return -inf_of(0.0f); }
  __device__ static float highest() { return inf_of(0.0f); }
};
template <> struct limits<__nv_bfloat16> {
  __device__ static float lowest() { return -inf_of(0.0f); }
  __device__ static float highest() { return inf_of(0.0f); }
};
template <> struct limits<float> {
  __device__ static float lowest() { return -inf_of(0.0f); }
  __device__ static float highest() { return inf_of(0.0f); }
};
template <> struct limits<double> {
  __device__ static double lowest() { return -inf_of(0.0); }
  __device__ static double highest() { return inf_of(0.0); }
};
#define GT_INT_LIMITS(T, W, LO, HI)              \
  template <> struct limits<T> {                 \
    __device__ static W lowest() { return LO; }  \
    __device__ static W highest() { return HI; } \
  };
GT_INT_LIMITS(signed char, long long, -128LL, 127LL)
GT_INT_LIMITS(short, long long, -32768LL, 32767LL)
GT_INT_LIMITS(int, long long, -2147483647LL - 1, 2147483647LL)
GT_INT_LIMITS(long long, long long, -9223372036854775807LL - 1, 9223372036854775807LL)
GT_INT_LIMITS(unsigned char, unsigned long long, 0ULL, 255ULL)
GT_INT_LIMITS(unsigned short, unsigned long long, 0ULL, 65535ULL)
GT_INT_LIMITS(unsigned int, unsigned long long, 0ULL, 4294967295ULL)
GT_INT_LIMITS(unsigned long long, unsigned long long, 0ULL, 18446744073709551615ULL)
#undef GT_INT_LIMITS

// The type max/min/argmax compare in: exact for every element type, and one the warp
// shuffles take (they have no 8- or 16-bit overloads).
template <typename T> struct ordered { typedef T type; };
template <> struct ordered<__half> { typedef float type; };
template <> struct ordered<__nv_bfloat16> { typedef float type; };
template <> struct ordered<signed char> { typedef long long type; };
template <> struct ordered<short> { typedef long long type; };
template <> struct ordered<int> { typedef long long type; };
template <> struct ordered<unsigned char> { typedef unsigned long long type; };
template <> struct ordered<unsigned short> { typedef unsigned long long type; };
template <> struct ordered<unsigned int> { typedef unsigned long long type; };

// Value and position of a running argmax/argmin; index -1 marks "no element yet".
template <typename V> struct ArgAcc {
  V v;
  long long i;
};

template <typename T> __device__ __forceinline__ T shfl_down(T v, int d) {
  return __shfl_down_sync(0xffffffffu, v, d);
}
template <typename V> __device__ __forceinline__ ArgAcc<V> shfl_down(ArgAcc<V> a, int d) {
  ArgAcc<V> r;
  r.v = __shfl_down_sync(0xffffffffu, a.v, d);
  r.i = __shfl_down_sync(0xffffffffu, a.i, d);
  return r;
}
template <typename T> __device__ __forceinline__ T shfl_lane0(T v) { return __shfl_sync(0xffffffffu, v, 0); }
template <typename V> __device__ __forceinline__ ArgAcc<V> shfl_lane0(ArgAcc<V> a) {
  ArgAcc<V> r;
  r.v = __shfl_sync(0xffffffffu, a.v, 0);
  r.i = __shfl_sync(0xffffffffu, a.i, 0);
  return r;
}

// Tree reduction over the 32 lanes of a warp; every lane gets lane 0's total. Lanes
// near the top combine stale values on the way down, but only lane 0's sum is used.
template <class F, typename A> __device__ __forceinline__ A warp_allreduce(const F& f, A a) {
  for (int d = GT_WARP / 2; d > 0; d >>= 1) a = f.combine(a, shfl_down(a, d));
  return shfl_lane0(a);
}

struct BlockGroup {
  long long rank, size;
  bool leader;
  __device__ BlockGroup() : rank(threadIdx.x), size(blockDim.x), leader(threadIdx.x == 0) {}
  __device__ long long extent(long long R) const { return R; }
  // scratch: GT_REDUCE_THREADS entries of the accumulator type in shared memory.
  template <class F, typename A> __device__ A allreduce(const F& f, A a, A* scratch) const {
    const int lane = threadIdx.x % GT_WARP, warp = threadIdx.x / GT_WARP;
    const int warps = (blockDim.x + GT_WARP - 1) / GT_WARP;
    a = warp_allreduce(f, a);
    if (lane == 0) scratch[warp] = a;
    __syncthreads();
    // Every thread folds the warp totals in the same order, so all hold the same bits.
    A r = scratch[0];
    for (int w = 1; w < warps; ++w) r = f.combine(r, scratch[w]);
    __syncthreads();  // the next allreduce overwrites scratch
    return r;
  }
};

struct WarpGroup {
  long long rank, size;
  bool leader;
  __device__ WarpGroup() : rank(threadIdx.x % GT_WARP), size(GT_WARP), leader(threadIdx.x % GT_WARP == 0) {}
  __device__ long long extent(long long R) const { return R; }
  template <class F, typename A> __device__ A allreduce(const F& f, A a, A*) const { return warp_allreduce(f, a); }
};

struct ColumnGroup {
  long long rank, size;
  bool leader, valid;
  __device__ ColumnGroup(bool column_in_range)
      : rank(threadIdx.x / GT_WARP),
        size(blockDim.x / GT_WARP),
        leader(column_in_range && threadIdx.x < GT_WARP),
        valid(column_in_range) {}
  __device__ long long extent(long long R) const { return valid ? R : 0; }
  template <class F, typename A> __device__ A allreduce(const F& f, A a, A* scratch) const {
    const int lane = threadIdx.x % GT_WARP;
    scratch[threadIdx.x] = a;
    __syncthreads();
    A r = scratch[lane];
    for (long long k = 1; k < size; ++k) r = f.combine(r, scratch[k * GT_WARP + lane]);
    __syncthreads();
    return r;
  }
};

// Runs program p once per (outer, inner) pair under each layout. p.run(g, base, stride,
// out_index, scratch): the row's elements are x[base + r * stride], r in [0, R).
template <class P> __device__ void rows_block(const P& p, long long outer) {
  __shared__ typename P::acc_t scratch[GT_REDUCE_THREADS];
  const BlockGroup g;
  // row depends on blockIdx only, so every thread of the block takes the same trips
  // through the barriers inside allreduce.
  for (long long row = blockIdx.x; row < outer; row += gridDim.x) p.run(g, row * p.R, 1LL, row, scratch);
}

template <class P> __device__ void rows_warp(const P& p, long long outer) {
  const WarpGroup g;
  const long long warps = blockDim.x / GT_WARP;
  for (long long row = blockIdx.x * warps + threadIdx.x / GT_WARP; row < outer; row += gridDim.x * warps)
    p.run(g, row * p.R, 1LL, row, (typename P::acc_t*)0);
}

template <class P> __device__ void cols(const P& p, long long outer, long long inner) {
  __shared__ typename P::acc_t scratch[GT_REDUCE_THREADS];
  const long long tiles = (inner + GT_WARP - 1) / GT_WARP;
  for (long long t = blockIdx.x; t < outer * tiles; t += gridDim.x) {
    const long long o = t / tiles;
    const long long c = (t % tiles) * GT_WARP + threadIdx.x % GT_WARP;
    const ColumnGroup g(c < inner);
    p.run(g, o * p.R * inner + c, inner, o * inner + c, scratch);
  }
}

// Combining functors shared by the programs (f.identity(), f.combine(a, b)).
template <typename A> struct SumOf {
  __device__ A identity() const { return A(0); }
  __device__ A combine(A a, A b) const { return a + b; }
};
// Max that propagates NaN from either side (as np.max and TF).
template <typename A> struct MaxOf {
  __device__ A identity() const { return -inf_of(A(0)); }
  __device__ A combine(A a, A b) const { return (a > b || a != a) ? a : b; }
};

}  // namespace gt
