#!/usr/bin/env bash
# Large contexts end to end (issue 16): a 300-turn coding-agent conversation whose request grows to
# ~2 MB, through the parsers and the trace stage; prints CPU per turn (both parse paths) and the
# open conversation's heap every 25 turns (bench/conversation_turns_bench.cc). Not a test.
# Usage: bench/conversation_turns.sh [BUILD_DIR] [TURNS] [RESULT_BYTES]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
source bench/lib/bench.sh
bench_build "$dir" llmtap_conversation_turns_bench
bench_load
exec "$dir/bench/llmtap_conversation_turns_bench" "${@:2}"
