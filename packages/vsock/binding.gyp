{
  "targets": [
    {
      "target_name": "vsock",
      "sources": ["native/vsock.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"],
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS"]
    }
  ]
}
