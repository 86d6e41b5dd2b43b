#pragma once
// Open conversations by a 64-bit text key (their first user message, their last answer), for
// side-call evidence. Most keys name one conversation and cost one 8-byte slot; a key that many
// share (every client sending the same first turn, every run answering "ok") keeps its
// conversations in an ordered set, so removing one when its trace closes does not scan the
// others (a multimap did: closing n such traces took O(n^2)). Visits run oldest id first.
#include <cstdint>
#include <set>
#include <unordered_map>

namespace llmtap::trace {

class ConversationIndex {
 public:
  ConversationIndex() = default;
  ConversationIndex(const ConversationIndex&) = delete;
  ConversationIndex& operator=(const ConversationIndex&) = delete;
  ~ConversationIndex() {
    for (auto& [key, slot] : slots_) delete many(slot);
  }

  // CONV ids are below 2^63 (the low bit of a slot tells a set pointer from an id).
  void add(std::uint64_t key, std::uint64_t conv) {
    auto [it, fresh] = slots_.try_emplace(key, conv << 1);
    if (fresh) return;
    std::set<std::uint64_t>* set = many(it->second);
    if (set == nullptr) {
      set = new std::set<std::uint64_t>{it->second >> 1};
      it->second = reinterpret_cast<std::uintptr_t>(set) | 1;
    }
    set->insert(conv);
  }

  void erase(std::uint64_t key, std::uint64_t conv) {
    auto it = slots_.find(key);
    if (it == slots_.end()) return;
    std::set<std::uint64_t>* set = many(it->second);
    if (set == nullptr) {
      if (it->second >> 1 == conv) slots_.erase(it);
      return;
    }
    set->erase(conv);
    if (set->empty()) {
      delete set;
      slots_.erase(it);
    }
  }

  // No key indexed: a caller may skip computing the keys it would look up.
  bool empty() const { return slots_.empty(); }

  // Calls VISIT(conv) for the conversations under KEY, oldest first, until it returns false.
  template <class Visit>
  void for_each(std::uint64_t key, Visit&& visit) const {
    auto it = slots_.find(key);
    if (it == slots_.end()) return;
    if (const std::set<std::uint64_t>* set = many(it->second)) {
      for (std::uint64_t conv : *set)
        if (!visit(conv)) return;
    } else {
      visit(it->second >> 1);
    }
  }

 private:
  static std::set<std::uint64_t>* many(std::uint64_t slot) {
    return (slot & 1) != 0 ? reinterpret_cast<std::set<std::uint64_t>*>(static_cast<std::uintptr_t>(slot & ~std::uint64_t{1}))
                           : nullptr;
  }
  std::unordered_map<std::uint64_t, std::uint64_t> slots_;  // key -> conv << 1, or set pointer | 1
};

}  // namespace llmtap::trace
