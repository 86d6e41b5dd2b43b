#pragma once
// The OpenAI-shaped request mappings (Chat Completions messages, Responses input items, tools, tool
// choice, common fields), written once over a json_view (parsers/json_view.h) so the nlohmann path
// and the simdjson fast path produce the same ModelCall by construction.
#include <algorithm>
#include <array>
#include <string>

#include "common/model_call.h"
#include "parsers/attribution.h"
#include "parsers/hosted_tools.h"
#include "parsers/json_view.h"

namespace llmtap::openai_request {

template <class V>
void read_tools(const V& tools, ModelCall& call) {
  tools.for_each([&](const V& t) {
    V fn = t.at("function");
    V def = fn.is_object() ? fn : t;
    std::string name = json_view::str(def, "name");
    if (name.empty()) name = json_view::str(t, "type");  // built-in tools: web_search, file_search, ...
    if (name.empty()) return;
    V params = def.at("parameters");
    call.tools.push_back(ToolDef{name, params.is_null() ? std::string() : params.schema_hash()});
  });
}

template <class V>
std::string tool_choice(const V& choice) {
  if (choice.is_string()) return std::string(choice.string());
  if (!choice.is_object()) return {};
  std::string name = json_view::str(choice.at("function"), "name");
  if (name.empty()) name = json_view::str(choice, "name");
  if (!name.empty()) return name;
  std::string mode = json_view::str(choice, "mode");  // {"type":"allowed_tools","mode":"auto",...}
  return mode.empty() ? json_view::str(choice, "type") : mode;
}

template <class V>
Message chat_message(const V& m) {
  static constexpr json_view::Keys<11> kKeys{{"role", "content", "refusal", "reasoning_content", "reasoning",
                                               "thinking", "tool_calls", "function_call", "tool_call_id", "name",
                                               "tool_name"}};
  const auto [role, content, refusal, reasoning_content, reasoning, thinking, tool_calls, function_call,
              tool_call_id, name, tool_name] = m.members(kKeys);
  Message msg;
  msg.role = role.string();
  msg.text = json_view::content_text(content);
  if (msg.text.empty()) msg.text = refusal.string();
  msg.reasoning = reasoning_content.string();
  if (msg.reasoning.empty()) msg.reasoning = reasoning.string();
  if (msg.reasoning.empty()) msg.reasoning = thinking.string();  // Ollama
  tool_calls.for_each([&](const V& c) {
    V fn = c.at("function");
    msg.tool_calls.push_back(
        ToolCall{json_view::str(c, "id"), json_view::str(fn, "name"), fn.at("arguments").compact_arguments()});
  });
  if (function_call.is_object()) {
    msg.tool_calls.push_back(
        ToolCall{"", json_view::str(function_call, "name"), function_call.at("arguments").compact_arguments()});
  }
  if (msg.role == "tool" || msg.role == "function") {
    msg.tool_call_id = tool_call_id.string();
    msg.tool_name = name.string();
    if (msg.tool_name.empty()) msg.tool_name = tool_name.string();
    msg.role = "tool";
  } else {
    msg.name = name.string();  // multi-agent frameworks name the agent that spoke
  }
  return msg;
}

// Chat `messages`: leading system/developer messages go to system_instructions, the rest to input.
template <class V>
void read_chat_messages(const V& messages, ModelCall& call) {
  bool leading = true;
  call.input.reserve(call.input.size() + messages.array_size());
  messages.for_each([&](const V& m) {
    std::string_view role = leading ? m.at("role").string() : std::string_view();
    if (leading && (role == "system" || role == "developer")) {
      if (!call.system_instructions.empty()) call.system_instructions.push_back('\n');
      call.system_instructions.append(json_view::content_text(m.at("content")));
      return;
    }
    leading = false;
    call.input.push_back(chat_message(m));
  });
}

// Common request fields: model, stream, n, service_tier, tools, tool_choice, attribution.
template <class V>
void read_common_request(const V& body, ModelCall& call) {
  std::string model = json_view::str(body, "model");
  if (!model.empty()) call.request_model = model;
  call.stream = body.at("stream").boolean();
  V n = body.at("n");
  if (n.is_number() && n.i64() > 0) call.n = static_cast<int>(std::min<std::int64_t>(n.i64(), 1 << 20));
  std::string tier = json_view::str(body, "service_tier");
  if (!tier.empty()) call.service_tier = tier;
  read_tools(body.at("tools"), call);
  call.tool_choice = tool_choice(body.at("tool_choice"));
  body.with_members({"safety_identifier", "user", "prompt_cache_key", "metadata"},
                    [&](const nlohmann::json& j) { attribution::read_openai_body(j, call.attribution); });
}

inline bool is_call_item(std::string_view type) { return type == "function_call" || type == "custom_tool_call"; }
inline bool is_call_output_item(std::string_view type) {
  return type == "function_call_output" || type == "custom_tool_call_output";
}

// A Responses reasoning item's text: its summary, else its reasoning_text content (open models).
template <class V>
std::string reasoning_text(const V& item) {
  std::string out = json_view::content_text(item.at("summary"), "\n");
  if (out.empty()) return json_view::content_text(item.at("content"), "\n");
  return out;
}

// One Responses input item into `call.input`.
template <class V>
void read_input_item(const V& item, ModelCall& call) {
  static constexpr json_view::Keys<9> kKeys{
      {"type", "arguments", "input", "call_id", "name", "output", "role", "content", "summary"}};
  const auto [type_v, arguments, input, call_id, name, output, role, content, summary] = item.members(kKeys);
  std::string_view type = type_v.string();
  if (is_call_item(type)) {
    Message m;
    m.role = "assistant";
    const V& args = arguments.is_null() ? input : arguments;
    m.tool_calls.push_back(ToolCall{std::string(call_id.string()), std::string(name.string()), args.compact_arguments()});
    call.input.push_back(std::move(m));
  } else if (is_call_output_item(type)) {
    Message m;
    m.role = "tool";
    m.tool_call_id = call_id.string();
    m.text = output.is_string() ? std::string(output.string()) : json_view::content_text(output, "\n");
    call.input.push_back(std::move(m));
  } else if (type == "reasoning") {
    Message m;
    m.role = "assistant";
    m.reasoning = json_view::content_text(summary, "\n");  // as reasoning_text()
    if (m.reasoning.empty()) m.reasoning = json_view::content_text(content, "\n");
    call.input.push_back(std::move(m));
  } else if (hosted_tools::is_responses_tool_item(type)) {
    // Hosted and built-in tool items (rare, small): read by the one table, over nlohmann.
    const auto& j = item.to_json();
    if (auto tc = hosted_tools::responses_item(j)) {
      Message m;
      m.role = "assistant";
      m.tool_calls.push_back(std::move(*tc));
      call.input.push_back(std::move(m));
    } else if (auto out = hosted_tools::responses_item_output(j)) {
      call.input.push_back(std::move(*out));
    }
  } else if (type == "message" || (type.empty() && !role.is_null())) {
    Message m;
    m.role = role.string();
    m.text = json_view::content_text(content, "\n");
    call.input.push_back(std::move(m));
  }
  // Other items (item_reference, mcp_approval_request, ...) carry no conversation text.
}

// The server-side conversation a request or response names: `conversation` as "conv_..." or {"id"}.
template <class V>
std::string conversation_id(const V& v) {
  return v.is_string() ? std::string(v.string()) : json_view::str(v, "id");
}

// A Responses request body.
template <class V>
void read_responses_request(const V& body, ModelCall& call) {
  read_common_request(body, call);
  call.system_instructions = json_view::content_text(body.at("instructions"), "\n");
  call.previous_response_id = json_view::str(body, "previous_response_id");
  call.conversation_id = conversation_id(body.at("conversation"));
  V input = body.at("input");
  if (input.is_string()) {
    call.input.push_back(Message{"user", std::string(input.string()), "", {}, "", "", false});
  } else {
    call.input.reserve(call.input.size() + input.array_size());
    input.for_each([&](const V& item) { read_input_item(item, call); });
  }
}

// A Chat Completions request body.
template <class V>
void read_chat_request(const V& body, ModelCall& call) {
  read_common_request(body, call);
  read_chat_messages(body.at("messages"), call);
}

}  // namespace llmtap::openai_request
