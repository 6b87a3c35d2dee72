// Lock-file liveness (`liveness: 'lockfile'`; the only kind on macOS, which has no robust
// mutexes): peer slot i of a zone is byte i of the zone's lock file, write-locked with
// fcntl(F_SETLK) by the process whose thread holds the slot. The kernel drops every lock of
// a process when it dies, by any signal, so a probe (F_GETLK) finds a dead process's slot
// free. Three properties of fcntl locks shape this file:
// - They belong to the process, not the thread: F_GETLK never reports the caller's own
//   locks, so this process's held slots are kept in `held` and answered from there.
// - Closing ANY descriptor of the file drops all of the process's locks on it: each lock
//   file is opened once per process and never closed (`files`).
// - A thread's death is invisible to the kernel here: a worker thread's slots are released
//   by an environment cleanup hook, which Node runs when the worker ends, worker.terminate()
//   included. A thread that crashes takes its process with it.
// test/zone/93.lockfile-liveness.test.ts runs this path on Linux.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "shmzone.h"

namespace shmzone {

namespace {

std::mutex filesMutex;
// Never destroyed: cleanup hooks may run while the process exits.
auto* files = new std::map<std::string, int>();              // path -> descriptor
auto* held = new std::set<std::pair<int, int64_t>>();        // (fd, slot) locked here

struct SlotHook {
  int fd;
  int64_t slot;
};
auto* hooks = new std::map<std::pair<int, int64_t>, SlotHook*>();

bool LockByte(int fd, int64_t slot, short type, int cmd) {
  struct flock fl = {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(slot);
  fl.l_len = 1;
  int rc;
  do rc = fcntl(fd, cmd, &fl);
  while (rc != 0 && errno == EINTR);
  return rc == 0;
}

void ReleaseLocked(int fd, int64_t slot) {
  LockByte(fd, slot, F_UNLCK, F_SETLK);
  held->erase({fd, slot});
  auto it = hooks->find({fd, slot});
  if (it != hooks->end()) {
    delete it->second;
    hooks->erase(it);
  }
}

// The environment of the thread that took the slot is going away (worker ended).
void ReleaseAtCleanup(void* arg) {
  auto* hook = static_cast<SlotHook*>(arg);
  std::lock_guard<std::mutex> lock(filesMutex);
  ReleaseLocked(hook->fd, hook->slot);
}

int ArgFd(const Napi::CallbackInfo& info) {
  int64_t fd = ArgInteger(info, 0, "file", 0, INT32_MAX);
  std::lock_guard<std::mutex> lock(filesMutex);
  for (const auto& entry : *files)
    if (entry.second == fd) return static_cast<int>(fd);
  throw Napi::RangeError::New(info.Env(), "The \"file\" argument is not a lock file of lockFileOpen()");
}

// Arguments (file, slot) of the slot calls: a descriptor lockFileOpen() returned, a slot.
std::pair<int, int64_t> ArgSlot(const Napi::CallbackInfo& info) {
  return {ArgFd(info), ArgInteger(info, 1, "slot", 0, INT32_MAX)};
}

}  // namespace

// lockFileOpen(path, mode) -> the process's descriptor for `path` (created `mode` if absent;
// refused unless a regular file of this uid with no bit beyond `mode`).
Napi::Value LockFileOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "path");
  int64_t mode = ArgInteger(info, 1, "mode", 0, 0777);
  std::lock_guard<std::mutex> lock(filesMutex);
  auto found = files->find(path);
  if (found != files->end()) return Napi::Number::New(env, found->second);
  struct stat st;
  int fd = OpenRegularFile(env, path, O_RDWR | O_CREAT | O_NOFOLLOW, static_cast<mode_t>(mode), &st);
  if (st.st_uid != geteuid() || (st.st_mode & 0777 & ~static_cast<mode_t>(mode)) != 0) {
    close(fd);
    ThrowCoded(env, st.st_uid != geteuid() ? "ERR_SEGMENT_OWNER" : "ERR_SEGMENT_MODE",
               "lock file '" + path + "' belongs to uid " + std::to_string(st.st_uid) +
                   " or allows more than its mode; refusing it",
               "fstat", path);
  }
  (*files)[path] = fd;
  return Napi::Number::New(env, fd);
}

// lockSlot(file, slot) -> true when the calling thread now holds the slot.
Napi::Value LockSlot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto [fd, slot] = ArgSlot(info);
  std::lock_guard<std::mutex> lock(filesMutex);
  if (held->count({fd, slot}) != 0) return Napi::Boolean::New(env, false);  // another thread here
  if (!LockByte(fd, slot, F_WRLCK, F_SETLK)) {
    if (errno == EAGAIN || errno == EACCES) return Napi::Boolean::New(env, false);
    ThrowErrno(env, errno, "fcntl", "");
  }
  held->insert({fd, slot});
  auto* hook = new SlotHook{fd, slot};
  (*hooks)[{fd, slot}] = hook;
  napi_add_env_cleanup_hook(env, ReleaseAtCleanup, hook);
  return Napi::Boolean::New(env, true);
}

// unlockSlot(file, slot): gives back a slot this process holds.
Napi::Value UnlockSlot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto [fd, slot] = ArgSlot(info);
  std::lock_guard<std::mutex> lock(filesMutex);
  auto it = hooks->find({fd, slot});
  if (it != hooks->end()) napi_remove_env_cleanup_hook(env, ReleaseAtCleanup, it->second);
  ReleaseLocked(fd, slot);
  return env.Undefined();
}

// lockFileClose(path) -> true when this process's descriptor of `path` was closed: only when
// none of its slots is held here (closing drops every lock of the process on the file).
Napi::Value LockFileClose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "path");
  std::lock_guard<std::mutex> lock(filesMutex);
  auto found = files->find(path);
  if (found == files->end()) return Napi::Boolean::New(env, false);
  int fd = found->second;
  for (const auto& entry : *held)
    if (entry.first == fd) return Napi::Boolean::New(env, false);
  files->erase(found);
  close(fd);
  return Napi::Boolean::New(env, true);
}

// probeSlot(file, slot) -> true when a live thread (of this or another process) holds it.
Napi::Value ProbeSlot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto [fd, slot] = ArgSlot(info);
  std::lock_guard<std::mutex> lock(filesMutex);
  if (held->count({fd, slot}) != 0) return Napi::Boolean::New(env, true);
  struct flock fl = {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(slot);
  fl.l_len = 1;
  if (fcntl(fd, F_GETLK, &fl) != 0) ThrowErrno(env, errno, "fcntl", "");
  return Napi::Boolean::New(env, fl.l_type != F_UNLCK);
}

}  // namespace shmzone
