#pragma once
// A small JSON document (one stream event) read into a flat array of nodes, for the stream units'
// fast path (parsers/fast_request.h). It costs a fraction of a simdjson DOM parse on a ~100-byte
// event: one scalar pass, strings without escapes left where they are in the text, no tape.
//
// It accepts only a subset of what simdjson accepts, and gives the same values: objects, arrays,
// strings (valid UTF-8, simple escapes and \u escapes outside the surrogate range), non-negative
// integers of at most 18 digits, true, false, null, at most kMaxDepth deep, with JSON whitespace.
// Anything else (floats, negative numbers, surrogate escapes, any error) is declined: the caller
// then reads the text as before (simdjson, else nlohmann), which decides what it means. So a
// mapping over FlatView gives what it gives over SimdView, whose result is the reference's.
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "parsers/json_view.h"

namespace llmtap::json_view {

class FlatJson {
 public:
  enum class Type : std::uint8_t { kNull, kFalse, kTrue, kInt, kString, kArray, kObject };
  struct Node {
    std::uint64_t key_word = 0;  // key_word (json_view.h) of its key, for an object's member
    std::string_view key;        // its key, for an object's member
    std::string_view str;        // a string's value
    std::int64_t num = 0;        // an integer's value
    std::uint32_t next = 0;      // the node after this one's subtree
    std::uint32_t count = 0;     // an array's elements, an object's members
    // A string's or an integer's bytes in the text: [at, end), a string's with its closing quote.
    std::uint32_t at = 0, end = 0;
    Type type = Type::kNull;
  };
  // Readable bytes `text` must have past its end (SseEvent::kPadding, simdjson's padding): blocks
  // of 16 bytes are read at once.
  static constexpr std::size_t kPadding = 64;
  static constexpr int kMaxDepth = 32;
  // Texts longer than this are declined (the node and string storage kept stays small).
  static constexpr std::size_t kMaxText = 4096;
  // Layouts kept, and the longest text one is learned from.
  static constexpr std::size_t kLayouts = 4;
  static constexpr std::size_t kMaxLayoutText = 2048;

  // Reads `text` (kPadding readable bytes past its end). False: declined, root() unspecified.
  // The nodes' strings point into `text` or into this object: valid until the next parse.
  bool parse(std::string_view text);
  const Node* root() const { return root_; }

 private:
  // A stream's events mostly repeat a few layouts (a server prints each kind of event from one
  // template): after a text is read in full, its bytes outside its string and integer values are
  // kept, with its nodes. A later text that has exactly those bytes around values of the same
  // kinds has the same nodes but for those values: it is read by comparing the bytes and scanning
  // the values only. Its JSON is valid (each value is scanned as a full parse would), so it reads
  // as the full parse would have read it.
  static constexpr std::uint32_t kNoNode = ~std::uint32_t{0};
  struct Layout {
    struct Piece {
      std::uint32_t at = 0, size = 0;  // bytes of `text` the event must have here
      std::uint32_t node = kNoNode;    // then the value of nodes[node] (none after the last piece)
    };
    std::string text;  // the text it was learned from (the nodes' keys point into it)
    std::vector<Piece> pieces;
    std::vector<Node> nodes;
    std::uint64_t used = 0;  // when it last matched, for replacing the least recently used
  };
  bool parse_whole(std::string_view text);
  bool match(Layout& layout, std::string_view text);
  void learn(std::string_view text);
  bool string(const char*& p, const char* end, std::uint64_t& high, std::string_view& out);
  bool escaped(const char*& p, const char* from, const char* end, std::uint64_t& high, std::string_view& out);

  const Node* root_ = nullptr;
  std::vector<Node> nodes_;  // grown to the largest text's bound, never shrunk (kMaxText bounds it)
  std::uint32_t size_ = 0;   // nodes of the last full parse
  std::string unescaped_;    // escaped strings' values, reserved up front so views into it stay valid
  std::array<Layout, kLayouts> layouts_;
  std::uint64_t clock_ = 0;
  std::size_t last_ = 0;  // the layout that matched last
};

// json_view over a FlatJson node (parsers/json_view.h has the interface and its semantics).
class FlatView {
 public:
  FlatView() = default;  // a missing member: reads as null
  // The view of a parsed document's root.
  explicit FlatView(const FlatJson& doc) : n_(doc.root()), base_(doc.root()) {}
  FlatView at(std::string_view key) const {
    FlatView found;
    const std::uint64_t word = key_word(key);
    for_each_member([&](const FlatJson::Node* m) {
      if (m->key_word == word && m->key == key) found = FlatView(m, base_);  // the last repeated key wins
    });
    return found;
  }
  // at() of each of `keys` in one pass (the keys are distinct: a member matches at most one).
  template <std::size_t N>
  std::array<FlatView, N> members(const Keys<N>& keys) const {
    std::array<FlatView, N> found{};
    for_each_member([&](const FlatJson::Node* m) {
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        (void)((m->key_word == keys.words[I] && (m->key.size() <= 7 || m->key == keys.names[I]) &&
                (found[I] = FlatView(m, base_), true)) ||
               ...);
      }(std::make_index_sequence<N>());
    });
    return found;
  }
  bool is_null() const { return n_ == nullptr || n_->type == FlatJson::Type::kNull; }
  bool is_string() const { return n_ != nullptr && n_->type == FlatJson::Type::kString; }
  bool is_object() const { return n_ != nullptr && n_->type == FlatJson::Type::kObject; }
  bool is_array() const { return n_ != nullptr && n_->type == FlatJson::Type::kArray; }
  bool is_number() const { return n_ != nullptr && n_->type == FlatJson::Type::kInt; }
  std::size_t array_size() const { return is_array() ? n_->count : 0; }
  std::string_view string() const { return is_string() ? n_->str : std::string_view(); }
  std::int64_t i64() const { return is_number() ? n_->num : 0; }
  bool boolean() const { return n_ != nullptr && n_->type == FlatJson::Type::kTrue; }
  template <class F>
  void for_each(F&& f) const {
    if (!is_array()) return;
    const FlatJson::Node* end = base_ + n_->next;
    for (const FlatJson::Node* e = n_ + 1; e != end; e = base_ + e->next) f(FlatView(e, base_));
  }
  // nlohmann's texts of the value (as the reference prints them), from its nlohmann DOM.
  std::string compact_arguments() const { return json_fields::compact_arguments(to_json()); }
  std::string schema_hash() const { return json_fields::schema_hash(to_json()); }
  // As SimdView::to_json: the same types, last-wins keys.
  nlohmann::json to_json() const;
  template <class F>
  void with_members(std::initializer_list<std::string_view> keys, F&& f) const {
    with_members_as_json(*this, keys, f);
  }
  bool present() const { return n_ != nullptr; }  // false: a missing member

 private:
  FlatView(const FlatJson::Node* n, const FlatJson::Node* base) : n_(n), base_(base) {}
  template <class F>
  void for_each_member(F&& f) const {
    if (!is_object()) return;
    const FlatJson::Node* end = base_ + n_->next;
    for (const FlatJson::Node* m = n_ + 1; m != end; m = base_ + m->next) f(m);
  }
  const FlatJson::Node* n_ = nullptr;
  const FlatJson::Node* base_ = nullptr;  // the document's first node (`next` counts from it)
};

}  // namespace llmtap::json_view
