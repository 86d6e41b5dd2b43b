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

void read_common_request(const json& body, ModelCall& call) {
  openai_request::read_common_request(json_view::NlohmannView(body), call);
}

}  // namespace llmtap::openai_shared
