#pragma once
// Hosted and server-side tools: the tool calls a provider runs itself within a response (Responses
// web_search_call, file_search_call, code_interpreter_call, mcp_list_tools, mcp_call,
// image_generation_call; Anthropic server_tool_use with its *_tool_result block), and the built-in
// tools the client runs (Responses computer_call answered by computer_call_output). One table of
// item types (hosted_tools.cc); the parsers turn each into a ToolCall with `tool_type` set.
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/model_call.h"

namespace llmtap::hosted_tools {

// Whether TYPE is a Responses item type of the table: a hosted or built-in tool call, or the item
// answering a client-run one (computer_call_output, ...).
bool is_responses_tool_item(std::string_view type);

// A Responses output (or replayed input) item of one of the table's types, as a ToolCall:
// id (the item's id, or call_id for client-run tools), name, arguments, gen_ai.tool.type, and for
// server-side items the result and whether it failed. nullopt for other item types.
std::optional<ToolCall> responses_item(const nlohmann::json& item);

// The input item answering a client-run built-in tool (computer_call_output, ...) as a "tool"
// message; nullopt for other item types.
std::optional<Message> responses_item_output(const nlohmann::json& item);

// Anthropic: the gen_ai.tool.type of a server_tool_use (or mcp_tool_use) block's tool.
std::string_view anthropic_tool_type(std::string_view block_type, std::string_view tool_name);
// Anthropic: is BLOCK_TYPE the result block of a server tool (web_search_tool_result,
// code_execution_tool_result, mcp_tool_result, ...; not the client's tool_result)?
bool anthropic_is_server_result(std::string_view block_type);
// Anthropic: copies a server tool result block's content (and whether it reports an error) into TC.
void anthropic_apply_result(const nlohmann::json& block, ToolCall& tc);

}  // namespace llmtap::hosted_tools
