#include "trace/genai_content.h"

#include <nlohmann/json.hpp>

namespace llmtap::trace {

namespace {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Arguments are JSON text; keep them structured when they parse, as text otherwise.
json arguments_value(const std::string& text) {
  if (text.empty()) return json::object();
  auto parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded()) return text;
  return parsed;
}

json message_json(const Message& m) {
  json parts = json::array();
  if (m.role == "tool") {
    parts.push_back({{"type", "tool_call_response"}, {"id", m.tool_call_id}, {"response", m.text}});
  } else {
    if (!m.reasoning.empty()) parts.push_back({{"type", "reasoning"}, {"content", m.reasoning}});
    if (!m.text.empty()) parts.push_back({{"type", "text"}, {"content", m.text}});
    for (const auto& tc : m.tool_calls) {
      json part = {{"type", "tool_call"}, {"id", tc.id}, {"name", tc.name}, {"arguments", arguments_value(tc.arguments)}};
      if (!tc.tool_type.empty()) part["tool_type"] = tc.tool_type;
      parts.push_back(std::move(part));
      // A server-side tool's result came in the same response: the part that answers it follows.
      if (tc.server_side && (!tc.result.empty() || tc.result_error)) {
        json response = {{"type", "tool_call_response"}, {"id", tc.id}, {"response", tc.result}};
        if (tc.result_error) response["error"] = true;
        parts.push_back(std::move(response));
      }
    }
  }
  return {{"role", m.role}, {"parts", std::move(parts)}};
}

}  // namespace

std::string system_instructions_json(const std::string& instructions) {
  return dump(json::array({{{"type", "text"}, {"content", instructions}}}));
}

std::string input_messages_json(const std::vector<Message>& messages) {
  json out = json::array();
  for (const auto& m : messages) out.push_back(message_json(m));
  return dump(out);
}

std::string output_messages_json(const std::vector<Message>& messages,
                                 const std::vector<std::string>& finish_reasons) {
  json out = json::array();
  for (std::size_t i = 0; i < messages.size(); ++i) {
    json m = message_json(messages[i]);
    if (i < finish_reasons.size())
      m["finish_reason"] = finish_reasons[i];
    else if (finish_reasons.size() == 1)
      m["finish_reason"] = finish_reasons[0];
    out.push_back(std::move(m));
  }
  return dump(out);
}

}  // namespace llmtap::trace
