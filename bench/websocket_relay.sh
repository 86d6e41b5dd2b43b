#!/usr/bin/env bash
# WebSocket relay benchmark: echo round-trip delay and throughput, direct versus through llmtap
# (gateway route and intercepted CONNECT), with the `ws` package (tests/node/node_modules) on both
# ends over loopback. Printed, not a test.
# Usage: bench/websocket_relay.sh [BUILD_DIR] [--rounds R] [--n N] [--bytes B] [--mib M] [--raw]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
if [[ $# -gt 0 && "$1" != --* ]]; then dir=$1; shift; fi
source bench/lib/bench.sh
bench_build "$dir" llmtap
exec node bench/websocket_relay.mjs --llmtap "$dir/cli/llmtap" "$@"
