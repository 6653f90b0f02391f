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
