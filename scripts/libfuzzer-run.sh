#!/usr/bin/env bash
# libfuzzer-run.sh: run every libFuzzer binary that scripts/libfuzzer-build.sh
# made for a number of executions (default 3000), each from an empty corpus
# (the go-118-fuzz-build shim ignores f.Add, and its input encoding is not the
# go command's testdata/fuzz format). A crash, timeout or out-of-memory input
# is saved under ARTIFACTS with the command that replays it. The exit status
# is 1 if any binary failed, except for the targets that
# scripts/libfuzzer-known.txt lists as unable to run yet.
#
# Usage: scripts/libfuzzer-run.sh [-runs N] [-artifacts DIR] [OUTDIR]
#   OUTDIR defaults to $OUT, else /tmp/protospec-libfuzzer/out.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
known=$root/scripts/libfuzzer-known.txt
work=${TMPDIR:-/tmp}/protospec-libfuzzer
runs=3000
artifacts=$work/artifacts
out=${OUT:-$work/out}
while [ $# -gt 0 ]; do
  case $1 in
    -runs) runs=${2:?-runs needs a count}; shift 2 ;;
    -artifacts) artifacts=${2:?-artifacts needs a directory}; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) out=$1; shift ;;
  esac
done
mkdir -p "$artifacts" "$work/logs"

mapfile -t bins < <(find "$out" -maxdepth 1 -type f -perm -u+x -name '*_Fuzz*' | sort)
[ ${#bins[@]} -gt 0 ] || { echo "libfuzzer-run: no fuzz binaries in $out (run scripts/libfuzzer-build.sh)" >&2; exit 1; }
n=${#bins[@]}
i=0
passed=()
failed=()
knownfail=()
start=$SECONDS
for bin in "${bins[@]}"; do
  i=$((i + 1))
  name=$(basename "$bin")
  target=Fuzz${name##*_Fuzz}
  reason=$(awk -v t="$target" '$1 == t && $2 == "run" { $1 = $2 = ""; sub(/^ +/, ""); print }' "$known")
  log=$work/logs/$name.run.log
  corpus=$(mktemp -d)
  t0=$SECONDS
  # -timeout: one input running longer is a hang; the outer timeout stops a
  # binary that hangs outside an input.
  if (cd "$work" && timeout 600 "$bin" -runs="$runs" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$artifacts/$name-" "$corpus") >"$log" 2>&1 </dev/null; then
    passed+=("$name")
    echo "--- [$i/$n] $name: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$log" || echo done) ($((SECONDS - t0))s)"
    [ -z "$reason" ] || echo "    NOTE: runs now; remove its run line from scripts/libfuzzer-known.txt"
  else
    rc=$?
    crash=$(grep -o "Test unit written to .*" "$log" | sed 's/^Test unit written to //' | tail -n 1 || true)
    if [ -n "$reason" ]; then
      knownfail+=("$name")
      echo "--- [$i/$n] $name: KNOWN, fails (exit $rc) ($reason); $log"
    else
      failed+=("$name")
      echo "--- [$i/$n] $name: FAILED (exit $rc, $((SECONDS - t0))s); $log says:"
      grep -v '^#[0-9]\|^INFO:' "$log" | head -n 25 | sed 's/^/    /'
      [ -z "$crash" ] || echo "    replay: $bin $crash"
    fi
  fi
  rm -rf "$corpus"
done
echo "libfuzzer-run: ${#passed[@]} of $n binaries ran $runs executions cleanly in $((SECONDS - start))s"
[ ${#knownfail[@]} -eq 0 ] || echo "libfuzzer-run: ${#knownfail[@]} known to fail (scripts/libfuzzer-known.txt): ${knownfail[*]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "libfuzzer-run: ${#failed[@]} failed: ${failed[*]} (logs in $work/logs, inputs in $artifacts)" >&2
  exit 1
fi
