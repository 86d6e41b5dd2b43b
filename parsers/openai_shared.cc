#include "parsers/openai_shared.h"

#include "parsers/attribution.h"
#include "parsers/json_fields.h"

namespace llmtap::openai_shared {

using namespace json_fields;

void read_tools(const json& tools, ModelCall& call) {
  if (!tools.is_array()) return;
  for (const auto& t : tools) {
    const json& fn = at(t, "function");
    const json& def = fn.is_object() ? fn : t;
    std::string name = str(def, "name");
    if (name.empty()) name = str(t, "type");  // built-in tools: web_search, file_search, ...
    if (name.empty()) continue;
    const json& params = at(def, "parameters");
    call.tools.push_back(ToolDef{name, params.is_null() ? std::string() : schema_hash(params)});
  }
}

std::string tool_choice(const json& choice) {
  if (choice.is_string()) return choice.get<std::string>();
  if (!choice.is_object()) return {};
  std::string name = str(at(choice, "function"), "name");
  if (name.empty()) name = str(choice, "name");
  if (!name.empty()) return name;
  std::string mode = str(choice, "mode");  // {"type":"allowed_tools","mode":"auto",...}
  return mode.empty() ? str(choice, "type") : mode;
}

Message chat_message(const json& m) {
  Message msg;
  msg.role = str(m, "role");
  msg.text = content_text(at(m, "content"));
  if (msg.text.empty()) msg.text = str(m, "refusal");
  msg.reasoning = str(m, "reasoning_content");
  if (msg.reasoning.empty()) msg.reasoning = str(m, "reasoning");
  if (msg.reasoning.empty()) msg.reasoning = str(m, "thinking");  // Ollama
  const json& calls = at(m, "tool_calls");
  if (calls.is_array()) {
    for (const auto& c : calls) {
      const json& fn = at(c, "function");
      msg.tool_calls.push_back(ToolCall{str(c, "id"), str(fn, "name"), compact_arguments(at(fn, "arguments"))});
    }
  }
  const json& legacy = at(m, "function_call");
  if (legacy.is_object()) {
    msg.tool_calls.push_back(ToolCall{"", str(legacy, "name"), compact_arguments(at(legacy, "arguments"))});
  }
  if (msg.role == "tool" || msg.role == "function") {
    msg.tool_call_id = str(m, "tool_call_id");
    msg.tool_name = str(m, "name");
    if (msg.tool_name.empty()) msg.tool_name = str(m, "tool_name");
    msg.role = "tool";
  } else {
    msg.name = str(m, "name");  // multi-agent frameworks name the agent that spoke
  }
  return msg;
}

void read_chat_messages(const json& messages, ModelCall& call) {
  if (!messages.is_array()) return;
  bool leading = true;
  for (const auto& m : messages) {
    std::string role = str(m, "role");
    if (leading && (role == "system" || role == "developer")) {
      if (!call.system_instructions.empty()) call.system_instructions.push_back('\n');
      call.system_instructions.append(content_text(at(m, "content")));
      continue;
    }
    leading = false;
    call.input.push_back(chat_message(m));
  }
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
  std::string model = str(body, "model");
  if (!model.empty()) call.request_model = model;
  call.stream = boolean(body, "stream");
  if (at(body, "n").is_number() && i64(body, "n") > 0) call.n = static_cast<int>(std::min<std::int64_t>(i64(body, "n"), 1 << 20));
  std::string tier = str(body, "service_tier");
  if (!tier.empty()) call.service_tier = tier;
  read_tools(at(body, "tools"), call);
  call.tool_choice = tool_choice(at(body, "tool_choice"));
  attribution::read_openai_body(body, call.attribution);
}

}  // namespace llmtap::openai_shared
