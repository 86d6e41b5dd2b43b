#pragma once
// Known traces for the query layer's tests: every number a report prints is computed by hand from
// these in report_test.cc.
#include <random>
#include <string>
#include <vector>

#include "common/span.h"

namespace llmtap::report::testing {

inline constexpr UnixNanos kMs = 1'000'000;
inline constexpr UnixNanos kHour = 3600'000 * kMs;
// 2026-11-29T08:00:00Z
inline constexpr UnixNanos kT0 = 1'795'939'200LL * 1'000'000'000;

// Builds one trace span by span; times are milliseconds after START.
class TraceMaker {
 public:
  TraceMaker(std::string trace_id, UnixNanos start, const std::string& workflow);
  Span& root() { return trace_.spans.front(); }
  // Returns the new span's id.
  std::string agent(const std::string& name, int from_ms, int to_ms, const std::string& parent = "");
  Span& generation(const std::string& parent, const std::string& model, int from_ms, int to_ms);
  Span& tool(const std::string& parent, const std::string& name, int from_ms, int to_ms, const std::string& args = "");
  Span& handoff(const std::string& parent, const std::string& from, const std::string& to, int from_ms, int to_ms);
  Trace take() { return std::move(trace_); }

 private:
  Span& add(SpanKind kind, const std::string& parent, std::string name, int from_ms, int to_ms);
  Trace trace_;
  UnixNanos start_;
  int next_ = 1;
};

// Sets usage (and cost, when COST >= 0) on a generation.
void usage(Span& gen, std::int64_t input, std::int64_t output, double cost, std::int64_t cached = 0,
           std::int64_t reasoning = 0);

// Trace A (kT0, workflow "support", user u1, session s1, release v1): Triage agent with two
// gpt-4o calls and a lookup_order tool, handoff to Billing with a gpt-4o-mini call, a failing
// refund tool and a failed call. Trace B (kT0 + 1h, user u2, release v2): lookup_order three times
// with the same arguments, then an unpriced model. Trace C: two days earlier (outside a 24h window).
Trace trace_a();
Trace trace_b();
Trace trace_c();

// Trace N of a synthetic store for benchmarks: ten spans (workflow, two agents, four generations,
// two tools, a handoff), one every 500 ms from kT0, 500 users, four traces per session, two releases, 5% failing refunds.
Trace synthetic_trace(int n, std::mt19937& rng);

// Writes TRACES to the SQLite store at PATH (created if needed) and returns once they are stored;
// "" or the store's error.
std::string write_store(const std::string& path, const std::vector<Trace>& traces);

// The benchmarks' store: DIR/traces.db holding SPANS / 10 synthetic traces, written (with the write
// rate printed) when it does not exist yet. "" or the store's error.
std::string ensure_synthetic_store(const std::string& dir, long spans);

}  // namespace llmtap::report::testing
