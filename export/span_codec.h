#pragma once
// The store's compact encoding of span attributes (and, for the overflow spool, of whole traces):
// varints, a type byte per value, and attribute keys either as small ids from the store's key table
// or written out. One row per span instead of one row per attribute is what lets the store keep up
// (SQLite's cost is per row and per index entry, not per byte).
//   attribute := varint(position) key value
//   key       := varint(id << 1) | varint(len << 1 | 1) bytes
//   value     := 0 varint(len) bytes            string
//              | 1 varint(zigzag)               int
//              | 2 8 bytes little-endian        double
//              | 3 | 4                          false | true
//              | 5 varint(n) n*(varint(len) bytes)   string list
// Decoders never trust the input: a short or malformed blob is an error, never a read past its end.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/span.h"

namespace llmtap::exporting::codec {

// Attribute keys <-> ids. The store fills it from its attr_keys table; ids are only ever added.
class KeyDictionary {
 public:
  // The id of KEY, or -1 if unknown.
  std::int64_t find(std::string_view key) const;
  const std::string* key(std::uint64_t id) const;
  void add(std::uint64_t id, std::string key);
  // Forget every id added after mark() (their transaction rolled back).
  void mark() { mark_ = order_.size(); }
  void rollback();
  std::size_t size() const { return order_.size(); }
  // Every (id, key), in the order added.
  void for_each(const std::function<void(std::uint64_t, const std::string&)>& visit) const {
    for (std::uint64_t id : order_) visit(id, keys_.at(id));
  }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, std::uint64_t, Hash, std::equal_to<>> ids_;
  std::unordered_map<std::uint64_t, std::string> keys_;
  std::vector<std::uint64_t> order_;
  std::size_t mark_ = 0;
};

// Appends attribute A (at POSITION in its span) to OUT; KEY_ID < 0 writes the key out.
void append_attribute(std::string& out, std::uint64_t position, std::int64_t key_id, const Attribute& a);

// Decodes every attribute of IN, appending (position, attribute) to OUT. KEYS may be null when every
// key is written out. False on malformed input or an id KEYS does not know (*unknown_id set to it).
bool decode_attributes(std::string_view in, const KeyDictionary* keys,
                       std::vector<std::pair<std::uint64_t, Attribute>>& out, std::uint64_t* unknown_id = nullptr);

// A whole trace (ids, names, kinds, times, status, attributes with keys written out), for the spool.
void encode_trace(const Trace& trace, std::string& out);
bool decode_trace(std::string_view in, Trace& out);

// A trace without its ids, for the store's per-trace report projection (report_projection.h):
//   trace  := varint(n) span*n
//   span   := parent bytes(name) kind-byte varint(zigzag start) varint(zigzag duration) error-byte
//             bytes(attributes, keys as ids)
//   parent := varint(0) none | varint(2 * index + 1) a span of the trace | varint(2) bytes(id) another
// Decoded span ids are the spans' indexes ("0", "1", ...). KEY_ID gives a key's id (-1: encoding fails).
bool encode_compact_trace(const Trace& trace, const std::function<std::int64_t(std::string_view)>& key_id,
                          std::string& out);
// OUT.trace_id is kept. False on malformed input or an id KEYS does not know (*unknown_id set to it).
bool decode_compact_trace(std::string_view in, const KeyDictionary& keys, Trace& out, std::uint64_t* unknown_id);

// Rough bytes a trace holds in memory (queue bounds): approx_trace_bytes (common/trace_size.h).
std::size_t approx_size(const Trace& trace);

}  // namespace llmtap::exporting::codec
