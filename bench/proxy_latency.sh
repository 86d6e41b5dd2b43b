#!/usr/bin/env bash
# Added latency of the llmtap proxy: keep-alive requests to a local upstream, direct versus through the
# gateway route, in one run (alternating rounds), printed side by side as p50/p99. Not a test.
# Usage: bench/proxy_latency.sh [BUILD_DIR] [--requests N] [--rounds R] [--body-bytes B] [--threads T]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
if [[ $# -gt 0 && "$1" != --* ]]; then dir=$1; shift; fi
if [[ ! -f "$dir/build.ninja" ]]; then
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$dir" --target llmtap_proxy_latency_bench >/dev/null
exec "$dir/proxy/llmtap_proxy_latency_bench" "$@"
