// Small kernels that exercise one emulated CUDA feature each (tests/cuda_harness/test_emulator.py).
// Written as a CUDA developer would for a GPU; nothing here knows about the emulator.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

// Shared-memory tree reduction, one partial sum per block; block size a power of two.
extern "C" __global__ void tree_sum(const float* __restrict__ x, float* __restrict__ partial, long long n) {
  __shared__ float s[1024];
  const unsigned t = threadIdx.x;
  float acc = 0.0f;
  for (long long i = (long long)blockIdx.x * blockDim.x + t; i < n; i += (long long)blockDim.x * gridDim.x) acc += x[i];
  s[t] = acc;
  __syncthreads();
  for (unsigned stride = blockDim.x / 2; stride > 0; stride >>= 1) {
    if (t < stride) s[t] += s[t + stride];
    __syncthreads();
  }
  if (t == 0) partial[blockIdx.x] = s[0];
}

// The same reduction with the barrier inside the loop missing: a race on real hardware.
extern "C" __global__ void tree_sum_racy(const float* __restrict__ x, float* __restrict__ partial, long long n) {
  __shared__ float s[1024];
  const unsigned t = threadIdx.x;
  float acc = 0.0f;
  for (long long i = (long long)blockIdx.x * blockDim.x + t; i < n; i += (long long)blockDim.x * gridDim.x) acc += x[i];
  s[t] = acc;
  __syncthreads();
  for (unsigned stride = blockDim.x / 2; stride > 0; stride >>= 1) {
    if (t < stride) s[t] += s[t + stride];
  }
  if (t == 0) partial[blockIdx.x] = s[0];
}

// Each thread reads its right neighbour's value after a barrier (reverse of an array in blocks).
extern "C" __global__ void neighbour_shift(const int* __restrict__ x, int* __restrict__ y, int n, int use_barrier) {
  __shared__ int s[1024];
  const unsigned t = threadIdx.x;
  const long long i = (long long)blockIdx.x * blockDim.x + t;
  s[t] = i < n ? x[i] : 0;
  if (use_barrier) __syncthreads();
  const unsigned src = (t + 1) % blockDim.x;
  if (i < n) y[i] = s[src];
}

// Warp shuffles: out[k*n_threads + t] for each of the four kinds, then a warp sum.
extern "C" __global__ void shuffles(const int* __restrict__ x, int* __restrict__ out, int delta, int width) {
  const unsigned t = threadIdx.x, n = blockDim.x;
  const unsigned full = 0xffffffffu;
  int v = x[t];
  out[0 * n + t] = __shfl_sync(full, v, delta, width);
  out[1 * n + t] = __shfl_up_sync(full, v, delta, width);
  out[2 * n + t] = __shfl_down_sync(full, v, delta, width);
  out[3 * n + t] = __shfl_xor_sync(full, v, delta, width);
  int sum = v;
  for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(full, sum, off);
  out[4 * n + t] = sum;
}

// Shuffles of 64-bit and half values (moved as raw bits).
extern "C" __global__ void shuffle_wide(const double* __restrict__ d, const __half* __restrict__ h,
                                        double* __restrict__ dout, __half* __restrict__ hout) {
  const unsigned t = threadIdx.x;
  dout[t] = __shfl_down_sync(0xffffffffu, d[t], 1);
  hout[t] = __shfl_xor_sync(0xffffffffu, h[t], 1);
}

// Votes: out[0..2][t] = ballot, any, all of (x[t] != 0); out[3][t] = match_any of x[t].
extern "C" __global__ void votes(const int* __restrict__ x, unsigned* __restrict__ out) {
  const unsigned t = threadIdx.x, n = blockDim.x;
  const int p = x[t] != 0;
  out[0 * n + t] = __ballot_sync(0xffffffffu, p);
  out[1 * n + t] = __any_sync(0xffffffffu, p);
  out[2 * n + t] = __all_sync(0xffffffffu, p);
  out[3 * n + t] = __match_any_sync(0xffffffffu, x[t]);
  out[4 * n + t] = __reduce_add_sync(0xffffffffu, (unsigned)x[t]);
}

// Block reduction where only warp 0 runs the final warp-level reduction.
extern "C" __global__ void block_sum_warp0(const float* __restrict__ x, float* __restrict__ out, int n) {
  __shared__ float warp_sums[32];
  const unsigned t = threadIdx.x, lane = t & 31u, warp = t >> 5;
  float v = 0.0f;
  for (int i = t; i < n; i += blockDim.x) v += x[i];
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  if (warp == 0) {
    const unsigned nwarps = (blockDim.x + 31) / 32;
    v = lane < nwarps ? warp_sums[lane] : 0.0f;
    for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
    if (lane == 0) *out = v;
  }
}

// A shuffle with the full mask after some lanes returned early: they no longer take part.
extern "C" __global__ void shuffle_after_exit(const int* __restrict__ x, int* __restrict__ out, int live) {
  const unsigned t = threadIdx.x;
  if (t >= (unsigned)live) return;
  out[t] = __shfl_sync(0xffffffffu, x[t], 0);
}

// __syncthreads in divergent code: a deadlock on a GPU, an error in the emulator.
extern "C" __global__ void divergent_barrier(int* __restrict__ out) {
  if (threadIdx.x < 16) {
    __syncthreads();
  } else {
    out[threadIdx.x] = 1;
    __syncthreads();
  }
}

// A lane calls a shuffle with a mask that does not include itself.
extern "C" __global__ void bad_mask(int* __restrict__ out) { out[threadIdx.x] = __shfl_sync(0x1u, 1, 0); }

extern "C" __global__ void syncthreads_reductions(const int* __restrict__ x, int* __restrict__ out) {
  const int p = x[threadIdx.x];
  const int c = __syncthreads_count(p);
  const int a = __syncthreads_and(p);
  const int o = __syncthreads_or(p);
  if (threadIdx.x == 0) out[0] = c, out[1] = a, out[2] = o;
}

// Atomics of every width: histogram (int), max/min, float and double sums, CAS and exchange.
extern "C" __global__ void atomics(const int* __restrict__ x, int n, int* __restrict__ hist, int* __restrict__ mx,
                                   unsigned* __restrict__ mn, float* __restrict__ fsum, double* __restrict__ dsum,
                                   unsigned long long* __restrict__ usum, long long* __restrict__ lmax,
                                   int* __restrict__ cas_winner, int* __restrict__ exch) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) {
    const int v = x[i];
    atomicAdd(&hist[((unsigned)v) % 16u], 1);
    atomicMax(mx, v);
    atomicMin(mn, (unsigned)v);
    atomicAdd(fsum, (float)v);
    atomicAdd(dsum, (double)v);
    atomicAdd(usum, (unsigned long long)v);
    atomicMax(lmax, (long long)v * 1000000007LL);
    atomicCAS(cas_winner, -1, i);
    atomicExch(exch, 7);
  }
}

// Dynamic shared memory: stage a block's slice, write it back reversed within the block.
extern "C" __global__ void reverse_in_blocks(const float* __restrict__ x, float* __restrict__ y, int n) {
  extern __shared__ float tile[];
  const int t = threadIdx.x, base = blockIdx.x * blockDim.x;
  const int count = min(n - base, (int)blockDim.x);
  if (t < count) tile[t] = x[base + t];
  __syncthreads();
  if (t < count) y[base + t] = tile[count - 1 - t];
}

// Grid-stride SAXPY over a 2-D grid of 2-D blocks (exercises every index variable).
extern "C" __global__ void saxpy_2d(float a, const float* __restrict__ x, float* __restrict__ y, long long n) {
  const long long threads_per_block = (long long)blockDim.x * blockDim.y * blockDim.z;
  const long long block = blockIdx.x + (long long)gridDim.x * (blockIdx.y + (long long)gridDim.y * blockIdx.z);
  const long long tid = threadIdx.x + blockDim.x * (threadIdx.y + (long long)blockDim.y * threadIdx.z);
  const long long stride = threads_per_block * gridDim.x * gridDim.y * gridDim.z;
  for (long long i = block * threads_per_block + tid; i < n; i += stride) y[i] = a * __ldg(&x[i]) + y[i];
}

// Round trips through the 16-bit float types and a few intrinsics.
extern "C" __global__ void conversions(const float* __restrict__ x, __half* __restrict__ h,
                                       __nv_bfloat16* __restrict__ b, float* __restrict__ back_h,
                                       float* __restrict__ back_b, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) {
    h[i] = __float2half(x[i]);
    b[i] = __float2bfloat16(x[i]);
    back_h[i] = __half2float(h[i]);
    back_b[i] = __bfloat162float(b[i]);
  }
}

extern "C" __global__ void int_intrinsics(const unsigned* __restrict__ x, const unsigned* __restrict__ y,
                                          unsigned* __restrict__ out, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) {
    out[6 * i + 0] = __umulhi(x[i], y[i]);
    out[6 * i + 1] = __brev(x[i]);
    out[6 * i + 2] = (unsigned)__popc(x[i]);
    out[6 * i + 3] = (unsigned)__clz((int)x[i]);
    out[6 * i + 4] = (unsigned)__ffs((int)x[i]);
    out[6 * i + 5] = __float_as_uint(rsqrtf((float)(x[i] | 1u)));
  }
}

// Out of bounds on purpose: the bounds check lets one thread past the end.
extern "C" __global__ void off_by_one(const float* __restrict__ x, float* __restrict__ y, long long n) {
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i <= n; i += (long long)blockDim.x * gridDim.x)
    y[i] = x[i];
}

// Reads dynamic shared memory past the bytes the launch asked for.
extern "C" __global__ void smem_overflow(float* __restrict__ y) {
  extern __shared__ float buf[];
  buf[threadIdx.x] = 1.0f;
  __syncthreads();
  y[threadIdx.x] = buf[threadIdx.x + 1];
}

extern "C" __global__ void traps(int* __restrict__ out) {
  if (threadIdx.x == 3) __trap();
  out[threadIdx.x] = 1;
}

// Lanes exchange values through shared memory, ordered by __syncwarp (or not).
extern "C" __global__ void warp_exchange(const int* __restrict__ x, int* __restrict__ y, int use_syncwarp) {
  __shared__ int s[64];
  const unsigned t = threadIdx.x;
  s[t] = x[t];
  if (use_syncwarp == 1) __syncwarp();
  if (use_syncwarp == 2) __syncwarp(0xffffffffu);
  y[t] = s[t ^ 1u];
}

static_assert(sizeof(float4) == 16 && alignof(float4) == 16, "float4 is 16 bytes, 16-aligned as in CUDA");
static_assert(sizeof(double2) == 16 && alignof(double2) == 16, "double2 is 16-aligned as in CUDA");
static_assert(sizeof(int2) == 8 && alignof(int2) == 8 && sizeof(float3) == 12, "vector type layouts");
static_assert(sizeof(__half) == 2 && sizeof(__nv_bfloat16) == 2 && sizeof(__half2) == 4, "16-bit float types");

// Vectorised copy-and-scale through float4 (n4 = number of float4 groups).
extern "C" __global__ void scale_float4(const float* __restrict__ x, float* __restrict__ y, float a, int n4) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n4; i += blockDim.x * gridDim.x) {
    const float4 v = reinterpret_cast<const float4*>(x)[i];
    reinterpret_cast<float4*>(y)[i] = make_float4(a * v.x, a * v.y, a * v.z, a * v.w);
  }
}

// Float intrinsics, one output row each.
extern "C" __global__ void float_intrinsics(const float* __restrict__ x, const float* __restrict__ y,
                                            float* __restrict__ out, int* __restrict__ iout, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) {
    out[0 * n + i] = __expf(x[i]);
    out[1 * n + i] = __fdividef(x[i], y[i]);
    out[2 * n + i] = fmaf(x[i], y[i], 1.0f);
    out[3 * n + i] = __saturatef(x[i]);
    out[4 * n + i] = max(x[i], y[i]);
    iout[0 * n + i] = __float2int_rn(x[i]);
    iout[1 * n + i] = __float2int_rz(x[i]);
    iout[2 * n + i] = __float2int_rd(x[i]);
    iout[3 * n + i] = min(__float2int_ru(x[i]), 7);
  }
}

extern "C" __global__ void mul64hi(const long long* __restrict__ a, const long long* __restrict__ b,
                                   long long* __restrict__ hi, unsigned long long* __restrict__ uhi, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) {
    hi[i] = __mul64hi(a[i], b[i]);
    uhi[i] = __umul64hi((unsigned long long)a[i], (unsigned long long)b[i]);
  }
}

// Threads past n return before the barrier; the rest still meet at it (exited threads do not count).
extern "C" __global__ void early_exit_barrier(const int* __restrict__ x, int* __restrict__ y, int n) {
  __shared__ int s[256];
  const int t = threadIdx.x;
  if (t >= n) return;
  s[t] = x[t];
  __syncthreads();
  y[t] = s[(t + 1) % n];
}

// Lanes 0-15 shuffle with the whole warp while lanes 16-31 wait at a barrier: a hang on a GPU.
extern "C" __global__ void collective_vs_barrier(int* __restrict__ out) {
  const unsigned t = threadIdx.x;
  if (t < 16) {
    out[t] = __shfl_sync(0xffffffffu, (int)t, 0);
  } else {
    __syncthreads();
  }
}

// The remaining warp intrinsics: match_all (with its predicate), signed/unsigned reductions, activemask.
extern "C" __global__ void more_collectives(const int* __restrict__ x, int* __restrict__ out) {
  const unsigned t = threadIdx.x, n = blockDim.x;
  out[7 * n + t] = (int)__activemask();  // converged, no lane has returned: the whole warp
  int pred = 0;
  out[0 * n + t] = (int)__match_all_sync(0xffffffffu, x[t] / 1000, &pred);
  out[1 * n + t] = pred;
  out[2 * n + t] = __reduce_min_sync(0xffffffffu, x[t]);
  out[3 * n + t] = __reduce_max_sync(0xffffffffu, x[t]);
  out[4 * n + t] = (int)__reduce_and_sync(0xffffffffu, (unsigned)x[t]);
  out[5 * n + t] = (int)__reduce_or_sync(0xffffffffu, (unsigned)x[t]);
  out[6 * n + t] = (int)__reduce_xor_sync(0xffffffffu, (unsigned)x[t]);
}

// A float maximum built from atomicCAS on the bit pattern (the usual pre-sm_90 idiom), and a half sum.
extern "C" __global__ void cas_float_max(const float* __restrict__ x, int n, float* __restrict__ mx,
                                         __half* __restrict__ hsum) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) {
    int* addr = reinterpret_cast<int*>(mx);
    int old = *addr, assumed;
    do {
      assumed = old;
      if (__int_as_float(assumed) >= x[i]) break;
      old = atomicCAS(addr, assumed, __float_as_int(x[i]));
    } while (assumed != old);
    atomicAdd(hsum, __float2half(1.0f));
  }
}
