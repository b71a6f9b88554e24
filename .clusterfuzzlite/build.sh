#!/bin/bash -eu
# Builds every native Go fuzz target (func FuzzXxx(f *testing.F)) that
# scripts/fuzz-targets.sh lists as a libFuzzer binary in $OUT, each with
# compile_native_go_fuzzer, through scripts/libfuzzer-build.sh: the same
# enumeration, test-file preparation and pinned go-118-fuzz-build that CI
# builds and runs with the same script outside this image. A binary is named
# after its package directory and target: fuzz_http1_FuzzRequestParser.
# Run by ClusterFuzzLite/OSS-Fuzz inside the image of .clusterfuzzlite/Dockerfile,
# whose source tree is thrown away afterwards (hence --in-place).
cd "$SRC/protospec"
scripts/libfuzzer-build.sh --in-place
