#include "report/report_test_traces.h"

#include <chrono>
#include <cstdio>
#include <filesystem>

#include <cstdio>
#include <random>

#include "export/sqlite_store.h"

namespace llmtap::report::testing {

TraceMaker::TraceMaker(std::string trace_id, UnixNanos start, const std::string& workflow) : start_(start) {
  trace_.trace_id = std::move(trace_id);
  Span& r = add(SpanKind::kWorkflow, "", "invoke_workflow " + workflow, 0, 0);
  r.set("gen_ai.workflow.name", workflow);
}

Span& TraceMaker::add(SpanKind kind, const std::string& parent, std::string name, int from_ms, int to_ms) {
  char id[20];
  std::snprintf(id, sizeof id, "%016x", next_++);
  Span s;
  s.trace_id = trace_.trace_id;
  s.span_id = id;
  s.parent_span_id = parent.empty() && !trace_.spans.empty() ? trace_.spans.front().span_id : parent;
  s.kind = kind;
  s.name = std::move(name);
  s.start_ns = start_ + from_ms * kMs;
  s.end_ns = start_ + to_ms * kMs;
  s.set("llmtap.span.kind", std::string(to_string(kind)));
  trace_.spans.push_back(std::move(s));
  Span& root = trace_.spans.front();
  root.end_ns = std::max(root.end_ns, start_ + to_ms * kMs);
  return trace_.spans.back();
}

std::string TraceMaker::agent(const std::string& name, int from_ms, int to_ms, const std::string& parent) {
  Span& s = add(SpanKind::kAgent, parent, "invoke_agent " + name, from_ms, to_ms);
  s.set("gen_ai.agent.name", name);
  return s.span_id;
}

Span& TraceMaker::generation(const std::string& parent, const std::string& model, int from_ms, int to_ms) {
  Span& s = add(SpanKind::kGeneration, parent, "chat " + model, from_ms, to_ms);
  s.set("gen_ai.request.model", model);
  s.set("gen_ai.response.model", model);
  return s;
}

Span& TraceMaker::tool(const std::string& parent, const std::string& name, int from_ms, int to_ms,
                       const std::string& args) {
  Span& s = add(SpanKind::kTool, parent, "execute_tool " + name, from_ms, to_ms);
  s.set("gen_ai.tool.name", name);
  if (!args.empty()) s.set("gen_ai.tool.call.arguments", args);
  return s;
}

Span& TraceMaker::handoff(const std::string& parent, const std::string& from, const std::string& to, int from_ms,
                          int to_ms) {
  Span& s = add(SpanKind::kHandoff, parent, "handoff " + from + " -> " + to, from_ms, to_ms);
  s.set("llmtap.handoff.from_agent", from);
  s.set("llmtap.handoff.to_agent", to);
  return s;
}

void usage(Span& gen, std::int64_t input, std::int64_t output, double cost, std::int64_t cached,
           std::int64_t reasoning) {
  gen.set("gen_ai.usage.input_tokens", input);
  gen.set("gen_ai.usage.output_tokens", output);
  gen.set("gen_ai.usage.cache_read.input_tokens", cached);
  gen.set("gen_ai.usage.reasoning.output_tokens", reasoning);
  if (cost >= 0) gen.set("llm.cost.total", cost);
}

Trace trace_a() {
  TraceMaker t("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", kT0, "support");
  t.root().set("user.id", std::string("u1"));
  t.root().set("session.id", std::string("s1"));
  t.root().set("llmtap.release", std::string("v1"));
  std::string triage = t.agent("Triage", 0, 205);
  usage(t.generation(triage, "gpt-4o", 0, 100), 1000, 50, 0.010, 200, 10);
  t.tool(triage, "lookup_order", 100, 140, R"({"id":1})");
  usage(t.generation(triage, "gpt-4o", 140, 200), 1200, 30, 0.012);
  t.handoff(triage, "Triage", "Billing", 200, 205);
  std::string billing = t.agent("Billing", 205, 455);
  usage(t.generation(billing, "gpt-4o-mini", 205, 305), 500, 20, 0.001);
  Span& refund = t.tool(billing, "refund", 305, 405, R"({"order":1})");
  refund.error = true;
  refund.status_message = "order not found";
  Span& failed = t.generation(billing, "gpt-4o-mini", 405, 455);
  failed.error = true;
  failed.status_message = "rate limited";
  return t.take();
}

Trace trace_b() {
  TraceMaker t("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", kT0 + kHour, "support");
  t.root().set("user.id", std::string("u2"));
  t.root().set("llmtap.release", std::string("v2"));
  std::string triage = t.agent("Triage", 0, 400);
  usage(t.generation(triage, "gpt-4o", 0, 300), 2000, 100, 0.020);
  t.tool(triage, "lookup_order", 300, 320, R"({"id":7})");
  t.tool(triage, "lookup_order", 300, 330, R"({"id":7})");
  t.tool(triage, "lookup_order", 300, 340, R"({"id":7})");
  usage(t.generation(triage, "mystery-model", 340, 400), 100, 10, -1);
  return t.take();
}

Trace trace_c() {
  TraceMaker t("cccccccccccccccccccccccccccccccc", kT0 - 48 * kHour, "old");
  std::string a = t.agent("Triage", 0, 10);
  usage(t.generation(a, "gpt-4o", 0, 10), 5, 5, 5.0);
  return t.take();
}

Trace synthetic_trace(int n, std::mt19937& rng) {
  char id[40];
  std::snprintf(id, sizeof id, "%032x", n + 1);
  const UnixNanos start = kT0 + static_cast<UnixNanos>(n) * 500 * kMs;
  TraceMaker t(id, start, n % 3 ? "support" : "billing-batch");
  t.root().set("user.id", "u" + std::to_string(rng() % 500));
  t.root().set("session.id", "s" + std::to_string(n / 4));
  t.root().set("llmtap.release", std::string(n % 2 ? "v1.4.2" : "v1.5.0"));
  const int d = static_cast<int>(rng() % 400);
  std::string triage = t.agent("Triage Agent", 0, 200 + d);
  usage(t.generation(triage, "gpt-4.1-mini", 0, 80 + d / 2), 900 + d, 40, 0.0004, 256);
  t.tool(triage, "lookup_order", 80 + d / 2, 120 + d / 2, "{\"order\":" + std::to_string(rng() % 3) + "}");
  usage(t.generation(triage, "gpt-4.1-mini", 120 + d / 2, 200 + d), 1100 + d, 30, 0.0005);
  t.handoff(triage, "Triage Agent", "Billing Agent", 200 + d, 201 + d);
  std::string billing = t.agent("Billing Agent", 201 + d, 500 + d);
  usage(t.generation(billing, n % 7 ? "gpt-4.1" : "unknown-model", 201 + d, 300 + d), 1500, 60,
                 n % 7 ? 0.002 : -1);
  Span& refund = t.tool(billing, "issue_refund", 300 + d, 360 + d, "{\"amount\":10}");
  refund.error = rng() % 20 == 0;
  usage(t.generation(billing, "gpt-4.1", 360 + d, 500 + d), 1700, 80, 0.003);
  return t.take();
}

std::string write_store(const std::string& path, const std::vector<Trace>& traces) {
  std::string error;
  auto store = exporting::SqliteStore::open(path, &error);
  if (!store) return error;
  for (const auto& t : traces) store->on_trace(t);
  return "";
}

std::string ensure_synthetic_store(const std::string& dir, long spans) {
  const std::string path = dir + "/traces.db";
  if (std::filesystem::exists(path)) return "";
  const int traces = static_cast<int>(spans / 10);
  const auto t0 = std::chrono::steady_clock::now();
  {
    std::string error;
    auto store = exporting::SqliteStore::open(path, &error);
    if (!store) return error;
    std::mt19937 rng(42);
    for (int n = 0; n < traces; ++n) store->on_trace(synthetic_trace(n, rng));
    store->flush();
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("store: wrote %d traces (%ld spans) in %.1f s (%.0f traces/s)\n", traces, static_cast<long>(traces) * 10,
              s, traces / s);
  std::fflush(stdout);
  return "";
}

}  // namespace llmtap::report::testing
