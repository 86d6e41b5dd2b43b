#!/usr/bin/env bash
# Prints what alert evaluation costs per closed trace and per arriving call (every rule kind at
# once). Not a test; numbers are printed, never asserted. Usage: bench/alerts.sh [BUILD_DIR] [TRACES]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
bin=$build/alerts/llmtap_alerts_bench
source "$root/bench/lib/bench.sh"
bench_require alerts.sh "$bin"
exec nice "$bin" "${2:-200000}"
