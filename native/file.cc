// File-backed segments (`backend: 'file'`): an ordinary file in a directory the user chose,
// mapped MAP_SHARED by unrelated processes, that outlives them all and a reboot.
//
// Creation mirrors segment.cc's POSIX path, for the same reasons:
//   open(O_RDWR|O_CREAT|O_EXCL|O_NOFOLLOW)  never adopt a file or symlink someone planted
//   fchmod(mode)                            the umask filtered the mode given to open
//   posix_fallocate(0, size)                every block reserved now: a full disk fails HERE
//                                           with ENOSPC, never SIGBUS on a later page fault
//   fstat, mmap(MAP_SHARED)                 then the fd is closed; the mapping keeps the file
// Any failure after open closes the fd and unlinks the path before throwing. Opening checks
// the descriptor (regular file, owner, mode, size) before a byte is mapped.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "shmzone.h"

namespace shmzone {

namespace {

constexpr int64_t kMaxFileSize = INT64_C(1) << 52;

std::string ArgPath(const Napi::CallbackInfo& info, size_t i) {
  std::string path = ArgString(info, i, "path");
  if (path.empty() || path[0] != '/' || path.find('\0') != std::string::npos)
    throw Napi::RangeError::New(info.Env(), "The \"path\" argument must be an absolute path (got '" + path + "')");
  return path;
}

Napi::Object MapFile(Napi::Env env, int fd, const struct stat& st, const std::string& path, bool unlinkOnError) {
  void* addr = MapShared(fd, static_cast<size_t>(st.st_size));
  int err = errno;
  close(fd);
  if (addr == nullptr) {
    if (unlinkOnError) unlink(path.c_str());
    ThrowErrno(env, err, "mmap", path);
  }
  Napi::Object obj = Napi::Object::New(env);
  obj.Set("size", static_cast<double>(st.st_size));
  obj.Set("uid", static_cast<double>(st.st_uid));
  obj.Set("mode", static_cast<double>(st.st_mode & 0777));
  obj.Set("buffer", WrapMapping(env, addr, static_cast<size_t>(st.st_size)));
  return obj;
}

}  // namespace

Napi::Value CreateFileSegment(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgPath(info, 0);
  int64_t size = ArgInteger(info, 1, "size", 1, kMaxFileSize);
  int64_t mode = ArgInteger(info, 2, "mode", 0, 0777);
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) ThrowErrno(env, errno, "open", path);
  auto fail = [&](int err, const char* syscall) {
    close(fd);
    unlink(path.c_str());
    ThrowErrno(env, err, syscall, path);
  };
  if (fchmod(fd, static_cast<mode_t>(mode)) != 0) fail(errno, "fchmod");
  int rc;
  do rc = posix_fallocate(fd, 0, static_cast<off_t>(size));
  while (rc == EINTR);
  if (rc != 0) fail(rc, "posix_fallocate");
  struct stat st;
  if (fstat(fd, &st) != 0) fail(errno, "fstat");
  return MapFile(env, fd, st, path, true);
}

Napi::Value OpenFileSegment(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgPath(info, 0);
  int64_t maxMode = ArgInteger(info, 1, "maxMode", 0, 0777);
  int64_t minSize = ArgInteger(info, 2, "minSize", 0, kMaxFileSize);
  int fd = open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) ThrowErrno(env, errno, "open", path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    ThrowErrno(env, err, "fstat", path);
  }
  auto refuse = [&](const char* code, const std::string& message) {
    close(fd);
    ThrowCoded(env, code, message, "fstat", path);
  };
  if (!S_ISREG(st.st_mode)) refuse("ERR_SEGMENT_NOT_FILE", "'" + path + "' is not a regular file; refusing to map it");
  uid_t euid = geteuid();
  if (st.st_uid != euid)
    refuse("ERR_SEGMENT_OWNER", "file '" + path + "' belongs to uid " + std::to_string(st.st_uid) +
                                    ", not to this process's uid " + std::to_string(euid) + "; refusing to attach");
  unsigned extra = static_cast<unsigned>(st.st_mode & 0777 & ~static_cast<mode_t>(maxMode));
  if (extra != 0) {
    char buf[64];
    snprintf(buf, sizeof buf, "mode 0%o allows more than 0%o", static_cast<unsigned>(st.st_mode & 0777),
             static_cast<unsigned>(maxMode));
    refuse("ERR_SEGMENT_MODE", "file '" + path + "' has " + buf + "; refusing to attach");
  }
  if (st.st_size < minSize || st.st_size <= 0)
    refuse("ERR_SEGMENT_SIZE", "file '" + path + "' is " + std::to_string(st.st_size) + " bytes, smaller than the " +
                                   std::to_string(minSize > 0 ? minSize : 1) + " required; refusing to attach");
  return MapFile(env, fd, st, path, false);
}

// syncMapping(buffer, length): msync(MS_SYNC) of the first `length` bytes of a file mapping
// (all of it when length is 0): the clean stop of a file-backed zone writes everything back
// before it marks the header clean, and that mark before it leaves.
Napi::Value SyncMapping(const Napi::CallbackInfo& info) {
  SharedBytes bytes = ArgSharedBuffer(info, 0, "buffer");
  int64_t length = ArgInteger(info, 1, "length", 0, static_cast<int64_t>(bytes.length));
  size_t n = length == 0 ? bytes.length : static_cast<size_t>(length);
  if (msync(bytes.data, n, MS_SYNC) != 0) ThrowErrno(info.Env(), errno, "msync", "");
  return info.Env().Undefined();
}

}  // namespace shmzone
