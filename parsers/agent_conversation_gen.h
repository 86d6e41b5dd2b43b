#pragma once
// A coding agent's long conversation as raw HTTP exchanges (Anthropic Messages, as Claude Code sends
// it): every turn's request re-sends the whole history (system, tools, user prompt, then per turn
// the assistant's Read tool_use and the user's tool_result of ~`result_bytes` of file text), and
// every response streams the next Read call. For the large-context bench (bench/) and its test.
#include <cstddef>
#include <string>

namespace llmtap::testing {

class AgentConversation {
 public:
  explicit AgentConversation(std::size_t result_bytes) : result_bytes_(result_bytes) {}

  // The request body of the current turn: the whole history.
  std::string request_body() const { return head() + messages_ + "]}"; }
  std::string http_request(const std::string& body) const {
    return http("POST /v1/messages HTTP/1.1\r\nHost: api.anthropic.com\r\nx-api-key: sk-ant-SECRET\r\n"
                "anthropic-version: 2023-06-01\r\nContent-Type: application/json\r\n", body);
  }
  // The streamed answer of turn `turn` (1-based): a short text, then a Read of src/file<turn>.cc.
  std::string http_response(int turn) const {
    return http("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n", sse_response(turn));
  }
  // Appends turn `turn`'s answer and its tool result to the history.
  void next_turn(int turn) {
    const std::string n = std::to_string(turn);
    messages_ += ",{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"Reading src/file" + n +
                 ".cc.\"},{\"type\":\"tool_use\",\"id\":\"toolu_" + n + "\",\"name\":\"Read\",\"input\":{\"path\":"
                 "\"src/file" + n + ".cc\"}}]},{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":"
                 "\"toolu_" + n + "\",\"content\":\"" + file_content_json(turn) + "\"}]}";
  }
  std::size_t history_capacity() const { return messages_.capacity(); }

 private:
  static std::string head() {
    return "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":32000,\"stream\":true,\"system\":[{\"type\":\"text\","
           "\"text\":\"You are Claude Code, a coding agent. Use the tools to read and edit files.\",\"cache_control\":"
           "{\"type\":\"ephemeral\"}}],\"tools\":[{\"name\":\"Read\",\"input_schema\":{\"type\":\"object\",\"properties\":"
           "{\"path\":{\"type\":\"string\"}}}},{\"name\":\"Edit\",\"input_schema\":{\"type\":\"object\",\"properties\":"
           "{\"path\":{\"type\":\"string\"},\"old\":{\"type\":\"string\"},\"new\":{\"type\":\"string\"}}}},{\"name\":"
           "\"Bash\",\"input_schema\":{\"type\":\"object\",\"properties\":{\"command\":{\"type\":\"string\"}}}}],"
           "\"messages\":[";
  }

  static std::string http(const std::string& head, const std::string& body) {
    return head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  // ~result_bytes_ of source text, JSON-escaped (newlines as \n, quotes as \").
  std::string file_content_json(int turn) const {
    std::string s;
    s.reserve(result_bytes_ + 120);
    for (int line = 0; s.size() < result_bytes_; ++line)
      s += "    int value_" + std::to_string(turn) + "_" + std::to_string(line) + " = compute(" + std::to_string(line) +
           ", \\\"src/file" + std::to_string(turn) + ".cc\\\");\\n";
    return s;
  }

  static std::string sse_response(int turn) {
    const std::string n = std::to_string(turn);
    return "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_" + n +
           "\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],"
           "\"usage\":{\"input_tokens\":" + std::to_string(1000 + turn * 1700) + ",\"output_tokens\":1}}}\n\n"
           "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
           "{\"type\":\"text\",\"text\":\"\"}}\n\n"
           "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
           "\"text_delta\",\"text\":\"Reading src/file" + n + ".cc.\"}}\n\n"
           "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
           "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":"
           "{\"type\":\"tool_use\",\"id\":\"toolu_" + n + "\",\"name\":\"Read\",\"input\":{}}}\n\n"
           "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":"
           "\"input_json_delta\",\"partial_json\":\"{\\\"path\\\":\\\"src/file" + n + ".cc\\\"}\"}}\n\n"
           "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
           "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},"
           "\"usage\":{\"output_tokens\":50}}\n\n"
           "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  }

  std::size_t result_bytes_;
  std::string messages_ = "{\"role\":\"user\",\"content\":\"Refactor the project's compute() calls.\"}";
};

}  // namespace llmtap::testing
