{
  "variables": {
    # 1 when the headers offer node_api_create_external_sharedarraybuffer (see native/mapping.cc).
    "shmzone_external_sab%": "<!(node \"<(module_root_dir)/native/detect-napi.mjs\" \"<(node_root_dir)\")"
  },
  "targets": [
    {
      "target_name": "shmzone",
      "sources": [
        "native/addon.cc",
        "native/args.cc",
        "native/barrier.cc",
        "native/descriptor.cc",
        "native/errors.cc",
        "native/faults.cc",
        "native/file.cc",
        "native/futex.cc",
        "native/futex-async.cc",
        "native/liveness.cc",
        "native/lockfile.cc",
        "native/mapping.cc",
        "native/memfd.cc",
        "native/segment.cc",
        "native/sysv.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      # No -std here: Node's common.gypi picks the standard its own V8 headers need (gnu++17
      # up to Node 22, gnu++20 from Node 24, whose v8config.h refuses anything older).
      "cflags_cc": ["-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        # node_api_create_external_sharedarraybuffer is still behind NAPI_EXPERIMENTAL in every
        # released Node (26 included: no numbered Node-API version has it), which also picks the
        # experimental Node-API version. NODE_API_EXPERIMENTAL_NO_WARNING is the headers' own
        # switch for the "NAPI_EXPERIMENTAL is enabled" #warning each source file would print.
        ["shmzone_external_sab==1", {
          "defines": ["NAPI_EXPERIMENTAL", "NODE_API_EXPERIMENTAL_NO_WARNING", "SHMZONE_HAVE_NAPI_EXTERNAL_SAB"]
        }, {
          "defines": ["NAPI_VERSION=8"]
        }],
        ["OS=='linux'", {
          "libraries": ["-lpthread", "-lrt"]
        }],
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "MACOSX_DEPLOYMENT_TARGET": "11.0"
          }
        }]
      ]
    }
  ]
}
