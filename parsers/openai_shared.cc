#include "parsers/openai_shared.h"

#include "parsers/json_fields.h"
#include "parsers/openai_request.h"

namespace llmtap::openai_shared {

using namespace json_fields;

// The mappings themselves live in parsers/openai_request.h (shared with the simdjson fast path).
void read_tools(const json& tools, ModelCall& call) { openai_request::read_tools(json_view::NlohmannView(tools), call); }

std::string tool_choice(const json& choice) { return openai_request::tool_choice(json_view::NlohmannView(choice)); }

Message chat_message(const json& m) { return openai_request::chat_message(json_view::NlohmannView(m)); }

void read_chat_messages(const json& messages, ModelCall& call) {
  openai_request::read_chat_messages(json_view::NlohmannView(messages), call);
}

Usage usage(const json& u) {
  Usage out;
  if (!u.is_object()) return out;
  out.present = true;
  bool chat = has(u, "prompt_tokens") || has(u, "completion_tokens");
  std::int64_t input = chat ? i64(u, "prompt_tokens") : i64(u, "input_tokens");
  std::int64_t output = chat ? i64(u, "completion_tokens") : i64(u, "output_tokens");
  const json& in_d = at(u, chat ? "prompt_tokens_details" : "input_tokens_details");
  const json& out_d = at(u, chat ? "completion_tokens_details" : "output_tokens_details");
  std::int64_t cached = i64(in_d, "cached_tokens");
  if (cached == 0) cached = i64(u, "prompt_cache_hit_tokens");  // DeepSeek
  std::int64_t write = i64(in_d, "cache_write_tokens");
  if (write == 0) write = i64(in_d, "cache_creation_tokens");
  if (write == 0) write = i64(u, "cache_write_tokens");
  std::int64_t reasoning = i64(out_d, "reasoning_tokens");
  auto clamp = [](std::int64_t v) { return v < 0 ? 0 : v; };
  out.cache_read = clamp(std::min(cached, input));
  out.cache_write_5m = clamp(std::min(write, input - out.cache_read));
  out.input_uncached = clamp(input - out.cache_read - out.cache_write_5m);
  out.reasoning = clamp(std::min(reasoning, output));
  out.output = clamp(output - out.reasoning);
  return out;
}

void read_common_request(const json& body, ModelCall& call) {
  openai_request::read_common_request(json_view::NlohmannView(body), call);
}

}  // namespace llmtap::openai_shared
