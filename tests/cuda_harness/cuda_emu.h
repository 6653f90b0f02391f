// cuda_emu.h: enough of CUDA's device-side language for g++ to compile and run the
// kernels of cuda_kernels/ on the CPU, unchanged. Force-included (g++ -include).
//
// Execution model (see README.md): a launch runs its blocks one after another on the
// calling OS thread; the threads of a block run as cooperative fibers, one stack each
// (a ten-instruction stack switch on x86-64; ucontext elsewhere or with
// -DCUDA_EMU_UCONTEXT). A fiber runs until it reaches __syncthreads(), a warp collective
// (__shfl*_sync, __ballot_sync, __syncwarp, ...) or its end, then the scheduler runs the
// next one. So barriers are real barriers (a missing one shows up as a wrong answer,
// because the fibers before it have run to completion before later ones start), and a
// warp collective completes only when every non-exited lane its mask names has arrived
// with the same mask. A state nobody can leave (a barrier some threads never reach, a
// mask naming a lane that waits elsewhere) stops the launch with an error, not a hang.
//
// __shared__ is thread_local: each OS thread runs one block at a time, so a block's
// fibers share it and two Python threads launching at once do not. Dynamic shared memory
// (extern __shared__ T name[]) is a thread_local buffer of CUDA_EMU_MAX_DYNAMIC_SMEM
// bytes defined by the harness's generated translation unit; bytes beyond the launch's
// shared_mem are poisoned for AddressSanitizer.
#pragma once
#ifndef CUDA_EMU_H
#define CUDA_EMU_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define CUDA_EMU_ASAN 1
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#else
#define CUDA_EMU_ASAN 0
#endif

#define CUDA_EMU 1
#define __CUDACC__ 1
#define __CUDA_ARCH__ 800
#define __NVCC_DIAG_PRAGMA_SUPPORT__ 0

// ------------------------------------------------------------------ keywords
#define __global__ __attribute__((visibility("default")))
#define __device__
#define __host__
#define __constant__
#define __managed__
#define __grid_constant__
#define __shared__ thread_local
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)
#define __maxnreg__(n)
#define __CUDA_ALIGN__(n) __attribute__((aligned(n)))

#ifndef CUDA_EMU_MAX_DYNAMIC_SMEM
// The largest opt-in dynamic shared memory of any GPU we target (H100: 227 KiB).
#define CUDA_EMU_MAX_DYNAMIC_SMEM (227 * 1024)
#endif

// ------------------------------------------------------------- vector types
struct uint3 {
  unsigned int x, y, z;
};
struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};

#define CUDA_EMU_VEC1(name, T, al)                                        \
  struct __attribute__((aligned(al))) name {                              \
    T x;                                                                  \
  };                                                                      \
  static inline name make_##name(T x) { return name{x}; }
#define CUDA_EMU_VEC2(name, T, al)                                        \
  struct __attribute__((aligned(al))) name {                              \
    T x, y;                                                               \
  };                                                                      \
  static inline name make_##name(T x, T y) { return name{x, y}; }
#define CUDA_EMU_VEC3(name, T)                                            \
  struct name {                                                           \
    T x, y, z;                                                            \
  };                                                                      \
  static inline name make_##name(T x, T y, T z) { return name{x, y, z}; }
#define CUDA_EMU_VEC4(name, T, al)                                        \
  struct __attribute__((aligned(al))) name {                              \
    T x, y, z, w;                                                         \
  };                                                                      \
  static inline name make_##name(T x, T y, T z, T w) { return name{x, y, z, w}; }
#define CUDA_EMU_VECS(base, T, a1, a2, a4) \
  CUDA_EMU_VEC1(base##1, T, a1)            \
  CUDA_EMU_VEC2(base##2, T, a2)            \
  CUDA_EMU_VEC3(base##3, T)                \
  CUDA_EMU_VEC4(base##4, T, a4)

CUDA_EMU_VECS(char, signed char, 1, 2, 4)
CUDA_EMU_VECS(uchar, unsigned char, 1, 2, 4)
CUDA_EMU_VECS(short, short, 2, 4, 8)
CUDA_EMU_VECS(ushort, unsigned short, 2, 4, 8)
CUDA_EMU_VECS(int, int, 4, 8, 16)
CUDA_EMU_VECS(long, long, 8, 16, 16)
CUDA_EMU_VECS(ulong, unsigned long, 8, 16, 16)
CUDA_EMU_VECS(longlong, long long, 8, 16, 16)
CUDA_EMU_VECS(ulonglong, unsigned long long, 8, 16, 16)
CUDA_EMU_VECS(float, float, 4, 8, 16)
CUDA_EMU_VECS(double, double, 8, 16, 16)
CUDA_EMU_VEC1(uint1, unsigned int, 4)
CUDA_EMU_VEC2(uint2, unsigned int, 8)
CUDA_EMU_VEC4(uint4, unsigned int, 16)
static inline uint3 make_uint3(unsigned int x, unsigned int y, unsigned int z) { return uint3{x, y, z}; }

static constexpr int warpSize = 32;

// ============================================================ the runtime
namespace cuda_emu {

#if defined(__x86_64__) && !defined(CUDA_EMU_UCONTEXT)
// Saves the callee-saved registers, MXCSR and the x87 control word on the current stack,
// stores the stack pointer in *save and resumes the stack `load`. swapcontext does the
// same plus a sigprocmask system call, which made it ten times slower per switch.
extern "C" void cuda_emu_swap_sp(void** save, void* load);
asm(R"(
  .text
  .weak cuda_emu_swap_sp
  .hidden cuda_emu_swap_sp
  .type cuda_emu_swap_sp, @function
cuda_emu_swap_sp:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size cuda_emu_swap_sp, .-cuda_emu_swap_sp
)");
struct Context {
  void* sp = nullptr;
};
inline void ctx_swap(Context& from, const Context& to) { cuda_emu_swap_sp(&from.sp, to.sp); }
inline void ctx_make(Context& c, char* stack, size_t size, void (*fn)()) {
  uintptr_t top = ((uintptr_t)(stack + size)) & ~(uintptr_t)15;
  void** sp = (void**)top;
  *--sp = nullptr;         // fn's return address: fn never returns
  *--sp = (void*)fn;       // where the first switch's `ret` lands
  for (int i = 0; i < 6; ++i) *--sp = nullptr;  // rbp rbx r12-r15
  --sp;
  ((unsigned*)sp)[0] = 0x1F80u;  // MXCSR: round to nearest, exceptions masked
  ((unsigned short*)sp)[2] = 0x037F;  // x87 control word default
  c.sp = sp;
}
#else
struct Context {
  ucontext_t uc;
};
inline void ctx_swap(Context& from, const Context& to) { swapcontext(&from.uc, const_cast<ucontext_t*>(&to.uc)); }
inline void ctx_make(Context& c, char* stack, size_t size, void (*fn)()) {
  getcontext(&c.uc);
  c.uc.uc_stack.ss_sp = stack;
  c.uc.uc_stack.ss_size = size;
  c.uc.uc_link = nullptr;
  makecontext(&c.uc, fn, 0);
}
#endif

enum class State : unsigned char { kRunnable, kBarrier, kWarp, kExited };
enum class Coll : unsigned char {
  kSyncwarp, kShflIdx, kShflUp, kShflDown, kShflXor, kBallot, kAny, kAll, kMatchAny, kMatchAll,
  kReduceAdd, kReduceMin, kReduceMax, kReduceAnd, kReduceOr, kReduceXor, kReduceMinS, kReduceMaxS,
  kReduceAddS
};
const char* const kCollName[] = {"__syncwarp",        "__shfl_sync",        "__shfl_up_sync",
                                 "__shfl_down_sync",  "__shfl_xor_sync",    "__ballot_sync",
                                 "__any_sync",        "__all_sync",         "__match_any_sync",
                                 "__match_all_sync",  "__reduce_add_sync",  "__reduce_min_sync",
                                 "__reduce_max_sync", "__reduce_and_sync",  "__reduce_or_sync",
                                 "__reduce_xor_sync", "__reduce_min_sync",  "__reduce_max_sync",
                                 "__reduce_add_sync"};

struct Fiber {
  Context ctx;
  char* stack = nullptr;
  uint3 tid{0, 0, 0};
  unsigned linear = 0;
  State state = State::kRunnable;
  // Where the fiber waits (barrier or collective), for error messages.
  const char* file = "";
  int line = 0;
  // Barrier: predicate in, __syncthreads_count/and/or result out.
  int pred = 0;
  int bar_mode = 0;
  // Warp collective: what this lane brought and what it gets back.
  Coll coll = Coll::kSyncwarp;
  unsigned mask = 0;
  unsigned long long value = 0;
  int param = 0;
  int width = 32;
  unsigned long long result = 0;
  unsigned result_pred = 0;
};

enum class Schedule : int { kForward = 0, kReverse = 1, kRandom = 2 };

struct Runtime {
  Context sched;
  std::vector<Fiber> fibers;
  std::vector<unsigned> order;
  size_t stack_bytes = 0;
  Fiber* cur = nullptr;
  void (*entry)(void**) = nullptr;
  void** args = nullptr;
  unsigned nthreads = 0;
  unsigned live = 0;
  bool aborted = false;
  std::string error;
  const char* kernel = "";
  Schedule schedule = Schedule::kForward;
  unsigned long long seed = 1;
#if CUDA_EMU_ASAN
  void* fake_stack = nullptr;
  const void* sched_stack_bottom = nullptr;
  size_t sched_stack_size = 0;
#endif
};

inline thread_local Runtime* tl_rt = nullptr;
inline thread_local uint3 tl_threadIdx{0, 0, 0};
inline thread_local uint3 tl_blockIdx{0, 0, 0};
inline thread_local dim3 tl_blockDim{1, 1, 1};
inline thread_local dim3 tl_gridDim{1, 1, 1};
inline size_t g_stack_kib = 0;

inline Runtime& rt() {
  if (tl_rt == nullptr) tl_rt = new Runtime();  // one per OS thread, kept for its lifetime
  return *tl_rt;
}

// Stops the launch with a message; called from inside a fiber, it never returns.
[[noreturn]] void fail(const std::string& msg);

inline std::string where(const Fiber& f) {
  char buf[200];
  snprintf(buf, sizeof buf, "block (%u,%u,%u) thread (%u,%u,%u)", tl_blockIdx.x, tl_blockIdx.y, tl_blockIdx.z,
           f.tid.x, f.tid.y, f.tid.z);
  return buf;
}

inline void switch_to_scheduler(Fiber& f) {
  Runtime& r = rt();
#if CUDA_EMU_ASAN
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(&fake, r.sched_stack_bottom, r.sched_stack_size);
  ctx_swap(f.ctx, r.sched);
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#else
  ctx_swap(f.ctx, r.sched);
#endif
  tl_threadIdx = f.tid;
}

inline void resume(Fiber& f) {
  Runtime& r = rt();
  r.cur = &f;
  tl_threadIdx = f.tid;
#if CUDA_EMU_ASAN
  __sanitizer_start_switch_fiber(&r.fake_stack, f.stack, r.stack_bytes);
  ctx_swap(r.sched, f.ctx);
  __sanitizer_finish_switch_fiber(r.fake_stack, &r.sched_stack_bottom, &r.sched_stack_size);
#else
  ctx_swap(r.sched, f.ctx);
#endif
  r.cur = nullptr;
}

[[noreturn]] inline void fail(const std::string& msg) {
  Runtime& r = rt();
  if (!r.aborted) {
    r.aborted = true;
    r.error = msg;
  }
  if (r.cur != nullptr) {
    Fiber& f = *r.cur;
    switch_to_scheduler(f);
  }
  // Outside any fiber (cannot happen from kernel code): nothing to unwind to.
  fprintf(stderr, "cuda_emu: %s\n", msg.c_str());
  abort();
}

inline Fiber& self() {
  Runtime& r = rt();
  if (r.cur == nullptr) {
    fprintf(stderr, "cuda_emu: a device intrinsic was called outside a kernel launch\n");
    abort();
  }
  return *r.cur;
}

// ------------------------------------------------------------ warp collectives
inline unsigned warp_base(const Fiber& f) { return f.linear & ~31u; }

// Lanes of f's warp that exist (a block's last warp may be partial) and have not exited.
inline unsigned live_lanes(const Fiber& f) {
  Runtime& r = rt();
  unsigned base = warp_base(f), m = 0;
  for (unsigned l = 0; l < 32 && base + l < r.nthreads; ++l)
    if (r.fibers[base + l].state != State::kExited) m |= 1u << l;
  return m;
}

inline unsigned long long garbage_bits() { return ~0ull; }

// Completes the collective that lanes of `base`'s warp wait at with `mask`, if every
// live lane the mask names is there. Returns whether it completed.
inline bool try_complete(unsigned base, unsigned mask) {
  Runtime& r = rt();
  unsigned need = 0;
  Fiber* lane[32] = {};
  for (unsigned l = 0; l < 32 && base + l < r.nthreads; ++l) {
    lane[l] = &r.fibers[base + l];
    if ((mask >> l & 1u) && lane[l]->state != State::kExited) need |= 1u << l;
  }
  Coll kind = Coll::kSyncwarp;
  bool first = true;
  for (unsigned l = 0; l < 32; ++l) {
    if (!(need >> l & 1u)) continue;
    Fiber& f = *lane[l];
    if (f.state != State::kWarp || f.mask != mask) return false;
    if (first) {
      kind = f.coll;
      first = false;
    } else if (f.coll != kind) {
      fail(std::string("warp collectives disagree: lanes of one warp called ") + kCollName[(int)kind] + " and " +
           kCollName[(int)f.coll] + " with the same mask (" + where(f) + ", " + f.file + ":" +
           std::to_string(f.line) + ")");
    }
  }
  if (first) return false;
  unsigned ballot = 0;
  for (unsigned l = 0; l < 32; ++l)
    if ((need >> l & 1u) && lane[l]->value != 0) ballot |= 1u << l;
  for (unsigned l = 0; l < 32; ++l) {
    if (!(need >> l & 1u)) continue;
    Fiber& f = *lane[l];
    unsigned w = (unsigned)f.width, seg = l & ~(w - 1), src = l;
    bool own = false;
    switch (kind) {
      case Coll::kShflIdx: src = seg + ((unsigned)f.param & (w - 1)); break;
      case Coll::kShflUp:
        if (l - seg < (unsigned)f.param) own = true; else src = l - (unsigned)f.param;
        break;
      case Coll::kShflDown:
        if (l - seg + (unsigned)f.param >= w) own = true; else src = l + (unsigned)f.param;
        break;
      case Coll::kShflXor:
        src = l ^ ((unsigned)f.param & 31u);
        if (src > (seg | (w - 1))) own = true;  // later segments are out of reach (PTX shfl.bfly)
        break;
      default: break;
    }
    switch (kind) {
      case Coll::kShflIdx:
      case Coll::kShflUp:
      case Coll::kShflDown:
      case Coll::kShflXor:
        // Reading a lane that does not take part is undefined in CUDA; all-ones bits
        // (NaN for floats, -1 for ints) make such a read visible in the result.
        f.result = own ? f.value : (need >> src & 1u) ? lane[src]->value : garbage_bits();
        break;
      case Coll::kBallot: f.result = ballot; break;
      case Coll::kAny: f.result = ballot != 0; break;
      case Coll::kAll: f.result = ballot == need; break;
      case Coll::kMatchAny: {
        unsigned m = 0;
        for (unsigned k = 0; k < 32; ++k)
          if ((need >> k & 1u) && lane[k]->value == f.value) m |= 1u << k;
        f.result = m;
        break;
      }
      case Coll::kMatchAll: {
        bool same = true;
        for (unsigned k = 0; k < 32; ++k)
          if ((need >> k & 1u) && lane[k]->value != f.value) same = false;
        f.result = same ? need : 0;
        f.result_pred = same;
        break;
      }
      case Coll::kReduceAdd:
      case Coll::kReduceAddS:
      case Coll::kReduceAnd:
      case Coll::kReduceOr:
      case Coll::kReduceXor:
      case Coll::kReduceMin:
      case Coll::kReduceMax:
      case Coll::kReduceMinS:
      case Coll::kReduceMaxS: {
        bool init = false;
        unsigned acc = 0;
        for (unsigned k = 0; k < 32; ++k) {
          if (!(need >> k & 1u)) continue;
          unsigned v = (unsigned)lane[k]->value;
          if (!init) {
            acc = v;
            init = true;
            continue;
          }
          switch (kind) {
            case Coll::kReduceAdd:
            case Coll::kReduceAddS: acc += v; break;
            case Coll::kReduceAnd: acc &= v; break;
            case Coll::kReduceOr: acc |= v; break;
            case Coll::kReduceXor: acc ^= v; break;
            case Coll::kReduceMin: acc = std::min(acc, v); break;
            case Coll::kReduceMax: acc = std::max(acc, v); break;
            case Coll::kReduceMinS: acc = (unsigned)std::min((int)acc, (int)v); break;
            case Coll::kReduceMaxS: acc = (unsigned)std::max((int)acc, (int)v); break;
            default: break;
          }
        }
        f.result = acc;
        break;
      }
      case Coll::kSyncwarp: break;
    }
  }
  for (unsigned l = 0; l < 32; ++l)
    if (need >> l & 1u) lane[l]->state = State::kRunnable;
  return true;
}

inline unsigned long long collective(Coll kind, unsigned mask, unsigned long long value, int param, int width,
                                     const char* file, int line, unsigned* pred_out = nullptr) {
  Fiber& f = self();
  unsigned lane = f.linear & 31u;
  if (!(mask >> lane & 1u)) {
    char buf[120];
    snprintf(buf, sizeof buf, "%s: the calling lane %u is not in mask 0x%08x (", kCollName[(int)kind], lane, mask);
    fail(buf + where(f) + ", " + file + ":" + std::to_string(line) + ")");
  }
  if (width < 1 || width > 32 || (width & (width - 1)) != 0)
    fail(std::string(kCollName[(int)kind]) + ": width must be a power of two in [1, 32], got " +
         std::to_string(width) + " (" + file + ":" + std::to_string(line) + ")");
  f.state = State::kWarp;
  f.coll = kind;
  f.mask = mask;
  f.value = value;
  f.param = param;
  f.width = width;
  f.file = file;
  f.line = line;
  if (!try_complete(warp_base(f), mask)) switch_to_scheduler(f);
  if (pred_out != nullptr) *pred_out = f.result_pred;
  return f.result;
}

template <typename T>
inline unsigned long long to_bits(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "warp shuffles move values of up to 8 bytes");
  unsigned long long b = 0;
  memcpy(&b, &v, sizeof(T));
  return b;
}
template <typename T>
inline T from_bits(unsigned long long b) {
  T v;
  memcpy(&v, &b, sizeof(T));
  return v;
}

// ------------------------------------------------------------------ barrier
// mode: 0 plain, 1 count, 2 and, 3 or (__syncthreads_count/_and/_or).
inline int syncthreads(int pred, int mode, const char* file, int line) {
  Fiber& f = self();
  f.state = State::kBarrier;
  f.pred = pred != 0;
  f.bar_mode = mode;
  f.file = file;
  f.line = line;
  switch_to_scheduler(f);
  return f.pred;
}

// ------------------------------------------------------------------ launch
inline void fiber_main() {
  Runtime& r = rt();
#if CUDA_EMU_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &r.sched_stack_bottom, &r.sched_stack_size);
#endif
  Fiber& f = *r.cur;
  r.entry(r.args);
  f.state = State::kExited;
  r.live--;
  // An exited lane no longer holds up its warp's collectives.
  std::vector<unsigned> masks;
  unsigned base = warp_base(f);
  for (unsigned l = 0; l < 32 && base + l < r.nthreads; ++l) {
    const Fiber& o = r.fibers[base + l];
    if (o.state == State::kWarp && std::find(masks.begin(), masks.end(), o.mask) == masks.end())
      masks.push_back(o.mask);
  }
  for (unsigned m : masks) try_complete(base, m);
#if CUDA_EMU_ASAN
  __sanitizer_start_switch_fiber(nullptr, r.sched_stack_bottom, r.sched_stack_size);
#endif
  ctx_swap(f.ctx, r.sched);  // never resumed: the fiber is reset before its next use
}

// One line per distinct place threads wait at, with how many wait there.
inline std::string describe_blocked(Runtime& r) {
  struct Site {
    const Fiber* first;
    unsigned count;
  };
  std::vector<Site> sites;
  for (unsigned i = 0; i < r.nthreads; ++i) {
    const Fiber& f = r.fibers[i];
    if (f.state == State::kExited) continue;
    bool found = false;
    for (Site& s : sites) {
      const Fiber& g = *s.first;
      if (g.state == f.state && g.line == f.line && strcmp(g.file, f.file) == 0 &&
          (f.state != State::kWarp || (g.mask == f.mask && g.coll == f.coll))) {
        s.count++;
        found = true;
        break;
      }
    }
    if (!found) sites.push_back(Site{&f, 1});
  }
  std::string s;
  for (const Site& site : sites) {
    const Fiber& f = *site.first;
    char buf[200];
    if (f.state == State::kBarrier)
      snprintf(buf, sizeof buf, "\n  %u thread(s) from (%u,%u,%u) wait at __syncthreads (%s:%d)", site.count,
               f.tid.x, f.tid.y, f.tid.z, f.file, f.line);
    else
      snprintf(buf, sizeof buf, "\n  %u thread(s) from (%u,%u,%u) wait at %s mask 0x%08x (%s:%d)", site.count,
               f.tid.x, f.tid.y, f.tid.z, kCollName[(int)f.coll], f.mask, f.file, f.line);
    s += buf;
  }
  return s;
}

inline unsigned long long next_random(Runtime& r) {
  r.seed ^= r.seed << 13;
  r.seed ^= r.seed >> 7;
  r.seed ^= r.seed << 17;
  return r.seed;
}

inline void shuffle_order(Runtime& r) {
  for (unsigned i = r.nthreads; i > 1; --i) std::swap(r.order[i - 1], r.order[next_random(r) % i]);
}

inline void ensure_stacks(Runtime& r, unsigned n) {
  size_t want = (g_stack_kib ? g_stack_kib : (CUDA_EMU_ASAN ? 512 : 128)) * 1024;
  if (r.stack_bytes != want) {
    for (Fiber& f : r.fibers)
      if (f.stack) munmap(f.stack - 4096, r.stack_bytes + 4096);
    r.fibers.clear();
    r.stack_bytes = want;
  }
  while (r.fibers.size() < n) {
    r.fibers.emplace_back();
    // One guard page below each stack turns a stack overflow into a fault, not corruption.
    void* p = mmap(nullptr, r.stack_bytes + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) {
      r.fibers.pop_back();
      throw std::bad_alloc();
    }
    mprotect(p, 4096, PROT_NONE);
    r.fibers.back().stack = static_cast<char*>(p) + 4096;
  }
}

// Runs one block to completion. Returns false when the launch was aborted.
inline bool run_block(Runtime& r) {
  const unsigned n = r.nthreads;
  for (unsigned i = 0; i < n; ++i) {
    Fiber& f = r.fibers[i];
    f.linear = i;
    f.tid = uint3{i % tl_blockDim.x, (i / tl_blockDim.x) % tl_blockDim.y, i / (tl_blockDim.x * tl_blockDim.y)};
    f.state = State::kRunnable;
#if CUDA_EMU_ASAN
    // Frames of the stack's previous fiber may still be poisoned (it never returned).
    ASAN_UNPOISON_MEMORY_REGION(f.stack, r.stack_bytes);
#endif
    ctx_make(f.ctx, f.stack, r.stack_bytes, fiber_main);
  }
  r.live = n;
  r.order.resize(n);
  for (unsigned i = 0; i < n; ++i) r.order[i] = r.schedule == Schedule::kReverse ? n - 1 - i : i;
  if (r.schedule == Schedule::kRandom) shuffle_order(r);
  while (r.live > 0) {
    bool ran = false;
    for (unsigned k = 0; k < n; ++k) {
      Fiber& f = r.fibers[r.order[k]];
      if (f.state != State::kRunnable) continue;
      resume(f);
      ran = true;
      if (r.aborted) return false;
    }
    if (ran || r.live == 0) continue;
    // Nobody can run: either every live thread is at a barrier, or the block is stuck.
    const Fiber* first = nullptr;
    bool stuck = false;
    for (unsigned i = 0; i < n; ++i) {
      const Fiber& f = r.fibers[i];
      if (f.state == State::kExited) continue;
      if (f.state != State::kBarrier) {
        stuck = true;
        break;
      }
      if (first == nullptr) first = &f;
      else if (f.line != first->line || strcmp(f.file, first->file) != 0) stuck = true;
    }
    if (stuck) {
      r.aborted = true;
      r.error = "deadlock in block (" + std::to_string(tl_blockIdx.x) + "," + std::to_string(tl_blockIdx.y) + "," +
                std::to_string(tl_blockIdx.z) + "): no thread can proceed (a __syncthreads in divergent code, or " +
                "a warp collective whose mask names a lane that waits elsewhere):" + describe_blocked(r);
      return false;
    }
    int count = 0, all = 1, any = 0;
    for (unsigned i = 0; i < n; ++i) {
      const Fiber& f = r.fibers[i];
      if (f.state != State::kBarrier) continue;
      count += f.pred != 0;
      all &= f.pred != 0;
      any |= f.pred != 0;
    }
    for (unsigned i = 0; i < n; ++i) {
      Fiber& f = r.fibers[i];
      if (f.state != State::kBarrier) continue;
      f.state = State::kRunnable;
      f.pred = f.bar_mode == 1 ? count : f.bar_mode == 2 ? all : any;
    }
    if (r.schedule == Schedule::kRandom) shuffle_order(r);
  }
  return true;
}

// Names and addresses of the dynamic shared memory buffers of this library (defined by
// the harness's generated translation unit).
extern "C" int cuda_emu_dynamic_smem(unsigned char** out, int max);

inline void prepare_dynamic_smem(size_t bytes) {
  unsigned char* bufs[64];
  int n = cuda_emu_dynamic_smem(bufs, 64);
  for (int i = 0; i < n; ++i) {
#if CUDA_EMU_ASAN
    ASAN_UNPOISON_MEMORY_REGION(bufs[i], CUDA_EMU_MAX_DYNAMIC_SMEM);
#endif
    // Shared memory starts out holding whatever the last block left; all-ones bytes
    // (NaN, -1) make a read before the first write show in the result.
    memset(bufs[i], 0xFF, bytes);
#if CUDA_EMU_ASAN
    ASAN_POISON_MEMORY_REGION(bufs[i] + bytes, CUDA_EMU_MAX_DYNAMIC_SMEM - bytes);
#endif
  }
}

inline int launch(const char* kernel, void (*entry)(void**), const unsigned* grid, const unsigned* block,
                  size_t shared_mem, void** args, int schedule, unsigned long long seed, char* err, size_t errlen) {
  Runtime& r = rt();
  r.schedule = (Schedule)schedule;
  r.seed = seed ? seed : 0x9E3779B97F4A7C15ull;
  auto bad = [&](const std::string& m) {
    snprintf(err, errlen, "%s: %s", kernel, m.c_str());
    return 1;
  };
  if (r.cur != nullptr) return bad("a kernel launched another kernel (dynamic parallelism is not emulated)");
  unsigned long long threads = (unsigned long long)block[0] * block[1] * block[2];
  if (block[0] == 0 || block[1] == 0 || block[2] == 0 || grid[0] == 0 || grid[1] == 0 || grid[2] == 0)
    return bad("invalid configuration argument: a grid or block dimension is 0 (grid (" + std::to_string(grid[0]) +
               "," + std::to_string(grid[1]) + "," + std::to_string(grid[2]) + "), block (" +
               std::to_string(block[0]) + "," + std::to_string(block[1]) + "," + std::to_string(block[2]) + "))");
  if (threads > 1024 || block[0] > 1024 || block[1] > 1024 || block[2] > 64)
    return bad("invalid configuration argument: block (" + std::to_string(block[0]) + "," +
               std::to_string(block[1]) + "," + std::to_string(block[2]) +
               ") exceeds 1024 threads or the per-dimension limits (1024, 1024, 64)");
  if (grid[0] > 2147483647u || grid[1] > 65535 || grid[2] > 65535)
    return bad("invalid configuration argument: grid exceeds (2^31-1, 65535, 65535)");
  if (shared_mem > CUDA_EMU_MAX_DYNAMIC_SMEM)
    return bad("dynamic shared memory of " + std::to_string(shared_mem) + " bytes exceeds the " +
               std::to_string(CUDA_EMU_MAX_DYNAMIC_SMEM) + " bytes a GPU offers");
  try {
    ensure_stacks(r, (unsigned)threads);
  } catch (const std::bad_alloc&) {
    return bad("cannot map fiber stacks for " + std::to_string(threads) + " threads");
  }
  r.entry = entry;
  r.args = args;
  r.nthreads = (unsigned)threads;
  r.aborted = false;
  r.error.clear();
  r.kernel = kernel;
  tl_gridDim = dim3(grid[0], grid[1], grid[2]);
  tl_blockDim = dim3(block[0], block[1], block[2]);
  const unsigned long long nblocks = (unsigned long long)grid[0] * grid[1] * grid[2];
  bool ok = true;
  for (unsigned long long b = 0; b < nblocks && ok; ++b) {
    unsigned long long k = r.schedule == Schedule::kReverse ? nblocks - 1 - b : b;
    tl_blockIdx = uint3{(unsigned)(k % grid[0]), (unsigned)((k / grid[0]) % grid[1]),
                        (unsigned)(k / ((unsigned long long)grid[0] * grid[1]))};
    prepare_dynamic_smem(shared_mem);
    ok = run_block(r);
  }
  r.entry = nullptr;
  r.args = nullptr;
  if (!ok) return bad(r.error);
  return 0;
}

// ----------------------------------------------------- trampoline support
template <typename T>
struct dtype_name {
  static std::string get() {
    if (std::is_same<T, void>::value) return "void";
    if (std::is_same<T, bool>::value) return "bool";
    if (std::is_floating_point<T>::value) return "float" + std::to_string(8 * sizeof(T));
    if (std::is_integral<T>::value)
      return std::string(std::is_signed<T>::value ? "int" : "uint") + std::to_string(8 * sizeof(T));
    if (std::is_pointer<T>::value) return "*";
    return "struct" + std::to_string(sizeof(T));
  }
};

template <typename T>
std::string param_code() {
  typedef typename std::remove_cv<T>::type U;
  if (std::is_pointer<U>::value) {
    typedef typename std::remove_cv<typename std::remove_pointer<U>::type>::type P;
    return "*" + dtype_name<P>::get();
  }
  return dtype_name<U>::get();
}

// The kernel's parameter types, comma separated ("*float32,int64"), so the launcher can
// check arguments the way a GPU cannot: a wrong scalar type or a pointer to another
// dtype would silently produce garbage there.
template <typename... P>
const char* signature(void (*)(P...)) {
  static const std::string s = [] {
    std::string out;
    const std::string parts[] = {std::string(), param_code<P>()...};
    for (size_t i = 1; i < sizeof...(P) + 1; ++i) out += (i > 1 ? "," : "") + parts[i];
    return out;
  }();
  return s.c_str();
}

template <typename... P, size_t... I>
void invoke_impl(void (*k)(P...), void** a, std::index_sequence<I...>) {
  k(*static_cast<typename std::remove_cv<typename std::remove_reference<P>::type>::type*>(a[I])...);
}
template <typename... P>
void invoke(void (*k)(P...), void** a) {
  invoke_impl(k, a, std::index_sequence_for<P...>{});
}

}  // namespace cuda_emu

#define threadIdx (::cuda_emu::tl_threadIdx)
#define blockIdx (::cuda_emu::tl_blockIdx)
#define blockDim (::cuda_emu::tl_blockDim)
#define gridDim (::cuda_emu::tl_gridDim)

// ------------------------------------------------------- sync & collectives
#define __syncthreads() ((void)::cuda_emu::syncthreads(0, 0, __FILE__, __LINE__))
#define __syncthreads_count(p) ::cuda_emu::syncthreads((p), 1, __FILE__, __LINE__)
#define __syncthreads_and(p) ::cuda_emu::syncthreads((p), 2, __FILE__, __LINE__)
#define __syncthreads_or(p) ::cuda_emu::syncthreads((p), 3, __FILE__, __LINE__)
#define __syncwarp(...) ::cuda_emu::SyncwarpAt{__FILE__, __LINE__}(__VA_ARGS__)
#define __shfl_sync(m, v, ...) ::cuda_emu::shfl_at(::cuda_emu::Coll::kShflIdx, __FILE__, __LINE__, m, v, __VA_ARGS__)
#define __shfl_up_sync(m, v, ...) ::cuda_emu::shfl_at(::cuda_emu::Coll::kShflUp, __FILE__, __LINE__, m, v, __VA_ARGS__)
#define __shfl_down_sync(m, v, ...) \
  ::cuda_emu::shfl_at(::cuda_emu::Coll::kShflDown, __FILE__, __LINE__, m, v, __VA_ARGS__)
#define __shfl_xor_sync(m, v, ...) ::cuda_emu::shfl_at(::cuda_emu::Coll::kShflXor, __FILE__, __LINE__, m, v, __VA_ARGS__)
#define __ballot_sync(m, p) ::cuda_emu::vote_at(::cuda_emu::Coll::kBallot, __FILE__, __LINE__, m, p)
#define __any_sync(m, p) ((int)::cuda_emu::vote_at(::cuda_emu::Coll::kAny, __FILE__, __LINE__, m, p))
#define __all_sync(m, p) ((int)::cuda_emu::vote_at(::cuda_emu::Coll::kAll, __FILE__, __LINE__, m, p))
#define __match_any_sync(m, v) ::cuda_emu::match_any_at(__FILE__, __LINE__, m, v)
#define __match_all_sync(m, v, pred) ::cuda_emu::match_all_at(__FILE__, __LINE__, m, v, pred)
#define __reduce_add_sync(m, v) ::cuda_emu::reduce_at(__FILE__, __LINE__, m, v, ::cuda_emu::Coll::kReduceAdd)
#define __reduce_min_sync(m, v) ::cuda_emu::reduce_at(__FILE__, __LINE__, m, v, ::cuda_emu::Coll::kReduceMin)
#define __reduce_max_sync(m, v) ::cuda_emu::reduce_at(__FILE__, __LINE__, m, v, ::cuda_emu::Coll::kReduceMax)
#define __reduce_and_sync(m, v) ::cuda_emu::reduce_at(__FILE__, __LINE__, m, v, ::cuda_emu::Coll::kReduceAnd)
#define __reduce_or_sync(m, v) ::cuda_emu::reduce_at(__FILE__, __LINE__, m, v, ::cuda_emu::Coll::kReduceOr)
#define __reduce_xor_sync(m, v) ::cuda_emu::reduce_at(__FILE__, __LINE__, m, v, ::cuda_emu::Coll::kReduceXor)

namespace cuda_emu {
// A call site that takes the optional mask as its own argument list (no empty __VA_ARGS__).
struct SyncwarpAt {
  const char* file;
  int line;
  void operator()(unsigned mask = 0xffffffffu) const { collective(Coll::kSyncwarp, mask, 0, 0, 32, file, line); }
};
template <typename T>
inline T shfl_at(Coll kind, const char* file, int line, unsigned mask, T v, int param, int width = 32) {
  return from_bits<T>(collective(kind, mask, to_bits(v), param, width, file, line));
}
inline unsigned vote_at(Coll kind, const char* file, int line, unsigned mask, int pred) {
  return (unsigned)collective(kind, mask, pred != 0, 0, 32, file, line);
}
template <typename T>
inline unsigned match_any_at(const char* file, int line, unsigned mask, T v) {
  return (unsigned)collective(Coll::kMatchAny, mask, to_bits(v), 0, 32, file, line);
}
template <typename T>
inline unsigned match_all_at(const char* file, int line, unsigned mask, T v, int* pred) {
  unsigned p = 0;
  unsigned r = (unsigned)collective(Coll::kMatchAll, mask, to_bits(v), 0, 32, file, line, &p);
  *pred = (int)p;
  return r;
}
inline unsigned reduce_at(const char* file, int line, unsigned mask, unsigned v, Coll kind) {
  return (unsigned)collective(kind, mask, v, 0, 32, file, line);
}
inline int reduce_at(const char* file, int line, unsigned mask, int v, Coll kind) {
  if (kind == Coll::kReduceMin) kind = Coll::kReduceMinS;
  if (kind == Coll::kReduceMax) kind = Coll::kReduceMaxS;
  return (int)collective(kind, mask, (unsigned)v, 0, 32, file, line);
}
}  // namespace cuda_emu

inline unsigned __activemask() { return ::cuda_emu::live_lanes(::cuda_emu::self()); }
inline unsigned __lanemask_lt() { return (1u << (::cuda_emu::self().linear & 31u)) - 1u; }
inline unsigned __lanemask_le() { return (2u << (::cuda_emu::self().linear & 31u)) - 1u; }
inline unsigned __lanemask_eq() { return 1u << (::cuda_emu::self().linear & 31u); }
inline unsigned __lanemask_gt() { return ~__lanemask_le(); }
inline unsigned __lanemask_ge() { return ~__lanemask_lt(); }
[[noreturn]] inline void __trap() { ::cuda_emu::fail("the kernel called __trap()"); }
inline void __brkpt() { __trap(); }
// Blocks run one at a time and fibers switch only at barriers and collectives, so every
// store is visible to every later load: fences have nothing left to order.
inline void __threadfence() {}
inline void __threadfence_block() {}
inline void __threadfence_system() {}
inline void __nanosleep(unsigned) {}
inline long long clock64() {
  static thread_local long long t = 0;
  return t += 1000;
}
inline int clock() { return (int)clock64(); }

// ------------------------------------------------------------------ loads / stores
template <typename T> inline T __ldg(const T* p) { return *p; }
template <typename T> inline T __ldcg(const T* p) { return *p; }
template <typename T> inline T __ldca(const T* p) { return *p; }
template <typename T> inline T __ldcs(const T* p) { return *p; }
template <typename T> inline T __ldlu(const T* p) { return *p; }
template <typename T> inline T __ldcv(const T* p) { return *p; }
template <typename T> inline void __stwb(T* p, T v) { *p = v; }
template <typename T> inline void __stcg(T* p, T v) { *p = v; }
template <typename T> inline void __stcs(T* p, T v) { *p = v; }
template <typename T> inline void __stwt(T* p, T v) { *p = v; }

// ------------------------------------------------------------------ atomics
// Only one fiber runs at a time and it is never preempted inside an atomic, so a plain
// read-modify-write is atomic; what matters is returning the old value.
#define CUDA_EMU_ATOMIC(name, expr)                                                                \
  template <typename T, typename V>                                                                \
  inline T name(T* p, V v) {                                                                       \
    T old = *p;                                                                                    \
    *p = (T)(expr);                                                                                \
    return old;                                                                                    \
  }                                                                                                \
  template <typename T, typename V> inline T name##_block(T* p, V v) { return name(p, v); }        \
  template <typename T, typename V> inline T name##_system(T* p, V v) { return name(p, v); }
CUDA_EMU_ATOMIC(atomicAdd, old + (T)v)
CUDA_EMU_ATOMIC(atomicSub, old - (T)v)
CUDA_EMU_ATOMIC(atomicExch, (T)v)
CUDA_EMU_ATOMIC(atomicMax, (T)v > old ? (T)v : old)
CUDA_EMU_ATOMIC(atomicMin, (T)v < old ? (T)v : old)
CUDA_EMU_ATOMIC(atomicAnd, old & (T)v)
CUDA_EMU_ATOMIC(atomicOr, old | (T)v)
CUDA_EMU_ATOMIC(atomicXor, old ^ (T)v)
CUDA_EMU_ATOMIC(atomicInc, old >= (T)v ? (T)0 : (T)(old + 1))
CUDA_EMU_ATOMIC(atomicDec, (old == (T)0 || old > (T)v) ? (T)v : (T)(old - 1))
#undef CUDA_EMU_ATOMIC
template <typename T, typename C, typename V>
inline T atomicCAS(T* p, C compare, V v) {
  T old = *p;
  if (old == (T)compare) *p = (T)v;
  return old;
}
template <typename T, typename C, typename V> inline T atomicCAS_block(T* p, C c, V v) { return atomicCAS(p, c, v); }
template <typename T, typename C, typename V> inline T atomicCAS_system(T* p, C c, V v) { return atomicCAS(p, c, v); }

// ------------------------------------------------------------------ math
template <typename A, typename B>
inline typename std::common_type<A, B>::type min(A a, B b) {
  typedef typename std::common_type<A, B>::type C;
  return std::is_floating_point<C>::value ? (C)fmin((double)a, (double)b) : ((C)a < (C)b ? (C)a : (C)b);
}
template <typename A, typename B>
inline typename std::common_type<A, B>::type max(A a, B b) {
  typedef typename std::common_type<A, B>::type C;
  return std::is_floating_point<C>::value ? (C)fmax((double)a, (double)b) : ((C)a > (C)b ? (C)a : (C)b);
}
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }
inline unsigned umin(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned umax(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long llmin(long long a, long long b) { return a < b ? a : b; }
inline long long llmax(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long ullmin(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline unsigned long long ullmax(unsigned long long a, unsigned long long b) { return a > b ? a : b; }

inline float __expf(float x) { return expf(x); }
inline float __exp10f(float x) { return exp10f(x); }
inline float __logf(float x) { return logf(x); }
inline float __log2f(float x) { return log2f(x); }
inline float __log10f(float x) { return log10f(x); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __tanf(float x) { return tanf(x); }
inline void __sincosf(float x, float* s, float* c) { sincosf(x, s, c); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __fdividef(float a, float b) { return a / b; }
inline float fdividef(float a, float b) { return a / b; }
inline double fdivide(double a, double b) { return a / b; }
inline float __saturatef(float x) { return x != x ? 0.0f : x < 0.0f ? 0.0f : x > 1.0f ? 1.0f : x; }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float rcbrtf(float x) { return 1.0f / cbrtf(x); }
inline double rcbrt(double x) { return 1.0 / cbrt(x); }
inline float sinpif(float x) { return (float)sin(M_PI * (double)x); }
inline float cospif(float x) { return (float)cos(M_PI * (double)x); }
inline double sinpi(double x) { return sin(M_PI * x); }
inline double cospi(double x) { return cos(M_PI * x); }
inline void sincospif(float x, float* s, float* c) { *s = sinpif(x), *c = cospif(x); }
inline float normcdff(float x) { return 0.5f * erfcf(-x * (float)M_SQRT1_2); }
inline double normcdf(double x) { return 0.5 * erfc(-x * M_SQRT1_2); }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline double __drcp_rn(double x) { return 1.0 / x; }
inline float __fsqrt_rn(float x) { return sqrtf(x); }
inline double __dsqrt_rn(double x) { return sqrt(x); }
inline float __frsqrt_rn(float x) { return 1.0f / sqrtf(x); }
#define CUDA_EMU_RN2(name, T, op) \
  inline T name(T a, T b) { return a op b; }
CUDA_EMU_RN2(__fadd_rn, float, +)
CUDA_EMU_RN2(__fsub_rn, float, -)
CUDA_EMU_RN2(__fmul_rn, float, *)
CUDA_EMU_RN2(__fdiv_rn, float, /)
CUDA_EMU_RN2(__dadd_rn, double, +)
CUDA_EMU_RN2(__dsub_rn, double, -)
CUDA_EMU_RN2(__dmul_rn, double, *)
CUDA_EMU_RN2(__ddiv_rn, double, /)
#undef CUDA_EMU_RN2
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline double __fma_rn(double a, double b, double c) { return fma(a, b, c); }

// erfinv: a rational first guess refined by Newton steps on erf in double precision.
inline double erfinv(double y) {
  if (y <= -1.0) return y == -1.0 ? -INFINITY : NAN;
  if (y >= 1.0) return y == 1.0 ? INFINITY : NAN;
  if (y != y) return y;
  double w = -log((1.0 - y) * (1.0 + y)), x;
  if (w < 5.0) {
    w -= 2.5;
    x = 2.81022636e-08;
    for (double c : {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                     -0.00417768164, 0.246640727, 1.50140941})
      x = c + x * w;
  } else {
    w = sqrt(w) - 3.0;
    x = -0.000200214257;
    for (double c : {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                     0.00943887047, 1.00167406, 2.83297682})
      x = c + x * w;
  }
  x *= y;
  for (int i = 0; i < 3; ++i) x -= (erf(x) - y) / (2.0 / sqrt(M_PI) * exp(-x * x));
  return x;
}
inline float erfinvf(float y) { return (float)erfinv((double)y); }
inline double erfcinv(double y) { return erfinv(1.0 - y); }
inline float erfcinvf(float y) { return (float)erfcinv((double)y); }
inline double normcdfinv(double p) { return -M_SQRT2 * erfcinv(2.0 * p); }
inline float normcdfinvf(float p) { return (float)normcdfinv((double)p); }

// Conversions with explicit rounding; the default FP environment rounds to nearest even.
inline int __float2int_rn(float x) { return (int)nearbyintf(x); }
inline int __float2int_rz(float x) { return (int)truncf(x); }
inline int __float2int_rd(float x) { return (int)floorf(x); }
inline int __float2int_ru(float x) { return (int)ceilf(x); }
inline unsigned __float2uint_rn(float x) { return (unsigned)nearbyintf(x); }
inline unsigned __float2uint_rz(float x) { return (unsigned)truncf(x); }
inline long long __float2ll_rn(float x) { return (long long)nearbyintf(x); }
inline long long __float2ll_rz(float x) { return (long long)truncf(x); }
inline int __double2int_rn(double x) { return (int)nearbyint(x); }
inline int __double2int_rz(double x) { return (int)trunc(x); }
inline long long __double2ll_rn(double x) { return (long long)nearbyint(x); }
inline long long __double2ll_rz(double x) { return (long long)trunc(x); }
inline float __double2float_rn(double x) { return (float)x; }
inline float __int2float_rn(int x) { return (float)x; }
inline float __uint2float_rn(unsigned x) { return (float)x; }
inline float __ll2float_rn(long long x) { return (float)x; }
inline double __int2double_rn(int x) { return (double)x; }
inline double __ll2double_rn(long long x) { return (double)x; }
template <typename To, typename From>
inline To cuda_emu_bitcast(From v) {
  static_assert(sizeof(To) == sizeof(From), "bit casts keep the size");
  To t;
  memcpy(&t, &v, sizeof(To));
  return t;
}
inline float __int_as_float(int x) { return cuda_emu_bitcast<float>(x); }
inline int __float_as_int(float x) { return cuda_emu_bitcast<int>(x); }
inline float __uint_as_float(unsigned x) { return cuda_emu_bitcast<float>(x); }
inline unsigned __float_as_uint(float x) { return cuda_emu_bitcast<unsigned>(x); }
inline double __longlong_as_double(long long x) { return cuda_emu_bitcast<double>(x); }
inline long long __double_as_longlong(double x) { return cuda_emu_bitcast<long long>(x); }
inline int __double2hiint(double x) { return (int)(__double_as_longlong(x) >> 32); }
inline int __double2loint(double x) { return (int)__double_as_longlong(x); }
inline double __hiloint2double(int hi, int lo) {
  return __longlong_as_double((long long)(((unsigned long long)(unsigned)hi << 32) | (unsigned)lo));
}

// ------------------------------------------------------------------ integer intrinsics
inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }
inline int __mulhi(int a, int b) { return (int)(((long long)a * b) >> 32); }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  return (unsigned long long)(((unsigned __int128)a * b) >> 64);
}
inline long long __mul64hi(long long a, long long b) { return (long long)(((__int128)a * b) >> 64); }
inline int __mul24(int a, int b) { return (int)((long long)((a << 8) >> 8) * ((b << 8) >> 8)); }
inline unsigned __umul24(unsigned a, unsigned b) { return (a & 0xffffffu) * (b & 0xffffffu); }
inline unsigned __brev(unsigned x) {
  unsigned r = 0;
  for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i);
  return r;
}
inline unsigned long long __brevll(unsigned long long x) {
  return ((unsigned long long)__brev((unsigned)x) << 32) | __brev((unsigned)(x >> 32));
}
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll((unsigned long long)x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned __byte_perm(unsigned x, unsigned y, unsigned s) {
  unsigned long long v = ((unsigned long long)y << 32) | x;
  unsigned r = 0;
  for (int i = 0; i < 4; ++i) r |= (unsigned)((v >> (8 * ((s >> (4 * i)) & 7u))) & 0xffu) << (8 * i);
  return r;
}
inline unsigned __funnelshift_l(unsigned lo, unsigned hi, unsigned s) {
  unsigned long long v = ((unsigned long long)hi << 32) | lo;
  return (unsigned)((v << (s & 31u)) >> 32);
}
inline unsigned __funnelshift_r(unsigned lo, unsigned hi, unsigned s) {
  unsigned long long v = ((unsigned long long)hi << 32) | lo;
  return (unsigned)(v >> (s & 31u));
}
inline unsigned __funnelshift_lc(unsigned lo, unsigned hi, unsigned s) { return __funnelshift_l(lo, hi, s > 32 ? 32 : s); }
inline unsigned __funnelshift_rc(unsigned lo, unsigned hi, unsigned s) { return __funnelshift_r(lo, hi, s > 32 ? 32 : s); }
inline int __hadd(int a, int b) { return (int)(((long long)a + b) >> 1); }
inline int __rhadd(int a, int b) { return (int)(((long long)a + b + 1) >> 1); }
inline unsigned __uhadd(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a + b) >> 1); }
inline unsigned __urhadd(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a + b + 1) >> 1); }
inline unsigned __sad(int a, int b, unsigned c) { return c + (unsigned)(a > b ? a - b : b - a); }
inline unsigned __usad(unsigned a, unsigned b, unsigned c) { return c + (a > b ? a - b : b - a); }

// ------------------------------------------------------------------ half / bfloat16
namespace cuda_emu {
inline unsigned short float_to_half_bits(float f) {
  unsigned x = cuda_emu_bitcast<unsigned>(f);
  unsigned sign = (x >> 16) & 0x8000u, a = x & 0x7fffffffu;
  if (a >= 0x7f800000u) return (unsigned short)(sign | (a > 0x7f800000u ? 0x7e00u : 0x7c00u));
  if (a >= 0x477ff000u) return (unsigned short)(sign | 0x7c00u);  // rounds past 65504
  if (a < 0x38800000u) {                                          // subnormal half: units of 2^-24
    float s = cuda_emu_bitcast<float>(a) * 16777216.0f;            // exact: a power-of-two scale
    return (unsigned short)(sign | (unsigned)nearbyintf(s));
  }
  a += 0xfffu + ((a >> 13) & 1u);  // round to nearest, ties to even
  return (unsigned short)(sign | ((a - 0x38000000u) >> 13));
}
inline float half_bits_to_float(unsigned short h) {
  unsigned sign = (unsigned)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0) {
    float v = (float)m * 5.9604644775390625e-08f;
    return sign ? -v : v;
  }
  if (e == 31) return cuda_emu_bitcast<float>(sign | 0x7f800000u | (m << 13));
  return cuda_emu_bitcast<float>(sign | ((e + 112u) << 23) | (m << 13));
}
inline unsigned short float_to_bf16_bits(float f) {
  unsigned x = cuda_emu_bitcast<unsigned>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((x >> 16) | 0x40u);
  return (unsigned short)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}
inline float bf16_bits_to_float(unsigned short b) { return cuda_emu_bitcast<float>((unsigned)b << 16); }
}  // namespace cuda_emu

struct __half_raw {
  unsigned short x;
};
struct __nv_bfloat16_raw {
  unsigned short x;
};

// Arithmetic on the 16-bit types computes in float and rounds once: float's 24-bit
// significand is at least 2p+2 for p = 11 (half) and 8 (bfloat16), so the result equals
// the correctly rounded native operation.
#define CUDA_EMU_HALF_TYPE(H, RAW, TO_BITS, FROM_BITS)                                          \
  struct H {                                                                                    \
    unsigned short __x;                                                                         \
    H() = default;                                                                              \
    H(RAW r) : __x(r.x) {}                                                                      \
    H(float f) : __x(::cuda_emu::TO_BITS(f)) {}                                                 \
    H(double d) : __x(::cuda_emu::TO_BITS((float)d)) {}                                         \
    H(int v) : __x(::cuda_emu::TO_BITS((float)v)) {}                                            \
    H(unsigned v) : __x(::cuda_emu::TO_BITS((float)v)) {}                                       \
    H(long long v) : __x(::cuda_emu::TO_BITS((float)v)) {}                                      \
    H(unsigned long long v) : __x(::cuda_emu::TO_BITS((float)v)) {}                             \
    H(short v) : __x(::cuda_emu::TO_BITS((float)v)) {}                                          \
    H(unsigned short v) : __x(::cuda_emu::TO_BITS((float)v)) {}                                 \
    operator float() const { return ::cuda_emu::FROM_BITS(__x); }                               \
    operator RAW() const { return RAW{__x}; }                                                   \
    H& operator=(float f) {                                                                     \
      __x = ::cuda_emu::TO_BITS(f);                                                             \
      return *this;                                                                             \
    }                                                                                           \
    H& operator+=(const H& o) { return *this = H((float)*this + (float)o); }                    \
    H& operator-=(const H& o) { return *this = H((float)*this - (float)o); }                    \
    H& operator*=(const H& o) { return *this = H((float)*this * (float)o); }                    \
    H& operator/=(const H& o) { return *this = H((float)*this / (float)o); }                    \
  };                                                                                            \
  inline H operator+(const H& a, const H& b) { return H((float)a + (float)b); }                 \
  inline H operator-(const H& a, const H& b) { return H((float)a - (float)b); }                 \
  inline H operator*(const H& a, const H& b) { return H((float)a * (float)b); }                 \
  inline H operator/(const H& a, const H& b) { return H((float)a / (float)b); }                 \
  inline H operator-(const H& a) {                                                              \
    H r = a;                                                                                    \
    r.__x ^= 0x8000u;                                                                           \
    return r;                                                                                   \
  }                                                                                             \
  inline H operator+(const H& a) { return a; }                                                  \
  inline bool operator==(const H& a, const H& b) { return (float)a == (float)b; }               \
  inline bool operator!=(const H& a, const H& b) { return (float)a != (float)b; }               \
  inline bool operator<(const H& a, const H& b) { return (float)a < (float)b; }                 \
  inline bool operator<=(const H& a, const H& b) { return (float)a <= (float)b; }               \
  inline bool operator>(const H& a, const H& b) { return (float)a > (float)b; }                 \
  inline bool operator>=(const H& a, const H& b) { return (float)a >= (float)b; }               \
  inline H __hadd(H a, H b) { return a + b; }                                                   \
  inline H __hsub(H a, H b) { return a - b; }                                                   \
  inline H __hmul(H a, H b) { return a * b; }                                                   \
  inline H __hdiv(H a, H b) { return a / b; }                                                   \
  inline H __hneg(H a) { return -a; }                                                           \
  inline H __habs(H a) {                                                                        \
    a.__x &= 0x7fffu;                                                                           \
    return a;                                                                                   \
  }                                                                                             \
  inline H __hfma(H a, H b, H c) { return H(fmaf((float)a, (float)b, (float)c)); }              \
  inline bool __heq(H a, H b) { return a == b; }                                                \
  inline bool __hne(H a, H b) { return a != b; }                                                \
  inline bool __hlt(H a, H b) { return a < b; }                                                 \
  inline bool __hle(H a, H b) { return a <= b; }                                                \
  inline bool __hgt(H a, H b) { return a > b; }                                                 \
  inline bool __hge(H a, H b) { return a >= b; }                                                \
  inline bool __hisnan(H a) { return (float)a != (float)a; }                                    \
  inline int __hisinf(H a) { return std::isinf((float)a) ? ((float)a < 0 ? -1 : 1) : 0; }      \
  inline H __hmax(H a, H b) { return H(fmaxf((float)a, (float)b)); }                            \
  inline H __hmin(H a, H b) { return H(fminf((float)a, (float)b)); }                            \
  inline H __hmax_nan(H a, H b) { return __hisnan(a) ? a : __hisnan(b) ? b : __hmax(a, b); }    \
  inline H __hmin_nan(H a, H b) { return __hisnan(a) ? a : __hisnan(b) ? b : __hmin(a, b); }    \
  inline H hexp(H a) { return H(expf((float)a)); }                                              \
  inline H hlog(H a) { return H(logf((float)a)); }                                              \
  inline H hsqrt(H a) { return H(sqrtf((float)a)); }                                            \
  inline H hrsqrt(H a) { return H(1.0f / sqrtf((float)a)); }                                    \
  inline H htanh(H a) { return H(tanhf((float)a)); }                                            \
  inline H hfloor(H a) { return H(floorf((float)a)); }                                          \
  inline H hceil(H a) { return H(ceilf((float)a)); }

CUDA_EMU_HALF_TYPE(__half, __half_raw, float_to_half_bits, half_bits_to_float)
CUDA_EMU_HALF_TYPE(__nv_bfloat16, __nv_bfloat16_raw, float_to_bf16_bits, bf16_bits_to_float)
#undef CUDA_EMU_HALF_TYPE
typedef __half half;
typedef __nv_bfloat16 nv_bfloat16;

struct __align__(4) __half2 {
  __half x, y;
};
struct __align__(4) __nv_bfloat162 {
  __nv_bfloat16 x, y;
};
typedef __half2 half2;
typedef __nv_bfloat162 nv_bfloat162;

inline __half __float2half(float f) { return __half(f); }
inline __half __float2half_rn(float f) { return __half(f); }
inline __half __double2half(double d) { return __half(d); }
inline float __half2float(__half h) { return (float)h; }
inline __half __int2half_rn(int v) { return __half((float)v); }
inline int __half2int_rn(__half h) { return (int)nearbyintf((float)h); }
inline int __half2int_rz(__half h) { return (int)truncf((float)h); }
inline unsigned short __half_as_ushort(__half h) { return h.__x; }
inline short __half_as_short(__half h) { return (short)h.__x; }
inline __half __ushort_as_half(unsigned short v) { return __half(__half_raw{v}); }
inline __half __short_as_half(short v) { return __half(__half_raw{(unsigned short)v}); }
inline __half2 __halves2half2(__half a, __half b) { return __half2{a, b}; }
inline __half2 __float2half2_rn(float f) { return __half2{__half(f), __half(f)}; }
inline __half2 __floats2half2_rn(float a, float b) { return __half2{__half(a), __half(b)}; }
inline float2 __half22float2(__half2 h) { return float2{(float)h.x, (float)h.y}; }
inline __half2 __float22half2_rn(float2 f) { return __half2{__half(f.x), __half(f.y)}; }
inline __half __low2half(__half2 h) { return h.x; }
inline __half __high2half(__half2 h) { return h.y; }
inline float __low2float(__half2 h) { return (float)h.x; }
inline float __high2float(__half2 h) { return (float)h.y; }
inline __half2 __hadd2(__half2 a, __half2 b) { return __half2{a.x + b.x, a.y + b.y}; }
inline __half2 __hmul2(__half2 a, __half2 b) { return __half2{a.x * b.x, a.y * b.y}; }
inline __half2 __hsub2(__half2 a, __half2 b) { return __half2{a.x - b.x, a.y - b.y}; }

inline __nv_bfloat16 __float2bfloat16(float f) { return __nv_bfloat16(f); }
inline __nv_bfloat16 __float2bfloat16_rn(float f) { return __nv_bfloat16(f); }
inline __nv_bfloat16 __double2bfloat16(double d) { return __nv_bfloat16(d); }
inline float __bfloat162float(__nv_bfloat16 b) { return (float)b; }
inline __nv_bfloat16 __int2bfloat16_rn(int v) { return __nv_bfloat16((float)v); }
inline int __bfloat162int_rn(__nv_bfloat16 b) { return (int)nearbyintf((float)b); }
inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 b) { return b.__x; }
inline short __bfloat16_as_short(__nv_bfloat16 b) { return (short)b.__x; }
inline __nv_bfloat16 __ushort_as_bfloat16(unsigned short v) { return __nv_bfloat16(__nv_bfloat16_raw{v}); }
inline __nv_bfloat16 __short_as_bfloat16(short v) { return __nv_bfloat16(__nv_bfloat16_raw{(unsigned short)v}); }
inline __nv_bfloat162 __floats2bfloat162_rn(float a, float b) { return __nv_bfloat162{__nv_bfloat16(a), __nv_bfloat16(b)}; }
inline __nv_bfloat162 __float2bfloat162_rn(float f) { return __nv_bfloat162{__nv_bfloat16(f), __nv_bfloat16(f)}; }
inline float2 __bfloat1622float2(__nv_bfloat162 h) { return float2{(float)h.x, (float)h.y}; }
inline __nv_bfloat16 __low2bfloat16(__nv_bfloat162 h) { return h.x; }
inline __nv_bfloat16 __high2bfloat16(__nv_bfloat162 h) { return h.y; }

namespace cuda_emu {
template <> struct dtype_name<__half> {
  static std::string get() { return "float16"; }
};
template <> struct dtype_name<__nv_bfloat16> {
  static std::string get() { return "bfloat16"; }
};
}  // namespace cuda_emu

#define CUDART_INF_F INFINITY
#define CUDART_NAN_F NAN
#define CUDART_INF ((double)INFINITY)
#define CUDART_NAN ((double)NAN)
#define CUDART_PI_F 3.141592654f
#define CUDART_PI 3.1415926535897931e+0
#define CUDART_MAX_NORMAL_F 3.40282347e+38f
#define CUDART_MIN_DENORM_F 1.40129846e-45f

#endif  // CUDA_EMU_H
