#pragma once
// A request's conversation as a list of atomic items with chained prefix hashes, so that
// "request N+1 extends N's input plus N's output" is a hash lookup, whatever API carried it.
//
// Normalization keeps only what clients re-send unchanged:
//  - system/developer messages are left out (they identify the agent, not the conversation;
//    a handoff changes them while the history continues);
//  - text is hashed without whitespace (multi-part text joined with or without newlines agrees);
//  - an assistant message becomes one item for its text (empty text such as Chat's
//    `content: null` vs "" gives no item) and one item per tool call (id + name; arguments are
//    left out because clients re-serialize them); reasoning and server-side tool calls (web search,
//    MCP, ...: complete within their response) are left out (often dropped on re-send);
//  - a tool result is one item keyed by the call id it answers (not its text);
//  - when call ids are not stable across re-sends (Gemini ids are synthesized by the parser),
//    tool calls hash by name and tool results by name + text.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/model_call.h"

namespace llmtap::trace {

enum class ItemKind { kUser, kAssistantText, kToolCall, kToolResult };

struct ConversationItem {
  ItemKind kind;
  std::uint64_t hash;        // hash of this item alone
  std::size_t message = 0;   // index of the source message
  std::size_t tool_call = 0; // kToolCall: index in that message's tool_calls
};

struct ConversationItems {
  std::vector<ConversationItem> items;
  // prefix[i] = chained hash of items[0..i); prefix[0] is the empty conversation's hash.
  std::vector<std::uint64_t> prefix;
};

// Whether tool call ids survive a round trip through the client: not for Gemini and Ollama, nor
// for any call carrying ids a parser synthesized ("<name>#<n>").
bool stable_call_ids(const ModelCall& call);
// Whether some tool call among `messages` carries an id a parser synthesized.
bool synthesized_call_ids(const std::vector<Message>& messages);

std::string_view trim(std::string_view s);

ConversationItems conversation_items(const std::vector<Message>& messages, bool ids_stable);

// Extends a prefix-hash chain with more item hashes.
std::uint64_t chain_hash(std::uint64_t prefix, std::uint64_t item);
constexpr std::uint64_t kEmptyConversationHash = 0x9e3779b97f4a7c15ULL;

// 64-bit FNV-1a: stable across processes and runs (agent fingerprints are user-visible ids).
std::uint64_t fnv1a64(std::string_view data, std::uint64_t seed = 0xcbf29ce484222325ULL);

}  // namespace llmtap::trace
