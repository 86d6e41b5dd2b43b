// The decode thread's work per call, in process (issue 16): distinct ~1 KB chat-completions exchanges,
// the bytes bench/distinct_conversations.sh sends through the proxy, on 50 keep-alive connections, go
// through what the pipeline's decode thread runs (the HTTP decoders, the body parsers, the trace
// builder) and the export hand-off (trace/trace_hand_off.h) into the default store behind
// redaction (export/make_exporters.h). Every call is a new
// trace; past --max-open open traces each call closes the oldest one early, as the memory budget
// does at full speed, so the closes and the hand-off to the sinks are part of the run.
// Prints this thread's CPU per call and, per thread name, the process's CPU per call (/proc), so a
// change that moves work to another thread shows where it went. Under callgrind
// (--separate-threads=yes --instr-atstart=no: only the calls are counted) this thread's instruction
// count per call is the steady figure.
// --count-stop: callgrind counts the stop (close_all of the traces still open) instead.
// Not a test: figures only. Usage: decode_thread_bench [CALLS] [--max-open N] [--direct] [--count-stop]
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

#include "collector/http_decoder_factory.h"
#include "common/bench_clock.h"
#include "common/clock.h"
#include "common/memory_budget.h"
#include "common/thread_priority.h"
#include "export/make_exporters.h"
#include "trace/trace_builder.h"
#include "trace/trace_hand_off.h"

using namespace llmtap;

namespace {

constexpr int kConnections = 50;

std::string request_bytes(int conn, int counter) {
  const std::string body = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"conversation )" +
                           std::to_string(conn) + "-" + std::to_string(counter) + " " + std::string(900, 'x') +
                           R"("}]})";
  return "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nAuthorization: Bearer sk-bench\r\n"
         "Content-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string response_bytes(int n) {
  const std::string body = R"({"id":"chatcmpl-)" + std::to_string(n) +
                           R"(","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":)"
                           R"({"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":250,)"
                           R"("completion_tokens":1,"total_tokens":251}})";
  return "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Wed, 02 Dec 2026 02:00:00 GMT\r\nContent-Type: application/json\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\nConnection: keep-alive\r\n\r\n" + body;
}

// CPU ticks per thread name of this process (threads of one name summed).
std::map<std::string, long> thread_ticks() {
  std::map<std::string, long> out;
  DIR* d = opendir("/proc/self/task");
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const std::string dir = std::string("/proc/self/task/") + e->d_name;
    std::string name, stat;
    std::getline(std::ifstream(dir + "/comm"), name);
    std::getline(std::ifstream(dir + "/stat"), stat);
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
    long utime = 0, stime = 0;
    if (std::sscanf(stat.c_str() + close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime, &stime) == 2)
      out[name] += utime + stime;
  }
  closedir(d);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int calls = 20000;
  std::size_t max_open = 2000;
  bool direct = false;
  bool count_stop = false;  // callgrind counts the stop's close_all instead of the calls
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--max-open") == 0 && i + 1 < argc) max_open = std::strtoul(argv[++i], nullptr, 10);
    else if (std::strcmp(argv[i], "--direct") == 0) direct = true;
    else if (std::strcmp(argv[i], "--count-stop") == 0) count_stop = true;
    else calls = std::atoi(argv[i]);
  }
  name_this_thread("llmtap-decode");  // this thread does what the pipeline's decode thread does
  char tmpl[] = "/tmp/llmtap-decode-bench.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return 1;
  const std::string dir = tmpl;

  auto budget = std::make_shared<MemoryBudget>();
  exporting::ExportOptions eopts;
  eopts.memory_budget = budget;
  eopts.capture_content = false;
  std::string error;
  auto exporters = exporting::make_export_setup({}, dir, &error, eopts);
  if (!exporters.sink) {
    std::fprintf(stderr, "decode_thread_bench: %s\n", error.c_str());
    return 1;
  }
  TraceOptions topts;
  topts.max_open_traces = max_open;
  topts.memory_budget = budget;
  topts.raw_user_ids = true;
  // As the pipeline (cli/pipeline.cc): closed traces go to the sinks through the export hand-off.
  // --direct: to the sinks on this thread, as before the hand-off.
  std::unique_ptr<TraceHandOff> hand_off;
  if (!direct) hand_off = std::make_unique<TraceHandOff>(*exporters.sink, budget);
  auto builder = std::make_unique<TraceBuilder>(topts, nullptr, hand_off ? static_cast<TraceSink&>(*hand_off) : *exporters.sink);
  ParserOptions popts;
  popts.elide_request_prefix = true;  // as the pipeline with content capture off
  auto factory = make_http_decoder_factory(*builder, popts);
  std::vector<std::unique_ptr<ConnectionDecoder>> conns;
  for (int c = 0; c < kConnections; ++c)
    conns.push_back(factory->create(static_cast<std::uint64_t>(c + 1), ConnectionInfo{"api.openai.com", 443, true, "gateway", 0}));

  // Built beforehand: the proxy's IO threads make these bytes, not the decode thread.
  // The first max_open calls fill the open traces (not measured): each measured call then closes one.
  // A larger --max-open than the calls measures calls that close nothing.
  const int warm = max_open < static_cast<std::size_t>(calls) ? static_cast<int>(max_open) : 0;
  std::vector<std::string> requests, responses;
  for (int i = 0; i < warm + calls; ++i) {
    requests.push_back(request_bytes(i % kConnections, i / kConnections));
    responses.push_back(response_bytes(i));
  }
  UnixNanos ts = now_ns();
  auto feed = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      ConnectionDecoder& c = *conns[static_cast<std::size_t>(i % kConnections)];
      c.data(Direction::kClientToServer, requests[static_cast<std::size_t>(i)], ts);
      c.data(Direction::kServerToClient, responses[static_cast<std::size_t>(i)], ts + 300'000);
      ts += 50'000;  // 20k calls/s of wire time: no trace reaches the idle timeout during the run
    }
  };
  feed(0, warm);
  const auto ticks0 = thread_ticks();
  const double cpu0 = bench::thread_cpu_us();
  if (!count_stop) CALLGRIND_START_INSTRUMENTATION;  // with --instr-atstart=no: only the measured calls are counted
  feed(warm, warm + calls);
  if (!count_stop) CALLGRIND_STOP_INSTRUMENTATION;
  const double cpu = bench::thread_cpu_us() - cpu0;
  const auto ticks1 = thread_ticks();
  const auto open_at_end = builder->open_traces();
  for (auto& c : conns) c->close(ts);
  const double stop0 = bench::thread_cpu_us();
  if (count_stop) CALLGRIND_START_INSTRUMENTATION;
  builder->close_all(ts);
  if (count_stop) CALLGRIND_STOP_INSTRUMENTATION;
  const double stop_cpu = bench::thread_cpu_us() - stop0;
  const std::uint64_t early = builder->closed_early_traces();
  builder.reset();
  hand_off.reset();
  exporters.sink.reset();  // the store writes what it holds

  std::printf("decode thread: %d distinct 1 KB chat calls on %d connections, max %zu open traces, %s: %.1f us "
              "cpu/call; %zu open at the end, %llu closed early\n",
              calls, kConnections, max_open, direct ? "sinks called directly" : "through the export hand-off",
              cpu / calls, open_at_end, static_cast<unsigned long long>(early));
  std::printf("the stop: close_all of %zu open traces: %.1f us cpu per trace on this thread\n", open_at_end,
              open_at_end > 0 ? stop_cpu / static_cast<double>(open_at_end) : 0.0);
  std::printf("during the calls, cpu/call by thread:");
  const double us_per_tick = 1e6 / static_cast<double>(sysconf(_SC_CLK_TCK));
  for (const auto& [name, t] : ticks1) {
    auto it = ticks0.find(name);
    const long d = t - (it == ticks0.end() ? 0 : it->second);
    if (d > 0) std::printf(" %s %.1f us", name.c_str(), static_cast<double>(d) * us_per_tick / calls);
  }
  std::printf("\n");
  std::filesystem::remove_all(dir);
  return 0;
}
