#pragma once
// json_view over a simdjson DOM element (valid until its parser parses again). Included only by
// the files that instantiate the fast path, to keep simdjson out of every other translation unit.
#include <simdjson.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <utility>

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
  std::array<SimdView, N> members(const Keys<N>& keys) const {
    return members_by_word(keys);
  }
  bool is_null() const { return !present_ || type() == simdjson::dom::element_type::NULL_VALUE; }
  bool is_string() const { return present_ && type() == simdjson::dom::element_type::STRING; }
  bool is_object() const { return present_ && type() == simdjson::dom::element_type::OBJECT; }
  bool is_array() const { return present_ && type() == simdjson::dom::element_type::ARRAY; }
  bool is_number() const;
  std::size_t array_size() const { return is_array() ? e_.get_array().value_unsafe().size() : 0; }
  std::string_view string() const {
    std::string_view s;  // one type check (is_string() then get_string() made two)
    return present_ && e_.get(s) == simdjson::SUCCESS ? s : std::string_view();
  }
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
    with_members_as_json(*this, keys, f);
  }
  bool present() const { return present_; }  // false: a missing member

 private:
  template <std::size_t N>
  std::array<SimdView, N> members_by_word(const Keys<N>& keys) const {
    std::array<SimdView, N> found{};
    if (!is_object()) return found;
    simdjson::dom::object obj = e_.get_object().value_unsafe();
    for (auto field : obj) {
      const std::uint64_t w = member_key_word(field.key);
      // Unrolled over the keys (a loop's counter and bounds were a third of a stream's lookups);
      // stops at the first match: the keys are distinct (Keys checks it).
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        (void)((w == keys.words[I] && same_tail(field.key, keys.names[I], keys.tails[I]) &&
                (found[I] = SimdView(field.value), true)) ||
               ...);
      }(std::make_index_sequence<N>());
    }
    return found;
  }
  // key_word (parsers/json_view.h) of a member's key in the DOM, its 8 bytes read at once:
  // simdjson's string buffer ends every string with a NUL and the buffer with SIMDJSON_PADDING
  // bytes, so they are readable.
  static std::uint64_t member_key_word(std::string_view k) {
    std::uint64_t w;
    std::memcpy(&w, k.data(), 8);
    static_assert(std::endian::native == std::endian::little, "key words are read little-endian");
    w &= k.size() < 7 ? (std::uint64_t{1} << (8 * k.size())) - 1 : 0x00FFFFFFFFFFFFFFull;
    return w | (static_cast<std::uint64_t>(k.size() < 255 ? k.size() : 255) << 56);
  }
  // After equal words: the bytes past the 7th (and the length, when past 255).
  static bool same_tail(std::string_view a, std::string_view b) {
    return a.size() <= 7 || (a.size() == b.size() && std::memcmp(a.data() + 7, b.data() + 7, a.size() - 7) == 0);
  }
  // The same with b's tail_word (json_view.h): a key of 8 to 15 bytes compares in one more word,
  // read from the DOM's string buffer as member_key_word reads (equal words: equal lengths).
  static bool same_tail(std::string_view a, std::string_view b, std::uint64_t b_tail) {
    if (a.size() <= 7) return true;
    if (a.size() > 15) return same_tail(a, b);
    std::uint64_t w;
    std::memcpy(&w, a.data() + 7, 8);
    return (w & (~std::uint64_t{0} >> (8 * (15 - a.size())))) == b_tail;
  }
  simdjson::dom::element_type type() const { return e_.type(); }
  simdjson::dom::element e_;
  bool present_ = false;
};

}  // namespace llmtap::json_view
