#!/bin/bash -eu
# Builds every native Go fuzz target (func FuzzXxx(f *testing.F)) of
# protospec as a libFuzzer binary named <package>_<FuzzXxx>, e.g.
# http1_FuzzRequestParser. Run by ClusterFuzzLite/OSS-Fuzz inside the image
# of .clusterfuzzlite/Dockerfile, which may change the source tree freely.
cd "$SRC/protospec"

# compile_native_go_fuzzer needs the libFuzzer shim of go-118-fuzz-build.
go install github.com/AdamKorcz/go-118-fuzz-build@latest
go get github.com/AdamKorcz/go-118-fuzz-build/testing@latest

for dir in fuzz/echo fuzz/http1 fuzz/dns fuzz/engine; do
  [ -d "$dir" ] || continue
  targets=$(grep -ho '^func Fuzz[A-Za-z0-9_]*(f \*testing\.F)' "$dir"/*_test.go | sed -e 's/^func //' -e 's/(.*//' || true)
  [ -n "$targets" ] || continue
  # The harnesses and their helpers live in _test.go files, which a
  # normal build leaves out: make them ordinary files of the package
  # (go-118-fuzz-build issue 2).
  for f in "$dir"/*_test.go; do
    mv "$f" "${f%_test.go}_test_fuzz.go"
  done
  for t in $targets; do
    compile_native_go_fuzzer "github.com/protospec/protospec/$dir" "$t" "$(basename "$dir")_$t"
  done
done
