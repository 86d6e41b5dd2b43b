#pragma once
// Non-throwing accessors over nlohmann::json for provider parsers: a missing field or a field of the
// wrong type reads as empty/zero, so hostile or odd bodies never throw on the data path.
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/model_call.h"

namespace llmtap::json_fields {

using nlohmann::json;

// The member `key` of `j`, or a static null when `j` is not an object or lacks it.
const json& at(const json& j, std::string_view key);
std::string str(const json& j, std::string_view key);
std::int64_t i64(const json& j, std::string_view key);  // numbers (integer or float); 0 otherwise
std::int64_t number_to_i64(const json& v);                // i64 of the value itself
std::int64_t double_to_i64(double d);                     // floats as i64 reads them (saturating, NaN 0)
bool boolean(const json& j, std::string_view key);
bool has(const json& j, std::string_view key);  // present and not null

// Text of a content value: a string, or an array of parts whose "text" members are joined by `sep`
// (parts of the listed text types only; others, like images, are skipped).
std::string content_text(const json& content, std::string_view sep = "\n");
// Compact JSON text: strings are returned unquoted as-is (already JSON argument text), else dump().
std::string compact_arguments(const json& args);
// Hex SHA-256 of the canonical (key-sorted, compact) serialization.
std::string schema_hash(const json& schema);
// schema_hash of an already canonical text (the fast path prints it without nlohmann).
std::string schema_hash_of_text(std::string_view canon);
// Parses `text`; returns a discarded value (is_discarded()) when it is not JSON. Ill-formed UTF-8
// does not make it "not JSON": such bytes read as U+FFFD (replace_invalid_utf8), the rest as sent.
json parse(std::string_view text);
// TEXT with every ill-formed UTF-8 sequence replaced by U+FFFD.
std::string replace_invalid_utf8(std::string_view text);

// Fills `call.error_type`/`error_message` from a provider error object found in `body`:
// {"error":{"type"|"code"|"status","message"}}, {"type":"error","error":{...}}, a top-level
// {"code","message"}, or a JSON array whose first element has an error. Returns true if found.
bool extract_error(const json& body, ModelCall& call);
// A successful-status body that is only an error envelope ({"type":"error",...} or {"error":...}
// without any result fields), as some gateways send.
bool looks_like_error_body(const json& body);

}  // namespace llmtap::json_fields
