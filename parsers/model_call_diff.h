#pragma once
// Field-by-field comparison of two ModelCalls (differential tests and fuzzing of the parse paths):
// "" when equal, else the first differing field with both values.
#include <sstream>
#include <string>

#include "common/model_call.h"

namespace llmtap::testing {

namespace diff_detail {

inline void field(std::ostringstream& out, const std::string& name, const std::string& a, const std::string& b) {
  if (out.tellp() == 0 && a != b) out << name << ": \"" << a.substr(0, 200) << "\" vs \"" << b.substr(0, 200) << "\"";
}
template <class T>
void number(std::ostringstream& out, const std::string& name, T a, T b) {
  if (out.tellp() == 0 && a != b) out << name << ": " << static_cast<long long>(a) << " vs " << static_cast<long long>(b);
}
inline void tool_calls(std::ostringstream& out, const std::string& at, const std::vector<ToolCall>& a,
                       const std::vector<ToolCall>& b) {
  number(out, at + ".size", a.size(), b.size());
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    std::string p = at + "[" + std::to_string(i) + "].";
    field(out, p + "id", a[i].id, b[i].id);
    field(out, p + "name", a[i].name, b[i].name);
    field(out, p + "arguments", a[i].arguments, b[i].arguments);
    number(out, p + "ready_at", a[i].ready_at, b[i].ready_at);
    field(out, p + "tool_type", a[i].tool_type, b[i].tool_type);
    number(out, p + "server_side", a[i].server_side, b[i].server_side);
    field(out, p + "result", a[i].result, b[i].result);
    number(out, p + "result_error", a[i].result_error, b[i].result_error);
    number(out, p + "started_at", a[i].started_at, b[i].started_at);
  }
}
inline void messages(std::ostringstream& out, const std::string& at, const std::vector<Message>& a,
                     const std::vector<Message>& b) {
  number(out, at + ".size", a.size(), b.size());
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    std::string p = at + "[" + std::to_string(i) + "].";
    field(out, p + "role", a[i].role, b[i].role);
    field(out, p + "text", a[i].text, b[i].text);
    field(out, p + "reasoning", a[i].reasoning, b[i].reasoning);
    tool_calls(out, p + "tool_calls", a[i].tool_calls, b[i].tool_calls);
    field(out, p + "tool_call_id", a[i].tool_call_id, b[i].tool_call_id);
    field(out, p + "tool_name", a[i].tool_name, b[i].tool_name);
    number(out, p + "is_error", a[i].is_error, b[i].is_error);
    field(out, p + "name", a[i].name, b[i].name);
  }
}
inline void headers(std::ostringstream& out, const std::string& at, const Headers& a, const Headers& b) {
  number(out, at + ".size", a.size(), b.size());
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    field(out, at + "[" + std::to_string(i) + "].name", a[i].name, b[i].name);
    field(out, at + "[" + std::to_string(i) + "].value", a[i].value, b[i].value);
  }
}

}  // namespace diff_detail

inline std::string model_call_diff(const ModelCall& a, const ModelCall& b) {
  using namespace diff_detail;
  std::ostringstream out;
  number(out, "kind", static_cast<int>(a.kind), static_cast<int>(b.kind));
  field(out, "provider", a.provider, b.provider);
  field(out, "api", a.api, b.api);
  field(out, "operation", a.operation, b.operation);
  field(out, "host", a.host, b.host);
  field(out, "method", a.method, b.method);
  field(out, "path", a.path, b.path);
  field(out, "query", a.query, b.query);
  number(out, "http_status", a.http_status, b.http_status);
  number(out, "connection_id", a.connection_id, b.connection_id);
  number(out, "client_pid", a.client_pid, b.client_pid);
  field(out, "request_model", a.request_model, b.request_model);
  number(out, "stream", a.stream, b.stream);
  field(out, "system_instructions", a.system_instructions, b.system_instructions);
  messages(out, "input", a.input, b.input);
  number(out, "input_prefix.key", a.input_prefix.key, b.input_prefix.key);
  number(out, "input_prefix.elided_key", a.input_prefix.elided_key, b.input_prefix.elided_key);
  number(out, "input_prefix.elided_messages", a.input_prefix.elided_messages, b.input_prefix.elided_messages);
  number(out, "tools.size", a.tools.size(), b.tools.size());
  for (std::size_t i = 0; i < a.tools.size() && i < b.tools.size(); ++i) {
    field(out, "tools[" + std::to_string(i) + "].name", a.tools[i].name, b.tools[i].name);
    field(out, "tools[" + std::to_string(i) + "].schema_hash", a.tools[i].schema_hash, b.tools[i].schema_hash);
  }
  field(out, "tool_choice", a.tool_choice, b.tool_choice);
  field(out, "previous_response_id", a.previous_response_id, b.previous_response_id);
  field(out, "conversation_id", a.conversation_id, b.conversation_id);
  field(out, "service_tier", a.service_tier, b.service_tier);
  number(out, "n", a.n, b.n);
  headers(out, "request_headers", a.request_headers, b.request_headers);
  field(out, "traceparent", a.traceparent, b.traceparent);
  field(out, "attribution.user_id", a.attribution.user_id, b.attribution.user_id);
  field(out, "attribution.session_id", a.attribution.session_id, b.attribution.session_id);
  field(out, "attribution.prompt_cache_key", a.attribution.prompt_cache_key, b.attribution.prompt_cache_key);
  number(out, "attribution.metadata.size", a.attribution.metadata.size(), b.attribution.metadata.size());
  for (std::size_t i = 0; i < a.attribution.metadata.size() && i < b.attribution.metadata.size(); ++i) {
    field(out, "attribution.metadata.key", a.attribution.metadata[i].first, b.attribution.metadata[i].first);
    field(out, "attribution.metadata.value", a.attribution.metadata[i].second, b.attribution.metadata[i].second);
  }
  field(out, "response_model", a.response_model, b.response_model);
  field(out, "response_id", a.response_id, b.response_id);
  messages(out, "output", a.output, b.output);
  number(out, "finish_reasons.size", a.finish_reasons.size(), b.finish_reasons.size());
  for (std::size_t i = 0; i < a.finish_reasons.size() && i < b.finish_reasons.size(); ++i)
    field(out, "finish_reasons[" + std::to_string(i) + "]", a.finish_reasons[i], b.finish_reasons[i]);
  number(out, "usage.present", a.usage.present, b.usage.present);
  number(out, "usage.input_uncached", a.usage.input_uncached, b.usage.input_uncached);
  number(out, "usage.cache_read", a.usage.cache_read, b.usage.cache_read);
  number(out, "usage.cache_write_5m", a.usage.cache_write_5m, b.usage.cache_write_5m);
  number(out, "usage.cache_write_1h", a.usage.cache_write_1h, b.usage.cache_write_1h);
  number(out, "usage.output", a.usage.output, b.usage.output);
  number(out, "usage.reasoning", a.usage.reasoning, b.usage.reasoning);
  number(out, "timings.request_start", a.timings.request_start, b.timings.request_start);
  number(out, "timings.request_end", a.timings.request_end, b.timings.request_end);
  number(out, "timings.response_first_byte", a.timings.response_first_byte, b.timings.response_first_byte);
  number(out, "timings.first_content_chunk", a.timings.first_content_chunk, b.timings.first_content_chunk);
  number(out, "timings.response_end", a.timings.response_end, b.timings.response_end);
  number(out, "timings.content_end", a.timings.content_end, b.timings.content_end);
  number(out, "status", static_cast<int>(a.status), static_cast<int>(b.status));
  field(out, "error_type", a.error_type, b.error_type);
  field(out, "error_message", a.error_message, b.error_message);
  number(out, "truncated", a.truncated, b.truncated);
  number(out, "capture_gap", a.capture_gap, b.capture_gap);
  number(out, "state_only", a.state_only, b.state_only);
  return out.str();
}

}  // namespace llmtap::testing
