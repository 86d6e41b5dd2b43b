#include "export/store_encoding.h"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "export/report_projection.h"
#include "export/store_rows.h"

namespace llmtap::exporting {

std::size_t EncodedTrace::bytes() const {
  std::size_t n = report.size() + agents.size() + sizeof(*this);
  for (const auto& [attrs, content] : spans) n += attrs.size() + content.size() + 2 * sizeof(std::string);
  const TraceFacts& f = facts.facts;
  n += f.calls.size() * sizeof(CallFacts) + f.tools.size() * sizeof(ToolFacts) +
       f.handoffs.size() * sizeof(HandoffFacts);
  for (const CallFacts& c : f.calls) n += c.agent.size() + c.model.size() + c.user.size() + c.session.size();
  return n;
}

std::shared_ptr<const CommittedKeys::Map> CommittedKeys::get() const {
  std::lock_guard lock(mu_);
  return map_;
}

void CommittedKeys::publish(const codec::KeyDictionary& dict) {
  {
    std::lock_guard lock(mu_);
    if (dict.size() == published_) return;
  }
  auto next = std::make_shared<Map>();
  dict.for_each([&](std::uint64_t id, const std::string& key) { next->emplace(key, static_cast<std::int64_t>(id)); });
  std::lock_guard lock(mu_);
  published_ = dict.size();
  map_ = std::move(next);
}

void CommittedKeys::want(std::string_view key) {
  std::lock_guard lock(mu_);
  if (map_->count(key) || std::find(wanted_.begin(), wanted_.end(), key) != wanted_.end()) return;
  wanted_.emplace_back(key);
  any_wanted_.store(true, std::memory_order_relaxed);
}

std::vector<std::string> CommittedKeys::take_wanted() {
  std::lock_guard lock(mu_);
  any_wanted_.store(false, std::memory_order_relaxed);
  return std::exchange(wanted_, {});
}

std::string agents_json(const std::vector<std::string>& agents) {
  return nlohmann::json(agents).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void encode_trace_rows(const Trace& trace, CommittedKeys& committed, EncodedTrace& out) {
  out.ready = false;
  bool known = true;
  const std::shared_ptr<const CommittedKeys::Map> keys = committed.get();
  auto key_id = [&](std::string_view key) -> std::int64_t {
    auto it = keys->find(key);
    if (it != keys->end()) return it->second;
    known = false;
    committed.want(key);
    return 0;  // a stand-in: the encoding goes on to meet every unknown key, then is discarded
  };
  out.spans.resize(trace.spans.size());
  for (std::size_t i = 0; i < trace.spans.size(); ++i)
    encode_span_attributes(trace.spans[i], key_id, out.spans[i].first, out.spans[i].second);
  if (!encode_report_projection(trace, key_id, out.report) || !known) {
    out.spans.clear();
    return;
  }
  out.totals = trace_totals(trace);
  out.agents = agents_json(out.totals.agents);
  out.facts = aggregate_facts(trace);
  out.ready = true;
}

}  // namespace llmtap::exporting
