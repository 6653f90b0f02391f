// conv.cu: 2-D convolution kernels (NHWC images, HWIO filters, depthwise HWCM filters).
//
// Ordinary convolutions are im2col + GEMM: gt_conv_im2col writes every receptive field
// as a row of a (rows, kh*kw*C) matrix, cuBLAS multiplies it with the filter matrix
// (through cupy.matmul, in gputensor/backend/cuda/families/conv.py), and the input
// gradient comes back through gt_conv_col2im. Half and bfloat16 data are widened to
// float for the GEMM (columns are written in the compute type A), as TF accumulates
// them in float. Depthwise convolutions multiply only kh*kw numbers per output value,
// too few for a GEMM to pay off, so they are direct kernels.
//
// Launch shape: 1-D grid-stride loops over the output elements (launch_config.conv);
// gt_dwconv_backprop_filter instead gives each block one filter element at a time and
// reduces over the batch and output pixels with gt::block_sum (block of 256 threads).
// Geometry arrives as the int64 table of gt::Window. The batch may be processed in
// chunks of images [n0, n0 + nb) to bound the size of the column matrix: column rows
// are chunk-local, images are global.
#include "window.cuh"

namespace gt {
namespace conv {

template <typename T> using Acc = typename compute<T>::type;

// cols[(n*Ho + ho)*Wo + wo][(i*kw + j)*C + c] = x[n0 + n][ho*sh - pt + i*dh][wo*sw - pl + j*dw][c], 0 on padding.
template <typename T>
__device__ __forceinline__ void im2col(const T* __restrict__ x, Acc<T>* __restrict__ cols,
                                       const long long* __restrict__ geom, long long n0, long long nb) {
  const Window g(geom);
  const long long k_len = g.kh * g.kw * g.c;
  GT_GRID_STRIDE(e, nb * g.ho * g.wo * k_len) {
    long long n, ho, wo, k;
    unravel_pixel(e, g.ho, g.wo, k_len, n, ho, wo, k);
    const long long c = k % g.c, tap = k / g.c;
    const long long y = ho * g.sh - g.pt + (tap / g.kw) * g.dh, x_ = wo * g.sw - g.pl + (tap % g.kw) * g.dw;
    cols[e] = g.inside(y, x_) ? to_c(x[(((n0 + n) * g.h + y) * g.w + x_) * g.c + c]) : Acc<T>(0);
  }
}

// dx[n0 + n][y][x][c] = sum of the column entries read from input pixel (y, x), channel c.
template <typename T>
__device__ __forceinline__ void col2im(const Acc<T>* __restrict__ cols, T* __restrict__ dx,
                                       const long long* __restrict__ geom, long long n0, long long nb) {
  const Window g(geom);
  const long long k_len = g.kh * g.kw * g.c;
  const long long image = g.h * g.w * g.c;
  GT_GRID_STRIDE(e, nb * image) {
    long long n, y, x, c;
    unravel_pixel(e, g.h, g.w, g.c, n, y, x, c);
    Acc<T> acc(0);
    for_each_window_reading(g, y, x, [&](long long ho, long long wo, long long i, long long j) {
      acc += cols[((n * g.ho + ho) * g.wo + wo) * k_len + (i * g.kw + j) * g.c + c];
    });
    dx[n0 * image + e] = from_c<T>(acc);
  }
}

template <typename From, typename To>
__device__ __forceinline__ void convert(const From* __restrict__ src, To* __restrict__ dst, long long n) {
  GT_GRID_STRIDE(e, n) { dst[e] = from_c<To>(to_c(src[e])); }
}

// acc += part: sums the filter gradients of successive batch chunks.
template <typename A>
__device__ __forceinline__ void accumulate(A* __restrict__ acc, const A* __restrict__ part, long long n) {
  GT_GRID_STRIDE(e, n) { acc[e] += part[e]; }
}

// out[n][ho][wo][c*M + m] = sum over taps of x[n][y][x][c] * f[i][j][c][m].
template <typename T>
__device__ __forceinline__ void depthwise_forward(const T* __restrict__ x, const T* __restrict__ f,
                                                  T* __restrict__ out, const long long* __restrict__ geom) {
  const Window g(geom);
  const long long cm = g.c * g.m;
  GT_GRID_STRIDE(e, g.n * g.ho * g.wo * cm) {
    long long n, ho, wo, k;
    unravel_pixel(e, g.ho, g.wo, cm, n, ho, wo, k);
    const long long c = k / g.m;
    Acc<T> acc(0);
    for (long long i = 0; i < g.kh; ++i) {
      const long long y = ho * g.sh - g.pt + i * g.dh;
      for (long long j = 0; j < g.kw; ++j) {
        const long long x_ = wo * g.sw - g.pl + j * g.dw;
        if (g.inside(y, x_)) acc += to_c(x[((n * g.h + y) * g.w + x_) * g.c + c]) * to_c(f[(i * g.kw + j) * cm + k]);
      }
    }
    out[e] = from_c<T>(acc);
  }
}

// dx[n][y][x][c] = sum over the windows reading (y, x) and over m of dy[n][ho][wo][c*M + m] * f[i][j][c][m].
template <typename T>
__device__ __forceinline__ void depthwise_backprop_input(const T* __restrict__ f, const T* __restrict__ dy,
                                                         T* __restrict__ dx, const long long* __restrict__ geom) {
  const Window g(geom);
  const long long cm = g.c * g.m;
  GT_GRID_STRIDE(e, g.n * g.h * g.w * g.c) {
    long long n, y, x, c;
    unravel_pixel(e, g.h, g.w, g.c, n, y, x, c);
    Acc<T> acc(0);
    for_each_window_reading(g, y, x, [&](long long ho, long long wo, long long i, long long j) {
      const T* dy_px = dy + ((n * g.ho + ho) * g.wo + wo) * cm + c * g.m;
      const T* f_tap = f + (i * g.kw + j) * cm + c * g.m;
      for (long long m = 0; m < g.m; ++m) acc += to_c(dy_px[m]) * to_c(f_tap[m]);
    });
    dx[e] = from_c<T>(acc);
  }
}

// df[i][j][c][m] = sum over n, ho, wo of x[n][y][x][c] * dy[n][ho][wo][c*M + m]: one block per
// filter element, its threads striding over the N*Ho*Wo output pixels.
template <typename T>
__device__ __forceinline__ void depthwise_backprop_filter(const T* __restrict__ x, const T* __restrict__ dy,
                                                          T* __restrict__ df, const long long* __restrict__ geom) {
  const Window g(geom);
  const long long cm = g.c * g.m;
  const long long pixels = g.n * g.ho * g.wo;
  for (long long fe = blockIdx.x; fe < g.kh * g.kw * cm; fe += gridDim.x) {
    const long long k = fe % cm, tap = fe / cm, c = k / g.m;
    const long long i = tap / g.kw, j = tap % g.kw;
    Acc<T> acc(0);
    for (long long p = threadIdx.x; p < pixels; p += blockDim.x) {
      const long long wo = p % g.wo, ho = (p / g.wo) % g.ho, n = p / (g.wo * g.ho);
      const long long y = ho * g.sh - g.pt + i * g.dh, x_ = wo * g.sw - g.pl + j * g.dw;
      if (g.inside(y, x_)) acc += to_c(x[((n * g.h + y) * g.w + x_) * g.c + c]) * to_c(dy[p * cm + k]);
    }
    acc = block_sum(acc);
    if (threadIdx.x == 0) df[fe] = from_c<T>(acc);
  }
}

}  // namespace conv
}  // namespace gt

// One set of extern "C" kernels per data type (NAME is the dtype name, T its C type).
#define GT_CONV_KERNELS(NAME, T)                                                                           \
  extern "C" __global__ void gt_conv_im2col_##NAME(const T* x, gt::conv::Acc<T>* cols, const long long* geom, \
                                                   long long n0, long long nb) {                           \
    gt::conv::im2col<T>(x, cols, geom, n0, nb);                                                            \
  }                                                                                                        \
  extern "C" __global__ void gt_conv_col2im_##NAME(const gt::conv::Acc<T>* cols, T* dx, const long long* geom, \
                                                   long long n0, long long nb) {                           \
    gt::conv::col2im<T>(cols, dx, geom, n0, nb);                                                           \
  }                                                                                                        \
  extern "C" __global__ void gt_dwconv_forward_##NAME(const T* x, const T* f, T* out, const long long* geom) { \
    gt::conv::depthwise_forward<T>(x, f, out, geom);                                                       \
  }                                                                                                        \
  extern "C" __global__ void gt_dwconv_backprop_input_##NAME(const T* f, const T* dy, T* dx,              \
                                                             const long long* geom) {                      \
    gt::conv::depthwise_backprop_input<T>(f, dy, dx, geom);                                                \
  }                                                                                                        \
  extern "C" __global__ void gt_dwconv_backprop_filter_##NAME(const T* x, const T* dy, T* df,             \
                                                              const long long* geom) {                     \
    gt::conv::depthwise_backprop_filter<T>(x, dy, df, geom);                                               \
  }

// Half types only: widen to float before the GEMM and narrow its result.
#define GT_CONV_HALF_KERNELS(NAME, T)                                                                   \
  extern "C" __global__ void gt_conv_widen_##NAME(const T* src, float* dst, long long n) {              \
    gt::conv::convert<T, float>(src, dst, n);                                                           \
  }                                                                                                     \
  extern "C" __global__ void gt_conv_narrow_##NAME(const float* src, T* dst, long long n) {             \
    gt::conv::convert<float, T>(src, dst, n);                                                           \
  }

// Compute types only (float, double): filter-gradient accumulation across batch chunks.
#define GT_CONV_ACC_KERNELS(NAME, A)                                                                    \
  extern "C" __global__ void gt_conv_accumulate_##NAME(A* acc, const A* part, long long n) {            \
    gt::conv::accumulate<A>(acc, part, n);                                                              \
  }
