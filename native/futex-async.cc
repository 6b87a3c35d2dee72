// futexWaitAsync: the same sleep as futexWait (WaitOnWord in futex.cc), on a libuv pool thread,
// so the JS thread keeps running; the returned Promise settles with the FutexResult.
//
// Each call occupies one pool thread (4 by default, shared with fs and dns) until the word
// changes or the timeout passes: callers keep at most one wait per JS thread and bound the
// timeout (src/dict/flight-wait.ts).
//
// Plain napi_async_work rather than Napi::AsyncWorker: when a worker thread is terminated
// while a wait is pending, the completion runs during its env teardown, where AsyncWorker's
// HandleScope throws a Napi::Error out of a C callback (std::terminate). This completion
// checks every status and never throws (test/dict/95.get-or-set.test.ts, "waiting threads
// terminated mid-wait").
#include <memory>

#include "shmzone.h"

namespace shmzone {

namespace {

struct PendingWait {
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  napi_ref buffer = nullptr;  // keeps the mapping alive while a pool thread sleeps inside it
  uint32_t* word = nullptr;
  uint32_t expected = 0;
  int64_t timeoutNs = 0;
  int result = 0;
};

void ExecuteWait(napi_env, void* data) {
  auto* wait = static_cast<PendingWait*>(data);
  wait->result = WaitOnWord(wait->word, wait->expected, wait->timeoutNs);
}

// Settles the Promise like a Node fs error when the futex call failed: code, errno, syscall.
napi_status Settle(napi_env env, PendingWait* wait) {
  napi_value value;
  napi_status s;
  if (wait->result >= 0) {
    if ((s = napi_create_int32(env, wait->result, &value)) != napi_ok) return s;
    return napi_resolve_deferred(env, wait->deferred, value);
  }
  int err = -wait->result;
  std::string message = std::string(ErrnoName(err)) + ": futex wait failed";
  napi_value code, text, number, syscall;
  if ((s = napi_create_string_utf8(env, ErrnoName(err), NAPI_AUTO_LENGTH, &code)) != napi_ok ||
      (s = napi_create_string_utf8(env, message.c_str(), NAPI_AUTO_LENGTH, &text)) != napi_ok ||
      (s = napi_create_error(env, code, text, &value)) != napi_ok ||
      (s = napi_create_int32(env, err, &number)) != napi_ok ||
      (s = napi_set_named_property(env, value, "errno", number)) != napi_ok ||
      (s = napi_create_string_utf8(env, "futex", NAPI_AUTO_LENGTH, &syscall)) != napi_ok ||
      (s = napi_set_named_property(env, value, "syscall", syscall)) != napi_ok)
    return s;
  return napi_reject_deferred(env, wait->deferred, value);
}

void CompleteWait(napi_env env, napi_status status, void* data) {
  std::unique_ptr<PendingWait> wait(static_cast<PendingWait*>(data));
  napi_handle_scope scope;
  bool scoped = napi_open_handle_scope(env, &scope) == napi_ok;
  // Cancelled or torn down: the thread's env is going away and its Promise with it.
  if (status == napi_ok && scoped) Settle(env, wait.get());
  napi_delete_reference(env, wait->buffer);
  napi_delete_async_work(env, wait->work);
  if (scoped) napi_close_handle_scope(env, scope);
}

void Check(Napi::Env env, napi_status status) {
  if (status != napi_ok) throw Napi::Error::New(env, "futexWaitAsync: Node-API call failed");
}

}  // namespace

Napi::Value FutexWaitAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto wait = std::make_unique<PendingWait>();
  wait->word = static_cast<uint32_t*>(ArgSharedSlot(info, 0, 1, 4, 4));
  wait->expected = static_cast<uint32_t>(ArgInteger(info, 2, "expected", INT32_MIN, UINT32_MAX));
  wait->timeoutNs = TimeoutNs(ArgNumber(info, 3, "timeoutMs"));
  napi_value promise, name;
  Check(env, napi_create_promise(env, &wait->deferred, &promise));
  Check(env, napi_create_reference(env, info[0], 1, &wait->buffer));
  Check(env, napi_create_string_utf8(env, "shmzone.futexWaitAsync", NAPI_AUTO_LENGTH, &name));
  Check(env, napi_create_async_work(env, nullptr, name, ExecuteWait, CompleteWait, wait.get(), &wait->work));
  Check(env, napi_queue_async_work(env, wait->work));
  wait.release();  // CompleteWait owns it now
  return Napi::Value(env, promise);
}

}  // namespace shmzone
