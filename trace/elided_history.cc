#include "trace/elided_history.h"

namespace llmtap::trace {

std::optional<ElidedHistories::Entry> ElidedHistories::find(const ModelCall& call, bool& ids_stable) const {
  if (call.input_prefix.elided_key == 0) return std::nullopt;
  auto it = by_key_.find(call.input_prefix.elided_key);
  if (it == by_key_.end()) return std::nullopt;
  const Entry& e = it->second->entry;
  // The whole call's ids are stable only if the left-out messages' are too.
  ids_stable = ids_stable && !e.synthesized;
  if (e.ids_stable != ids_stable) return std::nullopt;
  return e;
}

void ElidedHistories::remember(const ModelCall& call, ConvId conv, const HistoryDigest& input, bool ids_stable,
                               const std::optional<Entry>& elided) {
  const std::uint64_t key = call.input_prefix.key;
  if (key == 0) return;
  if (auto c = by_conv_.find(conv); c != by_conv_.end()) erase(c->second);
  if (auto k = by_key_.find(key); k != by_key_.end()) erase(k->second);  // the same bytes again (a retry)
  Entry e{input, ids_stable, (elided && elided->synthesized) || synthesized_call_ids(call.input)};
  entries_.push_back(Slot{key, conv, e});
  by_key_[key] = std::prev(entries_.end());
  by_conv_[conv] = std::prev(entries_.end());
  if (entries_.size() > kMaxEntries) erase(entries_.begin());
}

void ElidedHistories::erase(std::list<Slot>::iterator it) {
  if (auto k = by_key_.find(it->key); k != by_key_.end() && k->second == it) by_key_.erase(k);
  if (auto c = by_conv_.find(it->conv); c != by_conv_.end() && c->second == it) by_conv_.erase(c);
  entries_.erase(it);
}

ConversationItems conversation_items_after(const HistoryDigest& base, const std::vector<Message>& messages,
                                           bool ids_stable) {
  ConversationItems out = conversation_items(messages, ids_stable);
  out.prefix[0] = base.chain;
  for (std::size_t i = 0; i < out.items.size(); ++i) out.prefix[i + 1] = chain_hash(out.prefix[i], out.items[i].hash);
  return out;
}

}  // namespace llmtap::trace
