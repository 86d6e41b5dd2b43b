#pragma once
// A conversation's history as far as matching needs it: the chained hash of its items (what a
// later request's prefix is compared with), its first item and its length. Kept instead of the
// item hashes themselves, so a state remembered under a response id costs the same at turn 300
// as at turn 1, and extending it costs the new items only.
#include <cstdint>

#include "trace/conversation_items.h"

namespace llmtap::trace {

struct HistoryDigest {
  std::uint64_t chain = kEmptyConversationHash;
  std::uint64_t first = 0;  // hash of the first item; 0 when empty
  std::uint32_t length = 0;

  bool empty() const { return length == 0; }
  void append(std::uint64_t item_hash) {
    if (length++ == 0) first = item_hash;
    chain = chain_hash(chain, item_hash);
  }
};

}  // namespace llmtap::trace
