// The viewer's HTTP API on a real server (port 0) over the fixture store: every number checked here
// is worked out by hand from ui_test_traces.h and report/report_test_traces.h.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "export/test_spans.h"
#include "report/report_test_traces.h"
#include "ui/alerts_panel.h"
#include "ui/ui_app.h"
#include "ui/ui_server.h"
#include "ui/ui_test_client.h"
#include "ui/ui_test_traces.h"

namespace llmtap::ui {
namespace {

using nlohmann::json;
using report::testing::kHour;
using report::testing::kT0;
using testing::get;

const std::string kA(32, 'a'), kB(32, 'b'), kC(32, 'c'), kD(32, 'd');

class ViewerApi : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    path = dir.path + "/traces.db";
    if (with_store()) {
      ASSERT_EQ(testing::write_fixture_store(path), "");
    }
    UiOptions o;
    o.listen = "127.0.0.1:0";
    o.store_path = path;
    std::string error;
    server = UiServer::start(o, &error);
    ASSERT_TRUE(server) << error;
  }
  virtual bool with_store() const { return true; }

  testing::Reply call(const std::string& target) { return get(server->address(), target, server->token()); }
  json api(const std::string& target, int status = 200) {
    auto r = call(target);
    EXPECT_EQ(r.status, status) << target << ": " << r.error << r.body;
    auto j = json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.body;
    return j;
  }
  std::vector<std::string> ids(const json& traces) {
    std::vector<std::string> out;
    for (const auto& t : traces) out.push_back(t["trace_id"].get<std::string>().substr(0, 1));
    return out;
  }
  json find(const json& rows, const char* key, const std::string& value) {
    for (const auto& r : rows)
      if (r[key] == value) return r;
    ADD_FAILURE() << "no row with " << key << "=" << value << " in " << rows.dump();
    return json::object();
  }

  exporting::testing::TempDir dir;
  std::string path;
  std::unique_ptr<UiServer> server;
};

using V = std::vector<std::string>;

TEST_F(ViewerApi, ListsTracesNewestFirstWithTheirNumbers) {
  json j = api("/api/traces");
  EXPECT_EQ(ids(j["traces"]), (V{"d", "b", "a", "c"}));
  EXPECT_EQ(j["more"], false);
  EXPECT_TRUE(j["next_cursor"].is_null());
  EXPECT_EQ(j["store"]["present"], true);
  const json& a = j["traces"][2];
  EXPECT_EQ(a["trace_id"], kA);
  EXPECT_EQ(a["workflow"], "support");
  EXPECT_EQ(a["user"], "u1");
  EXPECT_EQ(a["session"], "s1");
  EXPECT_EQ(a["start_time_unix_nano"], kT0);
  EXPECT_DOUBLE_EQ(a["duration_ms"].get<double>(), 455);
  EXPECT_EQ(a["agents"], json({"Triage", "Billing"}));
  EXPECT_EQ(a["models"], json({"gpt-4o", "gpt-4o-mini"}));
  EXPECT_EQ(a["spans"], 10);
  EXPECT_EQ(a["model_calls"], 4);
  EXPECT_EQ(a["tool_calls"], 2);
  EXPECT_EQ(a["errors"], 2);
  EXPECT_EQ(a["input_tokens"], 2700);
  EXPECT_EQ(a["output_tokens"], 100);
  EXPECT_NEAR(a["cost_usd"].get<double>(), 0.023, 1e-12);
  const json& b = j["traces"][1];
  EXPECT_EQ(b["models"], json({"gpt-4o", "mystery-model"}));
  EXPECT_EQ(b["session"], "");
  EXPECT_NEAR(b["cost_usd"].get<double>(), 0.020, 1e-12);
  EXPECT_NEAR(j["traces"][0]["cost_usd"].get<double>(), 0.009, 1e-12);
}

TEST_F(ViewerApi, FiltersTheList) {
  EXPECT_EQ(ids(api("/api/traces?errors=only")["traces"]), (V{"a"}));
  EXPECT_EQ(ids(api("/api/traces?errors=none")["traces"]), (V{"d", "b", "c"}));
  EXPECT_EQ(ids(api("/api/traces?model=mystery-model")["traces"]), (V{"b"}));
  EXPECT_EQ(ids(api("/api/traces?user=u1")["traces"]), (V{"d", "a"}));
  EXPECT_EQ(ids(api("/api/traces?session=s1")["traces"]), (V{"d", "a"}));
  EXPECT_EQ(ids(api("/api/traces?min_cost=0.015&max_cost=1")["traces"]), (V{"b", "a"}));
  EXPECT_EQ(ids(api("/api/traces?workflow=old")["traces"]), (V{"c"}));
  EXPECT_EQ(ids(api("/api/traces?agent=Billing")["traces"]), (V{"a"}));
  EXPECT_EQ(ids(api("/api/traces?since=2026-11-29T07:00Z")["traces"]), (V{"d", "b", "a"}));
  EXPECT_EQ(ids(api("/api/traces?since=2026-11-29T07:00Z&until=2026-11-29T08:30Z")["traces"]), (V{"a"}));
  EXPECT_EQ(ids(api("/api/traces?workflow=support&user=u2")["traces"]), (V{"b"}));
}

TEST_F(ViewerApi, PagesWithTheCursor) {
  json first = api("/api/traces?limit=3");
  EXPECT_EQ(ids(first["traces"]), (V{"d", "b", "a"}));
  EXPECT_EQ(first["more"], true);
  ASSERT_TRUE(first["next_cursor"].is_string());
  EXPECT_EQ(first["next_cursor"], std::to_string(kT0) + ":" + kA);
  json second = api("/api/traces?limit=3&cursor=" + first["next_cursor"].get<std::string>());
  EXPECT_EQ(ids(second["traces"]), (V{"c"}));
  EXPECT_EQ(second["more"], false);
}

TEST_F(ViewerApi, BadParametersAre400WithAJsonError) {
  auto message = [&](const std::string& target) {
    json j = api(target, 400);
    EXPECT_EQ(j["error"]["status"], 400);
    return j["error"]["message"].get<std::string>();
  };
  EXPECT_EQ(message("/api/traces?limit=0"), "limit wants a whole number from 1 to 1000, not '0'");
  EXPECT_EQ(message("/api/traces?errors=maybe"), "errors wants any, only or none, not 'maybe'");
  EXPECT_NE(message("/api/traces?colour=red").find("unknown parameter 'colour'"), std::string::npos);
  EXPECT_NE(message("/api/traces?since=yesterday").find("since: "), std::string::npos);
  EXPECT_EQ(message("/api/traces?since=1h&until=2h"), "the window is empty: until must be later than since");
  EXPECT_EQ(message("/api/traces?min_cost=-1"), "min_cost wants a number of US dollars (0 or more), not '-1'");
  EXPECT_EQ(message("/api/traces?limit=1&limit=2"), "parameter 'limit' is given twice");
  EXPECT_NE(message("/api/traces?cursor=zz").find("cursor wants"), std::string::npos);
  EXPECT_NE(message("/api/report?by=colour").find("by wants one of"), std::string::npos);
  EXPECT_NE(message("/api/dashboards/cost?bucket=5").find("bucket wants auto or a number of seconds"), std::string::npos);
  EXPECT_NE(message("/api/traces/xyz").find("is not a trace id"), std::string::npos);
  EXPECT_NE(message("/api/meta?x=1").find("this endpoint takes none"), std::string::npos);
  EXPECT_NE(api("/api/nothing", 404)["error"]["message"].get<std::string>().find("/api/traces"), std::string::npos);
}

TEST_F(ViewerApi, OneTraceWithEverySpanAndAttribute) {
  json j = api("/api/traces/aaaa");  // a unique prefix
  EXPECT_EQ(j["trace"]["trace_id"], kA);
  ASSERT_EQ(j["spans"].size(), 10u);
  EXPECT_EQ(j["spans"][0]["kind"], "workflow");
  EXPECT_EQ(j["spans"][0]["attributes"]["gen_ai.workflow.name"], "support");
  json refund = find(j["spans"], "name", "execute_tool refund");
  EXPECT_EQ(refund["status"]["code"], "ERROR");
  EXPECT_EQ(refund["status"]["message"], "order not found");
  EXPECT_EQ(refund["attributes"]["gen_ai.tool.call.arguments"], R"({"order":1})");
  EXPECT_DOUBLE_EQ(refund["duration_ms"].get<double>(), 100);

  json d = api("/api/traces/" + kD);
  json ask = d["spans"][2];
  EXPECT_EQ(ask["attributes"]["gen_ai.input.messages"],
            R"([{"role":"user","parts":[{"type":"text","content":"Where is order 9? <b>now</b>"}]}])");
  EXPECT_EQ(find(d["spans"], "name", "execute_tool lookup_order")["attributes"]["gen_ai.tool.call.result"],
            R"({"status":"shipped"})");

  EXPECT_EQ(api("/api/traces/eeee", 404)["error"]["message"], "no trace eeee in the store");
}

TEST_F(ViewerApi, SessionsGroupTheTracesOfAConversation) {
  json j = api("/api/sessions");
  EXPECT_EQ(j["total"], 1);
  ASSERT_EQ(j["sessions"].size(), 1u);
  const json& s = j["sessions"][0];
  EXPECT_EQ(s["session"], "s1");
  EXPECT_EQ(s["traces"], 2);
  EXPECT_EQ(s["failed_traces"], 1);
  EXPECT_EQ(s["model_calls"], 6);
  EXPECT_EQ(s["first_start_unix_nano"], kT0);
  EXPECT_EQ(s["last_end_unix_nano"], kT0 + 2 * kHour + 300 * report::testing::kMs);
  EXPECT_NEAR(s["cost_usd"].get<double>(), 0.032, 1e-12);
  EXPECT_EQ(s["users"], json({"u1"}));

  json one = api("/api/sessions/s1");
  EXPECT_EQ(ids(one["traces"]), (V{"a", "d"}));  // in conversation order
  EXPECT_NEAR(one["cost_usd"].get<double>(), 0.032, 1e-12);
  EXPECT_EQ(api("/api/sessions/nope", 404)["error"]["message"], "no traces of session 'nope' in this window");
}

TEST_F(ViewerApi, HealthDashboard) {
  json j = api("/api/dashboards/health");
  const json& t = j["total"];
  EXPECT_EQ(t["traces"], 4);
  EXPECT_EQ(t["failed_traces"], 1);
  EXPECT_DOUBLE_EQ(t["success_rate"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(t["duration_ms"]["p50"].get<double>(), 300);  // 10 300 400 455
  EXPECT_DOUBLE_EQ(t["duration_ms"]["p95"].get<double>(), 455);
  EXPECT_DOUBLE_EQ(t["duration_ms"]["p99"].get<double>(), 455);
  EXPECT_EQ(t["model_calls"]["calls"], 9);
  EXPECT_EQ(t["model_calls"]["errors"], 1);
  ASSERT_EQ(j["workflows"].size(), 2u);
  const json& support = j["workflows"][0];  // most traces first
  EXPECT_EQ(support["workflow"], "support");
  EXPECT_EQ(support["traces"], 3);
  EXPECT_EQ(support["failed_traces"], 1);
  EXPECT_NEAR(support["success_rate"].get<double>(), 2.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(support["duration_ms"]["p50"].get<double>(), 400);  // 300 400 455
  EXPECT_DOUBLE_EQ(support["duration_ms"]["p99"].get<double>(), 455);
  EXPECT_DOUBLE_EQ(support["tool_calls_per_run"]["avg"].get<double>(), 2);  // 2 3 1
  EXPECT_DOUBLE_EQ(support["tool_calls_per_run"]["p95"].get<double>(), 3);
  EXPECT_EQ(support["model_calls"]["calls"], 8);
  EXPECT_DOUBLE_EQ(support["model_calls"]["error_rate"].get<double>(), 1.0 / 8.0);
  EXPECT_EQ(j["workflows"][1]["workflow"], "old");
  // The window narrows it like any list.
  EXPECT_EQ(api("/api/dashboards/health?since=2026-11-29T07:00Z")["total"]["traces"], 3);
}

TEST_F(ViewerApi, ToolRiskDashboard) {
  json j = api("/api/dashboards/tools");
  EXPECT_EQ(j["tool_calls"], 6);
  EXPECT_EQ(j["tool_failures"], 1);
  EXPECT_NEAR(j["failure_rate"].get<double>(), 1.0 / 6.0, 1e-12);
  json lookup = find(j["tools"], "tool", "lookup_order");
  EXPECT_EQ(lookup["calls"], 5);
  EXPECT_EQ(lookup["failures"], 0);
  // A: $0.010, B: $0.020 for all three, D: $0.004.
  EXPECT_NEAR(lookup["requesting_cost_usd"].get<double>(), 0.034, 1e-12);
  json refund = find(j["tools"], "tool", "refund");
  EXPECT_EQ(refund["calls"], 1);
  EXPECT_DOUBLE_EQ(refund["failure_rate"].get<double>(), 1.0);
  EXPECT_EQ(j["loops"]["count"], 1);  // B: lookup_order x3 with the same arguments
}

TEST_F(ViewerApi, CostDashboard) {
  json j = api("/api/dashboards/cost");
  EXPECT_EQ(j["traces"], 4);
  EXPECT_NEAR(j["totals"]["cost_usd"].get<double>(), 5.052, 1e-9);
  EXPECT_NEAR(find(j["by_model"], "key", "gpt-4o")["cost_usd"].get<double>(), 5.051, 1e-9);
  EXPECT_NEAR(find(j["by_model"], "key", "gpt-4o-mini")["cost_usd"].get<double>(), 0.001, 1e-12);
  EXPECT_TRUE(find(j["by_model"], "key", "mystery-model")["cost_usd"].is_null());
  EXPECT_NEAR(find(j["by_user"], "key", "u1")["cost_usd"].get<double>(), 0.032, 1e-12);
  EXPECT_NEAR(find(j["by_user"], "key", "u2")["cost_usd"].get<double>(), 0.020, 1e-12);
  EXPECT_NEAR(find(j["by_workflow"], "key", "support")["cost_usd"].get<double>(), 0.052, 1e-12);
  EXPECT_NEAR(find(j["by_agent"], "key", "Billing")["cost_usd"].get<double>(), 0.001, 1e-12);
  const json& top = j["trace_cost"]["top"];
  ASSERT_EQ(top.size(), 4u);
  EXPECT_EQ(ids(top), (V{"c", "a", "b", "d"}));
  // 50 hours from C to D: hourly buckets from C's hour.
  const json& over = j["over_time"];
  EXPECT_EQ(over["bucket_seconds"], 3600);
  ASSERT_EQ(over["buckets"].size(), 51u);
  EXPECT_EQ(over["buckets"][0]["start_unix_nano"], kT0 - 48 * kHour);
  EXPECT_NEAR(over["buckets"][0]["cost_usd"].get<double>(), 5.0, 1e-12);
  EXPECT_EQ(over["buckets"][1]["traces"], 0);
  EXPECT_NEAR(over["buckets"][48]["cost_usd"].get<double>(), 0.023, 1e-12);
  EXPECT_NEAR(over["buckets"][50]["cost_usd"].get<double>(), 0.009, 1e-12);
  EXPECT_EQ(api("/api/dashboards/cost?bucket=86400")["over_time"]["buckets"].size(), 3u);
  // A sub-hour bucket sums each trace from the store's per-trace index: the same totals.
  std::int64_t bucketed_traces = 0;
  double bucketed_cost = 0;
  const json half_hours = api("/api/dashboards/cost?bucket=1800");
  EXPECT_EQ(half_hours["over_time"]["bucket_seconds"], 1800);
  for (const auto& b : half_hours["over_time"]["buckets"])
    bucketed_traces += b["traces"].get<std::int64_t>(), bucketed_cost += b["cost_usd"].get<double>();
  EXPECT_EQ(bucketed_traces, 4);
  EXPECT_NEAR(bucketed_cost, 5.052, 1e-9);
  EXPECT_NE(api("/api/dashboards/cost?bucket=60", 400)["error"]["message"].get<std::string>().find("at most 1000"),
            std::string::npos);
}

TEST_F(ViewerApi, ReportEndpointIsTheReportsJson) {
  json j = api("/api/report?by=model&since=2026-11-29T07:00Z&until=2026-11-30T07:00Z");
  EXPECT_EQ(j["group_by"], "model");
  EXPECT_EQ(j["traces"], 3);
  EXPECT_EQ(j["totals"]["calls"], 8);
  EXPECT_NEAR(j["totals"]["cost_usd"].get<double>(), 0.052, 1e-12);
  EXPECT_EQ(j["runs"]["failed"], 1);
}

TEST_F(ViewerApi, AlertsPanelReadsTheAlertsTableWhenThereIsOne) {
  json none = api("/api/alerts");
  EXPECT_EQ(none["available"], false);
  EXPECT_EQ(none["table"], kAlertsTable);
  EXPECT_TRUE(none["alerts"].empty());

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string sql = std::string("CREATE TABLE ") + kAlertsTable +
                    "(id INTEGER PRIMARY KEY, rule TEXT, fired_ns INTEGER, value REAL, message TEXT);"
                    "INSERT INTO " + kAlertsTable + " VALUES(1, 'hourly-spend', 5, 4.5, 'spent $4.50 this hour');"
                    "INSERT INTO " + kAlertsTable + " VALUES(2, 'loop', 6, NULL, '<script>x</script>');";
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  json some = api("/api/alerts");
  EXPECT_EQ(some["available"], true);
  ASSERT_EQ(some["alerts"].size(), 2u);
  EXPECT_EQ(some["alerts"][0]["rule"], "loop");  // newest first
  EXPECT_EQ(some["alerts"][1]["value"], 4.5);
  EXPECT_EQ(api("/api/alerts?limit=1")["alerts"].size(), 1u);
}

TEST_F(ViewerApi, MetaAndTheStampThePagePolls) {
  json m = api("/api/meta");
  EXPECT_EQ(m["store"]["present"], true);
  EXPECT_EQ(m["store"]["path"], path);
  EXPECT_EQ(m["refresh_ms"], 2000);
  std::string before = m["stamp"];
  EXPECT_FALSE(before.empty());
  ASSERT_EQ(report::testing::write_store(path, {exporting::testing::numbered_trace(7)}), "");
  EXPECT_NE(api("/api/meta")["stamp"], before);
  EXPECT_EQ(api("/api/traces")["traces"].size(), 5u);  // the new trace shows without a restart
}

TEST_F(ViewerApi, ServesThePageWithAStrictContentSecurityPolicy) {
  auto page = call("/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_EQ(page.headers["content-security-policy"], kContentSecurityPolicy);
  EXPECT_EQ(page.headers["x-content-type-options"], "nosniff");
  EXPECT_EQ(page.headers["referrer-policy"], "no-referrer");
  EXPECT_NE(page.body.find("<script src=\"/app.js\""), std::string::npos);
  EXPECT_EQ(page.body.find("http://"), std::string::npos);   // nothing from elsewhere
  EXPECT_EQ(page.body.find("https://"), std::string::npos);
  auto js = call("/app.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.headers["content-type"], "text/javascript; charset=utf-8");
  EXPECT_EQ(js.body.find("innerHTML"), std::string::npos);  // data goes in as text only
  EXPECT_EQ(js.body.find("https://"), std::string::npos);
  EXPECT_EQ(call("/app.css").headers["content-type"], "text/css; charset=utf-8");
  EXPECT_EQ(call("/missing.js").status, 404);
  auto head = get(server->address(), "/api/meta", server->token(), "", "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
}

TEST_F(ViewerApi, RefusesOtherHostsMethodsAndMissingTokens) {
  const std::string port = server->address().substr(server->address().rfind(':'));
  auto rebound = get(server->address(), "/api/traces", server->token(), "attacker.example" + port);
  EXPECT_EQ(rebound.status, 403);
  EXPECT_NE(rebound.body.find("DNS rebinding"), std::string::npos);
  EXPECT_EQ(get(server->address(), "/api/traces", server->token(), "localhost" + port).status, 200);
  EXPECT_EQ(get(server->address(), "/api/traces", server->token(), "127.0.0.1:1").status, 403);

  EXPECT_EQ(get(server->address(), "/api/traces").status, 401);
  EXPECT_EQ(get(server->address(), "/api/traces", "0123").status, 401);
  EXPECT_EQ(get(server->address(), "/?token=wrong").status, 401);
  auto login = get(server->address(), "/?token=" + server->token());
  EXPECT_EQ(login.status, 303);
  EXPECT_EQ(login.headers["location"], "/");
  EXPECT_EQ(login.headers["set-cookie"],
            std::string(kTokenCookie) + "=" + server->token() + "; Path=/; HttpOnly; SameSite=Strict");
  EXPECT_EQ(server->url(), "http://" + server->address() + "/?token=" + server->token());

  auto post = get(server->address(), "/api/traces", server->token(), "", "POST");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.headers["allow"], "GET, HEAD");
  EXPECT_EQ(get(server->address(), "/api/traces", server->token(), "", "POST", std::string(8192, 'x')).status, 413);
}

class EmptyViewer : public ViewerApi {
  bool with_store() const override { return false; }
};

TEST_F(EmptyViewer, AnswersEmptyBeforeAnythingIsRecorded) {
  json list = api("/api/traces");
  EXPECT_TRUE(list["traces"].empty());
  EXPECT_EQ(list["store"]["present"], false);
  EXPECT_NE(list["store"]["message"].get<std::string>().find("no trace store at"), std::string::npos);
  EXPECT_EQ(api("/api/dashboards/health")["total"]["traces"], 0);
  EXPECT_TRUE(api("/api/dashboards/cost")["over_time"]["buckets"].empty());
  EXPECT_TRUE(api("/api/dashboards/tools")["tools"].empty());
  EXPECT_TRUE(api("/api/sessions")["sessions"].empty());
  EXPECT_EQ(api("/api/alerts")["available"], false);
  EXPECT_EQ(api("/api/meta")["stamp"], "");
  EXPECT_EQ(api("/api/traces/" + kA, 404)["error"]["status"], 404);
  // Once something is recorded, it shows without a restart.
  ASSERT_EQ(testing::write_fixture_store(path), "");
  EXPECT_EQ(api("/api/traces")["traces"].size(), 4u);
}

}  // namespace
}  // namespace llmtap::ui
