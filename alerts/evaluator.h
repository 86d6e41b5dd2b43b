#pragma once
// The alert evaluator: sans-IO. It is fed model calls as they arrive and traces as they close, and
// the time (tick); it answers with alerts fired and recovered. Each rule fires once for one subject
// (all traffic, a user, a session, a tool, an agent) and stays firing until its condition ends,
// when it recovers; a budget recovers when its period resets. Not thread-safe: one caller at a time.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "alerts/alert_event.h"
#include "alerts/budget_book.h"
#include "alerts/rules.h"
#include "common/span.h"

namespace llmtap::alerts {

struct TraceFacts;

// One rule's state. Implementations in rule_checks.cc, one per kind.
class RuleCheck {
 public:
  virtual ~RuleCheck() = default;
  virtual void on_call(const CallObservation& /*call*/, std::vector<AlertEvent>& /*out*/) {}
  // True when this trace meets the rule's condition (the trace gets the rule's name).
  virtual bool on_trace(const TraceFacts& /*trace*/, UnixNanos /*now*/, std::vector<AlertEvent>& /*out*/) {
    return false;
  }
  virtual void tick(UnixNanos now, std::vector<AlertEvent>& out) = 0;
  // Starts from ALERT, which fired for this rule before a restart: the rule holds it as firing (a
  // window's measure restarts from what the alert recorded). An alert already over at NOW (a budget
  // whose period ended) is recovered into OUT instead.
  virtual void restore(const FiringAlert& alert, UnixNanos now, std::vector<AlertEvent>& out) = 0;
  // Subjects not tracked because the rule already tracks max_keys_per_rule of them.
  virtual std::uint64_t keys_dropped() const { return 0; }
};

// BOOK (may be null) receives the budgets spent.
std::unique_ptr<RuleCheck> make_rule_check(const Rule& rule, std::size_t max_keys, BudgetBook* book);

class AlertEvaluator {
 public:
  AlertEvaluator(const RuleSet& rules, BudgetBook* book);
  void on_call(const CallObservation& call, std::vector<AlertEvent>& out);
  // The names of the rules TRACE set off (whether or not that fired a new alert).
  std::vector<std::string> on_trace(const Trace& trace, UnixNanos now, std::vector<AlertEvent>& out);
  void tick(UnixNanos now, std::vector<AlertEvent>& out);
  // Warms the rules from the alerts still firing at the last stop (alerting's store rows); those of
  // rules no longer in the file, or whose kind changed, are skipped. Returns how many were taken.
  std::size_t restore(const std::vector<FiringAlert>& alerts, UnixNanos now, std::vector<AlertEvent>& out);
  std::uint64_t keys_dropped() const;
  std::size_t rule_count() const { return checks_.size(); }

 private:
  std::vector<std::string> names_;
  std::vector<RuleKind> kinds_;
  std::vector<std::unique_ptr<RuleCheck>> checks_;
};

}  // namespace llmtap::alerts
