#pragma once
// The continuation keys of closed traces, so a call that arrives after its trace's idle timeout
// (a human approving a tool, a slow tool, a new user turn) still finds the run it continues.
//
// Keys are strings naming what a later call can carry: an open tool call id, a response id
// (previous_response_id), a Responses conversation id, a conversation state hash. Each entry is
// one closed trace (its payload is kept by the owner under the entry id). Memory is bounded: when
// the entries' bytes exceed the budget or their count the cap, the least recently used entries are
// evicted (counted in stats().evicted) and the owner drops their payloads (take_evicted()).
// A key names the latest entry that registered it (a conversation's later trace wins); a shared key
// (a conversation state two runs can both be in: identical first turns) names an entry only while
// it alone holds it, so an ambiguous continuation never picks one of several runs.
// With a shared MemoryBudget the entries' bytes are charged to it, and past its soft limit the
// least recently used entries are evicted too.
// Keys are held as their 64-bit XXH3 hashes, as the open traces' response ids are
// (trace_assembler.h, response_key): a closed trace costs no key strings, and a lookup no copy.
// Two keys that hash alike would act as one (odds ~1e-10 with 100k entries kept).
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/memory_budget.h"

namespace llmtap::trace {

struct ContinuationStats {
  std::uint64_t kept = 0;     // closed traces currently indexed
  std::uint64_t bytes = 0;    // their estimated bytes
  std::uint64_t evicted = 0;  // dropped over the budget before anything continued them
  std::uint64_t rejoined = 0; // late calls that joined their closed trace again
  std::uint64_t linked = 0;   // new user turns that started a new trace linked to the closed one
};

class ContinuationIndex {
 public:
  using EntryId = std::uint64_t;

  ContinuationIndex(std::size_t max_bytes, std::size_t max_entries, std::shared_ptr<MemoryBudget> budget = nullptr);
  ~ContinuationIndex();
  ContinuationIndex(const ContinuationIndex&) = delete;
  ContinuationIndex& operator=(const ContinuationIndex&) = delete;

  // Adds an entry of about BYTES under KEYS and SHARED_KEYS (the most recent use). May evict older
  // entries. Returns 0 (nothing kept) when the bounds are 0.
  EntryId insert(std::vector<std::string> keys, std::vector<std::string> shared_keys, std::size_t bytes);
  // The entry KEY names, if any; marks it used.
  std::optional<EntryId> find(std::string_view key);
  // Removes an entry (it was continued, or its owner dropped it).
  void erase(EntryId id);
  // Entries evicted since the last call: the owner drops their payloads.
  std::vector<EntryId> take_evicted();

  bool empty() const { return entries_.empty(); }
  void count_rejoined() { ++stats_.rejoined; }
  void count_linked() { ++stats_.linked; }
  ContinuationStats stats() const;

 private:
  struct KeyRef {
    EntryId id = 0;  // 0: held by several entries, names none
    std::uint32_t holders = 0;
  };
  static std::uint64_t hash_of(std::string_view key);
  struct Entry {
    std::vector<std::uint64_t> keys;  // hash_of() each key
    std::size_t bytes = 0;
    std::list<EntryId>::iterator lru;  // position in lru_ (front: most recently used)
  };
  void evict_over_budget();

  std::size_t max_bytes_, max_entries_;
  std::shared_ptr<MemoryBudget> budget_;
  EntryId next_id_ = 1;
  std::size_t bytes_ = 0;
  std::unordered_map<EntryId, Entry> entries_;
  std::unordered_map<std::uint64_t, KeyRef> keys_;
  std::list<EntryId> lru_;
  std::vector<EntryId> evicted_;
  ContinuationStats stats_;
};

}  // namespace llmtap::trace
