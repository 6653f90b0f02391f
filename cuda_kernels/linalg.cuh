// linalg.cuh: the structural matrix ops (band part, diagonal part, diagonal matrix).
//
// Products and factorisations go to cuBLAS/cuSOLVER (gputensor/backend/cuda/families/
// linalg.py); these three only move elements, so they work on raw W-byte words and one
// instantiation per word width serves every dtype (zero is all-zero bits in each): an
// element is `parts` consecutive words (2 for complex128, 1 otherwise), and n, the
// grid-stride extent, counts output words.
// Matrices are the last two axes of a C-contiguous batch. Launch: grid-stride over the
// output elements (launch_config.linalg), 64-bit indices.
#pragma once

#include "gt_common.cuh"

namespace gt {

// y = x where -num_lower <= col - row <= num_upper (a negative bound keeps that whole
// triangle), else 0.
template <typename W>
__device__ void band_part(const W* __restrict__ x, W* __restrict__ y, long long n, int parts, long long rows,
                          long long cols, long long num_lower, long long num_upper) {
  GT_GRID_STRIDE(i, n) {
    const long long e = i / parts;
    const long long c = e % cols, r = (e / cols) % rows;
    const bool keep = (num_lower < 0 || r - c <= num_lower) && (num_upper < 0 || c - r <= num_upper);
    y[i] = keep ? x[i] : W(0);
  }
}

// y[b, j] = x[b, j + row0, j + col0] for j < len: diagonal k has row0 = max(-k, 0),
// col0 = max(k, 0).
template <typename W>
__device__ void diag_part(const W* __restrict__ x, W* __restrict__ y, long long n, int parts, long long len,
                          long long rows, long long cols, long long row0, long long col0) {
  GT_GRID_STRIDE(i, n) {
    const long long e = i / parts, b = e / len, j = e % len;
    y[i] = x[((b * rows + j + row0) * cols + j + col0) * parts + i % parts];
  }
}

// y[b, r, c] = d[b, r - row0] on diagonal k (c - r == k, 0 <= r - row0 < len), else pad.
template <typename W>
__device__ void diag(const W* __restrict__ d, W* __restrict__ y, const W* __restrict__ pad, long long n,
                     int parts, long long len, long long rows, long long cols, long long k, long long row0) {
  GT_GRID_STRIDE(i, n) {
    const long long e = i / parts, p = i % parts;
    const long long c = e % cols, r = (e / cols) % rows, b = e / (rows * cols);
    const long long j = r - row0;
    y[i] = (c - r == k && j >= 0 && j < len) ? d[(b * len + j) * parts + p] : pad[p];
  }
}

}  // namespace gt
