// The list of everything the addon exports; src/native.ts holds the typed contract.
#include "shmzone.h"

namespace shmzone {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("createSegment", Napi::Function::New(env, CreateSegment, "createSegment"));
  exports.Set("openSegment", Napi::Function::New(env, OpenSegment, "openSegment"));
  exports.Set("statSegment", Napi::Function::New(env, StatSegment, "statSegment"));
  exports.Set("unlinkSegment", Napi::Function::New(env, UnlinkSegment, "unlinkSegment"));
  exports.Set("listSegments", Napi::Function::New(env, ListSegments, "listSegments"));
  exports.Set("createFileSegment", Napi::Function::New(env, CreateFileSegment, "createFileSegment"));
  exports.Set("openFileSegment", Napi::Function::New(env, OpenFileSegment, "openFileSegment"));
  exports.Set("syncMapping", Napi::Function::New(env, SyncMapping, "syncMapping"));
  exports.Set("createSysvSegment", Napi::Function::New(env, CreateSysvSegment, "createSysvSegment"));
  exports.Set("openSysvSegment", Napi::Function::New(env, OpenSysvSegment, "openSysvSegment"));
  exports.Set("statSysvSegment", Napi::Function::New(env, StatSysvSegment, "statSysvSegment"));
  exports.Set("removeSysvSegment", Napi::Function::New(env, RemoveSysvSegment, "removeSysvSegment"));
  exports.Set("createMemfd", Napi::Function::New(env, CreateMemfd, "createMemfd"));
  exports.Set("openMemfd", Napi::Function::New(env, OpenMemfd, "openMemfd"));
  exports.Set("releasePages", Napi::Function::New(env, ReleasePages, "releasePages"));

  exports.Set("futexWait", Napi::Function::New(env, FutexWait, "futexWait"));
  exports.Set("futexWaitAsync", Napi::Function::New(env, FutexWaitAsync, "futexWaitAsync"));
  exports.Set("futexWake", Napi::Function::New(env, FutexWake, "futexWake"));
  exports.Set("barrierRegister", Napi::Function::New(env, BarrierRegister, "barrierRegister"));
  exports.Set("barrier", Napi::Function::New(env, Barrier, "barrier"));

  exports.Set("tokenSize", Napi::Number::New(env, static_cast<double>(kTokenSize)));
  exports.Set("tokenInit", Napi::Function::New(env, TokenInit, "tokenInit"));
  exports.Set("tokenAcquire", Napi::Function::New(env, TokenAcquire, "tokenAcquire"));
  exports.Set("tokenRelease", Napi::Function::New(env, TokenRelease, "tokenRelease"));
  exports.Set("tokenProbe", Napi::Function::New(env, TokenProbe, "tokenProbe"));
  exports.Set("lockFileOpen", Napi::Function::New(env, LockFileOpen, "lockFileOpen"));
  exports.Set("lockSlot", Napi::Function::New(env, LockSlot, "lockSlot"));
  exports.Set("unlockSlot", Napi::Function::New(env, UnlockSlot, "unlockSlot"));
  exports.Set("probeSlot", Napi::Function::New(env, ProbeSlot, "probeSlot"));
  exports.Set("lockFileClose", Napi::Function::New(env, LockFileClose, "lockFileClose"));
  exports.Set("gettid", Napi::Function::New(env, GetTid, "gettid"));
  exports.Set("processStartTime", Napi::Function::New(env, ProcessStartTime, "processStartTime"));

  exports.Set("injectFault", Napi::Function::New(env, InjectFault, "injectFault"));
  return exports;
}

}  // namespace shmzone

// Node-API modules are context-aware, so worker threads can load it too.
static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return shmzone::Init(env, exports); }
NODE_API_MODULE(shmzone, InitModule)
