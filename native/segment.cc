// POSIX shared memory segments: create, open (with owner/mode/size checks), stat, unlink, list.
//
// Creation order and why (docs/specs/reliability.md 7.1, 7.2):
//   shm_open(O_RDWR|O_CREAT|O_EXCL)  never adopt a name someone else planted
//   fchmod(mode)                     the umask filtered the mode given to shm_open
//   ftruncate(size)                  sets the size only; tmpfs pages are not yet allocated
//   posix_fallocate(0, size)         Linux: a full /dev/shm fails HERE with ENOSPC, instead of
//                                    SIGBUS in whichever process first touches a missing page
//   fstat                            report what the kernel really holds
//   mmap(MAP_SHARED)                 then the fd is closed: the mapping keeps the memory
// Any failure after shm_open closes the fd and unlinks the name before throwing.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <memory>

#include "shmzone.h"

namespace shmzone {

namespace {

constexpr int64_t kMaxSegmentSize = INT64_C(1) << 52;  // far above any tmpfs; keeps doubles exact

// Every syscall goes through these so that tests can fail any of them (faults.cc).
int DoShmOpen(const std::string& name, int flags, mode_t mode) {
  if (int err = InjectedFault("shm_open")) {
    errno = err;
    return -1;
  }
  return shm_open(name.c_str(), flags, mode);
}

int DoFstat(int fd, struct stat* st) {
  if (int err = InjectedFault("fstat")) {
    errno = err;
    return -1;
  }
  return fstat(fd, st);
}

int DoFchmod(int fd, mode_t mode) {
  if (int err = InjectedFault("fchmod")) {
    errno = err;
    return -1;
  }
  return fchmod(fd, mode);
}

int DoFtruncate(int fd, off_t size) {
  if (int err = InjectedFault("ftruncate")) {
    errno = err;
    return -1;
  }
  int rc;
  do rc = ftruncate(fd, size);
  while (rc != 0 && errno == EINTR);
  return rc;
}

// Returns 0 or an errno value (posix_fallocate does not set errno).
int DoFallocate(int fd, off_t size) {
  if (int err = InjectedFault("posix_fallocate")) return err;
#ifdef __linux__
  int rc;
  // A signal during a large allocation interrupts it; it is safe to simply start again.
  do rc = posix_fallocate(fd, 0, size);
  while (rc == EINTR);
  return rc;
#else
  (void)fd;
  (void)size;
  return 0;  // macOS has no posix_fallocate; its shm objects are not sparse tmpfs files
#endif
}

void CloseKeepErrno(int fd) {
  int saved = errno;
  close(fd);
  errno = saved;
}

std::string ArgSegmentName(const Napi::CallbackInfo& info, size_t i) {
  std::string name = ArgString(info, i, "name");
  if (name.size() < 2 || name[0] != '/' || name.find('/', 1) != std::string::npos ||
      name.find('\0') != std::string::npos)
    throw Napi::RangeError::New(info.Env(), "The \"name\" argument must be '/' followed by a name without '/' (got '" +
                                                name + "')");
  if (name.size() > NAME_MAX)
    throw Napi::RangeError::New(info.Env(), "The \"name\" argument is longer than " + std::to_string(NAME_MAX) + " bytes");
  return name;
}

}  // namespace

Napi::Value CreateSegment(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = ArgSegmentName(info, 0);
  int64_t size = ArgInteger(info, 1, "size", 1, kMaxSegmentSize);
  int64_t mode = ArgInteger(info, 2, "mode", 0, 0777);

  int fd = DoShmOpen(name, O_RDWR | O_CREAT | O_EXCL, static_cast<mode_t>(mode));
  if (fd < 0) ThrowErrno(env, errno, "shm_open", name);

  // From here on every failure backs out: close, unlink, throw.
  auto fail = [&](int err, const char* syscall) {
    close(fd);
    shm_unlink(name.c_str());
    ThrowErrno(env, err, syscall, name);
  };
  if (DoFchmod(fd, static_cast<mode_t>(mode)) != 0) fail(errno, "fchmod");
  if (DoFtruncate(fd, static_cast<off_t>(size)) != 0) fail(errno, "ftruncate");
  if (int err = DoFallocate(fd, static_cast<off_t>(size))) fail(err, "posix_fallocate");
  struct stat st;
  if (DoFstat(fd, &st) != 0) fail(errno, "fstat");
  return MapAndClose(env, fd, st, name, shm_unlink);
}

Napi::Value OpenSegment(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = ArgSegmentName(info, 0);
  int64_t maxMode = ArgInteger(info, 1, "maxMode", 0, 0777);
  int64_t minSize = ArgInteger(info, 2, "minSize", 0, kMaxSegmentSize);

  int fd = DoShmOpen(name, O_RDWR, 0);
  if (fd < 0) ThrowErrno(env, errno, "shm_open", name);
  struct stat st;
  if (DoFstat(fd, &st) != 0) {
    CloseKeepErrno(fd);
    ThrowErrno(env, errno, "fstat", name);
  }
  CheckBeforeMap(env, fd, st, "segment", name, maxMode, minSize);
  return MapAndClose(env, fd, st, name, nullptr);
}

Napi::Value StatSegment(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = ArgSegmentName(info, 0);
  int fd = DoShmOpen(name, O_RDONLY, 0);
  if (fd < 0) ThrowErrno(env, errno, "shm_open", name);
  struct stat st;
  int rc = DoFstat(fd, &st);
  int err = errno;
  close(fd);
  if (rc != 0) ThrowErrno(env, err, "fstat", name);
  return StatObject(env, st);
}

Napi::Value UnlinkSegment(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = ArgSegmentName(info, 0);
  if (shm_unlink(name.c_str()) != 0) ThrowErrno(env, errno, "shm_unlink", name);
  return env.Undefined();
}

Napi::Value ListSegments(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string prefix = ArgString(info, 0, "prefix");
  Napi::Array result = Napi::Array::New(env);
#ifdef __linux__
  const char* dirPath = "/dev/shm";
  DIR* dir = opendir(dirPath);
  if (dir == nullptr) {
    if (errno == ENOENT) return result;  // no /dev/shm mounted: nothing to list
    ThrowErrno(env, errno, "opendir", dirPath);
  }
  std::unique_ptr<DIR, int (*)(DIR*)> closer(dir, closedir);  // closed on every exit, throws included
  uint32_t n = 0;
  int dfd = dirfd(dir);
  while (struct dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name == "." || name == ".." || name.compare(0, prefix.size(), prefix) != 0) continue;
    struct stat st;
    // The entry may vanish between readdir and fstatat (another process unlinked it): skip it.
    if (fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    // Not followed: a symlink or anything else planted at a segment name is listed as what it
    // is (with its owner), so `shmzone ls` shows the squatter (test/cli/40.hostile.test.ts).
    Napi::Object obj = StatObject(env, st);
    obj.Set("type", S_ISREG(st.st_mode) ? "file" : S_ISLNK(st.st_mode) ? "symlink" : "other");
    obj.Set("name", name);
    obj.Set("mtimeMs", static_cast<double>(st.st_mtim.tv_sec) * 1e3 + static_cast<double>(st.st_mtim.tv_nsec) / 1e6);
    result.Set(n++, obj);
  }
#endif
  // macOS keeps POSIX shm objects in the kernel with no directory to read: nothing to list.
  return result;
}

}  // namespace shmzone
