// Liveness tokens: a process-shared ROBUST pthread mutex per registered thread, placed inside
// the zone (docs/specs/reliability.md 5). The thread locks its token when it registers and holds it for
// life; when it dies (SIGKILL, crash, worker.terminate()), the kernel walks the thread's robust
// list and marks the mutex owner-dead, so the next trylock by anyone answers EOWNERDEAD instead
// of EBUSY. Unlike pid checks this cannot be fooled by pid reuse and sees worker threads too.
//
// A token is tokenSize (64) bytes at an 8-aligned offset; glibc's pthread_mutex_t is 40 bytes on
// x86-64 and 48 on aarch64, the rest is padding so the layout does not depend on the libc.
//
// macOS has no robust mutexes: there a token is a plain process-shared mutex, and a dead
// holder stays "Alive" forever; callers must rely on pid + start time there (ProcessStartTime
// below), which cannot see a dead worker thread of a live process.
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#ifdef __linux__
#include <sys/syscall.h>
#elif defined(__APPLE__)
#include <sys/sysctl.h>
#endif

#include "shmzone.h"

namespace shmzone {

// PTHREAD_MUTEX_ROBUST is an enum constant in glibc, not a macro: test the platform instead.
#if defined(__linux__)
#define SHMZONE_ROBUST_TOKENS 1
#endif

static_assert(sizeof(pthread_mutex_t) <= kTokenSize, "pthread_mutex_t does not fit in a token");

namespace {

enum TokenState { kAlive = 0, kDead = 1, kFree = 2 };
enum TokenAcquireResult { kAcquired = 0, kAcquiredFromDead = 1, kBusy = 2 };

pthread_mutex_t* ArgToken(const Napi::CallbackInfo& info) {
  return static_cast<pthread_mutex_t*>(ArgSharedSlot(info, 0, 1, kTokenSize, 8));
}

[[noreturn]] void ThrowPthread(Napi::Env env, int err, const char* call) { ThrowErrno(env, err, call, ""); }

}  // namespace

Napi::Value TokenInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pthread_mutex_t* m = ArgToken(info);
  pthread_mutexattr_t attr;
  int err = pthread_mutexattr_init(&attr);
  if (err != 0) ThrowPthread(env, err, "pthread_mutexattr_init");
  err = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
#ifdef SHMZONE_ROBUST_TOKENS
  if (err == 0) err = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
#endif
  if (err == 0) {
    std::memset(static_cast<void*>(m), 0, kTokenSize);
    err = pthread_mutex_init(m, &attr);
  }
  pthread_mutexattr_destroy(&attr);
  if (err != 0) ThrowPthread(env, err, "pthread_mutex_init");
  return env.Undefined();
}

Napi::Value TokenAcquire(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pthread_mutex_t* m = ArgToken(info);
  int err = pthread_mutex_trylock(m);
  switch (err) {
    case 0:
      MappingTokenHeld(m, +1);
      return Napi::Number::New(env, kAcquired);
#ifdef SHMZONE_ROBUST_TOKENS
    case EOWNERDEAD:
      // We own it now; mark it usable again and keep holding it.
      err = pthread_mutex_consistent(m);
      if (err != 0) {
        pthread_mutex_unlock(m);
        ThrowPthread(env, err, "pthread_mutex_consistent");
      }
      MappingTokenHeld(m, +1);
      return Napi::Number::New(env, kAcquiredFromDead);
#endif
    case EBUSY:
    case EDEADLK:  // the calling thread already holds it (error-checking mutex kinds)
      return Napi::Number::New(env, kBusy);
    default:
      ThrowPthread(env, err, "pthread_mutex_trylock");
  }
}

Napi::Value TokenRelease(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pthread_mutex_t* m = ArgToken(info);
  int err = pthread_mutex_unlock(m);  // robust mutexes refuse (EPERM) when we are not the owner
  if (err != 0) ThrowPthread(env, err, "pthread_mutex_unlock");
  MappingTokenHeld(m, -1);
  return env.Undefined();
}

Napi::Value TokenProbe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pthread_mutex_t* m = ArgToken(info);
  int err = pthread_mutex_trylock(m);
  switch (err) {
    case 0:
      pthread_mutex_unlock(m);
      return Napi::Number::New(env, kFree);
#ifdef SHMZONE_ROBUST_TOKENS
    case EOWNERDEAD:
      err = pthread_mutex_consistent(m);
      pthread_mutex_unlock(m);
      if (err != 0) ThrowPthread(env, err, "pthread_mutex_consistent");
      return Napi::Number::New(env, kDead);
#endif
    case EBUSY:
    case EDEADLK:  // the prober itself holds it: it is certainly alive
      return Napi::Number::New(env, kAlive);
    default:
      ThrowPthread(env, err, "pthread_mutex_trylock");
  }
}

Napi::Value GetTid(const Napi::CallbackInfo& info) {
#ifdef __linux__
  return Napi::Number::New(info.Env(), static_cast<double>(syscall(SYS_gettid)));
#else
  uint64_t tid = 0;
  pthread_threadid_np(nullptr, &tid);
  return Napi::Number::New(info.Env(), static_cast<double>(tid));
#endif
}

// When `pid` started, 0 when it does not run: what tells a process from a later one that got
// its pid. Linux: /proc/<pid>/stat field 22 (starttime, clock ticks since boot); the command
// name (field 2) is in parentheses and may itself contain ')' and spaces, so parse after the
// LAST ')'. macOS: sysctl KERN_PROC_PID.
Napi::Value ProcessStartTime(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t pid = ArgInteger(info, 0, "pid", 1, INT32_MAX);
#ifdef __linux__
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!in || !std::getline(in, line)) return Napi::Number::New(env, 0);
  size_t paren = line.rfind(')');
  if (paren == std::string::npos) return Napi::Number::New(env, 0);
  std::istringstream fields(line.substr(paren + 1));
  std::string field;
  // After ')' come fields 3 (state), 4, ...: field 22 is the 20th of them.
  for (int i = 3; i <= 22; i++)
    if (!(fields >> field)) return Napi::Number::New(env, 0);
  return Napi::Number::New(env, std::strtod(field.c_str(), nullptr));
#elif defined(__APPLE__)
  // kinfo_proc's start time (microseconds since the epoch: below 2^53, exact as a double).
  struct kinfo_proc kp;
  size_t len = sizeof kp;
  int mib[4] = {CTL_KERN, KERN_PROC, KERN_PROC_PID, static_cast<int>(pid)};
  if (sysctl(mib, 4, &kp, &len, nullptr, 0) != 0 || len == 0) return Napi::Number::New(env, 0);
  const struct timeval& tv = kp.kp_proc.p_starttime;
  return Napi::Number::New(env, static_cast<double>(tv.tv_sec) * 1e6 + static_cast<double>(tv.tv_usec));
#else
  (void)pid;
  return Napi::Number::New(env, 0);
#endif
}

}  // namespace shmzone
