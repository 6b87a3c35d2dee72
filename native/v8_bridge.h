// The one place that crosses between Node-API handles and V8 handles.
//
// Why: Node 20's Node-API can neither create a SharedArrayBuffer over foreign memory nor read
// the data pointer of a SharedArrayBuffer (napi_get_arraybuffer_info rejects it). V8 can.
//
// The trick: inside Node, a napi_value IS a v8::Local<v8::Value> reinterpreted (both are one
// pointer to a handle slot; node's js_native_api_v8.h converts them the same way, with
// reinterpret_cast / memcpy). It is only valid for a napi_value obtained in the current
// callback's handle scope, which is how every call here uses it. This is Node-specific by
// design: the addon is not meant to load in other Node-API runtimes.
#pragma once

#include <napi.h>
#include <v8.h>

#include <cstring>

namespace shmzone {

inline v8::Local<v8::Value> ToV8(napi_value value) {
  v8::Local<v8::Value> local;
  static_assert(sizeof(local) == sizeof(value), "napi_value and v8::Local differ in size");
  std::memcpy(static_cast<void*>(&local), &value, sizeof(value));
  return local;
}

inline napi_value FromV8(v8::Local<v8::Value> local) {
  return reinterpret_cast<napi_value>(*local);
}

}  // namespace shmzone
