#pragma once
// Attribution (common/model_call.h) from the places the wire carries it. Each reader fills only
// fields still empty, so calling them in precedence order (configured headers, baggage, body)
// gives the first source priority. Values are capped so a hostile request cannot grow a record.
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/model_call.h"

namespace llmtap::attribution {

inline constexpr std::size_t kMaxValueBytes = 512;
inline constexpr std::size_t kMaxKeyBytes = 64;
inline constexpr std::size_t kMaxMetadataEntries = 32;

// Headers named by --user-header / --session-header (either may be empty: not configured).
void read_headers(const Headers& headers, std::string_view user_header, std::string_view session_header,
                  Attribution& out);
// W3C baggage: "k=v;prop,k2=v2" (percent-encoded). user.id and session.id fill those fields;
// other members become metadata.
void read_baggage(std::string_view baggage, Attribution& out);
// OpenAI request bodies (Chat, Responses, embeddings, compatible servers): safety_identifier,
// else user; prompt_cache_key; metadata (string values).
void read_openai_body(const nlohmann::json& body, Attribution& out);
// Anthropic Messages: metadata.user_id.
void read_anthropic_body(const nlohmann::json& body, Attribution& out);
// A body user field may pack several ids as a JSON object (Claude Code's metadata.user_id:
// device, account, session): its members then give the user and the session apart (SPEC.md,
// "Packed ids"); any other value is the user as sent.

}  // namespace llmtap::attribution
