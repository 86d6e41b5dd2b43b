#include "alerts/budget_book.h"

#include <mutex>

namespace llmtap::alerts {

std::string BudgetBook::key(Scope scope, std::string_view id) {
  std::string k(scope == Scope::kUser ? "u:" : "s:");
  k.append(id);
  return k;
}

void BudgetBook::spend(Scope scope, const std::string& id, SpentBudget budget) {
  std::unique_lock lock(mu_);
  auto [it, inserted] = spent_.try_emplace(key(scope, id), budget);
  // Two budgets on one user: the one that resets last decides when calls are let through again.
  if (!inserted && budget.resets_at > it->second.resets_at) it->second = std::move(budget);
  size_.store(spent_.size(), std::memory_order_release);
}

void BudgetBook::reset(Scope scope, const std::string& id, const std::string& rule) {
  std::unique_lock lock(mu_);
  if (auto it = spent_.find(key(scope, id)); it != spent_.end() && it->second.rule == rule) spent_.erase(it);
  size_.store(spent_.size(), std::memory_order_release);
}

std::optional<SpentBudget> BudgetBook::find(Scope scope, std::string_view id, UnixNanos now) const {
  if (empty() || id.empty()) return std::nullopt;
  const std::string k = key(scope, id);
  std::shared_lock lock(mu_);
  auto it = spent_.find(k);
  if (it == spent_.end() || it->second.resets_at <= now) return std::nullopt;
  return it->second;
}

}  // namespace llmtap::alerts
