// memfd zones (`backend: 'memfd'`, cluster mode, Linux): anonymous shared memory with no name.
//
// The primary creates each zone's memory and keeps the descriptor for its life:
//   memfd_create(MFD_CLOEXEC|MFD_ALLOW_SEALING)  no name in any directory: nothing to squat,
//                                                nothing left once every holder is gone
//   ftruncate + PreallocateFile(size)            every page reserved now (ENOSPC here, never
//                                                SIGBUS later)
//   F_ADD_SEALS(SHRINK|GROW|SEAL)                nobody can resize it under a mapping
//   mmap(MAP_SHARED)                             the fd stays open: workers open it through
//                                                /proc/<primary>/fd/<fd>
// A worker opens that link (following it: it is the kernel's link to the primary's open
// file), checks owner, mode, size and that the seals are set, maps it and closes its fd.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "shmzone.h"

namespace shmzone {

#ifdef __linux__
namespace {
constexpr int64_t kMaxMemfdSize = INT64_C(1) << 46;
constexpr int kZoneSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
}  // namespace
#endif

// createMemfd(name, size, mode) -> {fd, size, uid, mode, buffer}
Napi::Value CreateMemfd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = ArgString(info, 0, "name");
#ifdef __linux__
  int64_t size = ArgInteger(info, 1, "size", 1, kMaxMemfdSize);
  int64_t mode = ArgInteger(info, 2, "mode", 0, 0777);
  int fd = memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) ThrowErrno(env, errno, "memfd_create", name);
  auto fail = [&](int err, const char* syscall) {
    close(fd);
    ThrowErrno(env, err, syscall, name);
  };
  // A memfd is created 0777; its mode is checked like any segment's when others open it.
  if (fchmod(fd, static_cast<mode_t>(mode)) != 0) fail(errno, "fchmod");
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) fail(errno, "ftruncate");
  if (int err = PreallocateFile(fd, static_cast<off_t>(size))) fail(err, "posix_fallocate");
  if (fcntl(fd, F_ADD_SEALS, kZoneSeals) != 0) fail(errno, "fcntl");
  struct stat st;
  if (fstat(fd, &st) != 0) fail(errno, "fstat");
  void* addr = MapShared(fd, static_cast<size_t>(st.st_size));
  if (addr == nullptr) fail(errno, "mmap");
  Napi::Object obj = StatObject(env, st);
  obj.Set("buffer", WrapMapping(env, addr, static_cast<size_t>(st.st_size)));
  obj.Set("fd", fd);
  return obj;
#else
  ThrowErrno(env, ENOSYS, "memfd_create", name);
#endif
}

// openMemfd(path, maxMode, minSize) -> {size, uid, mode, buffer}: `path` is
// /proc/<pid>/fd/<n> of a process holding a zone's memfd.
Napi::Value OpenMemfd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "path");
#ifdef __linux__
  int64_t maxMode = ArgInteger(info, 1, "maxMode", 0, 0777);
  int64_t minSize = ArgInteger(info, 2, "minSize", 0, kMaxMemfdSize);
  struct stat st;
  int fd = OpenRegularFile(env, path, O_RDWR, 0, &st);  // follows the /proc link
  int seals = fcntl(fd, F_GET_SEALS);
  if (seals < 0 || (seals & kZoneSeals) != kZoneSeals) {
    close(fd);
    ThrowCoded(env, "ERR_SEGMENT_NOT_FILE",
               "'" + path + "' is not a sealed memfd of a zone; refusing to map it", "fcntl", path);
  }
  CheckBeforeMap(env, fd, st, "memfd", path, maxMode, minSize);
  return MapAndClose(env, fd, st, path, nullptr);
#else
  ThrowErrno(env, ENOSYS, "open", path);
#endif
}

}  // namespace shmzone
