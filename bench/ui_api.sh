#!/usr/bin/env bash
# Prints the viewer's API latency over a synthetic store (default 1,000,000 spans: 100,000 traces
# of ten spans): each /api/ endpoint called over loopback HTTP. Not a test; numbers are printed,
# never asserted. Usage: bench/ui_api.sh [BUILD_DIR] [SPANS] [--keep DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
bin=$build/ui/llmtap_ui_bench
source "$root/bench/lib/bench.sh"
bench_require ui_api.sh "$bin"
exec nice "$bin" "${2:-1000000}" "${@:3}"
