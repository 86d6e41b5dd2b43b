#include "report/report.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "export/sqlite_store.h"
#include "export/test_spans.h"
#include "report/report_test_traces.h"

namespace llmtap::report {
namespace {

using namespace testing;

class ReportOnStore : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    path = dir.path + "/traces.db";
    ASSERT_EQ(write_store(path, {trace_a(), trace_b(), trace_c()}), "");
    std::string error;
    source = StoreTraceSource::open(path, &error);
    ASSERT_TRUE(source) << error;
  }
  Report run(GroupBy by, ReportOptions o = {}) {
    o.by = by;
    if (o.until == 0) o.since = kT0 - kHour, o.until = kT0 + 23 * kHour;
    std::string error;
    auto r = build_report(*source, o, &error);
    EXPECT_TRUE(r) << error;
    return r ? *r : Report{};
  }
  const CallGroup& group(const Report& r, const std::string& key) {
    for (const auto& g : r.groups)
      if (g.key == key) return g;
    ADD_FAILURE() << "no group " << key;
    static CallGroup none;
    return none;
  }
  exporting::testing::TempDir dir;
  std::string path;
  std::unique_ptr<StoreTraceSource> source;
};

TEST_F(ReportOnStore, ByAgentCountsCallsErrorsLatencyTokensAndCost) {
  Report r = run(GroupBy::kAgent);
  EXPECT_EQ(r.traces, 2);  // trace C is two days older than the window
  EXPECT_EQ(r.spans, 10 + 7);
  ASSERT_EQ(r.groups.size(), 2u);
  const CallGroup& triage = r.groups[0];  // highest cost first
  EXPECT_EQ(triage.key, "Triage");
  EXPECT_EQ(triage.calls, 4);
  EXPECT_EQ(triage.errors, 0);
  EXPECT_DOUBLE_EQ(triage.duration_ms.p50, 60);  // 60 60 100 300, nearest rank
  EXPECT_DOUBLE_EQ(triage.duration_ms.p95, 300);
  EXPECT_DOUBLE_EQ(triage.duration_ms.p99, 300);
  EXPECT_EQ(triage.input_tokens, 4300);
  EXPECT_EQ(triage.cached_tokens, 200);
  EXPECT_EQ(triage.output_tokens, 190);
  EXPECT_EQ(triage.reasoning_tokens, 10);
  EXPECT_NEAR(triage.cost_usd, 0.042, 1e-12);
  EXPECT_EQ(triage.priced_calls, 3);
  EXPECT_EQ(triage.unpriced_calls, 1);

  const CallGroup& billing = r.groups[1];
  EXPECT_EQ(billing.key, "Billing");
  EXPECT_EQ(billing.calls, 2);
  EXPECT_EQ(billing.errors, 1);
  EXPECT_DOUBLE_EQ(billing.error_rate(), 0.5);
  EXPECT_DOUBLE_EQ(billing.duration_ms.p50, 50);
  EXPECT_DOUBLE_EQ(billing.duration_ms.p95, 100);
  EXPECT_NEAR(billing.cost_usd, 0.001, 1e-12);
  EXPECT_EQ(billing.unpriced_calls, 0);  // the failed call reported no usage

  EXPECT_EQ(r.total.calls, 6);
  EXPECT_EQ(r.total.errors, 1);
  EXPECT_DOUBLE_EQ(r.total.duration_ms.p50, 60);  // 50 60 60 100 100 300
  EXPECT_DOUBLE_EQ(r.total.duration_ms.p95, 300);
  EXPECT_NEAR(r.total.cost_usd, 0.043, 1e-12);
  EXPECT_EQ(r.total.unpriced_calls, 1);
}

TEST_F(ReportOnStore, FailedRunsAndRunDurations) {
  Report r = run(GroupBy::kWorkflow);
  EXPECT_EQ(r.failed_traces, 1);  // A: the refund tool and the rate-limited call
  EXPECT_DOUBLE_EQ(r.trace_duration_ms.p50, 400);  // B 400, A 455
  EXPECT_DOUBLE_EQ(r.trace_duration_ms.max, 455);
  auto j = report_json(r);
  EXPECT_EQ(j["runs"]["failed"], 1);
  EXPECT_DOUBLE_EQ(j["runs"]["success_rate"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["runs"]["duration_ms"]["p95"].get<double>(), 455);
}

TEST_F(ReportOnStore, ToolsWithFailureRateLatencyAndRequestingCost) {
  Report r = run(GroupBy::kTool);
  EXPECT_TRUE(r.groups.empty());
  ASSERT_EQ(r.tools.size(), 2u);
  const ToolGroup& lookup = r.tools[0];
  EXPECT_EQ(lookup.name, "lookup_order");
  EXPECT_EQ(lookup.calls, 4);
  EXPECT_EQ(lookup.failures, 0);
  EXPECT_DOUBLE_EQ(lookup.latency_ms.avg, 32.5);  // 40 20 30 40
  EXPECT_DOUBLE_EQ(lookup.latency_ms.p95, 40);
  // A: the first gpt-4o call ($0.010) asked for it; B: one call ($0.020) asked for all three.
  EXPECT_NEAR(lookup.requesting_cost_usd, 0.030, 1e-12);
  const ToolGroup& refund = r.tools[1];
  EXPECT_EQ(refund.name, "refund");
  EXPECT_EQ(refund.calls, 1);
  EXPECT_EQ(refund.failures, 1);
  EXPECT_DOUBLE_EQ(refund.failure_rate(), 1.0);
  EXPECT_DOUBLE_EQ(refund.latency_ms.avg, 100);
  EXPECT_NEAR(refund.requesting_cost_usd, 0.001, 1e-12);
}

TEST_F(ReportOnStore, HandoffsTraceCostAndRuns) {
  Report r = run(GroupBy::kAgent);
  EXPECT_EQ(r.traces_with_handoff, 1);
  ASSERT_EQ(r.handoff_paths.size(), 1u);
  EXPECT_EQ(r.handoff_paths[0].from, "Triage");
  EXPECT_EQ(r.handoff_paths[0].to, "Billing");
  EXPECT_EQ(r.handoff_paths[0].count, 1);
  EXPECT_EQ(r.handoff_paths[0].completed, 1);

  EXPECT_EQ(r.priced_traces, 2);
  EXPECT_EQ(r.unpriced_traces, 0);
  EXPECT_NEAR(r.trace_cost_usd.p50, 0.020, 1e-12);
  EXPECT_NEAR(r.trace_cost_usd.p95, 0.023, 1e-12);
  EXPECT_NEAR(r.trace_cost_usd.max, 0.023, 1e-12);
  ASSERT_EQ(r.top_traces.size(), 2u);
  EXPECT_EQ(r.top_traces[0].trace_id, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  EXPECT_DOUBLE_EQ(r.top_traces[0].duration_ms, 455);
  EXPECT_EQ(r.top_traces[0].model_calls, 4);
  EXPECT_EQ(r.top_traces[0].tool_calls, 2);
  EXPECT_EQ(r.top_traces[1].trace_id, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");

  EXPECT_DOUBLE_EQ(r.model_calls_per_run.avg, 3);
  EXPECT_DOUBLE_EQ(r.model_calls_per_run.max, 4);
  EXPECT_DOUBLE_EQ(r.tool_calls_per_run.p50, 2);
  EXPECT_DOUBLE_EQ(r.tool_calls_per_run.max, 3);
  ASSERT_EQ(r.loop_runs, 1);
  EXPECT_EQ(r.loops[0].trace.trace_id, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
  EXPECT_EQ(r.loops[0].reason, "lookup_order x3 with the same arguments");
  EXPECT_FALSE(r.tool_arguments_missing);
}

TEST_F(ReportOnStore, LoopThresholdsAndTopAreOptions) {
  ReportOptions o;
  o.loop_model_calls = 3;
  o.loop_repeats = 4;
  o.top = 1;
  Report r = run(GroupBy::kAgent, o);
  ASSERT_EQ(r.loop_runs, 1);
  EXPECT_EQ(r.loops[0].trace.trace_id, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  EXPECT_EQ(r.loops[0].reason, "4 model calls");
  ASSERT_EQ(r.top_traces.size(), 1u);
  EXPECT_EQ(r.top_traces[0].trace_id, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
}

TEST_F(ReportOnStore, ByModelUserSessionReleaseWorkflow) {
  Report model = run(GroupBy::kModel);
  EXPECT_EQ(group(model, "gpt-4o").calls, 3);
  EXPECT_NEAR(group(model, "gpt-4o").cost_usd, 0.042, 1e-12);
  EXPECT_EQ(group(model, "gpt-4o-mini").calls, 2);
  EXPECT_EQ(group(model, "mystery-model").unpriced_calls, 1);
  EXPECT_EQ(group(model, "mystery-model").priced_calls, 0);

  Report user = run(GroupBy::kUser);
  EXPECT_EQ(group(user, "u1").calls, 4);
  EXPECT_EQ(group(user, "u2").calls, 2);
  Report session = run(GroupBy::kSession);
  EXPECT_EQ(group(session, "s1").calls, 4);
  EXPECT_EQ(group(session, "-").calls, 2);  // trace B names no session
  Report release = run(GroupBy::kRelease);
  EXPECT_NEAR(group(release, "v1").cost_usd, 0.023, 1e-12);
  EXPECT_NEAR(group(release, "v2").cost_usd, 0.020, 1e-12);
  Report workflow = run(GroupBy::kWorkflow);
  ASSERT_EQ(workflow.groups.size(), 1u);
  EXPECT_EQ(workflow.groups[0].key, "support");
  EXPECT_EQ(workflow.groups[0].calls, 6);
}

TEST_F(ReportOnStore, WindowAndFilters) {
  ReportOptions o;
  o.since = kT0 - 49 * kHour;
  o.until = kT0 + kHour;  // A and C, not B (starts exactly at until)
  Report r = run(GroupBy::kWorkflow, o);
  EXPECT_EQ(r.traces, 2);
  EXPECT_EQ(group(r, "old").calls, 1);
  std::string error;
  TraceSelection only_billing;
  only_billing.agent = "Billing";
  o.since = 0;
  o.until = kT0 + 48 * kHour;
  auto filtered = build_report(*source, o, &error, only_billing);
  ASSERT_TRUE(filtered) << error;
  EXPECT_EQ(filtered->traces, 1);
}

TEST_F(ReportOnStore, EmptyWindowIsAReportOfNothing) {
  ReportOptions o;
  o.since = kT0 + 100 * kHour;
  o.until = kT0 + 101 * kHour;
  Report r = run(GroupBy::kAgent, o);
  EXPECT_EQ(r.traces, 0);
  EXPECT_NE(format_report_text(r).find("no traces recorded in this window"), std::string::npos);
  auto j = report_json(r);
  EXPECT_EQ(j["traces"], 0);
  EXPECT_TRUE(j["totals"]["cost_usd"].is_null());
  EXPECT_EQ(report_csv(r),
            "agent,calls,errors,error_rate,p50_ms,p95_ms,p99_ms,input_tokens,cached_tokens,output_tokens,"
            "reasoning_tokens,cost_usd,cost_share,unpriced_calls\r\nTOTAL,0,0,0,0,0,0,0,0,0,0,,,0\r\n");
}

TEST_F(ReportOnStore, TextJsonAndCsv) {
  Report r = run(GroupBy::kAgent);
  std::string text = format_report_text(r);
  EXPECT_NE(text.find("llmtap report 2026-11-29 07:00:00 → 2026-11-30 07:00:00: 2 traces, 17 spans"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  AGENT    CALLS  ERRORS   ERR%   P50    P95    P99  INPUT  CACHED  OUTPUT  REASONING    "
                      "COST   SHARE  UNPRICED\n"
                      "  Triage       4       0   0.0%  60ms  300ms  300ms   4300     200     190         10  "
                      "$0.042   97.7%         1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  Triage  →  Billing      1          1"), std::string::npos) << text;
  EXPECT_NE(text.find("Handoffs: 1 of 2 traces (50.0%)"), std::string::npos) << text;
  EXPECT_NE(text.find("Possible loops (one tool 3+ times with the same arguments, or more than 25 model calls): 1"),
            std::string::npos)
      << text;

  auto j = report_json(r);
  EXPECT_EQ(j["group_by"], "agent");
  EXPECT_EQ(j["groups"][0]["key"], "Triage");
  EXPECT_EQ(j["groups"][0]["tokens"]["input"], 4300);
  EXPECT_NEAR(j["groups"][0]["cost_share"].get<double>(), 0.042 / 0.043, 1e-12);
  EXPECT_EQ(j["handoffs"]["paths"][0]["completed"], 1);
  EXPECT_EQ(j["trace_cost"]["top"][0]["trace_id"], "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  EXPECT_EQ(j["runs"]["loops"]["runs"][0]["reason"], "lookup_order x3 with the same arguments");
  EXPECT_EQ(j["window"]["since"], "2026-11-29T07:00:00Z");

  std::string csv = report_csv(r);
  EXPECT_NE(csv.find("Triage,4,0,0,60,300,300,4300,200,190,10,0.042,0.976744186,1\r\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("Billing,2,1,0.5,50,100,100,500,0,20,0,0.001,0.02325581395,0\r\n"), std::string::npos) << csv;
}

TEST_F(ReportOnStore, ControlCharactersInNamesAreEscaped) {
  TraceMaker t("dddddddddddddddddddddddddddddddd", kT0 + 2 * kHour, "evil\x1b[2J");
  std::string a = t.agent("Agent\x1b]0;pwned\x07\nX", 0, 10);
  usage(t.generation(a, "m\r", 0, 10), 1, 1, 0.5);
  ASSERT_EQ(write_store(path, {t.take()}), "");
  Report r = run(GroupBy::kAgent);
  std::string text = format_report_text(r);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_EQ(text.find('\x07'), std::string::npos);
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_NE(text.find("Agent\\x1b]0;pwned\\x07\\nX"), std::string::npos) << text;
  // CSV quotes what needs quoting and keeps the value as recorded.
  EXPECT_NE(report_csv(r).find("\"Agent\x1b]0;pwned\x07\nX\",1,"), std::string::npos);
}

// The report reads the store's per-trace projections (export/report_projection.h): every grouping
// gives exactly the report of the whole traces, on the hand-built traces and on synthetic ones.
TEST(ReportProjection, ReportOverProjectionsEqualsReportOverWholeTraces) {
  exporting::testing::TempDir dir;
  const std::string path = dir.path + "/traces.db";
  std::vector<Trace> traces = {trace_a(), trace_b(), trace_c()};
  std::mt19937 rng(7);
  for (int n = 0; n < 300; ++n) traces.push_back(synthetic_trace(n, rng));
  ASSERT_EQ(write_store(path, traces), "");
  std::string error;
  auto source = StoreTraceSource::open(path, &error);
  ASSERT_TRUE(source) << error;
  for (const char* by : {"agent", "tool", "model", "workflow", "user", "session", "release"}) {
    ReportOptions o;
    o.by = *parse_group_by(by);
    o.since = 0;
    o.until = kT0 + 400 * 24 * kHour;
    o.loop_repeats = 2;
    auto projected = build_report(*source, o, &error);
    ASSERT_TRUE(projected) << error;
    ReportBuilder whole(o);
    TraceSelection all;
    all.since = o.since, all.until = o.until, all.messages = true;
    ASSERT_EQ(source->for_each(all, [&](const Trace& t) { return whole.add(t), true; }), "");
    EXPECT_EQ(report_json(*projected).dump(), report_json(whole.finish()).dump()) << by;
  }
}

}  // namespace
}  // namespace llmtap::report
