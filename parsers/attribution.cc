#include "parsers/attribution.h"

#include "common/key_value_list.h"
#include "parsers/header_filter.h"
#include "parsers/json_fields.h"

namespace llmtap::attribution {
namespace {

std::string capped(std::string_view v, std::size_t max) {
  if (v.size() <= max) return std::string(v);
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(v[n]) & 0xC0) == 0x80) --n;  // keep UTF-8 whole
  return std::string(v.substr(0, n));
}

void fill(std::string& field, std::string_view value) {
  if (field.empty() && !value.empty()) field = capped(value, kMaxValueBytes);
}

void add_metadata(Attribution& out, std::string_view key, std::string_view value) {
  if (key.empty() || out.metadata.size() >= kMaxMetadataEntries) return;
  std::string k = capped(key, kMaxKeyBytes);
  for (const auto& [have, v] : out.metadata)
    if (have == k) return;
  out.metadata.emplace_back(std::move(k), capped(value, kMaxValueBytes));
}

}  // namespace

void read_headers(const Headers& headers, std::string_view user_header, std::string_view session_header,
                  Attribution& out) {
  if (!user_header.empty()) fill(out.user_id, header_value(headers, user_header));
  if (!session_header.empty()) fill(out.session_id, header_value(headers, session_header));
}

void read_baggage(std::string_view baggage, Attribution& out) {
  if (baggage.empty()) return;
  // Members are k=v with optional ";property" parts; properties are dropped before decoding.
  std::string members;
  for (std::string_view rest = baggage.substr(0, 8192); !rest.empty();) {
    auto comma = rest.find(',');
    std::string_view m = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (!members.empty()) members.push_back(',');
    members.append(m.substr(0, m.find(';')));
  }
  for (const auto& [k, v] : parse_key_value_list(members)) {
    if (k == "user.id") fill(out.user_id, v);
    else if (k == "session.id") fill(out.session_id, v);
    else add_metadata(out, k, v);
  }
}

void read_openai_body(const nlohmann::json& body, Attribution& out) {
  using namespace json_fields;
  fill(out.user_id, str(body, "safety_identifier"));
  fill(out.user_id, str(body, "user"));
  fill(out.prompt_cache_key, str(body, "prompt_cache_key"));
  const auto& md = at(body, "metadata");
  if (md.is_object())
    for (auto it = md.begin(); it != md.end(); ++it)
      if (it.value().is_string()) add_metadata(out, it.key(), it.value().get_ref<const std::string&>());
}

void read_anthropic_body(const nlohmann::json& body, Attribution& out) {
  using namespace json_fields;
  fill(out.user_id, str(at(body, "metadata"), "user_id"));
}

}  // namespace llmtap::attribution
