#pragma once
// Generated coding-agent request bodies (many turns of text, tool calls and tool results, a tool
// list, attribution fields) of about `target_bytes`, for parser_bench and the differential tests.
#include <cstddef>
#include <string>

namespace llmtap::testing {

inline std::string gen_turn_text(int i) {
  std::string t = "Turn " + std::to_string(i) +
                  ": please refactor \\\"parse_request\\\" in src/\\u00e9t\\u00e9/parser.cc, keep the tests green.\\n"
                  "```cpp\\nint main() { return 0; }\\n```\\n";
  while (t.size() < 600) t += "lorem ipsum dolor sit amet, consectetur adipiscing elit \\u2014 ";
  return t;
}

inline std::string gen_tools_json() {
  return "[{\"type\":\"function\",\"function\":{\"name\":\"read_file\",\"parameters\":{\"type\":\"object\","
         "\"properties\":{\"path\":{\"type\":\"string\"}},\"required\":[\"path\"]}}},"
         "{\"type\":\"function\",\"function\":{\"name\":\"run\",\"parameters\":{\"type\":\"object\","
         "\"properties\":{\"cmd\":{\"type\":\"string\"},\"timeout\":{\"type\":\"number\",\"default\":1.5}}}}}]";
}

// Chat Completions: system, then user / assistant+tool_calls / tool result turns.
inline std::string chat_history_body(std::size_t target_bytes) {
  std::string b = "{\"model\":\"gpt-4.1\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                  "\"temperature\":0.2,\"user\":\"u-1\",\"metadata\":{\"b\":\"2\",\"a\":\"1\"},\"tools\":" +
                  gen_tools_json() + ",\"tool_choice\":\"auto\",\"messages\":[{\"role\":\"system\",\"content\":\"You are a coding agent.\"}";
  for (int i = 0; b.size() < target_bytes; ++i) {
    std::string id = "call_" + std::to_string(i);
    b += ",{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"" + gen_turn_text(i) + "\"}]}";
    b += ",{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"" + id +
         "\",\"type\":\"function\",\"function\":{\"name\":\"read_file\",\"arguments\":\"{\\\"path\\\":\\\"src/f" +
         std::to_string(i) + ".cc\\\"}\"}}]}";
    b += ",{\"role\":\"tool\",\"tool_call_id\":\"" + id + "\",\"content\":\"" + gen_turn_text(i + 1) + "\"}";
    b += ",{\"role\":\"assistant\",\"content\":\"Done with step " + std::to_string(i) + ".\"}";
  }
  return b + "]}";
}

// Responses: instructions, then message / function_call / function_call_output / reasoning items.
inline std::string responses_history_body(std::size_t target_bytes) {
  std::string b = "{\"model\":\"gpt-5\",\"stream\":true,\"instructions\":\"You are a coding agent.\","
                  "\"prompt_cache_key\":\"k-1\",\"tools\":[{\"type\":\"function\",\"name\":\"shell\",\"parameters\":"
                  "{\"type\":\"object\",\"properties\":{\"command\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}},"
                  "{\"type\":\"web_search\"}],\"tool_choice\":\"auto\",\"input\":[";
  for (int i = 0; b.size() < target_bytes; ++i) {
    std::string id = "call_" + std::to_string(i);
    if (i) b += ",";
    b += "{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"" + gen_turn_text(i) + "\"}]}";
    b += ",{\"type\":\"reasoning\",\"summary\":[{\"type\":\"summary_text\",\"text\":\"Thinking about step " +
         std::to_string(i) + "\"}],\"encrypted_content\":\"gAAAAB" + std::string(200, 'x') + "\"}";
    b += ",{\"type\":\"function_call\",\"call_id\":\"" + id + "\",\"name\":\"shell\",\"arguments\":\"{\\\"command\\\":[\\\"ls\\\",\\\"-la\\\"]}\"}";
    b += ",{\"type\":\"function_call_output\",\"call_id\":\"" + id + "\",\"output\":\"" + gen_turn_text(i + 1) + "\"}";
    b += ",{\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\"Step " +
         std::to_string(i) + " done.\"}]}";
  }
  return b + "]}";
}

// Anthropic Messages: system blocks, then user text / assistant text+tool_use / user tool_result turns.
inline std::string anthropic_history_body(std::size_t target_bytes) {
  std::string b = "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":8192,\"stream\":true,\"metadata\":{\"user_id\":\"u-1\"},"
                  "\"system\":[{\"type\":\"text\",\"text\":\"You are a coding agent.\",\"cache_control\":{\"type\":\"ephemeral\"}}],"
                  "\"tools\":[{\"name\":\"bash\",\"input_schema\":{\"type\":\"object\",\"properties\":{\"command\":{\"type\":\"string\"}}}}],"
                  "\"tool_choice\":{\"type\":\"auto\"},\"messages\":[";
  for (int i = 0; b.size() < target_bytes; ++i) {
    std::string id = "toolu_" + std::to_string(i);
    if (i) b += ",";
    b += "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"" + gen_turn_text(i) + "\"}]}";
    b += ",{\"role\":\"assistant\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"Step " + std::to_string(i) +
         "\",\"signature\":\"" + std::string(120, 's') + "\"},{\"type\":\"text\",\"text\":\"Running it.\"},"
         "{\"type\":\"tool_use\",\"id\":\"" + id + "\",\"name\":\"bash\",\"input\":{\"command\":\"ls -la src/" +
         std::to_string(i) + "\"}}]}";
    b += ",{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"" + id +
         "\",\"content\":[{\"type\":\"text\",\"text\":\"" + gen_turn_text(i + 1) + "\"}]}]}";
  }
  return b + "]}";
}

}  // namespace llmtap::testing
