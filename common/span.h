#pragma once
// Reconstructed spans, as trace/ builds them and export/ writes them. Attribute names follow
// ../shared/SPEC.md (OpenTelemetry GenAI conventions plus llmtap.*).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/clock.h"

namespace llmtap {

using AttrValue = std::variant<std::string, std::int64_t, double, bool, std::vector<std::string>>;

struct Attribute {
  std::string key;
  AttrValue value;
};

enum class SpanKind { kWorkflow, kAgent, kGeneration, kTool, kHandoff, kGuardrail };

inline std::string_view to_string(SpanKind k) {
  switch (k) {
    case SpanKind::kWorkflow: return "workflow";
    case SpanKind::kAgent: return "agent";
    case SpanKind::kGeneration: return "generation";
    case SpanKind::kTool: return "tool";
    case SpanKind::kHandoff: return "handoff";
    case SpanKind::kGuardrail: return "guardrail";
  }
  return "unknown";
}

// A timed event on a span (OTLP Span.Event), e.g. an alert the trace set off. Only closed traces
// carry events: an open trace's spans (trace/open_span.h) have none, and cost nothing for them.
struct SpanEvent {
  std::string name;
  UnixNanos time_ns = 0;
  std::vector<Attribute> attributes;
};

// An OTLP span link: this span relates to another span, possibly of another trace (a conversation's
// earlier trace, the caller's span named by a traceparent the trace did not adopt).
struct SpanLink {
  std::string trace_id;  // 32 lowercase hex
  std::string span_id;   // 16 lowercase hex
  std::vector<Attribute> attributes;
};

struct Span {
  std::string trace_id;        // 32 lowercase hex
  std::string span_id;         // 16 lowercase hex
  std::string parent_span_id;  // empty for a root (or the remote parent from traceparent)
  std::string name;
  SpanKind kind = SpanKind::kGeneration;
  UnixNanos start_ns = 0;
  UnixNanos end_ns = 0;
  bool error = false;
  std::string status_message;  // provider's message when error
  std::vector<Attribute> attributes;
  std::vector<SpanEvent> events;  // in time order; usually none
  std::vector<SpanLink> links;

  const AttrValue* find(std::string_view key) const {
    for (const auto& a : attributes)
      if (a.key == key) return &a.value;
    return nullptr;
  }
  template <class T>
  void set(std::string key, T value) {
    for (auto& a : attributes)
      if (a.key == key) { a.value = AttrValue(std::move(value)); return; }
    attributes.push_back({std::move(key), AttrValue(std::move(value))});
  }
};

// A finished run: the root workflow span first, then the rest in start order.
struct Trace {
  std::string trace_id;
  std::vector<Span> spans;
};

}  // namespace llmtap
