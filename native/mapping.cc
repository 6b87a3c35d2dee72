// mmap <-> SharedArrayBuffer.
//
// Each mapping is wrapped in exactly one backing store; V8 shares that backing store between
// every SharedArrayBuffer object that refers to it (including copies posted to worker threads)
// and calls our deleter once, when the last one is gone, on whatever thread that happens. The
// deleter only munmaps and updates a registry under a std::mutex: it never touches JS.
//
// Registry: liveness tokens (liveness.cc) are robust pthread mutexes inside mappings, and glibc
// links the robust mutexes a thread holds into a list THROUGH the mutex memory; the kernel walks
// that list when the thread dies. Unmapping a mapping that still contains a held token would make
// glibc write into unmapped memory on the thread's next lock/unlock, and would hide the owner's
// death from the kernel. So a mapping with held tokens is never unmapped: it is deliberately
// leaked instead (release tokens before dropping a zone).
#include <sys/mman.h>

#include <cerrno>
#include <map>
#include <mutex>

#include "shmzone.h"
#include "v8_bridge.h"

namespace shmzone {

namespace {

struct MappingRecord {
  void* addr;
  size_t size;
  int heldTokens;  // tokens locked by some thread of this process (under registryMutex)
  bool released;   // the JS side let go while tokens were held: leaked on purpose
};

std::mutex registryMutex;
std::map<uintptr_t, MappingRecord*>* registry = new std::map<uintptr_t, MappingRecord*>();  // never destroyed: deleters may run during exit

void ReleaseMapping(MappingRecord* record) {
  {
    std::lock_guard<std::mutex> lock(registryMutex);
    if (record->heldTokens > 0) {
      record->released = true;
      return;
    }
    registry->erase(reinterpret_cast<uintptr_t>(record->addr));
  }
  munmap(record->addr, record->size);
  delete record;
}

#ifndef SHMZONE_HAVE_NAPI_EXTERNAL_SAB
void V8Deleter(void* /*data*/, size_t /*length*/, void* deleterData) {
  ReleaseMapping(static_cast<MappingRecord*>(deleterData));
}
#else
void NapiFinalizer(void* /*data*/, void* hint) { ReleaseMapping(static_cast<MappingRecord*>(hint)); }
#endif

}  // namespace

void* MapShared(int fd, size_t size) {
  if (size == 0) {  // mmap of length 0 is EINVAL; refuse it here with a clear errno
    errno = EINVAL;
    return nullptr;
  }
  if (int err = InjectedFault("mmap")) {
    errno = err;
    return nullptr;
  }
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  return p == MAP_FAILED ? nullptr : p;
}

Napi::Value WrapMapping(Napi::Env env, void* addr, size_t size) {
  auto* record = new MappingRecord{addr, size, 0, false};
  {
    std::lock_guard<std::mutex> lock(registryMutex);
    (*registry)[reinterpret_cast<uintptr_t>(addr)] = record;
  }
#ifdef SHMZONE_HAVE_NAPI_EXTERNAL_SAB
  napi_value result;
  napi_status status = node_api_create_external_sharedarraybuffer(env, addr, size, NapiFinalizer, record, &result);
  if (status != napi_ok) {
    ReleaseMapping(record);
    NAPI_THROW(Napi::Error::New(env), Napi::Value());
  }
  return Napi::Value(env, result);
#else
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  std::unique_ptr<v8::BackingStore> store = v8::SharedArrayBuffer::NewBackingStore(addr, size, V8Deleter, record);
  v8::Local<v8::SharedArrayBuffer> sab = v8::SharedArrayBuffer::New(isolate, std::move(store));
  return Napi::Value(env, FromV8(sab));
#endif
}

void MappingTokenHeld(const void* addr, int delta) {
  uintptr_t p = reinterpret_cast<uintptr_t>(addr);
  std::lock_guard<std::mutex> lock(registryMutex);
  auto it = registry->upper_bound(p);
  if (it == registry->begin()) return;  // not one of our mappings (a plain JS SharedArrayBuffer)
  --it;
  MappingRecord* record = it->second;
  if (p >= it->first + record->size) return;
  record->heldTokens += delta;
  if (record->heldTokens < 0) record->heldTokens = 0;
  if (record->heldTokens == 0 && record->released) {
    // The JS side let go earlier; the last held token is gone, so unmap now.
    registry->erase(it);
    munmap(record->addr, record->size);
    delete record;
  }
}

// releasePages(buffer): frees the shared memory pages behind one of our mappings now, instead of
// when the last SharedArrayBuffer referring to it is collected. MADV_REMOVE punches the pages
// out of the (already unlinked) tmpfs object; the mapping stays valid and reads zeros. The
// caller decides it is the last user (src/zone/startup.ts leaveZone); here we only refuse a
// buffer that is not a mapping of ours, or one in which a thread of this process still holds a
// liveness token (zeroing a held robust mutex would corrupt glibc's robust list). Returns
// whether the pages were released (test/zone/95.release-pages.test.ts).
Napi::Value ReleasePages(const Napi::CallbackInfo& info) {
  SharedBytes bytes = ArgSharedBuffer(info, 0, "buffer");
  std::lock_guard<std::mutex> lock(registryMutex);
  auto it = registry->find(reinterpret_cast<uintptr_t>(bytes.data));
  if (it == registry->end()) return Napi::Boolean::New(info.Env(), false);
  MappingRecord* record = it->second;
  if (record->heldTokens > 0 || record->size != bytes.length) return Napi::Boolean::New(info.Env(), false);
#ifdef MADV_REMOVE
  return Napi::Boolean::New(info.Env(), madvise(record->addr, record->size, MADV_REMOVE) == 0);
#else
  return Napi::Boolean::New(info.Env(), false);  // macOS: no hole punching in shm objects
#endif
}

}  // namespace shmzone
