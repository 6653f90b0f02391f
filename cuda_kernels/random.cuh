// random.cuh: counter-based Philox4x32-10 random numbers (spec: docs/random.md).
//
// The stream of an op call: block j is Philox4x32-10 of the counter (j mod 2^32,
// j >> 32, offset mod 2^32, offset >> 32) under the key (key mod 2^32, key >> 32);
// word i of the stream is word i % 4 of block i / 4. The CPU backend
// (gputensor/backend/cpu/random.py) computes the same words, so uniform floats and
// integers agree bit for bit; normals go through logf/sinf/cosf and may differ from
// NumPy's in the last bits.
//
// Launch shape: a grid-stride loop over Philox blocks (uniform, normal, integer and
// bit kernels: one block gives 4 words, i.e. 1 to 4 outputs) or over elements
// (truncated normal, whose elements redraw independently); launch_config.random.
// No state lives on the device: a thread computes any block from its index alone.
#pragma once

#include "gt_common.cuh"

namespace gt {

struct Words4 {
  unsigned int w[4];
};

__device__ __forceinline__ Words4 philox4x32_10(unsigned int c0, unsigned int c1, unsigned int c2,
                                                 unsigned int c3, unsigned int k0, unsigned int k1) {
  for (int round = 0; round < 10; ++round) {
    if (round) {  // the key is bumped between rounds, not after the last one
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    const unsigned int hi0 = __umulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
    const unsigned int hi1 = __umulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
    const unsigned int n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
  }
  Words4 out;
  out.w[0] = c0;
  out.w[1] = c1;
  out.w[2] = c2;
  out.w[3] = c3;
  return out;
}

// Block j of the stream of (key, offset).
__device__ __forceinline__ Words4 stream_block(unsigned long long key, unsigned long long offset,
                                               unsigned long long j) {
  return philox4x32_10((unsigned int)j, (unsigned int)(j >> 32), (unsigned int)offset,
                       (unsigned int)(offset >> 32), (unsigned int)key, (unsigned int)(key >> 32));
}

// Uniform [0, 1) in a float type narrower than double: as many top bits of the word
// as the type's significand holds, so the value is exact and never rounds up to 1.
template <typename Out> struct uniform_bits;
template <> struct uniform_bits<float> {
  static const int shift = 8;
  __device__ static float scale() { return 5.9604644775390625e-08f; }  // 2^-24
};
template <> struct uniform_bits<__half> {
  static const int shift = 21;
  __device__ static float scale() { return 4.8828125e-04f; }  // 2^-11
};
template <> struct uniform_bits<__nv_bfloat16> {
  static const int shift = 24;
  __device__ static float scale() { return 3.90625e-03f; }  // 2^-8
};

// 53-bit uniform double in [0, 1) from two words.
__device__ __forceinline__ double uniform_double(unsigned int wa, unsigned int wb) {
  return ((double)(wa >> 5) * 67108864.0 + (double)(wb >> 6)) * 1.1102230246251565e-16;  // 2^26, 2^-53
}

// Box-Muller pair (r cos(theta), r sin(theta)) of the float words (wa, wb).
__device__ __forceinline__ void normal_pair(unsigned int wa, unsigned int wb, float* z0, float* z1) {
  const float u1 = ((float)(wa >> 8) + 1.0f) * 5.9604644775390625e-08f;  // in (0, 1]: log is finite
  const float u2 = (float)(wb >> 8) * 5.9604644775390625e-08f;
  const float r = sqrtf(-2.0f * logf(u1));
  const float theta = 6.28318530717958647692f * u2;
  *z0 = r * cosf(theta);
  *z1 = r * sinf(theta);
}

// Box-Muller pair of a whole block in double: u1 from words 0-1 (shifted into (0, 1]),
// u2 from words 2-3.
__device__ __forceinline__ void normal_pair(const Words4& b, double* z0, double* z1) {
  const double u1 = uniform_double(b.w[0], b.w[1]) + 1.1102230246251565e-16;
  const double u2 = uniform_double(b.w[2], b.w[3]);
  const double r = sqrt(-2.0 * log(u1));
  const double theta = 6.283185307179586476925 * u2;
  *z0 = r * cos(theta);
  *z1 = r * sin(theta);
}

template <typename Out>
__device__ void random_uniform(Out* __restrict__ y, long long n, unsigned long long key,
                               unsigned long long offset) {
  GT_GRID_STRIDE(j, (n + 3) / 4) {
    const Words4 b = stream_block(key, offset, (unsigned long long)j);
    for (int q = 0; q < 4 && 4 * j + q < n; ++q)
      y[4 * j + q] = from_c<Out>((float)(b.w[q] >> uniform_bits<Out>::shift) * uniform_bits<Out>::scale());
  }
}

// float64: element i takes words 2i and 2i + 1, so one block gives two elements.
__device__ void random_uniform(double* __restrict__ y, long long n, unsigned long long key,
                               unsigned long long offset) {
  GT_GRID_STRIDE(j, (n + 1) / 2) {
    const Words4 b = stream_block(key, offset, (unsigned long long)j);
    y[2 * j] = uniform_double(b.w[0], b.w[1]);
    if (2 * j + 1 < n) y[2 * j + 1] = uniform_double(b.w[2], b.w[3]);
  }
}

// float32 and narrower: block j gives elements 4j .. 4j + 3.
template <typename Out>
__device__ void random_normal(Out* __restrict__ y, long long n, unsigned long long key,
                              unsigned long long offset) {
  GT_GRID_STRIDE(j, (n + 3) / 4) {
    const Words4 b = stream_block(key, offset, (unsigned long long)j);
    float z[4];
    normal_pair(b.w[0], b.w[1], &z[0], &z[1]);
    normal_pair(b.w[2], b.w[3], &z[2], &z[3]);
    for (int q = 0; q < 4 && 4 * j + q < n; ++q) y[4 * j + q] = from_c<Out>(z[q]);
  }
}

__device__ void random_normal(double* __restrict__ y, long long n, unsigned long long key,
                              unsigned long long offset) {
  GT_GRID_STRIDE(j, (n + 1) / 2) {
    double z0, z1;
    normal_pair(stream_block(key, offset, (unsigned long long)j), &z0, &z1);
    y[2 * j] = z0;
    if (2 * j + 1 < n) y[2 * j + 1] = z1;
  }
}

// Normal number q (0 .. 3) of block `blk`, in float.
__device__ __forceinline__ float normal_of_block(unsigned long long key, unsigned long long offset,
                                                 unsigned long long blk, int q, float) {
  const Words4 b = stream_block(key, offset, blk);
  float z0, z1;
  normal_pair(b.w[q & 2], b.w[(q & 2) + 1], &z0, &z1);
  return (q & 1) ? z1 : z0;
}
__device__ __forceinline__ double normal_of_block(unsigned long long key, unsigned long long offset,
                                                  unsigned long long blk, int q, double) {
  double z0, z1;
  normal_pair(stream_block(key, offset, blk), &z0, &z1);
  return q ? z1 : z0;
}

// Draw d of element i is normal i % P of block d * B + i / P (P normals per block,
// B = ceil(n / P)): each thread redraws its own element until |z| <= 2, reading the
// stream past everything the earlier draws used; after 64 draws (probability below
// 1e-85) the last one is clipped.
template <typename Out>
__device__ void random_truncated_normal(Out* __restrict__ y, long long n, unsigned long long key,
                                        unsigned long long offset) {
  typedef typename compute<Out>::type C;
  const long long per = sizeof(C) == 8 ? 2 : 4;
  const unsigned long long blocks = (unsigned long long)((n + per - 1) / per);
  GT_GRID_STRIDE(i, n) {
    C z = C(0);
    for (int draw = 0; draw < 64; ++draw) {
      z = normal_of_block(key, offset, draw * blocks + (unsigned long long)(i / per), (int)(i % per), C(0));
      if (z >= C(-2) && z <= C(2)) break;
    }
    y[i] = from_c<Out>(z < C(-2) ? C(-2) : (z > C(2) ? C(2) : z));
  }
}

// minval + (w mod span) in unsigned arithmetic (the output is read as signed).
__device__ void random_uniform_int(unsigned int* __restrict__ y, long long n, unsigned long long key,
                                   unsigned long long offset, unsigned long long span,
                                   unsigned long long minval) {
  GT_GRID_STRIDE(j, (n + 3) / 4) {
    const Words4 b = stream_block(key, offset, (unsigned long long)j);
    for (int q = 0; q < 4 && 4 * j + q < n; ++q) y[4 * j + q] = b.w[q] % (unsigned int)span + (unsigned int)minval;
  }
}

__device__ __forceinline__ unsigned long long word64(unsigned int hi, unsigned int lo) {
  return ((unsigned long long)hi << 32) | lo;
}

__device__ void random_uniform_int(unsigned long long* __restrict__ y, long long n, unsigned long long key,
                                   unsigned long long offset, unsigned long long span,
                                   unsigned long long minval) {
  GT_GRID_STRIDE(j, (n + 1) / 2) {
    const Words4 b = stream_block(key, offset, (unsigned long long)j);
    y[2 * j] = word64(b.w[0], b.w[1]) % span + minval;
    if (2 * j + 1 < n) y[2 * j + 1] = word64(b.w[2], b.w[3]) % span + minval;
  }
}

// The raw stream: 32-bit types one word each, 64-bit types (w_2i << 32) | w_2i+1.
__device__ void random_bits(unsigned int* __restrict__ y, long long n, unsigned long long key,
                            unsigned long long offset) {
  GT_GRID_STRIDE(j, (n + 3) / 4) {
    const Words4 b = stream_block(key, offset, (unsigned long long)j);
    for (int q = 0; q < 4 && 4 * j + q < n; ++q) y[4 * j + q] = b.w[q];
  }
}

__device__ void random_bits(unsigned long long* __restrict__ y, long long n, unsigned long long key,
                            unsigned long long offset) {
  GT_GRID_STRIDE(j, (n + 1) / 2) {
    const Words4 b = stream_block(key, offset, (unsigned long long)j);
    y[2 * j] = word64(b.w[0], b.w[1]);
    if (2 * j + 1 < n) y[2 * j + 1] = word64(b.w[2], b.w[3]);
  }
}

}  // namespace gt
