// sort.cu: sort, argsort and top_k along the last axis, and 1-D unique.
//
// Bitonic sorting networks over (key, original index) pairs. Comparing the index when
// keys tie makes the order total, so the result is stable (equal keys keep their input
// order) and top_k prefers the lower index among ties, as TF does. NaN sorts as the
// largest value (last ascending, first descending), as NumPy does. Keys are kept in the
// compute type (float for half and bfloat16). Rows are padded to a power of two P with
// entries that sort after everything.
//
// Launch shapes (launch_config.sort): rows of P <= SHARED_SORT_LIMIT (4096) are sorted
// in shared memory, one block per row (grid-stride over rows), P int32 indices then P keys
// in dynamic shared memory (at most 48 KiB). Longer rows go through global memory:
// gt_sort_load_* fills a (rows, P) scratch, one gt_sort_step_* launch per network stage
// (log2(P) * (log2(P) + 1) / 2 of them) compares and swaps, gt_sort_store_* writes the
// first k of each row. gt_sort_unique_* is one block over a 1-D input of at most
// UNIQUE_LIMIT (2048) elements; longer inputs are sorted in global memory, then
// gt_sort_unique_marks_*, two compactions (index.cu) and gt_sort_unique_index finish.
#include "gt_block.cuh"

extern __shared__ unsigned long long gt_sort_smem[];  // 8-byte aligned for double keys

namespace gt {
namespace sort {

template <typename T> using Key = typename compute<T>::type;

// True when (a, ia) comes before (b, ib); indices >= len are padding and come last.
template <typename K>
__device__ __forceinline__ bool before(K a, long long ia, K b, long long ib, long long len, bool descending) {
  if (ia >= len || ib >= len) return ia < len || (ib >= len && ia < ib);
  const bool a_nan = is_nan(a), b_nan = is_nan(b);
  if (a_nan || b_nan) {
    if (a_nan && b_nan) return ia < ib;
    return descending ? a_nan : b_nan;
  }
  if (a != b) return descending ? a > b : a < b;
  return ia < ib;
}

// One compare-exchange stage of the network: pairs (i, i + stride) inside blocks of `size`,
// blocks alternately in order and reversed so that each merge sees a bitonic sequence.
template <typename K, typename IndexT>
__device__ __forceinline__ void stage_pair(K* key, IndexT* idx, long long t, long long size, long long stride,
                                           long long len, bool descending) {
  const long long i = 2 * t - (t & (stride - 1)), j = i + stride;
  const bool forward = (i & size) == 0;
  const bool swap = forward ? before(key[j], (long long)idx[j], key[i], (long long)idx[i], len, descending)
                            : before(key[i], (long long)idx[i], key[j], (long long)idx[j], len, descending);
  if (swap) {
    const K k = key[i];
    key[i] = key[j];
    key[j] = k;
    const IndexT x = idx[i];
    idx[i] = idx[j];
    idx[j] = x;
  }
}

// Sorts key[0..P), idx[0..P) in shared memory; every thread of the block takes part.
template <typename K>
__device__ __forceinline__ void block_bitonic(K* key, int* idx, long long P, long long len, bool descending) {
  for (long long size = 2; size <= P; size <<= 1) {
    for (long long stride = size >> 1; stride > 0; stride >>= 1) {
      for (long long t = threadIdx.x; t < P / 2; t += blockDim.x) stage_pair(key, idx, t, size, stride, len, descending);
      __syncthreads();
    }
  }
}

// Dynamic shared memory holds `int_arrays` int arrays of P entries, then the P keys at the
// next 8-byte boundary (launch_config.sort sizes it the same way).
template <typename K> __device__ __forceinline__ K* shared_keys(long long P, int int_arrays) {
  const long long offset = (P * 4 * int_arrays + 7) / 8;  // in 8-byte units
  return reinterpret_cast<K*>(gt_sort_smem + offset);
}

// values[r][0..k), indices[r][0..k): the first k of row r of x (rows of len) in sorted order.
template <typename T>
__device__ __forceinline__ void sort_rows_shared(const T* __restrict__ x, T* __restrict__ values,
                                                 int* __restrict__ indices, long long rows, long long len, long long P,
                                                 long long k, bool descending) {
  int* idx = reinterpret_cast<int*>(gt_sort_smem);
  Key<T>* key = shared_keys<Key<T>>(P, 1);
  for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
    for (long long p = threadIdx.x; p < P; p += blockDim.x) {
      idx[p] = (int)p;
      key[p] = p < len ? to_c(x[r * len + p]) : Key<T>(0);
    }
    __syncthreads();
    block_bitonic(key, idx, P, len, descending);
    for (long long p = threadIdx.x; p < k; p += blockDim.x) {
      values[r * k + p] = from_c<T>(key[p]);
      indices[r * k + p] = idx[p];
    }
    __syncthreads();  // the next row reuses key[] and idx[]
  }
}

template <typename T>
__device__ __forceinline__ void load_rows(const T* __restrict__ x, Key<T>* __restrict__ key, long long* __restrict__ idx,
                                          long long len, long long P, long long n) {
  GT_GRID_STRIDE(e, n) {
    const long long r = e / P, p = e % P;
    idx[e] = p;
    key[e] = p < len ? to_c(x[r * len + p]) : Key<T>(0);
  }
}

// One network stage over every row of the (rows, P) scratch: n = rows * P / 2 pairs.
template <typename K>
__device__ __forceinline__ void global_stage(K* key, long long* idx, long long P, long long len, long long size,
                                             long long stride, bool descending, long long n) {
  GT_GRID_STRIDE(e, n) {
    const long long r = e / (P / 2), t = e % (P / 2);
    stage_pair(key + r * P, idx + r * P, t, size, stride, len, descending);
  }
}

template <typename T>
__device__ __forceinline__ void store_rows(const Key<T>* __restrict__ key, const long long* __restrict__ idx,
                                           T* __restrict__ values, int* __restrict__ indices, long long P, long long k,
                                           long long n) {
  GT_GRID_STRIDE(e, n) {
    const long long r = e / k, p = e % k;
    values[e] = from_c<T>(key[r * P + p]);
    indices[e] = (int)idx[r * P + p];
  }
}

// TF's unique on a 1-D x of len <= P elements (one block): y holds the distinct values in
// order of first occurrence, out_idx[i] the position of x[i] in y, *count how many.
template <typename T, typename O>
__device__ __forceinline__ void unique(const T* __restrict__ x, T* __restrict__ y, O* __restrict__ out_idx,
                                       long long* __restrict__ count, long long len, long long P) {
  int* idx = reinterpret_cast<int*>(gt_sort_smem);
  int* slot = idx + P;  // by original position: the first occurrence's place in y, else -1
  Key<T>* key = shared_keys<Key<T>>(P, 2);
  for (long long p = threadIdx.x; p < P; p += blockDim.x) {
    idx[p] = (int)p;
    key[p] = p < len ? to_c(x[p]) : Key<T>(0);
    slot[p] = 0;
  }
  __syncthreads();
  block_bitonic(key, idx, P, len, false);
  // After a stable sort the head of each run of equal keys is the value's first occurrence.
  // (NaN != NaN, so every NaN is a value of its own, as in TF.)
  for (long long p = threadIdx.x; p < len; p += blockDim.x) {
    if (p == 0 || key[p] != key[p - 1]) slot[idx[p]] = 1;
  }
  __syncthreads();
  long long carry = 0;
  for (long long base = 0; base < len; base += blockDim.x) {
    const long long p = base + threadIdx.x;
    const long long first = p < len ? slot[p] : 0;
    long long chunk;
    const long long place = block_exclusive_scan(first, &chunk);
    if (p < len) slot[p] = first ? (int)(carry + place) : -1;
    carry += chunk;
  }
  __syncthreads();
  for (long long p = threadIdx.x; p < len; p += blockDim.x) {
    long long head = p;
    while (head > 0 && key[head] == key[head - 1]) --head;
    const int place = slot[idx[head]];
    out_idx[idx[p]] = (O)place;
    if (head == p) y[place] = x[idx[p]];
  }
  if (threadIdx.x == 0) *count = carry;
}

// unique of a long input, after a global-memory sort of (key, idx): heads[p] marks the
// first of each run of equal keys in sorted order, first[i] the first occurrence of a
// value in input order (the head's original index, since the sort is stable).
template <typename K>
__device__ __forceinline__ void unique_marks(const K* __restrict__ key, const long long* __restrict__ idx,
                                             unsigned char* __restrict__ heads, unsigned char* __restrict__ first,
                                             long long len) {
  GT_GRID_STRIDE(p, len) {
    const bool head = p == 0 || key[p] != key[p - 1];
    heads[p] = head;
    first[idx[p]] = head;
  }
}

// Index of the last entry of ascending a[0..n) that is <= v (a[0] <= v assumed).
__device__ __forceinline__ long long last_at_most(const long long* __restrict__ a, long long n, long long v) {
  long long lo = 0, hi = n;  // invariant: a[lo] <= v < a[hi] (a[n] = +inf)
  while (hi - lo > 1) {
    const long long mid = lo + (hi - lo) / 2;
    if (a[mid] <= v) lo = mid;
    else hi = mid;
  }
  return lo;
}

// out_idx[idx[p]] = place in y of the value at sorted position p: its run (the last head at
// or before p) starts with the value's first occurrence, whose place is its rank among
// first occurrences (first_pos ascending).
template <typename O>
__device__ __forceinline__ void unique_index(const long long* __restrict__ idx, const long long* __restrict__ head_pos,
                                             long long groups, const long long* __restrict__ first_pos,
                                             long long distinct, O* __restrict__ out_idx, long long len) {
  GT_GRID_STRIDE(p, len) {
    const long long head = head_pos[last_at_most(head_pos, groups, p)];
    out_idx[idx[p]] = (O)last_at_most(first_pos, distinct, idx[head]);
  }
}

}  // namespace sort
}  // namespace gt

// Kernels for one sortable dtype (NAME, T).
#define GT_SORT_KERNELS(NAME, T)                                                                                 \
  extern "C" __global__ void gt_sort_rows_##NAME(const T* x, T* values, int* indices, long long rows, long long len, \
                                                 long long P, long long k, int descending) {                       \
    gt::sort::sort_rows_shared<T>(x, values, indices, rows, len, P, k, descending != 0);                          \
  }                                                                                                              \
  extern "C" __global__ void gt_sort_load_##NAME(const T* x, gt::sort::Key<T>* key, long long* idx, long long len,   \
                                                 long long P, long long n) {                                      \
    gt::sort::load_rows<T>(x, key, idx, len, P, n);                                                              \
  }                                                                                                              \
  extern "C" __global__ void gt_sort_step_##NAME(gt::sort::Key<T>* key, long long* idx, long long P, long long len,  \
                                                 long long size, long long stride, int descending, long long n) { \
    gt::sort::global_stage(key, idx, P, len, size, stride, descending != 0, n);                                  \
  }                                                                                                              \
  extern "C" __global__ void gt_sort_store_##NAME(const gt::sort::Key<T>* key, const long long* idx, T* values,     \
                                                  int* indices, long long P, long long k, long long n) {           \
    gt::sort::store_rows<T>(key, idx, values, indices, P, k, n);                                                 \
  }                                                                                                              \
  extern "C" __global__ void gt_sort_unique_##NAME##_int32(const T* x, T* y, int* out_idx, long long* count,       \
                                                         long long len, long long P) {                           \
    gt::sort::unique<T, int>(x, y, out_idx, count, len, P);                                                      \
  }                                                                                                              \
  extern "C" __global__ void gt_sort_unique_##NAME##_int64(const T* x, T* y, long long* out_idx, long long* count, \
                                                         long long len, long long P) {                           \
    gt::sort::unique<T, long long>(x, y, out_idx, count, len, P);                                                \
  }                                                                                                              \
  extern "C" __global__ void gt_sort_unique_marks_##NAME(const gt::sort::Key<T>* key, const long long* idx,       \
                                                         unsigned char* heads, unsigned char* first, long long len) { \
    gt::sort::unique_marks(key, idx, heads, first, len);                                                         \
  }

#define GT_SORT_UNIQUE_INDEX_KERNEL(ONAME, O)                                                                   \
  extern "C" __global__ void gt_sort_unique_index_##ONAME(const long long* idx, const long long* head_pos,        \
                                                          long long groups, const long long* first_pos,          \
                                                          long long distinct, O* out_idx, long long len) {       \
    gt::sort::unique_index<O>(idx, head_pos, groups, first_pos, distinct, out_idx, len);                         \
  }
GT_SORT_UNIQUE_INDEX_KERNEL(int32, int)
GT_SORT_UNIQUE_INDEX_KERNEL(int64, long long)
