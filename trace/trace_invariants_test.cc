// Randomized sequences of runs (all API forms, agents as tools, handoffs, unanswered calls,
// interleaving, idle ticks) checked against invariants every emitted trace must keep.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "trace/trace_builder.h"
#include "trace/trace_test_util.h"

namespace llmtap::trace::testing {
namespace {

std::vector<Turn> random_run(std::mt19937& rng, int id, UnixNanos t0) {
  const std::string agents[] = {"You are a triage agent.", "You are a billing agent.", "You are a refund agent."};
  std::vector<Turn> turns;
  std::vector<Message> pending = {user("question " + std::to_string(id % 5))};  // repeated questions on purpose
  int agent = 0;
  UnixNanos t = t0;
  const int n = 1 + static_cast<int>(rng() % 6);
  for (int k = 0; k < n; ++k) {
    Turn turn{agents[agent], {"lookup", "transfer_to_Next"}, pending, assistant(""), t, t + 50 * kMs};
    pending.clear();
    const int what = static_cast<int>(rng() % 4);
    const std::string cid = "c" + std::to_string(id) + "_" + std::to_string(k);
    if (k == n - 1 || what == 0) {
      turn.output = assistant("answer " + std::to_string(id));
      pending.push_back(user("follow-up " + std::to_string(k)));
    } else if (what == 1 && agent < 2) {
      turn.output = assistant("", {call(cid, "transfer_to_Next")});
      pending.push_back(tool_result(cid, "{\"assistant\":\"Agent" + std::to_string(agent + 1) + "\"}"));
      ++agent;
    } else {
      turn.output = assistant("", {call(cid, "lookup", "{}"), call(cid + "b", "lookup", "{\"x\":1}")});
      pending.push_back(tool_result(cid, "r1"));
      pending.push_back(tool_result(cid + "b", rng() % 3 == 0 ? "{\"error\":\"x\"}" : "r2"));
    }
    turns.push_back(std::move(turn));
    t += 80 * kMs;
  }
  return turns;
}

void check_trace(const Trace& t) {
  ASSERT_FALSE(t.spans.empty());
  EXPECT_EQ(t.spans[0].kind, SpanKind::kWorkflow);
  std::map<std::string, const Span*> by;
  for (const auto& s : t.spans) {
    EXPECT_EQ(s.trace_id, t.trace_id);
    EXPECT_TRUE(by.emplace(s.span_id, &s).second) << "duplicate span id";
    EXPECT_LE(s.start_ns, s.end_ns) << s.name;
  }
  for (std::size_t i = 1; i < t.spans.size(); ++i) {
    const Span& s = t.spans[i];
    EXPECT_GE(s.start_ns, t.spans[i - 1].start_ns) << "spans after the root are in start order";
    auto it = by.find(s.parent_span_id);
    ASSERT_NE(it, by.end()) << s.name << " has no parent in its trace";
    const Span& p = *it->second;
    switch (s.kind) {
      case SpanKind::kAgent:
        EXPECT_TRUE(p.kind == SpanKind::kWorkflow || p.kind == SpanKind::kTool || p.kind == SpanKind::kGuardrail);
        break;
      case SpanKind::kGuardrail: EXPECT_TRUE(p.kind == SpanKind::kAgent || p.kind == SpanKind::kWorkflow) << s.name; break;
      case SpanKind::kWorkflow: ADD_FAILURE() << "second root"; break;
      default: EXPECT_EQ(p.kind, SpanKind::kAgent) << s.name; break;
    }
    if (p.kind == SpanKind::kAgent || p.kind == SpanKind::kWorkflow || p.kind == SpanKind::kGuardrail) {
      EXPECT_LE(p.start_ns, s.start_ns) << p.name << " / " << s.name;
      EXPECT_GE(p.end_ns, s.end_ns) << p.name << " / " << s.name;
    }
  }
}

TEST(TraceInvariants, RandomInterleavedRuns) {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    TraceOptions o;
    o.idle_timeout_ns = 2000 * kMs;
    FakePricer pricer;
    RecordingSink sink;
    TraceBuilder b(o, &pricer, sink);
    std::vector<ModelCall> all;
    const Form forms[] = {Form::kChat, Form::kResponses, Form::kResponsesChained, Form::kAnthropic, Form::kGemini};
    for (int r = 0; r < 30; ++r) {
      UnixNanos t0 = kT0 + static_cast<UnixNanos>(rng() % 5000) * kMs;
      auto calls = render(random_run(rng, r, t0), forms[rng() % 5], "s" + std::to_string(r));
      if (rng() % 5 == 0) calls.pop_back();  // cut a run short: its tools stay unanswered
      for (auto& c : calls) c.connection_id = rng() % 3;
      all.insert(all.end(), calls.begin(), calls.end());
    }
    std::stable_sort(all.begin(), all.end(), [](const ModelCall& x, const ModelCall& y) {
      return x.timings.response_end < y.timings.response_end;
    });
    for (const auto& c : all) {
      b.on_model_call(c);
      if (rng() % 7 == 0) b.tick(c.timings.response_end);
    }
    b.close_all(0);
    std::size_t generations = 0;
    for (const auto& t : sink.traces) {
      check_trace(t);
      generations += spans_of(t, SpanKind::kGeneration).size();
    }
    EXPECT_EQ(generations, all.size()) << "seed " << seed;
    EXPECT_EQ(b.open_traces(), 0u);
  }
}

}  // namespace
}  // namespace llmtap::trace::testing
