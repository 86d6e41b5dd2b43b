#!/usr/bin/env bash
# Added latency of the llmtap proxy: keep-alive requests to a local upstream, direct versus through the
# gateway route, in one run (alternating rounds), printed side by side as p50/p99. Not a test.
# Usage: bench/proxy_latency.sh [BUILD_DIR] [--requests N] [--rounds R] [--body-bytes B] [--threads T]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
if [[ $# -gt 0 && "$1" != --* ]]; then dir=$1; shift; fi
source bench/lib/bench.sh
bench_build "$dir" llmtap_proxy_latency_bench
exec "$dir/proxy/llmtap_proxy_latency_bench" "$@"
