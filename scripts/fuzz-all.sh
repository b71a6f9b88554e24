#!/usr/bin/env bash
# fuzz-all.sh: run every native Go fuzz target under fuzz/ for one budget,
# given as -fuzztime takes it: a duration (30s, 5m) or a count (20000x, as
# CI uses, so that a run's length does not depend on the machine).
#
# Usage: scripts/fuzz-all.sh 30s        # each target for 30 seconds
#        scripts/fuzz-all.sh 20000x     # each target for 20000 executions
set -euo pipefail
budget=${1:?usage: $0 BUDGET (e.g. 30s or 20000x)}
cd "$(dirname "$0")/.."
for pkg in $(go list ./fuzz/...); do
  for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    echo "--- $pkg $target ($budget)"
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$budget" "$pkg"
  done
done
