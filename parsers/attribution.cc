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

// Some clients pack several ids into one string field as a JSON object (Claude Code's
// metadata.user_id: {"device_id","account_uuid","session_id"}). Which members name what, first
// non-empty wins: a logged-in account before the device; the session apart, so the user does not
// change with every session.
constexpr std::string_view kPackedUserKeys[] = {"user_id", "account_uuid", "account_id", "device_id"};
constexpr std::string_view kPackedSessionKeys[] = {"session_id", "conversation_id"};
// Larger values are taken as sent, unparsed.
constexpr std::size_t kMaxPackedBytes = 4096;

bool one_of(std::string_view key, const auto& keys) {
  for (auto k : keys)
    if (k == key) return true;
  return false;
}

// The first non-empty string member of OBJ named in KEYS, by the table's order.
std::string_view first_member(const nlohmann::json& obj, const auto& keys) {
  for (auto k : keys) {
    auto it = obj.find(k);
    if (it != obj.end() && it->is_string() && !it->template get_ref<const std::string&>().empty())
      return it->template get_ref<const std::string&>();
  }
  return {};
}

// The user (and session) a body's user field names: the ids packed in it when it is a JSON object
// with a user or session member (its other string members become metadata); else the value as sent.
void fill_user(Attribution& out, std::string_view value) {
  if (!value.empty() && value.front() == '{' && value.size() <= kMaxPackedBytes) {
    const auto packed = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
    if (packed.is_object()) {
      const std::string_view user = first_member(packed, kPackedUserKeys);
      const std::string_view session = first_member(packed, kPackedSessionKeys);
      if (!user.empty() || !session.empty()) {
        fill(out.user_id, user);
        fill(out.session_id, session);
        for (auto it = packed.begin(); it != packed.end(); ++it)
          if (it->is_string() && !one_of(it.key(), kPackedUserKeys) && !one_of(it.key(), kPackedSessionKeys))
            add_metadata(out, it.key(), it->get_ref<const std::string&>());
        return;
      }
    }
  }
  fill(out.user_id, value);
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
  fill_user(out, str(body, "safety_identifier"));
  fill_user(out, str(body, "user"));
  fill(out.prompt_cache_key, str(body, "prompt_cache_key"));
  const auto& md = at(body, "metadata");
  if (md.is_object())
    for (auto it = md.begin(); it != md.end(); ++it)
      if (it.value().is_string()) add_metadata(out, it.key(), it.value().get_ref<const std::string&>());
}

void read_anthropic_body(const nlohmann::json& body, Attribution& out) {
  using namespace json_fields;
  fill_user(out, str(at(body, "metadata"), "user_id"));
}

}  // namespace llmtap::attribution
