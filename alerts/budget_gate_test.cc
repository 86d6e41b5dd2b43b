#include "alerts/budget_gate.h"

#include <gtest/gtest.h>

#include "common/user_id_hash.h"

namespace llmtap::alerts {
namespace {

constexpr UnixNanos kHourNs = 3600LL * 1'000'000'000;

struct Gate {
  BudgetBook book;
  BudgetGate gate{book, [] {
                    BudgetGateOptions o;
                    o.user_header = "x-user";
                    o.users = {false, "salt"};
                    return o;
                  }()};
  std::string refuse(std::string_view host, std::string_view method, std::string_view target, Headers headers,
                     std::string_view source = "proxy") {
    const std::function<Headers()> h = [&] { return headers; };
    return gate.refuse({host, source, method, target, h});
  }
};

TEST(BudgetGate, RefusesOnlyTheSpentUsersModelCalls) {
  Gate g;
  EXPECT_EQ(g.refuse("api.openai.com", "POST", "/v1/chat/completions", {{"X-User", "alice"}}), "");  // nothing spent
  g.book.spend(BudgetBook::Scope::kUser, hash_user_id("salt", "alice"), {"daily", 2.0, 2.25, now_ns() + kHourNs});
  const std::string r = g.refuse("api.openai.com", "POST", "/v1/chat/completions", {{"X-User", "alice"}});
  ASSERT_EQ(r.rfind("HTTP/1.1 429 Too Many Requests\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("\r\nRetry-After: "), std::string::npos);
  EXPECT_NE(r.find("\r\nX-Llmtap-Budget: daily\r\n"), std::string::npos);
  auto body = nlohmann::json::parse(r.substr(r.find("\r\n\r\n") + 4));
  EXPECT_EQ(body["error"]["type"], "rate_limit_error");
  EXPECT_EQ(body["error"]["code"], "llmtap_budget_exceeded");
  const std::string message = body["error"]["message"];
  EXPECT_EQ(message.rfind("llmtap budget 'daily' for this user is spent ($2.25 of $2.00); it resets at ", 0), 0u) << message;
  EXPECT_EQ(g.gate.refused(), 1u);

  // Other users, other paths and requests without a user pass untouched.
  EXPECT_EQ(g.refuse("api.openai.com", "POST", "/v1/chat/completions", {{"X-User", "bob"}}), "");
  EXPECT_EQ(g.refuse("api.openai.com", "GET", "/v1/models", {{"X-User", "alice"}}), "");
  EXPECT_EQ(g.refuse("api.openai.com", "POST", "/v1/chat/completions", {}), "");
}

TEST(BudgetGate, ProviderErrorShapesAndBaggageSessions) {
  Gate g;
  g.book.spend(BudgetBook::Scope::kSession, "conv-7", {"per-conversation", 1.0, 1.5, now_ns() + kHourNs});
  const Headers baggage = {{"baggage", "session.id=conv-7,team=x"}};
  std::string r = g.refuse("api.anthropic.com", "POST", "/v1/messages", baggage);
  auto body = nlohmann::json::parse(r.substr(r.find("\r\n\r\n") + 4));
  EXPECT_EQ(body["type"], "error");
  EXPECT_EQ(body["error"]["type"], "rate_limit_error");
  EXPECT_NE(body["error"]["message"].get<std::string>().find("for this session"), std::string::npos);
  r = g.refuse("generativelanguage.googleapis.com", "POST", "/gemini/v1beta/models/gemini-2.5-flash:generateContent", baggage, "gateway");
  ASSERT_FALSE(r.empty());
  body = nlohmann::json::parse(r.substr(r.find("\r\n\r\n") + 4));
  EXPECT_EQ(body["error"]["code"], 429);
  EXPECT_EQ(body["error"]["status"], "RESOURCE_EXHAUSTED");
}

TEST(BudgetGate, ABudgetPastItsResetNoLongerRefuses) {
  Gate g;
  g.book.spend(BudgetBook::Scope::kUser, hash_user_id("salt", "alice"), {"daily", 2.0, 2.25, now_ns() - 1});
  EXPECT_EQ(g.refuse("api.openai.com", "POST", "/v1/chat/completions", {{"X-User", "alice"}}), "");
}

}  // namespace
}  // namespace llmtap::alerts
