#pragma once
// Generated response bodies of about `target_bytes` for every API with a fast path: a streamed
// answer (SSE, many small delta events as providers send them) and a non-streamed one (one long
// text), plus a Gemini request history, for parser_bench and the differential tests.
#include <cstddef>
#include <string>

#include "parsers/request_body_gen.h"

namespace llmtap::testing {

// A token of streamed text (JSON-escaped): words, an escaped quote and a non-ASCII letter now and then.
inline std::string gen_token(int i) {
  switch (i % 7) {
    case 0: return "token" + std::to_string(i) + " ";
    case 3: return "\\\"quoted\\\" ";
    case 5: return "caf\\u00e9 ";
    default: return "lorem" + std::to_string(i % 100) + " ";
  }
}

inline std::string gen_long_text(std::size_t target_bytes) {
  std::string text;
  for (int i = 0; text.size() < target_bytes; ++i) text += gen_token(i);
  return text;
}

inline std::string chat_stream_body(std::size_t target_bytes) {
  std::string body;
  for (int i = 0; body.size() < target_bytes; ++i) {
    body += "data: {\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\",\"created\":1,"
            "\"model\":\"gpt-4.1-2025-04-14\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_1\",\"choices\":"
            "[{\"index\":0,\"delta\":{\"content\":\"" + gen_token(i) + "\"},\"logprobs\":null,\"finish_reason\":null}],"
            "\"usage\":null}\n\n";
  }
  body += "data: {\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"choices\":[{\"index\":0,\"delta\":{},"
          "\"finish_reason\":\"stop\"}],\"usage\":null}\n\n";
  body += "data: {\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,"
          "\"completion_tokens\":99,\"prompt_tokens_details\":{\"cached_tokens\":0}}}\n\n";
  return body + "data: [DONE]\n\n";
}

inline std::string chat_json_body(std::size_t target_bytes) {
  return "{\"id\":\"chatcmpl-J\",\"object\":\"chat.completion\",\"model\":\"gpt-4.1\",\"choices\":[{\"index\":0,"
         "\"message\":{\"role\":\"assistant\",\"content\":\"" + gen_long_text(target_bytes) +
         "\",\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"run\",\"arguments\":"
         "\"{\\\"cmd\\\":\\\"ls\\\"}\"}}]},\"finish_reason\":\"tool_calls\"}],"
         "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":99}}";
}

inline std::string responses_usage_json() {
  return "{\"input_tokens\":10,\"input_tokens_details\":{\"cached_tokens\":4},\"output_tokens\":99,"
         "\"output_tokens_details\":{\"reasoning_tokens\":7},\"total_tokens\":109}";
}

inline std::string responses_stream_body(std::size_t target_bytes) {
  const std::string item = "msg_68a1f0c2d3e4f5a6b7c8d9e0";
  std::string body =
      "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":"
      "\"resp_1\",\"object\":\"response\",\"status\":\"in_progress\",\"model\":\"gpt-5\",\"output\":[]}}\n\n"
      "event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"sequence_number\":1,"
      "\"output_index\":0,\"item\":{\"id\":\"" + item + "\",\"type\":\"message\",\"status\":\"in_progress\",\"role\":"
      "\"assistant\",\"content\":[]}}\n\n";
  std::string text;
  for (int i = 0; body.size() < target_bytes; ++i) {
    text += gen_token(i);
    body += "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":" +
            std::to_string(i + 2) + ",\"item_id\":\"" + item + "\",\"output_index\":0,\"content_index\":0,\"delta\":\"" +
            gen_token(i) + "\",\"logprobs\":[],\"obfuscation\":\"Xq3\"}\n\n";
  }
  // The terminal event repeats the whole response (and so the text), as the API does.
  body += "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\",\"object\":"
          "\"response\",\"status\":\"completed\",\"model\":\"gpt-5\",\"output\":[{\"id\":\"" + item +
          "\",\"type\":\"message\",\"status\":\"completed\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\","
          "\"annotations\":[],\"text\":\"" + text + "\"}]}],\"usage\":" + responses_usage_json() + "}}\n\n";
  return body;
}

inline std::string responses_json_body(std::size_t target_bytes) {
  return "{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"completed\",\"model\":\"gpt-5\",\"output\":["
         "{\"type\":\"reasoning\",\"summary\":[{\"type\":\"summary_text\",\"text\":\"Thinking.\"}]},"
         "{\"type\":\"function_call\",\"call_id\":\"call_1\",\"name\":\"shell\",\"arguments\":\"{\\\"command\\\":[\\\"ls\\\"]}\"},"
         "{\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"annotations\":[],\"text\":\"" +
         gen_long_text(target_bytes) + "\"}]}],\"usage\":" + responses_usage_json() + "}";
}

inline std::string anthropic_stream_body(std::size_t target_bytes) {
  std::string body =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\","
      "\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],\"stop_reason\":null,\"usage\":"
      "{\"input_tokens\":10,\"cache_read_input_tokens\":5,\"output_tokens\":1}}}\n\n"
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":"
      "\"text\",\"text\":\"\"}}\n\n";
  for (int i = 0; body.size() < target_bytes; ++i) {
    body += "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
            "\"text_delta\",\"text\":\"" + gen_token(i) + "\"}}\n\n";
  }
  return body +
         "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
         "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":"
         "\"tool_use\",\"id\":\"toolu_1\",\"name\":\"bash\",\"input\":{}}}\n\n"
         "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":"
         "\"input_json_delta\",\"partial_json\":\"{\\\"command\\\": \\\"ls\\\"}\"}}\n\n"
         "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
         "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":"
         "{\"output_tokens\":99}}\n\n"
         "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
}

inline std::string anthropic_json_body(std::size_t target_bytes) {
  return "{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\","
         "\"content\":[{\"type\":\"thinking\",\"thinking\":\"Plan.\",\"signature\":\"EqQB\"},{\"type\":\"text\",\"text\":\"" +
         gen_long_text(target_bytes) + "\"},{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"bash\",\"input\":"
         "{\"command\":\"ls\"}}],\"stop_reason\":\"tool_use\",\"usage\":{\"input_tokens\":10,\"output_tokens\":99,"
         "\"service_tier\":\"standard\"}}";
}

inline std::string gemini_usage_json(int out) {
  return "{\"promptTokenCount\":10,\"candidatesTokenCount\":" + std::to_string(out) +
         ",\"totalTokenCount\":" + std::to_string(10 + out) + ",\"thoughtsTokenCount\":3}";
}

// Gemini streamGenerateContent?alt=sse: chunks of a few tokens each.
inline std::string gemini_stream_body(std::size_t target_bytes) {
  std::string body;
  for (int i = 0; body.size() < target_bytes; ++i) {
    std::string text;
    for (int k = 0; k < 4; ++k) text += gen_token(4 * i + k);
    body += "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"" + text +
            "\"}],\"role\":\"model\"},\"index\":0}],\"usageMetadata\":" + gemini_usage_json(i) +
            ",\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"a1b2c3d4e5f6\"}\r\n\r\n";
  }
  return body + "data: {\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"run\",\"args\":"
                "{\"cmd\":\"ls\"}}}],\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":" +
         gemini_usage_json(999) + ",\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"a1b2c3d4e5f6\"}\r\n\r\n";
}

inline std::string gemini_json_body(std::size_t target_bytes) {
  return "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Plan.\",\"thought\":true},{\"text\":\"" +
         gen_long_text(target_bytes) + "\"},{\"functionCall\":{\"name\":\"run\",\"args\":{\"cmd\":\"ls\"}}}],"
         "\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":" + gemini_usage_json(99) +
         ",\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r1\"}";
}

// Gemini generateContent request: user text / model functionCall / user functionResponse turns.
inline std::string gemini_history_body(std::size_t target_bytes) {
  std::string b = "{\"systemInstruction\":{\"parts\":[{\"text\":\"You are a coding agent.\"}]},"
                  "\"tools\":[{\"functionDeclarations\":[{\"name\":\"read_file\",\"parameters\":{\"type\":\"object\","
                  "\"properties\":{\"path\":{\"type\":\"string\"}}}}]},{\"googleSearch\":{}}],"
                  "\"toolConfig\":{\"functionCallingConfig\":{\"mode\":\"AUTO\"}},"
                  "\"generationConfig\":{\"temperature\":0.2,\"candidateCount\":1},\"contents\":[";
  for (int i = 0; b.size() < target_bytes; ++i) {
    if (i) b += ",";
    b += "{\"role\":\"user\",\"parts\":[{\"text\":\"" + gen_turn_text(i) + "\"}]}";
    b += ",{\"role\":\"model\",\"parts\":[{\"text\":\"Reading.\",\"thought\":true},{\"functionCall\":{\"name\":"
         "\"read_file\",\"args\":{\"path\":\"src/f" + std::to_string(i) + ".cc\"}}}]}";
    b += ",{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":\"read_file\",\"response\":{\"content\":\"" +
         gen_turn_text(i + 1) + "\"}}}]}";
  }
  return b + "]}";
}

}  // namespace llmtap::testing
