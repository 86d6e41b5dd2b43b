#pragma once
// Budgets spent, as the evaluator found them: the one piece of alerting state the forwarding path
// reads (--enforce-budgets). The evaluator writes on its own thread when a budget is spent or
// resets; the proxy's lookup is a shared lock and a hash probe, and nothing at all while no budget
// is spent.
#include <atomic>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"

namespace llmtap::alerts {

struct SpentBudget {
  std::string rule;
  double limit_usd = 0;
  double spent_usd = 0;
  UnixNanos resets_at = 0;
};

class BudgetBook {
 public:
  enum class Scope { kUser, kSession };
  void spend(Scope scope, const std::string& id, SpentBudget budget);
  // RULE's budget for ID reset (another rule's spent budget on ID stays).
  void reset(Scope scope, const std::string& id, const std::string& rule);
  // The spent budget covering ID at NOW, if any (a budget past its reset time no longer counts).
  std::optional<SpentBudget> find(Scope scope, std::string_view id, UnixNanos now) const;
  bool empty() const { return size_.load(std::memory_order_acquire) == 0; }

 private:
  static std::string key(Scope scope, std::string_view id);
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, SpentBudget> spent_;
  std::atomic<std::size_t> size_{0};
};

}  // namespace llmtap::alerts
