// Test-only fault injection (SQLite's "fail the k-th call"): injectFault('mmap', 2, 'ENOMEM')
// makes the second next mmap fail with ENOMEM, so tests can prove every back-out path.
// Process-wide and guarded by a mutex: worker threads share the addon's globals.
#include <mutex>
#include <string>

#include "shmzone.h"

namespace shmzone {

namespace {

struct Fault {
  const char* syscall;
  int64_t countdown;  // 0 = inactive; 1 = the next call fails
  int err;
};

std::mutex faultMutex;
Fault faults[] = {
    {"shm_open", 0, 0}, {"fchmod", 0, 0}, {"ftruncate", 0, 0},
    {"posix_fallocate", 0, 0}, {"mmap", 0, 0}, {"fstat", 0, 0},
};

Fault* FindFault(const std::string& syscall) {
  for (auto& f : faults)
    if (syscall == f.syscall) return &f;
  return nullptr;
}

}  // namespace

int InjectedFault(const char* syscall) {
  std::lock_guard<std::mutex> lock(faultMutex);
  Fault* f = FindFault(syscall);
  if (f == nullptr || f->countdown == 0) return 0;
  if (--f->countdown > 0) return 0;
  return f->err;
}

Napi::Value InjectFault(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string syscall = ArgString(info, 0, "syscall");
  int64_t nth = ArgInteger(info, 1, "nth", 0, INT32_MAX);
  std::string errName = ArgString(info, 2, "errno");
  std::lock_guard<std::mutex> lock(faultMutex);
  Fault* f = FindFault(syscall);
  if (f == nullptr) throw Napi::RangeError::New(env, "injectFault: unknown syscall '" + syscall + "'");
  int err = ErrnoFromName(errName);
  if (nth != 0 && err <= 0) throw Napi::RangeError::New(env, "injectFault: unknown errno '" + errName + "'");
  f->countdown = nth;
  f->err = err;
  return env.Undefined();
}

}  // namespace shmzone
