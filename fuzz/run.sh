#!/usr/bin/env bash
# Runs every fuzz target for a fixed time, one after another, then prints per
# target the executions, the corpus size and the crashes, timeouts and OOMs
# found (saved in fuzz/artifacts/TARGET/).
#
# Usage: fuzz/run.sh [SECONDS_PER_TARGET [TARGET...]]
#   (default 300 s and every target; needs cargo-fuzz and nightly)
set -euo pipefail
cd "$(dirname "$0")"

seconds=${1:-300}
targets=(decode tracker http capture_file recvlog serve_request)
[ $# -gt 1 ] && targets=("${@:2}")

cargo +nightly fuzz build
mkdir -p logs
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  touch "logs/$t.start"
  dict=()
  case $t in tracker | http | serve_request) dict=(-dict=http.dict) ;; esac
  echo "fuzzing $t for ${seconds}s (log: fuzz/logs/$t.log)"
  # Fork mode keeps fuzzing after a crash, so one run collects every finding.
  cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 "${dict[@]}" \
    -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    >"logs/$t.log" 2>&1 || true
done

printf '\n%-14s %14s %8s %8s\n' target executions corpus crashes
for t in "${targets[@]}"; do
  execs=$(grep -oE '^#[0-9]+' "logs/$t.log" | tail -n 1 | tr -d '#')
  corpus=$(find "corpus/$t" -type f | wc -l)
  crashes=$(find "artifacts/$t" -type f -newer "logs/$t.start" | wc -l)
  printf '%-14s %14s %8s %8s\n' "$t" "${execs:-?}" "$corpus" "$crashes"
done
