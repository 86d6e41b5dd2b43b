// Large contexts end to end (issue 16): a 300-turn coding-agent conversation (Anthropic Messages,
// as Claude Code sends it) whose request re-sends a history growing to ~2 MB. Each turn's raw HTTP
// exchange goes through the parsers (ConnectionStitcher: framing, request body, SSE response) and
// the trace stage (TraceBuilder::on_model_call); thread CPU is measured per stage and per turn.
// Prints, every 25 turns: request size, the turn's new bytes, parse CPU on the simdjson fast path
// and on the nlohmann reference path, trace CPU, the heap in use; at the end what the conversation held.
// The same turns also go through one keep-alive connection whose requests leave out the repeated
// history (ParserOptions::elide_request_prefix, parsers/request_prefix.h) into a second trace stage:
// the "elided" columns, measured in the same run.
// Not a test: figures only. Usage: conversation_turns_bench [TURNS] [RESULT_BYTES]
#include <malloc.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/bench_clock.h"
#include "common/sinks.h"
#include "parsers/agent_conversation_gen.h"
#include "parsers/connection_stitcher.h"
#include "trace/trace_builder.h"

using namespace llmtap;
using namespace llmtap::testing;

namespace {

using bench::heap_bytes;
using bench::thread_cpu_us;

struct LastCall : ModelCallSink {
  std::vector<ModelCall> calls;
  void on_model_call(ModelCall c) override { calls.push_back(std::move(c)); }
};

// Parses one exchange in 16 KiB reads; returns the thread CPU in microseconds and the record.
double parse_exchange(const std::string& req, const std::string& resp, bool reference, UnixNanos t, ModelCall& out) {
  ParserOptions opts;
  opts.reference_json_only = reference;
  LastCall sink;
  const double cpu0 = thread_cpu_us();
  {
    ConnectionStitcher st(ConnectionInfo{"api.anthropic.com", 443, true, "proxy", 0}, 1, opts, sink);
    for (std::size_t i = 0; i < req.size(); i += 16384)
      st.data(Direction::kClientToServer, std::string_view(req).substr(i, 16384), t);
    for (std::size_t i = 0; i < resp.size(); i += 16384)
      st.data(Direction::kServerToClient, std::string_view(resp).substr(i, 16384), t + 500'000'000);
    st.close(t + 900'000'000);
  }
  const double cpu = thread_cpu_us() - cpu0;
  if (sink.calls.size() != 1 || sink.calls[0].status != CallStatus::kComplete) {
    std::fprintf(stderr, "turn record missing or incomplete\n");
    std::exit(1);
  }
  out = std::move(sink.calls[0]);
  return cpu;
}

// One keep-alive connection eliding repeated request prefixes: feeds one exchange, returns its CPU.
struct ElidingConnection {
  LastCall sink;
  ConnectionStitcher st;
  static ParserOptions options() {
    ParserOptions o;
    o.elide_request_prefix = true;
    return o;
  }
  ElidingConnection() : st(ConnectionInfo{"api.anthropic.com", 443, true, "proxy", 0}, 1, options(), sink) {}
  double exchange(const std::string& req, const std::string& resp, UnixNanos t, ModelCall& out) {
    const double cpu0 = thread_cpu_us();
    for (std::size_t i = 0; i < req.size(); i += 16384)
      st.data(Direction::kClientToServer, std::string_view(req).substr(i, 16384), t);
    for (std::size_t i = 0; i < resp.size(); i += 16384)
      st.data(Direction::kServerToClient, std::string_view(resp).substr(i, 16384), t + 500'000'000);
    const double cpu = thread_cpu_us() - cpu0;
    if (sink.calls.size() != 1 || sink.calls[0].status != CallStatus::kComplete) {
      std::fprintf(stderr, "elided turn record missing or incomplete\n");
      std::exit(1);
    }
    out = std::move(sink.calls[0]);
    sink.calls.clear();
    return cpu;
  }
};

}  // namespace

int main(int argc, char** argv) {
  const int turns = argc > 1 ? std::atoi(argv[1]) : 300;
  const std::size_t result_bytes = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 7000;  // ~2 MB at turn 300
  struct NullSink : TraceSink {
    std::size_t traces = 0, spans = 0;
    void on_trace(const Trace& t) override {
      ++traces;
      spans += t.spans.size();
    }
  } trace_sink;
  TraceBuilder builder(TraceOptions{}, nullptr, trace_sink);
  NullSink elided_sink;
  TraceBuilder elided_builder(TraceOptions{}, nullptr, elided_sink);
  ElidingConnection eliding;

  AgentConversation conv(result_bytes);
  std::size_t prev_bytes = 0;
  UnixNanos t = 1'700'000'000'000'000'000;
  const long long heap0 = heap_bytes();
  std::printf("conversation turns: Anthropic Messages, %d turns, %zu B tool results, 16 KiB reads, thread CPU\n", turns,
              result_bytes);
  std::printf("%5s %9s %8s %12s %12s %9s %12s %14s %10s %10s %8s\n", "turn", "req KB", "new KB", "parse us",
              "parse us", "trace us", "parse ns/B", "heap used KB", "parse us", "trace us", "elided");
  std::printf("%5s %9s %8s %12s %12s %9s %12s %14s %10s %10s %8s\n", "", "", "", "(simdjson)", "(nlohmann)", "",
              "(simdjson)", "", "(elided)", "(elided)", "msgs");
  double sum_parse = 0, sum_trace = 0, sum_elided_parse = 0, sum_elided_trace = 0;
  for (int turn = 1; turn <= turns; ++turn) {
    const bool sample = turn == 1 || turn % 25 == 0;
    double parse_us = 0, ref_us = 0, trace_us = 0, elided_parse_us = 0, elided_trace_us = 0;
    std::size_t elided_msgs = 0;
    std::size_t body_bytes = 0, req_bytes = 0;
    {
      const std::string body = conv.request_body();
      const std::string req = conv.http_request(body);
      const std::string resp = conv.http_response(turn);
      body_bytes = body.size();
      req_bytes = req.size();
      ModelCall call;
      parse_us = parse_exchange(req, resp, false, t, call);
      if (sample) {
        ModelCall ref;
        ref_us = parse_exchange(req, resp, true, t, ref);
      }
      double cpu0 = thread_cpu_us();
      builder.on_model_call(std::move(call));
      trace_us = thread_cpu_us() - cpu0;
      ModelCall elided;
      elided_parse_us = eliding.exchange(req, resp, t, elided);
      elided_msgs = elided.input_prefix.elided_messages;
      cpu0 = thread_cpu_us();
      elided_builder.on_model_call(std::move(elided));
      elided_trace_us = thread_cpu_us() - cpu0;
    }
    sum_elided_parse += elided_parse_us;
    sum_elided_trace += elided_trace_us;
    sum_parse += parse_us;
    sum_trace += trace_us;
    if (sample) {
      // What the heap grew by beyond the bench's own history text: the open conversation's state and
      // the thread's simdjson buffers (sized by the largest body so far).
      const double held = static_cast<double>(heap_bytes() - heap0 - static_cast<long long>(conv.history_capacity()));
      std::printf("%5d %9.0f %8.1f %12.0f %12.0f %9.0f %12.2f %14.0f %10.0f %10.0f %8zu\n", turn, body_bytes / 1024.0,
                  (body_bytes - prev_bytes) / 1024.0, parse_us, ref_us, trace_us, 1e3 * parse_us / req_bytes,
                  held / 1024.0, elided_parse_us, elided_trace_us, elided_msgs);
    }
    prev_bytes = body_bytes;
    conv.next_turn(turn);
    t += 2'000'000'000;
  }
  // What closing the conversation frees is what it held (the per-thread parser buffers in the
  // column above stay: about 14 bytes per byte of the largest body up to 4 MiB).
  const long long before_close = heap_bytes();
  builder.close_all(t);
  std::printf("the open conversation held %.0f KB after %d turns (freed when it closed)\n",
              (before_close - heap_bytes()) / 1024.0, turns);
  std::printf("total: parse %.0f ms, trace %.0f ms over %d turns; %zu trace(s), %zu spans\n", sum_parse / 1e3,
              sum_trace / 1e3, turns, trace_sink.traces, trace_sink.spans);
  std::printf("elided: parse %.0f ms, trace %.0f ms over %d turns\n", sum_elided_parse / 1e3, sum_elided_trace / 1e3,
              turns);
  elided_builder.close_all(t);
  if (elided_sink.traces != trace_sink.traces || elided_sink.spans != trace_sink.spans) {
    std::fprintf(stderr, "elided run built %zu trace(s), %zu spans\n", elided_sink.traces, elided_sink.spans);
    return 1;
  }
  return 0;
}
