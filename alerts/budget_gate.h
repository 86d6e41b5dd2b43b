#pragma once
// --enforce-budgets: the proxy's RequestGate over the BudgetBook. A model call from a user or
// session whose budget is spent is answered with the provider's own rate-limit error (HTTP 429, its
// JSON error body, Retry-After) naming the budget and when it resets; everything else is forwarded.
// The user and session come from what the request header says (--user-header, --session-header,
// W3C baggage): a request body is never waited for.
#include <atomic>
#include <memory>
#include <string>

#include "alerts/alerting.h"
#include "alerts/budget_book.h"
#include "parsers/provider_registry.h"
#include "proxy/request_gate.h"

namespace llmtap::alerts {

struct BudgetGateOptions {
  std::string user_header, session_header;  // as --user-header / --session-header
  UserIdPolicy users;                       // so a header's id matches the recorded (hashed) one
  std::shared_ptr<const ProviderRegistry> registry;  // hosts declared by config, as the parsers use
};

class BudgetGate final : public proxy::RequestGate {
 public:
  BudgetGate(const BudgetBook& book, BudgetGateOptions options) : book_(book), options_(std::move(options)) {}
  std::string refuse(const proxy::GateRequest& request) const override;
  std::uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  const BudgetBook& book_;
  BudgetGateOptions options_;
  mutable std::atomic<std::uint64_t> refused_{0};
};

// The 429 response PROVIDER's clients expect (OpenAI-compatible, Anthropic or Gemini error body)
// carrying MESSAGE, with Retry-After: RETRY_AFTER_S.
std::string provider_rate_limit_response(const std::string& provider, const std::string& message,
                                         std::int64_t retry_after_s, const std::string& rule);

}  // namespace llmtap::alerts
