#!/usr/bin/env bash
# Large contexts (issue 16): a 300-turn coding-agent conversation re-sending a history that grows to
# 2 MB; prints the trace stage's CPU per turn and the open conversation's heap at turn 10 and 300
# (trace/large_context_bench.cc). Not a test. Usage: bench/large_context.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
if [[ ! -f "$dir/build.ninja" ]]; then
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$dir" --target llmtap_large_context_bench >/dev/null
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
exec "$dir/trace/llmtap_large_context_bench"
