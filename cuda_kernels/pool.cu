// pool.cu: 2-D max and average pooling and their gradients (NHWC).
//
// Launch shape: 1-D grid-stride loops over output elements (forward) or input elements
// (gradients, gather form: each input pixel sums over the windows that read it, so no
// atomics and the same result on every run); launch_config.pool. Geometry is the
// int64 table of gt::Window (dilation 1).
//
// Max pooling follows the CPU backend exactly: padding reads as `lowest` (-inf, or the
// integer minimum), NaN wins (the first NaN of the window), and ties go to the first
// maximum in row-major tap order. The gradient runs in two passes: gt_maxpool_argmax
// stores the winning tap of every window (int32), gt_maxpool_backprop gathers dy.
// Average pooling divides by the number of real (not padding) inputs in the window.
#include "window.cuh"

namespace gt {
namespace pool {

template <typename T> using Acc = typename compute<T>::type;

// The maximum of the window of output pixel (n, ho, wo), channel c, and its tap index.
template <typename T>
__device__ __forceinline__ void window_max(const T* __restrict__ x, const Window& g, long long n, long long ho,
                                           long long wo, long long c, Acc<T> lowest, Acc<T>& best, int& arg) {
  best = lowest;
  arg = 0;
  for (long long t = 0; t < g.kh * g.kw; ++t) {
    const long long y = ho * g.sh - g.pt + t / g.kw, x_ = wo * g.sw - g.pl + t % g.kw;
    const Acc<T> v = g.inside(y, x_) ? to_c(x[((n * g.h + y) * g.w + x_) * g.c + c]) : lowest;
    if (t == 0 || v > best || (is_nan(v) && !is_nan(best))) {
      best = v;
      arg = (int)t;
    }
  }
}

template <typename T>
__device__ __forceinline__ void max_forward(const T* __restrict__ x, T* __restrict__ y,
                                            const long long* __restrict__ geom, Acc<T> lowest) {
  const Window g(geom);
  GT_GRID_STRIDE(e, g.n * g.ho * g.wo * g.c) {
    long long n, ho, wo, c;
    unravel_pixel(e, g.ho, g.wo, g.c, n, ho, wo, c);
    Acc<T> best;
    int arg;
    window_max(x, g, n, ho, wo, c, lowest, best, arg);
    y[e] = from_c<T>(best);
  }
}

template <typename T>
__device__ __forceinline__ void max_argmax(const T* __restrict__ x, int* __restrict__ taps,
                                           const long long* __restrict__ geom, Acc<T> lowest) {
  const Window g(geom);
  GT_GRID_STRIDE(e, g.n * g.ho * g.wo * g.c) {
    long long n, ho, wo, c;
    unravel_pixel(e, g.ho, g.wo, g.c, n, ho, wo, c);
    Acc<T> best;
    int arg;
    window_max(x, g, n, ho, wo, c, lowest, best, arg);
    taps[e] = arg;
  }
}

// dx[n][y][x][c] = sum of dy over the windows whose winning tap read (y, x).
template <typename T>
__device__ __forceinline__ void max_backprop(const int* __restrict__ taps, const T* __restrict__ dy,
                                             T* __restrict__ dx, const long long* __restrict__ geom) {
  const Window g(geom);
  GT_GRID_STRIDE(e, g.n * g.h * g.w * g.c) {
    long long n, y, x, c;
    unravel_pixel(e, g.h, g.w, g.c, n, y, x, c);
    Acc<T> acc(0);
    for_each_window_reading(g, y, x, [&](long long ho, long long wo, long long i, long long j) {
      const long long o = ((n * g.ho + ho) * g.wo + wo) * g.c + c;
      if (taps[o] == i * g.kw + j) acc += to_c(dy[o]);
    });
    dx[e] = from_c<T>(acc);
  }
}

// Number of real input pixels in the window of output pixel (ho, wo): the average's divisor.
__device__ __forceinline__ long long window_count(const Window& g, long long ho, long long wo) {
  const long long y0 = ho * g.sh - g.pt, x0 = wo * g.sw - g.pl;
  const long long rows = (y0 + g.kh < g.h ? y0 + g.kh : g.h) - (y0 > 0 ? y0 : 0);
  const long long cols = (x0 + g.kw < g.w ? x0 + g.kw : g.w) - (x0 > 0 ? x0 : 0);
  return rows > 0 && cols > 0 ? rows * cols : 0;
}

template <typename T>
__device__ __forceinline__ void avg_forward(const T* __restrict__ x, T* __restrict__ y,
                                            const long long* __restrict__ geom) {
  const Window g(geom);
  GT_GRID_STRIDE(e, g.n * g.ho * g.wo * g.c) {
    long long n, ho, wo, c;
    unravel_pixel(e, g.ho, g.wo, g.c, n, ho, wo, c);
    Acc<T> acc(0);
    for (long long i = 0; i < g.kh; ++i) {
      for (long long j = 0; j < g.kw; ++j) {
        const long long yy = ho * g.sh - g.pt + i, xx = wo * g.sw - g.pl + j;
        if (g.inside(yy, xx)) acc += to_c(x[((n * g.h + yy) * g.w + xx) * g.c + c]);
      }
    }
    y[e] = from_c<T>(acc / Acc<T>(window_count(g, ho, wo)));
  }
}

// dx[n][y][x][c] = sum over the windows reading (y, x) of dy / (that window's count).
template <typename T>
__device__ __forceinline__ void avg_backprop(const T* __restrict__ dy, T* __restrict__ dx,
                                             const long long* __restrict__ geom) {
  const Window g(geom);
  GT_GRID_STRIDE(e, g.n * g.h * g.w * g.c) {
    long long n, y, x, c;
    unravel_pixel(e, g.h, g.w, g.c, n, y, x, c);
    Acc<T> acc(0);
    for_each_window_reading(g, y, x, [&](long long ho, long long wo, long long, long long) {
      acc += to_c(dy[((n * g.ho + ho) * g.wo + wo) * g.c + c]) / Acc<T>(window_count(g, ho, wo));
    });
    dx[e] = from_c<T>(acc);
  }
}

}  // namespace pool
}  // namespace gt

// Max pooling for every dtype it takes (NAME is the dtype name, T its C type).
#define GT_MAXPOOL_KERNELS(NAME, T)                                                                     \
  extern "C" __global__ void gt_maxpool_forward_##NAME(const T* x, T* y, const long long* geom,         \
                                                       gt::pool::Acc<T> lowest) {                       \
    gt::pool::max_forward<T>(x, y, geom, lowest);                                                       \
  }                                                                                                     \
  extern "C" __global__ void gt_maxpool_argmax_##NAME(const T* x, int* taps, const long long* geom,     \
                                                      gt::pool::Acc<T> lowest) {                        \
    gt::pool::max_argmax<T>(x, taps, geom, lowest);                                                     \
  }                                                                                                     \
  extern "C" __global__ void gt_maxpool_backprop_##NAME(const int* taps, const T* dy, T* dx,            \
                                                        const long long* geom) {                        \
    gt::pool::max_backprop<T>(taps, dy, dx, geom);                                                      \
  }

// Average pooling, floating types only.
#define GT_AVGPOOL_KERNELS(NAME, T)                                                                     \
  extern "C" __global__ void gt_avgpool_forward_##NAME(const T* x, T* y, const long long* geom) {       \
    gt::pool::avg_forward<T>(x, y, geom);                                                               \
  }                                                                                                     \
  extern "C" __global__ void gt_avgpool_backprop_##NAME(const T* dy, T* dx, const long long* geom) {    \
    gt::pool::avg_backprop<T>(dy, dx, geom);                                                            \
  }
