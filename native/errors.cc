// errno -> JS Error in the shape of Node's fs errors:
//   err.message  "ENOSPC: no space left on device, posix_fallocate '/shmzone.ns.z'"
//   err.code     "ENOSPC"          err.syscall "posix_fallocate"
//   err.errno    28 (POSITIVE, unlike Node's negative libuv numbers: it is the raw errno the
//                    syscall returned, which is what a reader of errno(3) expects)
//   err.path     "/shmzone.ns.z"   (the segment name; omitted when there is none)
#include <cerrno>
#include <cstring>

#include "shmzone.h"

namespace shmzone {

namespace {

struct ErrnoEntry {
  int value;
  const char* name;
  const char* text;  // lower case like libuv's, so messages read like Node's own
};

#define E(name, text) {name, #name, text}
const ErrnoEntry kErrnos[] = {
    E(EPERM, "operation not permitted"),
    E(ENOENT, "no such file or directory"),
    E(ESRCH, "no such process"),
    E(EINTR, "interrupted system call"),
    E(EIO, "i/o error"),
    E(EBADF, "bad file descriptor"),
    E(EAGAIN, "resource temporarily unavailable"),
    E(ENOMEM, "not enough memory"),
    E(EACCES, "permission denied"),
    E(EFAULT, "bad address in system call argument"),
    E(EBUSY, "resource busy or locked"),
    E(EEXIST, "file already exists"),
    E(ENODEV, "no such device"),
    E(ENOTDIR, "not a directory"),
    E(EISDIR, "illegal operation on a directory"),
    E(EINVAL, "invalid argument"),
    E(ENFILE, "file table overflow"),
    E(EMFILE, "too many open files"),
    E(EFBIG, "file too large"),
    E(ENOSPC, "no space left on device"),
    E(EIDRM, "identifier removed"),
    E(ESPIPE, "invalid seek"),
    E(EROFS, "read-only file system"),
    E(ERANGE, "result too large"),
    E(EDEADLK, "resource deadlock avoided"),
    E(ENAMETOOLONG, "name too long"),
    E(ENOSYS, "function not implemented"),
    E(ENOTSUP, "operation not supported"),
    E(EOVERFLOW, "value too large for defined data type"),
    E(ETIMEDOUT, "connection timed out"),
    E(EDQUOT, "disk quota exceeded"),
    E(EOWNERDEAD, "owner died"),
    E(ENOTRECOVERABLE, "state not recoverable"),
    E(ELOOP, "too many symbolic links encountered"),
    E(ENXIO, "no such device or address"),
    E(EXDEV, "cross-device link not permitted"),
    E(ETXTBSY, "text file is busy"),
    E(EMLINK, "too many links"),
    E(ENOTEMPTY, "directory not empty"),
    E(ENOLCK, "no locks available"),
    E(ECANCELED, "operation canceled"),
    E(ENOTSOCK, "socket operation on non-socket"),
};
#undef E

const ErrnoEntry* FindErrno(int err) {
  for (const auto& e : kErrnos)
    if (e.value == err) return &e;
  return nullptr;
}

Napi::Error MakeError(Napi::Env env, const std::string& code, const std::string& message,
                      const char* syscall, const std::string& path) {
  Napi::Error error = Napi::Error::New(env, message);
  Napi::Object obj = error.Value();
  obj.Set("code", code);
  if (syscall != nullptr) obj.Set("syscall", syscall);
  if (!path.empty()) obj.Set("path", path);
  return error;
}

}  // namespace

const char* ErrnoName(int err) {
  const ErrnoEntry* e = FindErrno(err);
  if (e != nullptr) return e->name;
  thread_local char buf[24];
  snprintf(buf, sizeof buf, "E%d", err);
  return buf;
}

int ErrnoFromName(const std::string& name) {
  for (const auto& e : kErrnos)
    if (name == e.name) return e.value;
  return -1;
}

void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& path) {
  const ErrnoEntry* e = FindErrno(err);
  std::string code = ErrnoName(err);
  std::string text = e != nullptr ? e->text : strerror(err);
  std::string message = code + ": " + text + ", " + syscall;
  if (!path.empty()) message += " '" + path + "'";
  Napi::Error error = MakeError(env, code, message, syscall, path);
  error.Value().Set("errno", err);
  throw error;
}

void ThrowCoded(Napi::Env env, const char* code, const std::string& message, const char* syscall,
                const std::string& path) {
  throw MakeError(env, code, message, syscall, path);
}

}  // namespace shmzone
