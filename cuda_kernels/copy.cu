// copy.cu: data movement and creation kernels.
//
// Moving data never looks at values, only at their width, so the movement kernels are
// instantiated per element width (b1, b2, b4, b8: unsigned char ... unsigned long long)
// and take untyped pointers; constants (a fill value, one_hot's on/off values, a pad
// value) arrive as the bit pattern of the value in the tensor's dtype. Only range and
// linspace do arithmetic and are instantiated per dtype.
//
// gt_copy_strided is the one general strided gather-copy: it serves transpose,
// strided_slice, reverse, broadcast_to, tile, making an array contiguous and the pieces
// of concat/stack/split/unstack (see gputensor/backend/cuda/families/copy.py, which
// describes each as a strided view). Launch shape: 1-D grid-stride loops over the output
// elements (launch_config.copy).
#include "gt_common.cuh"

namespace gt {
namespace copy {

// ndim is at most 8 after merging mergeable dimensions (copy.py MAX_DIMS; the glue checks).
// meta = shape[ndim], src_stride[ndim], src_mod[ndim], dst_stride[ndim], src_base, dst_base.
// Iteration index i unravels (row-major) to idx[d] over shape; the source element is
// src_base + sum((src_mod[d] ? idx[d] % src_mod[d] : idx[d]) * src_stride[d]) (strides in
// elements, negative for reversed axes, 0 for broadcast ones; the modulo repeats a
// dimension for tile) and the destination dst_base + sum(idx[d] * dst_stride[d]).
template <typename W>
__device__ __forceinline__ void strided(const W* __restrict__ src, W* __restrict__ dst,
                                        const long long* __restrict__ meta, int ndim, long long n) {
  const long long* shape = meta;
  const long long* src_stride = meta + ndim;
  const long long* src_mod = meta + 2 * ndim;
  const long long* dst_stride = meta + 3 * ndim;
  const long long src_base = meta[4 * ndim], dst_base = meta[4 * ndim + 1];
  GT_GRID_STRIDE(i, n) {
    long long rest = i, s = src_base, d = dst_base;
    for (int k = ndim - 1; k >= 0; --k) {
      const long long idx = rest % shape[k];
      rest /= shape[k];
      s += (src_mod[k] ? idx % src_mod[k] : idx) * src_stride[k];
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

// Identity matrices: a batch of (rows, cols) matrices with `one` on the diagonal.
template <typename W>
__device__ __forceinline__ void eye(W* __restrict__ dst, long long rows, long long cols, W one, W zero, long long n) {
  GT_GRID_STRIDE(i, n) {
    const long long c = i % cols, r = (i / cols) % rows;
    dst[i] = r == c ? one : zero;
  }
}

// out viewed as (outer, depth, inner) from indices viewed as (outer, inner): on where the
// index equals the depth position, off elsewhere (also for out-of-range indices, as TF).
template <typename W, typename I>
__device__ __forceinline__ void one_hot(const I* __restrict__ indices, W* __restrict__ dst, long long depth,
                                        long long inner, W on, W off, long long n) {
  GT_GRID_STRIDE(i, n) {
    const long long in = i % inner, d = (i / inner) % depth, outer = i / (inner * depth);
    dst[i] = (long long)indices[outer * inner + in] == d ? on : off;
  }
}

// out[i] = start + i * delta, computed in double for floats (one rounding, no drift).
template <typename T, typename A>
__device__ __forceinline__ void range(T* __restrict__ dst, A start, A delta, long long n) {
  GT_GRID_STRIDE(i, n) { dst[i] = from_c<T>(start + (A)i * delta); }
}

// num evenly spaced values from start to stop (both included when num > 1), exact at the ends.
template <typename T>
__device__ __forceinline__ void linspace(T* __restrict__ dst, double start, double stop, long long n) {
  const double step = n > 1 ? (stop - start) / (double)(n - 1) : 0.0;
  GT_GRID_STRIDE(i, n) { dst[i] = from_c<T>(i == n - 1 && n > 1 ? stop : start + (double)i * step); }
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
  }                                                                                                            \
  extern "C" __global__ void gt_copy_eye_##NAME(void* dst, long long rows, long long cols, W one, W zero,       \
                                                long long n) {                                                 \
    gt::copy::eye<W>((W*)dst, rows, cols, one, zero, n);                                                       \
  }                                                                                                            \
  extern "C" __global__ void gt_copy_one_hot_##NAME##_int32(const int* indices, void* dst, long long depth,      \
                                                            long long inner, W on, W off, long long n) {       \
    gt::copy::one_hot<W, int>(indices, (W*)dst, depth, inner, on, off, n);                                     \
  }                                                                                                            \
  extern "C" __global__ void gt_copy_one_hot_##NAME##_int64(const long long* indices, void* dst, long long depth, \
                                                            long long inner, W on, W off, long long n) {       \
    gt::copy::one_hot<W, long long>(indices, (W*)dst, depth, inner, on, off, n);                               \
  }                                                                                                            \
  extern "C" __global__ void gt_copy_one_hot_##NAME##_uint8(const unsigned char* indices, void* dst,            \
                                                            long long depth, long long inner, W on, W off,     \
                                                            long long n) {                                     \
    gt::copy::one_hot<W, unsigned char>(indices, (W*)dst, depth, inner, on, off, n);                           \
  }

// range for one numeric dtype (T its C type, A the type it computes in: double or long long).
#define GT_COPY_RANGE_KERNELS(NAME, T, A)                                                                      \
  extern "C" __global__ void gt_copy_range_##NAME(T* dst, A start, A delta, long long n) {                     \
    gt::copy::range<T, A>(dst, start, delta, n);                                                               \
  }

// linspace for one floating dtype.
#define GT_COPY_LINSPACE_KERNELS(NAME, T)                                                                      \
  extern "C" __global__ void gt_copy_linspace_##NAME(T* dst, double start, double stop, long long n) {         \
    gt::copy::linspace<T>(dst, start, stop, n);                                                                \
  }
