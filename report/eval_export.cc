#include "report/eval_export.h"

#include <algorithm>
#include <unordered_map>

#include "export/redactor.h"
#include "export/span_json.h"
#include "report/span_attrs.h"

namespace llmtap::report {
namespace {

using nlohmann::json;

// Content attributes are JSON text: embedded as JSON when they parse, as a string otherwise.
json content(const Span& s, std::string_view key) {
  const AttrValue* v = s.find(key);
  const auto* text = v ? std::get_if<std::string>(v) : nullptr;
  if (text == nullptr) return nullptr;
  auto j = json::parse(*text, nullptr, false);
  return j.is_discarded() ? json(*text) : j;
}

double ms(UnixNanos d) { return static_cast<double>(d) / 1e6; }

}  // namespace

json eval_case_json(const Trace& raw) {
  const Trace trace = exporting::Redactor().redact_trace(raw);
  json out = json::object();
  out["trace_id"] = trace.trace_id;
  if (trace.spans.empty()) return out;
  const Span& root = trace.spans.front();

  std::unordered_map<std::string_view, const Span*> by_id;
  for (const auto& s : trace.spans) by_id.emplace(s.span_id, &s);
  // A span is top-level unless a tool span is among its ancestors (an agent run as a tool).
  auto nested = [&](const Span& s) {
    const Span* cur = &s;
    for (std::size_t guard = 0; guard < trace.spans.size(); ++guard) {
      auto p = by_id.find(cur->parent_span_id);
      if (p == by_id.end()) return false;
      cur = p->second;
      if (cur->kind == SpanKind::kTool) return true;
    }
    return false;
  };
  auto agent_of = [&](const Span& s) {
    const Span* cur = &s;
    for (std::size_t guard = 0; guard < trace.spans.size(); ++guard) {
      auto p = by_id.find(cur->parent_span_id);
      if (p == by_id.end()) return std::string();
      cur = p->second;
      if (cur->kind == SpanKind::kAgent) return str_attr(*cur, "gen_ai.agent.name");
    }
    return std::string();
  };

  UnixNanos start = root.start_ns, end = root.end_ns;
  const Span* first = nullptr;
  const Span* last = nullptr;
  long model_calls = 0, unpriced = 0, errors = 0;
  double cost = 0;
  bool priced = false, content_recorded = false;
  json agents = json::array(), tools = json::array(), handoffs = json::array();
  for (const auto& s : trace.spans) {
    start = std::min(start, s.start_ns);
    end = std::max(end, s.end_ns);
    errors += s.error ? 1 : 0;
    switch (s.kind) {
      case SpanKind::kAgent:
        if (auto name = str_attr(s, "gen_ai.agent.name"); std::find(agents.begin(), agents.end(), name) == agents.end())
          agents.push_back(name);
        break;
      case SpanKind::kGeneration:
        ++model_calls;
        if (auto c = double_attr(s, "llm.cost.total")) cost += *c, priced = true;
        else if (s.find("gen_ai.usage.input_tokens")) ++unpriced;
        content_recorded |= s.find("gen_ai.input.messages") != nullptr;
        if (!nested(s)) {
          if (first == nullptr || s.start_ns < first->start_ns) first = &s;
          if (last == nullptr || s.end_ns >= last->end_ns) last = &s;
        }
        break;
      case SpanKind::kTool: {
        json t = {{"name", str_attr(s, "gen_ai.tool.name")},
                  {"agent", agent_of(s)},
                  {"duration_ms", ms(s.end_ns - s.start_ns)},
                  {"error", s.error}};
        if (auto id = str_attr(s, "gen_ai.tool.call.id"); !id.empty()) t["call_id"] = id;
        if (auto a = content(s, "gen_ai.tool.call.arguments"); !a.is_null()) t["arguments"] = a;
        if (auto r = content(s, "gen_ai.tool.call.result"); !r.is_null()) t["result"] = r;
        if (s.error && !s.status_message.empty()) t["error_message"] = s.status_message;
        if (s.find("llmtap.tool.unanswered")) t["unanswered"] = true;
        tools.push_back(std::move(t));
        break;
      }
      case SpanKind::kHandoff:
        handoffs.push_back({{"from", str_attr(s, "llmtap.handoff.from_agent")},
                            {"to", str_attr(s, "llmtap.handoff.to_agent")}});
        break;
      case SpanKind::kWorkflow:
      case SpanKind::kGuardrail:
        break;
    }
  }
  out["workflow"] = str_attr(root, "gen_ai.workflow.name");
  out["start_time_unix_nano"] = start;
  out["duration_ms"] = ms(end - start);
  out["cost_usd"] = priced ? json(cost) : json(nullptr);
  out["unpriced_calls"] = unpriced;
  out["model_calls"] = model_calls;
  out["error_count"] = errors;
  out["agents"] = agents;
  for (const char* key : {"user.id", "session.id", "gen_ai.conversation.id", "llmtap.release"})
    if (auto v = str_attr(root, key); !v.empty()) out[key] = v;
  json input = json::object();
  if (first) {
    if (auto sys = content(*first, "gen_ai.system_instructions"); !sys.is_null()) input["system_instructions"] = sys;
    if (auto msgs = content(*first, "gen_ai.input.messages"); !msgs.is_null()) input["messages"] = msgs;
  }
  out["input"] = input;
  out["tool_calls"] = tools;
  out["handoffs"] = handoffs;
  out["output"] = last ? content(*last, "gen_ai.output.messages") : json(nullptr);
  out["content_recorded"] = content_recorded;
  return out;
}

long export_eval_cases(const TraceSource& source, const TraceSelection& selection, std::FILE* out,
                       std::string* error, long limit) {
  TraceSelection sel = selection;
  sel.messages = true;
  long n = 0;
  std::string e = source.for_each(sel, [&](const Trace& t) {
    std::string line = exporting::dump_json(eval_case_json(t)) + "\n";
    std::fwrite(line.data(), 1, line.size(), out);
    ++n;
    return limit < 0 || n < limit;
  });
  if (!e.empty()) {
    if (error) *error = e;
    return -1;
  }
  return n;
}

}  // namespace llmtap::report
