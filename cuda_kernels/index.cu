// index.cu: gather, gather_nd, scatter_nd / tensor_scatter_nd_*, and stream compaction
// (the positions of the true/non-zero elements, for where(x) and boolean_mask).
//
// Gathers move values without looking at them, so they are instantiated per element
// width (b1..b8, untyped pointers) and per index type (int32, int64). Out-of-range
// indices read zeros and out-of-range scatter indices are skipped, as TF's GPU kernels
// do; the array ops first run gt_index_find_bad_* and raise TF's CPU error instead.
//
// Scatters combine colliding updates with atomics (TF's scatter_nd sums duplicates):
// native atomicAdd where the hardware has one, else a compare-and-swap loop on the
// element (4 and 8 bytes) or on the aligned 32-bit word holding it (1 and 2 bytes; the
// glue pads such outputs to a multiple of 4 bytes so the word never leaves the buffer).
//
// Compaction is three passes over tiles of blockDim.x elements: gt_index_count_* sums
// each tile's flags, gt_index_scan_tiles (one block) turns the tile counts into tile
// offsets and the total, gt_index_compact_* scans the flags inside each tile and writes
// the positions in order. Launch shapes: launch_config.index.
#include "gt_block.cuh"

namespace gt {
namespace index {

template <int Bytes> struct uint_of;
template <> struct uint_of<1> { typedef unsigned char type; };
template <> struct uint_of<2> { typedef unsigned short type; };
template <> struct uint_of<4> { typedef unsigned int type; };
template <> struct uint_of<8> { typedef unsigned long long type; };

// params (outer, axis_len, inner) -> out (outer, k, inner); indices (outer / per_batch, k).
template <typename W, typename I>
__device__ __forceinline__ void gather(const W* __restrict__ params, const I* __restrict__ indices, W* __restrict__ out,
                                       long long per_batch, long long axis_len, long long k, long long inner,
                                       long long n) {
  GT_GRID_STRIDE(e, n) {
    const long long i = e % inner, j = (e / inner) % k, outer = e / (inner * k);
    const long long idx = (long long)indices[(outer / per_batch) * k + j];
    out[e] = (idx >= 0 && idx < axis_len) ? params[(outer * axis_len + idx) * inner + i] : W(0);
  }
}

// Offset (in elements) that the index tuple idx[0..depth) selects, or -1 when out of range.
// meta = extents[depth], strides[depth].
template <typename I>
__device__ __forceinline__ long long nd_offset(const I* __restrict__ idx, const long long* __restrict__ meta, int depth) {
  long long off = 0;
  for (int d = 0; d < depth; ++d) {
    const long long v = (long long)idx[d];
    if (v < 0 || v >= meta[d]) return -1;
    off += v * meta[depth + d];
  }
  return off;
}

// out (batch * rows, inner): row r copies the inner block that indices[r] selects in
// params batch r / rows (params_batch elements per batch).
template <typename W, typename I>
__device__ __forceinline__ void gather_nd(const W* __restrict__ params, const I* __restrict__ indices,
                                          W* __restrict__ out, const long long* __restrict__ meta, int depth,
                                          long long rows, long long params_batch, long long inner, long long n) {
  GT_GRID_STRIDE(e, n) {
    const long long r = e / inner, i = e % inner;
    const long long off = nd_offset(indices + r * depth, meta, depth);
    out[e] = off < 0 ? W(0) : params[(r / rows) * params_batch + off + i];
  }
}

// Applies f(old, v) to *addr atomically with a compare-and-swap loop.
template <typename T, typename F> __device__ __forceinline__ void atomic_apply(T* addr, T v, F f) {
  typedef typename uint_of<sizeof(T)>::type Bits;
  if constexpr (sizeof(T) >= 4) {
    Bits* p = reinterpret_cast<Bits*>(addr);
    Bits old = *p, assumed;
    do {
      assumed = old;
      T cur, next;
      memcpy(&cur, &assumed, sizeof(T));
      next = f(cur, v);
      Bits next_bits;
      memcpy(&next_bits, &next, sizeof(T));
      old = atomicCAS(p, assumed, next_bits);
    } while (old != assumed);
  } else {
    // No 1-byte CAS (and 2-byte only from sm_70): swap the aligned word that holds the element.
    const unsigned long long a = reinterpret_cast<unsigned long long>(addr);
    unsigned int* word = reinterpret_cast<unsigned int*>(a & ~3ull);
    const unsigned int shift = (unsigned int)(a & 3ull) * 8u;
    const unsigned int mask = (sizeof(T) == 1 ? 0xffu : 0xffffu) << shift;
    unsigned int old = *word, assumed;
    do {
      assumed = old;
      const Bits cur_bits = (Bits)((assumed & mask) >> shift);
      T cur, next;
      memcpy(&cur, &cur_bits, sizeof(T));
      next = f(cur, v);
      Bits next_bits;
      memcpy(&next_bits, &next, sizeof(T));
      old = atomicCAS(word, assumed, (assumed & ~mask) | ((unsigned int)next_bits << shift));
    } while (old != assumed);
  }
}

struct Add {
  template <typename T> __device__ __forceinline__ T operator()(T a, T b) const { return from_c<T>(to_c(a) + to_c(b)); }
};
// min/max propagate NaN (either side), as numpy.minimum/maximum do.
struct Min {
  template <typename T> __device__ __forceinline__ T operator()(T a, T b) const {
    const auto x = to_c(a), y = to_c(b);
    return is_nan(x) ? a : is_nan(y) ? b : (y < x ? b : a);
  }
};
struct Max {
  template <typename T> __device__ __forceinline__ T operator()(T a, T b) const {
    const auto x = to_c(a), y = to_c(b);
    return is_nan(x) ? a : is_nan(y) ? b : (y > x ? b : a);
  }
};

// Overwrite (tensor_scatter_nd_update): TF leaves the winner of duplicate updates unspecified.
struct Store {};

template <typename T, typename F> __device__ __forceinline__ void combine(T* p, T v, F f) { atomic_apply(p, v, f); }
template <typename T> __device__ __forceinline__ void combine(T* p, T v, Store) { *p = v; }
// The hardware adds these natively.
__device__ __forceinline__ void combine(float* p, float v, Add) { atomicAdd(p, v); }
__device__ __forceinline__ void combine(double* p, double v, Add) { atomicAdd(p, v); }
__device__ __forceinline__ void combine(int* p, int v, Add) { atomicAdd(p, v); }
__device__ __forceinline__ void combine(unsigned int* p, unsigned int v, Add) { atomicAdd(p, v); }
__device__ __forceinline__ void combine(unsigned long long* p, unsigned long long v, Add) { atomicAdd(p, v); }
// Two's complement: adding the bit patterns as unsigned adds the signed values.
__device__ __forceinline__ void combine(long long* p, long long v, Add) {
  atomicAdd(reinterpret_cast<unsigned long long*>(p), (unsigned long long)v);
}


// out[indices[r]][i] op= updates[r][i] for update rows r (depth index components each).
template <typename T, typename I, typename F>
__device__ __forceinline__ void scatter(const I* __restrict__ indices, const T* __restrict__ updates, T* out,
                                        const long long* __restrict__ meta, int depth, long long inner, long long n,
                                        F f) {
  GT_GRID_STRIDE(e, n) {
    const long long off = nd_offset(indices + (e / inner) * depth, meta, depth);
    if (off >= 0) combine(out + off + e % inner, updates[e], f);
  }
}

// *first_bad = min(*first_bad, r) for every index row r (depth components) with a component
// outside [0, extents[d]): the glue reads it back and raises TF's error for that row.
template <typename I>
__device__ __forceinline__ void find_bad_index(const I* __restrict__ indices, const long long* __restrict__ extents,
                                               int depth, long long rows, long long* first_bad) {
  GT_GRID_STRIDE(r, rows) {
    for (int d = 0; d < depth; ++d) {
      const long long v = (long long)indices[r * depth + d];
      if (v < 0 || v >= extents[d]) {
        atomicMin(first_bad, r);
        break;
      }
    }
  }
}

// Pass 1 of compaction: tile_counts[t] = number of non-zero x in tile t (blockDim.x elements).
template <typename T>
__device__ __forceinline__ void count_tiles(const T* __restrict__ x, long long* __restrict__ tile_counts,
                                            long long n) {
  const long long tiles = (n + blockDim.x - 1) / blockDim.x;
  for (long long t = blockIdx.x; t < tiles; t += gridDim.x) {
    const long long i = t * blockDim.x + threadIdx.x;
    const long long flag = (i < n && to_c(x[i]) != decltype(to_c(x[i]))(0)) ? 1 : 0;
    const long long total = block_sum(flag);
    if (threadIdx.x == 0) tile_counts[t] = total;
  }
}

// Pass 2 (a single block): tile counts -> exclusive tile offsets, in place; *total = their sum.
__device__ __forceinline__ void scan_tiles(long long* __restrict__ tile_counts, long long tiles,
                                           long long* __restrict__ total) {
  long long carry = 0;
  for (long long base = 0; base < tiles; base += blockDim.x) {
    const long long t = base + threadIdx.x;
    const long long v = t < tiles ? tile_counts[t] : 0;
    long long chunk;
    const long long excl = block_exclusive_scan(v, &chunk);
    if (t < tiles) tile_counts[t] = carry + excl;
    carry += chunk;
  }
  if (threadIdx.x == 0) *total = carry;
}

// Pass 3: positions[tile_offsets[t] + rank in tile] = i for every non-zero x[i].
template <typename T>
__device__ __forceinline__ void compact(const T* __restrict__ x, const long long* __restrict__ tile_offsets,
                                        long long* __restrict__ positions, long long n) {
  const long long tiles = (n + blockDim.x - 1) / blockDim.x;
  for (long long t = blockIdx.x; t < tiles; t += gridDim.x) {
    const long long i = t * blockDim.x + threadIdx.x;
    const long long flag = (i < n && to_c(x[i]) != decltype(to_c(x[i]))(0)) ? 1 : 0;
    long long tile_total;
    const long long rank = block_exclusive_scan(flag, &tile_total);
    if (flag) positions[tile_offsets[t] + rank] = i;
  }
}

// coords[p][d]: the row-major coordinates of flat position positions[p] in shape[ndim].
__device__ __forceinline__ void unravel(const long long* __restrict__ positions, long long* __restrict__ coords,
                                        const long long* __restrict__ shape, int ndim, long long n) {
  GT_GRID_STRIDE(e, n) {
    const int d = (int)(e % ndim);
    long long pos = positions[e / ndim];
    for (int k = ndim - 1; k > d; --k) pos /= shape[k];
    coords[e] = pos % shape[d];
  }
}

}  // namespace index
}  // namespace gt

extern "C" __global__ void gt_index_scan_tiles(long long* tile_counts, long long tiles, long long* total) {
  gt::index::scan_tiles(tile_counts, tiles, total);
}

extern "C" __global__ void gt_index_unravel(const long long* positions, long long* coords, const long long* shape,
                                            int ndim, long long n) {
  gt::index::unravel(positions, coords, shape, ndim, n);
}

#define GT_INDEX_CHECK_KERNEL(INAME, I)                                                                          \
  extern "C" __global__ void gt_index_find_bad_##INAME(const I* indices, const long long* extents, int depth,      \
                                                       long long rows, long long* first_bad) {                   \
    gt::index::find_bad_index<I>(indices, extents, depth, rows, first_bad);                                      \
  }
GT_INDEX_CHECK_KERNEL(int32, int)
GT_INDEX_CHECK_KERNEL(int64, long long)

// Gathers and the overwriting scatter for one element width (NAME) and index type (INAME, I).
#define GT_INDEX_MOVE_KERNELS(NAME, W, INAME, I)                                                                 \
  extern "C" __global__ void gt_index_gather_##NAME##_##INAME(const void* params, const I* indices, void* out,     \
                                                              long long per_batch, long long axis_len, long long k, \
                                                              long long inner, long long n) {                    \
    gt::index::gather<W, I>((const W*)params, indices, (W*)out, per_batch, axis_len, k, inner, n);               \
  }                                                                                                              \
  extern "C" __global__ void gt_index_gather_nd_##NAME##_##INAME(const void* params, const I* indices, void* out,  \
                                                                 const long long* meta, int depth, long long rows, \
                                                                 long long params_batch, long long inner,        \
                                                                 long long n) {                                  \
    gt::index::gather_nd<W, I>((const W*)params, indices, (W*)out, meta, depth, rows, params_batch, inner, n);   \
  }                                                                                                              \
  extern "C" __global__ void gt_index_scatter_update_##NAME##_##INAME(const I* indices, const void* updates,       \
                                                                      void* out, const long long* meta, int depth, \
                                                                      long long inner, long long n) {            \
    gt::index::scatter<W, I>(indices, (const W*)updates, (W*)out, meta, depth, inner, n, gt::index::Store());    \
  }

// Combining scatters for one numeric dtype (NAME, T) and index type (INAME, I).
#define GT_INDEX_SCATTER_KERNELS(NAME, T, INAME, I)                                                              \
  GT_INDEX_SCATTER_OP(add, Add, NAME, T, INAME, I)                                                               \
  GT_INDEX_SCATTER_OP(min, Min, NAME, T, INAME, I)                                                               \
  GT_INDEX_SCATTER_OP(max, Max, NAME, T, INAME, I)
#define GT_INDEX_SCATTER_OP(OP, FUNCTOR, NAME, T, INAME, I)                                                      \
  extern "C" __global__ void gt_index_scatter_##OP##_##NAME##_##INAME(const I* indices, const T* updates, T* out, \
                                                                      const long long* meta, int depth,          \
                                                                      long long inner, long long n) {            \
    gt::index::scatter<T, I>(indices, updates, out, meta, depth, inner, n, gt::index::FUNCTOR());                \
  }

// Compaction passes 1 and 3 for one dtype (a non-zero test needs the value, not just its bits).
#define GT_INDEX_COMPACT_KERNELS(NAME, T)                                                                        \
  extern "C" __global__ void gt_index_count_##NAME(const T* x, long long* tile_counts, long long n) {            \
    gt::index::count_tiles<T>(x, tile_counts, n);                                                                \
  }                                                                                                              \
  extern "C" __global__ void gt_index_compact_##NAME(const T* x, const long long* tile_offsets, long long* positions, \
                                                     long long n) {                                              \
    gt::index::compact<T>(x, tile_offsets, positions, n);                                                        \
  }
