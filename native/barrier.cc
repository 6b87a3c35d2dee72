// The heavy half of an asymmetric memory barrier, across processes: Linux's membarrier(2).
//
// The pool lock (src/slab/lock.ts) releases with a plain store on x86 and then reads the
// waiter count; nothing orders that load after the store (x86 may satisfy a load before an
// older store leaves the store buffer). A waiter closes the gap from its side: after it has
// counted itself, `barrier()` makes every running thread of every registered process pass a
// full memory barrier, so an unlocker either already published its release (the waiter's
// compare sees it) or has not read the waiter count yet (and will see the waiter). The
// fast path pays nothing; the price, a few microseconds of IPIs, is paid only by a thread
// that is about to sleep anyway.
//
// MEMBARRIER_CMD_GLOBAL_EXPEDITED reaches only processes that registered for it, so every
// process that releases with a plain store must have registered first (`barrierRegister`).
// Elsewhere (not Linux, old kernels, a seccomp filter that denies the call) both return
// false and the lock keeps its atomic release.
#include <cerrno>

#ifdef __linux__
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "shmzone.h"

namespace shmzone {

namespace {

#ifdef __linux__
long Membarrier(int cmd) { return syscall(__NR_membarrier, cmd, 0, 0); }
#endif

}  // namespace

Napi::Value BarrierRegister(const Napi::CallbackInfo& info) {
#ifdef __linux__
  long supported = Membarrier(MEMBARRIER_CMD_QUERY);
  bool ok = supported >= 0 && (supported & MEMBARRIER_CMD_GLOBAL_EXPEDITED) != 0 &&
            (supported & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) != 0 &&
            Membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0;  // idempotent
  return Napi::Boolean::New(info.Env(), ok);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
#ifdef __linux__
  return Napi::Boolean::New(info.Env(), Membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

}  // namespace shmzone
