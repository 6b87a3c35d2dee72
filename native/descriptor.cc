// A named segment's open descriptor (a POSIX shm object or a file of the file backend), from
// its checks to its mapping. Both backends attach the same way:
//   fstat            done by the caller (with its own fault-injection hook)
//   CheckBeforeMap   owner == euid, no mode bit beyond what the caller accepts, size large
//                    enough: every check on the descriptor before a byte is mapped, because
//                    the name may be a squatter's (test/zone/25.squatting, test/zone/96)
//   MapAndClose      mmap(MAP_SHARED) of the whole object, then close: no descriptor outlives
//                    the call; a fresh object that cannot be mapped is unlinked again
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "shmzone.h"

namespace shmzone {

Napi::Object StatObject(Napi::Env env, const struct stat& st) {
  Napi::Object obj = Napi::Object::New(env);
  obj.Set("size", static_cast<double>(st.st_size));
  obj.Set("uid", static_cast<double>(st.st_uid));
  obj.Set("mode", static_cast<double>(st.st_mode & 0777));
  return obj;
}

void CheckBeforeMap(Napi::Env env, int fd, const struct stat& st, const char* kind, const std::string& name,
                    int64_t maxMode, int64_t minSize) {
  auto refuse = [&](const char* code, const std::string& message) {
    close(fd);
    ThrowCoded(env, code, message, "fstat", name);
  };
  const std::string what = std::string(kind) + " '" + name + "'";
  uid_t euid = geteuid();
  if (st.st_uid != euid)
    refuse("ERR_SEGMENT_OWNER", what + " belongs to uid " + std::to_string(st.st_uid) +
                                    ", not to this process's uid " + std::to_string(euid) + "; refusing to attach");
  unsigned extra = static_cast<unsigned>(st.st_mode & 0777 & ~static_cast<mode_t>(maxMode));
  if (extra != 0) {
    char buf[96];
    snprintf(buf, sizeof buf, " has mode 0%o, which allows more than 0%o (extra bits 0%o); refusing to attach",
             static_cast<unsigned>(st.st_mode & 0777), static_cast<unsigned>(maxMode), extra);
    refuse("ERR_SEGMENT_MODE", what + buf);
  }
  if (st.st_size < minSize || st.st_size <= 0)
    refuse("ERR_SEGMENT_SIZE", what + " is " + std::to_string(st.st_size) + " bytes, smaller than the " +
                                   std::to_string(minSize > 0 ? minSize : 1) + " required; refusing to attach");
}

Napi::Object MapAndClose(Napi::Env env, int fd, const struct stat& st, const std::string& name,
                         int (*unlinkOnError)(const char*)) {
  void* addr = MapShared(fd, static_cast<size_t>(st.st_size));
  int err = errno;
  close(fd);
  if (addr == nullptr) {
    if (unlinkOnError != nullptr) unlinkOnError(name.c_str());
    ThrowErrno(env, err, "mmap", name);
  }
  Napi::Object obj = StatObject(env, st);
  obj.Set("buffer", WrapMapping(env, addr, static_cast<size_t>(st.st_size)));
  return obj;
}

int OpenRegularFile(Napi::Env env, const std::string& path, int flags, mode_t mode, struct stat* st) {
  int fd = open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) ThrowErrno(env, errno, "open", path);
  if (fstat(fd, st) != 0) {
    int err = errno;
    close(fd);
    ThrowErrno(env, err, "fstat", path);
  }
  if (!S_ISREG(st->st_mode)) {
    close(fd);
    ThrowCoded(env, "ERR_SEGMENT_NOT_FILE", "'" + path + "' is not a regular file; refusing it", "fstat", path);
  }
  return fd;
}

int PreallocateFile(int fd, off_t size) {
#ifdef __APPLE__
  // macOS has no posix_fallocate: reserve the blocks (contiguous if possible), then set the
  // length; a full disk fails at F_PREALLOCATE, before anything is mapped.
  fstore_t store = {F_ALLOCATECONTIG | F_ALLOCATEALL, F_PEOFPOSMODE, 0, size, 0};
  if (fcntl(fd, F_PREALLOCATE, &store) == -1) {
    store.fst_flags = F_ALLOCATEALL;
    if (fcntl(fd, F_PREALLOCATE, &store) == -1) return errno;
  }
  return ftruncate(fd, size) == 0 ? 0 : errno;
#else
  int rc;
  // A signal during a large allocation interrupts it; it is safe to simply start again.
  do rc = posix_fallocate(fd, 0, size);
  while (rc == EINTR);
  return rc;
#endif
}

}  // namespace shmzone
