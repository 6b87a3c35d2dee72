// Shared declarations of the shmzone addon. Each .cc file owns one concept; addon.cc only
// lists the exports.
#pragma once

#include <napi.h>
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace shmzone {

// ---- errors.cc ----------------------------------------------------------------------------
// Name of an errno value ("ENOSPC"), or "E<number>" when the table does not know it.
const char* ErrnoName(int err);
// errno value of a name, -1 when unknown.
int ErrnoFromName(const std::string& name);
// Throws a JS Error shaped like Node's fs errors: code, errno (positive), syscall, path.
[[noreturn]] void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& path);
// Throws a JS Error with a library code (ERR_SEGMENT_OWNER, ...), syscall and path.
[[noreturn]] void ThrowCoded(Napi::Env env, const char* code, const std::string& message,
                             const char* syscall, const std::string& path);

// ---- args.cc: argument checks that throw TypeError/RangeError instead of crashing ----------
std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* what);
// A finite integer in [min, max].
int64_t ArgInteger(const Napi::CallbackInfo& info, size_t i, const char* what, int64_t min, int64_t max);
// A finite number (may be fractional or negative).
double ArgNumber(const Napi::CallbackInfo& info, size_t i, const char* what);
// Start and length of a SharedArrayBuffer argument.
struct SharedBytes {
  uint8_t* data;
  size_t length;
};
SharedBytes ArgSharedBuffer(const Napi::CallbackInfo& info, size_t i, const char* what);
// Address of `size` bytes at argument `offsetArg` inside the buffer, aligned to `align`.
void* ArgSharedSlot(const Napi::CallbackInfo& info, size_t bufferArg, size_t offsetArg, size_t size,
                    size_t align);

// ---- faults.cc: test-only fault injection --------------------------------------------------
// Returns 0, or the errno the current call of `syscall` must fail with (counts the call).
int InjectedFault(const char* syscall);
Napi::Value InjectFault(const Napi::CallbackInfo& info);

// ---- mapping.cc: mmap <-> SharedArrayBuffer -------------------------------------------------
// Maps `size` bytes of `fd` shared read/write; returns MAP_FAILED-free pointer or nullptr with errno.
void* MapShared(int fd, size_t size);
// Wraps a mapping as a SharedArrayBuffer whose last reference unmaps it (from any thread).
Napi::Value WrapMapping(Napi::Env env, void* addr, size_t size);
// Token bookkeeping: a mapping holding a locked token is never unmapped (see mapping.cc).
void MappingTokenHeld(const void* addr, int delta);
Napi::Value ReleasePages(const Napi::CallbackInfo& info);

// ---- descriptor.cc: checking and mapping a named segment's descriptor ----------------------
// {size, uid, mode} of `st`.
Napi::Object StatObject(Napi::Env env, const struct stat& st);
// Closes `fd` and throws ERR_SEGMENT_OWNER / _MODE / _SIZE unless `st` is owned by this euid,
// has no mode bit outside `maxMode` and is at least `minSize` (and 1) bytes. `kind` names the
// object in messages ("segment", "file").
void CheckBeforeMap(Napi::Env env, int fd, const struct stat& st, const char* kind, const std::string& name,
                    int64_t maxMode, int64_t minSize);
// Maps all of `fd` shared, closes it, returns {size, uid, mode, buffer}. When mmap fails,
// `unlinkOnError(name)` (shm_unlink or unlink, for a fresh object; may be null) runs first.
Napi::Object MapAndClose(Napi::Env env, int fd, const struct stat& st, const std::string& name,
                         int (*unlinkOnError)(const char*));
// Opens `path` (`flags` | O_CLOEXEC, `mode` if created) and fstats it into `st`; refuses
// (ERR_SEGMENT_NOT_FILE) anything but a regular file. Every failure closes and throws.
int OpenRegularFile(Napi::Env env, const std::string& path, int flags, mode_t mode, struct stat* st);
// Reserves every block of a regular file's first `size` bytes and sets its length to at
// least `size`: a full disk fails here (ENOSPC), never as SIGBUS at a later page fault.
// posix_fallocate on Linux; F_PREALLOCATE + ftruncate on macOS. Returns 0 or an errno value.
int PreallocateFile(int fd, off_t size);

// ---- lockfile.cc: lock-file liveness (byte-range locks) ------------------------------------
Napi::Value LockFileOpen(const Napi::CallbackInfo& info);
Napi::Value LockSlot(const Napi::CallbackInfo& info);
Napi::Value UnlockSlot(const Napi::CallbackInfo& info);
Napi::Value ProbeSlot(const Napi::CallbackInfo& info);
Napi::Value LockFileClose(const Napi::CallbackInfo& info);

// ---- memfd.cc: memfd zones (Linux) ----------------------------------------------------------
Napi::Value CreateMemfd(const Napi::CallbackInfo& info);
Napi::Value OpenMemfd(const Napi::CallbackInfo& info);

// ---- segment.cc ----------------------------------------------------------------------------
Napi::Value CreateSegment(const Napi::CallbackInfo& info);
Napi::Value OpenSegment(const Napi::CallbackInfo& info);
Napi::Value StatSegment(const Napi::CallbackInfo& info);
Napi::Value UnlinkSegment(const Napi::CallbackInfo& info);
Napi::Value ListSegments(const Napi::CallbackInfo& info);

// ---- file.cc: file-backed segments -----------------------------------------------------------
Napi::Value CreateFileSegment(const Napi::CallbackInfo& info);
Napi::Value OpenFileSegment(const Napi::CallbackInfo& info);
Napi::Value SyncMapping(const Napi::CallbackInfo& info);

// ---- sysv.cc: SysV shared memory segments ---------------------------------------------------
Napi::Value CreateSysvSegment(const Napi::CallbackInfo& info);
Napi::Value OpenSysvSegment(const Napi::CallbackInfo& info);
Napi::Value StatSysvSegment(const Napi::CallbackInfo& info);
Napi::Value RemoveSysvSegment(const Napi::CallbackInfo& info);

// ---- futex.cc ------------------------------------------------------------------------------
enum FutexResult { kFutexWoken = 0, kFutexNotEqual = 1, kFutexTimedOut = 2 };
// Sleeps while *word == expected, at most timeoutNs (< 0: no limit), on a process-shared
// futex. Returns a FutexResult (kFutexWoken may be spurious), or -errno. Any thread may call it.
int WaitOnWord(uint32_t* word, uint32_t expected, int64_t timeoutNs);
// A JS timeout in ms (< 0 or Infinity: no limit) as WaitOnWord's timeoutNs.
int64_t TimeoutNs(double timeoutMs);
Napi::Value FutexWait(const Napi::CallbackInfo& info);
Napi::Value FutexWake(const Napi::CallbackInfo& info);

// ---- futex-async.cc: WaitOnWord on a libuv pool thread, settling a Promise --------------
Napi::Value FutexWaitAsync(const Napi::CallbackInfo& info);

// ---- barrier.cc ----------------------------------------------------------------------------
Napi::Value BarrierRegister(const Napi::CallbackInfo& info);
Napi::Value Barrier(const Napi::CallbackInfo& info);

// ---- liveness.cc ---------------------------------------------------------------------------
constexpr size_t kTokenSize = 64;
Napi::Value TokenInit(const Napi::CallbackInfo& info);
Napi::Value TokenAcquire(const Napi::CallbackInfo& info);
Napi::Value TokenRelease(const Napi::CallbackInfo& info);
Napi::Value TokenProbe(const Napi::CallbackInfo& info);
Napi::Value GetTid(const Napi::CallbackInfo& info);
Napi::Value ProcessStartTime(const Napi::CallbackInfo& info);

}  // namespace shmzone
