#pragma once
// A map kept as one sorted vector (a CompactVector: 8 bytes when empty): the per-conversation tables (states, output agents) hold a
// handful of entries for most conversations, where a node-based hash map costs ~150 bytes before
// its first entry. Lookups are binary searches; inserts move the tail (bounded tables only).
#include <algorithm>
#include <utility>
#include <vector>

#include "trace/compact_vector.h"

namespace llmtap::trace {

template <class K, class V>
class FlatMap {
 public:
  using value_type = std::pair<K, V>;
  using iterator = typename CompactVector<value_type>::iterator;
  using const_iterator = typename CompactVector<value_type>::const_iterator;

  std::size_t size() const { return v_.size(); }
  bool empty() const { return v_.empty(); }
  void clear() { v_.clear(); }
  iterator begin() { return v_.begin(); }
  iterator end() { return v_.end(); }
  const_iterator begin() const { return v_.begin(); }
  const_iterator end() const { return v_.end(); }

  iterator find(const K& k) {
    auto it = lower(k);
    return it != v_.end() && it->first == k ? it : v_.end();
  }
  const_iterator find(const K& k) const { return const_cast<FlatMap*>(this)->find(k); }
  std::size_t count(const K& k) const { return find(k) != end() ? 1 : 0; }
  std::pair<iterator, bool> emplace(const K& k, V value) {
    auto it = lower(k);
    if (it != v_.end() && it->first == k) return {it, false};
    return {v_.insert(it, value_type(k, std::move(value))), true};
  }
  V& operator[](const K& k) { return emplace(k, V{}).first->second; }
  iterator erase(iterator it) { return v_.erase(it); }
  std::size_t erase(const K& k) {
    auto it = find(k);
    if (it == v_.end()) return 0;
    v_.erase(it);
    return 1;
  }

 private:
  iterator lower(const K& k) {
    return std::lower_bound(v_.begin(), v_.end(), k, [](const value_type& e, const K& key) { return e.first < key; });
  }
  CompactVector<value_type> v_;  // 8 bytes, nothing when empty
};

}  // namespace llmtap::trace
