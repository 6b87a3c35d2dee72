// Cross-process futex on a 32-bit word of a SharedArrayBuffer.
//
// Atomics.wait/notify cannot be used between processes: V8 keeps its waiter lists inside each
// process (docs/specs/reliability.md 8.1). The kernel's futex, WITHOUT FUTEX_PRIVATE_FLAG, keys sleepers by
// the physical page, so a wake in one process reaches a waiter in another that maps the same
// segment at any address.
//
// macOS: __ulock_wait / __ulock_wake with UL_COMPARE_AND_WAIT_SHARED, the cross-process
// compare-and-wait of libSystem (what libc++'s std::atomic wait and Go's runtime use; the
// public os_sync_wait_on_address needs macOS 14.4). Its timeout is 32-bit microseconds, so
// longer waits loop. Compiled by .ci/macos-cross.sh, never run here.
//
// Other platforms: a documented fallback that polls the word with short sleeps (about 1 ms),
// and a wake that wakes nobody explicitly (returns 0): waiters notice the change on their
// next poll. Correct, but with up to ~1 ms extra latency.
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <ctime>

#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#elif defined(__APPLE__)
extern "C" int __ulock_wait(uint32_t operation, void* addr, uint64_t value, uint32_t timeoutUs);
extern "C" int __ulock_wake(uint32_t operation, void* addr, uint64_t wakeValue);
#else
#include <thread>
#endif

#include "shmzone.h"

namespace shmzone {

namespace {

using Clock = std::chrono::steady_clock;

#ifdef __APPLE__
constexpr uint32_t kUlCompareAndWaitShared = 3;  // UL_COMPARE_AND_WAIT_SHARED
constexpr uint32_t kUlfWakeAll = 0x100;          // ULF_WAKE_ALL
#endif

}  // namespace

int WaitOnWord(uint32_t* word, uint32_t expected, int64_t timeoutNs) {
  bool forever = timeoutNs < 0;
  Clock::time_point deadline =
      forever ? Clock::time_point::max() : Clock::now() + std::chrono::nanoseconds(timeoutNs);
#ifdef __linux__
  for (;;) {
    struct timespec ts;
    struct timespec* tsp = nullptr;
    if (!forever) {
      // A zero timeout still reaches the kernel, which compares the word first (NotEqual wins).
      auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - Clock::now()).count();
      if (left < 0) left = 0;
      ts.tv_sec = static_cast<time_t>(left / 1000000000);
      ts.tv_nsec = static_cast<long>(left % 1000000000);
      tsp = &ts;
    }
    // FUTEX_WAIT takes a RELATIVE timeout; after EINTR we recompute what is left.
    long rc = syscall(SYS_futex, word, FUTEX_WAIT, expected, tsp, nullptr, 0);
    if (rc == 0) return kFutexWoken;  // may be spurious: callers re-check the word
    if (errno == EAGAIN) return kFutexNotEqual;
    if (errno == ETIMEDOUT) return kFutexTimedOut;
    if (errno == EINTR) continue;
    return -errno;
  }
#elif defined(__APPLE__)
  // ulock returns 0 both when woken and when the word already differed: tell them apart first.
  if (__atomic_load_n(word, __ATOMIC_SEQ_CST) != expected) return kFutexNotEqual;
  for (;;) {
    uint32_t us = 0;  // 0: no timeout
    if (!forever) {
      auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now()).count();
      if (left <= 0) return kFutexTimedOut;
      us = left > static_cast<int64_t>(UINT32_MAX) ? UINT32_MAX : static_cast<uint32_t>(left);
    }
    int rc = __ulock_wait(kUlCompareAndWaitShared, word, expected, us);
    if (rc >= 0) return kFutexWoken;  // may be spurious: callers re-check the word
    if (errno == ETIMEDOUT) {
      if (!forever && Clock::now() >= deadline) return kFutexTimedOut;
      continue;  // a wait longer than ~71 minutes: the next slice
    }
    if (errno == EINTR || errno == EFAULT) continue;  // EFAULT: the page was not resident yet
    return -errno;
  }
#else
  volatile uint32_t* w = word;
  if (__atomic_load_n(w, __ATOMIC_SEQ_CST) != expected) return kFutexNotEqual;
  for (;;) {
    if (!forever && Clock::now() >= deadline) return kFutexTimedOut;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (__atomic_load_n(w, __ATOMIC_SEQ_CST) != expected) return kFutexWoken;
  }
#endif
}

int64_t TimeoutNs(double timeoutMs) {
  if (timeoutMs < 0 || std::isinf(timeoutMs)) return -1;
  return static_cast<int64_t>(std::min(timeoutMs, 1e12) * 1e6);
}

Napi::Value FutexWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* word = static_cast<uint32_t*>(ArgSharedSlot(info, 0, 1, 4, 4));
  // `expected` is compared as the 32-bit pattern, so Int32Array values (negative) work too.
  int64_t expected64 = ArgInteger(info, 2, "expected", INT32_MIN, UINT32_MAX);
  int rc = WaitOnWord(word, static_cast<uint32_t>(expected64), TimeoutNs(ArgNumber(info, 3, "timeoutMs")));
  if (rc < 0) ThrowErrno(env, -rc, "futex", "");
  return Napi::Number::New(env, rc);
}

Napi::Value FutexWake(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* word = static_cast<uint32_t*>(ArgSharedSlot(info, 0, 1, 4, 4));
  // Any count above INT32_MAX (Infinity included) means "everyone".
  double wanted = ArgNumber(info, 2, "count");
  if (wanted < 0 || (std::isfinite(wanted) && std::trunc(wanted) != wanted))
    throw Napi::RangeError::New(env, "The \"count\" argument must be a non-negative integer or Infinity");
  int64_t count = wanted >= static_cast<double>(INT32_MAX) ? INT32_MAX : static_cast<int64_t>(wanted);
#ifdef __linux__
  long rc = syscall(SYS_futex, word, FUTEX_WAKE, static_cast<int>(count), nullptr, nullptr, 0);
  if (rc < 0) ThrowErrno(env, errno, "futex", "");
  return Napi::Number::New(env, static_cast<double>(rc));
#elif defined(__APPLE__)
  // ulock wakes one or all, and does not say how many: report 1 when someone was waiting.
  if (count == 0) return Napi::Number::New(env, 0);
  uint32_t op = kUlCompareAndWaitShared | (count > 1 ? kUlfWakeAll : 0);
  int rc;
  do rc = __ulock_wake(op, word, 0);
  while (rc < 0 && errno == EINTR);
  if (rc < 0 && errno != ENOENT) ThrowErrno(env, errno, "__ulock_wake", "");
  return Napi::Number::New(env, rc < 0 ? 0 : 1);
#else
  (void)word;
  (void)count;
  return Napi::Number::New(env, 0);  // pollers see the new value by themselves
#endif
}

}  // namespace shmzone
