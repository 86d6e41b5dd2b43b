// Actions against a local receiver (127.0.0.1, port 0) and a real store in a temporary directory.
#include "alerts/alert_actions.h"

#include <gtest/gtest.h>

#include <thread>

#include "alerts/alert_store.h"
#include "alerts/alerting.h"
#include "export/otlp_test_receiver.h"
#include "export/sqlite_store.h"
#include "export/test_spans.h"

namespace llmtap::alerts {
namespace {

using exporting::testing::OtlpTestReceiver;
using exporting::testing::Reply;
using exporting::testing::TempDir;

constexpr UnixNanos kT = 1'795'939'200LL * 1'000'000'000;

AlertEvent fired(std::string subject = "user h_1") {
  AlertEvent e;
  e.state = AlertEvent::State::kFired;
  e.rule = "daily";
  e.kind = RuleKind::kUserBudget;
  e.subject = std::move(subject);
  e.at = kT;
  e.value = 2.5;
  e.threshold = 2;
  e.resets_at = kT + 3600LL * 1'000'000'000;
  e.message = "alert daily (" + e.subject + "): spent $2.50 of its $2.00 budget per 1d";
  return e;
}

AlertEvent recovered(std::string subject = "user h_1") {
  AlertEvent e = fired(std::move(subject));
  e.state = AlertEvent::State::kRecovered;
  e.at = kT + 60'000'000'000;
  e.message = "alert daily (user h_1) recovered: budget reset";
  return e;
}

RuleSet with_webhook(const std::string& url, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  RuleSet rules;
  rules.webhook.url = url;
  rules.webhook.timeout = timeout;
  return rules;
}

std::string make_store(const TempDir& dir) {
  const std::string path = dir.path + "/traces.db";
  std::string error;
  auto store = exporting::SqliteStore::open(path, &error);
  EXPECT_TRUE(store) << error;
  return path;
}

TEST(AlertActions, WebhookGetsSlackCompatibleJson) {
  OtlpTestReceiver rx;
  ASSERT_TRUE(rx.start());
  std::string error;
  {
    auto actions = AlertActions::start(with_webhook(rx.base_url() + "/hook"), "", &error);
    ASSERT_TRUE(actions) << error;
    actions->dispatch(fired());
    actions->dispatch(recovered());
  }  // the destructor delivers what is queued
  auto reqs = rx.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/hook");
  EXPECT_EQ(reqs[0].headers["content-type"], "application/json");
  auto body = nlohmann::json::parse(reqs[0].body);
  EXPECT_EQ(body["text"], "llmtap: alert daily (user h_1): spent $2.50 of its $2.00 budget per 1d");
  EXPECT_EQ(body["alert"]["state"], "fired");
  EXPECT_EQ(body["alert"]["kind"], "user_budget");
  EXPECT_EQ(body["alert"]["subject"], "user h_1");
  EXPECT_EQ(nlohmann::json::parse(reqs[1].body)["alert"]["state"], "recovered");
}

TEST(AlertActions, SlowWebhookTimesOutAndTheQueueIsBounded) {
  OtlpTestReceiver rx;
  ASSERT_TRUE(rx.start());
  rx.set_handler([](const auto&, std::size_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    return Reply{};
  });
  RuleSet rules = with_webhook(rx.base_url(), std::chrono::milliseconds(200));
  rules.webhook.max_queued = 2;
  std::string error;
  AlertActionStats stats;
  {
    auto actions = AlertActions::start(rules, "", &error);
    ASSERT_TRUE(actions) << error;
    for (int i = 0; i < 10; ++i) actions->dispatch(fired("user h_" + std::to_string(i)));
    stats = actions->stats();
    EXPECT_GE(stats.dropped, 7u);  // at most one being posted and two waiting
    ASSERT_TRUE(OtlpTestReceiver::wait_until([&] { return actions->stats().webhook_failed >= 1; }));
  }
  EXPECT_EQ(stats.fired, 10u);
}

TEST(AlertActions, StoreRowsRecordFiringAndRecovery) {
  TempDir dir;
  const std::string path = make_store(dir);
  std::string error;
  {
    auto actions = AlertActions::start(RuleSet{}, path, &error);
    ASSERT_TRUE(actions) << error;
    actions->dispatch(fired("user h_1"));
    actions->dispatch(fired("user h_2"));
    actions->dispatch(recovered("user h_1"));
  }
  auto rows = list_alerts(path, AlertQuery{}, &error);
  ASSERT_TRUE(rows) << error;
  ASSERT_EQ(rows->size(), 2u);
  const AlertRow& h1 = (*rows)[0].subject == "user h_1" ? (*rows)[0] : (*rows)[1];
  const AlertRow& h2 = (*rows)[0].subject == "user h_1" ? (*rows)[1] : (*rows)[0];
  EXPECT_EQ(h1.rule, "daily");
  EXPECT_EQ(h1.kind, "user_budget");
  ASSERT_TRUE(h1.recovered_ns);
  EXPECT_EQ(*h1.recovered_ns, kT + 60'000'000'000);
  EXPECT_FALSE(h2.recovered_ns);
  EXPECT_EQ(h2.resets_ns.value_or(0), kT + 3600LL * 1'000'000'000);

  AlertQuery firing;
  firing.firing_only = true;
  rows = list_alerts(path, firing, &error);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].subject, "user h_2");
  auto j = alerts_json(*rows);
  EXPECT_EQ(j["alerts"][0]["state"], "firing");
  EXPECT_EQ(j["alerts"][0]["fired_at"], "2026-11-29T08:00:00.000Z");
  EXPECT_EQ(j["alerts"][0]["resets_at"], "2026-11-29T09:00:00.000Z");

  AlertQuery later;
  later.since = kT + 1;  // h_1 fired before and recovered: left out; h_2 still firing: listed
  rows = list_alerts(path, later, &error);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].subject, "user h_2");
}

// A restart: the budget that was spent before it is still spent (and enforced) after it, and the
// next call of that user fires nothing new.
TEST(Alerting, WarmsFromTheStoreRowsStillFiring) {
  TempDir dir;
  const std::string path = make_store(dir);
  std::string error;
  auto rules = parse_rules("rules:\n- {name: daily, kind: user_budget, max_usd: 2, period: 1d}\n", "test", &error);
  ASSERT_TRUE(rules) << error;
  const UnixNanos now = now_ns();
  const UnixNanos day = 86400LL * 1'000'000'000;
  {
    auto before = Alerting::create(*rules, path, &error);
    ASSERT_TRUE(before) << error;
    before->on_call({now, "h_1", "", 2.5});
  }
  auto rows = list_alerts(path, AlertQuery{}, &error);
  ASSERT_TRUE(rows) << error;
  ASSERT_EQ(rows->size(), 1u);
  {
    auto after = Alerting::create(*rules, path, &error);
    ASSERT_TRUE(after) << error;
    auto spent = after->budgets().find(BudgetBook::Scope::kUser, "h_1", now);
    ASSERT_TRUE(spent);
    EXPECT_EQ(spent->resets_at, now - now % day + day);
    after->on_call({now + 1, "h_1", "", 1.0});
    after->tick(now + 2);
  }
  rows = list_alerts(path, AlertQuery{}, &error);
  ASSERT_TRUE(rows) << error;
  EXPECT_EQ(rows->size(), 1u);  // not fired a second time
  EXPECT_FALSE((*rows)[0].recovered_ns);
}

TEST(AlertStore, EmptyOrAbsentStoreListsNothing) {
  TempDir dir;
  std::string error;
  auto rows = list_alerts(dir.path + "/traces.db", AlertQuery{}, &error);
  ASSERT_TRUE(rows) << error;
  EXPECT_TRUE(rows->empty());
  const std::string path = make_store(dir);  // a store without the alerts table
  rows = list_alerts(path, AlertQuery{}, &error);
  ASSERT_TRUE(rows) << error;
  EXPECT_TRUE(rows->empty());
}

}  // namespace
}  // namespace llmtap::alerts
