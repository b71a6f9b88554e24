#!/usr/bin/env bash
# libfuzzer-build.sh: build every native Go fuzz target (scripts/fuzz-targets.sh)
# as a libFuzzer binary, the way ClusterFuzzLite/OSS-Fuzz builds them with
# compile_native_go_fuzzer: go-118-fuzz-build turns `func FuzzX(f *testing.F)`
# into an LLVMFuzzerTestOneInput in a c-archive (its testing shim replaces
# *testing.F and *testing.T), and clang links the archive with -fsanitize=fuzzer.
# A binary is named after its package directory and target, with "/" as "_":
# fuzz/http1 FuzzRequestParser -> fuzz_http1_FuzzRequestParser.
#
# go-118-fuzz-build only sees a package's non-test files (go-118-fuzz-build
# issue 2), so each package's in-package _test.go files become ordinary files
# (external _test packages are dropped: nothing in the package can use them),
# and go.mod must require the shim. All of that happens in a copy of the tree,
# so the work tree and its go.mod stay as they are; with --in-place (as in
# .clusterfuzzlite/build.sh, whose container is thrown away) the tree itself
# is changed.
#
# Every target is tried; a summary names each one that failed and why, and
# the exit status is 1 if any did, except for the targets that
# scripts/libfuzzer-known.txt lists with the reason they cannot be built yet.
#
# Usage: scripts/libfuzzer-build.sh [-o OUTDIR] [--in-place] [PACKAGE_PATTERN...]
#   -o OUTDIR   where the binaries go (default: $OUT, else /tmp/protospec-libfuzzer/out)
#   --in-place  change this tree instead of a copy (throwaway containers only)
# Environment: CXX (default clang++), CXXFLAGS (default: OSS-Fuzz's address
# sanitizer flags), LIB_FUZZING_ENGINE (default -fsanitize=fuzzer),
# GO118FUZZBUILD (the pinned go-118-fuzz-build version). Inside OSS-Fuzz's
# base-builder these come from the image, and so the build is the one CI
# proves. Only a coverage build (SANITIZER=coverage, which ClusterFuzzLite
# makes for its coverage reports) is left to compile_native_go_fuzzer, which
# builds such a binary with go test -c instead. compile_native_go_fuzzer is
# not used for fuzzing builds: it finds the harness with
# `grep -rl FuzzX PACKAGE_DIR` and gives up (no binary, exit 0) or fails when
# another file mentions the name (a doc.go) or one target's name is the
# prefix of another's (FuzzUpper, FuzzUppercaseTCPServer).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

GO118FUZZBUILD=${GO118FUZZBUILD:-v0.0.0-20250520111509-a70c2aa677fa}
shim=github.com/AdamKorcz/go-118-fuzz-build
work=${TMPDIR:-/tmp}/protospec-libfuzzer
out=${OUT:-$work/out}
inplace=
patterns=()
while [ $# -gt 0 ]; do
  case $1 in
    -o) out=${2:?-o needs a directory}; shift 2 ;;
    --in-place) inplace=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) patterns+=("$1"); shift ;;
  esac
done
# The default output directory is this script's own: clear it, so that no
# binary of a target that has moved or gone is left to run.
[ "$out" != "$work/out" ] || rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)

known=$root/scripts/libfuzzer-known.txt
targets=$(scripts/fuzz-targets.sh "${patterns[@]}")
[ -n "$targets" ] || { echo "libfuzzer-build: no fuzz targets found" >&2; exit 1; }

# OSS-Fuzz's base-builder provides $CXX, $CXXFLAGS and $LIB_FUZZING_ENGINE
# for its sanitizer, and compile_native_go_fuzzer for coverage builds.
coverage=
if [[ ${SANITIZER:-} == *coverage* ]]; then
  command -v compile_native_go_fuzzer >/dev/null && [ -n "${OUT:-}" ] ||
    { echo "libfuzzer-build: a coverage build needs OSS-Fuzz's compile_native_go_fuzzer and \$OUT" >&2; exit 1; }
  [ "$out" = "$(cd "$OUT" && pwd)" ] || { echo "libfuzzer-build: compile_native_go_fuzzer writes to \$OUT; -o must not differ" >&2; exit 1; }
  coverage=1
fi
CXX=${CXX:-clang++}
CXXFLAGS=${CXXFLAGS:--O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link}
LIB_FUZZING_ENGINE=${LIB_FUZZING_ENGINE:--fsanitize=fuzzer}
command -v "$CXX" >/dev/null || { echo "libfuzzer-build: $CXX not found (Debian: apt-get install clang libclang-rt-dev)" >&2; exit 1; }

# The pinned go-118-fuzz-build, from the module proxy into a tool directory
# ahead of any other on PATH (the base-builder image has one of its own).
bin=$work/bin
mkdir -p "$bin" "$work/logs"
GOBIN=$bin GOFLAGS= go install "$shim@$GO118FUZZBUILD"
export PATH="$bin:$PATH"

# The tree to build in, and where prepare takes a package's pristine files.
dirs=$(cut -d' ' -f1 <<<"$targets" | sort -u)
if [ -n "$inplace" ]; then
  src=$root
  pristine=$work/pristine
  rm -rf "$pristine"
  for dir in $dirs; do mkdir -p "$pristine/$dir" && cp "$dir"/*.go "$pristine/$dir"/; done
else
  src=$work/src
  pristine=$root
  rm -rf "$src"
  mkdir -p "$src"
  tar --exclude=./.git -cf - . | tar -C "$src" -xf -
fi
cd "$src"
# The shim must be a requirement of the module being built.
if ! go get "$shim/testing@$GO118FUZZBUILD" >"$work/logs/go-get.log" 2>&1; then
  cat "$work/logs/go-get.log" >&2
  exit 1
fi

# prepare DIR: DIR's Go files as the repository has them, with the
# in-package test files made ordinary files and the external ones left out.
prepare() {
  local dir=$1 f
  rm -f "$src/$dir"/*.go
  cp "$pristine/$dir"/*.go "$src/$dir"/
  for f in "$src/$dir"/*_test.go; do
    [ -e "$f" ] || continue
    if grep -q '^package [A-Za-z0-9_]*_test\b' "$f"; then
      rm "$f"
    else
      mv "$f" "${f%_test.go}_test_fuzz.go"
    fi
  done
}

# build DIR TARGET NAME LOG: one libFuzzer binary, $out/NAME.
build() {
  local dir=$1 target=$2 name=$3 log=$4
  if [ -n "$coverage" ]; then
    compile_native_go_fuzzer "github.com/protospec/protospec/${dir#./}" "$target" "$name" >"$log" 2>&1
    return
  fi
  local abs
  abs=$(go list -tags gofuzz -f '{{.Dir}}' "$dir")
  # The two commands of compile_native_go_fuzzer's fuzzing builds.
  go-118-fuzz-build -tags gofuzz -o "$work/$name.a" -func "$target" "$abs" >"$log" 2>&1 &&
    $CXX $CXXFLAGS $LIB_FUZZING_ENGINE "$work/$name.a" -o "$out/$name" >>"$log" 2>&1 &&
    rm -f "$work/$name.a"
}

for dir in $dirs; do prepare "$dir"; done
n=$(wc -l <<<"$targets")
i=0
built=()
failed=()
knownfail=()
start=$SECONDS
while read -r dir target; do
  i=$((i + 1))
  name=$(sed -e 's#^\./##' -e 's#/#_#g' <<<"$dir")_$target
  log=$work/logs/$name.log
  reason=$(awk -v t="$target" '$1 == t && $2 == "build" { $1 = $2 = ""; sub(/^ +/, ""); print }' "$known")
  t0=$SECONDS
  rm -f "$out/$name"
  if build "$dir" "$target" "$name" "$log" </dev/null && [ -x "$out/$name" ]; then
    built+=("$name")
    echo "--- [$i/$n] $dir $target -> $out/$name ($((SECONDS - t0))s)"
    [ -z "$reason" ] || echo "    NOTE: builds now; remove its build line from scripts/libfuzzer-known.txt"
  else
    if [ -n "$reason" ]; then
      knownfail+=("$name")
      echo "--- [$i/$n] $dir $target: KNOWN, not built ($reason); $log"
    else
      failed+=("$name")
      echo "--- [$i/$n] $dir $target: BUILD FAILED ($((SECONDS - t0))s); $log says:"
      if grep -ls "^func $target(" "$pristine/$dir"/*_test.go | xargs -r grep -l '^package [A-Za-z0-9_]*_test\b' | grep -q .; then
        echo "    $target is declared in an external test package (package ..._test), which go-118-fuzz-build cannot build: move it into the package's own test files"
      fi
      grep -v '^#\|^go: ' "$log" | tail -n 15 | sed 's/^/    /'
    fi
    # A failed go-118-fuzz-build leaves the package rewritten: start it again.
    prepare "$dir"
  fi
done <<<"$targets"

echo "libfuzzer-build: ${#built[@]} of $n targets built in $((SECONDS - start))s into $out"
[ ${#knownfail[@]} -eq 0 ] || echo "libfuzzer-build: ${#knownfail[@]} known not to build (scripts/libfuzzer-known.txt): ${knownfail[*]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "libfuzzer-build: ${#failed[@]} targets could not be built: ${failed[*]} (logs in $work/logs)" >&2
  exit 1
fi
