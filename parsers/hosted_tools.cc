#include "parsers/hosted_tools.h"

#include <array>

#include "parsers/json_fields.h"

namespace llmtap::hosted_tools {
namespace {

using namespace json_fields;

// One row per Responses item type. Server-side items carry their result; client-run ones are
// answered by `output_type` items with the same call_id, like function calls.
struct ItemKind {
  std::string_view type;       // the item's "type"
  std::string_view tool_name;  // gen_ai.tool.name; "" = the item's own "name" (mcp_call)
  std::string_view tool_type;  // gen_ai.tool.type (GenAI semantic conventions)
  bool server_side;
  std::array<std::string_view, 3> argument_fields;  // what the call was asked to do
  std::string_view result_field;                    // server-side: what it gave back
  bool result_is_blob;                              // a base64 payload: its size is recorded, not its bytes
  std::string_view output_type;                     // client-run: the item carrying the result
};

constexpr std::array<ItemKind, 8> kItems{{
    {"web_search_call", "web_search", "extension", true, {"action"}, "action.sources", false, ""},
    {"file_search_call", "file_search", "datastore", true, {"queries"}, "results", false, ""},
    {"code_interpreter_call", "code_interpreter", "extension", true, {"code", "container_id"}, "outputs", false, ""},
    {"mcp_list_tools", "mcp_list_tools", "extension", true, {"server_label"}, "tools", false, ""},
    {"mcp_call", "", "extension", true, {"arguments"}, "output", false, ""},
    {"image_generation_call", "image_generation", "extension", true, {"revised_prompt"}, "result", true, ""},
    {"computer_call", "computer", "function", false, {"action"}, "", false, "computer_call_output"},
    {"local_shell_call", "local_shell", "function", false, {"action"}, "", false, "local_shell_call_output"},
}};

const ItemKind* find_kind(std::string_view type) {
  for (const auto& k : kItems)
    if (k.type == type) return &k;
  return nullptr;
}

// "a.b": member b of member a.
const json& path(const json& j, std::string_view p) {
  const auto dot = p.find('.');
  if (dot == std::string_view::npos) return at(j, p);
  return at(at(j, p.substr(0, dot)), p.substr(dot + 1));
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string arguments_of(const json& item, const ItemKind& k) {
  std::size_t n = 0;
  const json* only = nullptr;
  for (auto f : k.argument_fields)
    if (!f.empty() && has(item, f)) ++n, only = &at(item, f);
  // One field that is itself the arguments (mcp_call's JSON text, an action object): as is.
  if (n == 1 && k.argument_fields[1].empty() && (only->is_object() || k.argument_fields[0] == "arguments"))
    return compact_arguments(*only);
  json args = json::object();
  for (auto f : k.argument_fields)
    if (!f.empty() && has(item, f)) args[std::string(f)] = at(item, f);
  return dump(args);
}

}  // namespace

bool is_responses_tool_item(std::string_view type) {
  for (const auto& k : kItems)
    if (k.type == type || (!k.output_type.empty() && k.output_type == type)) return true;
  return false;
}

std::optional<ToolCall> responses_item(const json& item) {
  const ItemKind* k = find_kind(str(item, "type"));
  if (k == nullptr) return std::nullopt;
  ToolCall tc;
  tc.id = str(item, k->server_side ? "id" : "call_id");
  tc.name = k->tool_name.empty() ? str(item, "name") : std::string(k->tool_name);
  tc.arguments = arguments_of(item, *k);
  tc.tool_type = std::string(k->tool_type);
  tc.server_side = k->server_side;
  if (!k->server_side) return tc;
  const json& result = path(item, k->result_field);
  if (k->result_is_blob && result.is_string()) {
    tc.result = "<" + std::to_string(result.get_ref<const std::string&>().size()) + " bytes of base64 data>";
  } else if (!result.is_null()) {
    tc.result = result.is_string() ? result.get<std::string>() : dump(result);
  }
  const std::string status = str(item, "status");
  tc.result_error = has(item, "error") || status == "failed" || status == "incomplete";
  if (tc.result_error && tc.result.empty()) {
    const json& e = at(item, "error");
    tc.result = e.is_string() ? e.get<std::string>() : e.is_null() ? status : dump(e);
  }
  return tc;
}

std::optional<Message> responses_item_output(const json& item) {
  const std::string type = str(item, "type");
  for (const auto& k : kItems) {
    if (k.output_type.empty() || k.output_type != type) continue;
    Message m;
    m.role = "tool";
    m.tool_call_id = str(item, "call_id");
    const json& out = at(item, "output");
    m.text = out.is_string() ? out.get<std::string>() : out.is_null() ? std::string() : dump(out);
    return m;
  }
  return std::nullopt;
}

std::string_view anthropic_tool_type(std::string_view, std::string_view) {
  // Anthropic's server tools (web_search, web_fetch, code_execution, bash/text_editor code
  // execution, tool search) and MCP connector calls all reach outside the model: "extension".
  return "extension";
}

bool anthropic_is_server_result(std::string_view block_type) {
  constexpr std::string_view suffix = "_tool_result";
  return block_type != "tool_result" && block_type.size() > suffix.size() &&
         block_type.substr(block_type.size() - suffix.size()) == suffix;
}

void anthropic_apply_result(const json& block, ToolCall& tc) {
  const json& content = at(block, "content");
  if (content.is_string()) {
    tc.result = content.get<std::string>();
  } else if (!content.is_null()) {
    tc.result = dump(content);
  }
  const std::string ctype = str(content, "type");
  constexpr std::string_view err = "_error";
  tc.result_error = boolean(block, "is_error") ||
                    (ctype.size() > err.size() && ctype.compare(ctype.size() - err.size(), err.size(), err) == 0);
}

}  // namespace llmtap::hosted_tools
