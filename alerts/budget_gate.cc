#include "alerts/budget_gate.h"

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "alerts/time_text.h"
#include "parsers/attribution.h"
#include "parsers/route.h"

namespace llmtap::alerts {
namespace {

std::string header_value(const Headers& headers, std::string_view name) {
  for (const auto& h : headers)
    if (h.name.size() == name.size() &&
        std::equal(h.name.begin(), h.name.end(), name.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
      return h.value;
  return "";
}

}  // namespace

std::string provider_rate_limit_response(const std::string& provider, const std::string& message,
                                         std::int64_t retry_after_s, const std::string& rule) {
  nlohmann::json body;
  if (provider == "anthropic") {
    body = {{"type", "error"}, {"error", {{"type", "rate_limit_error"}, {"message", message}}}};
  } else if (provider == "gemini") {
    body = {{"error", {{"code", 429}, {"message", message}, {"status", "RESOURCE_EXHAUSTED"}}}};
  } else {  // OpenAI and the OpenAI-compatible APIs
    body = {{"error",
             {{"message", message}, {"type", "rate_limit_error"}, {"param", nullptr}, {"code", "llmtap_budget_exceeded"}}}};
  }
  std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return fmt::format(
      "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nContent-Length: {}\r\nRetry-After: {}\r\n"
      "X-Llmtap-Budget: {}\r\nConnection: close\r\n\r\n{}",
      text.size(), retry_after_s, rule, text);
}

std::string BudgetGate::refuse(const proxy::GateRequest& request) const {
  if (book_.empty()) return "";  // the common case: one atomic load
  const Headers headers = request.headers();
  Attribution who;
  attribution::read_headers(headers, options_.user_header, options_.session_header, who);
  attribution::read_baggage(header_value(headers, "baggage"), who);
  if (who.user_id.empty() && who.session_id.empty()) return "";
  const UnixNanos now = now_ns();
  std::optional<SpentBudget> spent;
  std::string scope;
  if (!who.user_id.empty()) spent = book_.find(BudgetBook::Scope::kUser, options_.users.apply(who.user_id), now), scope = "user";
  if (!spent && !who.session_id.empty())
    spent = book_.find(BudgetBook::Scope::kSession, who.session_id, now), scope = "session";
  if (!spent) return "";
  RequestHead head{std::string(request.method), std::string(request.target), headers};
  ConnectionInfo conn;
  conn.host = std::string(request.host);
  conn.source = std::string(request.source);
  const Route route = route_request(head, conn, options_.registry.get());
  if (route.kind != ExchangeKind::kModelCall) return "";  // model lists, files, token counts pass
  const std::int64_t retry = std::max<std::int64_t>(1, (spent->resets_at - now + kNanosPerSecond - 1) / kNanosPerSecond);
  const std::string message =
      fmt::format("llmtap budget '{}' for this {} is spent ({} of {}); it resets at {}", spent->rule, scope,
                  usd_text(spent->spent_usd), usd_text(spent->limit_usd), utc_seconds(spent->resets_at));
  refused_.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("refused a model call to {} ({}): {}", route.host, route.provider, message);
  return provider_rate_limit_response(route.provider, message, retry, spent->rule);
}

}  // namespace llmtap::alerts
