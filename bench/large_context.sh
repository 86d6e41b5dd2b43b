#!/usr/bin/env bash
# Large contexts (issue 16): a 300-turn coding-agent conversation re-sending a history that grows to
# 2 MB; prints the trace stage's CPU per turn and the open conversation's heap at turn 10 and 300
# (trace/large_context_bench.cc). Not a test. Usage: bench/large_context.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
source bench/lib/bench.sh
bench_build "$dir" llmtap_large_context_bench
bench_load
exec "$dir/trace/llmtap_large_context_bench"
