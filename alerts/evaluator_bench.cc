// Prints what alert evaluation costs: per closed trace (every rule kind at once) and per arriving
// call. Not a test; numbers are printed, never asserted. Usage: llmtap_alerts_bench [TRACES]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "alerts/evaluator.h"
#include "report/report_test_traces.h"

using namespace llmtap;
using namespace llmtap::alerts;

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 200000;
  std::string error;
  auto rules = parse_rules(R"(rules:
  - {name: big-trace, kind: trace_cost, max_usd: 0.5}
  - {name: hourly, kind: spend, max_usd: 4, window: 1h}
  - {name: user-day, kind: user_budget, max_usd: 2}
  - {name: session-day, kind: session_budget, max_usd: 1}
  - {name: flaky, kind: tool_failure_rate, max_rate: 0.05, min_calls: 20, window: 15m}
  - {name: slow, kind: agent_p95_latency, max_seconds: 8, min_calls: 10, window: 15m}
  - {name: loops, kind: loop, repeats: 3, max_model_calls: 25}
)", "bench", &error);
  if (!rules) return std::fprintf(stderr, "%s\n", error.c_str()), 1;
  BudgetBook book;
  AlertEvaluator ev(*rules, &book);
  // Trace A: 10 spans, 4 model calls, 2 tools; spread over 1000 users and a day.
  std::vector<Trace> traces = {report::testing::trace_a(), report::testing::trace_b()};
  std::vector<AlertEvent> out;
  const UnixNanos t0 = report::testing::kT0;
  const UnixNanos step = 86400LL * 1'000'000'000 / n;
  auto start = std::chrono::steady_clock::now();
  std::size_t spans = 0;
  for (int i = 0; i < n; ++i) {
    const Trace& t = traces[static_cast<std::size_t>(i) % traces.size()];
    spans += t.spans.size();
    ev.on_trace(t, t0 + i * step, out);
    if (i % 1000 == 0) ev.tick(t0 + i * step, out), out.clear();
  }
  const double trace_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    ev.on_call({t0 + i * step, "h_user" + std::to_string(i % 1000), "s" + std::to_string(i % 5000), 0.001}, out);
    if (i % 1000 == 0) out.clear();
  }
  const double call_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("alert evaluation, 7 rules: %.2f us per closed trace (%d traces, %.1f spans each), %.0f ns per "
              "arriving call (%d calls, 1000 users, 5000 sessions)\n",
              trace_s * 1e6 / n, n, static_cast<double>(spans) / n, call_s * 1e9 / n, n);
  return 0;
}
