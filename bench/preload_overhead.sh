#!/usr/bin/env bash
# CPU overhead of the LD_PRELOAD shim on a streaming client, measured in one run: the same Python
# client (N streaming chat completions over TLS against a local simulated provider) alternately
# without and with libllmtap_preload.so, R rounds each, client CPU time (user+sys) summed.
# The collector's own CPU time is reported apart (it is another process).
# Usage: bench/preload_overhead.sh [BUILD_DIR] [REQUESTS_PER_ROUND] [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
requests=${2:-100}
rounds=${3:-6}
py=/usr/bin/python3  # Debian's python3, linked to the system OpenSSL
so=$build/cli/libllmtap_preload.so
collector=$build/collector/preload_collector_bench
for f in "$so" "$collector" "$py"; do
  [[ -e $f ]] || { echo "preload_overhead: missing $f (build targets llmtap_preload, preload_collector_bench)" >&2; exit 1; }
done

work=$(mktemp -d)
provider_pid=""; collector_pid=""
cleanup() {
  [[ -n $provider_pid ]] && kill "$provider_pid" 2>/dev/null || true
  [[ -n $collector_pid ]] && kill "$collector_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

bash "$root/examples/sim-provider/make_test_ca.sh" "$work/ca"
mkfifo "$work/provider.out" "$work/collector.out"
"$py" "$root/tests/preload/tls_provider.py" --cert "$work/ca/server.pem" --key "$work/ca/server.key" \
  >"$work/provider.out" &
provider_pid=$!
exec 3<"$work/provider.out"
read -r line <&3
port=${line##*:}
"$collector" --socket "$work/collector.sock" >"$work/collector.out" &
collector_pid=$!
exec 4<"$work/collector.out"
read -r _ready <&4

base="https://localhost:$port"
# Client CPU seconds (user+sys of the child) for one round; extra env vars as arguments.
measure() {
  env SSL_CERT_FILE="$work/ca/ca.pem" "$@" "$py" -c '
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.6f" % (r.ru_utime + r.ru_stime))' "$py" "$root/tests/preload/clients.py" bench "$base" "$requests"
}
# The wrapper itself must not be preloaded: LD_PRELOAD is handed to the client only.
measure_with_shim() {
  env SSL_CERT_FILE="$work/ca/ca.pem" "$py" -c '
import os, resource, subprocess, sys
env = dict(os.environ, LD_PRELOAD=sys.argv[1], LLMTAP_COLLECTOR_SOCKET=sys.argv[2], LLMTAP_HOSTS="localhost")
subprocess.run(sys.argv[3:], check=True, stdout=subprocess.DEVNULL, env=env)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.6f" % (r.ru_utime + r.ru_stime))' "$so" "$work/collector.sock" "$py" "$root/tests/preload/clients.py" bench "$base" "$requests"
}

measure >/dev/null  # warm-up (page cache, provider threads)
without=0; with=0
for ((i = 1; i <= rounds; i++)); do
  # Alternate which mode goes first, so warm-up and drift do not favour one side.
  if ((i % 2)); then a=$(measure); b=$(measure_with_shim); else b=$(measure_with_shim); a=$(measure); fi
  echo "round $i: without ${a}s  with ${b}s"
  without=$("$py" -c "print($without + $a)"); with=$("$py" -c "print($with + $b)")
done

collector_cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$collector_pid/stat")
kill -TERM "$collector_pid"
read -r summary <&4 || true
wait "$collector_pid" 2>/dev/null || true
collector_pid=""

"$py" - "$without" "$with" "$requests" "$rounds" "$summary" "$collector_cpu" <<'PY'
import sys
without, with_, n, rounds, summary, ccpu = (float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]),
                                            int(sys.argv[4]), sys.argv[5], sys.argv[6])
total = n * rounds
print("preload_overhead: %d streaming requests per mode (%d rounds x %d)" % (total, rounds, n))
print("  client CPU without shim: %.3f s (%.2f ms/request)" % (without, 1000 * without / total))
print("  client CPU with shim:    %.3f s (%.2f ms/request)" % (with_, 1000 * with_ / total))
print("  overhead: %+.1f%% (%+.3f ms/request)" % (100 * (with_ - without) / without, 1000 * (with_ - without) / total))
print("  collector (separate process): CPU %s s; %s" % (ccpu, summary))
PY
