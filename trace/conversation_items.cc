#include "trace/conversation_items.h"

#include <algorithm>
#include <cctype>

#include "trace/squeezed_hash.h"

namespace llmtap::trace {

std::uint64_t fnv1a64(std::string_view data, std::uint64_t seed) {
  std::uint64_t h = seed;
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

namespace {

std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

bool is_instruction_role(std::string_view role) { return role == "system" || role == "developer"; }

// Text is hashed without any whitespace (FieldHash::add_squeezed), so parts joined with or
// without newlines, trailing spaces and re-indented text still agree.

}  // namespace

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_squeezed_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_squeezed_space(s.back())) s.remove_suffix(1);
  return s;
}

namespace {
// Parsers synthesize missing ids as "<tool name>#<index>".
bool synthesized_id(const ToolCall& tc) {
  if (tc.id.size() <= tc.name.size() + 1 || tc.id.compare(0, tc.name.size(), tc.name) != 0 ||
      tc.id[tc.name.size()] != '#')
    return false;
  for (std::size_t i = tc.name.size() + 1; i < tc.id.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(tc.id[i]))) return false;
  return true;
}
}  // namespace

bool synthesized_call_ids(const std::vector<Message>& messages) {
  for (const auto& m : messages)
    for (const auto& tc : m.tool_calls)
      if (synthesized_id(tc)) return true;
  return false;
}

bool stable_call_ids(const ModelCall& call) {
  if (call.api == "gemini" || call.provider == "gemini" || call.api == "ollama_chat") return false;
  return !synthesized_call_ids(call.input) && !synthesized_call_ids(call.output);
}

std::uint64_t chain_hash(std::uint64_t prefix, std::uint64_t item) {
  return mix64(prefix ^ mix64(item + 0x632be59bd9b4e019ULL));
}

ConversationItems conversation_items(const std::vector<Message>& messages, bool ids_stable) {
  ConversationItems out;
  auto push = [&](ItemKind kind, std::uint64_t h, std::size_t m, std::size_t tc) {
    out.items.push_back({kind, h, m, tc});
  };
  for (std::size_t m = 0; m < messages.size(); ++m) {
    const Message& msg = messages[m];
    if (is_instruction_role(msg.role)) continue;
    if (msg.role == "assistant" || msg.role == "model") {
      const bool has_text = std::any_of(msg.text.begin(), msg.text.end(), [](char c) { return !is_squeezed_space(c); });
      if (has_text) push(ItemKind::kAssistantText, FieldHash().add("a").add_squeezed(msg.text).value(), m, 0);
      for (std::size_t t = 0; t < msg.tool_calls.size(); ++t) {
        const ToolCall& tc = msg.tool_calls[t];
        // A server-side tool call is complete within its response and clients differ in whether
        // they re-send it (like reasoning): not an item.
        if (tc.server_side) continue;
        push(ItemKind::kToolCall,
             FieldHash().add("c").add(tc.name).add(ids_stable ? tc.id : std::string()).value(), m, t);
      }
    } else if (msg.role == "tool") {
      std::uint64_t h = ids_stable && !msg.tool_call_id.empty()
                            ? FieldHash().add("r").add(msg.tool_call_id).value()
                            : FieldHash().add("r~").add(msg.tool_name).add_squeezed(msg.text).value();
      push(ItemKind::kToolResult, h, m, 0);
    } else {
      push(ItemKind::kUser, FieldHash().add("u").add(msg.role).add_squeezed(msg.text).value(), m, 0);
    }
  }
  out.prefix.reserve(out.items.size() + 1);
  out.prefix.push_back(kEmptyConversationHash);
  for (const auto& it : out.items) out.prefix.push_back(chain_hash(out.prefix.back(), it.hash));
  return out;
}

}  // namespace llmtap::trace
