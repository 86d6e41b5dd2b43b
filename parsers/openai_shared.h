#pragma once
// Pieces shared by the OpenAI-shaped parsers (Chat Completions and its compatible servers,
// Responses, embeddings, Ollama chat): tool definitions, tool choice, chat messages, usage.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/model_call.h"
#include "parsers/json_view.h"

namespace llmtap::openai_shared {

// Chat-style tools [{type:function, function:{name, parameters}}] and Responses-style tools
// [{type:function, name, parameters}] (built-in tools are listed by their type).
void read_tools(const nlohmann::json& tools, ModelCall& call);
// "auto"/"required"/"none" or the forced function's name.
std::string tool_choice(const nlohmann::json& choice);
// Chat `messages`: leading system/developer messages go to system_instructions, the rest to input.
void read_chat_messages(const nlohmann::json& messages, ModelCall& call);
// One chat-style assistant/tool/user message into a normalized Message.
Message chat_message(const nlohmann::json& m);
// Chat usage {prompt_tokens, completion_tokens, *_details} or Responses usage {input_tokens, ...}
// into disjoint buckets (cached and reasoning tokens are included in the totals the API reports).
// Read through a view (parsers/json_view.h), so the fast path reads its simdjson DOM as it is
// instead of converting the object to nlohmann first (~3k instructions per response, issue 16).
template <class V>
Usage usage_of(const V& u) {
  Usage out;
  if (!u.is_object()) return out;
  out.present = true;
  using json_view::has;
  using json_view::i64;
  bool chat = has(u, "prompt_tokens") || has(u, "completion_tokens");
  std::int64_t input = chat ? i64(u, "prompt_tokens") : i64(u, "input_tokens");
  std::int64_t output = chat ? i64(u, "completion_tokens") : i64(u, "output_tokens");
  const V in_d = u.at(chat ? "prompt_tokens_details" : "input_tokens_details");
  const V out_d = u.at(chat ? "completion_tokens_details" : "output_tokens_details");
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
inline Usage usage(const nlohmann::json& u) { return usage_of(json_view::NlohmannView(u)); }
// Common request fields: model, stream, n, service_tier, tools, tool_choice, attribution.
void read_common_request(const nlohmann::json& body, ModelCall& call);

}  // namespace llmtap::openai_shared
