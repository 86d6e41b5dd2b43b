#include "trace/continuation_index.h"

#define XXH_INLINE_ALL  // the one-shot hash of a short key, inlined
#include <xxhash.h>

namespace llmtap::trace {

ContinuationIndex::ContinuationIndex(std::size_t max_bytes, std::size_t max_entries,
                                     std::shared_ptr<MemoryBudget> budget)
    : max_bytes_(max_bytes), max_entries_(max_entries), budget_(std::move(budget)) {}

ContinuationIndex::~ContinuationIndex() {
  if (budget_) budget_->release(MemoryBudget::Account::kClosedTraceIndex, bytes_);
}

std::uint64_t ContinuationIndex::hash_of(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

ContinuationIndex::EntryId ContinuationIndex::insert(std::vector<std::string> keys, std::vector<std::string> shared_keys,
                                                     std::size_t bytes) {
  if (max_entries_ == 0 || max_bytes_ == 0) return 0;  // continuations off: nothing kept
  const EntryId id = next_id_++;
  lru_.push_front(id);
  Entry e;
  e.bytes = bytes;
  e.lru = lru_.begin();
  e.keys.reserve(keys.size() + shared_keys.size());
  for (const auto& k : keys) {
    KeyRef& r = keys_[e.keys.emplace_back(hash_of(k))];
    ++r.holders;
    r.id = id;  // the latest trace a key names wins
  }
  for (const auto& k : shared_keys) {
    KeyRef& r = keys_[e.keys.emplace_back(hash_of(k))];
    r.id = ++r.holders == 1 ? id : 0;
  }
  e.bytes += e.keys.size() * (2 * sizeof(std::uint64_t) + sizeof(KeyRef) + 32);  // the key map's share
  bytes_ += e.bytes;
  if (budget_) budget_->charge(MemoryBudget::Account::kClosedTraceIndex, e.bytes);
  entries_.emplace(id, std::move(e));
  evict_over_budget();
  return id;
}

std::optional<ContinuationIndex::EntryId> ContinuationIndex::find(std::string_view key) {
  auto it = keys_.find(hash_of(key));
  if (it == keys_.end() || it->second.id == 0) return std::nullopt;
  Entry& e = entries_.at(it->second.id);
  lru_.splice(lru_.begin(), lru_, e.lru);
  return it->second.id;
}

void ContinuationIndex::erase(EntryId id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  for (const auto& k : it->second.keys) {
    auto kit = keys_.find(k);
    if (kit == keys_.end()) continue;
    if (--kit->second.holders == 0) {
      keys_.erase(kit);
    } else if (kit->second.id == id) {
      kit->second.id = 0;  // another entry holds it too, but which one is no longer known
    }
  }
  lru_.erase(it->second.lru);
  bytes_ -= it->second.bytes;
  if (budget_) budget_->release(MemoryBudget::Account::kClosedTraceIndex, it->second.bytes);
  entries_.erase(it);
}

void ContinuationIndex::evict_over_budget() {
  // The newest entry stays even when it alone exceeds the budget: it is the likeliest to continue.
  while (entries_.size() > 1 &&
         (bytes_ > max_bytes_ || entries_.size() > max_entries_ || (budget_ && budget_->over_soft()))) {
    const EntryId oldest = lru_.back();
    erase(oldest);
    evicted_.push_back(oldest);
    ++stats_.evicted;
  }
}

std::vector<ContinuationIndex::EntryId> ContinuationIndex::take_evicted() {
  std::vector<EntryId> out;
  out.swap(evicted_);
  return out;
}

ContinuationStats ContinuationIndex::stats() const {
  ContinuationStats s = stats_;
  s.kept = entries_.size();
  s.bytes = bytes_;
  return s;
}

}  // namespace llmtap::trace
