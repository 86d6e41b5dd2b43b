#pragma once
// Message content rendered as the OpenTelemetry GenAI JSON forms (gen_ai.system_instructions,
// gen_ai.input.messages, gen_ai.output.messages): [{"role": ..., "parts": [{"type": "text",
// "content": ...}, {"type": "tool_call", "id", "name", "arguments"}, {"type":
// "tool_call_response", "id", "response"}, {"type": "reasoning", "content"}]}].
#include <string>
#include <vector>

#include "common/model_call.h"

namespace llmtap::trace {

std::string system_instructions_json(const std::string& instructions);
std::string input_messages_json(const std::vector<Message>& messages);
// One entry per output message; finish_reasons[i] (when present) becomes its finish_reason.
std::string output_messages_json(const std::vector<Message>& messages,
                                 const std::vector<std::string>& finish_reasons);

}  // namespace llmtap::trace
