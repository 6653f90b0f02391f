// reduce.cuh: reductions (sum, prod, mean, max, min, any, all, logsumexp, argmax,
// argmin), scans (cumsum, cumprod) and the axis permutation that feeds them.
//
// The family module (gputensor/backend/cuda/families/reduce.py) generates one
// extern "C" wrapper per op, dtype and layout; each wrapper builds a program below
// and runs it under a layout of gt_reduce.cuh (block / warp / cols, 256 threads).
//
// Accumulators (the choice is documented in the family module):
//   float16/bfloat16 -> float, float32 -> float (as TF's GPU kernels: full speed on
//   GPUs with slow FP64; the tree keeps the error near log2(n) ulps), float64 -> double;
//   integers -> unsigned 64-bit, whose wrap-around is defined behaviour and gives the
//   same low bits as NumPy's arithmetic in the narrow type; the signed mean divides
//   the two's-complement total as a signed number, truncating toward zero as TF does.
#pragma once

#include "gt_reduce.cuh"

namespace gt {

// complex64/complex128 as (re, im) pairs: the glue passes their buffers as float/double
// arrays and the wrappers reinterpret them. Only sums, products and means take them.
template <typename T> struct Complex {
  T re, im;
  Complex() = default;  // trivial, so __shared__ arrays of it are allowed
  __device__ Complex(T r) : re(r), im(T(0)) {}
  __device__ Complex(T r, T i) : re(r), im(i) {}
};
template <typename T> __device__ __forceinline__ Complex<T> operator+(Complex<T> a, Complex<T> b) {
  return Complex<T>(a.re + b.re, a.im + b.im);
}
template <typename T> __device__ __forceinline__ Complex<T> operator*(Complex<T> a, Complex<T> b) {
  return Complex<T>(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
}
template <typename T> __device__ __forceinline__ Complex<T> shfl_down(Complex<T> a, int d) {
  return Complex<T>(shfl_down(a.re, d), shfl_down(a.im, d));
}
template <typename T> __device__ __forceinline__ Complex<T> shfl_lane0(Complex<T> a) {
  return Complex<T>(shfl_lane0(a.re), shfl_lane0(a.im));
}
template <typename T> __device__ __forceinline__ T shfl_up(T v, int d) { return __shfl_up_sync(0xffffffffu, v, d); }
template <typename T> __device__ __forceinline__ Complex<T> shfl_up(Complex<T> a, int d) {
  return Complex<T>(shfl_up(a.re, d), shfl_up(a.im, d));
}

template <typename T> struct sum_acc { typedef unsigned long long type; };
template <> struct sum_acc<__half> { typedef float type; };
template <> struct sum_acc<__nv_bfloat16> { typedef float type; };
template <> struct sum_acc<float> { typedef float type; };
template <> struct sum_acc<double> { typedef double type; };
template <typename T> struct sum_acc<Complex<T> > { typedef Complex<T> type; };

// ------------------------------------------------------------ reduction functors
// Each has in_t/out_t/acc_t, identity(), load(v, r), combine(a, b), finish(a, R).
template <typename In> struct SumR : SumOf<typename sum_acc<In>::type> {
  typedef In in_t;
  typedef In out_t;
  typedef typename sum_acc<In>::type acc_t;
  __device__ acc_t load(In v, long long) const { return static_cast<acc_t>(to_c(v)); }
  __device__ In finish(acc_t a, long long) const { return from_c<In>(a); }
};

template <typename In> struct ProdR : SumR<In> {
  typedef typename SumR<In>::acc_t acc_t;
  __device__ acc_t identity() const { return acc_t(1); }
  __device__ acc_t combine(acc_t a, acc_t b) const { return a * b; }
};

// sum / R in the accumulator; for floats 0 / 0 gives the NaN an empty mean has.
template <typename In, typename A> struct MeanDiv {
  __device__ static In go(A total, long long R) { return from_c<In>(total / A(R)); }
};
// Integers: the signed total (two's complement of the wrapped sum) truncated toward 0,
// as TF; an empty mean is 0, as the CPU backend.
template <typename In> struct MeanDiv<In, unsigned long long> {
  __device__ static In go(unsigned long long total, long long R) {
    if (R == 0) return In(0);
    if (In(-1) < In(0)) return static_cast<In>(static_cast<long long>(total) / R);
    return static_cast<In>(total / static_cast<unsigned long long>(R));
  }
};

template <typename T> struct MeanDiv<Complex<T>, Complex<T> > {
  __device__ static Complex<T> go(Complex<T> total, long long R) {
    return Complex<T>(total.re / T(R), total.im / T(R));
  }
};

template <typename In> struct MeanR : SumR<In> {
  typedef typename SumR<In>::acc_t acc_t;
  __device__ In finish(acc_t a, long long R) const { return MeanDiv<In, acc_t>::go(a, R); }
};

template <typename In, bool IsMax> struct ExtremumR {
  typedef In in_t;
  typedef In out_t;
  typedef typename ordered<In>::type acc_t;
  __device__ acc_t identity() const { return IsMax ? limits<In>::lowest() : limits<In>::highest(); }
  __device__ acc_t load(In v, long long) const { return static_cast<acc_t>(to_c(v)); }
  __device__ acc_t combine(acc_t a, acc_t b) const {
    return ((IsMax ? a > b : a < b) || a != a) ? a : b;  // NaN wins, as np.max
  }
  __device__ In finish(acc_t a, long long) const { return from_c<In>(a); }
};

template <bool IsAny> struct LogicalR {
  typedef bool in_t;
  typedef bool out_t;
  typedef int acc_t;
  __device__ int identity() const { return IsAny ? 0 : 1; }
  __device__ int load(bool v, long long) const { return v ? 1 : 0; }
  __device__ int combine(int a, int b) const { return IsAny ? (a | b) : (a & b); }
  __device__ bool finish(int a, long long) const { return a != 0; }
};

// First index of the extreme value; NaN counts as the extreme (np.argmax's rule).
template <typename In, typename Out, bool IsMax> struct ArgR {
  typedef In in_t;
  typedef Out out_t;
  typedef typename ordered<In>::type value_t;
  typedef ArgAcc<value_t> acc_t;
  __device__ acc_t identity() const {
    acc_t a;
    a.v = value_t(0);
    a.i = -1;
    return a;
  }
  __device__ acc_t load(In v, long long r) const {
    acc_t a;
    a.v = static_cast<value_t>(to_c(v));
    a.i = r;
    return a;
  }
  __device__ acc_t combine(acc_t a, acc_t b) const {
    if (a.i < 0) return b;
    if (b.i < 0) return a;
    const bool a_nan = a.v != a.v, b_nan = b.v != b.v;
    if (a_nan || b_nan) return (a_nan && b_nan) ? (a.i < b.i ? a : b) : (a_nan ? a : b);
    if (a.v != b.v) return (IsMax ? a.v > b.v : a.v < b.v) ? a : b;
    return a.i < b.i ? a : b;
  }
  __device__ Out finish(acc_t a, long long) const { return static_cast<Out>(a.i); }
};

// Folds elements begin, begin + step, ... < end of a thread's share with eight loads in
// flight (into four accumulators): one dependent load at a time keeps too few bytes in
// flight per SM to cover HBM latency (an H200 reduce_sum of 1e8 floats ran at 55% of the
// copy bandwidth so). Every functor's combine is associative and commutative (ArgR
// breaks ties by index), so the partial accumulators may be merged in any order.
template <class F, class Get>
__device__ __forceinline__ typename F::acc_t fold4(const F& f, const Get& get, long long r, long long end,
                                                   long long step) {
  typedef typename F::acc_t A;
  A a0 = f.identity(), a1 = f.identity(), a2 = f.identity(), a3 = f.identity();
  // Eight loads issued before the first is used (two per accumulator).
  for (; r + 7 * step < end; r += 8 * step) {
    typename F::in_t v[8];
#pragma unroll
    for (int k = 0; k < 8; ++k) v[k] = get(r + k * step);
    a0 = f.combine(f.combine(a0, f.load(v[0], r)), f.load(v[4], r + 4 * step));
    a1 = f.combine(f.combine(a1, f.load(v[1], r + step)), f.load(v[5], r + 5 * step));
    a2 = f.combine(f.combine(a2, f.load(v[2], r + 2 * step)), f.load(v[6], r + 6 * step));
    a3 = f.combine(f.combine(a3, f.load(v[3], r + 3 * step)), f.load(v[7], r + 7 * step));
  }
  for (; r < end; r += step) a0 = f.combine(a0, f.load(get(r), r));
  return f.combine(f.combine(a0, a1), f.combine(a2, a3));
}

// ---------------------------------------------------------------------- programs
template <class F> struct Reduce {
  typedef typename F::acc_t acc_t;
  const typename F::in_t* __restrict__ x;
  typename F::out_t* __restrict__ y;
  long long R;
  F f;
  template <class G>
  __device__ void run(const G& g, long long base, long long stride, long long out_index, acc_t* scratch) const {
    const typename F::in_t* __restrict__ row = x + base;
    acc_t a = fold4(f, [=](long long r) { return row[r * stride]; }, g.rank, g.extent(R), g.size);
    a = g.allreduce(f, a, scratch);
    if (g.leader) y[out_index] = f.finish(a, R);
  }
};

// Long rows with few of them (a full reduction is one row of everything) would leave
// most of the GPU idle with a block per row, so they go in two stages: stage 1 gives
// every (row, segment) pair a block and stores its accumulator (16 bytes a slot, the
// largest accumulator, ArgAcc<double>); stage 2 combines each row's S partials with
// Partials<F> under the block layout and finishes with the full row length. The scans'
// stage 1 is the same pass over each row read from its end when `reverse` (segment k
// then covers positions k*seg... counted from the end, and loads see those positions).
template <class F>
__device__ void reduce_segments(const typename F::in_t* __restrict__ x, unsigned char* __restrict__ partial,
                                long long outer, long long R, long long seg, long long S,
                                bool reverse = false) {
  typedef typename F::acc_t A;
  __shared__ A scratch[GT_REDUCE_THREADS];
  const F f = F();
  const BlockGroup g;
  A* out = reinterpret_cast<A*>(partial);
  for (long long t = blockIdx.x; t < outer * S; t += gridDim.x) {
    const long long row = t / S, begin = (t % S) * seg;
    const long long end = begin + seg < R ? begin + seg : R;
    const typename F::in_t* __restrict__ xs = x + row * R;
    A a = fold4(f, [=](long long r) { return xs[reverse ? R - 1 - r : r]; }, begin + g.rank, end, g.size);
    a = g.allreduce(f, a, scratch);
    if (g.leader) out[t] = a;
  }
}

template <class F> struct Partials {
  typedef typename F::acc_t acc_t;
  typedef acc_t in_t;
  typedef typename F::out_t out_t;
  F f;
  long long full_length;  // what finish divides by (mean), not the number of partials
  __device__ acc_t identity() const { return f.identity(); }
  __device__ acc_t load(acc_t v, long long) const { return v; }
  __device__ acc_t combine(acc_t a, acc_t b) const { return f.combine(a, b); }
  __device__ out_t finish(acc_t a, long long) const { return f.finish(a, full_length); }
};

template <class F>
__device__ void reduce_partials(const unsigned char* __restrict__ partial, typename F::out_t* __restrict__ y,
                                long long outer, long long S, long long R) {
  const Partials<F> pf = {F(), R};
  const Reduce<Partials<F> > p = {reinterpret_cast<const typename F::acc_t*>(partial), y, S, pf};
  rows_block(p, outer);
}

// log(sum(exp(x))) = m + log(sum(exp(x - m))) with m the row max, so exp never
// overflows; a non-finite m (all -inf, any +inf or NaN) is replaced by 0 as the CPU
// backend does, which yields -inf, +inf or NaN naturally.
template <typename In> struct LogSumExp {
  typedef typename compute<In>::type acc_t;
  const In* __restrict__ x;
  In* __restrict__ y;
  long long R;
  template <class G>
  __device__ void run(const G& g, long long base, long long stride, long long out_index, acc_t* scratch) const {
    const MaxOf<acc_t> mx;
    const SumOf<acc_t> sum;
    const long long n = g.extent(R);
    acc_t m = mx.identity();
    for (long long r = g.rank; r < n; r += g.size) m = mx.combine(m, to_c(x[base + r * stride]));
    m = g.allreduce(mx, m, scratch);
    const acc_t shift = (m - m == acc_t(0)) ? m : acc_t(0);
    acc_t s = acc_t(0);
    for (long long r = g.rank; r < n; r += g.size) s += exp(to_c(x[base + r * stride]) - shift);
    s = g.allreduce(sum, s, scratch);
    if (g.leader) y[out_index] = from_c<In>(log(s) + shift);
  }
};

// ------------------------------------------------------------------------- scans
// Inclusive or exclusive scan of each row of an (outer, R) array with one block per
// row: the row goes through in chunks of blockDim.x elements; each chunk is scanned
// with warp shuffles, the warp totals are scanned through shared memory, and a carry
// holds the total of the chunks before. `reverse` walks the row from its end.
template <class F>
__device__ void scan_range(const typename F::in_t* __restrict__ x, typename F::out_t* __restrict__ y,
                           long long row, long long R, long long begin, long long end,
                           typename F::acc_t carry, bool exclusive, bool reverse, const F& f,
                           typename F::acc_t* warp_total) {
  typedef typename F::acc_t A;
  const int lane = threadIdx.x % GT_WARP, warp = threadIdx.x / GT_WARP;
  const int warps = blockDim.x / GT_WARP;
  for (long long chunk = begin; chunk < end; chunk += blockDim.x) {
    const long long k = chunk + threadIdx.x;
    const long long idx = row * R + (reverse ? R - 1 - k : k);
    A incl = k < end ? f.load(x[idx], k) : f.identity();
    for (int d = 1; d < GT_WARP; d <<= 1) {
      const A up = shfl_up(incl, d);
      if (lane >= d) incl = f.combine(up, incl);
    }
    A excl = shfl_up(incl, 1);
    if (lane == 0) excl = f.identity();
    if (lane == GT_WARP - 1) warp_total[warp] = incl;
    __syncthreads();
    A before = carry;
    for (int w = 0; w < warp; ++w) before = f.combine(before, warp_total[w]);
    A chunk_total = carry;
    for (int w = 0; w < warps; ++w) chunk_total = f.combine(chunk_total, warp_total[w]);
    if (k < end) y[idx] = f.finish(f.combine(before, exclusive ? excl : incl), R);
    carry = chunk_total;
    __syncthreads();  // warp_total is rewritten by the next chunk
  }
}

template <class F>
__device__ void scan_rows(const typename F::in_t* __restrict__ x, typename F::out_t* __restrict__ y,
                          long long outer, long long R, bool exclusive, bool reverse, const F& f) {
  __shared__ typename F::acc_t warp_total[GT_REDUCE_THREADS / GT_WARP];
  for (long long row = blockIdx.x; row < outer; row += gridDim.x)
    scan_range(x, y, row, R, 0LL, R, f.identity(), exclusive, reverse, f, warp_total);
}

// Few long rows scan in two stages, as the reductions do: stage 1 (reduce_segments with
// `reverse`) stores the total of each (row, segment) in scan order; in stage 2 a block
// per segment starts from the combined totals of the segments before its own.
template <class F>
__device__ void scan_segments(const typename F::in_t* __restrict__ x, typename F::out_t* __restrict__ y,
                              const unsigned char* __restrict__ partial, long long outer, long long R,
                              long long seg, long long S, bool exclusive, bool reverse) {
  typedef typename F::acc_t A;
  __shared__ A warp_total[GT_REDUCE_THREADS / GT_WARP];
  const F f = F();
  const A* totals = reinterpret_cast<const A*>(partial);
  for (long long t = blockIdx.x; t < outer * S; t += gridDim.x) {
    const long long row = t / S, s = t % S, begin = s * seg;
    const long long end = begin + seg < R ? begin + seg : R;
    // Every thread folds the earlier totals in the same order (S is a few hundred at most).
    A carry = f.identity();
    for (long long q = 0; q < s; ++q) carry = f.combine(carry, totals[row * S + q]);
    scan_range(x, y, row, R, begin, end, carry, exclusive, reverse, f, warp_total);
  }
}

// Scan along the middle axis of (outer, R, inner): one thread per column walks its R
// elements in order; neighbouring threads take neighbouring columns, so loads coalesce.
template <class F>
__device__ void scan_cols(const typename F::in_t* __restrict__ x, typename F::out_t* __restrict__ y,
                          long long outer, long long R, long long inner, bool exclusive, bool reverse,
                          const F& f) {
  GT_GRID_STRIDE(col, outer * inner) {
    const long long o = col / inner, c = col % inner;
    typename F::acc_t acc = f.identity();
    for (long long k = 0; k < R; ++k) {
      const long long idx = (o * R + (reverse ? R - 1 - k : k)) * inner + c;
      const typename F::acc_t v = f.load(x[idx], k);
      if (exclusive) {
        y[idx] = f.finish(acc, R);
        acc = f.combine(acc, v);
      } else {
        acc = f.combine(acc, v);
        y[idx] = f.finish(acc, R);
      }
    }
  }
}

// ------------------------------------------------------------------- permutation
// y[i] = x[offset of i], with meta = out shape[ndim] then the input's element stride
// for each output dimension: gathers a transposed copy so that the reduced axes end
// up contiguous. Elements are moved as raw W-byte words (any dtype of that width).
template <typename W>
__device__ void permute(const W* __restrict__ x, W* __restrict__ y, const long long* __restrict__ meta,
                        int ndim, long long n) {
  GT_GRID_STRIDE(i, n) {
    long long off;
    bcast_offsets<1>(i, ndim, meta, &off);
    y[i] = x[off];
  }
}

}  // namespace gt
