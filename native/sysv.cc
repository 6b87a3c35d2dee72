// SysV shared memory segments (`backend: 'sysv'`), as nginx's ngx_shm_alloc can use them:
// shmget/shmat with a key derived from the zone's name (src/zone/sysv-source.ts).
//
//   shmget(key, size, IPC_CREAT|IPC_EXCL|mode)  never adopt a segment someone else made
//   shmctl(IPC_STAT)                            owner, creator, mode and size checked before
//                                               a byte is attached (opening only)
//   shmat                                       wrapped like an mmap: the last reference
//                                               detaches it (munmap of an attachment is shmdt)
//   shmctl(IPC_RMID)                            frees the key at once; the kernel destroys the
//                                               memory when the last process detaches
// SysV memory is allocated on first touch, like tmpfs without posix_fallocate: its limits
// are kernel.shmmax/shmall (EINVAL/ENOSPC at shmget), not the size of /dev/shm.
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "shmzone.h"

namespace shmzone {

namespace {

constexpr int64_t kMaxSysvSize = INT64_C(1) << 52;

key_t ArgKey(const Napi::CallbackInfo& info, size_t i) {
  return static_cast<key_t>(ArgInteger(info, i, "key", 1, 0x7fffffff));
}

std::string KeyName(key_t key) {
  char buf[32];
  snprintf(buf, sizeof buf, "sysv key 0x%08x", static_cast<unsigned>(key));
  return buf;
}

Napi::Object Attach(Napi::Env env, int id, const struct shmid_ds& ds, const std::string& where) {
  void* addr = shmat(id, nullptr, 0);
  if (addr == reinterpret_cast<void*>(-1)) ThrowErrno(env, errno, "shmat", where);
  Napi::Object obj = Napi::Object::New(env);
  obj.Set("size", static_cast<double>(ds.shm_segsz));
  obj.Set("uid", static_cast<double>(ds.shm_perm.uid));
  obj.Set("mode", static_cast<double>(ds.shm_perm.mode & 0777));
  obj.Set("id", static_cast<double>(id));
  obj.Set("buffer", WrapMapping(env, addr, static_cast<size_t>(ds.shm_segsz)));
  return obj;
}

}  // namespace

Napi::Value CreateSysvSegment(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  key_t key = ArgKey(info, 0);
  int64_t size = ArgInteger(info, 1, "size", 1, kMaxSysvSize);
  int64_t mode = ArgInteger(info, 2, "mode", 0, 0777);
  std::string where = KeyName(key);
  int id = shmget(key, static_cast<size_t>(size), IPC_CREAT | IPC_EXCL | static_cast<int>(mode));
  if (id < 0) ThrowErrno(env, errno, "shmget", where);
  struct shmid_ds ds;
  if (shmctl(id, IPC_STAT, &ds) != 0) {
    int err = errno;
    shmctl(id, IPC_RMID, nullptr);
    ThrowErrno(env, err, "shmctl", where);
  }
  try {
    return Attach(env, id, ds, where);
  } catch (...) {
    shmctl(id, IPC_RMID, nullptr);
    throw;
  }
}

Napi::Value OpenSysvSegment(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  key_t key = ArgKey(info, 0);
  int64_t maxMode = ArgInteger(info, 1, "maxMode", 0, 0777);
  int64_t minSize = ArgInteger(info, 2, "minSize", 0, kMaxSysvSize);
  std::string where = KeyName(key);
  int id = shmget(key, 0, 0);
  if (id < 0) ThrowErrno(env, errno, "shmget", where);
  struct shmid_ds ds;
  if (shmctl(id, IPC_STAT, &ds) != 0) ThrowErrno(env, errno, "shmctl", where);
  uid_t euid = geteuid();
  if (ds.shm_perm.uid != euid || ds.shm_perm.cuid != euid) {
    uid_t other = ds.shm_perm.uid != euid ? ds.shm_perm.uid : ds.shm_perm.cuid;
    ThrowCoded(env, "ERR_SEGMENT_OWNER",
               where + " belongs to uid " + std::to_string(other) + ", not to this process's uid " +
                   std::to_string(euid) + "; refusing to attach",
               "shmctl", where);
  }
  unsigned extra = static_cast<unsigned>(ds.shm_perm.mode & 0777 & ~static_cast<unsigned>(maxMode));
  if (extra != 0) {
    char buf[64];
    snprintf(buf, sizeof buf, "mode 0%o allows more than 0%o", static_cast<unsigned>(ds.shm_perm.mode & 0777),
             static_cast<unsigned>(maxMode));
    ThrowCoded(env, "ERR_SEGMENT_MODE", where + " has " + buf + "; refusing to attach", "shmctl", where);
  }
  if (static_cast<int64_t>(ds.shm_segsz) < minSize || ds.shm_segsz == 0)
    ThrowCoded(env, "ERR_SEGMENT_SIZE",
               where + " is " + std::to_string(ds.shm_segsz) + " bytes, smaller than the " +
                   std::to_string(minSize > 0 ? minSize : 1) + " required; refusing to attach",
               "shmctl", where);
  return Attach(env, id, ds, where);
}

// statSysvSegment(key): {size, uid, mode, id, attached} without attaching.
Napi::Value StatSysvSegment(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  key_t key = ArgKey(info, 0);
  std::string where = KeyName(key);
  int id = shmget(key, 0, 0);
  if (id < 0) ThrowErrno(env, errno, "shmget", where);
  struct shmid_ds ds;
  if (shmctl(id, IPC_STAT, &ds) != 0) ThrowErrno(env, errno, "shmctl", where);
  Napi::Object obj = Napi::Object::New(env);
  obj.Set("size", static_cast<double>(ds.shm_segsz));
  obj.Set("uid", static_cast<double>(ds.shm_perm.uid));
  obj.Set("mode", static_cast<double>(ds.shm_perm.mode & 0777));
  obj.Set("id", static_cast<double>(id));
  obj.Set("attached", static_cast<double>(ds.shm_nattch));
  return obj;
}

// removeSysvSegment(key): IPC_RMID. The key is free at once; attachments stay valid.
Napi::Value RemoveSysvSegment(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  key_t key = ArgKey(info, 0);
  std::string where = KeyName(key);
  int id = shmget(key, 0, 0);
  if (id < 0 || shmctl(id, IPC_RMID, nullptr) != 0) ThrowErrno(env, errno, id < 0 ? "shmget" : "shmctl", where);
  return env.Undefined();
}

}  // namespace shmzone
