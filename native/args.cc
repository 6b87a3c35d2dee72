// Argument checks. The TypeScript layer validates first; these make sure that a bad call that
// slips through throws TypeError/RangeError instead of crashing the process.
#include <cmath>

#include "shmzone.h"
#include "v8_bridge.h"

namespace shmzone {

std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i >= info.Length() || !info[i].IsString())
    throw Napi::TypeError::New(info.Env(), std::string("The \"") + what + "\" argument must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

double ArgNumber(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i >= info.Length() || !info[i].IsNumber())
    throw Napi::TypeError::New(info.Env(), std::string("The \"") + what + "\" argument must be a number");
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (std::isnan(v)) throw Napi::RangeError::New(info.Env(), std::string("The \"") + what + "\" argument is NaN");
  return v;
}

int64_t ArgInteger(const Napi::CallbackInfo& info, size_t i, const char* what, int64_t min, int64_t max) {
  double v = ArgNumber(info, i, what);
  if (!std::isfinite(v) || std::trunc(v) != v || v < static_cast<double>(min) || v > static_cast<double>(max))
    throw Napi::RangeError::New(info.Env(), std::string("The \"") + what + "\" argument must be an integer in [" +
                                                std::to_string(min) + ", " + std::to_string(max) + "]");
  return static_cast<int64_t>(v);
}

SharedBytes ArgSharedBuffer(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i >= info.Length())
    throw Napi::TypeError::New(info.Env(), std::string("The \"") + what + "\" argument must be a SharedArrayBuffer");
  v8::Local<v8::Value> value = ToV8(info[i]);
  if (!value->IsSharedArrayBuffer())
    throw Napi::TypeError::New(info.Env(), std::string("The \"") + what + "\" argument must be a SharedArrayBuffer");
  v8::Local<v8::SharedArrayBuffer> sab = value.As<v8::SharedArrayBuffer>();
  return SharedBytes{static_cast<uint8_t*>(sab->Data()), sab->ByteLength()};
}

void* ArgSharedSlot(const Napi::CallbackInfo& info, size_t bufferArg, size_t offsetArg, size_t size,
                    size_t align) {
  SharedBytes bytes = ArgSharedBuffer(info, bufferArg, "buffer");
  int64_t offset = ArgInteger(info, offsetArg, "byteOffset", 0, INT64_C(1) << 52);
  if (static_cast<uint64_t>(offset) % align != 0)
    throw Napi::RangeError::New(info.Env(), "The \"byteOffset\" argument must be a multiple of " + std::to_string(align));
  if (bytes.data == nullptr || bytes.length < size || static_cast<uint64_t>(offset) > bytes.length - size)
    throw Napi::RangeError::New(info.Env(), "The \"byteOffset\" argument is outside the buffer (" +
                                                std::to_string(offset) + " + " + std::to_string(size) + " > " +
                                                std::to_string(bytes.length) + ")");
  uint8_t* p = bytes.data + offset;
  // The buffer's start may itself be unaligned (a JS-allocated SAB is, in practice, not).
  if (reinterpret_cast<uintptr_t>(p) % align != 0)
    throw Napi::RangeError::New(info.Env(), "The buffer's memory is not aligned for this operation");
  return p;
}

}  // namespace shmzone
