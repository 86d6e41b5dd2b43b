#pragma once
// A streaming 64-bit hash of text without its whitespace (' ', '\n', '\r', '\t'), so re-indented
// text, trailing spaces and parts joined with or without newlines hash the same. Conversation items
// (conversation_items.h) and the user-content keys (run_evidence.h) are such hashes.
//
// The non-space bytes are gathered into a small buffer a block at a time and fed to XXH3
// (libxxhash), whose stream does not depend on how the input is split: hashing "ab" then "c" is
// hashing "abc". The byte-at-a-time FNV fold it replaces cost about 20 instructions per byte of a
// request's text on the decode thread (issue 16). The values stay in the process (they are compared
// with each other, never stored or shown), so they may differ from one llmtap version to the next.
#include <cstddef>
#include <cstdint>
#include <string_view>

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t in the object
#include <xxhash.h>

namespace llmtap::trace {

bool is_squeezed_space(char c);

class SqueezedHash {
 public:
  SqueezedHash();
  // Adds TEXT's non-space bytes; returns how many.
  std::size_t add_squeezed(std::string_view text);
  // Adds BYTES as they are.
  void add(std::string_view bytes);
  void add_u64(std::uint64_t v);
  std::uint64_t value() const;

 private:
  XXH3_state_t state_;
};

// Hash of fields, each with its length, so ("ab","c") and ("a","bc") differ: a field's bytes are
// followed by their count, which reads back from the end.
class FieldHash {
 public:
  FieldHash& add(std::string_view field) {
    h_.add(field);
    h_.add_u64(field.size());
    return *this;
  }
  // As add() of TEXT without its whitespace, without making that copy (histories re-send megabytes).
  FieldHash& add_squeezed(std::string_view text) {
    h_.add_u64(h_.add_squeezed(text));
    return *this;
  }
  std::uint64_t value() const { return h_.value(); }

 private:
  SqueezedHash h_;
};

}  // namespace llmtap::trace
