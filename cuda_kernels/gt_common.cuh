// gt_common.cuh: types, conversions and indexing helpers shared by every kernel family.
//
// Half and bfloat16 values are computed in float (their "compute type"), as cuDNN and
// CuPy do: loads widen with gt::to_c, stores narrow with gt::from_c<Out>. Indices are
// 64-bit (long long) everywhere a size can pass 2^31.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace gt {

template <typename T> struct compute { typedef T type; };
template <> struct compute<__half> { typedef float type; };
template <> struct compute<__nv_bfloat16> { typedef float type; };

__device__ __forceinline__ float to_c(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_c(__nv_bfloat16 x) { return __bfloat162float(x); }
template <typename T> __device__ __forceinline__ T to_c(T x) { return x; }

template <typename Out> struct narrow {
  template <typename V> __device__ __forceinline__ static Out go(V v) { return static_cast<Out>(v); }
};
template <> struct narrow<__half> {
  template <typename V> __device__ __forceinline__ static __half go(V v) { return __float2half(static_cast<float>(v)); }
};
template <> struct narrow<__nv_bfloat16> {
  template <typename V> __device__ __forceinline__ static __nv_bfloat16 go(V v) {
    return __float2bfloat16(static_cast<float>(v));
  }
};
// Casting to bool tests for non-zero, as tf.cast does.
template <> struct narrow<bool> {
  template <typename V> __device__ __forceinline__ static bool go(V v) { return v != V(0); }
};
template <typename Out, typename V> __device__ __forceinline__ Out from_c(V v) { return narrow<Out>::go(v); }

// Offsets of output element i in up to three broadcast inputs. meta holds
// shape[ndim] then one stride row per input (stride 0 on broadcast dimensions).
template <int N>
__device__ __forceinline__ void bcast_offsets(long long i, int ndim, const long long* __restrict__ meta,
                                              long long* off) {
  for (int k = 0; k < N; ++k) off[k] = 0;
  for (int d = ndim - 1; d >= 0; --d) {
    const long long extent = meta[d];
    const long long idx = i % extent;
    i /= extent;
    for (int k = 0; k < N; ++k) off[k] += idx * meta[ndim * (k + 1) + d];
  }
}

}  // namespace gt

// Grid-stride loop over [0, n) with 64-bit indices.
#define GT_GRID_STRIDE(i, n)                                                        \
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
       i += (long long)blockDim.x * gridDim.x)

// Vectorised elementwise kernels move four consecutive elements with one aligned load or
// store (16 bytes for float32, 8 for half): fewer, wider memory instructions keep more
// bytes in flight per thread, which the 1- and 2-byte types need to reach the bandwidth.
// The glue launches them only when every pointer is aligned to the vector's size.
namespace gt {
template <typename T> struct alignas(4 * sizeof(T)) Vec4 {
  T v[4];
};
}  // namespace gt
// q runs over the whole vectors of n elements; the kernel handles the n % 4 tail itself.
#define GT_VEC4_STRIDE(q, n)                                                            \
  for (long long q = (long long)blockIdx.x * blockDim.x + threadIdx.x; q < (n) / 4; \
       q += (long long)blockDim.x * gridDim.x)
#define GT_VEC4_TAIL(i, n)                                                                            \
  for (long long i = (n) / 4 * 4 + (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
       i += (long long)blockDim.x * gridDim.x)
