// futexWaitAsync: the same sleep as futexWait (WaitOnWord in futex.cc), on a libuv pool thread,
// so the JS thread keeps running; the returned Promise settles with the FutexResult.
//
// Each call occupies one pool thread (4 by default, shared with fs and dns) until the word
// changes or the timeout passes: callers keep at most one wait per JS thread and bound the
// timeout (src/dict/flight-wait.ts).
#include "shmzone.h"

namespace shmzone {

namespace {

class FutexWaitWorker : public Napi::AsyncWorker {
 public:
  FutexWaitWorker(Napi::Env env, Napi::Object buffer, uint32_t* word, uint32_t expected, int64_t timeoutNs)
      : Napi::AsyncWorker(env, "shmzone.futexWaitAsync"),
        deferred_(Napi::Promise::Deferred::New(env)),
        // Keeps the mapping alive while a pool thread sleeps on an address inside it.
        buffer_(Napi::Persistent(buffer)),
        word_(word),
        expected_(expected),
        timeoutNs_(timeoutNs) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override { result_ = WaitOnWord(word_, expected_, timeoutNs_); }

  void OnOK() override {
    Napi::Env env = Env();
    if (result_ >= 0) {
      deferred_.Resolve(Napi::Number::New(env, result_));
      return;
    }
    Napi::Error error = Napi::Error::New(env, std::string(ErrnoName(-result_)) + ": futex wait failed");
    error.Set("code", Napi::String::New(env, ErrnoName(-result_)));
    error.Set("errno", Napi::Number::New(env, -result_));
    error.Set("syscall", Napi::String::New(env, "futex"));
    deferred_.Reject(error.Value());
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference buffer_;
  uint32_t* word_;
  uint32_t expected_;
  int64_t timeoutNs_;
  int result_ = 0;
};

}  // namespace

Napi::Value FutexWaitAsync(const Napi::CallbackInfo& info) {
  auto* word = static_cast<uint32_t*>(ArgSharedSlot(info, 0, 1, 4, 4));
  int64_t expected = ArgInteger(info, 2, "expected", INT32_MIN, UINT32_MAX);
  int64_t timeoutNs = TimeoutNs(ArgNumber(info, 3, "timeoutMs"));
  auto* worker = new FutexWaitWorker(info.Env(), info[0].As<Napi::Object>(), word,
                                     static_cast<uint32_t>(expected), timeoutNs);
  Napi::Promise promise = worker->Promise();
  worker->Queue();  // the worker deletes itself after OnOK/OnError
  return promise;
}

}  // namespace shmzone
