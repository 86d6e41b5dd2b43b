// A coding agent's long conversation: 300 turns, each answering a tool call with ~7 KB of file
// content, so the request re-sends a history that grows to ~2 MB. Prints the trace stage's CPU per
// turn (TraceBuilder::on_model_call; the parse is the parsers' bench) and the heap the open
// conversation holds, at turn 10 and at turn 300: both should not follow the history's size.
// In the same run a second trace stage gets the same calls as the parser gives them with
// ParserOptions::elide_request_prefix (parsers/request_prefix.h): the messages the previous request
// carried left out, named by ModelCall::input_prefix; CPU per turn of both at turns 25/100/200/300.
#include <malloc.h>
#include <time.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/bench_clock.h"
#include "trace/trace_builder.h"
#include "trace/trace_test_util.h"

using namespace llmtap;
using namespace llmtap::trace::testing;

namespace {

using bench::heap_bytes;
using bench::thread_cpu_us;

std::string file_content(int turn, std::size_t bytes) {
  std::string s;
  s.reserve(bytes + 80);
  for (int line = 0; s.size() < bytes; ++line)
    s += "    int value_" + std::to_string(turn) + "_" + std::to_string(line) + " = compute(" + std::to_string(line) +
         ");  // line of src/file" + std::to_string(turn) + ".cc\n";
  return s;
}

}  // namespace

int main() {
  constexpr int kTurns = 300;
  constexpr std::size_t kResultBytes = 7000;  // 300 results: ~2 MB of history at the last turn
  const std::string instructions = "You are Claude Code, a coding agent. Use the tools to read and edit files.";
  const std::vector<ToolDef> tools = {{"Read", "a"}, {"Edit", "b"}, {"Bash", "c"}};

  CountingSink sink, elided_sink;
  TraceOptions o;
  TraceBuilder builder(o, nullptr, sink);
  TraceBuilder elided_builder(o, nullptr, elided_sink);
  std::vector<double> elided_cpu_us(kTurns + 1);
  std::vector<Message> history = {system_msg(instructions), user("Refactor the project's compute() calls.")};
  std::vector<double> cpu_us(kTurns + 1), held(kTurns + 1), request_bytes(kTurns + 1);
  const long long heap_start = heap_bytes();
  long long history_bytes = 0;
  UnixNanos t = kT0;
  for (int turn = 1; turn <= kTurns; ++turn) {
    ModelCall c;
    c.provider = "anthropic";
    c.api = "anthropic_messages";
    c.host = "api.anthropic.com";
    c.request_model = "claude-sonnet-4-5";
    c.response_id = "msg_" + std::to_string(turn);
    c.system_instructions = instructions;
    c.tools = tools;
    c.connection_id = 1;
    c.usage.present = true;
    c.usage.input_uncached = 1000 + turn * 1700;
    c.usage.output = 50;
    c.timings = {t, t + 1000, t + 500'000'000, 0, t + 900'000'000, 0};
    const std::string id = "toolu_" + std::to_string(turn);
    c.output = {assistant("", {call(id, "Read", "{\"path\":\"src/file" + std::to_string(turn) + ".cc\"}")})};
    ModelCall e = c;  // what the eliding parser gives: the messages after the previous request's
    e.input_prefix.key = static_cast<std::uint64_t>(turn);
    if (turn > 1) {
      e.input_prefix.elided_key = static_cast<std::uint64_t>(turn - 1);
      e.input_prefix.elided_messages = history.size() - 2;
      e.input.assign(history.end() - 2, history.end());
    } else {
      e.input = history;
    }
    c.input = history;
    std::size_t bytes = 0;
    for (const auto& m : c.input) bytes += m.text.size();
    request_bytes[turn] = static_cast<double>(bytes);
    const double cpu0 = thread_cpu_us();
    builder.on_model_call(std::move(c));
    cpu_us[turn] = thread_cpu_us() - cpu0;
    const double cpu1 = thread_cpu_us();
    elided_builder.on_model_call(std::move(e));
    elided_cpu_us[turn] = thread_cpu_us() - cpu1;
    // The call is gone: what the heap grew by beyond the bench's own history is the builder's.
    held[turn] = static_cast<double>(heap_bytes() - heap_start - history_bytes);
    // The next request: this response and the tool's result appended (counted as the bench's own).
    const long long before_push = heap_bytes();
    history.push_back(assistant("", {call(id, "Read", "{\"path\":\"src/file" + std::to_string(turn) + ".cc\"}")}));
    history.push_back(tool_result(id, file_content(turn, kResultBytes)));
    history_bytes += heap_bytes() - before_push;
    t += 2'000'000'000;
  }
  auto avg = [&](const std::vector<double>& v, int from, int to) {
    double s = 0;
    for (int i = from; i <= to; ++i) s += v[i];
    return s / (to - from + 1);
  };
  const double cpu10 = avg(cpu_us, 6, 15), cpu300 = avg(cpu_us, 291, 300);
  std::printf("large context: %d turns, request text %.0f KB at turn 10, %.0f KB at turn 300\n", kTurns,
              request_bytes[10] / 1024, request_bytes[300] / 1024);
  std::printf("  trace stage cpu per turn: %.1f us at turn 10, %.1f us at turn 300 (x%.1f for x%.1f the bytes)\n",
              cpu10, cpu300, cpu300 / cpu10, request_bytes[300] / request_bytes[10]);
  std::printf("  per request byte: %.2f ns at turn 10, %.2f ns at turn 300\n", 1e3 * cpu10 / request_bytes[10],
              1e3 * cpu300 / request_bytes[300]);
  std::printf("  heap held by the open conversation: %.1f KB after turn 10, %.1f KB after turn 300 "
              "(%.0f B per turn over turns 11-300)\n",
              held[10] / 1024, held[300] / 1024, (held[300] - held[10]) / 290);
  std::printf("  %5s %10s %16s %16s\n", "turn", "request KB", "whole input us", "elided input us");
  for (int turn : {25, 100, 200, 300})
    if (turn <= kTurns)
      std::printf("  %5d %10.0f %16.1f %16.1f\n", turn, request_bytes[turn] / 1024, avg(cpu_us, turn - 4, turn),
                  avg(elided_cpu_us, turn - 4, turn));
  std::printf("  (each the mean of the 5 turns ending there; the heap figures above include the elided stage's state)\n");
  builder.close_all(0);
  elided_builder.close_all(0);
  std::printf("  closed: %zu trace(s), %zu spans; elided: %zu trace(s), %zu spans\n", sink.traces, sink.spans,
              elided_sink.traces, elided_sink.spans);
  return 0;
}
