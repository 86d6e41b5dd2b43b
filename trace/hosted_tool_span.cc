#include "trace/hosted_tool_span.h"

#include <algorithm>

namespace llmtap::trace {

namespace {
constexpr std::size_t kMaxStatusMessage = 512;

bool within(UnixNanos t, const ModelCall& call) {
  const UnixNanos end = call.timings.response_end != 0 ? call.timings.response_end : call.timings.content_end;
  return t != 0 && t >= call.timings.request_start && (end == 0 || t <= end);
}
}  // namespace

SpanNode server_tool_node(SpanNode n, const ToolCall& tc, const ModelCall& call, bool capture_content) {
  const Timings& tm = call.timings;
  const UnixNanos sent = tm.request_end != 0 ? tm.request_end : tm.request_start;
  UnixNanos start = within(tc.started_at, call) ? tc.started_at : sent;
  UnixNanos end = within(tc.ready_at, call) ? tc.ready_at : tm.response_first_byte;
  if (!within(tc.started_at, call) && within(tc.ready_at, call)) start = std::min(sent, tc.ready_at);
  n.span.start_ns = start;
  n.span.end_ns = std::max(start, end);
  n.span.name = "execute_tool " + tc.name;
  n.span.set("gen_ai.operation.name", std::string("execute_tool"));
  n.span.set("gen_ai.tool.name", tc.name);
  n.span.set("gen_ai.tool.type", tc.tool_type.empty() ? std::string("extension") : tc.tool_type);
  n.span.set("llmtap.tool.server_side", true);
  if (!tc.id.empty()) n.span.set("gen_ai.tool.call.id", tc.id);
  if (capture_content) {
    n.span.set("gen_ai.tool.call.arguments", tc.arguments);
    if (!tc.result.empty()) n.span.set("gen_ai.tool.call.result", tc.result);
  }
  if (tc.result_error) {
    n.span.error = true;
    n.span.status_message = capture_content && !tc.result.empty() ? tc.result.substr(0, kMaxStatusMessage)
                                                                  : std::string("the provider reported the tool failed");
  }
  return n;
}

}  // namespace llmtap::trace
