#include "export/report_projection.h"

#include <algorithm>
#include <array>
#include <cstdio>

namespace llmtap::exporting {
namespace {

// What report/report.cc, report/trace_overview.cc and report/span_agents.cc read.
constexpr std::array<std::string_view, 18> kReportKeys = {
    "gen_ai.workflow.name",          "gen_ai.agent.name",
    "gen_ai.conversation.id",        "user.id",
    "session.id",                    "llmtap.release",
    "gen_ai.request.model",          "gen_ai.response.model",
    "gen_ai.usage.input_tokens",     "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.output_tokens",    "gen_ai.usage.reasoning.output_tokens",
    "llm.cost.total",                "gen_ai.tool.name",
    "gen_ai.tool.call.arguments",    "llmtap.tool.unanswered",
    "llmtap.handoff.from_agent",     "llmtap.handoff.to_agent",
};

// 64-bit FNV-1a: stable across builds (it is stored), and two different arguments colliding is as
// likely as 2^-64.
std::string fingerprint(std::string_view text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
  char buf[24];
  std::snprintf(buf, sizeof buf, "#%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace

bool is_report_key(std::string_view key) {
  return std::find(kReportKeys.begin(), kReportKeys.end(), key) != kReportKeys.end();
}

Trace report_projection(const Trace& trace) {
  Trace out;
  out.trace_id = trace.trace_id;
  out.spans.reserve(trace.spans.size());
  for (const Span& s : trace.spans) {
    Span p;
    p.trace_id = s.trace_id;
    p.span_id = s.span_id;
    p.parent_span_id = s.parent_span_id;
    p.name = s.name;
    p.kind = s.kind;
    p.start_ns = s.start_ns;
    p.end_ns = s.end_ns;
    p.error = s.error;
    for (const Attribute& a : s.attributes) {
      if (!is_report_key(a.key)) continue;
      p.attributes.push_back(a);
      // Arguments are compared, never shown: equal arguments keep equal fingerprints, and "" stays ""
      // (the report tells unrecorded arguments apart).
      if (a.key == "gen_ai.tool.call.arguments")
        if (auto* text = std::get_if<std::string>(&p.attributes.back().value); text && !text->empty())
          *text = fingerprint(*text);
    }
    out.spans.push_back(std::move(p));
  }
  return out;
}

bool encode_report_projection(const Trace& trace, KeyTable& keys, std::string& out) {
  return encode_report_projection(trace, [&](std::string_view k) { return keys.id_for(k); }, out);
}

bool encode_report_projection(const Trace& trace, const std::function<std::int64_t(std::string_view)>& key_id,
                              std::string& out) {
  out.clear();
  return codec::encode_compact_trace(report_projection(trace), key_id, out);
}

bool decode_report_projection(std::string_view blob, KeyTable& keys, Trace& out) {
  std::uint64_t unknown = 0;
  if (codec::decode_compact_trace(blob, keys.dictionary(), out, &unknown)) return true;
  // Another process may have added keys since this connection read the table.
  if (keys.dictionary().key(unknown) != nullptr || !keys.load()) return false;
  return codec::decode_compact_trace(blob, keys.dictionary(), out, nullptr);
}

}  // namespace llmtap::exporting
