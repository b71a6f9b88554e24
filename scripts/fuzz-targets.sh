#!/usr/bin/env bash
# fuzz-targets.sh: print every native Go fuzz target of the module, one
# "PACKAGE_DIR TARGET" line each (e.g. "./fuzz/http1 FuzzRequestParser"),
# sorted. It is the one enumeration that .ci/run, scripts/fuzz-all.sh,
# scripts/libfuzzer-build.sh and .clusterfuzzlite/build.sh share: targets
# are found where they are today (a package whose _test.go files declare a
# func Fuzz...) and named by `go test -list`, so moving a target between
# packages needs no list kept by hand.
#
# Usage: scripts/fuzz-targets.sh            # all packages
#        scripts/fuzz-targets.sh ./fuzz/...  # only under these patterns
set -euo pipefail
cd "$(dirname "$0")/.."
patterns=("$@")
[ ${#patterns[@]} -gt 0 ] || patterns=(./...)

# Packages whose test files declare a fuzz target, as ./relative/dir.
root=$(pwd)
mapfile -t dirs < <(go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.Dir}}{{end}}' "${patterns[@]}" | sed -n "s#^$root#.#p")
for dir in "${dirs[@]}"; do
  grep -qs '^func Fuzz' "$dir"/*_test.go || continue
  # go test -list compiles the test binary: a package that does not build
  # must fail here, not silently drop its targets.
  list=$(go test -list '^Fuzz' "$dir") || { echo "fuzz-targets: go test -list failed in $dir" >&2; exit 1; }
  for target in $(grep '^Fuzz' <<<"$list" || true); do
    echo "$dir $target"
  done
done | sort
