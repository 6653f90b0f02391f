// softmax.cuh: fused softmax, log-softmax and softmax cross-entropy (dense and sparse
// labels), one row per group of threads (layouts of gt_reduce.cuh, 256 threads a block).
//
// Each row is read three times and written once: a max (so exp never overflows), a
// sum of exp(x - max), then the outputs; no intermediate array goes to global memory.
// float16/bfloat16 compute in float. The family module is
// gputensor/backend/cuda/families/softmax.py; it launches softmax over any axis
// ((outer, R, inner) with the cols layout when inner > 1) and cross-entropy over the
// last axis (block or warp layout).
#pragma once

#include "gt_reduce.cuh"

namespace gt {

// Row max and log(sum(exp(x - max))), shared by every program below.
template <typename In, class G>
__device__ __forceinline__ void row_log_normaliser(const G& g, const In* __restrict__ x, long long base,
                                                   long long stride, long long n,
                                                   typename compute<In>::type* scratch,
                                                   typename compute<In>::type* max_out,
                                                   typename compute<In>::type* log_sum_out) {
  typedef typename compute<In>::type A;
  const MaxOf<A> mx;
  const SumOf<A> sum;
  A m = mx.identity();
  for (long long r = g.rank; r < n; r += g.size) m = mx.combine(m, to_c(x[base + r * stride]));
  m = g.allreduce(mx, m, scratch);
  A s = A(0);
  for (long long r = g.rank; r < n; r += g.size) s += exp(to_c(x[base + r * stride]) - m);
  s = g.allreduce(sum, s, scratch);
  *max_out = m;
  *log_sum_out = log(s);
}

template <typename In, bool Log> struct Softmax {
  typedef typename compute<In>::type acc_t;
  const In* __restrict__ x;
  In* __restrict__ y;
  long long R;
  template <class G>
  __device__ void run(const G& g, long long base, long long stride, long long, acc_t* scratch) const {
    const long long n = g.extent(R);
    acc_t m, log_sum;
    row_log_normaliser(g, x, base, stride, n, scratch, &m, &log_sum);
    for (long long r = g.rank; r < n; r += g.size) {
      const acc_t z = to_c(x[base + r * stride]) - m - log_sum;
      y[base + r * stride] = from_c<In>(Log ? z : exp(z));
    }
  }
};

// Softmax of contiguous rows of R <= 32 * K * V elements, one warp per row, the row held
// in registers: one read and one write per element, where Softmax above reads three
// times (PyTorch's persistent warp softmax does the same). Lane l holds K groups of V
// consecutive elements, group k at (l + 32 * k) * V, so each group load is coalesced
// across the warp; V = 4 moves them as one aligned Vec4 (the glue checks R % 4 == 0
// and the pointers' alignment). K and V are template arguments so every loop unrolls
// and v[] stays in registers (an index known only at run time would put it in local
// memory). Indices within a row are int: R <= 1024.
template <typename In, bool Log, int K, int V>
__device__ void softmax_rows_in_registers(const In* __restrict__ x, In* __restrict__ y, long long rows, int R) {
  typedef typename compute<In>::type A;
  const int lane = threadIdx.x % GT_WARP;
  const long long warps = blockDim.x / GT_WARP;
  const MaxOf<A> mx;
  for (long long row = blockIdx.x * warps + threadIdx.x / GT_WARP; row < rows; row += gridDim.x * warps) {
    const In* __restrict__ xr = x + row * R;
    In* __restrict__ yr = y + row * R;
    A v[K][V];
    A m = mx.identity();
#pragma unroll
    for (int k = 0; k < K; ++k) {
      const int c = (lane + GT_WARP * k) * V;
      if (V == 4 && c < R) {
        const Vec4<In> q = *reinterpret_cast<const Vec4<In>*>(xr + c);
#pragma unroll
        for (int j = 0; j < V; ++j) v[k][j] = to_c(q.v[j]);
      } else {
#pragma unroll
        for (int j = 0; j < V; ++j) v[k][j] = c + j < R ? to_c(xr[c + j]) : mx.identity();
      }
#pragma unroll
      for (int j = 0; j < V; ++j) m = mx.combine(m, v[k][j]);
    }
    m = warp_allreduce(mx, m);
    A s = A(0);
#pragma unroll
    for (int k = 0; k < K; ++k)
#pragma unroll
      for (int j = 0; j < V; ++j)
        if ((lane + GT_WARP * k) * V + j < R) s += exp(v[k][j] - m);
    s = warp_allreduce(SumOf<A>(), s);
    const A log_sum = log(s);
#pragma unroll
    for (int k = 0; k < K; ++k) {
      const int c = (lane + GT_WARP * k) * V;
      if (c >= R) continue;
      Vec4<In> q;
#pragma unroll
      for (int j = 0; j < V; ++j) {
        const A z = v[k][j] - m - log_sum;
        q.v[j] = from_c<In>(Log ? z : exp(z));
      }
      if (V == 4) {
        *reinterpret_cast<Vec4<In>*>(yr + c) = q;
      } else {
#pragma unroll
        for (int j = 0; j < V; ++j)
          if (c + j < R) yr[c + j] = q.v[j];
      }
    }
  }
}

// loss = -sum(labels * log_softmax(logits)), backprop = softmax(logits) - labels.
template <typename In> struct SoftmaxXent {
  typedef typename compute<In>::type acc_t;
  const In* __restrict__ labels;
  const In* __restrict__ x;
  In* __restrict__ loss;
  In* __restrict__ backprop;
  long long R;
  template <class G>
  __device__ void run(const G& g, long long base, long long stride, long long row, acc_t* scratch) const {
    const long long n = g.extent(R);
    acc_t m, log_sum;
    row_log_normaliser(g, x, base, stride, n, scratch, &m, &log_sum);
    acc_t l = acc_t(0);
    for (long long r = g.rank; r < n; r += g.size) {
      const long long i = base + r * stride;
      const acc_t log_p = to_c(x[i]) - m - log_sum;
      const acc_t label = to_c(labels[i]);
      l -= label * log_p;
      backprop[i] = from_c<In>(exp(log_p) - label);
    }
    l = g.allreduce(SumOf<acc_t>(), l, scratch);
    if (g.leader) loss[row] = from_c<In>(l);
  }
};

// As SoftmaxXent with one-hot labels given as class indices. A label outside [0, R)
// makes its row's loss and gradient NaN (TF's GPU kernel does the same) and sets
// *bad, which the host checks to raise InvalidArgumentError as the CPU backend does.
template <typename In, typename Label> struct SparseSoftmaxXent {
  typedef typename compute<In>::type acc_t;
  const Label* __restrict__ labels;
  const In* __restrict__ x;
  In* __restrict__ loss;
  In* __restrict__ backprop;
  int* __restrict__ bad;
  long long R;
  template <class G>
  __device__ void run(const G& g, long long base, long long stride, long long row, acc_t* scratch) const {
    const long long n = g.extent(R);
    acc_t m, log_sum;
    row_log_normaliser(g, x, base, stride, n, scratch, &m, &log_sum);
    const long long label = static_cast<long long>(labels[row]);
    const bool in_range = label >= 0 && label < R;
    const acc_t nan = nan_of(acc_t(0));
    for (long long r = g.rank; r < n; r += g.size) {
      const long long i = base + r * stride;
      const acc_t p = exp(to_c(x[i]) - m - log_sum);
      backprop[i] = from_c<In>(in_range ? p - acc_t(r == label ? 1 : 0) : nan);
    }
    if (g.leader) {
      loss[row] = from_c<In>(in_range ? m + log_sum - to_c(x[base + label * stride]) : nan);
      if (!in_range) *bad = 1;  // every writer stores the same value, so the race is benign
    }
  }
};

}  // namespace gt
