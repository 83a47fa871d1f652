#!/usr/bin/env bash
# Time a fresh clone's `make run` until the dashboard answers (README: "Install").
# Usage: benchmarks/fresh_run.sh [REV] [PORT]   (REV default HEAD; the clone is removed afterwards)
set -euo pipefail
rev="${1:-HEAD}"
port="${2:-8599}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="$(mktemp -d)"
trap 'kill -- -$pid 2>/dev/null || true; sleep 1; rm -rf "$dir"' EXIT
git clone --quiet "$repo" "$dir/scorecard"
git -C "$dir/scorecard" checkout --quiet "$rev"
cd "$dir/scorecard"
start=$(date +%s.%N)
set -m
make run PORT="$port" >"$dir/run.log" 2>&1 &
pid=$!
set +m
until curl -fs "http://127.0.0.1:$port/_stcore/health" >/dev/null 2>&1; do
  kill -0 $pid 2>/dev/null || { echo "make run ended early:"; tail -20 "$dir/run.log"; exit 1; }
  sleep 0.5
done
end=$(date +%s.%N)
printf 'make run on a fresh clone of %s: dashboard answering after %.1f s\n' "$rev" "$(echo "$end - $start" | bc)"
