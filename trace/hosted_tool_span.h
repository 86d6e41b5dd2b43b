#pragma once
// The tool span of a server-side tool call (Responses web_search_call, mcp_call, ...; Anthropic
// server_tool_use): the provider ran it within the response, so the span is complete at once, from
// when the item began in the stream to when it was done (not streamed: between the request's end and
// the response's first byte, when the provider ran it), with its arguments and result.
#include "common/model_call.h"
#include "trace/span_tree.h"

namespace llmtap::trace {

// Fills BASE (a tool node with its id, kind and parent) for TC, a server-side call of CALL's output.
SpanNode server_tool_node(SpanNode base, const ToolCall& tc, const ModelCall& call, bool capture_content);

}  // namespace llmtap::trace
