#pragma once
// Test helpers: hand-made model calls, a fake pricer, a recording sink, and a canonical
// rendering of a trace's tree so tests can assert its shape.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "common/model_call.h"
#include "common/sinks.h"
#include "common/span.h"
#include "pricing/cost.h"

namespace llmtap::trace::testing {

inline constexpr UnixNanos kMs = 1'000'000;
inline constexpr UnixNanos kT0 = 1'700'000'000'000'000'000;

inline Message user(std::string text) { return Message{"user", std::move(text), "", {}, "", "", false}; }
inline Message system_msg(std::string text) { return Message{"system", std::move(text), "", {}, "", "", false}; }
inline Message assistant(std::string text, std::vector<ToolCall> calls = {}) {
  return Message{"assistant", std::move(text), "", std::move(calls), "", "", false};
}
inline Message tool_result(std::string call_id, std::string text, bool is_error = false) {
  return Message{"tool", std::move(text), "", {}, std::move(call_id), "", is_error};
}
inline ToolCall call(std::string id, std::string name, std::string args = "{}") {
  return ToolCall{std::move(id), std::move(name), std::move(args)};
}

// Prices every model in `per_token` at (input, output) picodollars per token; others are unpriced.
class FakePricer : public Pricer {
 public:
  std::map<std::string, std::pair<PicoUsd, PicoUsd>> per_token{{"gpt-test", {2'500'000, 10'000'000}}};
  PricedCall price(const ModelCall& c) const override {
    PricedCall p;
    p.table_version = "test-table-1";
    auto it = per_token.find(c.request_model);
    if (it == per_token.end() || !c.usage.present) return p;
    p.entry_id = it->first;
    p.cost = Cost{c.usage.input_total() * it->second.first, c.usage.output_total() * it->second.second};
    return p;
  }
};

class RecordingSink : public TraceSink {
 public:
  std::vector<Trace> traces;
  int flushes = 0;
  void on_trace(const Trace& t) override { traces.push_back(t); }
  void flush() override { ++flushes; }
};

// Counts what a benchmark emits without keeping it.
class CountingSink : public TraceSink {
 public:
  std::size_t traces = 0, spans = 0;
  void on_trace(const Trace& t) override {
    ++traces;
    spans += t.spans.size();
  }
};

// What the Chat parser makes of one distinct ~1 KB chat-completions call (as in the distinct-
// conversations benchmark: a new conversation each, every one answered with the same text).
inline ModelCall distinct_chat_call(int i, UnixNanos t) {
  ModelCall c;
  c.kind = ExchangeKind::kModelCall;
  c.provider = "openai";
  c.api = "chat";
  c.host = "api.openai.com";
  c.request_model = "gpt-test";
  c.response_model = "gpt-test-2024-07-18";
  c.response_id = "chatcmpl-" + std::to_string(1000000 + i);
  c.finish_reasons = {"stop"};
  c.http_status = 200;
  c.connection_id = static_cast<std::uint64_t>(i % 50);
  c.system_instructions = "You are a helpful assistant.";
  c.input = {system_msg(c.system_instructions),
             user("question " + std::to_string(i) + ": " + std::string(900, 'q'))};
  c.output = {assistant("an answer of a few words")};
  c.usage.present = true;
  c.usage.input_uncached = 250;
  c.usage.output = 6;
  c.timings = {t, t + 1000, t + 2000, 0, t + 3000, 0};
  return c;
}

inline const Span* find_span(const Trace& t, SpanKind kind, const std::string& name_prefix = "") {
  for (const auto& s : t.spans)
    if (s.kind == kind && s.name.rfind(name_prefix, 0) == 0) return &s;
  return nullptr;
}
inline std::vector<const Span*> spans_of(const Trace& t, SpanKind kind) {
  std::vector<const Span*> out;
  for (const auto& s : t.spans)
    if (s.kind == kind) out.push_back(&s);
  return out;
}
inline const Span* by_id(const Trace& t, const std::string& id) {
  for (const auto& s : t.spans)
    if (s.span_id == id) return &s;
  return nullptr;
}
template <class T>
const T* attr(const Span& s, const std::string& key) {
  const AttrValue* v = s.find(key);
  return v ? std::get_if<T>(v) : nullptr;
}
inline std::string str_attr(const Span& s, const std::string& key) {
  const auto* v = attr<std::string>(s, key);
  return v ? *v : std::string("<absent>");
}

// "workflow[agent:Triage Agent[generation,handoff:Triage Agent -> Billing Agent],...]": kinds,
// agent/handoff/tool names, children in start order (ties by name).
inline std::string shape(const Trace& t, const Span* node = nullptr) {
  if (node == nullptr) node = t.spans.empty() ? nullptr : &t.spans[0];
  if (node == nullptr) return "";
  std::string out(to_string(node->kind));
  if (node->kind == SpanKind::kAgent) out += ":" + str_attr(*node, "gen_ai.agent.name");
  if (node->kind == SpanKind::kTool) out += ":" + str_attr(*node, "gen_ai.tool.name");
  if (node->kind == SpanKind::kHandoff)
    out += ":" + str_attr(*node, "llmtap.handoff.from_agent") + "->" + str_attr(*node, "llmtap.handoff.to_agent");
  std::vector<const Span*> kids;
  for (const auto& s : t.spans)
    if (s.parent_span_id == node->span_id && &s != node) kids.push_back(&s);
  std::stable_sort(kids.begin(), kids.end(), [](const Span* a, const Span* b) {
    return a->start_ns != b->start_ns ? a->start_ns < b->start_ns : a->name < b->name;
  });
  if (!kids.empty()) {
    out += "[";
    for (std::size_t i = 0; i < kids.size(); ++i) out += (i ? "," : "") + shape(t, kids[i]);
    out += "]";
  }
  return out;
}

// An API-neutral agent run: each turn appends `new_input` to the history, sends it with the
// agent's instructions and tools, and gets `output` (one assistant message, Chat style).
struct Turn {
  std::string instructions;
  std::vector<std::string> tools;
  std::vector<Message> new_input;
  Message output;
  UnixNanos start = 0;
  UnixNanos end = 0;
  std::string model = "gpt-test";
  std::int64_t in_tokens = 100, out_tokens = 20;
};

enum class Form { kChat, kResponses, kResponsesChained, kAnthropic, kGemini };

// Renders turns the way each API (and its parser) presents them to trace reconstruction.
std::vector<ModelCall> render(const std::vector<Turn>& turns, Form form, const std::string& run_tag = "r");

}  // namespace llmtap::trace::testing
