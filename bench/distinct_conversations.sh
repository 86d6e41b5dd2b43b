#!/usr/bin/env bash
# Distinct conversations at full speed (issue 16): every request a new ~1 KB chat-completions call
# (a new conversation, so a new trace), HTTP in and TLS up to a local nginx answering JSON, through
#   nginx (reverse proxy), llmtap (gateway route, default store, full parsing) and mitmdump (reverse),
# side by side in one run with wrk at 1 and 50 connections. Prints req/s, p50/p99, ratios to nginx,
# llmtap's CPU per request, RSS and how many traces its store holds for the requests it answered.
# After each llmtap run it waits until llmtap's capture backlog is decoded (its background threads
# yield to forwarding, --background-nice) and prints that time and the CPU per request including it.
# `--memory SECS` instead runs only llmtap for SECS seconds at 50 connections, printing its RSS every
# 5 s, then stops it (SIGTERM) and counts the stored traces: the bounded-memory run. With --drain it
# first waits (up to 15 min) until the capture backlog (memory queue and capture spool) is decoded,
# printing how long that took; with --replay it starts llmtap again on the same data directory
# after the stop, waits until the capture spool the stop left is replayed, stops it and counts the
# traces again (SIGTERM, then restart: "loses no trace"). With --replay-stop SECS the restart gets
# its SIGTERM SECS seconds into the replay instead (the stop of a replaying start), and a third start
# replays the rest and counts again. Each stop prints its phases (the "stopping:" line, at info).
# Loopback only; every step bounded in time; all processes stopped at exit. Not a test.
# Needs nginx, wrk (mitmdump optional): scripts/setup --with-bench.
# Usage: bench/distinct_conversations.sh [BUILD_DIR] [--secs N] [--memory SECS [--drain] [--replay]
#        [--replay-stop SECS]] [-- EXTRA LLMTAP OPTIONS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
if [[ $# -gt 0 && $1 != --* ]]; then build=$(cd "$1" && pwd); shift; fi
secs=8
memory=0
drain=0
replay=0
replay_stop=0
extra=()
while (($#)); do
  case $1 in
    --secs) secs=$2; shift 2 ;;
    --memory) memory=$2; shift 2 ;;
    --drain) drain=1; shift ;;
    --replay) replay=1; shift ;;
    --replay-stop) replay=1; replay_stop=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
llmtap=$build/cli/llmtap
py=/usr/bin/python3
for t in nginx wrk; do command -v "$t" >/dev/null || { echo "$t missing (scripts/setup --with-bench)" >&2; exit 1; }; done
[[ -x $llmtap ]] || { echo "missing $llmtap (build it first)" >&2; exit 1; }

work=$(mktemp -d /tmp/llmtap-distinct.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  # $LLMTAP_BENCH_LOGS=DIR keeps llmtap's logs of the run there.
  [[ -n ${LLMTAP_BENCH_LOGS:-} ]] && mkdir -p "$LLMTAP_BENCH_LOGS" && cp "$work"/*.err "$LLMTAP_BENCH_LOGS"/ 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "nothing listening on $1" >&2; return 1
}
load() { cut -d' ' -f1-3 /proc/loadavg; }
rss_mb() { awk '/^VmRSS/{r=$2} /^VmHWM/{h=$2} END{printf "%.0f %.0f", r/1024, h/1024}' "/proc/$1/status"; }
cpu_ticks() { local p t=0; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
# thread_ticks PID: "name ticks" per thread name of PID (the IO threads summed), to diff around a run.
thread_ticks() {
  local t
  for t in /proc/"$1"/task/*; do
    # comm may hold spaces: the fields after the ")" are fixed.
    printf '%s %s\n' "$(cat "$t/comm" 2>/dev/null)" "$(sed 's/.*) //' "$t/stat" 2>/dev/null | awk '{print $12 + $13}')"
  done | awk 'NF == 2 {s[$1] += $2} END {for (n in s) print n, s[n]}' | sort
}
# thread_cpu_per_request BEFORE AFTER REQUESTS: per-thread CPU microseconds per request, largest first.
thread_cpu_per_request() {
  join -a2 -e0 -o 0,1.2,2.2 <(echo "$1") <(echo "$2") |
    awk -v n="$3" -v hz="$(getconf CLK_TCK)" 'n > 0 && $3 > $2 {printf "%s %.1f\n", $1, ($3 - $2) * 1e6 / hz / n}' |
    sort -k2 -rn | awk '{printf "%s%s %s us", (NR > 1 ? ", " : ""), $1, $2} END {print ""}'
}

bash "$root/examples/sim-provider/make_test_ca.sh" "$work/ca"
up_tls=$(free_port); nx_http=$(free_port); mp_http=$(free_port)
mkdir -p "$work/nx-up" "$work/nx-px"
nginx_conf() {  # prefix workers body
  cat <<NGX
daemon off; pid $1/nginx.pid; error_log $1/error.log warn; worker_rlimit_nofile 20000; worker_processes $2;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $1/body; proxy_temp_path $1/proxy; fastcgi_temp_path $1/fcgi; uwsgi_temp_path $1/uwsgi; scgi_temp_path $1/scgi;
  keepalive_requests 10000000; keepalive_timeout 300s;
  $3
}
NGX
}
# The provider: a distinct response id per request, as a real one.
resp='{"id":"chatcmpl-$request_id","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":250,"completion_tokens":1,"total_tokens":251}}'
nginx_conf "$work/nx-up" 1 "server { listen 127.0.0.1:$up_tls ssl backlog=4096; ssl_certificate $work/ca/server.pem;
  ssl_certificate_key $work/ca/server.key; location / { default_type application/json; return 200 '$resp'; } }" \
  >"$work/nx-up/nginx.conf"
nginx -p "$work/nx-up" -c "$work/nx-up/nginx.conf" 2>"$work/nx-up/stderr" & pids+=($!)
nginx_conf "$work/nx-px" 2 "upstream up { server 127.0.0.1:$up_tls; keepalive 64; }
  server { listen 127.0.0.1:$nx_http backlog=4096; proxy_http_version 1.1; proxy_set_header Connection \"\";
    proxy_ssl_session_reuse on; location / { proxy_pass https://up; } }" >"$work/nx-px/nginx.conf"
nginx -p "$work/nx-px" -c "$work/nx-px/nginx.conf" 2>"$work/nx-px/stderr" & pids+=($!); nx_pid=$!

# The capture backlog is watched through the metrics endpoint (side by side, and in a memory run with
# --drain or --replay; a memory run without them leaves the endpoint's trace sink out).
metrics=()
((drain || replay || memory == 0)) && metrics_port=$(free_port) && metrics=(--metrics-listen "127.0.0.1:$metrics_port")
start_llmtap() {  # OUT_NAME [LOG_LEVEL]: starts llmtap on $work/llmtap, sets lt_pid
  "$llmtap" proxy --listen 127.0.0.1:0 --data-dir "$work/llmtap" --no-collector --log-level "${2:-warn}" \
    --upstream "openai=https://127.0.0.1:$up_tls" --upstream-ca "$work/ca/ca.pem" "${metrics[@]}" "${extra[@]}" \
    >"$work/$1.out" 2>"$work/$1.err" & pids+=($!); lt_pid=$!
  for ((i = 0; i < 600; i++)); do [[ -s $work/$1.out ]] && break; sleep 0.1; done
}
start_llmtap llmtap
lt=$(head -1 "$work/llmtap.out" | grep -o '[0-9]*$')
cred=$(cat "$work/llmtap/proxy-credential")
mp_pid=
if [[ $memory == 0 ]] && command -v mitmdump >/dev/null; then
  mitmdump --mode "reverse:https://127.0.0.1:$up_tls" --listen-host 127.0.0.1 --listen-port "$mp_http" -q \
    --ssl-insecure --set confdir="$work/mitm" >"$work/mitm.log" 2>&1 & pids+=($!); mp_pid=$!
fi
for p in "$up_tls" "$nx_http" "$lt"; do wait_port "$p" 20; done
[[ -n $mp_pid ]] && wait_port "$mp_http" 30

# Distinct ~1 KB bodies: thread id and a counter make every request a new conversation.
cat >"$work/distinct.lua" <<'LUA'
local threads, n = {}, 0
function setup(thread) n = n + 1; thread:set("tid", n) end
local counter, pad = 0, string.rep("x", 900)
function request()
  counter = counter + 1
  local body = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"conversation ' .. tid .. '-' ..
               counter .. ' ' .. pad .. '"}]}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["Authorization"] = "Bearer sk-bench"}, body)
end
LUA
chat=/v1/chat/completions
declare -A url=([nginx]="http://127.0.0.1:$nx_http$chat" [llmtap]="http://127.0.0.1:$lt/t/$cred/openai$chat"
                [mitmproxy]="http://127.0.0.1:$mp_http$chat")
lt_requests=0
us() {  # wrk latency "87.00us" / "1.62ms" / "1.2s" -> microseconds
  awk -v v="$1" 'BEGIN{n=v+0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n*1000; else if (v ~ /s$/) print n*1e6; else print n}'
}
run() {  # name connections secs -> "rps p50us p99us requests non2xx errors"
  local name=$1 c=$2 d=$3 out t=1
  ((c > 1)) && t=2
  out=$(timeout $((d + 30)) wrk -t"$t" -c"$c" -d"${d}s" --timeout 5s --latency -s "$work/distinct.lua" "${url[$name]}" 2>&1) || true
  local rps reqs p50 p99 non2xx errs
  rps=$(awk '/Requests\/sec/{print $2}' <<<"$out"); reqs=$(awk '/requests in/{print $1}' <<<"$out")
  p50=$(us "$(awk '$1=="50%"{print $2}' <<<"$out")"); p99=$(us "$(awk '$1=="99%"{print $2}' <<<"$out")")
  non2xx=$(awk '/Non-2xx/{print $NF}' <<<"$out"); errs=$(awk '/Socket errors/{gsub(",","");print $4+$6+$8+$10}' <<<"$out")
  echo "${rps:-0} ${p50:-0} ${p99:-0} ${reqs:-0} ${non2xx:-0} ${errs:-0}"
}
stored_traces() {  # after llmtap exited
  "$py" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from traces").fetchone()[0])' \
    "$work/llmtap/traces.db" 2>/dev/null || echo "?"
}
stop_llmtap() {
  local t0 i
  t0=$(date +%s%N)
  kill -TERM "$lt_pid" 2>/dev/null || true
  for ((i = 0; i < 3000; i++)); do
    kill -0 "$lt_pid" 2>/dev/null || break
    # The peak RSS includes the stop: the last VmHWM read before the process is gone (a zombie's
    # status has no VmHWM line, so an empty read keeps the previous one).
    awk '/^VmHWM/{printf "%.0f", $2/1024}' "/proc/$lt_pid/status" >"$work/peak.tmp" 2>/dev/null &&
      [[ -s "$work/peak.tmp" ]] && mv "$work/peak.tmp" "$work/peak"
    sleep 0.1
  done
  wait "$lt_pid" 2>/dev/null || true
  echo $((($(date +%s%N) - t0) / 1000000))
}
spooled_traces() {  # records in the store's spool segments (u32 length, u32 crc, payload), after llmtap exited
  "$py" - "$work/llmtap/traces.db-spool" <<'PY'
import glob, os, struct, sys
n = 0
for path in glob.glob(os.path.join(sys.argv[1], "*.spool")):
    data = open(path, "rb").read()
    at = 0
    while at + 8 <= len(data):
        (size,) = struct.unpack_from("<I", data, at)
        if at + 8 + size > len(data): break
        at += 8 + size
        n += 1
print(n)
PY
}
closed_early() { grep -o '[0-9]* trace(s) were closed before' "$work/llmtap.err" | grep -o '^[0-9]*' || echo 0; }
metric() {  # NAME: its value on the running llmtap's metrics endpoint ("" if unreachable)
  "$py" - "http://127.0.0.1:$metrics_port/metrics" "$1" <<'PY' 2>/dev/null || true
import sys, urllib.request
for line in urllib.request.urlopen(sys.argv[1], timeout=5).read().decode().splitlines():
    if line.startswith(sys.argv[2] + " "): print(int(float(line.split()[1])))
PY
}
budget_held() {  # what each holder has charged to the memory budget, in MB ("" without metrics)
  [[ -n ${metrics_port:-} ]] || return 0
  "$py" - "http://127.0.0.1:$metrics_port/metrics" <<'PY' 2>/dev/null || true
import re, sys, urllib.request
held = []
for line in urllib.request.urlopen(sys.argv[1], timeout=5).read().decode().splitlines():
    m = re.match(r'llmtap_memory_budget_used_bytes\{holder="([^"]+)"\} (\S+)', line)
    if m: held.append("%s %.0f" % (m.group(1), float(m.group(2)) / 2**20))
print("  budget MB: " + ", ".join(held) if held else "")
PY
}
# Waits until the capture queue and spool are empty (checked twice in a row), at most SECS seconds;
# prints the seconds it took.
wait_capture_drained() {
  local t0 n=0 q s
  t0=$(date +%s)
  while (($(date +%s) - t0 < $1)); do
    q=$(metric llmtap_capture_queue_bytes); s=$(metric llmtap_capture_spool_bytes)
    if [[ $q == 0 && $s == 0 ]]; then ((++n >= 2)) && break; else n=0; fi
    sleep 1
  done
  echo $(($(date +%s) - t0))
}
capture_spool_left() {  # after llmtap exited: "MB in N segment(s)"
  local d=$work/llmtap/capture-spool
  local mb=0
  compgen -G "$d/*.seg" >/dev/null && mb=$(du -cm "$d"/*.seg | tail -1 | cut -f1)
  echo "$mb MB in $(compgen -G "$d/*.seg" | wc -l) segment(s)"
}

echo "machine: $(nproc) cores; llmtap ${extra[*]:-(defaults)}"
if [[ $memory != 0 ]]; then
  echo "memory run: llmtap only, wrk -t2 -c50 for ${memory}s, distinct conversations"
  echo "  start: rss/hwm MB $(rss_mb "$lt_pid")  load $(load)"
  t0=$(thread_ticks "$lt_pid"); c0=$(cpu_ticks "$lt_pid")
  run llmtap 50 "$memory" >"$work/mem.txt" &
  wrk_job=$!
  for ((s = 5; s <= memory; s += 5)); do sleep 5; echo "  t=${s}s rss/hwm MB $(rss_mb "$lt_pid")  load $(load)$(budget_held)"; done
  wait "$wrk_job"
  read -r rps p50 p99 reqs non2xx errs <"$work/mem.txt"
  t1=$(thread_ticks "$lt_pid"); c1=$(cpu_ticks "$lt_pid")
  echo "  wrk: $reqs requests ($rps req/s, p99 ${p99} us), non-2xx $non2xx, socket errors $errs  load $(load)"
  echo "  llmtap cpu per request: $(((c1 - c0) * 1000000 / $(getconf CLK_TCK) / (reqs > 0 ? reqs : 1))) us;" \
       "per thread: $(thread_cpu_per_request "$t0" "$t1" "$reqs")"
  echo "  end: rss/hwm MB $(rss_mb "$lt_pid")"
  if ((drain)); then
    # While the backlog is decoded, the RSS and the budget every 5 s: where a catch-up's memory goes.
    (s=0; while sleep 5; do s=$((s + 5)); echo "  drain t=${s}s rss/hwm MB $(rss_mb "$lt_pid")$(budget_held)"; done) &
    drain_watch=$!
    secs_drained=$(wait_capture_drained 900)
    kill "$drain_watch" 2>/dev/null; wait "$drain_watch" 2>/dev/null || true
    echo "  capture backlog decoded ${secs_drained} s after wrk ended; rss/hwm MB $(rss_mb "$lt_pid")  load $(load)"
  fi
  ms=$(stop_llmtap)
  echo "  peak RSS (VmHWM, including the stop): $(cat "$work/peak" 2>/dev/null || echo ?) MB"
  stored=$(stored_traces); spooled=$(spooled_traces)
  echo "  SIGTERM to exit: ${ms} ms; traces stored: $stored, spooled: $spooled for $reqs requests" \
       "wrk completed (+ those in flight when wrk stopped); closed early by the budget: $(closed_early)"
  echo "  capture spool left for the next start: $(capture_spool_left)"
  grep -i "warn\|error" "$work/llmtap.err" | grep -v "closed before their idle timeout" | tail -3 | cut -c1-300 | sed 's/^/  llmtap: /'
  # The stop's phases (logged at info: `-- --log-level info`).
  grep -E "stopping: |open trace\(s\): |sinks flushed|left undecoded" "$work/llmtap.err" | sed -E 's/^\[[^]]*\] \[[^]]*\] \[[^]]*\] /  stop: /'
  if ((replay)); then
    start_llmtap replay info
    if ((replay_stop)); then
      sleep "$replay_stop"
      echo "  restart: SIGTERM ${replay_stop} s into the replay; rss/hwm MB $(rss_mb "$lt_pid")  load $(load)"
    else
      secs_drained=$(wait_capture_drained 900)
      echo "  restart: the capture spool replayed in ${secs_drained} s; peak rss/hwm MB $(rss_mb "$lt_pid")  load $(load)"
    fi
    ms=$(stop_llmtap)
    echo "  restart SIGTERM to exit: ${ms} ms; traces stored: $(stored_traces), spooled: $(spooled_traces)" \
         "for $reqs requests wrk completed; capture spool left: $(capture_spool_left)"
    grep -i "warn\|error\|replay" "$work/replay.err" | grep -v "closed before their idle timeout" | tail -3 | cut -c1-300 |
      sed 's/^/  llmtap (restart): /'
    grep -E "stopping: [0-9]+ ms|stopping: .* took" "$work/replay.err" | sed -E 's/^\[[^]]*\] \[[^]]*\] \[[^]]*\] /  restart stop: /'
    if ((replay_stop)); then
      start_llmtap replay2 info
      secs_drained=$(wait_capture_drained 900)
      echo "  third start: the rest replayed in ${secs_drained} s  load $(load)"
      ms=$(stop_llmtap)
      echo "  third start SIGTERM to exit: ${ms} ms; traces stored: $(stored_traces), spooled: $(spooled_traces)" \
           "for $reqs requests wrk completed; capture spool left: $(capture_spool_left)"
      grep -E "stopping: [0-9]+ ms|stopping: .* took" "$work/replay2.err" | sed -E 's/^\[[^]]*\] \[[^]]*\] \[[^]]*\] /  third stop: /'
    fi
  fi
  exit 0
fi

names=(nginx llmtap); [[ -n $mp_pid ]] && names+=(mitmproxy)
nx_workers=$(pgrep -P "$nx_pid" | tr '\n' ' ')
# syscalls PIDS SECS OUT: system calls the processes make in SECS seconds (perf, when it may trace).
syscalls() {
  command -v perf >/dev/null || return 0
  perf stat -x, -e raw_syscalls:sys_enter -p "$(tr ' ' ',' <<<"${1% }")" -o "$3" -- sleep "$2" 2>/dev/null || rm -f "$3"
}
per_request() { awk -v a="$1" -v n="$2" 'BEGIN{if (n > 0 && a != "") printf "%.1f", a / n; else printf "?"}'; }
declare -A res
for c in 1 50; do
  for n in "${names[@]}"; do
    echo "  [load $(load)] wrk -c$c ${secs}s via $n" >&2
    watched=""; [[ $n == nginx ]] && watched=$nx_workers; [[ $n == llmtap ]] && watched=$lt_pid
    c0=0; [[ -n $watched ]] && c0=$(cpu_ticks $watched)
    [[ $n == llmtap ]] && t0=$(thread_ticks "$lt_pid")
    rm -f "$work/sys.csv"; sys_job=
    [[ -n $watched ]] && { syscalls "$watched" "$secs" "$work/sys.csv" & sys_job=$!; }
    res[$n.$c]=$(run "$n" "$c" "$secs")
    [[ -n $sys_job ]] && wait "$sys_job"
    read -r _ _ _ reqs _ _ <<<"${res[$n.$c]}"
    if [[ -n $watched ]]; then
      # Both proxies' own CPU and system calls per request while wrk ran (llmtap's background work aside).
      res[own_cpu.$n.$c]=$(per_request "$((($(cpu_ticks $watched) - c0) * 1000000 / $(getconf CLK_TCK)))" "$reqs")
      res[sys.$n.$c]=$(per_request "$(awk -F, '/raw_syscalls/{print $1}' "$work/sys.csv" 2>/dev/null)" "$reqs")
    fi
    if [[ $n == llmtap ]]; then
      lt_requests=$((lt_requests + reqs))
      res[cpu.$c]=$((reqs > 0 ? ($(cpu_ticks "$lt_pid") - c0) * 1000000 / $(getconf CLK_TCK) / reqs : 0))
      res[threads.$c]=$(thread_cpu_per_request "$t0" "$(thread_ticks "$lt_pid")" "$reqs")
      # What the background fell behind by is decoded before the next path is measured, so that no
      # run competes with llmtap's catch-up; its time and its CPU are printed with the run's.
      res[caught_up.$c]=$(wait_capture_drained 600)
      res[cpu_all.$c]=$((reqs > 0 ? ($(cpu_ticks "$lt_pid") - c0) * 1000000 / $(getconf CLK_TCK) / reqs : 0))
      res[threads_all.$c]=$(thread_cpu_per_request "$t0" "$(thread_ticks "$lt_pid")" "$reqs")
    fi
  done
done
echo "load after the runs: $(load)"
printf '%-10s %5s %10s %10s %10s %8s %9s %8s\n' path conns "req/s" "p50 us" "p99 us" "x nginx" "p99 x nx" errors
for c in 1 50; do
  read -r nrps _ np99 _ _ _ <<<"${res[nginx.$c]}"
  for n in "${names[@]}"; do
    read -r rps p50 p99 reqs non2xx errs <<<"${res[$n.$c]}"
    printf '%-10s %5s %10.0f %10.0f %10.0f %8.2f %9.2f %8s\n' "$n" "$c" "$rps" "$p50" "$p99" \
      "$(awk -v a="$rps" -v b="$nrps" 'BEGIN{print (b>0?a/b:0)}')" "$(awk -v a="$p99" -v b="$np99" 'BEGIN{print (b>0?a/b:0)}')" \
      "$((non2xx + errs))"
  done
done
echo "llmtap cpu per request while wrk ran: ${res[cpu.1]} us @1, ${res[cpu.50]} us @50; rss/hwm MB $(rss_mb "$lt_pid")"
echo "cpu us / system calls per request while wrk ran: nginx ${res[own_cpu.nginx.1]} / ${res[sys.nginx.1]} @1," \
     "${res[own_cpu.nginx.50]} / ${res[sys.nginx.50]} @50; llmtap ${res[own_cpu.llmtap.1]} / ${res[sys.llmtap.1]} @1," \
     "${res[own_cpu.llmtap.50]} / ${res[sys.llmtap.50]} @50"
echo "  per thread @1: ${res[threads.1]}"
echo "  per thread @50: ${res[threads.50]}"
echo "llmtap capture backlog decoded ${res[caught_up.1]} s after wrk ended @1, ${res[caught_up.50]} s @50;" \
     "cpu per request with that catch-up: ${res[cpu_all.1]} us @1, ${res[cpu_all.50]} us @50"
echo "  per thread @50 with the catch-up: ${res[threads_all.50]}"
ms=$(stop_llmtap)
echo "llmtap SIGTERM to exit: ${ms} ms; traces stored: $(stored_traces), spooled: $(spooled_traces) for $lt_requests requests wrk completed;" \
     "closed early by the budget: $(closed_early)"
