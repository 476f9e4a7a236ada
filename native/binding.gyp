{
  "targets": [
    {
      "target_name": "berth_native",
      "sources": ["berth-native.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter"]
    }
  ]
}
