#pragma once
// Pieces shared by the OpenAI-shaped parsers (Chat Completions and its compatible servers,
// Responses, embeddings, Ollama chat): tool definitions, tool choice, chat messages, usage.
#include <nlohmann/json.hpp>

#include "common/model_call.h"

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
Usage usage(const nlohmann::json& u);
// Common request fields: model, stream, n, service_tier, tools, tool_choice, attribution.
void read_common_request(const nlohmann::json& body, ModelCall& call);

}  // namespace llmtap::openai_shared
