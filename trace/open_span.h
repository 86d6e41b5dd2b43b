#pragma once
// Compact storage of the spans of open traces. An open trace may wait 30 s for its next call and a
// gateway holds tens of thousands of them, so a span is kept in a few bytes until the trace
// closes, then becomes a common `Span`:
//  - strings as one exact-size heap block (CompactString, 8 bytes, nothing when empty);
//  - attributes as one encoded byte blob, keys interned to 16-bit ids (attribute_key_id), so a
//    key is stored once per process, not once per span.
#include <array>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/span.h"

namespace llmtap::trace {

// An immutable string in one exact-size allocation (reference count, length, bytes), 8 bytes
// when held. Copies share the block (the count is atomic: a copy may be released on another
// thread), so the agent fingerprint a conversation, its agent span and its output items all name
// costs one block, not one each.
class CompactString {
 public:
  CompactString() = default;
  CompactString(std::string_view s) { assign(s); }  // NOLINT: used as a drop-in for std::string
  CompactString(const std::string& s) { assign(s); }  // NOLINT
  CompactString(const char* s) { assign(s); }         // NOLINT
  CompactString(const CompactString& o) noexcept : p_(o.p_) { retain(); }
  CompactString(CompactString&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  ~CompactString() { release(); }
  CompactString& operator=(const CompactString& o) noexcept {
    if (p_ != o.p_) {
      release();
      p_ = o.p_;
      retain();
    }
    return *this;
  }
  CompactString& operator=(CompactString&& o) noexcept {
    if (this != &o) {
      release();
      p_ = o.p_;
      o.p_ = nullptr;
    }
    return *this;
  }
  CompactString& operator=(std::string_view s) { return assign(s), *this; }
  CompactString& operator=(const std::string& s) { return assign(s), *this; }
  CompactString& operator=(const char* s) { return assign(s), *this; }

  std::string_view view() const {
    if (!p_) return {};
    std::uint32_t n;
    __builtin_memcpy(&n, p_ + kLengthAt, sizeof n);
    return {p_ + kHeader, n};
  }
  std::string str() const { return std::string(view()); }
  operator std::string() const { return str(); }  // NOLINT: reads like the std::string it replaced
  bool empty() const { return !p_; }
  std::size_t size() const { return view().size(); }
  friend bool operator==(const CompactString& a, const CompactString& b) {
    return a.p_ == b.p_ || a.view() == b.view();
  }
  friend bool operator==(const CompactString& a, const std::string& b) { return a.view() == b; }
  friend bool operator==(const std::string& a, const CompactString& b) { return b.view() == a; }
  friend bool operator!=(const CompactString& a, const std::string& b) { return !(a == b); }
  friend bool operator!=(const std::string& a, const CompactString& b) { return !(b == a); }

 private:
  static constexpr std::size_t kLengthAt = sizeof(std::uint32_t);
  static constexpr std::size_t kHeader = 2 * sizeof(std::uint32_t);
  std::uint32_t* refs() const { return reinterpret_cast<std::uint32_t*>(p_); }
  void retain() const {
    if (p_) __atomic_fetch_add(refs(), 1, __ATOMIC_RELAXED);
  }
  void release() noexcept;
  void assign(std::string_view s);
  char* p_ = nullptr;
};

// The process-wide id of an attribute key. The table is bounded: keys past it (client-named
// llmtap.metadata.* keys beyond the first thousands) return kUninternedKey and are stored inline.
inline constexpr std::uint16_t kUninternedKey = 0xffff;
std::uint16_t attribute_key_id(std::string_view key);
std::string_view attribute_key(std::uint16_t id);

// A span id (16 lowercase hex digits, as new_span_id() makes them) kept as the 64-bit number
// they spell.
class SpanIdText {
 public:
  SpanIdText& operator=(std::string_view s) {
    v_ = 0;
    for (char c : s.substr(0, 16)) v_ = v_ << 4 | static_cast<std::uint64_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    return *this;
  }
  // The 16 digits without a heap string (16 characters are one more than std::string keeps inline).
  std::array<char, 16> digits() const {
    static constexpr char kHex[] = "0123456789abcdef";
    std::array<char, 16> out{};
    for (int i = 15; i >= 0; --i) out[static_cast<std::size_t>(i)] = kHex[(v_ >> (4 * (15 - i))) & 0xf];
    return out;
  }
  std::string str() const {
    const auto d = digits();
    return std::string(d.data(), d.size());
  }

 private:
  std::uint64_t v_ = 0;
};

class OpenSpan {
 public:
  OpenSpan() { new (&attrs_) CompactString(); }
  OpenSpan(OpenSpan&& o) noexcept;
  OpenSpan& operator=(OpenSpan&& o) noexcept;
  ~OpenSpan() { drop_attributes(); }
  // Copies only on purpose (a closed trace's skeleton kept for a late continuation).
  explicit OpenSpan(const OpenSpan& o);
  // A span emitted before, kept compact again (its links are the owner's to keep).
  static OpenSpan from_span(const Span& s);

  SpanIdText span_id;
  CompactString name;
  CompactString status_message;
  SpanKind kind = SpanKind::kGeneration;
  bool error = false;

 private:
  bool building_ = false;  // attributes are being set: building_ holds them, not attrs_

 public:
  UnixNanos start_ns = 0;
  UnixNanos end_ns = 0;

  // Sets KEY to VALUE, replacing an earlier value of KEY (as Span::set).
  template <class T>
  void set(std::string_view key, T&& value) {
    using V = std::decay_t<T>;
    if constexpr (std::is_same_v<V, bool>) {
      set_value(key, AttrValue(static_cast<bool>(value)));
    } else if constexpr (std::is_integral_v<V>) {
      set_value(key, AttrValue(static_cast<std::int64_t>(value)));
    } else if constexpr (std::is_floating_point_v<V>) {
      set_value(key, AttrValue(static_cast<double>(value)));
    } else if constexpr (std::is_same_v<V, std::vector<std::string>>) {
      set_value(key, AttrValue(std::forward<T>(value)));
    } else {
      set_string(key, std::string_view(value));
    }
  }
  // Sets KEY to the dollars PICO picodollars are (pico_to_usd), kept as the integer: a cost
  // takes 4-6 bytes instead of a double's 8, and reads back as the same double.
  void set_usd(std::string_view key, std::int64_t pico);
  std::size_t attribute_count() const;
  void reserve_attributes(std::size_t bytes) { building().reserve(bytes); }
  // Stores the attributes in one exact-size block once the span is built (it then waits in an
  // open trace); a later set() works on a copy.
  void shrink();
  // The span as export/ sees it (trace and parent ids are set by the caller), with room for SPARE
  // more attributes.
  Span to_span(std::size_t spare = 0) const;
  // The encoded attributes once shrunk, for storage that keeps a span's parts apart (SpanTree's
  // single-call form): the block they are in, or their bytes; set back the same way.
  const CompactString& attribute_block() const { return attrs_; }
  void set_attribute_block(CompactString block);
  std::string_view encoded_attributes() const { return blob(); }
  void set_encoded_attributes(std::string_view bytes);  // as shrink() keeps them
  // Heap bytes it holds (for the budgets of what is kept).
  std::size_t heap_bytes() const { return name.size() + status_message.size() + blob().size(); }

 private:
  void set_value(std::string_view key, const AttrValue& v);
  void set_string(std::string_view key, std::string_view v);
  // The attributes while they are being set, with which keys may already hold an entry: bit
  // (id % 64) of a key id set once, so the common set() of a new key appends without reading the
  // entries before it (a generation span sets ~25 keys; the search was O(n^2)). All ones: unknown
  // (the text was made from a built blob).
  struct Building {
    std::string text;
    std::uint64_t ids_maybe_set = ~std::uint64_t{0};
  };
  std::string& building() { return building_state().text; }
  Building& building_state();
  template <class Encode>
  static void put_entry(Building& b, std::uint16_t id, std::string_view key, const Encode& encode);
  std::string_view blob() const { return building_ ? std::string_view(building_text_->text) : attrs_.view(); }
  void drop_attributes() noexcept;
  void take_attributes(OpenSpan& o) noexcept;
  // One of the two, by building_: the encoded attributes (see open_span.cc) once built, in one
  // shared block; the text they are built in while they are being set.
  union {
    CompactString attrs_;
    Building* building_text_;
  };
};

}  // namespace llmtap::trace
