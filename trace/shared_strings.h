#pragma once
// A bounded pool of CompactStrings by content, for strings that repeat across open traces (agent
// fingerprints and their fallback names: a gateway's every conversation with one system prompt
// names the same agent): each open trace then holds a reference to one shared block instead of
// a copy. Past the bound the pool forgets everything (the strings stay valid where held; new
// ones are shared again from then on).
#include <cstddef>
#include <string_view>
#include <unordered_map>

#include "trace/open_span.h"

namespace llmtap::trace {

class SharedStrings {
 public:
  explicit SharedStrings(std::size_t max_entries = 4096) : max_(max_entries) {}

  CompactString get(std::string_view s) {
    if (s.empty()) return {};
    if (auto it = pool_.find(s); it != pool_.end()) return it->second;
    if (pool_.size() >= max_) pool_.clear();
    CompactString c(s);
    pool_.emplace(c.view(), c);  // the key views the block the value holds: it stays in place
    return c;
  }

 private:
  std::size_t max_;
  std::unordered_map<std::string_view, CompactString> pool_;
};

}  // namespace llmtap::trace
