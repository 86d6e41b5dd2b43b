#include "parsers/json_fields.h"

#include <utf8.h>

#include <iterator>

#include <openssl/evp.h>

#include "common/ids.h"
#include "parsers/json_view.h"

namespace llmtap::json_fields {

namespace {
const json& null_json() {
  static const json kNull;
  return kNull;
}
}  // namespace

const json& at(const json& j, std::string_view key) {
  if (!j.is_object()) return null_json();
  auto it = j.find(key);
  return it == j.end() ? null_json() : *it;
}

std::string str(const json& j, std::string_view key) {
  const json& v = at(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

std::int64_t double_to_i64(double d) {
  if (!(d >= 0 || d < 0)) return 0;  // NaN
  if (d > 9.2e18) return INT64_MAX;
  if (d < -9.2e18) return INT64_MIN;
  return static_cast<std::int64_t>(d);
}

std::int64_t number_to_i64(const json& v) {
  // Unsigned values are integers too: above INT64_MAX they wrap, as they always have.
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    return u > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(u);
  }
  if (v.is_number_float()) return double_to_i64(v.get<double>());
  return 0;
}

std::int64_t i64(const json& j, std::string_view key) { return number_to_i64(at(j, key)); }

bool boolean(const json& j, std::string_view key) {
  const json& v = at(j, key);
  return v.is_boolean() && v.get<bool>();
}

bool has(const json& j, std::string_view key) { return !at(j, key).is_null(); }

std::string content_text(const json& content, std::string_view sep) {
  return json_view::content_text(json_view::NlohmannView(content), sep);  // shared with the fast path
}

std::string compact_arguments(const json& args) {
  if (args.is_string()) return args.get<std::string>();
  if (args.is_null()) return "{}";
  return args.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string schema_hash(const json& schema) {
  return schema_hash_of_text(schema.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string schema_hash_of_text(std::string_view canon) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(canon.data(), canon.size(), md, &len, EVP_sha256(), nullptr) != 1) return "";
  return to_hex(md, len);
}

namespace {

json parse_strict(std::string_view text) {
  // Nesting deeper than any real API body is dropped while parsing: serializing (dump) recurses,
  // so a hostile 1M-deep array must never reach it.
  constexpr int kMaxDepth = 128;
  json::parser_callback_t limit = [](int depth, json::parse_event_t event, json&) {
    return !(depth > kMaxDepth && (event == json::parse_event_t::object_start ||
                                   event == json::parse_event_t::array_start || event == json::parse_event_t::value ||
                                   event == json::parse_event_t::key));
  };
  // Only bodies that could nest that deep pay for the callback.
  std::size_t opens = 0;
  for (char c : text) opens += (c == '{' || c == '[');
  if (opens <= static_cast<std::size_t>(kMaxDepth)) {
    return json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  }
  return json::parse(text.begin(), text.end(), limit, /*allow_exceptions=*/false);
}

}  // namespace

std::string replace_invalid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  utf8::replace_invalid(text.begin(), text.end(), std::back_inserter(out));
  return out;
}

json parse(std::string_view text) {
  json j = parse_strict(text);
  // nlohmann rejects a whole document for one ill-formed UTF-8 byte in a string; providers do send
  // such bytes (a token cut mid-character). The client got them as they were; the record keeps
  // the usage and content, with U+FFFD in place of the bad bytes. Valid bodies never pay for this.
  if (j.is_discarded() && utf8::find_invalid(text.begin(), text.end()) != text.end())
    j = parse_strict(replace_invalid_utf8(text));
  return j;
}

bool extract_error(const json& body, ModelCall& call) {
  if (body.is_array()) return !body.empty() && extract_error(body.front(), call);
  if (!body.is_object()) return false;
  const json& e = at(body, "error");
  const json& src = e.is_object() ? e : body;
  if (e.is_string()) {  // {"error": "message"} (Ollama, some gateways)
    call.error_type = "error";
    call.error_message = e.get<std::string>();
    return true;
  }
  std::string msg = str(src, "message");
  std::string type = str(src, "type");
  if (type.empty()) type = str(src, "status");
  if (type.empty()) type = str(src, "code");
  if (type.empty() && at(src, "code").is_number()) type = std::to_string(i64(src, "code"));
  if (msg.empty() && type.empty()) return false;
  if (!e.is_object() && str(body, "type") != "error" && msg.empty()) return false;
  call.error_type = type.empty() ? "error" : type;
  call.error_message = msg;
  return true;
}

bool looks_like_error_body(const json& body) {
  return json_view::looks_like_error_body(json_view::NlohmannView(body));  // shared with the fast path
}

}  // namespace llmtap::json_fields
