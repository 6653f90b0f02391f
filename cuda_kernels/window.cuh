// window.cuh: sliding-window geometry shared by the convolution and pooling kernels.
//
// Images are NHWC. A window (receptive field) of output pixel (ho, wo) reads padded-input
// rows ho*sh + i*dh and columns wo*sw + j*dw for taps 0 <= i < kh, 0 <= j < kw; in
// unpadded coordinates that is h = ho*sh - pt + i*dh (likewise w), and taps that land
// outside [0, H) x [0, W) read padding. Backward kernels use the gather form (each
// input pixel sums over the windows that read it), which needs no atomics and gives
// the same result on every run.
#pragma once

#include "gt_block.cuh"

namespace gt {

// The geometry table (int64, see gputensor/backend/cuda/families/conv.py `geometry`).
struct Window {
  long long n, h, w, c, ho, wo, kh, kw, sh, sw, dh, dw, pt, pl, m;
  __device__ explicit Window(const long long* __restrict__ g)
      : n(g[0]), h(g[1]), w(g[2]), c(g[3]), ho(g[4]), wo(g[5]), kh(g[6]), kw(g[7]), sh(g[8]),
        sw(g[9]), dh(g[10]), dw(g[11]), pt(g[12]), pl(g[13]), m(g[14]) {}
  __device__ __forceinline__ bool inside(long long y, long long x) const {
    return y >= 0 && y < h && x >= 0 && x < w;
  }
};

// Splits a flat NHWC-style index into (outer, rows, cols, inner) for extents (rows, cols, inner).
__device__ __forceinline__ void unravel_pixel(long long e, long long rows, long long cols, long long inner,
                                              long long& outer, long long& y, long long& x, long long& k) {
  k = e % inner;
  e /= inner;
  x = e % cols;
  e /= cols;
  y = e % rows;
  outer = e / rows;
}

// Calls visit(ho, wo, i, j) for every output pixel whose window reads input pixel (y, x)
// through tap (i, j), taps in row-major order (the order the CPU backend sums in).
template <typename Visit>
__device__ __forceinline__ void for_each_window_reading(const Window& g, long long y, long long x, Visit&& visit) {
  for (long long i = 0; i < g.kh; ++i) {
    const long long ty = y + g.pt - i * g.dh;
    if (ty < 0) break;  // ty only falls as i grows
    if (ty % g.sh != 0 || ty / g.sh >= g.ho) continue;
    for (long long j = 0; j < g.kw; ++j) {
      const long long tx = x + g.pl - j * g.dw;
      if (tx < 0) break;
      if (tx % g.sw != 0 || tx / g.sw >= g.wo) continue;
      visit(ty / g.sh, tx / g.sw, i, j);
    }
  }
}

}  // namespace gt
