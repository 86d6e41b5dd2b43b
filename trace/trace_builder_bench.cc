// Throughput of trace reconstruction: model calls per second for many interleaved agent runs
// and for one long conversation (whose re-sent history grows with every call).
#include <chrono>
#include <ctime>
#include <cstdio>

#include "trace/agent_identity.h"
#include "trace/trace_builder.h"
#include "trace/trace_test_util.h"

using namespace llmtap;
using namespace llmtap::trace::testing;

namespace {

std::vector<Turn> run_turns(int r, UnixNanos t0) {
  const std::string triage = "You are a triage agent. Route the customer.";
  const std::string billing = "You are a billing agent.";
  const std::string id = std::to_string(r);
  return {
      {triage, {"transfer_to_Billing_Agent"}, {user("Invoice " + id + " please")},
       assistant("", {call("h" + id, "transfer_to_Billing_Agent")}), t0, t0 + 100 * kMs},
      {billing, {"get_invoice"}, {tool_result("h" + id, "{\"assistant\":\"Billing Agent\"}")},
       assistant("", {call("g" + id, "get_invoice", "{\"id\":" + id + "}")}), t0 + 110 * kMs, t0 + 200 * kMs},
      {billing, {"get_invoice"}, {tool_result("g" + id, "{\"amount\":10}")}, assistant("It is 10 dollars."),
       t0 + 260 * kMs, t0 + 300 * kMs},
  };
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

long rss_kb() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  long kb = 0;
  while (std::fgets(line, sizeof line, f) != nullptr)
    if (std::sscanf(line, "VmRSS: %ld", &kb) == 1) break;
  std::fclose(f);
  return kb;
}

}  // namespace

int main() {
  {
    // A gateway's load: every call a new conversation whose trace then waits, idle, for a next
    // call (issue 16: at most 1 KB each). RSS growth per open trace, allocator overhead included.
    constexpr int kOpen = 200000, kBatch = 1000;
    CountingSink sink;
    FakePricer pricer;
    TraceOptions o;
    o.idle_timeout_ns = 3'600'000 * kMs;
    o.max_open_traces = kOpen * 2;
    TraceBuilder builder(o, &pricer, sink);
    const long rss_before = rss_kb();
    double add_cpu = 0;
    for (int base = 0; base < kOpen; base += kBatch) {
      std::vector<ModelCall> calls;
      for (int i = base; i < base + kBatch; ++i) calls.push_back(distinct_chat_call(i, kT0 + i * kMs));
      std::clock_t cpu = std::clock();
      for (auto& c : calls) builder.on_model_call(std::move(c));
      add_cpu += static_cast<double>(std::clock() - cpu) / CLOCKS_PER_SEC;
    }
    const long rss_open = rss_kb();
    std::clock_t cpu = std::clock();
    builder.close_all(0);
    const double close_cpu = static_cast<double>(std::clock() - cpu) / CLOCKS_PER_SEC;
    std::printf("distinct single calls held open: %d traces, RSS +%.0f B per open trace, %.1f us cpu/call to add, "
                "%.1f us cpu/trace to close, %zu traces\n",
                kOpen, 1024.0 * static_cast<double>(rss_open - rss_before) / kOpen, 1e6 * add_cpu / kOpen,
                1e6 * close_cpu / kOpen, sink.traces);
  }
  {
    constexpr int kRuns = 20000, kConcurrent = 200;
    std::vector<ModelCall> calls;
    for (int base = 0; base < kRuns; base += kConcurrent) {
      std::vector<std::vector<ModelCall>> batch;
      for (int r = base; r < base + kConcurrent; ++r)
        batch.push_back(render(run_turns(r, kT0 + base * kMs), Form::kResponses, std::to_string(r)));
      for (std::size_t step = 0; step < 3; ++step)
        for (auto& b : batch) calls.push_back(std::move(b[step]));
    }
    CountingSink sink;
    TraceOptions o;
    o.idle_timeout_ns = 1000 * kMs;
    TraceBuilder builder(o, nullptr, sink);
    auto start = std::chrono::steady_clock::now();
    std::clock_t cpu = std::clock();
    for (std::size_t i = 0; i < calls.size(); ++i) {
      builder.on_model_call(std::move(calls[i]));
      if (i % 600 == 0) builder.tick(kT0 + static_cast<UnixNanos>(i / 3) * kMs);
    }
    builder.close_all(0);
    double s = seconds_since(start);
    double c = static_cast<double>(std::clock() - cpu) / CLOCKS_PER_SEC;
    std::printf("interleaved runs: %d runs (%d at a time), %zu calls: wall %.3f s, cpu %.3f s = %.1f us cpu/call, "
                "%zu traces, %zu spans\n",
                kRuns, kConcurrent, calls.size(), s, c, 1e6 * c / calls.size(), sink.traces, sink.spans);
  }
  {
    constexpr int kTurns = 2000;
    std::vector<Turn> turns;
    for (int k = 0; k < kTurns; ++k)
      turns.push_back({"You are a chatty agent.", {}, {user("message " + std::to_string(k))},
                       assistant("reply " + std::to_string(k)), kT0 + k * kMs, kT0 + k * kMs + 1});
    auto calls = render(turns, Form::kChat);
    CountingSink sink;
    TraceBuilder builder(TraceOptions{}, nullptr, sink);
    auto start = std::chrono::steady_clock::now();
    std::clock_t cpu = std::clock();
    for (auto& c : calls) builder.on_model_call(std::move(c));
    builder.close_all(0);
    double s = seconds_since(start);
    double c = static_cast<double>(std::clock() - cpu) / CLOCKS_PER_SEC;
    std::printf("long conversation: %d calls, history up to %d messages: wall %.3f s, cpu %.3f s = %.1f us cpu/call, "
                "%zu traces\n",
                kTurns, 2 * kTurns, s, c, 1e6 * c / kTurns, sink.traces);
  }
  {
    // The agent fingerprint masks per-request noise in the instructions on every call: a
    // Claude-Code-sized system prompt (about 24 KB, stamped with a checksum, a date and ids).
    std::string prompt = "x-anthropic-billing-header: cc_version=2.1.22.f3a; cc_entrypoint=cli; cch=8a3f1;\n";
    while (prompt.size() < 24 * 1024)
      prompt += "You are Claude Code. Use the Read tool for files under /home/user/project2/src; today is "
                "2026-12-01, session 123e4567-e89b-12d3-a456-426614174000, at most 5 edits per turn.\n";
    const std::vector<ToolDef> tools = {{"Bash", ""}, {"Read", ""}, {"Edit", ""}};
    constexpr int kCalls = 2000;
    std::size_t distinct = 0;
    std::string last;
    std::clock_t cpu = std::clock();
    for (int i = 0; i < kCalls; ++i) {
      prompt[prompt.find("cch=") + 4] = static_cast<char>('a' + i % 6);
      std::string fp = trace::agent_fingerprint(prompt, tools);
      distinct += fp != last;
      last = std::move(fp);
    }
    double c = static_cast<double>(std::clock() - cpu) / CLOCKS_PER_SEC;
    std::printf("agent fingerprint of a %zu-byte prompt: %.1f us cpu/call (%.0f MB/s), %zu distinct id(s) over %d stamps\n",
                prompt.size(), 1e6 * c / kCalls, prompt.size() * kCalls / c / 1e6, distinct, kCalls);
  }
  {
    // Late approvals: every run's trace closes while its tool call waits, then the result arrives and
    // the run is continued from the bounded index of closed traces (trace_continuation.cc).
    constexpr int kRuns = 20000;
    const std::string instr = "You are a refund agent. Refund orders when asked.";
    std::vector<ModelCall> first, late;
    for (int r = 0; r < kRuns; ++r) {
      const std::string id = "call_" + std::to_string(r);
      auto calls = render({{instr, {"issue_refund"}, {user("Refund order " + std::to_string(r))},
                            assistant("", {call(id, "issue_refund", "{}")}), kT0 + r * kMs, kT0 + r * kMs + 50 * kMs},
                           {instr, {"issue_refund"}, {tool_result(id, "{\"refunded\":true}")}, assistant("Refunded."),
                            kT0 + (kRuns + r) * 10 * kMs, kT0 + (kRuns + r) * 10 * kMs + 50 * kMs}},
                          Form::kResponsesChained, std::to_string(r));
      first.push_back(std::move(calls[0]));
      late.push_back(std::move(calls[1]));
    }
    CountingSink sink;
    TraceOptions o;
    o.idle_timeout_ns = 1000 * kMs;
    TraceBuilder builder(o, nullptr, sink);
    std::clock_t cpu = std::clock();
    for (auto& c : first) builder.on_model_call(std::move(c));
    builder.tick(kT0 + 2 * kRuns * 10 * kMs);
    for (auto& c : late) builder.on_model_call(std::move(c));
    builder.close_all(0);
    double c = static_cast<double>(std::clock() - cpu) / CLOCKS_PER_SEC;
    const auto st = builder.stats();
    std::printf("late approvals: %d runs closed while waiting, then continued: %.1f us cpu/call, %zu trace parts, "
                "%llu rejoined, %llu evicted (bound %zu traces)\n",
                kRuns, 1e6 * c / (2 * kRuns), sink.traces, static_cast<unsigned long long>(st.continuations_rejoined),
                static_cast<unsigned long long>(st.continuations_evicted), o.continuation_max_traces);
  }
  return 0;
}
