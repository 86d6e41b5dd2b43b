#pragma once
// Who is speaking: agent fingerprints, readable agent names, and what a handoff or a tool
// result says.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/model_call.h"
#include "trace/trace_options.h"

namespace llmtap::trace {

// The instructions an agent runs with: the request's system field, else its system/developer
// messages joined by newlines.
std::string effective_instructions(const ModelCall& call);

// Stable agent id: 16 hex of a hash over the instructions with their per-request noise masked
// (mask_volatile_tokens: checksums, dates, times, request ids) and the sorted, de-duplicated tool names.
std::string agent_fingerprint(const std::string& instructions, const std::vector<ToolDef>& tools);

// A short readable name from instructions: the first "You are (a|an|the) <up to 4 words>" phrase
// cut after its last role word (agent, assistant, bot, specialist, expert), title-cased: "You are a triage agent..." -> "Triage Agent".
// Phrases like "You are part of a multi-agent system" (the Agents SDK's handoff prompt prefix)
// are skipped. Without such a phrase, capitalized words right after "You are" ("You are Claude
// Code, ..." -> "Claude Code"); else "Agent " + the first 6 hex of the fingerprint.
std::string derived_agent_name(std::string_view instructions, std::string_view fingerprint);

// The first rule whose regex matches the instructions, if any.
std::optional<std::string> rule_agent_name(const std::vector<AgentNameRule>& rules,
                                           const std::string& instructions);

// Handoff tools: the Agents SDK and LangGraph name them `transfer_to_<agent>`; LangGraph's
// supervisor writes the way back as `transfer_back_to_<agent>`.
bool is_transfer_tool(std::string_view tool_name);
// Whether `tool_name` is the SDK's transfer tool for an agent called `agent_name`
// (non-alphanumerics of the name as "_"; case-insensitive, as the Python SDK lowercases).
bool transfer_tool_targets(std::string_view tool_name, std::string_view agent_name);
// "transfer_to_Billing_Agent" -> "Billing Agent" (underscores become spaces; lossy: the Agents
// SDK's spelling of a name); "transfer_back_to_supervisor" -> "supervisor" (exactly as written).
std::string transfer_tool_target(std::string_view tool_name);
// The Agents SDK's transfer output `{"assistant": "<agent name>"}` -> the name.
std::optional<std::string> transfer_result_target(std::string_view result_text);

struct ToolOutcome {
  bool error = false;
  bool rejected = false;  // a human (or policy) refused to run the call
};

// What a tool result says of its run. Error when:
//  1. the API flagged it (Anthropic tool_result is_error);
//  2. the text is a JSON object with a top-level "error" key whose value is not null, false or ""
//     (the Vercel AI SDK's error output, most hand-written tools);
//  3. the text is in a framework's fixed error shape (a small table): the Agents SDK's
//     "An error occurred while running the tool...", LangGraph ToolNode's "Error: ... Please fix
//     your mistakes.", and the Agents SDK's rejected approval "Tool execution was not approved."
//     (also `rejected`);
// everything else is a success, including plain text that merely mentions an error.
ToolOutcome tool_result_outcome(const Message& result);
inline bool tool_result_is_error(const Message& result) { return tool_result_outcome(result).error; }

}  // namespace llmtap::trace
