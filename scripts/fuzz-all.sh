#!/usr/bin/env bash
# fuzz-all.sh: run every native Go fuzz target (as scripts/fuzz-targets.sh
# lists them) with the go command's fuzzer, each for one budget given as
# -fuzztime takes it: a duration (30s, 5m) or a count (20000x, as CI uses,
# so that a run's length does not depend on the machine). Patterns narrow
# the packages. It stops at the first target that fails.
#
# Usage: scripts/fuzz-all.sh 30s                 # each target for 30 seconds
#        scripts/fuzz-all.sh 20000x              # each target for 20000 executions
#        scripts/fuzz-all.sh 20000x ./fuzz/...   # only the targets under fuzz/
set -euo pipefail
budget=${1:?usage: $0 BUDGET [PACKAGE_PATTERN...] (e.g. 30s or 20000x)}
shift
cd "$(dirname "$0")/.."
targets=$(scripts/fuzz-targets.sh "$@")
[ -n "$targets" ] || { echo "fuzz-all: no fuzz targets found" >&2; exit 1; }
n=$(wc -l <<<"$targets")
i=0
while read -r dir target; do
  i=$((i + 1))
  echo "--- [$i/$n] $dir $target ($budget)"
  go test -run='^$' -fuzz="^${target}\$" -fuzztime="$budget" "$dir" </dev/null
done <<<"$targets"
