// copy.cu: data movement and creation kernels.
//
// Moving data never looks at values, only at their width, so the movement kernels are
// instantiated per element width (b1, b2, b4, b8: unsigned char ... unsigned long long)
// and take untyped pointers; constants (a fill value, a pad value) arrive as the bit
// pattern of the value in the tensor's dtype. Only range does
// arithmetic and is instantiated per dtype.
//
// gt_copy_strided is the one general strided gather-copy: it serves transpose,
// strided_slice (and so reverse, slice, split, unstack and basic indexing), broadcast_to
// (and so tile), making an array contiguous and the pieces of concat/stack (see
// gputensor/backend/cuda/families/copy.py, which describes each as a strided view).
// Launch shape: 1-D grid-stride loops over the output elements (launch_config.copy).
#include "gt_common.cuh"

namespace gt {
namespace copy {

// ndim is at most 8 after merging mergeable dimensions (copy.py MAX_DIMS; the glue checks).
// meta = shape[ndim], src_stride[ndim], dst_stride[ndim], src_base, dst_base. Iteration
// index i unravels (row-major) to idx[d] over shape; the source element is
// src_base + sum(idx[d] * src_stride[d]) (strides in elements, negative for reversed
// axes, 0 for broadcast ones) and the destination dst_base + sum(idx[d] * dst_stride[d]).
template <typename W>
__device__ __forceinline__ void strided(const W* __restrict__ src, W* __restrict__ dst,
                                        const long long* __restrict__ meta, int ndim, long long n) {
  const long long* shape = meta;
  const long long* src_stride = meta + ndim;
  const long long* dst_stride = meta + 2 * ndim;
  const long long src_base = meta[3 * ndim], dst_base = meta[3 * ndim + 1];
  GT_GRID_STRIDE(i, n) {
    long long rest = i, s = src_base, d = dst_base;
    for (int k = ndim - 1; k >= 0; --k) {
      const long long idx = rest % shape[k];
      rest /= shape[k];
      s += idx * src_stride[k];
      d += idx * dst_stride[k];
    }
    dst[d] = src[s];
  }
}

// Padding of a contiguous array. meta = out_shape[ndim], in_shape[ndim], before[ndim].
// mode 0: constant (fill bits), 1: reflect (edge not repeated), 2: symmetric (edge repeated).
template <typename W>
__device__ __forceinline__ void pad(const W* __restrict__ src, W* __restrict__ dst, const long long* __restrict__ meta,
                                    int ndim, int mode, W fill, long long n) {
  const long long* out_shape = meta;
  const long long* in_shape = meta + ndim;
  const long long* before = meta + 2 * ndim;
  GT_GRID_STRIDE(i, n) {
    long long rest = i, s = 0, in_stride = 1;
    bool outside = false;
    for (int k = ndim - 1; k >= 0; --k) {
      long long j = rest % out_shape[k] - before[k];
      rest /= out_shape[k];
      const long long len = in_shape[k];
      if (j < 0 || j >= len) {
        if (mode == 0) {
          outside = true;
          break;
        }
        // TF limits reflect padding to len - 1 and symmetric to len per side, so one
        // reflection always lands inside.
        if (mode == 1) j = j < 0 ? -j : 2 * (len - 1) - j;
        else j = j < 0 ? -j - 1 : 2 * len - 1 - j;
      }
      s += j * in_stride;
      in_stride *= len;
    }
    dst[i] = outside ? fill : src[s];
  }
}

template <typename W> __device__ __forceinline__ void fill(W* __restrict__ dst, W value, long long n) {
  GT_GRID_STRIDE(i, n) { dst[i] = value; }
}

// out[i] = start + i * delta, computed in double for floats (one rounding, no drift).
template <typename T, typename A>
__device__ __forceinline__ void range(T* __restrict__ dst, A start, A delta, long long n) {
  GT_GRID_STRIDE(i, n) { dst[i] = from_c<T>(start + (A)i * delta); }
}

}  // namespace copy
}  // namespace gt

// Movement kernels for one element width (NAME: b1/b2/b4/b8, W the unsigned type of that width).
#define GT_COPY_WIDTH_KERNELS(NAME, W)                                                                         \
  extern "C" __global__ void gt_copy_strided_##NAME(const void* src, void* dst, const long long* meta, int ndim, \
                                                    long long n) {                                             \
    gt::copy::strided<W>((const W*)src, (W*)dst, meta, ndim, n);                                               \
  }                                                                                                            \
  extern "C" __global__ void gt_copy_pad_##NAME(const void* src, void* dst, const long long* meta, int ndim,     \
                                                int mode, W fill, long long n) {                               \
    gt::copy::pad<W>((const W*)src, (W*)dst, meta, ndim, mode, fill, n);                                       \
  }                                                                                                            \
  extern "C" __global__ void gt_copy_fill_##NAME(void* dst, W value, long long n) {                             \
    gt::copy::fill<W>((W*)dst, value, n);                                                                      \
  }

// range for one numeric dtype (T its C type, A the type it computes in: double or long long).
#define GT_COPY_RANGE_KERNELS(NAME, T, A)                                                                      \
  extern "C" __global__ void gt_copy_range_##NAME(T* dst, A start, A delta, long long n) {                     \
    gt::copy::range<T, A>(dst, start, delta, n);                                                               \
  }

