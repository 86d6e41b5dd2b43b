#include "alerts/evaluator.h"

#include "alerts/trace_facts.h"

namespace llmtap::alerts {

AlertEvaluator::AlertEvaluator(const RuleSet& rules, BudgetBook* book) {
  for (const Rule& r : rules.rules) {
    names_.push_back(r.name);
    kinds_.push_back(r.kind);
    checks_.push_back(make_rule_check(r, rules.max_keys_per_rule, book));
  }
}

void AlertEvaluator::on_call(const CallObservation& call, std::vector<AlertEvent>& out) {
  for (auto& c : checks_) c->on_call(call, out);
}

std::vector<std::string> AlertEvaluator::on_trace(const Trace& trace, UnixNanos now, std::vector<AlertEvent>& out) {
  std::vector<std::string> hit;
  const TraceFacts facts = trace_facts(trace);
  for (std::size_t i = 0; i < checks_.size(); ++i)
    if (checks_[i]->on_trace(facts, now, out)) hit.push_back(names_[i]);
  return hit;
}

void AlertEvaluator::tick(UnixNanos now, std::vector<AlertEvent>& out) {
  for (auto& c : checks_) c->tick(now, out);
}

std::size_t AlertEvaluator::restore(const std::vector<FiringAlert>& alerts, UnixNanos now,
                                    std::vector<AlertEvent>& out) {
  std::size_t taken = 0;
  for (const auto& a : alerts)
    for (std::size_t i = 0; i < checks_.size(); ++i)
      if (names_[i] == a.rule && a.kind == to_string(kinds_[i])) {
        checks_[i]->restore(a, now, out);
        ++taken;
        break;
      }
  return taken;
}

std::uint64_t AlertEvaluator::keys_dropped() const {
  std::uint64_t n = 0;
  for (const auto& c : checks_) n += c->keys_dropped();
  return n;
}

}  // namespace llmtap::alerts
