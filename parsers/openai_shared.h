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
  // Each object's members in one pass (members()): a response's cost here is the lookups.
  static constexpr json_view::Keys<10> kUsage{{"prompt_tokens", "completion_tokens", "input_tokens", "output_tokens",
                                               "prompt_tokens_details", "completion_tokens_details",
                                               "input_tokens_details", "output_tokens_details",
                                               "prompt_cache_hit_tokens", "cache_write_tokens"}};
  const auto [prompt, completion, input_v, output_v, prompt_d, completion_d, input_d, output_d, cache_hit, write_v] =
      u.members(kUsage);
  const bool chat = !prompt.is_null() || !completion.is_null();
  std::int64_t input = chat ? prompt.i64() : input_v.i64();
  std::int64_t output = chat ? completion.i64() : output_v.i64();
  static constexpr json_view::Keys<3> kInDetails{{"cached_tokens", "cache_write_tokens", "cache_creation_tokens"}};
  const auto [cached_v, detail_write, detail_creation] = (chat ? prompt_d : input_d).members(kInDetails);
  std::int64_t cached = cached_v.i64();
  if (cached == 0) cached = cache_hit.i64();  // DeepSeek
  std::int64_t write = detail_write.i64();
  if (write == 0) write = detail_creation.i64();
  if (write == 0) write = write_v.i64();
  std::int64_t reasoning = (chat ? completion_d : output_d).at("reasoning_tokens").i64();
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
