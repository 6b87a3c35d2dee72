// File-backed segments (`backend: 'file'`): an ordinary file in a directory the user chose,
// mapped MAP_SHARED by unrelated processes, that outlives them all and a reboot.
//
// Creation mirrors segment.cc's POSIX path, for the same reasons:
//   open(O_RDWR|O_CREAT|O_EXCL|O_NOFOLLOW)  never adopt a file or symlink someone planted
//   fchmod(mode)                            the umask filtered the mode given to open
//   PreallocateFile(size)                   every block reserved now (posix_fallocate; macOS:
//                                           F_PREALLOCATE): a full disk fails HERE with
//                                           ENOSPC, never SIGBUS on a later page fault
//   fstat, mmap(MAP_SHARED)                 then the fd is closed; the mapping keeps the file
// Any failure after open closes the fd and unlinks the path before throwing. Opening checks
// the descriptor (regular file, then descriptor.cc's owner, mode and size checks) before a
// byte is mapped.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

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
  if (int err = PreallocateFile(fd, static_cast<off_t>(size))) fail(err, "posix_fallocate");
  struct stat st;
  if (fstat(fd, &st) != 0) fail(errno, "fstat");
  return MapAndClose(env, fd, st, path, unlink);
}

Napi::Value OpenFileSegment(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgPath(info, 0);
  int64_t maxMode = ArgInteger(info, 1, "maxMode", 0, 0777);
  int64_t minSize = ArgInteger(info, 2, "minSize", 0, kMaxFileSize);
  struct stat st;
  int fd = OpenRegularFile(env, path, O_RDWR | O_NOFOLLOW, 0, &st);
  CheckBeforeMap(env, fd, st, "file", path, maxMode, minSize);
  return MapAndClose(env, fd, st, path, nullptr);
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
