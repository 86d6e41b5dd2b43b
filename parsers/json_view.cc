#include "parsers/simd_json_view.h"

namespace llmtap::json_view {

using simdjson::dom::element_type;

SimdView SimdView::at(std::string_view key) const {
  SimdView found;
  if (!is_object()) return found;
  // Linear, and the last match wins: nlohmann keeps a repeated key's last value.
  const std::uint64_t word = key_word(key);
  simdjson::dom::object obj = e_.get_object().value_unsafe();
  for (auto field : obj)
    if (member_key_word(field.key) == word && same_tail(field.key, key)) found = SimdView(field.value);
  return found;
}

bool SimdView::is_number() const {
  if (!present_) return false;
  element_type t = type();
  return t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE;
}

std::int64_t SimdView::i64() const {
  if (!present_) return 0;
  switch (type()) {
    case element_type::INT64: return e_.get_int64().value_unsafe();
    // As json_fields::number_to_i64: an unsigned integer converts (wrapping above INT64_MAX).
    case element_type::UINT64: return static_cast<std::int64_t>(e_.get_uint64().value_unsafe());
    case element_type::DOUBLE: return json_fields::double_to_i64(e_.get_double().value_unsafe());
    default: return 0;
  }
}

bool SimdView::boolean() const { return present_ && type() == element_type::BOOL && e_.get_bool().value_unsafe(); }

std::string SimdView::compact_arguments() const {
  if (is_string()) return std::string(string());
  if (is_null()) return "{}";
  std::string out;
  dump_like_nlohmann(e_, out);
  return out;
}

std::string SimdView::schema_hash() const {
  if (!present_) return json_fields::schema_hash(nullptr);
  std::string canon;
  dump_like_nlohmann(e_, canon);
  return json_fields::schema_hash_of_text(canon);
}

nlohmann::json SimdView::to_json() const {
  if (!present_) return nullptr;
  switch (type()) {
    case element_type::OBJECT: {
      nlohmann::json j = nlohmann::json::object();
      simdjson::dom::object obj = e_.get_object().value_unsafe();
      for (auto field : obj) j[std::string(field.key)] = SimdView(field.value).to_json();
      return j;
    }
    case element_type::ARRAY: {
      nlohmann::json j = nlohmann::json::array();
      simdjson::dom::array arr = e_.get_array().value_unsafe();
      for (simdjson::dom::element e : arr) j.push_back(SimdView(e).to_json());
      return j;
    }
    case element_type::STRING: return std::string(string());
    // nlohmann stores non-negative integers as unsigned, negative ones as signed.
    case element_type::INT64: {
      std::int64_t v = e_.get_int64().value_unsafe();
      if (v >= 0) return static_cast<std::uint64_t>(v);
      return v;
    }
    case element_type::UINT64: return e_.get_uint64().value_unsafe();
    case element_type::DOUBLE: return e_.get_double().value_unsafe();
    case element_type::BOOL: return e_.get_bool().value_unsafe();
    case element_type::NULL_VALUE: return nullptr;
  }
  return nullptr;
}

}  // namespace llmtap::json_view
