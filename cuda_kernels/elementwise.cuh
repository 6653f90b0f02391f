// elementwise.cuh: device functions named in the op table's CUDA expressions.
//
// The elementwise family's sources are generated from the op declarations
// (gputensor/ops/*.py, `cuda=`): one unit per op, one kernel per dtype and
// layout (flat, broadcast, scalar operand). The expressions are evaluated in
// the compute type T (float for half/bfloat16), so only float, double and the
// integer types need overloads here.
#pragma once

#include "gt_common.cuh"

namespace gt {
template <typename T> __device__ __forceinline__ T abs_(T a) { return a < T(0) ? -a : a; }
template <typename T> __device__ __forceinline__ T sign_(T a) { return T((a > T(0)) - (a < T(0))); }
template <typename T> __device__ __forceinline__ T max_(T a, T b) { return a > b || a != a ? a : b; }
template <typename T> __device__ __forceinline__ T min_(T a, T b) { return a < b || a != a ? a : b; }
}  // namespace gt

#define gt_abs(a) gt::abs_(a)
#define gt_sign(a) gt::sign_(a)
#define gt_max(a, b) gt::max_(a, b)
#define gt_min(a, b) gt::min_(a, b)

__device__ __forceinline__ float gt_sigmoid(float a) { return 1.0f / (1.0f + expf(-a)); }
__device__ __forceinline__ double gt_sigmoid(double a) { return 1.0 / (1.0 + exp(-a)); }

// softplus(a) = log(1 + e^a) without overflow for large a.
__device__ __forceinline__ float gt_softplus(float a) { return fmaxf(a, 0.0f) + log1pf(expf(-fabsf(a))); }
__device__ __forceinline__ double gt_softplus(double a) { return fmax(a, 0.0) + log1p(exp(-fabs(a))); }

__device__ __forceinline__ float gt_selu(float a) {
  return 1.0507009873554805f * (a > 0.0f ? a : 1.6732632423543772f * expm1f(a));
}
__device__ __forceinline__ double gt_selu(double a) {
  return 1.0507009873554805 * (a > 0.0 ? a : 1.6732632423543772 * expm1(a));
}

__device__ __forceinline__ float gt_gelu(float a, bool approximate) {
  if (approximate) return 0.5f * a * (1.0f + tanhf(0.7978845608028654f * (a + 0.044715f * a * a * a)));
  return 0.5f * a * (1.0f + erff(a * 0.7071067811865476f));
}
__device__ __forceinline__ double gt_gelu(double a, bool approximate) {
  if (approximate) return 0.5 * a * (1.0 + tanh(0.7978845608028654 * (a + 0.044715 * a * a * a)));
  return 0.5 * a * (1.0 + erf(a * 0.7071067811865476));
}

// Floor division and modulo with Python/TF semantics (result takes the divisor's sign).
// Integer division by zero yields 0 on the GPU (the CPU backend raises; a device
// kernel cannot), as documented in README.md.
// Below zero? Always false for unsigned types, spelled so that NVRTC 13's "pointless
// comparison of unsigned integer with zero" warning (an error here) is not raised.
template <typename T> __device__ __forceinline__ bool gt_below_zero(T a) { return a < T(0); }
template <> __device__ __forceinline__ bool gt_below_zero(unsigned char) { return false; }
template <> __device__ __forceinline__ bool gt_below_zero(unsigned short) { return false; }
template <> __device__ __forceinline__ bool gt_below_zero(unsigned int) { return false; }
template <> __device__ __forceinline__ bool gt_below_zero(unsigned long long) { return false; }

template <typename T> __device__ __forceinline__ T gt_floordiv(T a, T b) {
  if (b == T(0)) return T(0);
  T q = a / b;
  if ((a % b != T(0)) && (gt_below_zero(a) != gt_below_zero(b))) q -= T(1);
  return q;
}
__device__ __forceinline__ float gt_floordiv(float a, float b) { return floorf(a / b); }
__device__ __forceinline__ double gt_floordiv(double a, double b) { return floor(a / b); }

template <typename T> __device__ __forceinline__ T gt_floormod(T a, T b) {
  if (b == T(0)) return T(0);
  T r = a % b;
  if (r != T(0) && (gt_below_zero(r) != gt_below_zero(b))) r += b;
  return r;
}
__device__ __forceinline__ float gt_floormod(float a, float b) {
  float r = fmodf(a, b);
  return (r != 0.0f && ((r < 0.0f) != (b < 0.0f))) ? r + b : r;
}
__device__ __forceinline__ double gt_floormod(double a, double b) {
  double r = fmod(a, b);
  return (r != 0.0 && ((r < 0.0) != (b < 0.0))) ? r + b : r;
}

// Integer power by squaring (negative exponents are rejected on the host).
template <typename T> __device__ __forceinline__ T gt_pow(T a, T b) {
  T result = T(1);
  while (b > T(0)) {
    if (b & T(1)) result *= a;
    a *= a;
    b >>= 1;
  }
  return result;
}
__device__ __forceinline__ float gt_pow(float a, float b) { return powf(a, b); }
__device__ __forceinline__ double gt_pow(double a, double b) { return pow(a, b); }
