#pragma once
// The trace stage's side of request-prefix elision (parsers/request_prefix.h). A request whose
// leading messages the parser left out (ModelCall::input_prefix.elided_key) continues from the
// history digest the trace stage computed for the request that first carried them, instead of
// hashing those messages again: per turn, only the new messages are hashed.
//
// An entry is a function of the bytes its key names (their messages' digest), not of a
// conversation, so it stays valid after the conversation closes: a turn after the idle close still
// resumes its dormant run with the right history. Each conversation keeps one entry (its latest
// request's; a newer one replaces it), and at most kMaxEntries (~100 B each) are kept in all, the
// oldest dropped first. A request naming a key not kept is read as what it carries, the new messages
// only: it still joins its conversation through its tool results' call ids, else starts a new one.
#include <cstdint>
#include <list>
#include <optional>
#include <unordered_map>

#include "common/model_call.h"
#include "trace/conversation_items.h"
#include "trace/history_digest.h"

namespace llmtap::trace {

class ElidedHistories {
 public:
  using ConvId = std::uint64_t;
  static constexpr std::size_t kMaxEntries = 4096;

  struct Entry {
    HistoryDigest input;       // the digest of the whole input of the request the key names
    bool ids_stable = true;    // computed with call ids (stable_call_ids) or without
    bool synthesized = false;  // that input holds call ids a parser made up
  };

  // The entry for the messages `call` left out, as `call` must read them: with `ids_stable` of the
  // whole call (updated here for the left-out messages' ids). Null when not known or computed the
  // other way.
  std::optional<Entry> find(const ModelCall& call, bool& ids_stable) const;
  // `conv`'s latest request (`call`, whose whole input has digest `input`).
  void remember(const ModelCall& call, ConvId conv, const HistoryDigest& input, bool ids_stable,
                const std::optional<Entry>& elided);
  std::size_t size() const { return entries_.size(); }

 private:
  struct Slot {
    std::uint64_t key;
    ConvId conv;
    Entry entry;
  };
  void erase(std::list<Slot>::iterator it);
  std::list<Slot> entries_;  // oldest first
  std::unordered_map<std::uint64_t, std::list<Slot>::iterator> by_key_;
  std::unordered_map<ConvId, std::list<Slot>::iterator> by_conv_;
};

// A request's items as conversation_items() gives them, continuing `base` (the left-out messages'
// digest): prefix[0] is base's chain.
ConversationItems conversation_items_after(const HistoryDigest& base, const std::vector<Message>& messages,
                                           bool ids_stable);

}  // namespace llmtap::trace
