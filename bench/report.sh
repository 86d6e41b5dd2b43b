#!/usr/bin/env bash
# Prints how long `llmtap report` takes over a synthetic store (default 1,000,000 spans: 100,000
# traces of ten spans), and the store's write rate while it is generated. Not a test; numbers are
# printed, never asserted. Usage: bench/report.sh [BUILD_DIR] [SPANS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
bin=$build/report/llmtap_report_bench
source "$root/bench/lib/bench.sh"
bench_require report.sh "$bin"
exec nice "$bin" "${2:-1000000}"
