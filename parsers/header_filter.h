#pragma once
// Request headers as they may be recorded: credentials never leave the parser.
#include <string_view>

#include "common/model_call.h"

namespace llmtap {

// True for headers that carry credentials: Authorization, Proxy-Authorization, x-api-key, api-key,
// x-goog-api-key, Cookie, and any name containing "key", "token", "secret" or "auth".
bool is_secret_header(std::string_view name);
// The credential part of that rule (everything but "session"): names no --user-header or
// --session-header may point at.
bool is_credential_header(std::string_view name);
Headers without_secrets(const Headers& headers);
// First value of header `name` (case-insensitive), "" if absent.
std::string header_value(const Headers& headers, std::string_view name);
// Case-insensitive ASCII equality (header names, tokens).
bool iequals_ascii(std::string_view a, std::string_view b);
// Whether a comma-separated header (Upgrade, Connection), in any of its lines, lists `token`.
bool header_has_token(const Headers& headers, std::string_view name, std::string_view token);

}  // namespace llmtap
