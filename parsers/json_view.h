#pragma once
// Read-only views of a JSON value with one interface over two parsers, so a provider's mapping
// from JSON to ModelCall is written once (as a template) and read either from an nlohmann DOM (the
// reference path, lenient about ill-formed UTF-8) or from a simdjson DOM (the fast path for large
// request bodies, parsers/fast_request.h). Semantics are nlohmann's: a missing member reads as
// null, a repeated key's last value wins, numbers convert as json_fields::i64 does.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "parsers/json_fields.h"

namespace llmtap::json_view {

// A key's length and first 7 bytes in one word (little-endian): most keys differ there, so the
// fast path compares a member's key with each wanted key in one instruction.
constexpr std::uint64_t key_word(std::string_view k) {
  std::uint64_t w = 0;  // built in a register: bytes stored then read as a word would stall
  for (std::size_t i = 0; i < k.size() && i < 7; ++i)
    w |= static_cast<std::uint64_t>(static_cast<unsigned char>(k[i])) << (8 * i);
  return w | (static_cast<std::uint64_t>(k.size() < 255 ? k.size() : 255) << 56);
}

// A key's bytes past its 7th, up to 8 of them, in one word (little-endian), for keys of 8 to 15 bytes;
// 0 for others.
constexpr std::uint64_t tail_word(std::string_view k) {
  std::uint64_t w = 0;
  for (std::size_t i = 7; k.size() > 7 && k.size() <= 15 && i < k.size(); ++i)
    w |= static_cast<std::uint64_t>(static_cast<unsigned char>(k[i])) << (8 * (i - 7));
  return w;
}

// The keys one members() call looks up, with their key and tail words computed at compile time.
template <std::size_t N>
struct Keys {
  consteval Keys(const std::array<std::string_view, N>& n) : names(n), words{}, tails{} {
    for (std::size_t i = 0; i < N; ++i) {
      words[i] = key_word(n[i]);
      tails[i] = tail_word(n[i]);
      // Distinct, so a member's key matches at most one of them (SimdView stops at the first).
      for (std::size_t j = 0; j < i; ++j)
        if (n[i] == n[j]) throw "a key is listed twice";  // not a constant expression: a compile error
    }
  }
  std::array<std::string_view, N> names;
  std::array<std::uint64_t, N> words;
  std::array<std::uint64_t, N> tails;
};

class NlohmannView {
 public:
  explicit NlohmannView(const nlohmann::json& j) : j_(&j) {}
  NlohmannView at(std::string_view key) const { return NlohmannView(json_fields::at(*j_, key)); }
  // at() of each of `keys` (one pass over the members where that is cheaper).
  template <std::size_t N>
  std::array<NlohmannView, N> members(const Keys<N>& keys) const {
    return members_by_at(*this, keys.names);
  }
  bool is_null() const { return j_->is_null(); }
  bool is_string() const { return j_->is_string(); }
  bool is_object() const { return j_->is_object(); }
  bool is_array() const { return j_->is_array(); }
  bool is_number() const { return j_->is_number(); }
  std::size_t array_size() const { return j_->is_array() ? j_->size() : 0; }
  std::string_view string() const {
    return j_->is_string() ? std::string_view(j_->get_ref<const std::string&>()) : std::string_view();
  }
  std::int64_t i64() const { return json_fields::number_to_i64(*j_); }
  bool boolean() const { return j_->is_boolean() && j_->get<bool>(); }
  template <class F>
  void for_each(F&& f) const {
    if (j_->is_array())
      for (const auto& e : *j_) f(NlohmannView(e));
  }
  std::string compact_arguments() const { return json_fields::compact_arguments(*j_); }
  std::string schema_hash() const { return json_fields::schema_hash(*j_); }
  // The value as an nlohmann DOM (as SimdView::to_json; here the value itself).
  const nlohmann::json& to_json() const { return *j_; }
  // Calls f with an nlohmann object holding at least the members `keys` (here: this value itself).
  template <class F>
  void with_members(std::initializer_list<std::string_view>, F&& f) const {
    f(*j_);
  }

 private:
  const nlohmann::json* j_;
};

template <class V, std::size_t N>
std::array<V, N> members_by_at(const V& v, const std::array<std::string_view, N>& keys) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<V, N>{v.at(keys[I])...};
  }(std::make_index_sequence<N>());
}

// with_members of a view over a parsed document (SimdView, FlatView): an nlohmann object of the
// members of `keys` that are present.
template <class V, class F>
void with_members_as_json(const V& v, std::initializer_list<std::string_view> keys, F&& f) {
  nlohmann::json j = nlohmann::json::object();
  for (std::string_view k : keys) {
    V m = v.at(k);
    if (m.present()) j[std::string(k)] = m.to_json();
  }
  f(j);
}

// Member `key` as a string ("" when missing or not a string).
template <class V>
std::string str(const V& v, std::string_view key) {
  return std::string(v.at(key).string());
}
// Member `key` as a view of its string ("" when missing or not a string): no copy.
template <class V>
std::string_view sv(const V& v, std::string_view key) {
  return v.at(key).string();
}
// Assigns member `key` to `out` when it is a non-empty string (reusing out's capacity).
template <class V>
void assign_nonempty(const V& v, std::string_view key, std::string& out) {
  std::string_view s = v.at(key).string();
  if (!s.empty()) out.assign(s);
}
template <class V>
bool has(const V& v, std::string_view key) {
  return !v.at(key).is_null();
}
template <class V>
std::int64_t i64(const V& v, std::string_view key) {
  return v.at(key).i64();
}

// json_fields::content_text over a view.
template <class V>
std::string content_text(const V& content, std::string_view sep = "\n") {
  if (content.is_string()) return std::string(content.string());
  std::string out;
  bool first = true;
  content.for_each([&](const V& part) {
    std::string_view t;
    if (part.is_string()) {
      t = part.string();
    } else {
      V text = part.at("text");
      if (!text.is_string()) return;
      t = text.string();
    }
    if (!first) out.append(sep);
    out.append(t);
    first = false;
  });
  return out;
}

// json_fields::looks_like_error_body over a view.
template <class V>
bool looks_like_error_body(const V& body) {
  if (!body.is_object()) return false;
  if (sv(body, "type") == "error") return true;
  V e = body.at("error");
  if (!e.is_object() && !e.is_string()) return false;
  for (std::string_view result : {"id", "object", "choices", "candidates", "output", "message", "data"}) {
    if (has(body, result)) return false;
  }
  return true;
}

}  // namespace llmtap::json_view
