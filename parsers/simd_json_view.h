#pragma once
// json_view over a simdjson DOM element (valid until its parser parses again). Included only by
// the files that instantiate the fast path, to keep simdjson out of every other translation unit.
#include <simdjson.h>

#include <cstring>

#include "parsers/json_view.h"

namespace llmtap::json_view {

// Appends what nlohmann's compact dump() prints for SimdView(e).to_json() (parsers/simd_json_dump.cc).
void dump_like_nlohmann(simdjson::dom::element e, std::string& out);

class SimdView {
 public:
  SimdView() = default;  // a missing member: reads as null
  explicit SimdView(simdjson::dom::element e) : e_(e), present_(true) {}
  SimdView at(std::string_view key) const;
  // at() of each of `keys` in one pass over the members (the last repeated key still wins).
  template <std::size_t N>
  std::array<SimdView, N> members(const std::array<std::string_view, N>& keys) const {
    std::array<SimdView, N> found{};
    if (!is_object()) return found;
    simdjson::dom::object obj = e_.get_object().value_unsafe();
    for (auto field : obj)
      for (std::size_t i = 0; i < N; ++i)
        if (same_key(field.key, keys[i])) found[i] = SimdView(field.value);
    return found;
  }
  bool is_null() const { return !present_ || type() == simdjson::dom::element_type::NULL_VALUE; }
  bool is_string() const { return present_ && type() == simdjson::dom::element_type::STRING; }
  bool is_object() const { return present_ && type() == simdjson::dom::element_type::OBJECT; }
  bool is_array() const { return present_ && type() == simdjson::dom::element_type::ARRAY; }
  bool is_number() const;
  std::size_t array_size() const { return is_array() ? e_.get_array().value_unsafe().size() : 0; }
  std::string_view string() const { return is_string() ? e_.get_string().value_unsafe() : std::string_view(); }
  std::int64_t i64() const;
  bool boolean() const;
  template <class F>
  void for_each(F&& f) const {
    if (!is_array()) return;
    simdjson::dom::array arr = e_.get_array().value_unsafe();  // a named copy: the result is a temporary
    for (simdjson::dom::element e : arr) f(SimdView(e));
  }
  std::string compact_arguments() const;
  std::string schema_hash() const;
  // The same value as an nlohmann DOM (exact: the same types, last-wins keys), for the few small
  // pieces whose text or hash nlohmann defines (tool arguments, schemas, metadata).
  nlohmann::json to_json() const;
  template <class F>
  void with_members(std::initializer_list<std::string_view> keys, F&& f) const {
    nlohmann::json j = nlohmann::json::object();
    for (std::string_view k : keys) {
      SimdView v = at(k);
      if (v.present_) j[std::string(k)] = v.to_json();
    }
    f(j);
  }

 private:
  // Keys differ mostly in length or first byte: test those first; the short rest inline (a call
  // to memcmp per field cost more than the comparison).
  static bool same_key(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    if (a[0] != b[0]) return false;
    if (a.size() > 24) return std::memcmp(a.data(), b.data(), a.size()) == 0;
    for (std::size_t i = 1; i < a.size(); ++i)
      if (a[i] != b[i]) return false;
    return true;
  }
  simdjson::dom::element_type type() const { return e_.type(); }
  simdjson::dom::element e_;
  bool present_ = false;
};

}  // namespace llmtap::json_view
